// Connection open, passive side: net/ipv4/af_inet.c listen, tcp_input.c tcp_conn_request, the
// request sock of net/ipv4/tcp_minisocks.c (tcp_check_req, tcp_create_openreq_child) and
// net/ipv4/tcp_fastopen.c, with the sock_ops ops the kernel runs on that path.
import type { TcpModel } from './model';
import { DEFAULT_ISN, DEFAULT_PEER_ISN, WSCALE } from './model';
import { concat, synOptions, tcpHeader } from './header';
import { TCPHDR_ACK, TCPHDR_CWR, TCPHDR_ECE, TCPHDR_SYN, TCP_MSS_DEFAULT } from './constants';
import { peerSegment, peerSyn } from './peer';
import { rcvqEnqueue, rttSample } from './input';
import { sendSynack } from './output';
import { recordSyn } from './sockopt';

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

const u32 = (x: number) => x >>> 0;

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
export function passiveOpen(m: TcpModel, opts: PassiveOpenOptions = {}): void {
  const peer = m.peer;
  const s = m.sock;
  const seq0 = u32(opts.seq ?? DEFAULT_PEER_ISN + 1);
  const irs = u32(seq0 - 1); // the peer's ISN: the SYN takes one sequence number
  const isn = u32(opts.isn ?? DEFAULT_ISN);
  s.seqDisplayBase = u32(opts.seqDisplayBase ?? 0);
  s.isn = isn;
  s.peerIsn = irs;
  if (opts.rttUs !== undefined) peer.rttUs = Math.max(1, Math.floor(opts.rttUs));
  if (opts.peerOptions) peer.options = opts.peerOptions;
  s.state = m.st('LISTEN');
  // the listening socket has no peer yet: inet_daddr, inet_dport and the v6 daddr are 0
  const addr = { ip4: s.remote_ip4, ip6: s.remote_ip6, port: s.remote_port };
  s.remote_ip4 = 0;
  s.remote_ip6 = new Uint8Array(16);
  s.remote_port = 0;
  m.callOp('BPF_SOCK_OPS_TCP_LISTEN_CB', [], null, 'TCP_LISTEN_CB (listen)');
  s.remote_ip4 = addr.ip4;
  s.remote_ip6 = addr.ip6;
  s.remote_port = addr.port;
  s.state = m.st('NEW_SYN_RECV'); // the request sock
  // the peer's SYN: MSS, SACK_PERM, timestamps, window scale (+ the peer's extra options)
  const ecn = opts.synEcn ?? 'none';
  const synTs = peer.nextTs();
  const synHeader = tcpHeader({
    sport: s.remote_port, dport: s.local_port, seq: irs, ack: 0, window: 65535,
    flags: TCPHDR_SYN | (ecn !== 'none' ? TCPHDR_ECE | TCPHDR_CWR : 0),
    options: concat(synOptions(s.advmss, synTs, 0, WSCALE), peer.options),
  });
  const syn = peerSyn(m, synHeader, ecn === 'ect');
  // net/ipv4/tcp_input.c tcp_ecn_create_request(): an ECN-setup SYN on an ECT packet is not
  // accepted by the sysctl clause, so tcp_bpf_ca_needs_ecn(req) decides: NEEDS_ECN (request sock)
  if (ecn === 'ect') m.callOp('BPF_SOCK_OPS_NEEDS_ECN', [], null, 'NEEDS_ECN (request sock, ECN-setup SYN)', false);
  // request-sock ops: tcp_call_bpf() sets is_fullsock only for sk_fullsock(sk)
  m.callOp('BPF_SOCK_OPS_RWND_INIT', [], null, 'RWND_INIT (request sock, SYN)', false);
  // tcp_reqsk_record_syn(): a listener with TCP_SAVE_SYN keeps the SYN's headers (req->saved_syn,
  // moved to the child by tcp_move_syn; the request sock and the child are one object here)
  s.sockopt.saved_syn = recordSyn(s.sockopt.save_syn, syn);
  const tfo = opts.fastopen && opts.fastopen.length > 0 ? opts.fastopen : null;
  if (!tfo) {
    m.callOp('BPF_SOCK_OPS_TIMEOUT_INIT', [], null, 'TIMEOUT_INIT (request sock)', false);
    sendSynack(m, syn, synTs);
  }
  // the child: tcp_create_openreq_child() -> sk_clone_lock() (newsk->sk_priority = 0; the other
  // socket options are inherited from the listener)
  s.state = m.st('SYN_RECV');
  s.sockopt.sk_priority = 0;
  s.sockopt.sk_socket = false; // no struct socket until accept() grafts one (sock_graft)
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
    m.callOp('BPF_SOCK_OPS_TIMEOUT_INIT', [], null, 'TIMEOUT_INIT (fastopen child)');
    const synSkb = m.makeSkb(irs, new Uint8Array(0), TCPHDR_SYN);
    synSkb.header = synHeader;
    synSkb.dataEnd = synHeader.length;
    m.callOp('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB', [], synSkb, 'PASSIVE_ESTABLISHED_CB (fastopen SYN)');
    fastopenAddSkb(m, seq0, tfo);
    if (s.wakeups === 0) s.log({ kind: 'fastopen-no-wakeup' });
    // tcp_conn_request(): send_synack(fastopen_sk, ..., req): the SYN-ACK after the child exists
    sendSynack(m, syn, synTs);
    // final ACK of the handshake: tcp_rcv_state_process() SYN_RECV with req (fastopen):
    // tcp_synack_rtt_meas() takes the first RTT sample here too
    rttSample(m, peer.rttUs);
    m.setState('ESTABLISHED');
    s.sockopt.sk_socket = true; // the application's accept() (assumed right after the open)
    return;
  }
  // the final ACK of the handshake (acks our SYN-ACK), processed by the child:
  // tcp_rcv_state_process() TCP_SYN_RECV: tcp_validate_incoming (no PARSE_HDR_OPT_CB in
  // SYN_RECV: bpf_skops_parse_hdr), tcp_ack(), then !srtt_us -> tcp_synack_rtt_meas() -> the
  // first RTT sample (tcp_ack_update_rtt -> tcp_rtt_estimator -> tcp_bpf_rtt: RTT_CB), then
  // tcp_init_transfer() -> bpf_skops_established(skb = this ACK, header still on it)
  const ack = peerSegment(m, s.rcv_nxt, new Uint8Array(0), TCPHDR_ACK);
  rttSample(m, peer.rttUs);
  m.callOp('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB', [], ack, 'PASSIVE_ESTABLISHED_CB');
  s.copied_seq = s.rcv_nxt;
  m.setState('ESTABLISHED');
  // the application's accept() (assumed right after the open: scenario steps are its calls)
  s.sockopt.sk_socket = true;
}

/** net/ipv4/tcp_fastopen.c tcp_fastopen_add_skb(): the SYN's data queued without coalescing,
 *  rcv_nxt = end_seq, bytes_received = len, then the RCVQ_CB hook (seed), tcp_fin on FIN. */
export function fastopenAddSkb(m: TcpModel, seq: number, data: Uint8Array): void {
  const s = m.sock;
  const skb = m.makeSkb(seq, data, TCPHDR_ACK);
  s.sk_rmem_alloc += skb.truesize; // sk_forced_mem_schedule + skb_set_owner_r
  s.rcv_nxt = skb.endSeq;
  s.receiveQueue.push(skb);
  s.bytes_received = BigInt(data.length);
  s.data_segs_in = 1;
  rcvqEnqueue(m, skb, 'fastopen');
}
