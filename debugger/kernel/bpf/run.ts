// The state of the BPF side of the simulated kernel while programs run: one ProgEnv per prepared
// program (its VM, map handles, regions), one ActiveRun per program run, the run frames (regions
// mapped once per program and refilled), and KernelHost: the one interface through which helper
// and kfunc implementations (./helpers/, ./kfuncs.ts) reach the kernel.
import type { SynHeaders } from '../tcp/sockopt';
import type { BpfProgram, MapDef } from '../../object/types';
import type { HelperContext, HelperCoroutine, HelperFn, Memory, VmApi } from '../../vm';
import type { HelperInfo, KfuncInfo, ProgType } from '../../../sockops/types';
import type { CallResult, SockopsTable } from '../../../sockops';
import type { ProgramRunTrace, SetsockoptResult, Skb, SockModel } from '../types';
import type { KindsResult } from '../../verifier/types';
import type { BpfMap } from './maps';
import type { SockObjects } from './objects';

/** What the debugger sees of the run in progress. */
export interface RunInfo {
  kind: 'sockops' | 'setsockopt';
  program: BpfProgram;
  vm: VmApi;
  /** Guest address of the ctx (struct bpf_sock_ops or struct bpf_sockopt). */
  ctxBase: bigint;
  /** Guest address of struct bpf_sock_ops_kern (sock_ops runs only). */
  kernCtxBase?: bigint;
  /** The synthetic frame's name, e.g. 'RCVQ_CB enqueue seq 8..108 (100 bytes)'. */
  label: string;
  op?: number;
  sock: SockModel;
  skb: Skb | null;
  /** The trace of this run so far (helpers, printk). */
  trace: ProgramRunTrace;
}

/** Called before each instruction. `info` is one object per program run, refilled before each
 *  instruction: read it during the call, keep none of it. */
export type InsnHook = (info: { pc: number; vm: VmApi; program: BpfProgram; run: RunInfo }) => void;

/** What setsockopt() returns: SetsockoptResult (whose `errno` says what the application gets
 *  when the program refused the option). Kept as a name for existing callers. */
export interface SetsockoptOutcome extends SetsockoptResult {}

export interface MapView {
  def: MapDef;
  entries(): { key: Uint8Array; value: Uint8Array }[];
}

export interface PrintkLine { program: string; op?: number; label: string; text: string }

/** A byte buffer mapped as a region, kept for reuse. */
export interface Mapped { bytes: Uint8Array; base: bigint }

/** The regions of a sock_ops run: each program maps them once and refills them run after run. */
export interface SockOpsFrame {
  ctx: Uint8Array;
  dv: DataView;
  ctxBase: bigint;
  kern: Uint8Array;
  kdv: DataView;
  kernBase: bigint;
  /** ctx bytes 4..20: args[4] / reply, shared with bpf_sock_ops_kern.args. */
  args: Uint8Array;
  skbBuf: Uint8Array;
  sdv: DataView;
  skbBase: bigint;
  /** Packet regions by length: a region is exactly the payload, so reads past it fault. */
  packets: Map<number, Mapped>;
  run: ActiveRun | null;
}

/** The regions of one cgroup/setsockopt run (same reuse as SockOpsFrame). */
export interface SockoptFrame {
  ctx: Uint8Array;
  dv: DataView;
  ctxBase: bigint;
  /** optval buffers by size (max(16, optlen) capped at PAGE_SIZE). */
  optvals: Map<number, Mapped>;
  run: ActiveRun | null;
}

/** Returns r0, or a HelperCoroutine for a helper that calls back into the program. */
export type Impl = (c: CallCtx, a: bigint[]) => bigint | HelperCoroutine;

/** A resolved helper or kfunc of one program: found on its first call. */
export interface CallEntry {
  name: string;
  info: HelperInfo | KfuncInfo | null;
  impl: Impl;
  fn: HelperFn;
  /** Arguments kept in the trace. */
  nparams: number;
  /** The return value is an int (a negative one is an errno). */
  returnsInt: boolean;
  /** Cannot change the socket: no refresh of the kernel objects after it. */
  pure: boolean;
  /** The table's verdict per op when it does not depend on the call (null: it does). */
  gates: (CallResult | null | undefined)[];
}

/** One prepared program and its VM. */
export class ProgEnv {
  readonly mapHandles: bigint[] = [];
  readonly handleToMap = new Map<bigint, number>();
  readonly valueBases = new Map<Uint8Array, bigint>();
  /** Each socket's object address in this program's memory, by socket id. */
  readonly sockBases = new Map<number, bigint>();
  readonly baseToSock = new Map<bigint, number>();
  /** Values of deleted map entries still mapped: unmapped when the run ends. */
  readonly staleValues: Uint8Array[] = [];
  readonly helpers: (CallEntry | null | undefined)[] = [];
  readonly kfuncs: (CallEntry | null | undefined)[] = [];
  readonly helperNames: (string | undefined)[] = [];
  sockOpsFrame: SockOpsFrame | null = null;
  sockoptFrame: SockoptFrame | null = null;
  /** The CallCtx helpers get, reused from call to call (a program's calls never nest). */
  callCtx: CallCtx | null = null;
  /** Set when a helper ends its run with hc.fault() on purpose. */
  faulting = false;
  /** bpf_for_each_map_elem: read-only key regions by nesting depth and key size, and the depth
   *  of the iterations in progress (reset at each run). */
  readonly keyRegions = new Map<string, Mapped>();
  forEachDepth = 0;
  /** pcs of the bpf_loop calls the verifier would inline (callbacks.ts bpfLoopInlinedCalls). */
  loopInlined: Set<number> = new Set();
  /** Address of the one struct cgroup (mapped first in every program's memory: the same address
   *  in all of them, so the sockets' sk_cgrp_data.cgroup can hold it). */
  cgroupBase = 0n;
  /** The pointer kinds of the program's registers and accesses (../../verifier/kinds.ts). */
  kinds!: KindsResult;
  vm!: VmApi;
  memory!: Memory;
  /** The struct_ops member the program implements (./structops.ts); progType is then the
   *  cgroup flavour's, whose helpers take socket pointers as arguments. */
  structOpsMember?: string;
  constructor(readonly prog: BpfProgram, readonly progType: ProgType) {}
}

export interface ActiveRun {
  env: ProgEnv;
  info: RunInfo;
  objs: SockObjects;
  op: number; // -1 for setsockopt runs
  fullsock: boolean;
  locked: boolean;
  skb: Skb | null;
  ctx: Uint8Array;
  dv: DataView;
  kern: Uint8Array | null;
  kdv: DataView | null;
  skbBase: bigint;
  packetBase: bigint;
  /** The packet bytes as mapped at packetBase (skb->data: header, then payload). */
  pkt: Uint8Array | null;
  /** skb->len (header + payload). */
  skbLen: number;
  /** skb_data_end - skb->data (bpf_skops_init_skb end_offset; store_hdr_opt moves it). */
  dataEnd: number;
  /** bpf_sock_ops_kern.syn_skb: the peer's SYN at the SYN-ACK header-option ops, else null. */
  syn: SynHeaders | null;
  /** Bytes bpf_store_hdr_opt() wrote in this run. */
  written: number;
  remainingOptLen: number;
  /** bpf_cg_run_ctx.retval (cgroup runs): bpf_get_retval/bpf_set_retval. */
  retval: number;
  /** A ctx store changed the socket (sk_txhash): refresh the objects at the next helper call,
   *  as the first cut's refresh-after-every-call did. */
  dirty: boolean;
  frame: SockOpsFrame | SockoptFrame;
}

/** What helper and kfunc implementations may ask of the kernel (and nothing else). */
export interface KernelHost {
  readonly table: SockopsTable;
  /** The map a CONST_PTR_TO_MAP value names, else a fault. */
  map(c: CallCtx, handle: bigint): BpfMap;
  /** The guest address of a map value (mapped on first use). */
  valuePtr(c: CallCtx, m: BpfMap, v: Uint8Array, label?: string | (() => string)): bigint;
  /** A deleted value: unmapped when the run ends. */
  forget(c: CallCtx, v: Uint8Array): void;
  /** The socket a guest pointer names (any view of it), or null. */
  sock(c: CallCtx, addr: bigint): SockObjects | null;
  /** The address of a socket's kernel object (struct sock / tcp_sock: one address). */
  sockAddr(c: CallCtx, o: SockObjects): bigint;
  /** The cgroup a `struct cgroup *` names: its id, null for NULL; a fault for anything else. */
  cgroup(c: CallCtx, addr: bigint): number | null;
  /** A read-only copy of a key (bpf_for_each_map_elem), one region per depth and size. */
  keyPtr(c: CallCtx, depth: number, key: Uint8Array): bigint;
  printk(c: CallCtx, text: string): void;
  rand(): number;
  now(): bigint;
  /** BPF_SOCK_OPS_RCVQ_CB_FLAG of the profile (0 when it has none). */
  readonly rcvqFlag: number;
  /** The sockets' bpf_tcp_ops flags (./structops.ts), when the profile has struct bpf_tcp_ops. */
  readonly tcpOps?: import('./structops').TcpOpsFlags | null;
}

/** What a helper implementation works with. */
export interface CallCtx {
  hc: HelperContext;
  host: KernelHost;
  run: ActiveRun;
  env: ProgEnv;
  info: HelperInfo | KfuncInfo | null;
}

export const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));
export const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));
export const r64 = (n: number | bigint) => BigInt.asUintN(64, BigInt(n));
export const PAGE_SIZE = 4096;
