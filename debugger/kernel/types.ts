// The seam between the TCP receive model (./tcp/) and the BPF side of the simulated kernel
// (./bpf/): the TCP model decides *when* a program runs and with which socket/skb; the BPF side
// builds the context, runs the VM and implements helpers/kfuncs by calling back into the socket.
// Sequence numbers are u32 (mod 2^32), as in the kernel.
import type { SockoptFields, SynHeaders } from './tcp/sockopt';

/** One sk_buff on a queue: payload only (the TCP header is already pulled, as in tcp_queue_rcv). */
export interface Skb {
  seq: number; // TCP_SKB_CB(skb)->seq: sequence number of payload[0]
  endSeq: number; // TCP_SKB_CB(skb)->end_seq = seq + len (+1 for FIN)
  tcpFlags: number; // TCP_SKB_CB(skb)->tcp_flags (TCPHDR_FIN = 0x01, PSH = 0x08, ACK = 0x10)
  payload: Uint8Array;
  /** Stable id for traces and the debugger ("skb#3"). */
  id: number;
  /** The TCP header (with options) in front of `payload` when skb->data still points at it:
   *  the ACK at PASSIVE_ESTABLISHED_CB and PARSE_HDR_OPT_CB (bpf_skops_established,
   *  bpf_skops_parse_hdr), the segment being sent at WRITE_HDR_OPT_CB (bpf_skops_write_hdr_opt).
   *  skb->len = header + payload. Absent: the header is already pulled (RCVQ_CB, tcp_queue_rcv). */
  header?: Uint8Array;
  /** bpf_skops_init_skb()'s end_offset: skb_data_end = skb->data + dataEnd (0 when absent). */
  dataEnd?: number;
}

/** The socket as helpers and kfuncs see it. Implemented by the TCP model (./tcp/). */
export interface SockModel {
  readonly id: number; // socket number within the simulation
  readonly family: 'inet' | 'inet6';
  readonly cookie: bigint; // bpf_get_socket_cookie
  state: number; // BPF_TCP_* (ESTABLISHED = 1)
  // struct tcp_sock / struct sock fields the model keeps (names as in the kernel)
  rcv_nxt: number;
  copied_seq: number;
  rcv_wup: number;
  rcv_wnd: number;
  rcv_mss: number; // icsk_ack.rcv_mss
  snd_nxt: number;
  snd_una: number;
  mss_cache: number;
  snd_cwnd: number;
  srtt_us: number;
  bytes_received: bigint;
  bytes_acked: bigint;
  /** Send-side counters (struct tcp_sock; absent: read as 0). */
  segs_out?: number;
  data_segs_out?: number;
  snd_ssthresh?: number;
  packets_out?: number;
  /** tcp_sock.rtt_min's current minimum (the minmax sample value bpf_sock_ops.rtt_min reads,
   *  ungated); ~0U before any RTT sample (tcp_init_sock: minmax_reset(..., ~0U)). Absent: 0. */
  rtt_min?: number;
  segs_in: number;
  data_segs_in: number;
  sk_rcvlowat: number;
  sk_rcvbuf: number;
  sk_rmem_alloc: number;
  rcvbuf_locked: boolean; // SOCK_RCVBUF_LOCK in sk_userlocks
  sk_txhash: number;
  bpf_sock_ops_cb_flags: number; // u8
  local_ip4: number; remote_ip4: number; // host order here; the ctx view converts
  local_ip6: Uint8Array; remote_ip6: Uint8Array; // 16 bytes each, network order
  local_port: number; remote_port: number; // host order
  tcp_nodelay: boolean;
  /** tp->window_clamp and tp->scaling_ratio (tcp_win_from_space). */
  window_clamp: number;
  scaling_ratio: number;
  /** The fields only socket options touch (./tcp/sockopt.ts, shared by setsockopt(2) and bpf_setsockopt). */
  readonly sockopt: SockoptFields;
  in_sockmap: boolean; // socket is in a SOCKMAP/SOCKHASH
  is_mptcp_subflow: boolean;
  readonly receiveQueue: Skb[];
  readonly ofoQueue: Skb[];
  wakeups: number; // sk_data_ready() calls that tcp_data_ready() made
  done: boolean; // SOCK_DONE (FIN received)

  /** tcp_set_rcvlowat() rules (cap, 0 -> 1, rcvbuf growth); `wakeup` runs the tcp_data_ready()
   *  check afterwards. Returns 0. */
  setRcvlowat(val: number, opts: { wakeup: boolean }): number;
  /** Set bpf_sock_ops_cb_flags with the RCVQ_CB rules (-EUCLEAN when the receive queue is not
   *  empty, -EBUSY in a sockmap, -EOPNOTSUPP for MPTCP). Returns 0 or a negative errno. */
  setCbFlags(val: number): number;
  /** tcp_epollin_ready(sk, sock_rcvlowat(sk, 0, INT_MAX)) plus RCV_SHUTDOWN: what epoll reports. */
  epollIn(): boolean;
  /** rcv_nxt - copied_seq. */
  readable(): number;
}

/** One program run, for traces and the debugger. */
export interface HelperCallTrace {
  pc: number;
  name: string; // 'bpf_skb_load_bytes' or kfunc name
  args: bigint[];
  ret: bigint;
  errno?: string; // 'EOPNOTSUPP' when ret is a negative errno
}

export interface ProgramRunTrace {
  program: string; // function name
  op?: number; // sock_ops op
  r0: bigint;
  insns: number;
  /** Every helper/kfunc call, in order; at trace level 'brief' (BpfKernel.traceLevel) only the
   *  calls whose r0 is negative as a signed 64-bit value (errnos). */
  helpers: HelperCallTrace[];
  /** Trace level 'brief' only: one number per helper/kfunc call, in order, pc * 256 + (r0 & 0xff)
   *  (its length is the number of calls). Absent at level 'full'. */
  calls?: number[];
  printk: string[];
  fault?: { pc: number; message: string; line?: string /* file:line */ };
  /** A load through a kernel (BTF) pointer that the kernel runs as a probe read failed and
   *  read 0, as bpf_probe_read_kernel's exception table makes it: the first one of the run. */
  probeRead?: ProbeReadFact;
}

/** A failed probe read (BPF_PROBE_MEM) of a run: what happened, for the presentation layer. */
export interface ProbeReadFact {
  pc: number;
  line?: string; // file:line
  addr: bigint;
  size: number;
  /** 'outside': the address is in no kernel object the simulation maps. */
  why: 'outside';
  /** Failed probe reads of the run (this one and the ones after it). */
  count: number;
}

export interface SockOpsInvocation {
  op: number;
  args: [number, number, number, number];
  /** bpf_sock_ops_kern.skb: the arriving skb on the enqueue path, null on recvmsg. */
  skb: Skb | null;
  /** What the debugger shows as the synthetic frame: 'RCVQ_CB enqueue seq 8..108 (100 bytes)'. */
  label: string;
  /** false when the op runs on a request sock (tcp_call_bpf: is_fullsock = sk_fullsock(sk)).
   *  Read only at ops whose table row says is_fullsock 'varies'; default true. */
  fullsock?: boolean;
  /** bpf_sock_ops_kern.remaining_opt_len at HDR_OPT_LEN_CB / WRITE_HDR_OPT_CB (default 40 at
   *  HDR_OPT_LEN_CB, 0 elsewhere); what is left after the run comes back in the result. */
  remainingOptLen?: number;
  /** bpf_sock_ops_kern.syn_skb (the peer's SYN: MAC, IP and TCP headers) at the SYN-ACK
   *  header-option ops: what bpf_getsockopt(TCP_BPF_SYN*) and bpf_load_hdr_opt(...,
   *  BPF_LOAD_HDR_OPT_TCP_SYN) read (bpf_sock_ops_get_syn); elsewhere they read the saved SYN. */
  syn?: SynHeaders;
}

export interface SetsockoptInvocation {
  level: number;
  optname: number;
  optval: Uint8Array;
  label: string;
}

export interface SetsockoptResult {
  /** 'kernel': the kernel handles the (possibly rewritten) option; 'consumed': optlen was set
   *  to -1 (or bpf_set_retval() left a positive value), the kernel skips it and setsockopt
   *  returns 0; 'eperm': the cgroup hook refused the call, setsockopt returns `errno`. */
  action: 'kernel' | 'consumed' | 'eperm';
  /** With 'eperm': the negative errno setsockopt(2) returns (kernel/bpf/cgroup.c
   *  bpf_prog_run_array_cg, __cgroup_bpf_run_filter_setsockopt): the error the program set with
   *  bpf_set_retval(), else -EPERM when it returned 0; -EFAULT for an optlen out of bounds.
   *  Absent: -EPERM. */
  errno?: number;
  level: number;
  optname: number;
  optval: Uint8Array;
  trace: ProgramRunTrace | null;
}

/** The application's getsockopt(2) after the kernel's own handler ran (net/socket.c
 *  do_sock_getsockopt -> BPF_CGROUP_RUN_PROG_GETSOCKOPT). */
export interface GetsockoptInvocation {
  level: number;
  optname: number;
  /** The optlen the application passed (max_optlen). */
  maxOptlen: number;
  /** The kernel handler's return value (0 or a negative errno). */
  retval: number;
  /** With retval 0: the bytes the kernel wrote (their length is the optlen it reported). */
  optval: Uint8Array;
  label: string;
}

/** What getsockopt(2) returns after the cgroup/getsockopt program (kernel/bpf/cgroup.c
 *  __cgroup_bpf_run_filter_getsockopt). */
export interface GetsockoptHookResult {
  /** The syscall's return value: the program's retval (-EPERM when it returned 0 and left no
   *  errno), or -EFAULT for an optlen out of bounds. */
  ret: number;
  /** The bytes copied back to the application and the optlen it sees; null: the program left
   *  optlen 0 or the call failed, so the kernel's optval/optlen stay as they were. */
  optval: Uint8Array | null;
  trace: ProgramRunTrace | null;
}

export interface SockOpsResult {
  ret: number;
  trace: ProgramRunTrace;
  /** bpf_sock_ops_kern.remaining_opt_len after the run (header-option ops). */
  remainingOptLen?: number;
  /** WRITE_HDR_OPT_CB: the option bytes bpf_store_hdr_opt() wrote, in order. */
  written?: Uint8Array;
}

/** Implemented by the BPF side; called by the TCP model at the kernel's hook points. */
export interface BpfHooks {
  /** Run the attached sock_ops program(s); null when none is attached. The result is what
   *  tcp_call_bpf() would return (reply if every program returned 1, else -1). */
  sockOps(sock: SockModel, inv: SockOpsInvocation): SockOpsResult | null;
  /** Run the attached cgroup/setsockopt program, if any (null: none attached). */
  setsockopt(sock: SockModel, inv: SetsockoptInvocation): SetsockoptResult | null;
  /** Run the attached cgroup/getsockopt program, if any (null: none attached). */
  getsockopt?(sock: SockModel, inv: GetsockoptInvocation): GetsockoptHookResult | null;
  /** struct_ops profiles (docs/abi.md §5.3): whether the socket's BPF_TCP_OPS_FLAG_RCVQ is on. */
  tcpOpsOn?(sock: SockModel): boolean;
  /** Run struct bpf_tcp_ops member `member` (enqueue_rcvq with the skb, dequeue_rcvq with null);
   *  null when the attached variable does not set it. */
  tcpOps?(sock: SockModel, member: string, skb: Skb | null, label: string): ProgramRunTrace | null;
}
