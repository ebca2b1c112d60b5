// The TCP model of one passively opened socket: the socket (sock.ts), the simulated peer
// (peer.ts), and the kernel's code split as the kernel splits it — connection open (open.ts:
// tcp_conn_request / tcp_minisocks / tcp_fastopen), the input path (input.ts: tcp_input.c), the
// output path (output.ts: tcp_output.c) and the socket calls (socket.ts: tcp.c). TcpModel holds
// the state they share and the sock_ops hook plumbing (BpfHooks), and returns facts: outcome
// objects and ModelEvents; the simulation (debugger/sim.ts) writes the sentences.
//
// Hook points of the AutoLOWAT series (design notes §4.5):
//   - enqueue: tcp_queue_rcv(), tcp_ofo_queue() (one call per skb moved), tcp_fastopen_add_skb();
//     after the skb is on the receive queue and rcv_nxt advanced; the program sees the arriving
//     skb (its own seq/end_seq and bytes), never a coalesced tail; tcp_data_ready() follows;
//   - recvmsg: __tcp_cleanup_rbuf() after copied_seq advanced, skb NULL, once per recv() that
//     copied data (the copied > 0 gate is our assumption).
import type { BpfHooks, ProgramRunTrace, Skb, SockOpsInvocation, SockOpsResult } from '../types';
import type { TcpAbi } from './abi';
import { TCPHDR_FIN } from './constants';
import { type QueuedSkb, type TcpLogEntry, TcpSock, type TcpSockOptions } from './sock';
import { SimPeer } from './peer';
import { passiveOpen, type PassiveOpenOptions } from './open';
import { segment, type SegmentOutcome } from './input';
import { sendAck } from './output';
import { close, getsockopt, recvmsg, setsockopt, type CloseOutcome, type GetsockoptResult, type RecvResult, type SetsockoptOutcome } from './socket';

/** Why the kernel dropped a segment (the SKB_DROP_REASON_* it reports, or our own name where the
 *  kernel has none), with the numbers the presentation needs. */
export type DropReason =
  | { reason: 'TCP_ZEROWINDOW' }
  | { reason: 'TCP_OLD_DATA'; rcvNxt: number }
  | { reason: 'TCP_OVERWINDOW'; rcvNxt: number; window: number }
  | { reason: 'PROTO_MEM'; rmemAlloc: number; rcvbuf: number; queue: 'receive' | 'ofo' }
  | { reason: 'TCP_OFO_DUP'; coveredBy: number }
  | { reason: 'TCP_OFO_DROP' }
  | { reason: 'AFTER_FIN'; state: string };

/** One thing that happened inside the kernel model, in order. */
export type ModelEvent =
  | TcpLogEntry
  | ({ kind: 'drop'; seq: number; endSeq: number } & DropReason)
  | { kind: 'prog'; op: number; opName: string; label: string; ret: number; trace: ProgramRunTrace }
  | { kind: 'setsockopt-prog'; action: 'kernel' | 'consumed' | 'eperm'; level: number; optname: number; trace: ProgramRunTrace | null; errno?: number }
  | { kind: 'getsockopt-prog'; level: number; optname: number; ret: number; trace: ProgramRunTrace | null };

const u32 = (x: number) => x >>> 0;
/** bpf_sock_ops.args[0..3]: the given values as u32, missing ones 0. */
export const args4 = (a: number[]): SockOpsInvocation['args'] => [u32(a[0] ?? 0), u32(a[1] ?? 0), u32(a[2] ?? 0), u32(a[3] ?? 0)];

/** BPF_CGROUP_RUN_PROG_SOCK_OPS_SK() succeeded: the program ran to exit with r0 == 1 (err 0). */
export function progOk(r: SockOpsResult | null): boolean {
  return !!r && !r.trace.fault && (r.trace.r0 & 0xffffffffn) === 1n;
}

/** Deterministic default ISNs (the kernel's come from secure_tcp_seq(): random-looking u32s).
 *  The peer's default, 0xffffffff, puts the first stream byte at seq 0, where every scenario
 *  written before ISNs were modeled has it (programs print and compare absolute seqs; a scenario
 *  sets "peerIsn" or "seq" for another value). Ours is an arbitrary non-zero value (assumed). */
export const DEFAULT_PEER_ISN = 0xffffffff;
export const DEFAULT_ISN = 0x327b23c6;
/** Our timestamp clock starts here (tcp_clock_ts + tsoffset: assumed value). */
const TS_START = 0x01000000;
/** Our and the peer's window scale (tcp_select_initial_window on a 131072-byte rcvbuf: 7, assumed). */
export const WSCALE = 7;

/** What TcpModel.checkpoint() keeps: the socket's fields, both queues (skb records copied, their
 *  byte buffers shared: payloads are views that are never written), the model's and the peer's
 *  counters. Restoring it puts the model back exactly (same later events and traces). */
export interface TcpCheckpoint {
  readonly sock: Record<string, unknown>;
  readonly receiveQueue: QueuedSkb[];
  readonly ofoQueue: QueuedSkb[];
  readonly model: { nextSkbId: number; tsNow: number; ackPending: boolean };
  readonly peer: Record<string, unknown>;
}

export class TcpModel {
  readonly sock: TcpSock;
  /** The simulated peer (its options, timestamps, RTT): not kernel code. */
  readonly peer = new SimPeer();
  /** @internal next skb id ("skb#3" in traces). */
  nextSkbId = 1;
  private events: ModelEvent[] = [];
  /** Called for every model event as it happens (the debugger's output channel). */
  onEvent: ((e: ModelEvent) => void) | null = null;

  /** BPF_SOCK_OPS_RCVQ_CB (-1 when the profile has none), its short name, BPF_TCP_ESTABLISHED. */
  readonly rcvqOp: number;
  readonly rcvqShort: string;
  private readonly established: number;

  /** @internal our timestamp clock (tsval). */
  tsNow = TS_START;
  /** @internal a delayed ACK is pending (tcp_fin enters pingpong mode: the FIN's ACK waits). */
  ackPending = false;

  constructor(readonly abi: TcpAbi, opts: TcpSockOptions, readonly hooks: BpfHooks | null) {
    this.sock = new TcpSock(abi, opts);
    this.sock.log = (e) => this.emit(e);
    this.rcvqOp = abi.hasOp('BPF_SOCK_OPS_RCVQ_CB') ? abi.op('BPF_SOCK_OPS_RCVQ_CB') : -1;
    this.rcvqShort = this.rcvqOp >= 0 ? abi.opName(this.rcvqOp) : '';
    this.established = abi.constant('BPF_TCP_ESTABLISHED');
    this.states.set('ESTABLISHED', this.established);
  }

  // ---- the calls a scenario makes (each in the file of its kernel code) ----

  /** The passive open (open.ts). */
  passiveOpen(opts: PassiveOpenOptions = {}): void {
    passiveOpen(this, opts);
  }

  /** A data segment from the peer (input.ts). `seq` is the sequence number of payload[0]. */
  segment(seq: number, payload: Uint8Array, opts: { fin?: boolean; psh?: boolean } = {}): SegmentOutcome {
    return segment(this, seq, payload, opts);
  }

  /** The application's recv(fd, buf, len, MSG_DONTWAIT) (socket.ts). */
  recvmsg(len: number, opts: { peek?: boolean } = {}): RecvResult {
    return recvmsg(this, len, opts);
  }

  /** The application's setsockopt(2) (socket.ts). */
  setsockopt(level: number, optname: number, optval: Uint8Array): SetsockoptOutcome {
    return setsockopt(this, level, optname, optval);
  }

  /** The application's getsockopt(2) (socket.ts). */
  getsockopt(level: number, optname: number, optlen: number): GetsockoptResult {
    return getsockopt(this, level, optname, optlen);
  }

  /** The application's close() (socket.ts). */
  close(): CloseOutcome {
    return close(this);
  }

  /** Our ACK after receiving data (output.ts). */
  sendAck(): void {
    sendAck(this);
  }

  /** An explicit op from a scenario: run the program at `op` with `args` in the current state. */
  explicitOp(op: number, args: number[]): number | null {
    if (!this.hooks) return null;
    const short = this.abi.opName(op);
    const inv: SockOpsInvocation = { op, args: args4(args), skb: null, label: `${short} (explicit)` };
    return this.runOp(inv, short);
  }

  // ---- events ----

  /** @internal */
  emit(e: ModelEvent): void {
    this.events.push(e);
    this.onEvent?.(e);
  }

  /** Events since the last call (the simulation collects them per step). */
  takeEvents(): ModelEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  // ---- states ----

  /** @internal BPF_TCP_<name>. */
  st(name: string): number {
    let v = this.states.get(name);
    if (v === undefined) this.states.set(name, (v = this.abi.constant('BPF_TCP_' + name)));
    return v;
  }
  private readonly states = new Map<string, number>();

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

  // ---- sock_ops hook plumbing ----

  /** @internal The seed's RCVQ_CB with `skb` (enqueue) or NULL (recvmsg), when the flag is on. */
  rcvq(skb: Skb | null, label: string): void {
    if (!this.hooks) return;
    if (this.hooks.tcpOps && this.hooks.tcpOpsOn?.(this.sock)) return this.runTcpOps(skb, label);
    this.runOp({ op: this.rcvqOp, args: [0, 0, 0, 0], skb, label }, this.rcvqShort);
  }

  /** @internal RCVQ_CB exists in the profile and the socket has its flag on. */
  rcvqOn(): boolean {
    const bit = this.sock.rcvqFlag();
    if (bit !== 0 && (this.sock.bpf_sock_ops_cb_flags & bit) !== 0) return true;
    return this.hooks?.tcpOpsOn?.(this.sock) ?? false; // struct_ops: BPF_TCP_OPS_FLAG_RCVQ
  }

  /** tcp_call_bpf()/bpf_skops_*(): run the sock_ops program at `op`, if one is attached.
   *  `fullsock` false: sk is a request sock (is_fullsock = is_locked_tcp_sock = 0). */
  callOp(opName: string, args: number[] = [], skb: Skb | null = null, label?: string, fullsock = true): number | null {
    const r = this.callOpFull(opName, args, skb, label, fullsock);
    return r ? r.ret : null;
  }

  /** @internal callOp with the whole result (r0, what is left of remaining_opt_len, options written). */
  callOpFull(opName: string, args: number[], skb: Skb | null, label: string | undefined, fullsock: boolean, extra: Partial<SockOpsInvocation> = {}): SockOpsResult | null {
    if (!this.hooks) return null;
    const op = this.abi.op(opName);
    const short = this.abi.opName(op);
    const inv: SockOpsInvocation = { op, args: args4(args), skb, label: label ?? short, ...extra };
    if (!fullsock) inv.fullsock = false;
    return this.runOpFull(inv, short);
  }

  /** struct_ops (docs/abi.md §5.3): bpf_tcp_ops.enqueue_rcvq(sk, skb) where RCVQ_CB's enqueue
   *  runs, dequeue_rcvq(sk) where its recvmsg run does; logged like a sock_ops run (op -1). */
  private runTcpOps(skb: Skb | null, label: string): void {
    const member = skb ? 'enqueue_rcvq' : 'dequeue_rcvq';
    const ev = { kind: 'prog' as const, op: -1, opName: member, label: member + label.replace(/^\s*(enqueue|recvmsg)/, ''), ret: 0, trace: null as unknown as ProgramRunTrace };
    const at = this.events.length;
    this.events.push(ev);
    const trace = this.hooks!.tcpOps!(this.sock, member, skb, ev.label);
    if (!trace) {
      this.events.splice(at, 1);
      return;
    }
    ev.trace = trace;
    this.onEvent?.(ev);
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

  // ---- small shared pieces ----

  /** @internal A sequence number as traces show it (the stream's view, see TcpSock.seqDisplayBase). */
  r(seq: number): number {
    return u32(seq - this.sock.seqDisplayBase);
  }

  /** @internal Our next timestamp value (tcp_skb_timestamp_ts + tsoffset; moves 1 per segment: assumed). */
  tsval(): number {
    return (this.tsNow = u32(this.tsNow + 1));
  }

  /** @internal A new skb (its truesize as skb_set_owner_r charges it). */
  makeSkb(seq: number, payload: Uint8Array, flags: number): QueuedSkb {
    const fin = flags & TCPHDR_FIN ? 1 : 0;
    return { seq: u32(seq), endSeq: u32(seq + payload.length + fin), tcpFlags: flags, payload, id: this.nextSkbId++, truesize: this.sock.truesizeOf(payload.length), frags: 1 };
  }

  // ---- checkpoints (the debugger's time travel) ----

  /** A copy of the model's state at a step boundary, O(skbs queued) with no byte copies. */
  checkpoint(): TcpCheckpoint {
    if (this.events.length) throw new Error('TcpModel.checkpoint() between steps only (events are pending)');
    const skb = (s: QueuedSkb): QueuedSkb => ({ ...s });
    return {
      sock: this.sock.fields(),
      receiveQueue: this.sock.receiveQueue.map(skb),
      ofoQueue: this.sock.ofo.toArray().map(skb),
      model: { nextSkbId: this.nextSkbId, tsNow: this.tsNow, ackPending: this.ackPending },
      peer: { ...this.peer },
    };
  }

  /** Put the model back to `cp` (taken from this model). The checkpoint stays valid: restoring it
   *  again gives the same state. */
  restore(cp: TcpCheckpoint): void {
    // skb records are copied again so the checkpoint's own stay untouched; an skb's coalescing
    // room (store) is dropped so the next append copies instead of writing into a buffer a
    // view taken in another timeline may share
    // (a rest copy, not `delete`: a deleted key makes the record a hash table to V8, slow to read
    // for the rest of its life on the queues)
    const skb = (s: QueuedSkb): QueuedSkb => { const { store: _store, ...c } = s; return c; };
    this.sock.setFields(cp.sock);
    refill(this.sock.receiveQueue, cp.receiveQueue.map(skb));
    this.sock.ofo.reset(cp.ofoQueue.map(skb));
    this.nextSkbId = cp.model.nextSkbId;
    this.tsNow = cp.model.tsNow;
    this.ackPending = cp.model.ackPending;
    assignAll(this.peer, cp.peer);
    this.events = [];
  }
}

/** Object.assign(to, from) by one generated assignment per key (cached per key list): restores
 *  run once per explored delivery, and Object.assign's generic walk cost ~0.7 µs here. */
const assigners = new Map<string, (to: object, from: object) => void>();
const assignerOf = new WeakMap<object, (to: object, from: object) => void>();
function assignAll(to: object, from: Record<string, unknown>): void {
  const known = assignerOf.get(from);
  if (known) return known(to, from);
  const keys = Object.keys(from);
  const sig = keys.join(',');
  let f = assigners.get(sig);
  if (!f) {
    f = new Function('t', 'f', keys.map((k) => `t[${JSON.stringify(k)}] = f[${JSON.stringify(k)}];`).join('\n')) as (to: object, from: object) => void;
    assigners.set(sig, f);
  }
  assignerOf.set(from, f);
  f(to, from);
}

function refill<T>(q: T[], items: T[]): void {
  q.length = 0;
  for (const x of items) q.push(x);
}
