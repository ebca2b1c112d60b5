// One TCP socket of the simulated kernel: the struct sock / tcp_sock fields the receive path
// uses, and the per-socket rules helpers and kfuncs reach through SockModel. Each rule names the
// kernel function it mirrors (Linux 7.1.5; the AutoLOWAT parts follow the seed series and
// design.md §4, marked "seed" or "assumed").
import type { Skb, SockModel } from '../types';
import type { TcpAbi } from './abi';
import {
  INITIAL_RCV_WND, INT_MAX, SKB_TRUESIZE_OVERHEAD, TCP_DEFAULT_SCALING_RATIO, TCP_MSS_DEFAULT,
  TCP_RMEM_DEFAULT, TCP_RMEM_MAX_DEFAULT, TCP_RMEM_TO_WIN_SCALE,
} from './constants';
import { sockoptDefaults, type SockoptFields } from './sockopt';
import { OfoQueue } from './ofo';

/** A queued skb: the contract's Skb plus the memory accounting the model keeps. */
export interface QueuedSkb extends Skb {
  /** skb->truesize charged to sk_rmem_alloc (skb_set_owner_r). */
  truesize: number;
  /** Segments coalesced into this skb (tcp_try_coalesce); bounded by MAX_SKB_FRAGS. */
  frags: number;
  /** Room for coalescing: payload is store.subarray(0, payload.length) (appendPayload). */
  store?: Uint8Array;
}

/** Append `more` to skb's payload (the data tcp_try_coalesce moves into the tail skb). The
 *  payload grows inside a store with room to spare, so coalescing n segments copies O(n) bytes;
 *  views taken of the old payload keep their bytes. */
export function appendPayload(skb: QueuedSkb, more: Uint8Array): void {
  const len = skb.payload.length;
  const need = len + more.length;
  let store = skb.store;
  if (!store || store.length < need || store.buffer !== skb.payload.buffer || store.byteOffset !== skb.payload.byteOffset) {
    store = new Uint8Array(Math.max(2 * need, 4096));
    store.set(skb.payload);
    skb.store = store;
  }
  store.set(more, len);
  skb.payload = store.subarray(0, need);
}

type FieldSetter = (to: TcpSock, from: Record<string, unknown>) => void;
/** setFields() per fields() record: restoring one checkpoint many times (explore rewinds it for
 *  every delivery) assigns named properties instead of walking Object.entries() each time. */
const fieldSetters = new WeakMap<Record<string, unknown>, FieldSetter>();

/** A function doing what setFields() says for these keys (the sockopt record copied into the
 *  socket's own; every other key assigned). */
function fieldSetter(f: Record<string, unknown>): FieldSetter {
  const body = Object.keys(f).map((k) => {
    const key = JSON.stringify(k);
    if (k !== 'sockopt') return `t[${key}] = f[${key}];`;
    // Object.assign(t.sockopt, f.sockopt) as one assignment per key of the record
    const so = f.sockopt as Record<string, unknown>;
    return `{ const a = t.sockopt, b = f.sockopt; ${Object.keys(so).map((x) => `a[${JSON.stringify(x)}] = b[${JSON.stringify(x)}];`).join(' ')} }`;
  }).join('\n');
  return new Function('t', 'f', body) as FieldSetter;
}

/** A copy of `o` with the same keys in the same order, made by an object literal: an object
 *  built key by key with computed names is a hash table to V8, whose reads cost ~15 ns each
 *  (a restore reads them all). */
const literalCopiers = new Map<string, (o: Record<string, unknown>) => Record<string, unknown>>();
function literalCopy(o: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(o);
  const sig = keys.join(',');
  let copy = literalCopiers.get(sig);
  if (!copy) {
    copy = new Function('o', `return { ${keys.map((k) => `${JSON.stringify(k)}: o[${JSON.stringify(k)}]`).join(', ')} };`) as (o: Record<string, unknown>) => Record<string, unknown>;
    literalCopiers.set(sig, copy);
  }
  return copy(o);
}

/** What the model records as it goes; the simulation turns these into the per-step trace. */
export type TcpLogEntry =
  | { kind: 'wakeup'; where: string } // sk->sk_data_ready() called, by the kernel function named
  /** tcp_fastopen_add_skb() queued the SYN's data before accept(): no tcp_data_ready(). */
  | { kind: 'fastopen-no-wakeup' }
  /** A segment we sent carries header options the sock_ops program wrote (WRITE_HDR_OPT_CB). */
  | { kind: 'hdr-opts-written'; segment: string; bytes: Uint8Array };

export interface TcpSockOptions {
  family: 'inet' | 'inet6';
  id?: number;
  /** sysctl_tcp_rmem[2] (default 32 MiB, assumed: constants.ts). */
  tcpRmemMax?: number;
  /** Initial sk_rcvbuf (sysctl_tcp_rmem[1], 131072). */
  rcvbuf?: number;
  /** MSS the peer uses / our advmss (default 1448: 1500-byte MTU with timestamps). */
  mss?: number;
  /** protocol memory pressure (tcp_under_memory_pressure) */
  memoryPressure?: boolean;
  mptcp?: boolean;
  local?: { ip4?: number; ip6?: Uint8Array; port?: number };
  remote?: { ip4?: number; ip6?: Uint8Array; port?: number };
  cookie?: bigint;
}

const u32 = (x: number) => x >>> 0;
/** How many skbs of each queue a snapshot lists (a bound, so a step's result is O(1)). */
export const SNAPSHOT_SKBS = 8;
/** before(seq1, seq2) of include/net/tcp.h: (s32)(seq1 - seq2) < 0. */
export const before = (a: number, b: number) => ((a - b) | 0) < 0;
export const after = (a: number, b: number) => before(b, a);

export class TcpSock implements SockModel {
  readonly id: number;
  readonly family: 'inet' | 'inet6';
  readonly cookie: bigint;
  state: number;
  rcv_nxt = 0;
  copied_seq = 0;
  rcv_wup = 0;
  rcv_wnd = INITIAL_RCV_WND;
  rcv_mss = TCP_MSS_DEFAULT;
  snd_nxt = 0;
  snd_una = 0;
  mss_cache: number;
  snd_cwnd = 10; // TCP_INIT_CWND (include/net/tcp.h)
  srtt_us = 0;
  bytes_received = 0n;
  bytes_acked = 0n;
  /** net/ipv4/tcp.c tcp_init_sock: minmax_reset(&tp->rtt_min, ..., ~0U); the model takes no RTT sample. */
  rtt_min = 0xffffffff;
  /** SEND_SHUTDOWN: the application closed (tcp_close: sk_shutdown = SHUTDOWN_MASK). */
  closed = false;
  segs_in = 0;
  data_segs_in = 0;
  /** Send side (net/ipv4/tcp_output.c __tcp_transmit_skb counts every segment the socket sends
   *  in segs_out, those with payload in data_segs_out). */
  segs_out = 0;
  data_segs_out = 0;
  /** net/ipv4/tcp.c tcp_init_sock: snd_ssthresh = TCP_INFINITE_SSTHRESH. */
  snd_ssthresh = 0x7fffffff;
  packets_out = 0;
  /** tcp_sock.write_seq (next sequence number the application's data / our FIN takes). */
  write_seq = 0;
  /** tcp_sock.rtt_seq, mdev_us (tcp_rtt_estimator). */
  rtt_seq = 0;
  mdev_us = 0;
  /** Our ISN (tcp_request_sock.snt_isn) and the peer's (rcv_isn). */
  isn = 0;
  peerIsn = 0;
  /** Sequence numbers in traces and snapshots are shown minus this (the stream's view: the
   *  scenario's default ISN is hidden so outputs count from the first stream byte). */
  seqDisplayBase = 0;
  sk_rcvlowat = 1; // sock_init_data(): sk->sk_rcvlowat = 1
  sk_rcvbuf: number;
  sk_rmem_alloc = 0;
  rcvbuf_locked = false;
  sk_txhash = 0;
  bpf_sock_ops_cb_flags = 0;
  local_ip4: number;
  remote_ip4: number;
  local_ip6: Uint8Array;
  remote_ip6: Uint8Array;
  local_port: number;
  remote_port: number;
  tcp_nodelay = false;
  /** The fields only socket options touch (sockopt.ts). */
  readonly sockopt: SockoptFields = sockoptDefaults();
  in_sockmap = false;
  is_mptcp_subflow: boolean;
  readonly receiveQueue: QueuedSkb[] = [];
  /** tcp_sock.out_of_order_queue (ofo.ts: sorted chunks, not one array). */
  readonly ofo = new OfoQueue();
  /** The out-of-order queue as one array (SockModel; built on demand, cached until it changes). */
  get ofoQueue(): QueuedSkb[] {
    return this.ofo.toArray();
  }
  wakeups = 0;
  done = false;
  // not in the contract, kept by the model
  /** RCV_SHUTDOWN in sk->sk_shutdown (tcp_fin). */
  rcvShutdown = false;
  /** tp->window_clamp */
  window_clamp = 0;
  advmss: number;
  scaling_ratio = TCP_DEFAULT_SCALING_RATIO;
  tcpRmemMax: number;
  memoryPressure: boolean;
  /** Called for wakeups and notes (the model's log). */
  log: (e: TcpLogEntry) => void = () => {};
  /** RCVQ_CB_FLAG of the profile (0 without RCVQ_CB) and the states tcp_poll() looks at. */
  private readonly rcvqBit: number;
  private readonly synSent: number;
  private readonly synRecv: number;

  constructor(readonly abi: TcpAbi, opts: TcpSockOptions) {
    this.id = opts.id ?? 1;
    this.family = opts.family;
    this.cookie = opts.cookie ?? BigInt(0x1000 + this.id);
    this.state = abi.constant('BPF_TCP_CLOSE');
    this.sk_rcvbuf = opts.rcvbuf ?? TCP_RMEM_DEFAULT;
    this.tcpRmemMax = opts.tcpRmemMax ?? TCP_RMEM_MAX_DEFAULT;
    this.advmss = opts.mss ?? 1448;
    this.mss_cache = this.advmss;
    this.memoryPressure = opts.memoryPressure ?? false;
    this.is_mptcp_subflow = opts.mptcp ?? false;
    this.local_ip4 = opts.local?.ip4 ?? 0x7f000001;
    this.remote_ip4 = opts.remote?.ip4 ?? 0x7f000001;
    const lo6 = new Uint8Array(16);
    lo6[15] = 1; // ::1
    this.local_ip6 = opts.local?.ip6 ?? (this.family === 'inet6' ? lo6 : new Uint8Array(16));
    this.remote_ip6 = opts.remote?.ip6 ?? (this.family === 'inet6' ? lo6.slice() : new Uint8Array(16));
    this.local_port = opts.local?.port ?? 8080;
    this.remote_port = opts.remote?.port ?? 40000;
    this.window_clamp = this.tcpWinFromSpace(this.tcpRmemMax);
    // the listener is bound to the local address (assumed); a specific, non-v4-mapped IPv6
    // address makes it IPV6_V6ONLY (__inet6_bind), as the loopback witness (::1) shows
    const l6 = this.local_ip6;
    const mapped = l6.subarray(0, 10).every((b) => b === 0) && l6[10] === 0xff && l6[11] === 0xff;
    this.sockopt.sk_ipv6only = this.family === 'inet6' && l6.some((b) => b !== 0) && !mapped;
    this.rcvqBit = abi.hasOp('BPF_SOCK_OPS_RCVQ_CB') ? abi.flag('BPF_SOCK_OPS_RCVQ_CB_FLAG') : 0;
    this.synSent = abi.constant('BPF_TCP_SYN_SENT');
    this.synRecv = abi.constant('BPF_TCP_SYN_RECV');
  }

  /** include/net/tcp.h tcp_win_from_space(): space * scaling_ratio >> TCP_RMEM_TO_WIN_SCALE. */
  tcpWinFromSpace(space: number): number {
    return Math.floor((Math.max(0, space) * this.scaling_ratio) / (1 << TCP_RMEM_TO_WIN_SCALE));
  }
  /** include/net/tcp.h tcp_space_from_win(): win << TCP_RMEM_TO_WIN_SCALE / scaling_ratio. */
  tcpSpaceFromWin(win: number): number {
    return Math.floor((win * (1 << TCP_RMEM_TO_WIN_SCALE)) / this.scaling_ratio);
  }
  /** SKB_TRUESIZE() of a linear skb holding `len` payload bytes (sizes assumed, constants.ts). */
  truesizeOf(len: number): number {
    return len + SKB_TRUESIZE_OVERHEAD;
  }

  /** rcv_nxt - copied_seq (what tcp_epollin_ready calls avail; a received FIN counts 1). */
  readable(): number {
    return (this.rcv_nxt - this.copied_seq) | 0;
  }

  /** include/net/tcp.h tcp_receive_window(): max(0, rcv_wup + rcv_wnd - rcv_nxt). */
  receiveWindow(): number {
    const win = (this.rcv_wup + this.rcv_wnd - this.rcv_nxt) | 0;
    return win < 0 ? 0 : win;
  }

  /** include/net/tcp.h tcp_rmem_pressure(): protocol memory pressure, or sk_rmem_alloc above
   *  7/8 of sk_rcvbuf. */
  rmemPressure(): boolean {
    if (this.memoryPressure) return true;
    const threshold = this.sk_rcvbuf - (this.sk_rcvbuf >> 3);
    return this.sk_rmem_alloc > threshold;
  }

  /** include/net/tcp.h tcp_epollin_ready(sk, target). */
  epollinReady(target: number): boolean {
    const avail = this.readable();
    if (avail <= 0) return false;
    return avail >= target || this.rmemPressure() || this.receiveWindow() <= this.rcv_mss;
  }

  /** include/net/sock.h sock_rcvlowat(sk, waitall, len). */
  sockRcvlowat(waitall: boolean, len: number): number {
    const v = waitall ? len : Math.min(this.sk_rcvlowat, len);
    return v || 1;
  }

  /** What epoll_wait(..., 0) reports for EPOLLIN: net/ipv4/tcp.c tcp_poll() — RCV_SHUTDOWN, or
   *  (not SYN_SENT / plain SYN_RECV) tcp_stream_is_readable(sk, sock_rcvlowat(sk, 0, INT_MAX)).
   *  No urgent data and no sockmap/TLS sk_is_readable() in the model. */
  epollIn(): boolean {
    if (this.rcvShutdown) return true;
    const st = this.state;
    if (st === this.synSent || st === this.synRecv) return false;
    return this.epollinReady(this.sockRcvlowat(false, INT_MAX));
  }

  /** net/ipv4/tcp_input.c tcp_data_ready(): wake the reader iff tcp_epollin_ready(sk,
   *  sk_rcvlowat) or SOCK_DONE. Returns whether it woke. */
  dataReady(where: string): boolean {
    if (this.epollinReady(this.sk_rcvlowat) || this.done) {
      this.wakeups++;
      this.log({ kind: 'wakeup', where });
      return true;
    }
    return false;
  }

  /** net/ipv4/tcp.c tcp_set_rcvlowat() (7.1.5 lines 1830-1856): cap at rcvbuf/2
   *  (SOCK_RCVBUF_LOCK) or tcp_rmem[2]/2 and `val = min(val, cap)` (line 1839), 0 -> 1, then
   *  tcp_data_ready() (skipped on the RCVQ_CB enqueue path: seed "split out
   *  __tcp_set_rcvlowat() and add a flag to control wakeup"), then, unless the user locked it,
   *  grow sk_rcvbuf to tcp_space_from_win(sk, val) with that CLAMPED val (line 1848) and raise
   *  window_clamp to it. */
  setRcvlowat(val: number, opts: { wakeup: boolean }): number {
    val = val | 0;
    const cap = this.rcvbuf_locked ? this.sk_rcvbuf >> 1 : this.tcpRmemMax >> 1;
    val = Math.min(val, cap);
    this.sk_rcvlowat = val || 1;
    if (opts.wakeup) this.dataReady('tcp_set_rcvlowat');
    if (this.rcvbuf_locked) return 0;
    const space = this.tcpSpaceFromWin(val);
    if (space > this.sk_rcvbuf) {
      this.sk_rcvbuf = space;
      if (this.window_clamp && this.window_clamp < val) this.window_clamp = val;
    }
    return 0;
  }

  /** Set bpf_sock_ops_cb_flags with the RCVQ_CB rules of the seed (design.md §4.6), checked when
   *  RCVQ_CB_FLAG goes from off to on: MPTCP subflow -> -EOPNOTSUPP (seed refuses; errno
   *  assumed), in a SOCKMAP/SOCKHASH -> -EBUSY (assumed), receive queue not empty -> -EUCLEAN
   *  (seed). On failure nothing changes. */
  setCbFlags(val: number): number {
    const rcvq = this.rcvqFlag();
    const enabling = rcvq !== 0 && (val & rcvq) !== 0 && (this.bpf_sock_ops_cb_flags & rcvq) === 0;
    if (enabling) {
      if (this.is_mptcp_subflow) return this.abi.errno('EOPNOTSUPP');
      if (this.in_sockmap) return this.abi.errno('EBUSY');
      if (this.receiveQueue.length > 0) return this.abi.errno('EUCLEAN');
    }
    this.bpf_sock_ops_cb_flags = val & 0xff; // tcp_sock.bpf_sock_ops_cb_flags is a u8
    return 0;
  }

  /** RCVQ_CB_FLAG of the profile, 0 when the profile has none (baseline kernel). */
  rcvqFlag(): number {
    return this.rcvqBit;
  }

  testFlag(name: string): boolean {
    let bit = this.flagBits.get(name);
    if (bit === undefined) this.flagBits.set(name, (bit = this.abi.flag(name)));
    return (this.bpf_sock_ops_cb_flags & bit) !== 0;
  }
  private readonly flagBits = new Map<string, number>();

  /** The socket's own fields for TcpModel.checkpoint(): values copied, the queues left to the
   *  caller, sockopt copied one level (its SYN headers are never written: shared). */
  fields(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'receiveQueue' || k === 'ofo' || k === 'abi' || k === 'log') continue;
      out[k] = k === 'sockopt' ? { ...(v as SockoptFields) } : v;
    }
    return literalCopy(out);
  }

  /** Put back what fields() returned. */
  setFields(f: Record<string, unknown>): void {
    let put = fieldSetters.get(f);
    if (!put) fieldSetters.set(f, (put = fieldSetter(f)));
    put(this, f);
  }

  /** A snapshot for traces and the debugger: O(1) in the queue lengths — counts and bytes of
   *  both queues, and the first SNAPSHOT_SKBS skbs of each (the debugger's socket view reads the
   *  live queues). */
  snapshot(): SockSnapshot {
    const summary = (s: QueuedSkb): SkbSummary => ({ id: s.id, seq: u32(s.seq - this.seqDisplayBase), endSeq: u32(s.endSeq - this.seqDisplayBase), len: s.payload.length, flags: s.tcpFlags });
    return {
      state: this.state,
      rcv_nxt: u32(this.rcv_nxt - this.seqDisplayBase),
      copied_seq: u32(this.copied_seq - this.seqDisplayBase),
      readable: this.readable(),
      sk_rcvlowat: this.sk_rcvlowat,
      sk_rcvbuf: this.sk_rcvbuf,
      sk_rmem_alloc: this.sk_rmem_alloc,
      rcv_wnd: this.receiveWindow(),
      epoll: this.epollIn() ? 1 : 0,
      wakeups: this.wakeups,
      cb_flags: this.bpf_sock_ops_cb_flags,
      receiveQueueLen: this.receiveQueue.length,
      ofoQueueLen: this.ofo.length,
      receiveQueue: this.receiveQueue.slice(0, SNAPSHOT_SKBS).map(summary),
      ofoQueue: this.ofo.head(SNAPSHOT_SKBS).map(summary),
      done: this.done,
    };
  }
}

export interface SkbSummary { id: number; seq: number; endSeq: number; len: number; flags: number }
export interface SockSnapshot {
  state: number;
  rcv_nxt: number;
  copied_seq: number;
  readable: number;
  sk_rcvlowat: number;
  sk_rcvbuf: number;
  sk_rmem_alloc: number;
  rcv_wnd: number;
  epoll: 0 | 1;
  wakeups: number;
  cb_flags: number;
  /** skbs on each queue. */
  receiveQueueLen: number;
  ofoQueueLen: number;
  /** The first SNAPSHOT_SKBS skbs of each queue. */
  receiveQueue: SkbSummary[];
  ofoQueue: SkbSummary[];
  done: boolean;
}
