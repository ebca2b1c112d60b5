// The TCP receive path of one passively opened socket, step by step as the kernel runs it, with
// the sock_ops hook points (BpfHooks) where the kernel calls the BPF program. Every method names
// the kernel function it mirrors (Linux 7.1.5, net/ipv4/tcp_input.c unless noted). The AutoLOWAT
// hook points follow the seed series (design.md §4.5):
//   - enqueue: tcp_queue_rcv(), tcp_ofo_queue() (one call per skb moved), tcp_fastopen_add_skb();
//     after the skb is on the receive queue and rcv_nxt advanced; the program sees the arriving
//     skb (its own seq/end_seq and bytes), never a coalesced tail; tcp_data_ready() follows;
//   - recvmsg: __tcp_cleanup_rbuf() after copied_seq advanced, skb NULL, once per recv() that
//     copied data (the copied > 0 gate is our assumption).
import type { BpfHooks, ProgramRunTrace, Skb, SockOpsInvocation, SockOpsResult } from '../types';
import { BPF_WRITE_HDR_TCP_CURRENT_MSS, MAX_TCP_OPTION_SPACE, concat, sawUnknown, synOptions, tcpHeader, tsOptions } from './header';
import type { TcpAbi } from './abi';
import { MAX_SKB_FRAGS, SYSCTL_RMEM_MAX, SOCK_MIN_RCVBUF, INT_MAX, TCPHDR_ACK, TCPHDR_FIN, TCPHDR_PSH, TCPHDR_SYN, TCP_MSS_DEFAULT } from './constants';
import { after, appendPayload, before, type QueuedSkb, type TcpLogEntry, TcpSock, type TcpSockOptions } from './sock';

/** One thing that happened inside the kernel model, in order. */
export type ModelEvent =
  | TcpLogEntry
  | { kind: 'prog'; op: number; opName: string; label: string; ret: number; trace: ProgramRunTrace }
  | { kind: 'setsockopt-prog'; action: 'kernel' | 'consumed' | 'eperm'; level: number; optname: number; trace: ProgramRunTrace | null; errno?: number };

export interface PassiveOpenOptions {
  /** Sequence number of the first stream byte (rcv_nxt after the handshake): the peer's ISN + 1.
   *  Default DEFAULT_PEER_ISN + 1 (0). */
  seq?: number;
  /** Our ISN (tcp_request_sock.snt_isn). Default DEFAULT_ISN. */
  isn?: number;
  /** Round-trip time of every RTT sample, µs (loopback: tens of µs). Default 50 (assumed). */
  rttUs?: number;
  /** How the peer's SYN asks for ECN: 'none' (default), 'ecn' (ECE+CWR, not ECT: accepted by
   *  sysctl_tcp_ecn, no op), 'ect' (ECE+CWR on an ECT packet, as a Linux peer whose congestion
   *  control or sock_ops NEEDS_ECN wants ECN sends it: tcp_ecn_create_request runs NEEDS_ECN). */
  synEcn?: 'none' | 'ecn' | 'ect';
  /** Option bytes the peer appends to every segment after its own (e.g. NOPs a BPF program on
   *  the peer reserved): a multiple of 4, at most 8 (the SYN's options already take 20 + ...). */
  peerOptions?: Uint8Array;
  /** Subtracted from sequence numbers in traces (the stream's view). */
  seqDisplayBase?: number;
  /** Bytes of the stream carried by the SYN (TCP Fast Open, tcp_fastopen_add_skb). */
  fastopen?: Uint8Array;
}

export interface RecvResult {
  /** Bytes copied, 0 at EOF, or a negative errno (-EAGAIN: nothing to read, non-blocking). */
  ret: number;
  data: Uint8Array;
  eof: boolean;
}

const u32 = (x: number) => x >>> 0;
/** bpf_sock_ops.args[0..3]: the given values as u32, missing ones 0. */
const args4 = (a: number[]): SockOpsInvocation['args'] => [u32(a[0] ?? 0), u32(a[1] ?? 0), u32(a[2] ?? 0), u32(a[3] ?? 0)];

/** Deterministic default ISNs (the kernel's come from secure_tcp_seq(): random-looking u32s).
 *  The peer's default, 0xffffffff, puts the first stream byte at seq 0, where every scenario
 *  written before ISNs were modeled has it (programs print and compare absolute seqs; a scenario
 *  sets "peerIsn" or "seq" for another value). Ours is an arbitrary non-zero value (assumed). */
export const DEFAULT_PEER_ISN = 0xffffffff;
export const DEFAULT_ISN = 0x327b23c6;
/** Our timestamp clock and the peer's start here (tcp_clock_ts + tsoffset: assumed values). */
const TS_START = 0x01000000;
const PEER_TS_START = 0x00a00000;
/** Our and the peer's window scale (tcp_select_initial_window on a 131072-byte rcvbuf: 7, assumed). */
const WSCALE = 7;
const TCPHDR_RST = 0x04;
const TCPHDR_ECE = 0x40;
const TCPHDR_CWR = 0x80;

export class TcpModel {
  readonly sock: TcpSock;
  private nextSkbId = 1;
  private events: ModelEvent[] = [];
  /** Called for every model event as it happens (the debugger's output channel). */
  onEvent: ((e: ModelEvent) => void) | null = null;

  /** BPF_SOCK_OPS_RCVQ_CB (-1 when the profile has none), its short name, BPF_TCP_ESTABLISHED. */
  private readonly rcvqOp: number;
  private readonly rcvqShort: string;
  private readonly established: number;

  /** Peer-side settings of the connection (passiveOpen). */
  private rttUs = 50;
  private peerOptions: Uint8Array = new Uint8Array(0);
  private tsNow = TS_START;
  private peerTs = PEER_TS_START;
  private peerTsLast = 0;
  /** A delayed ACK is pending (tcp_fin enters pingpong mode: the FIN's ACK waits). */
  private ackPending = false;

  constructor(readonly abi: TcpAbi, opts: TcpSockOptions, readonly hooks: BpfHooks | null) {
    this.sock = new TcpSock(abi, opts);
    this.sock.log = (e) => this.emit(e);
    this.rcvqOp = abi.hasOp('BPF_SOCK_OPS_RCVQ_CB') ? abi.op('BPF_SOCK_OPS_RCVQ_CB') : -1;
    this.rcvqShort = this.rcvqOp >= 0 ? abi.opName(this.rcvqOp) : '';
    this.established = abi.constant('BPF_TCP_ESTABLISHED');
  }

  private emit(e: ModelEvent): void {
    this.events.push(e);
    this.onEvent?.(e);
  }

  /** Events since the last call (the simulation collects them per step). */
  takeEvents(): ModelEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  private st(name: string): number {
    return name === 'ESTABLISHED' ? this.established : this.abi.constant('BPF_TCP_' + name);
  }

  /** The seed's RCVQ_CB with `skb` (enqueue) or NULL (recvmsg), when the flag is on. */
  private rcvq(skb: Skb | null, label: string): void {
    if (!this.hooks) return;
    this.runOp({ op: this.rcvqOp, args: [0, 0, 0, 0], skb, label }, this.rcvqShort);
  }

  /** RCVQ_CB exists in the profile and the socket has its flag on. */
  private rcvqOn(): boolean {
    const bit = this.sock.rcvqFlag();
    return bit !== 0 && (this.sock.bpf_sock_ops_cb_flags & bit) !== 0;
  }

  /** tcp_call_bpf()/bpf_skops_*(): run the sock_ops program at `op`, if one is attached.
   *  `fullsock` false: sk is a request sock (is_fullsock = is_locked_tcp_sock = 0). */
  callOp(opName: string, args: number[] = [], skb: Skb | null = null, label?: string, fullsock = true): number | null {
    const r = this.callOpFull(opName, args, skb, label, fullsock);
    return r ? r.ret : null;
  }

  /** callOp with the whole result (r0, what is left of remaining_opt_len, options written). */
  private callOpFull(opName: string, args: number[], skb: Skb | null, label: string | undefined, fullsock: boolean, extra: Partial<SockOpsInvocation> = {}): SockOpsResult | null {
    if (!this.hooks) return null;
    const op = this.abi.op(opName);
    const short = this.abi.opName(op);
    const inv: SockOpsInvocation = {
      op,
      args: args4(args),
      skb,
      label: label ?? short,
      ...extra,
    };
    if (!fullsock) inv.fullsock = false;
    return this.runOpFull(inv, short);
  }

  /** Run the program; its event is logged before anything the run causes (wakeups, notes). */
  private runOp(inv: SockOpsInvocation, short: string): number | null {
    const r = this.runOpFull(inv, short);
    return r ? r.ret : null;
  }

  private runOpFull(inv: SockOpsInvocation, short: string): SockOpsResult | null {
    const ev = { kind: 'prog' as const, op: inv.op, opName: short, label: inv.label, ret: 0, trace: null as unknown as ProgramRunTrace };
    const at = this.events.length;
    this.events.push(ev);
    const r = this.hooks!.sockOps(this.sock, inv);
    if (!r) {
      this.events.splice(at, 1);
      return null;
    }
    ev.ret = r.ret;
    ev.trace = r.trace;
    this.onEvent?.(ev);
    return r;
  }

  /** A sequence number as traces show it (the stream's view, see TcpSock.seqDisplayBase). */
  private r(seq: number): number {
    return u32(seq - this.sock.seqDisplayBase);
  }

  /** BPF_CGROUP_RUN_PROG_SOCK_OPS_SK() succeeded: the program ran to exit with r0 == 1 (err 0). */
  private static progOk(r: SockOpsResult | null): boolean {
    return !!r && !r.trace.fault && (r.trace.r0 & 0xffffffffn) === 1n;
  }

  /** Our next timestamp value (tcp_skb_timestamp_ts + tsoffset; moves 1 per segment: assumed). */
  private tsval(): number {
    return (this.tsNow = u32(this.tsNow + 1));
  }

  /** An explicit op from a scenario: run the program at `op` with `args` in the current state. */
  explicitOp(op: number, args: number[]): number | null {
    if (!this.hooks) return null;
    const short = this.abi.opName(op);
    const inv: SockOpsInvocation = { op, args: args4(args), skb: null, label: `${short} (explicit)` };
    return this.runOp(inv, short);
  }

  /** include/net/tcp.h tcp_set_state() with the STATE_CB hook (net/ipv4/tcp.c tcp_set_state:
   *  BPF_SOCK_OPS_STATE_CB with args old, new when STATE_CB_FLAG is set). */
  setState(name: string): void {
    const oldstate = this.sock.state;
    const state = this.st(name);
    if (this.sock.testFlag('BPF_SOCK_OPS_STATE_CB_FLAG')) this.callOp('BPF_SOCK_OPS_STATE_CB', [oldstate, state], null, `STATE_CB ${this.stateName(oldstate)} -> ${name}`);
    this.sock.state = state;
  }

  stateName(v: number): string {
    for (const n of ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV']) {
      if (this.st(n) === v) return n;
    }
    return String(v);
  }

  /** The passive open, with the ops the kernel runs on that path, in order:
   *  1. listen(): net/ipv4/af_inet.c __inet_listen_sk() -> inet_csk_listen_start() (state LISTEN
   *     via inet_sk_state_store: no STATE_CB) then tcp_call_bpf(TCP_LISTEN_CB).
   *  2. SYN: tcp_conn_request() -> tcp_ecn_create_request() (NEEDS_ECN only for an ECN-setup SYN
   *     that the sysctl did not already accept: not fired here) -> tcp_openreq_init_rwin()
   *     (net/ipv4/tcp_minisocks.c) -> tcp_rwnd_init_bpf(): RWND_INIT on the request sock.
   *     Plain SYN: inet_csk_reqsk_queue_hash_add() -> reqsk_queue_hash_req()
   *     (net/ipv4/inet_connection_sock.c) -> tcp_timeout_init(): TIMEOUT_INIT on the request sock.
   *     The request sock is not a full socket (state NEW_SYN_RECV: sk_fullsock() false).
   *     SYN-ACK header options (HDR_OPT_LEN_CB/WRITE_HDR_OPT_CB) only with WRITE_HDR_OPT_CB_FLAG.
   *  3. ACK: tcp_check_req() creates the child in SYN_RECV (inet_sk_set_state: no STATE_CB) and
   *     inherits the listener's cb flags (memcpy in sk_clone); tcp_rcv_state_process() ->
   *     tcp_init_transfer() -> bpf_skops_established(): PASSIVE_ESTABLISHED_CB, then
   *     copied_seq = rcv_nxt, then tcp_set_state(ESTABLISHED) (STATE_CB if flagged).
   *  TFO (net/ipv4/tcp_fastopen.c tcp_fastopen_create_child): TIMEOUT_INIT on the child,
   *     PASSIVE_ESTABLISHED_CB, then tcp_fastopen_add_skb() queues the SYN data (RCVQ_CB); the
   *     final ACK moves SYN_RECV -> ESTABLISHED. */
  passiveOpen(opts: PassiveOpenOptions = {}): void {
    const s = this.sock;
    const seq0 = u32(opts.seq ?? DEFAULT_PEER_ISN + 1);
    const irs = u32(seq0 - 1); // the peer's ISN: the SYN takes one sequence number
    const isn = u32(opts.isn ?? DEFAULT_ISN);
    s.seqDisplayBase = u32(opts.seqDisplayBase ?? 0);
    s.isn = isn;
    s.peerIsn = irs;
    if (opts.rttUs !== undefined) this.rttUs = Math.max(1, Math.floor(opts.rttUs));
    if (opts.peerOptions) this.peerOptions = opts.peerOptions;
    s.state = this.st('LISTEN');
    // the listening socket has no peer yet: inet_daddr, inet_dport and the v6 daddr are 0
    const peer = { ip4: s.remote_ip4, ip6: s.remote_ip6, port: s.remote_port };
    s.remote_ip4 = 0;
    s.remote_ip6 = new Uint8Array(16);
    s.remote_port = 0;
    this.callOp('BPF_SOCK_OPS_TCP_LISTEN_CB', [], null, 'TCP_LISTEN_CB (listen)');
    s.remote_ip4 = peer.ip4;
    s.remote_ip6 = peer.ip6;
    s.remote_port = peer.port;
    s.state = this.st('NEW_SYN_RECV'); // the request sock
    // the peer's SYN: MSS, SACK_PERM, timestamps, window scale (+ the peer's extra options)
    const ecn = opts.synEcn ?? 'none';
    const synTs = this.nextPeerTs();
    const synHeader = tcpHeader({
      sport: s.remote_port, dport: s.local_port, seq: irs, ack: 0, window: 65535,
      flags: TCPHDR_SYN | (ecn !== 'none' ? TCPHDR_ECE | TCPHDR_CWR : 0),
      options: concat(synOptions(s.advmss, synTs, 0, WSCALE), this.peerOptions),
    });
    // net/ipv4/tcp_input.c tcp_ecn_create_request(): an ECN-setup SYN on an ECT packet is not
    // accepted by the sysctl clause, so tcp_bpf_ca_needs_ecn(req) decides: NEEDS_ECN (request sock)
    if (ecn === 'ect') this.callOp('BPF_SOCK_OPS_NEEDS_ECN', [], null, 'NEEDS_ECN (request sock, ECN-setup SYN)', false);
    // request-sock ops: tcp_call_bpf() sets is_fullsock only for sk_fullsock(sk)
    this.callOp('BPF_SOCK_OPS_RWND_INIT', [], null, 'RWND_INIT (request sock, SYN)', false);
    const tfo = opts.fastopen && opts.fastopen.length > 0 ? opts.fastopen : null;
    if (!tfo) {
      this.callOp('BPF_SOCK_OPS_TIMEOUT_INIT', [], null, 'TIMEOUT_INIT (request sock)', false);
      this.sendSynack(synHeader, synTs);
    }
    // the child: tcp_create_openreq_child()
    s.state = this.st('SYN_RECV');
    s.rcv_nxt = u32(irs + 1);
    s.copied_seq = s.rcv_nxt;
    s.rcv_wup = s.rcv_nxt;
    s.snd_una = u32(isn + 1);
    s.snd_nxt = u32(isn + 1);
    s.write_seq = u32(isn + 1);
    s.segs_in = 1;
    // tcp_initialize_rcv_mss(): min(advmss, mss_cache, rcv_wnd/2, TCP_MSS_DEFAULT)
    s.rcv_mss = Math.max(88, Math.min(s.advmss, s.mss_cache, s.rcv_wnd >> 1, TCP_MSS_DEFAULT));
    if (tfo) {
      this.callOp('BPF_SOCK_OPS_TIMEOUT_INIT', [], null, 'TIMEOUT_INIT (fastopen child)');
      const synSkb = this.makeSkb(irs, new Uint8Array(0), TCPHDR_SYN);
      synSkb.header = synHeader;
      synSkb.dataEnd = synHeader.length;
      this.callOp('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB', [], synSkb, 'PASSIVE_ESTABLISHED_CB (fastopen SYN)');
      this.fastopenAddSkb(seq0, tfo);
      if (s.wakeups === 0) s.log({ kind: 'note', text: 'fastopen data queued before accept(): no tcp_data_ready() (tcp_fastopen_add_skb)' });
      // tcp_conn_request(): send_synack(fastopen_sk, ..., req): the SYN-ACK after the child exists
      this.sendSynack(synHeader, synTs);
      // final ACK of the handshake: tcp_rcv_state_process() SYN_RECV with req (fastopen):
      // tcp_synack_rtt_meas() takes the first RTT sample here too
      this.rttSample(this.rttUs);
      this.setState('ESTABLISHED');
      return;
    }
    // the final ACK of the handshake (acks our SYN-ACK), processed by the child:
    // tcp_rcv_state_process() TCP_SYN_RECV: tcp_validate_incoming (no PARSE_HDR_OPT_CB in
    // SYN_RECV: bpf_skops_parse_hdr), tcp_ack(), then !srtt_us -> tcp_synack_rtt_meas() -> the
    // first RTT sample (tcp_ack_update_rtt -> tcp_rtt_estimator -> tcp_bpf_rtt: RTT_CB), then
    // tcp_init_transfer() -> bpf_skops_established(skb = this ACK, header still on it)
    const ack = this.peerSegment(s.rcv_nxt, new Uint8Array(0), TCPHDR_ACK);
    this.rttSample(this.rttUs);
    this.callOp('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB', [], ack, 'PASSIVE_ESTABLISHED_CB');
    s.copied_seq = s.rcv_nxt;
    this.setState('ESTABLISHED');
  }

  /** The peer's next timestamp value. */
  private nextPeerTs(): number {
    this.peerTsLast = this.peerTs;
    this.peerTs = u32(this.peerTs + 1);
    return this.peerTsLast;
  }

  /** A segment from the peer as an skb with its TCP header (timestamps + the peer's extra
   *  options), skb_data_end at the end of the header (bpf_skops_init_skb(skb, tcp_hdrlen)). */
  private peerSegment(seq: number, payload: Uint8Array, flags: number, lazy = false): QueuedSkb {
    const skb = this.makeSkb(seq, payload, flags);
    const ts = this.nextPeerTs();
    if (!lazy) this.peerHeader(skb, ts);
    else this.lazyTs = ts;
    return skb;
  }

  /** The peer's timestamp of a segment whose header is built only if a hook needs it. */
  private lazyTs = 0;

  private peerHeader(skb: QueuedSkb, ts: number): void {
    const s = this.sock;
    skb.header = tcpHeader({
      sport: s.remote_port, dport: s.local_port, seq: skb.seq, ack: s.snd_nxt, flags: skb.tcpFlags, window: 65535,
      options: concat(tsOptions(ts, this.tsNow), this.peerOptions),
    });
    skb.dataEnd = skb.header.length;
  }

  /** net/ipv4/tcp_output.c tcp_make_synack() + tcp_v4_send_synack()/tcp_v6_send_synack() on the
   *  request sock: tcp_synack_options() (MSS, SACK_PERM + TS, WS: 20 bytes) then, with
   *  WRITE_HDR_OPT_CB_FLAG on the listener, bpf_skops_hdr_opt_len(req, syn_skb) with the 20
   *  bytes left; bpf_skops_write_hdr_opt() only when the program reserved some (the header is
   *  pushed: skb->len = its length, skb_data_end at the BPF space); then, the listener's tos not
   *  being ECN-capable, tcp_bpf_ca_needs_ecn(req): NEEDS_ECN on every SYN-ACK. */
  private sendSynack(synHeader: Uint8Array, peerTs: number): void {
    const s = this.sock;
    const kopts = synOptions(s.advmss, this.tsval(), peerTs, WSCALE);
    const seq = s.isn;
    if (s.testFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')) {
      const skb: Skb = { seq, endSeq: u32(seq + 1), tcpFlags: TCPHDR_SYN | TCPHDR_ACK, payload: new Uint8Array(0), id: this.nextSkbId++ };
      this.hdrOptHooks(skb, kopts, 'SYN-ACK', false, s.peerIsn + 1, 65535, synHeader);
    }
    this.callOp('BPF_SOCK_OPS_NEEDS_ECN', [], null, 'NEEDS_ECN (request sock, SYN-ACK)', false);
  }

  /** net/ipv4/tcp_input.c tcp_ack_update_rtt() -> tcp_update_rtt_min() and tcp_rtt_estimator()
   *  for one sample of `mrtt` µs: the first sets srtt = m << 3 and rtt_seq = snd_nxt and calls
   *  tcp_bpf_rtt; later ones update srtt by 1/8 and call tcp_bpf_rtt only once snd_una passed
   *  rtt_seq. RTT_CB (args mrtt_us, srtt) when RTT_CB_FLAG is set (include/net/tcp.h tcp_bpf_rtt). */
  private rttSample(mrtt: number): void {
    const s = this.sock;
    if (mrtt < s.rtt_min) s.rtt_min = mrtt;
    let srtt = s.srtt_us;
    let call = false;
    if (srtt !== 0) {
      let m = mrtt - (srtt >> 3);
      srtt += m;
      if (m < 0) { m = -m; m -= s.mdev_us >> 2; if (m > 0) m >>= 3; } else m -= s.mdev_us >> 2;
      s.mdev_us += m;
      if (after(s.snd_una, s.rtt_seq)) { s.rtt_seq = s.snd_nxt; call = true; }
    } else {
      srtt = mrtt << 3;
      s.mdev_us = mrtt << 1;
      s.rtt_seq = s.snd_nxt;
      call = true;
    }
    if (call && s.testFlag('BPF_SOCK_OPS_RTT_CB_FLAG')) this.callOp('BPF_SOCK_OPS_RTT_CB', [mrtt, srtt], null, `RTT_CB (sample ${mrtt} us)`);
    s.srtt_us = Math.max(1, srtt);
  }

  /** net/ipv4/tcp_output.c __tcp_transmit_skb() for a segment the (full) socket sends without
   *  payload: tcp_established_options() (timestamps 12 bytes, SACK blocks), and with
   *  WRITE_HDR_OPT_CB_FLAG bpf_skops_hdr_opt_len(sk, skb) on the skb before its header is pushed
   *  (skb->len 0, skb_data_end = skb->data) with 40 - those bytes left, then, if the program
   *  reserved some, bpf_skops_write_hdr_opt() on the pushed header; segs_out++.
   *  `currentMss`: tcp_current_mss() ran first (tcp_send_fin -> __tcp_push_pending_frames):
   *  HDR_OPT_LEN_CB with no skb and args[0] BPF_WRITE_HDR_TCP_CURRENT_MSS. */
  private transmit(flags: number, what: string, currentMss = false): void {
    const s = this.sock;
    const seq = flags & TCPHDR_FIN ? s.write_seq : s.snd_nxt;
    const tsval = this.tsval();
    if (!s.testFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')) { s.segs_out++; return; }
    const kopts = tsOptions(tsval, this.peerTsLast, this.sackBlocks());
    const remaining = MAX_TCP_OPTION_SPACE - kopts.length;
    if (remaining > 0) {
      if (currentMss) this.callOpFull('BPF_SOCK_OPS_HDR_OPT_LEN_CB', [BPF_WRITE_HDR_TCP_CURRENT_MSS], null, 'HDR_OPT_LEN_CB (tcp_current_mss, no skb)', true, { remainingOptLen: remaining });
      const skb: Skb = { seq, endSeq: u32(seq + (flags & TCPHDR_FIN ? 1 : 0)), tcpFlags: flags, payload: new Uint8Array(0), id: this.nextSkbId++ };
      this.hdrOptHooks(skb, kopts, what, true, s.rcv_nxt, Math.min(s.receiveWindow() >> WSCALE, 0xffff));
    }
    s.segs_out++; // after the header-option hooks, as __tcp_transmit_skb counts it
  }

  /** net/ipv4/tcp_output.c bpf_skops_hdr_opt_len() on `skb` with the option space the kernel's
   *  own options `kopts` leave, then, if the program reserved some (rounded up to 4),
   *  bpf_skops_write_hdr_opt() on the header built with that space. Shared by the SYN-ACK (request
   *  sock, is_fullsock 0, the SYN's header for BPF_LOAD_HDR_OPT_TCP_SYN) and our other segments. */
  private hdrOptHooks(skb: Skb, kopts: Uint8Array, what: string, fullsock: boolean, ack: number, window: number, synHeader?: Uint8Array): void {
    const s = this.sock;
    const remaining = MAX_TCP_OPTION_SPACE - kopts.length;
    const extra = synHeader ? { synHeader } : {};
    const r = this.callOpFull('BPF_SOCK_OPS_HDR_OPT_LEN_CB', [0], skb, `HDR_OPT_LEN_CB (${what})`, fullsock, { remainingOptLen: remaining, ...extra });
    if (!TcpModel.progOk(r) || r!.remainingOptLen === undefined || r!.remainingOptLen >= remaining) return;
    const bpfLen = (remaining - r!.remainingOptLen + 3) & ~3;
    const header = tcpHeader({ sport: s.local_port, dport: s.remote_port, seq: skb.seq, ack, flags: skb.tcpFlags, window, options: concat(kopts, new Uint8Array(bpfLen)) });
    const wskb: Skb = { ...skb, id: this.nextSkbId++, header, dataEnd: header.length - bpfLen };
    const w = this.callOpFull('BPF_SOCK_OPS_WRITE_HDR_OPT_CB', [0], wskb, `WRITE_HDR_OPT_CB (${what})`, fullsock, { remainingOptLen: bpfLen, ...extra });
    const written = TcpModel.progOk(w) ? w!.written : undefined;
    if (written?.length) s.log({ kind: 'note', text: `${what} carries the program's header options ${hex(written)}` });
  }

  /** SACK blocks our ACKs carry: the out-of-order queue's ranges, at most 3 with timestamps
   *  (tcp_established_options: (40 - 12 - 4) / 8). */
  private sackBlocks(): [number, number][] {
    const out: [number, number][] = [];
    for (const skb of this.sock.ofoQueue) {
      const last = out[out.length - 1];
      if (last && !after(skb.seq, last[1])) { if (after(skb.endSeq, last[1])) last[1] = skb.endSeq; } // touching or overlapping
      else out.push([skb.seq, skb.endSeq]);
    }
    return out.slice(0, 3);
  }

  /** Received-segment hooks before the segment's data is handled: net/ipv4/tcp_input.c
   *  tcp_validate_incoming() -> bpf_skops_parse_hdr(): PARSE_HDR_OPT_CB with the skb (header
   *  on it) when PARSE_ALL_HDR_OPT_CB_FLAG is set, or PARSE_UNKNOWN_HDR_OPT_CB_FLAG and the
   *  segment has an option unknown to tcp_parse_options; never in SYN_RECV/SYN_SENT/LISTEN.
   *  In ESTABLISHED, tcp_rcv_established()'s header prediction (pred_flags: ACK only, PSH
   *  ignored, our expected header length 32; in-order; fast path on: no out-of-order data,
   *  window open, rmem below rcvbuf: tcp_fast_path_check) skips tcp_validate_incoming. */
  private parseHdr(skb: QueuedSkb): void {
    const s = this.sock;
    const flags = s.bpf_sock_ops_cb_flags;
    if (!flags) return;
    // the peer's options: timestamps (known) + peerOptions
    const unknown = this.peerOptions.length > 0 && sawUnknown(this.peerOptions);
    if (!s.testFlag('BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG') && !(unknown && s.testFlag('BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG'))) return;
    if (s.state === this.st('SYN_RECV') || s.state === this.st('SYN_SENT') || s.state === this.st('LISTEN')) return;
    if (s.state === this.established) {
      const fastPathOn = s.ofoQueue.length === 0 && s.rcv_wnd > 0 && s.sk_rmem_alloc < s.sk_rcvbuf;
      const predicted = (skb.tcpFlags & ~TCPHDR_PSH) === TCPHDR_ACK && this.peerOptions.length === 0; // doff 8: 20 + timestamps
      if (fastPathOn && predicted && skb.seq === s.rcv_nxt) return;
    }
    if (!skb.header) this.peerHeader(skb, this.lazyTs);
    const len = skb.payload.length;
    this.callOp('BPF_SOCK_OPS_PARSE_HDR_OPT_CB', [], skb, `PARSE_HDR_OPT_CB (seq ${this.r(skb.seq)}..${this.r(skb.endSeq)}, ${nBytes(len)}${skb.tcpFlags & TCPHDR_FIN ? ' + FIN' : ''})`);
  }

  /** The application's close(): net/ipv4/tcp.c __tcp_close(): unread data -> tcp_set_state(CLOSE)
   *  and a RST (tcp_send_active_reset); else tcp_close_state() (ESTABLISHED -> FIN_WAIT1,
   *  CLOSE_WAIT -> LAST_ACK, STATE_CB) and tcp_send_fin() (tcp_current_mss, then the FIN, which
   *  carries the pending ACK). The loopback peer ACKs the FIN at once: tcp_rcv_state_process()
   *  -> PARSE_HDR_OPT_CB, tcp_ack() (bytes_acked, the RTT sample: RTT_CB), then LAST_ACK ->
   *  tcp_done() (CLOSE) or FIN_WAIT1 -> FIN_WAIT2 (STATE_CB). */
  close(): string {
    const s = this.sock;
    const st = s.state;
    if (s.closed) return 'already closed';
    s.closed = true;
    s.rcvShutdown = true;
    if (st === this.st('LISTEN') || st === this.st('CLOSE')) { this.setState('CLOSE'); return 'closed'; }
    const unread = u32(s.rcv_nxt - s.copied_seq) - (s.done && s.receiveQueue.some((k) => k.tcpFlags & TCPHDR_FIN) ? 1 : 0);
    if (unread > 0) {
      this.setState('CLOSE');
      this.transmit(TCPHDR_ACK | TCPHDR_RST, 'RST');
      return `${unread} unread bytes: the connection is reset (tcp_send_active_reset), state CLOSE`;
    }
    const next = st === this.established ? 'FIN_WAIT1' : st === this.st('CLOSE_WAIT') ? 'LAST_ACK' : null;
    if (!next) { this.setState('CLOSE'); return `closed from state ${this.stateName(st)}`; }
    this.setState(next);
    this.transmit(TCPHDR_ACK | TCPHDR_FIN, 'FIN', true);
    this.ackPending = false;
    s.write_seq = u32(s.write_seq + 1);
    s.snd_nxt = s.write_seq;
    s.packets_out++;
    const parts = [`FIN sent (state ${next})`];
    // the peer's ACK of our FIN
    const ack = this.peerSegment(s.rcv_nxt, new Uint8Array(0), TCPHDR_ACK);
    s.segs_in++;
    this.parseHdr(ack);
    const acked = u32(s.snd_nxt - s.snd_una);
    s.bytes_acked += BigInt(acked);
    s.snd_una = s.snd_nxt;
    s.packets_out = 0;
    this.rttSample(this.rttUs);
    if (next === 'LAST_ACK') { this.setState('CLOSE'); parts.push('the peer ACKed it: CLOSE (tcp_done)'); }
    else { this.setState('FIN_WAIT2'); parts.push('the peer ACKed it: FIN_WAIT2'); }
    return parts.join('; ');
  }

  private makeSkb(seq: number, payload: Uint8Array, flags: number): QueuedSkb {
    const fin = flags & TCPHDR_FIN ? 1 : 0;
    return { seq: u32(seq), endSeq: u32(seq + payload.length + fin), tcpFlags: flags, payload, id: this.nextSkbId++, truesize: this.sock.truesizeOf(payload.length), frags: 1 };
  }

  /** net/ipv4/tcp_fastopen.c tcp_fastopen_add_skb(): the SYN's data queued without coalescing,
   *  rcv_nxt = end_seq, bytes_received = len, then the RCVQ_CB hook (seed), tcp_fin on FIN. */
  private fastopenAddSkb(seq: number, data: Uint8Array): void {
    const s = this.sock;
    const skb = this.makeSkb(seq, data, TCPHDR_ACK);
    s.sk_rmem_alloc += skb.truesize; // sk_forced_mem_schedule + skb_set_owner_r
    s.rcv_nxt = skb.endSeq;
    s.receiveQueue.push(skb);
    s.bytes_received = BigInt(data.length);
    s.data_segs_in = 1;
    this.rcvqEnqueue(skb, 'fastopen');
  }

  /** The seed's enqueue hook (tcp_bpf_rcvlowat): RCVQ_CB with the arriving skb, if the flag is on. */
  private rcvqEnqueue(skb: QueuedSkb, path: string): void {
    if (!this.rcvqOn()) return;
    const view: Skb = { seq: skb.seq, endSeq: skb.endSeq, tcpFlags: skb.tcpFlags, payload: skb.payload, id: skb.id };
    const fin = skb.tcpFlags & TCPHDR_FIN ? ' FIN' : '';
    this.rcvq(view, `${this.rcvqShort} enqueue${path ? ' (' + path + ')' : ''} seq ${this.r(skb.seq)}..${this.r(skb.endSeq)} (${nBytes(skb.payload.length)}${fin})`);
  }

  /** tcp_rcv_nxt_update(): bytes_received += delta, rcv_nxt = seq. */
  private rcvNxtUpdate(seq: number): void {
    const s = this.sock;
    const delta = u32(seq - s.rcv_nxt);
    s.bytes_received += BigInt(delta);
    s.rcv_nxt = u32(seq);
  }

  /** tcp_try_coalesce(): merge `from` into the queue tail when it starts at tail's end_seq and
   *  skb_try_coalesce() has room (frags bounded by MAX_SKB_FRAGS, assumed one per segment). */
  private tryCoalesce(to: QueuedSkb | undefined, from: QueuedSkb): boolean {
    if (!to || from.seq !== to.endSeq) return false;
    if (to.frags + from.frags > MAX_SKB_FRAGS) return false;
    appendPayload(to, from.payload);
    // skb_try_coalesce(): delta = from->truesize - SKB_DATA_ALIGN(sizeof(struct sk_buff)) (256, assumed build)
    const delta = Math.max(0, from.truesize - 256);
    to.truesize += delta;
    this.sock.sk_rmem_alloc += delta;
    to.frags += from.frags;
    to.endSeq = from.endSeq;
    to.tcpFlags |= from.tcpFlags;
    return true;
  }

  /** tcp_queue_rcv(): coalesce into the tail or append (skb_set_owner_r), rcv_nxt = end_seq;
   *  then the seed's RCVQ_CB hook on the arriving skb. */
  private queueRcv(skb: QueuedSkb): void {
    const s = this.sock;
    const tail = s.receiveQueue[s.receiveQueue.length - 1];
    const eaten = this.tryCoalesce(tail, skb);
    this.rcvNxtUpdate(skb.endSeq);
    if (!eaten) {
      s.receiveQueue.push(skb);
      s.sk_rmem_alloc += skb.truesize;
    }
    this.rcvqEnqueue(skb, '');
  }

  /** tcp_measure_rcv_mss() (from tcp_event_data_recv): a segment at least rcv_mss long raises
   *  rcv_mss to min(len, advmss). */
  private measureRcvMss(len: number): void {
    const s = this.sock;
    if (len >= s.rcv_mss) s.rcv_mss = Math.min(len, s.advmss);
  }

  /** tcp_try_rmem_schedule(): the model accepts while sk_rmem_alloc <= sk_rcvbuf (no
   *  tcp_prune_queue()/collapse, no protocol memory accounting: simplified). */
  private rmemScheduleFails(): boolean {
    return this.sock.sk_rmem_alloc > this.sock.sk_rcvbuf;
  }

  /** A data segment from the peer: tcp_rcv_established() -> tcp_data_queue(). `seq` is the
   *  sequence number of payload[0]. Returns what happened, for the step line. */
  segment(seq: number, payload: Uint8Array, opts: { fin?: boolean; psh?: boolean } = {}): string {
    const s = this.sock;
    const flags = TCPHDR_ACK | (opts.fin ? TCPHDR_FIN : 0) | (opts.psh ?? true ? TCPHDR_PSH : 0);
    const skb = this.peerSegment(seq, payload, flags, true);
    const est = this.st('ESTABLISHED');
    if (s.state !== this.st('CLOSE')) this.parseHdr(skb);
    if (s.state === this.st('FIN_WAIT2') && payload.length === 0 && opts.fin && seq === s.rcv_nxt) {
      // tcp_fin() in FIN_WAIT2: ACK it, tcp_time_wait() -> tcp_done(): CLOSE (STATE_CB)
      s.segs_in++;
      this.rcvNxtUpdate(u32(seq + 1));
      s.done = true;
      this.transmit(TCPHDR_ACK, 'ACK of the FIN');
      this.setState('CLOSE');
      return `FIN seq ${this.r(seq)} in FIN_WAIT2: ACKed, TIME_WAIT (the socket is CLOSE)`;
    }
    if (s.state !== est) {
      // tcp_rcv_state_process(): in CLOSE_WAIT/CLOSING/LAST_ACK data beyond the FIN is ignored
      return this.drop(skb, `socket in state ${this.stateName(s.state)}: the peer already sent FIN, data after it is ignored (tcp_rcv_state_process)`);
    }
    s.segs_in++;
    if (payload.length > 0) s.data_segs_in++;
    return this.dataQueue(skb);
  }

  /** tcp_data_queue(). */
  private dataQueue(skb: QueuedSkb): string {
    const s = this.sock;
    if (skb.seq === skb.endSeq) {
      return 'empty segment (pure ACK): nothing queued';
    }
    const len = skb.payload.length;
    const fin = (skb.tcpFlags & TCPHDR_FIN) !== 0;
    const desc = `seq ${this.r(skb.seq)}..${this.r(skb.endSeq)} (${nBytes(len)}${fin ? ' + FIN' : ''})`;
    if (skb.seq === s.rcv_nxt) {
      if (s.receiveWindow() === 0 && !(len === 0 && fin)) {
        return this.drop(skb, 'zero receive window (SKB_DROP_REASON_TCP_ZEROWINDOW)');
      }
      return this.queueAndOut(skb, desc, 'in order');
    }
    if (!after(skb.endSeq, s.rcv_nxt)) {
      return this.drop(skb, `old data, all below rcv_nxt ${this.r(s.rcv_nxt)} (retransmit, D-SACK)`);
    }
    if (!before(skb.seq, u32(s.rcv_nxt + s.receiveWindow()))) {
      return this.drop(skb, `beyond the receive window (rcv_nxt ${this.r(s.rcv_nxt)} + window ${s.receiveWindow()})`);
    }
    if (before(skb.seq, s.rcv_nxt)) {
      // partial packet, seq < rcv_nxt < end_seq: queued as is (overlap kept, readers use offsets)
      if (s.receiveWindow() === 0) return this.drop(skb, 'zero receive window');
      return this.queueAndOut(skb, desc, `overlapping rcv_nxt ${this.r(s.rcv_nxt)}`);
    }
    return this.dataQueueOfo(skb, desc);
  }

  private drop(skb: QueuedSkb, why: string): string {
    this.emit({ kind: 'drop', seq: this.r(skb.seq), endSeq: this.r(skb.endSeq), why });
    return `dropped seq ${this.r(skb.seq)}..${this.r(skb.endSeq)}: ${why}`;
  }

  /** tcp_data_queue() queue_and_out: rmem check, tcp_queue_rcv(), tcp_event_data_recv(),
   *  tcp_fin(), tcp_ofo_queue(), tcp_data_ready(), then our ACK (window update). */
  private queueAndOut(skb: QueuedSkb, desc: string, how: string): string {
    const s = this.sock;
    if (this.rmemScheduleFails()) {
      // ICSK_ACK_NOMEM: the reader is woken unconditionally
      s.wakeups++;
      this.emit({ kind: 'wakeup', where: 'tcp_data_queue (receive buffer full)' });
      if (s.receiveQueue.length > 0 && skb.payload.length > 0) {
        return this.drop(skb, `receive buffer full: sk_rmem_alloc ${s.sk_rmem_alloc} > sk_rcvbuf ${s.sk_rcvbuf} (SKB_DROP_REASON_PROTO_MEM)`);
      }
    }
    this.queueRcv(skb);
    if (skb.payload.length) this.measureRcvMss(skb.payload.length);
    const parts = [`${desc} queued ${how}`];
    if (skb.tcpFlags & TCPHDR_FIN) this.tcpFin();
    if (s.ofoQueue.length > 0) {
      const moved = this.ofoQueue();
      if (moved) parts.push(`${moved} skb(s) moved from the out-of-order queue`);
    }
    s.dataReady('tcp_data_queue'); // unless SOCK_DEAD (never, in the model)
    this.sendAck();
    return parts.join('; ');
  }

  /** tcp_data_queue_ofo(): tcp_measure_rcv_mss(), then insert into the out-of-order queue (sorted
   *  by seq): coalesce into the skb ending where it starts (tcp_ooo_try_coalesce: done, no
   *  merge_right, so skbs the grown one now covers stay until tcp_ofo_queue drops them), drop it
   *  if an skb already covers it, replace an skb it covers from the same seq, then remove the
   *  skbs it covers (merge_right). We never coalesce into an skb carrying FIN (the kernel would;
   *  assumed: a peer sends nothing after its FIN). */
  private dataQueueOfo(skb: QueuedSkb, desc: string): string {
    const s = this.sock;
    if (this.rmemScheduleFails()) {
      s.wakeups++;
      this.emit({ kind: 'wakeup', where: 'tcp_data_queue_ofo (receive buffer full)' });
      return this.drop(skb, `receive buffer full (SKB_DROP_REASON_PROTO_MEM)`);
    }
    this.measureRcvMss(skb.payload.length);
    const q = s.ofoQueue;
    // find the last skb with seq <= skb.seq
    let i = q.length - 1;
    while (i >= 0 && after(q[i]!.seq, skb.seq)) i--;
    const prev = i >= 0 ? q[i]! : undefined;
    let how: string;
    if (prev && before(skb.seq, prev.endSeq)) {
      if (!after(skb.endSeq, prev.endSeq)) {
        return this.drop(skb, `already in the out-of-order queue (skb#${prev.id} covers it)`);
      }
      if (prev.seq === skb.seq) {
        // skb covers prev: replace it
        q.splice(i, 1, skb);
        s.sk_rmem_alloc += skb.truesize - prev.truesize;
        how = `replaces skb#${prev.id}`;
      } else {
        q.splice(i + 1, 0, skb);
        s.sk_rmem_alloc += skb.truesize;
        how = `overlaps skb#${prev.id}`;
      }
    } else if (prev && !(prev.tcpFlags & TCPHDR_FIN) && this.tryCoalesce(prev, skb)) {
      this.sendAck();
      return `${desc} out of order (rcv_nxt ${this.r(s.rcv_nxt)}): coalesced into skb#${prev.id} in the out-of-order queue`;
    } else {
      q.splice(i + 1, 0, skb);
      s.sk_rmem_alloc += skb.truesize;
      how = 'inserted';
    }
    // merge_right: remove skbs fully covered by skb
    const at = q.indexOf(skb);
    while (at + 1 < q.length && !before(skb.endSeq, q[at + 1]!.endSeq)) {
      const gone = q.splice(at + 1, 1)[0]!;
      s.sk_rmem_alloc -= gone.truesize;
    }
    this.sendAck(); // out-of-order data is ACKed at once (duplicate ACK with SACK)
    return `${desc} out of order (rcv_nxt ${this.r(s.rcv_nxt)}): ${how} in the out-of-order queue`;
  }

  /** tcp_ofo_queue(): move skbs that became in order to the receive queue, in sequence order,
   *  one RCVQ_CB per skb moved (seed), stopping after a FIN. Returns how many moved. */
  private ofoQueue(): number {
    const s = this.sock;
    let moved = 0;
    while (s.ofoQueue.length > 0) {
      const skb = s.ofoQueue[0]!;
      if (after(skb.seq, s.rcv_nxt)) break;
      s.ofoQueue.shift();
      if (!after(skb.endSeq, s.rcv_nxt)) {
        s.sk_rmem_alloc -= skb.truesize;
        this.drop(skb, 'out-of-order skb already below rcv_nxt (SKB_DROP_REASON_TCP_OFO_DROP)');
        continue;
      }
      const tail = s.receiveQueue[s.receiveQueue.length - 1];
      // skb's truesize is already charged; tcp_try_coalesce charges the delta again and the
      // skb is freed (kfree_skb_partial): net effect -256
      s.sk_rmem_alloc -= skb.truesize;
      const eaten = this.tryCoalesce(tail, skb);
      this.rcvNxtUpdate(skb.endSeq);
      if (!eaten) {
        s.receiveQueue.push(skb);
        s.sk_rmem_alloc += skb.truesize;
      }
      moved++;
      this.rcvqEnqueue(skb, 'ofo drain');
      if (skb.tcpFlags & TCPHDR_FIN) {
        this.tcpFin();
        break;
      }
    }
    return moved;
  }

  /** tcp_fin(): RCV_SHUTDOWN, SOCK_DONE, ESTABLISHED -> CLOSE_WAIT (STATE_CB if flagged),
   *  purge the out-of-order queue. */
  private tcpFin(): void {
    const s = this.sock;
    // inet_csk_schedule_ack + inet_csk_enter_pingpong_mode: the FIN's ACK is delayed
    if (s.state === this.st('ESTABLISHED')) this.ackPending = true;
    s.rcvShutdown = true;
    s.done = true;
    if (s.state === this.st('ESTABLISHED')) this.setState('CLOSE_WAIT');
    for (const skb of s.ofoQueue) s.sk_rmem_alloc -= skb.truesize;
    s.ofoQueue.length = 0;
  }

  /** Our ACK after receiving data (we ACK every segment: no delayed ACK in the model):
   *  rcv_wup = rcv_nxt and the window tcp_select_window() offers — tcp_space() free space
   *  (tcp_win_from_space(rcvbuf - rmem_alloc)), at most window_clamp, 0 below rcv_mss, never
   *  shrinking what was offered (simplified: no rcv_ssthresh, no window scaling rounding). */
  sendAck(): void {
    const s = this.sock;
    const cur = s.receiveWindow();
    let win = Math.min(s.tcpWinFromSpace(s.sk_rcvbuf - s.sk_rmem_alloc), s.window_clamp);
    if (win < s.rcv_mss) win = 0;
    if (win < cur) win = cur;
    s.rcv_wup = s.rcv_nxt;
    s.rcv_wnd = win;
    if (this.ackPending) return; // tcp_fin: pingpong mode, the ACK is delayed (tcp_send_delayed_ack)
    this.transmit(TCPHDR_ACK, 'ACK');
  }

  /** The application's recv(fd, buf, len, MSG_DONTWAIT): net/ipv4/tcp.c tcp_recvmsg_locked()
   *  copying from the receive queue at copied_seq (offset = copied_seq - seq, so overlapping skbs
   *  work), consuming a FIN (+1), freeing eaten skbs; then tcp_cleanup_rbuf(): the window update
   *  ACK of __tcp_cleanup_rbuf() and the seed's RCVQ_CB with skb NULL. */
  recvmsg(len: number, opts: { peek?: boolean } = {}): RecvResult {
    const s = this.sock;
    if (s.state === this.st('LISTEN') || s.state === this.st('CLOSE')) {
      return { ret: this.abi.errno('ENOTCONN'), data: new Uint8Array(0), eof: false };
    }
    const out: Uint8Array[] = [];
    let copied = 0;
    let seq = s.copied_seq;
    let eof = false;
    let qi = 0;
    while (copied < len && qi < s.receiveQueue.length) {
      const skb = s.receiveQueue[qi]!;
      const offset = u32(seq - skb.seq);
      const fin = (skb.tcpFlags & TCPHDR_FIN) !== 0;
      if (offset < skb.payload.length) {
        const used = Math.min(skb.payload.length - offset, len - copied);
        out.push(skb.payload.subarray(offset, offset + used));
        seq = u32(seq + used);
        copied += used;
        if (used + offset < skb.payload.length) break;
        if (!fin) {
          if (!opts.peek) this.eatSkb(qi);
          else qi++;
          continue;
        }
      }
      if (fin) {
        // found_fin_ok: the FIN takes one sequence number
        seq = u32(seq + 1);
        if (!opts.peek) this.eatSkb(qi);
        eof = true;
        break;
      }
      // offset beyond this skb: nothing more to read here (cannot happen with eaten skbs)
      qi++;
    }
    if (!opts.peek) s.copied_seq = seq;
    let ret = copied;
    if (copied === 0) {
      if (s.done || eof) eof = true;
      else ret = this.abi.errno('EAGAIN');
    }
    if (!opts.peek) this.cleanupRbuf(copied);
    const data = new Uint8Array(copied);
    let o = 0;
    for (const p of out) { data.set(p, o); o += p.length; }
    return { ret, data, eof };
  }

  private eatSkb(i: number): void {
    const s = this.sock;
    const [skb] = s.receiveQueue.splice(i, 1);
    if (skb) s.sk_rmem_alloc -= skb.truesize; // sock_rfree
  }

  /** net/ipv4/tcp.c __tcp_cleanup_rbuf(): send a window update if the read at least doubled the
   *  window we can offer; then the seed's RCVQ_CB recvmsg hook (skb NULL) when data was copied. */
  private cleanupRbuf(copied: number): void {
    const s = this.sock;
    if (copied > 0 && !s.rcvShutdown) {
      const now = s.receiveWindow();
      if (2 * now <= s.window_clamp) {
        let nw = Math.min(s.tcpWinFromSpace(s.sk_rcvbuf - s.sk_rmem_alloc), s.window_clamp);
        if (nw < s.rcv_mss) nw = 0;
        if (nw && nw >= 2 * now) { s.rcv_wup = s.rcv_nxt; s.rcv_wnd = nw; this.transmit(TCPHDR_ACK, 'window update ACK'); }
      }
    }
    if (copied > 0 && this.rcvqOn()) {
      this.rcvq(null, `${this.rcvqShort} recvmsg (copied ${copied}, copied_seq ${this.r(s.copied_seq)})`);
    }
  }

  /** The application's setsockopt(fd, level, optname, &val, len): the cgroup/setsockopt program
   *  first (kernel/bpf/cgroup.c __cgroup_bpf_run_filter_setsockopt: optlen -1 consumes the option,
   *  returning 0 fails it with -EPERM, it may rewrite level/optname/optval), then the kernel:
   *  net/core/sock.c sk_setsockopt for SOL_SOCKET (SO_RCVLOWAT -> tcp_set_rcvlowat with negative
   *  values mapped to INT_MAX; SO_RCVBUF -> __sock_set_rcvbuf), net/ipv4/tcp.c do_tcp_setsockopt
   *  for SOL_TCP (TCP_NODELAY), ip_setsockopt/ipv6_setsockopt otherwise (-ENOPROTOOPT for a
   *  level they do not know). Returns 0 or a negative errno, and a note on what the kernel did. */
  setsockopt(level: number, optname: number, optval: Uint8Array): { ret: number; note: string } {
    const s = this.sock;
    const label = `cgroup/setsockopt level ${fmtOpt(level)} optname ${fmtOpt(optname)}`;
    const r = this.hooks ? this.hooks.setsockopt(s, { level, optname, optval, label }) : null;
    if (r) {
      this.emit({ kind: 'setsockopt-prog', action: r.action, level: r.level, optname: r.optname, trace: r.trace, ...(r.action === 'eperm' ? { errno: r.errno ?? this.abi.errno('EPERM') } : {}) });
      if (r.action === 'eperm') {
        // __cgroup_bpf_run_filter_setsockopt's error reaches the application (do_sock_setsockopt)
        const eperm = this.abi.errno('EPERM');
        const ret = r.errno ?? eperm;
        const why = ret === eperm ? 'the cgroup/setsockopt program returned 0: -EPERM'
          : ret === this.abi.errno('EFAULT') ? 'the cgroup/setsockopt program set optlen out of bounds: -EFAULT'
          : `the cgroup/setsockopt program refused it with the errno it set (bpf_set_retval): ${this.abi.errnoName(ret)}`;
        return { ret, note: why };
      }
      if (r.action === 'consumed') return { ret: 0, note: 'consumed by the cgroup/setsockopt program (optlen = -1)' };
      level = r.level; optname = r.optname; optval = r.optval;
    }
    const C = (n: string) => this.abi.constant(n);
    const intVal = (): number | null => optval.length >= 4 ? new DataView(optval.buffer, optval.byteOffset, optval.byteLength).getInt32(0, true) : null;
    if (level === C('SOL_SOCKET')) {
      if (optname === C('SO_RCVLOWAT')) {
        let v = intVal();
        if (v === null) return { ret: this.abi.errno('EINVAL'), note: 'optlen < sizeof(int)' };
        if (v < 0) v = INT_MAX;
        s.setRcvlowat(v, { wakeup: true });
        return { ret: 0, note: `SO_RCVLOWAT -> tcp_set_rcvlowat: sk_rcvlowat ${s.sk_rcvlowat}` };
      }
      if (optname === C('SO_RCVBUF')) {
        const v = intVal();
        if (v === null) return { ret: this.abi.errno('EINVAL'), note: 'optlen < sizeof(int)' };
        this.setRcvbuf(Math.min(v >>> 0, SYSCTL_RMEM_MAX));
        return { ret: 0, note: `SO_RCVBUF: sk_rcvbuf ${s.sk_rcvbuf} (doubled, locked)` };
      }
      return { ret: 0, note: `SOL_SOCKET option ${optname} is not modelled by the simulator (ignored)` };
    }
    if (level === C('SOL_TCP')) {
      if (optname === C('TCP_NODELAY')) {
        const v = intVal();
        if (v === null) return { ret: this.abi.errno('EINVAL'), note: 'optlen < sizeof(int)' };
        s.tcp_nodelay = v !== 0;
        return { ret: 0, note: `TCP_NODELAY ${v !== 0 ? 1 : 0}` };
      }
      return { ret: 0, note: `SOL_TCP option ${optname} is not modelled by the simulator (ignored)` };
    }
    if (level === C('SOL_IP') || level === C('SOL_IPV6')) {
      return { ret: 0, note: `IP option ${optname} is not modelled by the simulator (ignored)` };
    }
    return { ret: this.abi.errno('ENOPROTOOPT'), note: `level ${fmtOpt(level)} is unknown to TCP (ip_setsockopt/ipv6_setsockopt: -ENOPROTOOPT)` };
  }

  /** net/core/sock.c __sock_set_rcvbuf(): SOCK_RCVBUF_LOCK, sk_rcvbuf = max(2 * val,
   *  SOCK_MIN_RCVBUF); then tcp_set_rcvbuf() -> tcp_set_window_clamp(tcp_win_from_space(rcvbuf)). */
  setRcvbuf(val: number): void {
    const s = this.sock;
    val = Math.min(val, Math.floor(INT_MAX / 2));
    s.rcvbuf_locked = true;
    s.sk_rcvbuf = Math.max(val * 2, SOCK_MIN_RCVBUF);
    s.window_clamp = s.tcpWinFromSpace(s.sk_rcvbuf);
  }
}

function fmtOpt(v: number): string {
  return v > 0xffff || v < 0 ? '0x' + (v >>> 0).toString(16) : String(v);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** '1 byte', '100 bytes': for event labels. */
function nBytes(n: number): string {
  return `${n} byte${n === 1 ? '' : 's'}`;
}
