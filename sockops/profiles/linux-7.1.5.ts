// Profile `linux-7.1.5`: the sock_ops ABI of the baseline kernel as it is in the mirrored tree
// (ops 0-20, ALL_CB_FLAGS 0x7F, no bpf_skb_load_bytes for sock_ops, no RCVQ kfunc).
// Every row names the kernel file and function it was read from.
import type { CbFlagInfo, CtxFieldInfo, HelperInfo, KfuncInfo, OpInfo, OpRule, Profile, Source } from '../types';
import { UAPI_HELPERS } from '../data/uapi-helpers';
import { CGROUP_C, FILTER_C, HELPERS_C, TCP_H, UAPI_BPF_H, helper, src, unavailableHelper, type Avail, type HelperSpec } from './common';

const OPS_ENUM = src(UAPI_BPF_H, 'enum BPF_SOCK_OPS_*', 'op values of the anonymous enum');

// ---------------------------------------------------------------------------------------------
// Ops

function op(value: number, name: string, o: Omit<OpInfo, 'value' | 'name' | 'short' | 'source'> & { source?: Source }): OpInfo {
  const { source, ...rest } = o;
  return { value, name, short: name.replace(/^BPF_SOCK_OPS_/, ''), ...rest, source: source ?? OPS_ENUM };
}
const NOARGS: OpInfo['args'] = ['', '', '', ''];
const HDR_ARG0 = 'BPF_WRITE_HDR_TCP_CURRENT_MSS (1) when the kernel only asks for the option length to compute the MSS (skb NULL), BPF_WRITE_HDR_TCP_SYNACK_COOKIE (2) for a syncookie SYNACK, else 0';

const ops: OpInfo[] = [
  op(0, 'BPF_SOCK_OPS_VOID', {
    args: NOARGS, fires: 'never: placeholder value', isFullsock: false, isLockedTcpSock: false, hasSkb: false,
    neverFires: {
      why: 'no call site passes BPF_SOCK_OPS_VOID: in the 7.1.5 tree the name occurs only in the enum (include/uapi/linux/bpf.h and its tools/include copy); tcp_call_bpf()/bpf_skops_*() callers all name another op',
      source: src('include/uapi/linux/bpf.h', 'enum BPF_SOCK_OPS_VOID', 'git grep BPF_SOCK_OPS_VOID over the tree: the enum and its tools/ copy only'),
    },
  }),
  op(1, 'BPF_SOCK_OPS_TIMEOUT_INIT', {
    args: NOARGS,
    reply: 'SYN retransmission timeout in jiffies (used only if > 0, capped at TCP_RTO_MAX), or -1 for the default',
    fires: 'tcp_timeout_init(): reqsk_queue_hash_req() with a request sock, the TFO child, tcp_connect_init() and retransmits_timed_out()',
    isFullsock: 'varies', isLockedTcpSock: 'varies', hasSkb: false,
    source: src(TCP_H, 'tcp_timeout_init', 'tcp_call_bpf sets is_fullsock/is_locked_tcp_sock only if sk_fullsock(sk); request socks get 0'),
  }),
  op(2, 'BPF_SOCK_OPS_RWND_INIT', {
    args: NOARGS,
    reply: 'initial advertised receive window in packets, or -1 for the default (< 0 treated as 0 by tcp_rwnd_init_bpf)',
    fires: 'tcp_rwnd_init_bpf(): tcp_openreq_init_rwin() with a request sock, tcp_connect_init() with a full sock',
    isFullsock: 'varies', isLockedTcpSock: 'varies', hasSkb: false,
    source: src(TCP_H, 'tcp_rwnd_init_bpf'),
  }),
  op(3, 'BPF_SOCK_OPS_TCP_CONNECT_CB', {
    args: NOARGS, fires: 'tcp_connect(): just before an active open sends its SYN', isFullsock: true, isLockedTcpSock: true, hasSkb: false,
    source: src('net/ipv4/tcp_output.c', 'tcp_connect'),
  }),
  op(4, 'BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB', {
    args: NOARGS, fires: 'tcp_init_transfer() -> bpf_skops_established() when an active open completes; skb is the SYNACK (NULL under TCP_REPAIR)',
    isFullsock: true, isLockedTcpSock: true, hasSkb: 'varies',
    source: src('net/ipv4/tcp_input.c', 'bpf_skops_established'),
  }),
  op(5, 'BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB', {
    args: NOARGS, fires: 'tcp_init_transfer() -> bpf_skops_established() when a passive open completes; skb is the ACK ending the handshake, or the SYN for TFO',
    isFullsock: true, isLockedTcpSock: true, hasSkb: 'varies',
    source: src('net/ipv4/tcp_input.c', 'bpf_skops_established'),
  }),
  op(6, 'BPF_SOCK_OPS_NEEDS_ECN', {
    args: NOARGS, reply: '1 if the congestion control needs ECN', fires: 'tcp_bpf_ca_needs_ecn() while building a SYNACK (request sock)',
    isFullsock: false, isLockedTcpSock: false, hasSkb: false,
    source: src(TCP_H, 'tcp_bpf_ca_needs_ecn', 'callers pass a request_sock (tcp_ecn_create_request, tcp_v4/v6 SYNACK)'),
  }),
  op(7, 'BPF_SOCK_OPS_BASE_RTT', {
    args: NOARGS, reply: 'base RTT in usecs', fires: 'only the TCP-NV congestion control (tcpnv_init)', isFullsock: true, isLockedTcpSock: true, hasSkb: false,
    source: src('net/ipv4/tcp_nv.c', 'tcpnv_init'),
  }),
  op(8, 'BPF_SOCK_OPS_RTO_CB', {
    args: ['icsk_retransmits', 'icsk_rto', 'expired (1 if the connection will time out)', ''],
    fires: 'tcp_retransmit_timer path (tcp_write_timeout) on each RTO', enabledBy: 'BPF_SOCK_OPS_RTO_CB_FLAG',
    isFullsock: true, isLockedTcpSock: true, hasSkb: false, source: src('net/ipv4/tcp_timer.c', 'tcp_write_timeout'),
  }),
  op(9, 'BPF_SOCK_OPS_RETRANS_CB', {
    args: ['seq of the first retransmitted byte', 'number of segments', 'tcp_transmit_skb() result (0 = ok)', ''],
    fires: '__tcp_retransmit_skb() on each retransmission', enabledBy: 'BPF_SOCK_OPS_RETRANS_CB_FLAG',
    isFullsock: true, isLockedTcpSock: true, hasSkb: false, source: src('net/ipv4/tcp_output.c', '__tcp_retransmit_skb'),
  }),
  op(10, 'BPF_SOCK_OPS_STATE_CB', {
    args: ['old state (BPF_TCP_*)', 'new state (BPF_TCP_*)', '', ''],
    fires: 'tcp_set_state() on every state change', enabledBy: 'BPF_SOCK_OPS_STATE_CB_FLAG',
    isFullsock: true, isLockedTcpSock: true, hasSkb: false, source: src('net/ipv4/tcp.c', 'tcp_set_state'),
  }),
  op(11, 'BPF_SOCK_OPS_TCP_LISTEN_CB', {
    args: NOARGS, fires: 'inet_listen() -> __inet_listen_sk() after the move to LISTEN', isFullsock: true, isLockedTcpSock: true, hasSkb: false,
    source: src('net/ipv4/af_inet.c', '__inet_listen_sk'),
  }),
  op(12, 'BPF_SOCK_OPS_RTT_CB', {
    args: ['mrtt (usecs)', 'srtt (usecs << 3)', '', ''],
    fires: 'tcp_bpf_rtt() on every RTT sample', enabledBy: 'BPF_SOCK_OPS_RTT_CB_FLAG',
    isFullsock: true, isLockedTcpSock: true, hasSkb: false, source: src(TCP_H, 'tcp_bpf_rtt'),
  }),
  op(13, 'BPF_SOCK_OPS_PARSE_HDR_OPT_CB', {
    args: NOARGS,
    fires: 'bpf_skops_parse_hdr() for a received skb on an established socket (not in SYN_SENT, SYN_RECV, LISTEN); skb_data..skb_data_end spans the TCP header',
    enabledBy: 'BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG',
    isFullsock: true, isLockedTcpSock: true, hasSkb: true, source: src('net/ipv4/tcp_input.c', 'bpf_skops_parse_hdr', 'also fires for BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG when an unknown option was seen'),
  }),
  op(14, 'BPF_SOCK_OPS_HDR_OPT_LEN_CB', {
    args: [HDR_ARG0, '', '', ''],
    reply: 'nothing: reserve option space with bpf_reserve_hdr_opt()',
    fires: 'bpf_skops_hdr_opt_len() while sizing the options of an outgoing segment; for a SYNACK sk is the request sock and syn_skb the SYN',
    enabledBy: 'BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG',
    isFullsock: 'varies', isLockedTcpSock: 'varies', hasSkb: 'varies', source: src('net/ipv4/tcp_output.c', 'bpf_skops_hdr_opt_len'),
  }),
  op(15, 'BPF_SOCK_OPS_WRITE_HDR_OPT_CB', {
    args: [HDR_ARG0, '', '', ''],
    fires: 'bpf_skops_write_hdr_opt() while writing the options of an outgoing segment; skb_data spans the header written so far',
    enabledBy: 'BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG',
    isFullsock: 'varies', isLockedTcpSock: 'varies', hasSkb: true, source: src('net/ipv4/tcp_output.c', 'bpf_skops_write_hdr_opt'),
  }),
  ...(
    [
      [16, 'BPF_SOCK_OPS_TSTAMP_SCHED_CB', 'skb_tstamp_tx_report_bpf_timestamping(): TX timestamp when the skb enters the device layer (SCM_TSTAMP_SCHED)'],
      [17, 'BPF_SOCK_OPS_TSTAMP_SND_SW_CB', 'skb_tstamp_tx_report_bpf_timestamping(): software TX timestamp as the driver sends the skb (SCM_TSTAMP_SND)'],
      [18, 'BPF_SOCK_OPS_TSTAMP_SND_HW_CB', 'skb_tstamp_tx_report_bpf_timestamping(): hardware TX timestamp (skb hwtstamps filled)'],
      [19, 'BPF_SOCK_OPS_TSTAMP_ACK_CB', 'skb_tstamp_tx_report_bpf_timestamping(): all bytes of the sendmsg were acked (SCM_TSTAMP_ACK)'],
    ] as const
  ).map(([v, n, f]) =>
    op(v, n, {
      args: NOARGS, fires: f, enabledBy: 'SK_BPF_CB_TX_TIMESTAMPING',
      isFullsock: true, isLockedTcpSock: false, hasSkb: true,
      source: src('net/core/sock.c', 'bpf_skops_tx_timestamping', 'is_fullsock = 1, is_locked_tcp_sock = 0 (runs without the socket lock), skb set with end_offset 0'),
    }),
  ),
  op(20, 'BPF_SOCK_OPS_TSTAMP_SENDMSG_CB', {
    args: NOARGS, fires: 'tcp_tx_timestamp() on every sendmsg while SK_BPF_CB_TX_TIMESTAMPING is on; the only op where bpf_sock_ops_enable_tx_tstamp() works',
    enabledBy: 'SK_BPF_CB_TX_TIMESTAMPING', isFullsock: true, isLockedTcpSock: false, hasSkb: true,
    source: src('net/ipv4/tcp.c', 'tcp_tx_timestamp', 'calls bpf_skops_tx_timestamping(sk, skb, BPF_SOCK_OPS_TSTAMP_SENDMSG_CB)'),
  }),
];

// ---------------------------------------------------------------------------------------------
// Cb flags (tcp_sock.bpf_sock_ops_cb_flags, a u8)

const FLAGS_ENUM = src(UAPI_BPF_H, 'enum BPF_SOCK_OPS_*_CB_FLAG');
const cbFlags: CbFlagInfo[] = [
  { name: 'BPF_SOCK_OPS_RTO_CB_FLAG', value: 0x01, ops: [8], doc: 'Run the program with RTO_CB on each retransmission timeout.', source: FLAGS_ENUM },
  { name: 'BPF_SOCK_OPS_RETRANS_CB_FLAG', value: 0x02, ops: [9], doc: 'Run the program with RETRANS_CB on each retransmission.', source: FLAGS_ENUM },
  { name: 'BPF_SOCK_OPS_STATE_CB_FLAG', value: 0x04, ops: [10], doc: 'Run the program with STATE_CB on each TCP state change.', source: FLAGS_ENUM },
  { name: 'BPF_SOCK_OPS_RTT_CB_FLAG', value: 0x08, ops: [12], doc: 'Run the program with RTT_CB on each RTT sample.', source: FLAGS_ENUM },
  { name: 'BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG', value: 0x10, ops: [13], doc: 'Run PARSE_HDR_OPT_CB for every received segment with options.', source: FLAGS_ENUM },
  { name: 'BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG', value: 0x20, ops: [13], doc: 'Run PARSE_HDR_OPT_CB only when the segment carries an option the kernel does not know.', source: FLAGS_ENUM },
  { name: 'BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG', value: 0x40, ops: [14, 15], doc: 'Run HDR_OPT_LEN_CB and WRITE_HDR_OPT_CB for outgoing segments so the program can add options.', source: FLAGS_ENUM },
];

// ---------------------------------------------------------------------------------------------
// struct bpf_sock_ops (sizeof 224)

const ACCESS = src(FILTER_C, 'sock_ops_is_valid_access');
const CONVERT = src(FILTER_C, 'sock_ops_convert_ctx_access');
function f(name: string, offset: number, size: number, ctype: string, gate: CtxFieldInfo['gate'], doc: string, more: Partial<CtxFieldInfo> = {}): CtxFieldInfo {
  return { name, offset, size, readSizes: [size === 8 ? 8 : 4], ctype, gate, doc, source: more.source ?? CONVERT, ...more };
}
const LOCKED = 'reads as 0 unless is_locked_tcp_sock (SOCK_OPS_GET_TCP_SOCK_FIELD)';
const tcpField = (name: string, offset: number, doc: string, ctype = '__u32') => f(name, offset, ctype === '__u64' ? 8 : 4, ctype, 'locked_tcp_sock', `${doc}; ${LOCKED}.`);

const ctxFields: CtxFieldInfo[] = [
  f('op', 0, 4, '__u32', 'none', 'The op the program runs for (BPF_SOCK_OPS_*).'),
  f('args', 4, 16, '__u32', 'none', 'Op arguments args[0..3]; a union with reply (args[0]) and replylong[4]. Only offset 4 (reply/args[0]) is writable.', { elemSize: 4, writeSize: 4 }),
  f('family', 20, 4, '__u32', 'none', 'Address family (AF_INET/AF_INET6), sk->skc_family.'),
  f('remote_ip4', 24, 4, '__u32', 'none', 'Remote IPv4 address, network byte order.'),
  f('local_ip4', 28, 4, '__u32', 'none', 'Local IPv4 address, network byte order.'),
  f('remote_ip6', 32, 16, '__u32', 'none', 'Remote IPv6 address as 4 words, network byte order (0 without IPv6).', { elemSize: 4 }),
  f('local_ip6', 48, 16, '__u32', 'none', 'Local IPv6 address as 4 words, network byte order.', { elemSize: 4 }),
  f('remote_port', 64, 4, '__u32', 'none', 'Remote port, network byte order in the upper 16 bits on little-endian hosts (a 2-byte load shifted left by 16): bpf_ntohl(remote_port) gives the port in host order.'),
  f('local_port', 68, 4, '__u32', 'none', 'Local port, host byte order (skc_num).'),
  f('is_fullsock', 72, 4, '__u32', 'none', '1 when sk is a full socket (not a request or timewait sock); only `sk` depends on it.'),
  tcpField('snd_cwnd', 76, 'Congestion window (segments)'),
  tcpField('srtt_us', 80, 'Smoothed RTT in usecs << 3'),
  tcpField('bpf_sock_ops_cb_flags', 84, 'The BPF_SOCK_OPS_*_CB_FLAG bits enabled on this socket'),
  f('state', 88, 4, '__u32', 'none', 'TCP state (BPF_TCP_*), skc_state; valid at every op.'),
  f('rtt_min', 92, 4, '__u32', 'none', 'Minimum RTT seen (tcp_sock.rtt_min); loaded without any gate, so on a request sock (is_fullsock 0: RWND_INIT, TIMEOUT_INIT, NEEDS_ECN, the SYN-ACK header-option ops) it reads whatever memory follows struct request_sock (seen to differ from run to run on a live 6.18 kernel).'),
  ...([
    ['snd_ssthresh', 'Slow start threshold'], ['rcv_nxt', 'Next sequence number expected'], ['snd_nxt', 'Next sequence number to send'],
    ['snd_una', 'First unacknowledged sequence number'], ['mss_cache', 'Cached effective MSS'], ['ecn_flags', 'ECN state bits'],
    ['rate_delivered', 'Delivery rate sample: packets delivered'], ['rate_interval_us', 'Delivery rate sample interval (usecs)'],
    ['packets_out', 'Packets in flight'], ['retrans_out', 'Retransmitted packets in flight'], ['total_retrans', 'Total retransmissions'],
    ['segs_in', 'Segments received'], ['data_segs_in', 'Data segments received'], ['segs_out', 'Segments sent'],
    ['data_segs_out', 'Data segments sent'], ['lost_out', 'Packets considered lost'], ['sacked_out', 'SACKed packets'],
  ] as const).map(([n, d], i) => tcpField(n, 96 + 4 * i, d)),
  f('sk_txhash', 164, 4, '__u32', 'locked_tcp_sock', `Transmit hash of the socket; writable (4 bytes), the write is silently skipped unless is_locked_tcp_sock; ${LOCKED}.`, { writeSize: 4 }),
  tcpField('bytes_received', 168, 'Bytes received (tcp_sock.bytes_received)', '__u64'),
  tcpField('bytes_acked', 176, 'Bytes acked by the peer (tcp_sock.bytes_acked)', '__u64'),
  f('sk', 184, 8, 'struct bpf_sock *', 'fullsock', 'The socket, PTR_TO_SOCKET_OR_NULL: NULL unless is_fullsock, so test it before use.', { regType: 'PTR_TO_SOCKET_OR_NULL', source: ACCESS }),
  f('skb_data', 192, 8, 'void *', 'skb', 'Start of the packet window (PTR_TO_PACKET); bounds-check against skb_data_end before reading. 0 without skb.', { regType: 'PTR_TO_PACKET', source: ACCESS }),
  f('skb_data_end', 200, 8, 'void *', 'skb', 'End of the packet window (PTR_TO_PACKET_END); 0 without skb (the ctx is memset).', { regType: 'PTR_TO_PACKET_END', source: ACCESS }),
  f('skb_len', 208, 4, '__u32', 'skb', 'skb->len of the skb the op concerns; 0 without skb.'),
  f('skb_tcp_flags', 212, 4, '__u32', 'skb', 'TCP_SKB_CB(skb)->tcp_flags; the only field that allows narrow (1/2-byte) loads, at its first byte. 0 without skb.', { readSizes: [1, 2, 4], source: ACCESS }),
  f('skb_hwtstamp', 216, 8, '__u64', 'skb', 'skb_shinfo(skb)->hwtstamps (hardware TX timestamp at TSTAMP_SND_HW_CB); 0 without skb.'),
];
// Packet window is empty at the TX timestamping ops: bpf_skops_tx_timestamping() passes end_offset 0.
for (const name of ['skb_data', 'skb_data_end']) {
  const row = ctxFields.find((x) => x.name === name)!;
  row.zeroAt = {
    ops: [16, 17, 18, 19, 20],
    why: 'the TX timestamping ops set skb_data_end = skb_data (end_offset 0), so the packet window is empty',
    kind: 'empty',
    source: src('net/core/sock.c', 'bpf_skops_tx_timestamping', 'bpf_skops_init_skb(&sock_ops, skb, 0)'),
  };
  row.alsoZeroAt = [{
    ops: [14],
    why: 'HDR_OPT_LEN_CB runs before any header is written: skb_data_end = skb_data (end_offset 0), so the packet window is empty; use bpf_load_hdr_opt(BPF_LOAD_HDR_OPT_TCP_SYN) to look at the SYN',
    kind: 'empty',
    source: src('net/ipv4/tcp_output.c', 'bpf_skops_hdr_opt_len', 'bpf_skops_init_skb(&sock_ops, skb, 0)'),
  }];
}

// ---------------------------------------------------------------------------------------------
// Helpers

export const BASELINE_OPS = ops.map((o) => o.value);
const above15 = (all: number[]) => all.filter((v) => v > 15);
const except = (all: number[], keep: number[]) => all.filter((v) => !keep.includes(v));

const ALL3: Record<'sock_ops' | 'cgroup_setsockopt' | 'cgroup_getsockopt', Avail> = { sock_ops: true, cgroup_setsockopt: true, cgroup_getsockopt: true };
const CGSOCKOPT_PROTO = src(CGROUP_C, 'cg_sockopt_func_proto');

const LOAD_HDR_OPT_ARG_CHECKS =
  'len < 2, flags other than BPF_LOAD_HDR_OPT_TCP_SYN, or a bad search in searchby_res (kind NOP or EOL, a length above len, an experimental kind 253/254 without a 2- or 4-byte magic, another kind with a length) return -EINVAL first';

function lockedOpsRule(fn: string, kernelFunc: string, all: number[]): OpRule {
  return {
    ops: above15(all), result: -95,
    why: `${fn}() only works at ops where the socket is locked: is_locked_tcp_sock_ops() is op <= BPF_SOCK_OPS_WRITE_HDR_OPT_CB (15)`,
    source: src(FILTER_C, kernelFunc, 'if (!is_locked_tcp_sock_ops(bpf_sock)) return -EOPNOTSUPP'),
  };
}

export function baselineHelpers(all: number[]): HelperInfo[] {
  const rows: HelperInfo[] = [];
  const add = (name: string, spec: HelperSpec) => rows.push(helper(name, spec));
  // Ops whose bpf_sock_ops_kern.skb is NULL or may be (tcp_call_bpf passes none; bpf_skops_established has none under TCP_REPAIR).
  const NOSKB_OPS = all.filter((v) => ops.find((o) => o.value === v)?.hasSkb === false || v === 4 || v === 5);

  // --- sock_ops specific (sock_ops_func_proto's explicit cases)
  add('setsockopt', {
    doc: 'Sets a socket option on the socket of the context, like setsockopt(2) but restricted to the options bpf supports (SOL_SOCKET, SOL_IP, SOL_IPV6, SOL_TCP, including the TCP_BPF_* pseudo options). From sock_ops it needs the socket lock, so it only works at ops 0-15; at HDR_OPT_LEN_CB and WRITE_HDR_OPT_CB TCP_NODELAY is refused because it would re-enter those callbacks. From cgroup/setsockopt it acts on the socket the application is configuring.',
    progTypes: { sock_ops: true, cgroup_setsockopt: true },
    progSource: { cgroup_setsockopt: src(CGROUP_C, 'cg_sockopt_func_proto', 'bpf_sk_setsockopt_proto only when expected_attach_type == BPF_CGROUP_SETSOCKOPT') },
    source: src(FILTER_C, 'bpf_sock_ops_setsockopt'),
    rules: [
      lockedOpsRule('bpf_setsockopt', 'bpf_sock_ops_setsockopt', all),
      {
        ops: [14, 15], result: -95, when: [{ arg: 1, equals: 6, name: 'level == SOL_TCP' }, { arg: 2, equals: 1, name: 'optname == TCP_NODELAY' }],
        why: 'TCP_NODELAY triggers tcp_push_pending_frames() and would re-enter the header-option callbacks',
        source: src(FILTER_C, 'bpf_sock_ops_setsockopt', 'HDR_OPT_LEN_CB/WRITE_HDR_OPT_CB with SOL_TCP/TCP_NODELAY -> -EOPNOTSUPP'),
      },
    ],
    errors: [
      { errno: -22, when: 'the socket is not a full socket (request sock at TIMEOUT_INIT/RWND_INIT/NEEDS_ECN/SYNACK hdr-opt ops), unknown level or optname, or optlen wrong' },
      { errno: -22, when: 'TCP_BPF_SOCK_OPS_CB_FLAGS with bits outside BPF_SOCK_OPS_ALL_CB_FLAGS: nothing is set (bpf_sol_tcp_setsockopt)' },
    ],
    paramDocs: { bpf_socket: 'the ctx (struct bpf_sock_ops *) or, from cgroup/setsockopt, ctx->sk', level: 'SOL_SOCKET, SOL_TCP, SOL_IP or SOL_IPV6', optval: 'pointer to the value', optlen: 'size of *optval' },
  });
  add('getsockopt', {
    doc: 'Reads a socket option of the context socket into optval, like getsockopt(2) for the options bpf supports; also reads the saved SYN with SOL_TCP/TCP_BPF_SYN, TCP_BPF_SYN_IP or TCP_BPF_SYN_MAC. On error optval is zeroed. From sock_ops it works only at ops 0-15.',
    progTypes: { sock_ops: true, cgroup_setsockopt: true },
    progSource: { cgroup_setsockopt: src(CGROUP_C, 'cg_sockopt_func_proto', 'bpf_sk_getsockopt_proto only when expected_attach_type == BPF_CGROUP_SETSOCKOPT; NULL for cgroup/getsockopt') },
    source: src(FILTER_C, 'bpf_sock_ops_getsockopt'),
    rules: [lockedOpsRule('bpf_getsockopt', 'bpf_sock_ops_getsockopt', all)],
    errors: [
      { errno: -22, when: 'not a full socket, unknown level/optname or wrong optlen (optval is zeroed)' },
      { errno: -2, when: 'TCP_BPF_SYN*: no SYN saved/available (bpf_sock_ops_get_syn)' },
      { errno: -28, when: 'TCP_BPF_SYN*: optlen smaller than the SYN headers (optlen bytes are still copied)' },
    ],
  });
  add('sock_ops_cb_flags_set', {
    doc: 'Replaces the socket\'s bpf_sock_ops_cb_flags with argval & BPF_SOCK_OPS_ALL_CB_FLAGS and returns the bits it could not set (argval & ~ALL_CB_FLAGS; 0 when every bit is supported). It only works at ops 0-15 and on full sockets.',
    progTypes: { sock_ops: true }, source: src(FILTER_C, 'bpf_sock_ops_cb_flags_set'),
    rules: [lockedOpsRule('bpf_sock_ops_cb_flags_set', 'bpf_sock_ops_cb_flags_set', all)],
    errors: [{ errno: -22, when: 'sk is not a full socket' }],
    paramDocs: { argval: 'the new set of BPF_SOCK_OPS_*_CB_FLAG bits (replaces, does not OR)' },
  });
  add('sock_map_update', {
    doc: 'Adds the context socket to a SOCKMAP at *key. Only from ACTIVE_ESTABLISHED_CB, PASSIVE_ESTABLISHED_CB and TCP_LISTEN_CB, and only for socket protocols that support sockmap.',
    progTypes: { sock_ops: true }, source: src('net/core/sock_map.c', 'bpf_sock_map_update'),
    rules: [{ ops: except(all, [4, 5, 11]), result: -95, why: 'sock_map_op_okay(): only ACTIVE_ESTABLISHED_CB, PASSIVE_ESTABLISHED_CB and TCP_LISTEN_CB may add a socket to a sockmap', source: src('net/core/sock_map.c', 'sock_map_op_okay') }],
    errors: [{ errno: -95, when: 'the socket is not suitable for sockmap (sock_map_sk_is_suitable)' }],
  });
  add('sock_hash_update', {
    doc: 'Adds the context socket to a SOCKHASH under *key. Same op restriction as bpf_sock_map_update.',
    progTypes: { sock_ops: true }, source: src('net/core/sock_map.c', 'bpf_sock_hash_update'),
    rules: [{ ops: except(all, [4, 5, 11]), result: -95, why: 'sock_map_op_okay(): only ACTIVE_ESTABLISHED_CB, PASSIVE_ESTABLISHED_CB and TCP_LISTEN_CB may add a socket to a sockhash', source: src('net/core/sock_map.c', 'sock_map_op_okay') }],
  });
  add('get_socket_cookie', {
    doc: 'Returns the socket cookie (a unique 64-bit id, generated on first use) of the context socket; works at every op, request socks included.',
    progTypes: { sock_ops: true }, source: src(FILTER_C, 'bpf_get_socket_cookie_sock_ops'),
  });
  add('perf_event_output', {
    doc: 'Writes a blob to a BPF_MAP_TYPE_PERF_EVENT_ARRAY for user space to read. GPL-only.',
    progTypes: { ...ALL3 }, gplOnly: true, source: src(FILTER_C, 'sock_ops_func_proto', 'bpf_event_output_data_proto (gpl_only)'),
  });
  add('sk_storage_get', {
    doc: 'Looks up (or with BPF_SK_STORAGE_GET_F_CREATE creates) this program\'s per-socket storage in a BPF_MAP_TYPE_SK_STORAGE map. Returns NULL if sk is NULL or not a full socket.',
    progTypes: { ...ALL3 }, source: src('net/core/bpf_sk_storage.c', 'bpf_sk_storage_get'),
    errors: [{ errno: 0, when: 'returns NULL when sk is NULL, not a full socket, flags > BPF_SK_STORAGE_GET_F_CREATE, or the socket is being freed' }],
  });
  add('sk_storage_delete', {
    doc: 'Deletes this socket\'s entry from a BPF_MAP_TYPE_SK_STORAGE map.',
    progTypes: { ...ALL3 }, source: src('net/core/bpf_sk_storage.c', 'bpf_sk_storage_delete'),
    errors: [{ errno: -22, when: 'sk is NULL or not a full socket' }, { errno: -2, when: 'no entry, or the socket is being freed' }],
  });
  add('get_netns_cookie', {
    doc: 'Returns the cookie of the network namespace of the context socket (of init_net when ctx is NULL).',
    progTypes: { ...ALL3 }, source: src(FILTER_C, 'bpf_get_netns_cookie_sock_ops'),
    progSource: { cgroup_setsockopt: CGSOCKOPT_PROTO, cgroup_getsockopt: CGSOCKOPT_PROTO },
  });
  add('load_hdr_opt', {
    doc: 'Searches the TCP header options of the current skb (or, with BPF_LOAD_HDR_OPT_TCP_SYN, of the saved SYN) for the option whose kind (and experimental magic) is given in searchby_res and copies it there; returns its length.',
    progTypes: { sock_ops: true }, source: src(FILTER_C, 'bpf_sock_ops_load_hdr_opt'),
    rules: [
      lockedOpsRule('bpf_load_hdr_opt', 'bpf_sock_ops_load_hdr_opt', all),
      // bpf_sock_ops_load_hdr_opt: is_locked_tcp_sock_ops (-EOPNOTSUPP), then its argument checks
      // (-EINVAL), then the saved SYN or, without BPF_LOAD_HDR_OPT_TCP_SYN, the -EPERM below.
      {
        ops: [14], result: -1, when: [{ arg: 3, equals: 0, name: 'flags == 0 (without BPF_LOAD_HDR_OPT_TCP_SYN)' }], afterArgChecks: LOAD_HDR_OPT_ARG_CHECKS,
        why: 'at HDR_OPT_LEN_CB no header exists yet; only the SYN can be searched (BPF_LOAD_HDR_OPT_TCP_SYN)',
        source: src(FILTER_C, 'bpf_sock_ops_load_hdr_opt', 'after the len/flags/search_res checks: op == HDR_OPT_LEN_CB -> -EPERM'),
      },
      {
        ops: NOSKB_OPS, result: -1, when: [{ arg: 3, equals: 0, name: 'flags == 0 (without BPF_LOAD_HDR_OPT_TCP_SYN)' }], whenNoSkb: true, afterArgChecks: LOAD_HDR_OPT_ARG_CHECKS,
        why: 'the op runs without an skb to search (bpf_sock->skb == NULL; at ACTIVE/PASSIVE_ESTABLISHED_CB only under TCP_REPAIR)',
        source: src(FILTER_C, 'bpf_sock_ops_load_hdr_opt', 'after the len/flags/search_res checks: !bpf_sock->skb -> -EPERM'),
      },
    ],
    errors: [
      { errno: -22, when: 'len < 2, unknown flags or a bad search kind' }, { errno: -42, when: 'option not found (-ENOMSG)' },
      { errno: -28, when: 'buffer too small (-ENOSPC)' }, { errno: -14, when: 'malformed options (-EFAULT)' }, { errno: -2, when: 'BPF_LOAD_HDR_OPT_TCP_SYN without a saved SYN' },
    ],
  });
  add('store_hdr_opt', {
    doc: 'Appends a TCP header option (kind, length, data) to the header being written; only at WRITE_HDR_OPT_CB, within the space reserved at HDR_OPT_LEN_CB.',
    progTypes: { sock_ops: true }, source: src(FILTER_C, 'bpf_sock_ops_store_hdr_opt'),
    rules: [{ ops: except(all, [15]), result: -1, why: 'bpf_store_hdr_opt() only works at BPF_SOCK_OPS_WRITE_HDR_OPT_CB', source: src(FILTER_C, 'bpf_sock_ops_store_hdr_opt', 'op != WRITE_HDR_OPT_CB -> -EPERM') }],
    errors: [{ errno: -22, when: 'len < 2, flags set or bad kind' }, { errno: -28, when: 'not enough reserved space' }, { errno: -17, when: 'the option is already present (-EEXIST)' }],
  });
  add('reserve_hdr_opt', {
    doc: 'Reserves len bytes of TCP option space in the segment being sized; only at HDR_OPT_LEN_CB. Reservations add up and are rounded to 4.',
    progTypes: { sock_ops: true }, source: src(FILTER_C, 'bpf_sock_ops_reserve_hdr_opt'),
    rules: [{ ops: except(all, [14]), result: -1, why: 'bpf_reserve_hdr_opt() only works at BPF_SOCK_OPS_HDR_OPT_LEN_CB', source: src(FILTER_C, 'bpf_sock_ops_reserve_hdr_opt', 'op != HDR_OPT_LEN_CB -> -EPERM') }],
    errors: [{ errno: -22, when: 'flags set or len < 2' }, { errno: -28, when: 'len larger than the remaining option space' }],
  });
  add('tcp_sock', {
    doc: 'Returns the struct bpf_tcp_sock view of sk, or NULL if sk is not a full TCP socket.',
    progTypes: { ...ALL3 }, source: src(FILTER_C, 'bpf_tcp_sock'), progSource: { cgroup_setsockopt: CGSOCKOPT_PROTO, cgroup_getsockopt: CGSOCKOPT_PROTO },
  });

  // --- cgroup_common_func_proto
  add('get_local_storage', { doc: 'Returns the cgroup local storage (BPF_MAP_TYPE_CGROUP_STORAGE) of the program\'s cgroup.', progTypes: { ...ALL3 }, source: src(CGROUP_C, 'cgroup_common_func_proto') });
  for (const n of ['get_retval', 'set_retval'] as const) {
    add(n, {
      doc: n === 'get_retval'
        ? 'Returns the value the cgroup hook will return to the syscall (0 or a negative errno) as set by earlier programs or bpf_set_retval(). In cgroup/setsockopt it starts at 0.'
        : 'Sets the value the cgroup hook returns to the syscall (bpf_cg_run_ctx.retval); returns 0. In cgroup/setsockopt (bpf_prog_run_array_cg, __cgroup_bpf_run_filter_setsockopt): when the program returns 0, setsockopt(2) fails with this value if it is an errno (-4095..-1), else with -EPERM; when it returns 1, an errno set here still fails the call. Use it to pass the reason of a refusal (e.g. -EUCLEAN) to the application.',
      progTypes: { cgroup_setsockopt: true, cgroup_getsockopt: true },
      progSource: {
        cgroup_setsockopt: src(CGROUP_C, 'cg_sockopt_func_proto', 'asks cgroup_common_func_proto first: bpf_' + n + '_proto for expected_attach_type BPF_CGROUP_SETSOCKOPT'),
        cgroup_getsockopt: src(CGROUP_C, 'cg_sockopt_func_proto', 'asks cgroup_common_func_proto first: bpf_' + n + '_proto for expected_attach_type BPF_CGROUP_GETSOCKOPT'),
      },
      source: src(CGROUP_C, 'cgroup_common_func_proto', 'NULL for expected_attach_type BPF_CGROUP_SOCK_OPS (and 0): not callable from sock_ops'),
      otherProgTypes: ['cgroup_sock', 'cgroup_sock_addr', 'cgroup_sysctl', 'cgroup_device', 'lsm_cgroup'],
    });
  }

  // --- bpf_sk_base_func_proto (sock_ops only; cgroup sockopt falls back to bpf_base_func_proto directly)
  for (const n of ['skc_to_tcp6_sock', 'skc_to_tcp_sock', 'skc_to_tcp_timewait_sock', 'skc_to_tcp_request_sock', 'skc_to_udp6_sock', 'skc_to_unix_sock', 'skc_to_mptcp_sock']) {
    add(n, {
      doc: `Casts a socket pointer to ${n.replace('skc_to_', 'struct ')} (a BTF pointer) if it is one, else returns NULL.`,
      progTypes: { sock_ops: { needs: 'CAP_PERFMON' } }, source: src(FILTER_C, 'bpf_sk_base_func_proto', 'returned only if bpf_token_capable(CAP_PERFMON)'),
      otherProgTypes: ['tracing', 'sched_cls', 'xdp', 'sk_skb', 'cgroup_skb', 'most networking types'],
    });
  }
  add('ktime_get_coarse_ns', { doc: 'Returns a coarse CLOCK_MONOTONIC time in ns (cheaper, tick resolution).', progTypes: { sock_ops: true }, source: src(FILTER_C, 'bpf_sk_base_func_proto') });

  // --- bpf_base_func_proto: no capability
  const BASE = src(HELPERS_C, 'bpf_base_func_proto');
  const baseDocs: [string, string][] = [
    ['map_lookup_elem', 'Returns a pointer to the value stored under *key in the map, or NULL.'],
    ['map_update_elem', 'Creates or updates the map entry *key with *value (flags BPF_ANY/BPF_NOEXIST/BPF_EXIST). sock_ops may not update a SOCKMAP/SOCKHASH this way (use bpf_sock_map_update).'],
    ['map_delete_elem', 'Deletes the entry *key from the map.'],
    ['map_push_elem', 'Pushes a value onto a queue/stack map.'], ['map_pop_elem', 'Pops a value from a queue/stack map.'], ['map_peek_elem', 'Reads the head of a queue/stack map without removing it.'],
    ['map_lookup_percpu_elem', 'Looks up *key in a per-CPU map for the given CPU.'],
    ['get_prandom_u32', 'Returns a pseudo-random u32 (not for cryptography).'], ['get_smp_processor_id', 'Returns the id of the CPU the program runs on.'],
    ['get_numa_node_id', 'Returns the NUMA node of the current CPU.'], ['tail_call', 'Jumps to the program at index in a PROG_ARRAY; does not return on success.'],
    ['ktime_get_ns', 'Returns CLOCK_MONOTONIC time in ns (not counting suspend).'], ['ktime_get_boot_ns', 'Returns CLOCK_BOOTTIME time in ns.'], ['ktime_get_tai_ns', 'Returns CLOCK_TAI time in ns.'],
    ['ringbuf_output', 'Copies data into a BPF ring buffer.'], ['ringbuf_reserve', 'Reserves space in a BPF ring buffer; submit or discard it later.'],
    ['ringbuf_submit', 'Submits a reserved ring buffer record.'], ['ringbuf_discard', 'Discards a reserved ring buffer record.'], ['ringbuf_query', 'Queries ring buffer properties.'],
    ['strncmp', 'Compares a string with a constant string.'], ['strtol', 'Parses a signed integer from a string.'], ['strtoul', 'Parses an unsigned integer from a string.'],
    ['get_current_pid_tgid', 'Returns tgid << 32 | pid of the current task. Allowed in sock_ops, but the current task is whatever runs the TCP stack (often softirq), not the socket owner.'],
    ['get_ns_current_pid_tgid', 'Fills pid/tgid of the current task as seen from a pid namespace.'],
    ['get_current_uid_gid', 'Returns gid << 32 | uid of the current task (same caveat as bpf_get_current_pid_tgid).'],
  ];
  for (const [n, d] of baseDocs) add(n, { doc: d, progTypes: { ...ALL3 }, source: BASE });
  rows.find((r) => r.name === 'bpf_map_update_elem')!.errors = [{ errno: -22, when: 'verifier: "cannot update sockmap in this context" for SOCKMAP/SOCKHASH maps from sock_ops (may_update_sockmap)' }];

  // --- CAP_BPF
  const capBpf: [string, string, boolean?][] = [
    ['spin_lock', 'Takes the bpf_spin_lock inside a map value.'], ['spin_unlock', 'Releases a bpf_spin_lock.'], ['jiffies64', 'Returns the 64-bit jiffies counter.'],
    ['per_cpu_ptr', 'Returns a pointer to a per-CPU kernel variable on a given CPU.'], ['this_cpu_ptr', 'Returns a pointer to a per-CPU kernel variable on this CPU.'],
    ['timer_init', 'Initialises a bpf_timer in a map value.', true], ['timer_set_callback', 'Sets the callback of a bpf_timer.', true],
    ['timer_start', 'Arms a bpf_timer.', true], ['timer_cancel', 'Cancels a bpf_timer.', true],
    ['kptr_xchg', 'Exchanges a referenced kernel pointer stored in a map value.'], ['for_each_map_elem', 'Calls a callback for each element of a map.'],
    ['loop', 'Calls a callback up to nr_loops times (bounded loop).'], ['user_ringbuf_drain', 'Drains samples from a user ring buffer.'],
    ['ringbuf_reserve_dynptr', 'Reserves ring buffer space as a dynptr.'], ['ringbuf_submit_dynptr', 'Submits a dynptr ring buffer record.'], ['ringbuf_discard_dynptr', 'Discards a dynptr ring buffer record.'],
    ['dynptr_from_mem', 'Makes a dynptr over local memory.'], ['dynptr_read', 'Reads from a dynptr.'], ['dynptr_write', 'Writes to a dynptr.'], ['dynptr_data', 'Returns a direct pointer into a dynptr.'],
    ['cgrp_storage_get', 'Gets or creates cgroup local storage.'], ['cgrp_storage_delete', 'Deletes cgroup local storage.'],
    ['get_current_cgroup_id', 'Returns the cgroup v2 id of the current task.'], ['get_current_ancestor_cgroup_id', 'Returns the id of an ancestor of the current task\'s cgroup.'],
    ['current_task_under_cgroup', 'Tests whether the current task is in a cgroup of a CGROUP_ARRAY map.'], ['get_cgroup_classid', 'Returns the net_cls classid of the current task.'],
    ['task_storage_get', 'Gets or creates task local storage.'], ['task_storage_delete', 'Deletes task local storage.'],
  ];
  for (const [n, d, gpl] of capBpf) add(n, { doc: d, progTypes: { sock_ops: { needs: 'CAP_BPF' }, cgroup_setsockopt: { needs: 'CAP_BPF' }, cgroup_getsockopt: { needs: 'CAP_BPF' } }, gplOnly: gpl, source: src(HELPERS_C, 'bpf_base_func_proto', 'returned only if bpf_token_capable(CAP_BPF)') });

  // --- CAP_PERFMON
  const perf: [string, string, { gpl?: boolean; sleep?: boolean }?][] = [
    ['trace_printk', 'Prints to /sys/kernel/tracing/trace_pipe (debugging only).', { gpl: true }],
    ['get_current_task', 'Returns the current task_struct pointer as a scalar.', { gpl: true }], ['get_current_task_btf', 'Returns the current task as a BTF pointer.', { gpl: true }],
    ['get_current_comm', 'Copies the current task\'s comm.'],
    ['probe_read_user', 'Reads user memory safely.', { gpl: true }], ['probe_read_kernel', 'Reads kernel memory safely (absent under lockdown).', { gpl: true }],
    ['probe_read_user_str', 'Reads a NUL-terminated user string.', { gpl: true }], ['probe_read_kernel_str', 'Reads a NUL-terminated kernel string (absent under lockdown).', { gpl: true }],
    ['copy_from_user', 'Copies user memory; may sleep, so sleepable programs only.', { sleep: true }],
    ['copy_from_user_task', 'Copies memory of another task; may sleep, so sleepable programs only.', { gpl: true, sleep: true }],
    ['snprintf_btf', 'Formats a BTF-typed value as text.'], ['snprintf', 'Formats a string like snprintf.', { gpl: true }],
    ['task_pt_regs', 'Returns the pt_regs of a task.', { gpl: true }], ['trace_vprintk', 'Like bpf_trace_printk with more arguments.', { gpl: true }],
    ['perf_event_read_value', 'Reads a perf event counter with enabled/running times.', { gpl: true }], ['perf_event_read', 'Reads a perf event counter.', { gpl: true }],
    ['send_signal', 'Sends a signal to the current process.'], ['send_signal_thread', 'Sends a signal to the current thread.'],
    ['get_task_stack', 'Copies a task\'s kernel stack trace.'], ['get_branch_snapshot', 'Copies the LBR branch snapshot.', { gpl: true }], ['find_vma', 'Finds the VMA of a task containing an address.'],
  ];
  for (const [n, d, o] of perf) add(n, {
    doc: d, progTypes: { sock_ops: { needs: 'CAP_PERFMON' }, cgroup_setsockopt: { needs: 'CAP_PERFMON' }, cgroup_getsockopt: { needs: 'CAP_PERFMON' } },
    gplOnly: o?.gpl, sleepableOnly: o?.sleep,
    source: src(HELPERS_C, 'bpf_base_func_proto', o?.sleep ? 'returned only if CAP_PERFMON; proto has might_sleep, so the verifier rejects it in non-sleepable programs' : 'returned only if bpf_token_capable(CAP_PERFMON)'),
  });

  // --- not offered to our program types, with where they exist
  add('skb_load_bytes', {
    doc: 'Copies len bytes at offset of the packet into a buffer. Not available to sock_ops in Linux 7.1.5 (the AutoLOWAT series adds it for RCVQ_CB); use skb_data/skb_data_end direct access at the ops that have a packet window.',
    progTypes: {}, otherProgTypes: ['socket_filter', 'sched_cls', 'sched_act', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local', 'sk_skb'],
    source: src(FILTER_C, 'sock_ops_func_proto', 'no BPF_FUNC_skb_load_bytes case; bpf_sk_base_func_proto and bpf_base_func_proto lack it too'),
  });
  add('skb_store_bytes', { doc: 'Writes bytes into the packet. Not available to sock_ops or cgroup sockopt.', progTypes: {}, otherProgTypes: ['sched_cls', 'sched_act', 'lwt_xmit', 'sk_skb'], source: src(FILTER_C, 'tc_cls_act_func_proto', 'absent from sock_ops_func_proto') });
  add('redirect', { doc: 'Redirects the packet to another interface. Not available to sock_ops or cgroup sockopt.', progTypes: {}, otherProgTypes: ['sched_cls', 'sched_act', 'xdp', 'lwt_xmit'], source: src(FILTER_C, 'tc_cls_act_func_proto', 'absent from sock_ops_func_proto') });

  // Every other UAPI helper: a row saying it is not offered, so lookups by name or id always answer.
  const have = new Set(rows.map((r) => r.id));
  for (const [id, short] of UAPI_HELPERS) if (id !== 0 && !have.has(id)) rows.push(unavailableHelper(id, short));
  rows.sort((a, b) => a.id - b.id);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Kfuncs

export function baselineKfuncs(all: number[]): KfuncInfo[] {
  return [
    {
      name: 'bpf_cast_to_kern_ctx', ret: 'void *', params: [{ name: 'obj', ctype: 'void *', doc: 'the program\'s ctx' }],
      doc: 'Returns the kernel-side context behind the program\'s ctx as a trusted BTF pointer: for sock_ops a struct bpf_sock_ops_kern * (sk, args, skb, op...). Needs a GPL-compatible license, like every kfunc.',
      progTypes: ['sock_ops', 'cgroup_setsockopt', 'cgroup_getsockopt'], sockOpsRules: [], flags: ['KF_FASTCALL'],
      source: src(HELPERS_C, 'bpf_cast_to_kern_ctx', 'common_kfunc_set, registered for BPF_PROG_TYPE_UNSPEC (every program type)'),
    },
    {
      name: 'bpf_rdonly_cast', ret: 'void *', params: [{ name: 'obj__ign', ctype: 'const void *' }, { name: 'btf_id__k', ctype: 'u32', doc: 'BTF id of the target type (bpf_core_cast fills it)' }],
      doc: 'Reinterprets any pointer as a read-only (untrusted, PTR_UNTRUSTED) pointer to the BTF type btf_id; loads through it are probe reads that yield 0 on fault. Used by bpf_core_cast(), e.g. to read TCP_SKB_CB(skb).',
      progTypes: ['sock_ops', 'cgroup_setsockopt', 'cgroup_getsockopt'], sockOpsRules: [], flags: ['KF_FASTCALL'],
      source: src(HELPERS_C, 'bpf_rdonly_cast', 'common_kfunc_set, registered for BPF_PROG_TYPE_UNSPEC'),
    },
    {
      name: 'bpf_sock_ops_enable_tx_tstamp', ret: 'int', params: [{ name: 'skops', ctype: 'struct bpf_sock_ops_kern *' }, { name: 'flags', ctype: 'u64', doc: 'must be 0' }],
      doc: 'Asks for BPF TX timestamping callbacks (TSTAMP_SCHED/SND_SW/SND_HW/ACK) for the skb of the current sendmsg; only at BPF_SOCK_OPS_TSTAMP_SENDMSG_CB.',
      progTypes: ['sock_ops'], flags: [],
      sockOpsRules: [{ ops: except(all, [20]), result: -95, why: 'bpf_sock_ops_enable_tx_tstamp() only works at BPF_SOCK_OPS_TSTAMP_SENDMSG_CB', source: src(FILTER_C, 'bpf_sock_ops_enable_tx_tstamp', 'op != TSTAMP_SENDMSG_CB -> -EOPNOTSUPP') }],
      errors: [{ errno: -22, when: 'flags != 0' }],
      source: src(FILTER_C, 'bpf_sock_ops_enable_tx_tstamp', 'bpf_kfunc_set_sock_ops, registered for BPF_PROG_TYPE_SOCK_OPS'),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Constants users write

const SOCK_H = 'include/uapi/asm-generic/socket.h';
const TCP_UAPI = 'include/uapi/linux/tcp.h';
export function baselineConstants(allCbFlags: number): Profile['constants'] {
  const c = (name: string, value: number, file: string, func = name) => ({ name, value, source: src(file, func) });
  return [
    c('SOL_IP', 0, 'include/linux/socket.h'), c('SOL_SOCKET', 1, SOCK_H), c('SOL_TCP', 6, 'include/linux/socket.h'), c('SOL_IPV6', 41, 'include/linux/socket.h'),
    c('SO_REUSEADDR', 2, SOCK_H), c('SO_SNDBUF', 7, SOCK_H), c('SO_RCVBUF', 8, SOCK_H), c('SO_KEEPALIVE', 9, SOCK_H), c('SO_PRIORITY', 12, SOCK_H),
    c('SO_REUSEPORT', 15, SOCK_H), c('SO_RCVLOWAT', 18, SOCK_H), c('SO_BINDTODEVICE', 25, SOCK_H), c('SO_MARK', 36, SOCK_H),
    c('SO_MAX_PACING_RATE', 47, SOCK_H), c('SO_BINDTOIFINDEX', 62, SOCK_H), c('SO_TXREHASH', 74, SOCK_H),
    c('TCP_NODELAY', 1, TCP_UAPI), c('TCP_MAXSEG', 2, TCP_UAPI), c('TCP_KEEPIDLE', 4, TCP_UAPI), c('TCP_KEEPINTVL', 5, TCP_UAPI), c('TCP_KEEPCNT', 6, TCP_UAPI),
    c('TCP_SYNCNT', 7, TCP_UAPI), c('TCP_WINDOW_CLAMP', 10, TCP_UAPI), c('TCP_QUICKACK', 12, TCP_UAPI), c('TCP_CONGESTION', 13, TCP_UAPI),
    c('TCP_USER_TIMEOUT', 18, TCP_UAPI), c('TCP_NOTSENT_LOWAT', 25, TCP_UAPI), c('TCP_SAVE_SYN', 27, TCP_UAPI), c('TCP_SAVED_SYN', 28, TCP_UAPI),
    c('IP_TOS', 1, 'include/uapi/linux/in.h'), c('IPV6_TCLASS', 67, 'include/uapi/linux/in6.h'),
    ...(['TCP_BPF_IW', 'TCP_BPF_SNDCWND_CLAMP', 'TCP_BPF_DELACK_MAX', 'TCP_BPF_RTO_MIN', 'TCP_BPF_SYN', 'TCP_BPF_SYN_IP', 'TCP_BPF_SYN_MAC', 'TCP_BPF_SOCK_OPS_CB_FLAGS', 'SK_BPF_CB_FLAGS', 'SK_BPF_BYPASS_PROT_MEM'].map((n, i) => c(n, 1001 + i, UAPI_BPF_H, 'enum TCP_BPF_*'))),
    c('SK_BPF_CB_TX_TIMESTAMPING', 1, UAPI_BPF_H, 'enum sk_bpf_cb_flags'), c('SK_BPF_CB_MASK', 1, UAPI_BPF_H, 'enum sk_bpf_cb_flags'),
    c('BPF_SK_STORAGE_GET_F_CREATE', 1, UAPI_BPF_H, 'enum BPF_SK_STORAGE_GET_F_*'),
    c('BPF_LOAD_HDR_OPT_TCP_SYN', 1, UAPI_BPF_H, 'enum BPF_LOAD_HDR_OPT_TCP_SYN'),
    c('BPF_WRITE_HDR_TCP_CURRENT_MSS', 1, UAPI_BPF_H, 'enum BPF_WRITE_HDR_*'), c('BPF_WRITE_HDR_TCP_SYNACK_COOKIE', 2, UAPI_BPF_H, 'enum BPF_WRITE_HDR_*'),
    ...(['BPF_TCP_ESTABLISHED', 'BPF_TCP_SYN_SENT', 'BPF_TCP_SYN_RECV', 'BPF_TCP_FIN_WAIT1', 'BPF_TCP_FIN_WAIT2', 'BPF_TCP_TIME_WAIT', 'BPF_TCP_CLOSE', 'BPF_TCP_CLOSE_WAIT', 'BPF_TCP_LAST_ACK', 'BPF_TCP_LISTEN', 'BPF_TCP_CLOSING', 'BPF_TCP_NEW_SYN_RECV', 'BPF_TCP_BOUND_INACTIVE', 'BPF_TCP_MAX_STATES'].map((n, i) => c(n, i + 1, UAPI_BPF_H, 'enum BPF_TCP_*'))),
    c('BPF_SOCK_OPS_ALL_CB_FLAGS', allCbFlags, UAPI_BPF_H, 'enum BPF_SOCK_OPS_*_CB_FLAG'),
    c('AF_INET', 2, 'include/linux/socket.h'), c('AF_INET6', 10, 'include/linux/socket.h'),
  ];
}

export const ERRNOS: Profile['errnos'] = [
  ['EPERM', 1], ['ENOENT', 2], ['ESRCH', 3], ['EINTR', 4], ['EIO', 5], ['E2BIG', 7], ['EBADF', 9], ['EAGAIN', 11], ['ENOMEM', 12], ['EACCES', 13],
  ['EFAULT', 14], ['EBUSY', 16], ['EEXIST', 17], ['ENODEV', 19], ['EINVAL', 22], ['ENOSPC', 28], ['ERANGE', 34], ['ENOMSG', 42], ['ENOTSOCK', 88],
  ['ENOPROTOOPT', 92], ['EPROTONOSUPPORT', 93], ['EOPNOTSUPP', 95], ['EAFNOSUPPORT', 97], ['ENOTCONN', 107], ['EUCLEAN', 117], ['ENOTSUPP', 524],
].map(([name, value]) => ({ name: name as string, value: value as number }));

export const linux715: Profile = {
  name: 'linux-7.1.5',
  description: 'Linux 7.1.5 as mirrored: sock_ops ops 0-20, BPF_SOCK_OPS_ALL_CB_FLAGS 0x7F, no RCVQ_CB, no bpf_skb_load_bytes for sock_ops.',
  ops,
  cbFlags,
  allCbFlags: 0x7f,
  ctxSize: 224,
  ctxFields,
  helpers: baselineHelpers(BASELINE_OPS),
  kfuncs: baselineKfuncs(BASELINE_OPS),
  constants: baselineConstants(0x7f),
  errnos: ERRNOS,
};
