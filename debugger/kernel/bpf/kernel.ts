// The BPF side of the simulated kernel: picks the programs of an object, prepares them for the
// VM, builds the contexts the kernel would pass (struct bpf_sock_ops / bpf_sock_ops_kern,
// struct bpf_sockopt), lays out kernel objects from the program's BTF, and implements the
// helpers and kfuncs on top of the TCP model's SockModel. Per-op facts come from the sockops
// table; helper semantics cite the kernel function they mirror.
//
// Speed (bench/kernel.ts): everything that does not change from run to run is worked out once
// per program: the ctx, bpf_sock_ops_kern, sk_buff and packet regions are mapped once and
// refilled in place; field writers come from the table and the BTF at load time; helper entries
// (implementation, per-op verdict of the table, trace shape) are built on first call. After a
// helper call the kernel objects are rewritten only if the helper can change the socket (or a
// ctx store changed it): the others leave every byte as it was.
import type { BpfObject, BpfProgram, MapDef } from '../../object/types';
import type { CallTable, HelperContext, HelperCoroutine, HelperFn, RunStatus, VmApi } from '../../vm/api';
import { createVm, GuestFaultError, Memory, ValidationError } from '../../vm';
import type { HelperInfo, KfuncInfo, OpRule, ProgType } from '../../../sockops/types';
import { table as sockopsTable, type CallResult, type SockopsTable } from '../../../sockops';
import type {
  BpfHooks, HelperCallTrace, ProgramRunTrace, SetsockoptInvocation, SetsockoptResult, Skb, SockModel,
  SockOpsInvocation, SockOpsResult,
} from '../types';
import {
  BPF_EXIST, BPF_SK_STORAGE_GET_F_CREATE, E2BIG, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, ENOMSG, ENOSPC, EPERM,
  ERRNO_NAMES, INT_MAX, MapType, SOL_TCP, TCP_BPF_SYN, TCP_BPF_SYN_IP,
  TCP_BPF_SYN_MAC,
} from './consts';
import { LoadError } from './errors';
import { KernCtxLayout, SkbLayout, SockLayout, compileWriter, putValue, writeStatement, type FieldKind } from './layout';
import { BpfMap } from './maps';
import { bpfLoop, bpfLoopInlinedCalls, forEachMapElem, type ElemPtrs } from './callbacks';
import { checkCalls, lineOf, mapHelperError, pickProgram, progTypeOf, scanProgram, sockoptAccessError, SOCKOPT_CTX_SIZE } from './prepare';
import { formatPrintk, MAX_BPRINTF_VARARGS } from './printk';
import { Prng, VirtualClock } from './prng';
import { bpfGetsockopt, bpfSetsockopt, familyNumber } from './sockopt';

export interface BpfKernelOptions {
  /** Function name of the SEC("sockops") program; omitted: the only one in the object. */
  sockops?: string;
  /** Function name of a SEC("cgroup/setsockopt") program to attach, if any. */
  setsockopt?: string;
  /** sockops table profile (default: the table's default). */
  profile?: string;
  /** Seed of bpf_get_prandom_u32 (default 0). */
  seed?: number;
  /** Virtual clock for bpf_ktime_get_*_ns (default: starts at 1 s, +1 µs per read). */
  clock?: { nowNs(): bigint };
  /** Instruction budget per program run (default: the VM's, 1,000,000). */
  budget?: number;
  /** Rewrite every kernel object after every helper call, as the first cut did, instead of only
   *  after the helpers that can change the socket. Same results, slower: for equivalence tests
   *  and benchmarks. */
  refreshAfterEveryHelper?: boolean;
}

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

export type InsnHook = (info: { pc: number; vm: VmApi; program: BpfProgram; run: RunInfo }) => void;

/** What setsockopt() returns: SetsockoptResult (whose `errno` says what the application gets
 *  when the program refused the option). Kept as a name for existing callers. */
export interface SetsockoptOutcome extends SetsockoptResult {}

export interface MapView {
  def: MapDef;
  entries(): { key: Uint8Array; value: Uint8Array }[];
}

export interface PrintkLine { program: string; op?: number; label: string; text: string }

/** Per-socket kernel objects: one object per socket whichever pointer names it. */
interface SockObjects {
  sock: SockModel;
  tcp: Uint8Array; // struct tcp_sock (with sock, inet_connection_sock... at their BTF offsets)
  bpfSock: Uint8Array; // struct bpf_sock (UAPI view, 80 bytes)
  bpfTcpSock: Uint8Array; // struct bpf_tcp_sock (UAPI view, 112 bytes)
  tcpDv: DataView;
  bpfSockDv: DataView;
  bpfTcpSockDv: DataView;
}

interface SockBases { tcp: bigint; bpfSock: bigint; bpfTcpSock: bigint }

/** A byte buffer mapped as a region, kept for reuse. */
interface Mapped { bytes: Uint8Array; base: bigint }

/** The regions of a sock_ops run: each program maps them once and refills them run after run. */
interface SockOpsFrame {
  ctx: Uint8Array;
  dv: DataView;
  ctxBase: bigint;
  kern: Uint8Array;
  kdv: DataView;
  kernBase: bigint;
  skbBuf: Uint8Array;
  sdv: DataView;
  skbBase: bigint;
  /** Packet regions by length: a region is exactly the payload, so reads past it fault. */
  packets: Map<number, Mapped>;
  run: ActiveRun | null;
}

/** The regions of one cgroup/setsockopt run (same reuse as SockOpsFrame). */
interface SockoptFrame {
  ctx: Uint8Array;
  dv: DataView;
  ctxBase: bigint;
  /** optval buffers by size (max(16, optlen) capped at PAGE_SIZE). */
  optvals: Map<number, Mapped>;
  run: ActiveRun | null;
}

/** A resolved helper or kfunc of one program: found on its first call. */
interface CallEntry {
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
class ProgEnv {
  readonly mapHandles: bigint[] = [];
  readonly handleToMap = new Map<bigint, number>();
  readonly valueBases = new Map<Uint8Array, bigint>();
  readonly sockBases = new Map<number, SockBases>();
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
  vm!: VmApi;
  memory!: Memory;
  constructor(readonly prog: BpfProgram, readonly progType: ProgType) {}
}

interface ActiveRun {
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
  /** The peer's SYN header at the SYN-ACK header-option ops (bpf_sock_ops_kern.syn_skb). */
  synHeader: Uint8Array | null;
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

const BPF_SOCK_SIZE = 80;
const BPF_TCP_SOCK_SIZE = 112;
const PAGE_SIZE = 4096;
/** Packet/optval regions kept per program (by length) before new lengths get a region per run. */
const MAX_CACHED_REGIONS = 64;

const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));
const r64 = (n: number | bigint) => BigInt.asUintN(64, BigInt(n));
const OK: CallResult = { result: 'ok' };

/** Returns r0, or a HelperCoroutine for a helper that calls back into the program. */
type Impl = (c: CallCtx, a: bigint[]) => bigint | HelperCoroutine;

/** What a helper implementation works with. */
interface CallCtx {
  hc: HelperContext;
  k: BpfKernel;
  run: ActiveRun;
  env: ProgEnv;
  info: HelperInfo | KfuncInfo | null;
}

/** Writes the bpf_sock_ops fields from offset 20 (compileCtxWriter). */
type CtxWriter = (dv: DataView, buf: Uint8Array, s: SockModel, run: ActiveRun, bases: SockBases, open: number) => void;

export class BpfKernel implements BpfHooks {
  readonly table: SockopsTable;
  readonly obj: BpfObject;
  readonly sockopsProgram: BpfProgram | null;
  readonly setsockoptProgram: BpfProgram | null;
  /** Non-fatal observations (layout conflicts, helpers the emulator does not implement). */
  readonly warnings: string[] = [];

  private readonly envs: ProgEnv[] = [];
  private readonly sockEnv: ProgEnv | null;
  private readonly sockoptEnv: ProgEnv | null;
  private readonly bpfMaps: BpfMap[];
  private readonly sockLayout: SockLayout;
  private readonly skbLayout: SkbLayout;
  private readonly kernLayout: KernCtxLayout;
  private readonly socks = new Map<number, SockObjects>();
  private readonly rng: Prng;
  private readonly clock: { nowNs(): bigint };
  private readonly budget: number | undefined;
  private readonly refreshAlways: boolean;
  private readonly printkLog: PrintkLine[] = [];
  private insnHook: InsnHook | null = null;
  private active: ActiveRun | null = null;
  private readonly rcvqOp: number | undefined;
  private readonly rcvqFlag: number;
  private readonly hdrOptLenOp: number | undefined;
  private readonly txhashOff: number;
  private readonly ctxWriter: { all: CtxWriter; dynamic: CtxWriter };
  private readonly sockoptMemo = new Map<number, string | null>();

  static load(obj: BpfObject, opts: BpfKernelOptions = {}): BpfKernel {
    return new BpfKernel(obj, opts);
  }

  private constructor(obj: BpfObject, opts: BpfKernelOptions) {
    this.obj = obj;
    try {
      this.table = sockopsTable(opts.profile);
    } catch (e) {
      throw new LoadError(obj.file, null, `${(e as Error).message}`);
    }
    this.rng = new Prng(opts.seed ?? 0);
    this.clock = opts.clock ?? new VirtualClock();
    this.budget = opts.budget;
    this.refreshAlways = opts.refreshAfterEveryHelper ?? false;
    this.rcvqOp = this.table.op('RCVQ_CB')?.value;
    this.rcvqFlag = this.table.cbFlag('BPF_SOCK_OPS_RCVQ_CB_FLAG')?.value ?? 0;
    this.hdrOptLenOp = this.table.constant('BPF_SOCK_OPS_HDR_OPT_LEN_CB');
    this.txhashOff = this.table.ctxField('sk_txhash')?.offset ?? 164;
    this.ctxWriter = compileCtxWriter(this.table);
    this.sockopsProgram = pickProgram(obj, opts.sockops, 'sockops', 'sockops');
    this.setsockoptProgram = opts.setsockopt !== undefined ? pickProgram(obj, opts.setsockopt, 'cgroup/setsockopt', 'setsockopt') : null;
    this.bpfMaps = obj.maps.map((d, i) => new BpfMap(d, i));
    this.sockLayout = new SockLayout(obj.btf);
    this.skbLayout = new SkbLayout(obj.btf);
    this.kernLayout = new KernCtxLayout(obj.btf);
    this.warnings.push(...this.sockLayout.warnings, ...this.skbLayout.warnings);
    for (const m of this.bpfMaps) {
      if (m.kind === 'unsupported') this.warnings.push(`map ${m.def.name} (${m.def.typeName}) is not modeled: helpers on it fault`);
    }
    this.sockEnv = this.sockopsProgram ? this.prepare(this.sockopsProgram) : null;
    this.sockoptEnv = this.setsockoptProgram ? this.prepare(this.setsockoptProgram) : null;
  }

  // ---------------------------------------------------------------------------------------------
  // Preparation

  private prepare(prog: BpfProgram): ProgEnv {
    const progType = progTypeOf(prog.section);
    if (!progType) throw new LoadError(this.obj.file, prog.name, `SEC("${prog.section}") is not a program type the emulator runs (sockops, cgroup/setsockopt).`);
    const env = new ProgEnv(prog, progType);
    env.loopInlined = bpfLoopInlinedCalls(prog.insns);
    const t = this.table;
    const fail = (pc: number, msg: string): never => {
      throw new LoadError(this.obj.file, prog.name, msg, lineOf(prog, pc), pc);
    };
    checkCalls(this.obj, prog, {
      helperName: (id) => t.helper(id)?.name,
      helperAvailable: (id) => {
        const h = t.helper(id)!;
        const v = t.availableAtLoad(h, progType);
        if (!v.ok) return `program of this type cannot use helper ${h.name}#${h.id}: ${v.why}`;
        if (!HELPERS[h.name]) this.warnings.push(`${prog.name}: ${h.name}#${h.id} is allowed but not implemented by the emulator: a call faults`);
        this.checkRulesImplemented(prog, h);
        return null;
      },
      helperGplOnly: (id) => t.helper(id)?.gplOnly === true,
      kfuncAllowed: (name) => {
        const k = t.kfunc(name);
        if (!k) {
          return `unknown kfunc ${name}: it is not a kernel function of profile ${t.profile.name}; check the name or the profile.`;
        }
        const v = t.availableAtLoad(k, progType);
        if (!v.ok) return `calling kernel function ${name} is not allowed: ${v.why}`;
        if (!KFUNCS[name]) this.warnings.push(`${prog.name}: kfunc ${name} is not implemented by the emulator: a call faults`);
        this.checkRulesImplemented(prog, k);
        return null;
      },
    });
    const setsockopt = progType === 'cgroup_setsockopt';
    const issues = scanProgram(prog.insns, {
      ctxAccessError: (off, size, write) =>
        progType === 'sock_ops' ? t.ctxAccessError(off, size, write) : sockoptAccessError(off, size, write, setsockopt),
      helperCall: (_pc, id, r1Map) => {
        const h = t.helper(id);
        return h ? mapHelperError(this.obj, h.name, id, r1Map, progType) : null;
      },
    });
    if (issues.length) {
      const first = issues[0]!;
      const more = issues.length > 1 ? ` (${issues.length - 1} more such access${issues.length > 2 ? 'es' : ''} in this program)` : '';
      fail(first.pc, `${first.message}${more}. Fix the access in the C source; the kernel refuses to load this program.`);
    }

    // The VM, its map handles and global data regions.
    const calls: CallTable = {
      helper: (id) => this.helperFn(env, id),
      kfunc: (index) => this.kfuncFn(env, index),
      helperName: (id) => (env.helperNames[id] ??= `${t.helper(id)?.name ?? 'unknown'}#${id}`),
      kfuncName: (index) => this.obj.kfuncs[index] ?? `kfunc #${index}`,
    };
    const memory = new Memory();
    env.memory = memory;
    for (const m of this.bpfMaps) {
      // A small read-only region stands for struct bpf_map: the map "pointer" a program holds.
      const base = memory.map({ name: `map ${m.def.name}`, kind: 'other', bytes: new Uint8Array(64), writable: false });
      env.mapHandles.push(base);
      env.handleToMap.set(base, m.index);
    }
    const vm = ((...a: Parameters<typeof createVm>) => {
      // the VM's structural check (insn N: Invalid register r14 as src) names the object and program
      try { return createVm(...a); } catch (e) { if (e instanceof ValidationError) return fail(e.pc, e.detail); throw e; }
    })(
      {
        insns: prog.insns,
        funcStarts: prog.funcs.map((f) => f.startPc),
        resolveLdImm64: (pc, src, imm, nextImm) => {
          if (src === 1) return env.mapHandles[imm] ?? fail(pc, `map #${imm} does not exist`);
          if (src === 2) {
            const m = this.bpfMaps[imm];
            if (!m) return fail(pc, `map #${imm} does not exist`);
            if (m.kind === 'global') return this.globalBase(env, m) + BigInt(nextImm >>> 0);
            const v = m.lookup(new Uint8Array(4));
            if (!v) return fail(pc, `map ${m.def.name} has no value to point into`);
            return this.valueBase(env, m, v) + BigInt(nextImm >>> 0);
          }
          return fail(pc, `ld_imm64 pseudo form src=${src} is not supported`);
        },
      },
      calls,
      { memory },
    );
    env.vm = vm;
    this.envs.push(env);
    return env;
  }

  /** A table rule whose result comes after the helper's own argument checks needs those checks
   *  here (ARG_CHECKS); without them the emulator would answer with the rule at once. */
  private checkRulesImplemented(prog: BpfProgram, fn: HelperInfo | KfuncInfo): void {
    if (fn.sockOpsRules.some((r) => r.afterArgChecks) && !ARG_CHECKS[fn.name]) {
      this.warnings.push(`${prog.name}: the table says ${fn.name} checks its arguments before its per-op errors, but the emulator has no argument checks for it: a call with bad arguments gets the per-op errno`);
    }
  }

  private globalBase(env: ProgEnv, m: BpfMap): bigint {
    const bytes = m.globalBytes();
    let base = env.valueBases.get(bytes);
    if (base === undefined) {
      base = env.memory.map({ name: m.def.name, kind: 'global', bytes, writable: !m.def.readonly });
      env.valueBases.set(bytes, base);
    }
    return base;
  }

  private valueBase(env: ProgEnv, m: BpfMap, v: Uint8Array, label = 'value'): bigint {
    if (m.kind === 'global') return this.globalBase(env, m);
    let base = env.valueBases.get(v);
    if (base === undefined) {
      base = env.memory.map({ name: `map ${m.def.name} ${label}`, kind: 'map', bytes: v, writable: true });
      env.valueBases.set(v, base);
    }
    return base;
  }

  // ---------------------------------------------------------------------------------------------
  // Sockets and their objects

  private sockObjects(sock: SockModel): SockObjects {
    let o = this.socks.get(sock.id);
    if (!o) {
      const tcp = new Uint8Array(this.sockLayout.size);
      const bpfSock = new Uint8Array(BPF_SOCK_SIZE);
      const bpfTcpSock = new Uint8Array(BPF_TCP_SOCK_SIZE);
      o = {
        sock, tcp, bpfSock, bpfTcpSock,
        tcpDv: new DataView(tcp.buffer), bpfSockDv: new DataView(bpfSock.buffer), bpfTcpSockDv: new DataView(bpfTcpSock.buffer),
      };
      this.socks.set(sock.id, o);
    }
    o.sock = sock;
    return o;
  }

  private sockBases(env: ProgEnv, o: SockObjects): SockBases {
    let b = env.sockBases.get(o.sock.id);
    if (!b) {
      const mem = env.vm.memory;
      const id = o.sock.id;
      b = {
        tcp: mem.map({ name: `sock#${id} struct tcp_sock`, kind: 'kernel', bytes: o.tcp, writable: false }),
        bpfSock: mem.map({ name: `sock#${id} struct bpf_sock`, kind: 'kernel', bytes: o.bpfSock, writable: false }),
        bpfTcpSock: mem.map({ name: `sock#${id} struct bpf_tcp_sock`, kind: 'kernel', bytes: o.bpfTcpSock, writable: false }),
      };
      env.sockBases.set(id, b);
      env.baseToSock.set(b.tcp, id);
      env.baseToSock.set(b.bpfSock, id);
      env.baseToSock.set(b.bpfTcpSock, id);
    }
    return b;
  }

  /** The socket a guest pointer names (tcp_sock, sock, bpf_sock, bpf_tcp_sock), or null. */
  private sockFromPtr(env: ProgEnv, addr: bigint): SockObjects | null {
    if (addr === 0n) return null;
    const hit = env.vm.memory.find(addr, 1);
    if (!hit) return null;
    const id = env.baseToSock.get(hit.region.base);
    return id === undefined ? null : this.socks.get(id) ?? null;
  }

  /** Write the socket's modeled fields into every view of it, and the ctx fields that read it.
   *  `full` at the start of a run; after a helper call only what a helper can change (the
   *  static fields: identity, addresses, ports, the skb, the op, are as the run began). */
  private refresh(run: ActiveRun, full: boolean): void {
    run.dirty = false;
    const o = run.objs;
    const s = o.sock;
    if (full) {
      this.sockLayout.fill(o.tcp, s, o.tcpDv);
      fillBpfSock(o.bpfSockDv, o.bpfSock, s);
    } else {
      this.sockLayout.fillDynamic(o.tcp, s, o.tcpDv);
      o.bpfSockDv.setUint32(72, s.state, true);
    }
    fillBpfTcpSock(o.bpfTcpSockDv, s);
    if (run.op < 0) return;
    const bases = this.sockBases(run.env, o);
    const open = 1 | (run.locked ? 2 : 0) | (run.fullsock ? 4 : 0) | (run.skb !== null ? 8 : 0);
    (full ? this.ctxWriter.all : this.ctxWriter.dynamic)(run.dv, run.ctx, s, run, bases, open);
    if (!run.kern) return;
    if (full) {
      // bpf_sock_ops_kern as the kernel fills it before the run (args shared with the UAPI ctx)
      this.kernLayout.fill(run.kern, {
        sk: bases.tcp,
        args: run.ctx.subarray(4, 20),
        skb: run.skb ? run.skbBase : 0n,
        skbDataEnd: run.skb ? run.packetBase + BigInt(run.dataEnd) : 0n,
        op: run.op,
        isFullsock: run.fullsock ? 1 : 0,
        isLockedTcpSock: run.locked ? 1 : 0,
        remainingOptLen: run.remainingOptLen,
      }, run.kdv!);
    } else {
      const f = this.kernLayout.fields['remaining_opt_len'];
      if (f) putValue(run.kdv!, run.kern, f.offset, f.size, run.remainingOptLen);
      const e = this.kernLayout.fields['skb_data_end'];
      if (e && run.written) putValue(run.kdv!, run.kern, e.offset, e.size, run.packetBase + BigInt(run.dataEnd));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Run frames: regions mapped once per program and refilled

  /** A program's VM runs one program run at a time: a run cannot start from inside a helper
   *  call of a run of the same program (the registers and stack are the VM's). */
  private notRunning(env: ProgEnv, frame: { run: ActiveRun | null } | null): void {
    if (frame?.run) throw new Error(`${env.prog.name} is already running: a program run cannot start from inside one of its own helper calls`);
  }

  private sockOpsFrame(env: ProgEnv): SockOpsFrame {
    const f = env.sockOpsFrame;
    this.notRunning(env, f);
    if (f) return f;
    const mem = env.vm.memory;
    const ctx = new Uint8Array(this.table.profile.ctxSize);
    const kern = new Uint8Array(this.kernLayout.size);
    const skbBuf = new Uint8Array(this.skbLayout.size);
    const dv = new DataView(ctx.buffer);
    const txhash = this.txhashOff;
    const frame: SockOpsFrame = {
      ctx, dv, ctxBase: 0n, kern, kdv: new DataView(kern.buffer), kernBase: 0n, skbBuf, sdv: new DataView(skbBuf.buffer), skbBase: 0n,
      packets: new Map(), run: null,
    };
    frame.ctxBase = mem.map({
      name: 'ctx struct bpf_sock_ops',
      kind: 'ctx',
      bytes: ctx,
      writable: true,
      check: (off, size, write) => this.table.ctxAccessError(off, size, write),
      onWrite: (off) => {
        const run = frame.run;
        if (!run) return;
        if (off === 4 && run.kern) this.refreshKernArgs(run);
        // SOCK_OPS_SET_FIELD: the store reaches sk only under is_locked_tcp_sock; otherwise skipped.
        if (off === txhash) {
          if (run.locked) {
            run.objs.sock.sk_txhash = dv.getUint32(txhash, true);
            run.dirty = true;
          } else dv.setUint32(txhash, 0, true);
        }
      },
    });
    frame.kernBase = mem.map({ name: 'struct bpf_sock_ops_kern', kind: 'kernel', bytes: kern, writable: false });
    frame.skbBase = mem.map({ name: 'struct sk_buff (the skb of the run)', kind: 'kernel', bytes: skbBuf, writable: false });
    env.sockOpsFrame = frame;
    return frame;
  }

  private sockoptFrame(env: ProgEnv): SockoptFrame {
    const f = env.sockoptFrame;
    this.notRunning(env, f);
    if (f) return f;
    const ctx = new Uint8Array(SOCKOPT_CTX_SIZE);
    const frame: SockoptFrame = { ctx, dv: new DataView(ctx.buffer), ctxBase: 0n, optvals: new Map(), run: null };
    frame.ctxBase = env.vm.memory.map({
      name: 'ctx struct bpf_sockopt', kind: 'ctx', bytes: ctx, writable: true,
      check: (off, size, write) => this.sockoptAccessError(off, size, write),
    });
    env.sockoptFrame = frame;
    return frame;
  }

  /** sockoptAccessError for a cgroup/setsockopt program, memoized (asked on every ctx access). */
  private sockoptAccessError(off: number, size: number, write: boolean): string | null {
    if (!(off >= 0 && off < 256 && size >= 1 && size <= 8)) return sockoptAccessError(off, size, write, true);
    const key = (off << 5) | (size << 1) | (write ? 1 : 0);
    let m = this.sockoptMemo.get(key);
    if (m === undefined) this.sockoptMemo.set(key, (m = sockoptAccessError(off, size, write, true)));
    return m;
  }

  /** A region of exactly `len` bytes holding a copy of `data` (the packet, the optval buffer),
   *  reused by later runs of the same length; beyond MAX_CACHED_REGIONS lengths, mapped for this
   *  run only (`transient`). */
  private scratchRegion(env: ProgEnv, cache: Map<number, Mapped>, data: Uint8Array, len: number,
    spec: { name: string; kind: 'packet'; writable: boolean }, transient: bigint[]): Mapped {
    let m = cache.get(len);
    if (!m) {
      const bytes = new Uint8Array(len);
      m = { bytes, base: env.vm.memory.map({ ...spec, bytes }) };
      if (cache.size < MAX_CACHED_REGIONS) cache.set(len, m);
      else transient.push(m.base);
    } else m.bytes.fill(0);
    m.bytes.set(data.length > len ? data.subarray(0, len) : data);
    return m;
  }

  // ---------------------------------------------------------------------------------------------
  // Hooks called by the TCP model

  sockOps(sock: SockModel, inv: SockOpsInvocation): SockOpsResult | null {
    const env = this.sockEnv;
    if (!env) return null;
    const opInfo = this.table.op(inv.op);
    // The op's row decides; where it says 'varies' the invocation does (a request sock: not full).
    const fullsock = typeof opInfo?.isFullsock === 'boolean' ? opInfo.isFullsock : inv.fullsock ?? true;
    const locked = typeof opInfo?.isLockedTcpSock === 'boolean' ? opInfo.isLockedTcpSock : fullsock;
    const skb = (typeof opInfo?.hasSkb === 'boolean' ? opInfo.hasSkb : inv.skb !== null) ? inv.skb : null;
    const objs = this.sockObjects(sock);
    const frame = this.sockOpsFrame(env);
    const trace: ProgramRunTrace = { program: env.prog.name, op: inv.op, r0: 0n, insns: 0, helpers: [], printk: [] };
    const { ctx, dv, kern } = frame;
    ctx.fill(0);
    kern.fill(0);
    const run: ActiveRun = {
      env, objs, op: inv.op, fullsock, locked, skb, ctx, dv, kern, kdv: frame.kdv, skbBase: 0n, packetBase: 0n,
      pkt: null, skbLen: 0, dataEnd: 0, synHeader: inv.synHeader ?? null, written: 0,
      remainingOptLen: inv.remainingOptLen ?? (inv.op === this.hdrOptLenOp ? 40 : 0), retval: 0, dirty: false, frame,
      info: undefined as unknown as RunInfo,
    };
    dv.setUint32(0, inv.op, true);
    for (let i = 0; i < 4; i++) dv.setUint32(4 + 4 * i, inv.args[i]! >>> 0, true);
    const transient: bigint[] = [];
    if (skb) {
      // skb->data: the TCP header when the kernel has not pulled it yet, then the payload
      let bytes = skb.payload;
      if (skb.header) {
        bytes = new Uint8Array(skb.header.length + skb.payload.length);
        bytes.set(skb.header);
        bytes.set(skb.payload, skb.header.length);
      }
      const len = bytes.length;
      const m = this.scratchRegion(env, frame.packets, bytes, len, { name: skb.header ? `skb TCP header + payload (${skb.header.length} + ${skb.payload.length} bytes)` : `skb payload (${len} bytes)`, kind: 'packet', writable: false }, transient);
      run.packetBase = m.base;
      run.pkt = m.bytes;
      run.skbLen = len;
      run.dataEnd = skb.dataEnd ?? 0;
      run.skbBase = frame.skbBase;
      frame.skbBuf.fill(0);
      this.skbLayout.fill(frame.skbBuf, skb, { packet: run.packetBase, sock: this.sockBases(env, objs).tcp }, frame.sdv);
    }
    run.info = {
      kind: 'sockops', program: env.prog, vm: env.vm, ctxBase: frame.ctxBase, kernCtxBase: frame.kernBase, label: inv.label, op: inv.op,
      sock, skb, trace,
    };
    this.refresh(run, true);
    const status = this.execute(run, frame.ctxBase, transient);
    const r0 = status.status === 'exit' ? status.r0 : 0n;
    // tcp_call_bpf(): reply when the program returned 1, else -1.
    const ret = status.status === 'exit' && (r0 & 0xffffffffn) === 1n ? dv.getInt32(4, true) : -1;
    if (inv.remainingOptLen === undefined && !run.written) return { ret, trace };
    const out: SockOpsResult = { ret, trace, remainingOptLen: run.remainingOptLen };
    if (run.written && run.pkt) out.written = run.pkt.slice(run.dataEnd - run.written, run.dataEnd);
    return out;
  }

  private refreshKernArgs(run: ActiveRun): void {
    const f = this.kernLayout.fields['args'];
    if (f && run.kern) run.kern.set(run.ctx.subarray(4, 4 + f.size), f.offset);
  }

  setsockopt(sock: SockModel, inv: SetsockoptInvocation): SetsockoptOutcome | null {
    const env = this.sockoptEnv;
    if (!env) return null;
    const objs = this.sockObjects(sock);
    const frame = this.sockoptFrame(env);
    const trace: ProgramRunTrace = { program: env.prog.name, r0: 0n, insns: 0, helpers: [], printk: [] };
    // __cgroup_bpf_run_filter_setsockopt: a buffer of max(16, optlen) bytes capped at PAGE_SIZE.
    const optlen = inv.optval.length;
    const maxOptlen = Math.min(Math.max(16, optlen), PAGE_SIZE);
    const transient: bigint[] = [];
    const { base: optvalBase, bytes: buf } = this.scratchRegion(env, frame.optvals, inv.optval, maxOptlen, { name: `sockopt optval (${maxOptlen} bytes)`, kind: 'packet', writable: true }, transient);
    const { ctx, dv } = frame;
    ctx.fill(0);
    const run: ActiveRun = {
      env, objs, op: -1, fullsock: true, locked: true, skb: null, ctx, dv, kern: null, kdv: null, skbBase: 0n,
      packetBase: 0n, pkt: null, skbLen: 0, dataEnd: 0, synHeader: null, written: 0, remainingOptLen: 0, retval: 0, dirty: false, frame, info: undefined as unknown as RunInfo,
    };
    const bases = this.sockBases(env, objs);
    dv.setBigUint64(0, bases.bpfSock, true);
    dv.setBigUint64(8, optvalBase, true);
    dv.setBigUint64(16, optvalBase + BigInt(maxOptlen), true);
    dv.setInt32(24, inv.level, true);
    dv.setInt32(28, inv.optname, true);
    dv.setInt32(32, optlen, true);
    dv.setInt32(36, 0, true);
    run.info = { kind: 'setsockopt', program: env.prog, vm: env.vm, ctxBase: frame.ctxBase, label: inv.label, sock, skb: null, trace };
    this.refresh(run, true);
    const status = this.execute(run, frame.ctxBase, transient);
    const level = dv.getInt32(24, true);
    const optname = dv.getInt32(28, true);
    const newLen = dv.getInt32(32, true);
    const refused = (errno: number): SetsockoptOutcome => ({ action: 'eperm', level: inv.level, optname: inv.optname, optval: inv.optval, trace, errno });
    // kernel/bpf/cgroup.c bpf_prog_run_array_cg (run_ctx.retval starts at 0 for setsockopt): a
    // program returning 0 (the verifier keeps r0 in [0, 1]; a fault here counts as 0) leaves an
    // errno that bpf_set_retval() set, else makes it -EPERM. Then
    // __cgroup_bpf_run_filter_setsockopt returns any non-zero retval: negative fails the
    // syscall; positive makes do_sock_setsockopt skip the kernel handler and return 0.
    let retval = run.retval;
    const isErr = (v: number) => v < 0 && v >= -4095; // IS_ERR_VALUE((long)retval)
    if ((status.status !== 'exit' || (status.r0 & 1n) === 0n) && !isErr(retval)) retval = -EPERM;
    if (retval < 0) return refused(retval);
    if (retval > 0) return { action: 'consumed', level: inv.level, optname: inv.optname, optval: inv.optval, trace };
    if (newLen === -1) return { action: 'consumed', level: inv.level, optname: inv.optname, optval: inv.optval, trace };
    if (newLen > maxOptlen || newLen < -1) {
      if (optlen > PAGE_SIZE && newLen >= 0) {
        return { action: 'kernel', level: inv.level, optname: inv.optname, optval: inv.optval, trace };
      }
      return refused(-EFAULT);
    }
    const optval = newLen === 0 ? inv.optval : buf.slice(0, newLen);
    return { action: 'kernel', level, optname, optval, trace };
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  private execute(run: ActiveRun, ctxBase: bigint, transient: bigint[]): RunStatus {
    const env = run.env;
    const trace = run.info.trace;
    const hook = this.insnHook;
    const prev = this.active;
    const frame = run.frame;
    this.active = run;
    frame.run = run;
    env.forEachDepth = 0;
    let status: RunStatus;
    try {
      if (hook || this.budget !== undefined) {
        const opts: { budget?: number; hook?: (pc: number) => void } = {};
        if (this.budget !== undefined) opts.budget = this.budget;
        if (hook) {
          const info = run.info;
          opts.hook = (pc: number) => hook({ pc, vm: env.vm, program: env.prog, run: info });
        }
        status = env.vm.run(ctxBase, opts);
      } else status = env.vm.run(ctxBase);
    } finally {
      this.active = prev;
      frame.run = null;
      const mem = env.vm.memory;
      for (const b of transient) mem.unmap(b);
      if (env.staleValues.length) {
        for (const v of env.staleValues.splice(0)) {
          const b = env.valueBases.get(v);
          if (b !== undefined) {
            mem.unmap(b);
            env.valueBases.delete(v);
          }
        }
      }
    }
    trace.insns = status.insns;
    if (status.status === 'exit') trace.r0 = status.r0;
    else if (status.status === 'fault') {
      const line = lineOf(env.prog, status.fault.pc);
      trace.fault = { pc: status.fault.pc, message: status.fault.message };
      if (line) trace.fault.line = line;
    } else {
      trace.fault = { pc: status.pc, message: 'the run paused (an instruction hook returned true); the simulation does not resume paused runs' };
    }
    return status;
  }

  private helperFn(env: ProgEnv, id: number): HelperFn | undefined {
    let e = env.helpers[id];
    if (e === undefined) {
      const info = this.table.helper(id);
      const impl = info ? HELPERS[info.name] : undefined;
      e = info && impl ? this.entry(env, info, info.name, impl) : null;
      if (id >= 0 && id < 0x10000) env.helpers[id] = e;
    }
    return e ? e.fn : undefined;
  }

  private kfuncFn(env: ProgEnv, index: number): HelperFn | undefined {
    let e = env.kfuncs[index];
    if (e === undefined) {
      const name = this.obj.kfuncs[index];
      const impl = name ? KFUNCS[name] : undefined;
      e = name && impl ? this.entry(env, this.table.kfunc(name) ?? null, name, impl) : null;
      if (index >= 0 && index < 0x10000) env.kfuncs[index] = e;
    }
    return e ? e.fn : undefined;
  }

  private entry(env: ProgEnv, info: HelperInfo | KfuncInfo | null, name: string, impl: Impl): CallEntry {
    const e: CallEntry = {
      name, info, impl,
      fn: (hc, r1, r2, r3, r4, r5) => this.call(env, e, hc, r1, r2, r3, r4, r5),
      nparams: info ? Math.min(5, info.params.filter((p) => p.name !== '...').length || 5) : 5,
      returnsInt: returnsInt(info),
      pure: PURE.has(name),
      gates: [],
    };
    return e;
  }

  /** The table's verdict on this call at the run's op: cached per op unless a rule of the op
   *  looks at the arguments or at the skb. */
  private gate(e: CallEntry, info: HelperInfo | KfuncInfo, run: ActiveRun, a: bigint[]): CallResult {
    const op = run.op;
    const cacheable = op < 256;
    let g = cacheable ? e.gates[op] : null;
    if (g === undefined) {
      const varies = info.sockOpsRules.some((r) => (r.when?.length || r.whenNoSkb) && r.ops.includes(op));
      g = varies ? null : this.table.callAt(info, op);
      e.gates[op] = g;
    }
    if (g) return g;
    return this.table.callAt(info, op, a.map((x) => i32(x)), { skb: run.skb !== null });
  }

  /** The CallCtx of `env`, pointing at the VM's HelperContext through a wrapper that notes a
   *  fault raised on purpose (env.faulting). */
  private callCtx(env: ProgEnv, hc: HelperContext, run: ActiveRun): CallCtx {
    let c = env.callCtx;
    if (!c || (c.hc as HelperContext & { raw?: HelperContext }).raw !== hc) {
      const hcx: HelperContext & { raw: HelperContext } = {
        raw: hc,
        memory: hc.memory,
        reg: (i) => hc.reg(i),
        get pc() { return hc.pc; },
        fault: (message: string): never => {
          env.faulting = true;
          return hc.fault(message);
        },
        callbackTarget: (v: bigint) => (hc.callbackTarget ? hc.callbackTarget(v) : null),
      };
      c = env.callCtx = { hc: hcx, k: this, run, env, info: null };
    }
    c.run = run;
    return c;
  }

  private call(env: ProgEnv, e: CallEntry, hc: HelperContext, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint | HelperCoroutine {
    const run = this.active;
    const name = e.name;
    if (!run || run.env !== env) return hc.fault(`${name} called outside a simulated run`);
    const info = e.info;
    const a = [r1, r2, r3, r4, r5];
    const c = this.callCtx(env, hc, run);
    c.info = info;
    env.faulting = false;
    let ret: bigint | HelperCoroutine;
    let ran = false;
    try {
      const gate = info && run.op >= 0 ? this.gate(e, info, run, a) : OK;
      if (gate.result === 'ok') {
        ran = true;
        ret = e.impl(c, a);
      } else {
        // A rule that follows the kernel function's own argument checks: those come first.
        const bad = gate.rule.afterArgChecks ? ARG_CHECKS[name]?.(c, a) : undefined;
        ret = bad ?? gateFailure(c, gate.rule, a, gate.result);
      }
    } catch (err) {
      return this.helperError(env, hc, name, err);
    }
    if (typeof ret !== 'bigint') return this.withCallbacks(env, e, hc, run, a, ret);
    return this.finishCall(env, e, hc.pc, run, a, ran, ret);
  }

  private helperError(env: ProgEnv, hc: HelperContext, name: string, err: unknown): never {
    if (env.faulting) throw err;
    if (err instanceof GuestFaultError) return hc.fault(`${name}: ${err.message}`);
    // A bug on our side (or in the socket model) ends this program run as a helper fault
    // naming the call, rather than crashing the host.
    return hc.fault(`internal error in ${name}: ${(err as Error).message ?? String(err)}`);
  }

  /** A helper with callbacks: the VM drives `it`; its trace entry and refresh come when it ends
   *  (after the entries of the helpers its callbacks called). */
  private *withCallbacks(env: ProgEnv, e: CallEntry, hc: HelperContext, run: ActiveRun, a: bigint[], it: HelperCoroutine): HelperCoroutine {
    const pc = hc.pc;
    let ret: bigint;
    try {
      env.faulting = false;
      let y = it.next();
      while (!y.done) {
        const r0 = yield y.value;
        env.faulting = false;
        y = it.next(r0);
      }
      ret = y.value;
    } catch (err) {
      return this.helperError(env, hc, e.name, err);
    }
    return this.finishCall(env, e, pc, run, a, true, ret);
  }

  private finishCall(env: ProgEnv, e: CallEntry, pc: number, run: ActiveRun, a: bigint[], ran: boolean, ret: bigint): bigint {
    const name = e.name;
    ret = BigInt.asUintN(64, ret);
    const t: HelperCallTrace = { pc, name, args: e.nparams === 5 ? a : a.slice(0, e.nparams), ret };
    // a negative errno: -4095..-1 as u64
    if (e.returnsInt && ret > 0xfffffffffffff000n) t.errno = this.errnoName(Number(BigInt.asIntN(64, ret)));
    run.info.trace.helpers.push(t);
    if (this.refreshAlways) this.refresh(run, true);
    else if ((ran && !e.pure) || run.dirty) this.refresh(run, false);
    return ret;
  }

  errnoName(errno: number): string {
    const n = this.table.errnoName(errno);
    return n.startsWith('errno ') ? ERRNO_NAMES[Math.abs(errno)] ?? n : n;
  }

  // ---------------------------------------------------------------------------------------------
  // Debugger support

  /** Called before every instruction of every program run while set. It may throw to abandon
   *  the simulation: the exception propagates out of sockOps()/setsockopt(). */
  setInsnHook(fn: InsnHook | null): void {
    this.insnHook = fn;
  }

  currentRun(): RunInfo | null {
    return this.active?.info ?? null;
  }

  maps(): MapView[] {
    return this.bpfMaps.map((m) => ({ def: m.def, entries: () => m.entries() }));
  }

  /** bpf_sk_storage values of one socket: one per SK_STORAGE map that has one. */
  skStorage(sockId: number): { def: MapDef; value: Uint8Array }[] {
    const out: { def: MapDef; value: Uint8Array }[] = [];
    for (const m of this.bpfMaps) {
      const v = m.storage.get(sockId);
      if (v) out.push({ def: m.def, value: v });
    }
    return out;
  }

  /** Every bpf_trace_printk/vprintk line so far, in order. */
  printk(): PrintkLine[] {
    return [...this.printkLog];
  }

  // ---------------------------------------------------------------------------------------------
  // Internals the helpers use

  /** @internal */ _map(c: CallCtx, handle: bigint): BpfMap {
    const i = c.env.handleToMap.get(handle);
    if (i === undefined) return c.hc.fault(`0x${handle.toString(16)} is not a map`);
    return this.bpfMaps[i]!;
  }
  /** @internal */ _valuePtr(c: CallCtx, m: BpfMap, v: Uint8Array, label?: string): bigint {
    return this.valueBase(c.env, m, v, label);
  }
  /** @internal */ _forget(c: CallCtx, v: Uint8Array): void {
    c.env.staleValues.push(v);
  }
  /** @internal */ _sock(c: CallCtx, addr: bigint): SockObjects | null {
    return this.sockFromPtr(c.env, addr);
  }
  /** @internal */ _bases(c: CallCtx, o: SockObjects): SockBases {
    return this.sockBases(c.env, o);
  }
  /** @internal A read-only copy of a key at a guest address, one region per nesting depth of
   *  bpf_for_each_map_elem and key size (the kernel hands out &key or elem->key; the program may
   *  only read it, PTR_TO_MAP_KEY). */
  _keyPtr(c: CallCtx, depth: number, key: Uint8Array): bigint {
    const id = `${depth}:${key.length}`;
    let m = c.env.keyRegions.get(id);
    if (!m) {
      const bytes = new Uint8Array(key.length);
      m = { bytes, base: c.env.vm.memory.map({ name: `bpf_for_each_map_elem key (depth ${depth + 1})`, kind: 'map', bytes, writable: false }) };
      c.env.keyRegions.set(id, m);
    }
    m.bytes.set(key);
    return m.base;
  }
  /** @internal */ _printk(c: CallCtx, text: string): void {
    c.run.info.trace.printk.push(text);
    const line: PrintkLine = { program: c.env.prog.name, label: c.run.info.label, text };
    if (c.run.op >= 0) line.op = c.run.op;
    this.printkLog.push(line);
  }
  /** @internal */ _rand(): number {
    return this.rng.nextU32();
  }
  /** @internal */ _now(): bigint {
    return this.clock.nowNs();
  }
  /** @internal */ _rcvqFlag(): number {
    return this.rcvqFlag;
  }
  /** @internal */ _rcvqOp(): number | undefined {
    return this.rcvqOp;
  }
}

/** The writers of the bpf_sock_ops fields from offset 20, compiled from the table's rows: the
 *  value each field reads as (sock_ops_convert_ctx_access), zero when its gate is closed.
 *  `open` has bit 1 << gate set for each open gate (CtxGate: none 0, locked_tcp_sock 1,
 *  fullsock 2, skb 3). `dynamic` skips the fields no helper can change during a run. */
function compileCtxWriter(t: SockopsTable): { all: CtxWriter; dynamic: CtxWriter } {
  const GATES = { none: 0, locked_tcp_sock: 1, fullsock: 2, skb: 3 } as const;
  const all: string[] = ['let v;'];
  const dynamic: string[] = ['let v;'];
  for (const f of t.profile.ctxFields) {
    if (f.offset < 20) continue; // op and args/reply belong to the kernel ctx, set once
    let expr: string;
    let kind: FieldKind = 'num';
    let fixed = true;
    switch (f.name) {
      case 'family': expr = '(s.family === "inet6" ? 10 : 2)'; break; // AF_INET6 : AF_INET
      // addresses in network byte order
      case 'remote_ip4': expr = 'bswap32(s.remote_ip4)'; break;
      case 'local_ip4': expr = 'bswap32(s.local_ip4)'; break;
      case 'remote_ip6': expr = 's.remote_ip6'; kind = 'bytes'; break;
      case 'local_ip6': expr = 's.local_ip6'; kind = 'bytes'; break;
      // skc_dport (network order) loaded as 2 bytes then << 16: bytes 0, 0, port hi, port lo
      case 'remote_port': expr = '((((s.remote_port & 0xff) << 24) | (((s.remote_port >>> 8) & 0xff) << 16)) >>> 0)'; break;
      case 'local_port': expr = 's.local_port'; break;
      case 'is_fullsock': expr = '(run.fullsock ? 1 : 0)'; break;
      case 'sk': expr = 'bases.bpfSock'; kind = 'big'; break;
      case 'skb_data': expr = 'run.packetBase'; kind = 'big'; break;
      // skb->data + end_offset (bpf_skops_init_skb): 0 at RCVQ_CB (seed) and HDR_OPT_LEN_CB, the
      // TCP header length at PASSIVE_ESTABLISHED_CB/PARSE_HDR_OPT_CB, the start of the BPF option
      // space at WRITE_HDR_OPT_CB; bpf_store_hdr_opt() moves it
      case 'skb_data_end': expr = '(run.dataEnd ? run.packetBase + BigInt(run.dataEnd) : run.packetBase)'; kind = 'big'; fixed = false; break;
      case 'skb_len': expr = '(run.skb !== null ? run.skbLen : 0)'; break;
      case 'skb_tcp_flags': expr = '(run.skb !== null ? run.skb.tcpFlags : 0)'; break;
      case 'skb_hwtstamp': expr = '0n'; kind = 'big'; break;
      case 'state': expr = 's.state'; fixed = false; break;
      // ungated load of tcp_sock.rtt_min through sk; on a request sock it reads past struct
      // request_sock: the live 6.18 run (test:kernel part 3) reads 0 there, so do we (assumed)
      case 'rtt_min': expr = "(run.fullsock && typeof s.rtt_min === 'number' ? s.rtt_min : 0)"; fixed = false; break;
      default: {
        // a SockModel member of that name if it holds a number or bigint, else 0
        const key = /^[A-Za-z_$][\w$]*$/.test(f.name) ? `s.${f.name}` : `s[${JSON.stringify(f.name)}]`;
        expr = `v = ${key}, (typeof v === 'number' || typeof v === 'bigint' ? v : 0)`;
        kind = 'any' as FieldKind;
        fixed = false;
      }
    }
    const write = kind !== ('any' as FieldKind) ? writeStatement(expr, kind, f.offset, f.size, t.profile.ctxSize)
      : f.size === 4 ? `v = (${expr}); if (typeof v === 'number') dv.setUint32(${f.offset}, v, true); else put(dv, buf, ${f.offset}, 4, v);`
      : `put(dv, buf, ${f.offset}, ${f.size}, (${expr}));`;
    const zero = f.size === 4 ? `dv.setUint32(${f.offset}, 0, true);` : `buf.fill(0, ${f.offset}, ${f.offset + f.size});`;
    const stmt = `if (open & ${1 << GATES[f.gate]}) { ${write} } else { ${zero} }`;
    all.push(stmt);
    if (!fixed) dynamic.push(stmt);
  }
  const params = ['s', 'run', 'bases', 'open'];
  return { all: compileWriter<[SockModel, ActiveRun, SockBases, number]>(params, all), dynamic: compileWriter<[SockModel, ActiveRun, SockBases, number]>(params, dynamic) };
}

function returnsInt(info: HelperInfo | KfuncInfo | null): boolean {
  if (!info) return true;
  return !/\*/.test(info.ret);
}

/** A per-op rule said no: the helper returns the errno without doing its work, zeroing its
 *  output buffer first where the rule says so (the table's `zeroes`). */
function gateFailure(c: CallCtx, rule: OpRule, a: bigint[], errno: number): bigint {
  if (rule.zeroes) zeroFill(c, a[rule.zeroes.arg]!, u32(a[rule.zeroes.lenArg]!));
  return r64(errno);
}

function zeroFill(c: CallCtx, addr: bigint, len: number): void {
  if (len > 0) c.hc.memory.writeBytes(addr, new Uint8Array(outBuf(c, addr, len)));
}

/** The length of a guest buffer a helper is about to fill, checked against the buffer first:
 *  the verifier bounds an ARG_CONST_SIZE by its buffer, so a longer one (up to 4 GiB from a
 *  register) is a program the kernel refuses, and faults here before the host allocates it. */
function outBuf(c: CallCtx, addr: bigint, len: number): number {
  if (len > 0 && !c.hc.memory.find(addr, len)) {
    throw new GuestFaultError(`store of ${len} bytes at 0x${addr.toString(16)} is outside any region`, 'bad-access', addr);
  }
  return len;
}

// ---- struct bpf_sock / struct bpf_tcp_sock (UAPI views; bpf_sock_convert_ctx_access, bpf_tcp_sock_convert_ctx_access) ----

// Both objects are created zeroed and every fill writes the same bytes, so the rest stays 0.
function fillBpfSock(dv: DataView, b: Uint8Array, s: SockModel): void {
  dv.setUint32(4, familyNumber(s), true);
  dv.setUint32(8, 1, true); // SOCK_STREAM
  dv.setUint32(12, 6, true); // IPPROTO_TCP
  dv.setUint32(24, s.local_ip4, false); // src_ip4, network order
  copy16(b, 28, s.local_ip6);
  dv.setUint32(44, s.local_port, true); // src_port, host order
  dv.setUint16(48, s.remote_port, false); // dst_port, network order
  dv.setUint32(52, s.remote_ip4, false);
  copy16(b, 56, s.remote_ip6);
  dv.setUint32(72, s.state, true);
  dv.setInt32(76, -1, true); // rx_queue_mapping: none recorded
}

/** 16 bytes of an IPv6 address (missing bytes read as 0). */
function copy16(b: Uint8Array, off: number, a: Uint8Array): void {
  for (let i = 0; i < 16; i++) b[off + i] = a[i] ?? 0;
}

function fillBpfTcpSock(dv: DataView, s: SockModel): void {
  dv.setUint32(0, s.snd_cwnd >>> 0, true);
  dv.setUint32(4, s.srtt_us >>> 0, true);
  dv.setUint32(8, (s.rtt_min ?? 0) >>> 0, true);
  dv.setUint32(16, s.rcv_nxt >>> 0, true);
  dv.setUint32(20, s.snd_nxt >>> 0, true);
  dv.setUint32(24, s.snd_una >>> 0, true);
  dv.setUint32(28, s.mss_cache >>> 0, true);
  dv.setUint32(56, s.segs_in >>> 0, true);
  dv.setUint32(60, s.data_segs_in >>> 0, true);
  dv.setBigUint64(80, s.bytes_received, true);
  dv.setBigUint64(88, s.bytes_acked, true);
}

// ---------------------------------------------------------------------------------------------
// Helpers (by kernel name). Per-op gates were applied by the caller from the table.

const readBytes = (c: CallCtx, addr: bigint, len: number) => c.hc.memory.readBytes(addr, len);

/** Guest memory as %s/%pI4 read it: a bad address gives null (the kernel prints nothing). */
class PrintkMem {
  constructor(readonly c: CallCtx) {}
  cstring(addr: bigint, max: number): string | null {
    try {
      return this.c.hc.memory.readCString(addr, max);
    } catch {
      return null;
    }
  }
  bytes(addr: bigint, len: number): Uint8Array | null {
    try {
      return this.c.hc.memory.readBytes(addr, len);
    } catch {
      return null;
    }
  }
}

/** One PrintkMem per CallCtx (the CallCtx of a program is reused from call to call). */
const printkMems = new WeakMap<CallCtx, PrintkMem>();
function printkMemory(c: CallCtx): PrintkMem {
  let m = printkMems.get(c);
  if (!m) printkMems.set(c, (m = new PrintkMem(c)));
  return m;
}

/** net/core/filter.c bpf_sock_ops_getsockopt for TCP_BPF_SYN..TCP_BPF_SYN_MAC: the headers of
 *  the peer's SYN from bpf_sock_ops_get_syn (syn_skb at the SYN-ACK header-option ops, else the
 *  saved SYN, which the model never keeps: -ENOENT); -ENOSPC with the first optlen bytes when
 *  they do not fit; the unused tail zeroed. Only the SYN's TCP header is modeled. */
function sockOpsGetSyn(c: CallCtx, optname: number, out: Uint8Array): number {
  const syn = c.run.synHeader;
  if (!syn) return -ENOENT; // out is still all zeros
  if (optname !== TCP_BPF_SYN) {
    const name = optname === TCP_BPF_SYN_IP ? 'TCP_BPF_SYN_IP' : 'TCP_BPF_SYN_MAC';
    return c.hc.fault(`${name} asks for the IP${optname === TCP_BPF_SYN_IP ? '' : ' and MAC'} headers of the peer's SYN (bpf_sock_ops_get_syn), which the simulation does not model (it keeps the SYN's TCP header only: use TCP_BPF_SYN)`);
  }
  const copy = Math.min(syn.length, out.length);
  out.set(syn.subarray(0, copy));
  return copy < syn.length ? -ENOSPC : syn.length;
}

function sockoptSock(c: CallCtx, arg: bigint): SockObjects | null {
  // sock_ops flavour: arg1 is the ctx; cgroup flavour: a socket pointer (ARG_PTR_TO_BTF_ID_SOCK_COMMON).
  if (c.env.progType === 'sock_ops') return c.run.objs;
  return c.k._sock(c, arg);
}

const HELPERS: Record<string, Impl> = {
  bpf_map_lookup_elem(c, a) {
    const m = c.k._map(c, a[0]!);
    if (m.kind === 'unsupported' || m.kind === 'perf_event_array') return c.hc.fault(`bpf_map_lookup_elem on ${m.def.typeName} map ${m.def.name} is not modeled`);
    const v = m.lookup(readBytes(c, a[1]!, m.def.keySize));
    return v ? c.k._valuePtr(c, m, v) : 0n;
  },
  bpf_map_update_elem(c, a) {
    const m = c.k._map(c, a[0]!);
    if (m.kind === 'unsupported') return c.hc.fault(`bpf_map_update_elem on ${m.def.typeName} map ${m.def.name} is not modeled`);
    return r64(m.update(readBytes(c, a[1]!, m.def.keySize), readBytes(c, a[2]!, m.def.valueSize), a[3]!));
  },
  bpf_map_delete_elem(c, a) {
    const m = c.k._map(c, a[0]!);
    if (m.kind === 'unsupported') return c.hc.fault(`bpf_map_delete_elem on ${m.def.typeName} map ${m.def.name} is not modeled`);
    const r = m.delete(readBytes(c, a[1]!, m.def.keySize));
    if (r.removed) c.k._forget(c, r.removed);
    return r64(r.ret);
  },
  bpf_ktime_get_ns: (c) => c.k._now(),
  bpf_ktime_get_boot_ns: (c) => c.k._now(),
  bpf_ktime_get_coarse_ns: (c) => c.k._now(),
  bpf_get_prandom_u32: (c) => BigInt(c.k._rand()),
  bpf_get_smp_processor_id: () => 0n,
  bpf_get_numa_node_id: () => 0n,
  bpf_trace_printk(c, a) {
    const fmt = readBytes(c, a[0]!, u32(a[1]!));
    const r = formatPrintk(fmt, [a[2]!, a[3]!, a[4]!], printkMemory(c));
    if (!r.ok) return r64(r.errno);
    c.k._printk(c, r.text);
    return BigInt(r.ret);
  },
  bpf_trace_vprintk(c, a) {
    const dataLen = u32(a[3]!);
    if (dataLen & 7 || dataLen > MAX_BPRINTF_VARARGS * 8 || (dataLen && a[2] === 0n)) return r64(-EINVAL);
    const fmt = readBytes(c, a[0]!, u32(a[1]!));
    const raw = dataLen ? readBytes(c, a[2]!, dataLen) : new Uint8Array(0);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const args = Array.from({ length: dataLen / 8 }, (_, i) => dv.getBigUint64(8 * i, true));
    const r = formatPrintk(fmt, args, printkMemory(c));
    if (!r.ok) return r64(r.errno);
    c.k._printk(c, r.text);
    return BigInt(r.ret);
  },
  bpf_perf_event_output(c, a) {
    // bpf_event_output_data -> __bpf_perf_event_output: index from flags (BPF_F_INDEX_MASK), current CPU = 0.
    const m = c.k._map(c, a[1]!);
    const flags = a[2]!;
    if (flags & ~0xfffff_ffffffffn) return r64(-EINVAL); // only BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK
    let index = Number(flags & 0xffffffffn);
    if (index === 0xffffffff) index = 0;
    if (index >= (m.def.maxEntries || 1)) return r64(-E2BIG); // max_entries 0: libbpf sizes it to the CPUs (1 here)
    const data = readBytes(c, a[3]!, u32(a[4]!));
    m.perfOutput.push({ index, data });
    return 0n;
  },
  bpf_skb_load_bytes(c, a) {
    // Sock_ops flavour at RCVQ_CB (seed): offsets from the first payload byte; -EFAULT and a
    // zero-filled `to` when skb is NULL (recvmsg path) or the range is outside the payload.
    const off = u32(a[1]!);
    const len = u32(a[3]!);
    const skb = c.run.skb;
    const pkt = c.run.pkt;
    if (!skb || !pkt || off > INT_MAX || off + len > c.run.skbLen) {
      zeroFill(c, a[2]!, len);
      return r64(-EFAULT);
    }
    c.hc.memory.writeBytes(a[2]!, pkt.subarray(off, off + len));
    return 0n;
  },
  bpf_get_socket_cookie: (c) => BigInt.asUintN(64, c.run.objs.sock.cookie),
  bpf_get_netns_cookie: () => 1n, // init_net's cookie; its value is ours (assumed)
  bpf_setsockopt(c, a) {
    const o = sockoptSock(c, a[0]!);
    if (!o) return r64(-EINVAL);
    const optlen = i32(a[4]!);
    if (optlen < 0) return r64(-EINVAL);
    const val = readBytes(c, a[3]!, optlen);
    const r = bpfSetsockopt(o.sock, c.run.fullsock, i32(a[1]!), i32(a[2]!), val, c.k.table.profile.allCbFlags);
    return r64(r.ret);
  },
  bpf_getsockopt(c, a) {
    const o = sockoptSock(c, a[0]!);
    const optlen = i32(a[4]!);
    if (optlen < 0) return r64(-EINVAL);
    const out = new Uint8Array(outBuf(c, a[3]!, optlen));
    const level = i32(a[1]!);
    const optname = i32(a[2]!);
    // bpf_sock_ops_getsockopt: the peer's SYN comes before _bpf_getsockopt and its fullsock check
    const syn = c.env.progType === 'sock_ops' && level === SOL_TCP && optname >= TCP_BPF_SYN && optname <= TCP_BPF_SYN_MAC;
    const ret = syn ? sockOpsGetSyn(c, optname, out)
      : o ? bpfGetsockopt(o.sock, c.run.fullsock, level, optname, out).ret : -EINVAL;
    c.hc.memory.writeBytes(a[3]!, out);
    return r64(ret);
  },
  bpf_sock_ops_cb_flags_set(c, a) {
    // net/core/filter.c bpf_sock_ops_cb_flags_set: keep argval & ALL_CB_FLAGS, return the rest.
    const argval = i32(a[1]!);
    const all = c.k.table.profile.allCbFlags;
    if (!c.run.fullsock) return r64(-EINVAL);
    const r = c.run.objs.sock.setCbFlags(argval & all);
    if (r < 0) return r64(r);
    return r64(argval & ~all);
  },
  bpf_tcp_sock(c, a) {
    const o = c.k._sock(c, a[0]!);
    if (!o || !c.run.fullsock) return 0n;
    return c.k._bases(c, o).bpfTcpSock;
  },
  bpf_skc_to_tcp_sock(c, a) {
    const o = c.k._sock(c, a[0]!);
    if (!o || !c.run.fullsock) return 0n;
    return c.k._bases(c, o).tcp;
  },
  bpf_sk_storage_get(c, a) {
    // net/core/bpf_sk_storage.c bpf_sk_storage_get: NULL for a NULL/non-full sk or unknown flags.
    const m = c.k._map(c, a[0]!);
    const o = c.k._sock(c, a[1]!);
    const flags = a[3]!;
    if (!o || !c.run.fullsock || flags > BigInt(BPF_SK_STORAGE_GET_F_CREATE)) return 0n;
    let v = m.storage.get(o.sock.id);
    if (!v && flags & 1n) {
      v = new Uint8Array(m.def.valueSize);
      if (a[2]! !== 0n) v.set(readBytes(c, a[2]!, m.def.valueSize));
      m.storage.set(o.sock.id, v);
    }
    return v ? c.k._valuePtr(c, m, v, `sk_storage sock#${o.sock.id}`) : 0n;
  },
  bpf_sk_storage_delete(c, a) {
    const m = c.k._map(c, a[0]!);
    const o = c.k._sock(c, a[1]!);
    if (!o || !c.run.fullsock) return r64(-EINVAL);
    const v = m.storage.get(o.sock.id);
    if (!v) return r64(-ENOENT);
    m.storage.delete(o.sock.id);
    c.k._forget(c, v);
    return 0n;
  },
  bpf_load_hdr_opt(c, a) {
    // net/core/filter.c bpf_sock_ops_load_hdr_opt: argument checks, then the peer's SYN
    // (BPF_LOAD_HDR_OPT_TCP_SYN: bpf_sock_ops_get_syn: syn_skb at the SYN-ACK ops, else the
    // saved SYN, which the model never keeps: -ENOENT) or the current skb's options from
    // skb->data + sizeof(struct tcphdr) to skb_data_end; bpf_search_tcp_opt; the option copied,
    // -ENOSPC when it is longer than the buffer (the first len bytes copied). The -EPERM for
    // HDR_OPT_LEN_CB or no skb is the table's rule, applied after loadHdrOptArgs.
    const bad = loadHdrOptArgs(c, a);
    if (bad !== undefined) return bad;
    const len = u32(a[2]!);
    const search = readBytes(c, a[1]!, Math.min(len, 6));
    const magic = search[0] === 254 || search[0] === 253 ? search.subarray(2, search[1]!) : null;
    let opts: Uint8Array;
    if (a[3]! & 1n) {
      const syn = c.run.synHeader;
      if (!syn) return r64(-ENOENT);
      opts = syn.subarray(20);
    } else {
      const pkt = c.run.pkt;
      if (!pkt || !c.run.skb) return r64(-EPERM); // the table's rule covers this; kept for direct calls
      opts = pkt.subarray(Math.min(20, c.run.dataEnd), c.run.dataEnd);
    }
    const r = searchTcpOpt(opts, search[0]!, magic);
    if (r.at < 0) return r64(r.err);
    const optLen = opts[r.at + 1]!;
    const copy = Math.min(optLen, len);
    c.hc.memory.writeBytes(a[1]!, opts.subarray(r.at, r.at + copy));
    return optLen > len ? r64(-ENOSPC) : BigInt(optLen);
  },
  bpf_store_hdr_opt(c, a) {
    // net/core/filter.c bpf_sock_ops_store_hdr_opt after the op check: arguments, the space
    // left, a duplicate search over the options written so far (kind, and 2 bytes of magic for
    // the experimental kinds), -ENOSPC after an EOL, then the option appended at skb_data_end.
    const len = u32(a[2]!);
    if (len < 2 || a[3]! !== 0n) return r64(-EINVAL);
    const from = readBytes(c, a[1]!, len);
    const kind = from[0]!;
    const klen = from[1]!;
    if (klen > len || kind === 0 || kind === 1) return r64(-EINVAL);
    if (klen > c.run.remainingOptLen) return r64(-ENOSPC);
    let magic: Uint8Array | null = null;
    if (kind === 254 || kind === 253) {
      if (klen < 4) return r64(-EINVAL);
      magic = from.subarray(2, 4);
    }
    const pkt = c.run.pkt;
    if (!pkt) return r64(-EPERM); // WRITE_HDR_OPT_CB always has its skb (bpf_skops_write_hdr_opt)
    const r = searchTcpOpt(pkt.subarray(Math.min(20, c.run.dataEnd), c.run.dataEnd), kind, magic);
    if (r.at >= 0) return r64(-EEXIST);
    if (r.err !== -ENOMSG) return r64(r.err);
    if (r.eol) return r64(-ENOSPC);
    if (c.run.dataEnd + klen > pkt.length) return r64(-ENOSPC); // the model always leaves the room it reported
    pkt.set(from.subarray(0, klen), c.run.dataEnd); // pkt is the mapped packet region: the guest sees it
    c.run.remainingOptLen -= klen;
    c.run.dataEnd += klen;
    c.run.written += klen;
    return 0n;
  },
  bpf_reserve_hdr_opt(c, a) {
    // net/core/filter.c bpf_sock_ops_reserve_hdr_opt after the op check: flags, len >= 2, then
    // the room left by the kernel's own options (remaining_opt_len, from the model).
    const len = u32(a[1]!);
    if (a[2]! !== 0n || len < 2) return r64(-EINVAL);
    if (len > c.run.remainingOptLen) return r64(-ENOSPC);
    c.run.remainingOptLen -= len;
    return 0n;
  },
  bpf_loop: (c, a) => bpfLoop(c.hc, a[0]!, a[1]!, a[2]!, a[3]!, c.env.loopInlined.has(c.hc.pc)),
  bpf_for_each_map_elem(c, a) {
    const m = c.k._map(c, a[0]!);
    if (m.kind !== 'array' && m.kind !== 'hash' && m.kind !== 'global') {
      return c.hc.fault(`bpf_for_each_map_elem on ${m.def.typeName} map ${m.def.name}: the verifier refuses it ("callback function not allowed for map"); only array and hash maps have map_for_each_callback`);
    }
    const depth = c.env.forEachDepth;
    const elems = function* (): Generator<ElemPtrs> {
      c.env.forEachDepth = depth + 1;
      try {
        for (const e of m.liveEntries()) yield { key: c.k._keyPtr(c, depth, e.key), value: c.k._valuePtr(c, m, e.value) };
      } finally {
        c.env.forEachDepth = depth;
      }
    };
    return forEachMapElem(c.hc, a[0]!, a[1]!, a[2]!, a[3]!, elems);
  },
  bpf_sock_map_update: (c, a) => sockmapUpdate(c, a, 'bpf_sock_map_update', MapType.SOCKMAP),
  bpf_sock_hash_update: (c, a) => sockmapUpdate(c, a, 'bpf_sock_hash_update', MapType.SOCKHASH),
  // kernel/bpf/cgroup.c: bpf_cg_run_ctx.retval of the cgroup hook in progress (int, sign-extended to r0).
  bpf_get_retval: (c) => r64(c.run.retval),
  bpf_set_retval(c, a) {
    c.run.retval = i32(a[0]!);
    return 0n;
  },
};

/** net/core/filter.c bpf_sock_ops_load_hdr_opt before it looks at the op or the skb: -EINVAL
 *  for len < 2, unknown flags or a bad search in searchby_res; undefined when they pass. */
function loadHdrOptArgs(c: CallCtx, a: bigint[]): bigint | undefined {
  const len = u32(a[2]!);
  const flags = a[3]!;
  if (len < 2 || flags & ~1n) return r64(-EINVAL);
  const s = readBytes(c, a[1]!, 2);
  const kind = s[0]!;
  const slen = s[1]!;
  if (slen > len || kind === 1 || kind === 0) return r64(-EINVAL); // TCPOPT_NOP, TCPOPT_EOL
  if (kind === 254 || kind === 253) {
    if (slen !== 4 && slen !== 6) return r64(-EINVAL); // TCPOPT_EXP: 16- or 32-bit magic
  } else if (slen) return r64(-EINVAL);
  return undefined;
}

/** net/core/filter.c bpf_search_tcp_opt(): walk the options (NOP skipped, EOL ends with
 *  -ENOMSG and eol set, a malformed length -EFAULT); match the kind and, with `magic`, the
 *  bytes after kind/len (-ENOMSG when the option is too short for it). */
export function searchTcpOpt(opts: Uint8Array, kind: number, magic: Uint8Array | null): { at: number; err: number; eol: boolean } {
  let i = 0;
  while (i < opts.length) {
    const k = opts[i]!;
    if (k === 0) return { at: -1, err: -ENOMSG, eol: true };
    if (k === 1) { i++; continue; }
    const left = opts.length - i;
    if (left < 2 || left < opts[i + 1]! || opts[i + 1]! < 2) return { at: -1, err: -EFAULT, eol: false };
    const klen = opts[i + 1]!;
    if (k === kind) {
      if (!magic || magic.length === 0) return { at: i, err: 0, eol: false };
      if (magic.length > klen - 2) return { at: -1, err: -ENOMSG, eol: false };
      let same = true;
      for (let j = 0; j < magic.length; j++) if (opts[i + 2 + j] !== magic[j]) { same = false; break; }
      if (same) return { at: i, err: 0, eol: false };
    }
    i += klen;
  }
  return { at: -1, err: -ENOMSG, eol: false };
}

/** Argument checks that run before a table rule marked afterArgChecks (by kernel name). */
const ARG_CHECKS: Record<string, (c: CallCtx, a: bigint[]) => bigint | undefined> = {
  bpf_load_hdr_opt: loadHdrOptArgs,
};

/** Helpers and kfuncs that cannot change the socket, the ctx or bpf_sock_ops_kern: the kernel
 *  objects need no refresh after them. Anything not listed refreshes (the safe default). */
const PURE = new Set([
  'bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_ktime_get_ns', 'bpf_ktime_get_boot_ns',
  'bpf_ktime_get_coarse_ns', 'bpf_get_prandom_u32', 'bpf_get_smp_processor_id', 'bpf_get_numa_node_id',
  'bpf_trace_printk', 'bpf_trace_vprintk', 'bpf_perf_event_output', 'bpf_skb_load_bytes', 'bpf_get_socket_cookie',
  'bpf_get_netns_cookie', 'bpf_getsockopt', 'bpf_tcp_sock', 'bpf_skc_to_tcp_sock', 'bpf_sk_storage_get',
  'bpf_sk_storage_delete', 'bpf_load_hdr_opt', 'bpf_get_retval', 'bpf_set_retval',
  'bpf_cast_to_kern_ctx', 'bpf_rdonly_cast', 'bpf_sock_ops_enable_tx_tstamp',
  // change nothing themselves; the helpers their callbacks call refresh after themselves
  'bpf_loop', 'bpf_for_each_map_elem',
]);

function sockmapUpdate(c: CallCtx, a: bigint[], name: string, type: number): bigint {
  // net/core/sock_map.c bpf_sock_map_update/bpf_sock_hash_update after the op check:
  // sock_{map,hash}_update_common: unknown flags, (sockmap) an index past max_entries, the link
  // (where the AutoLOWAT rule goes, design §4.6: a socket with the RCVQ_CB flag on cannot join,
  // -EBUSY, assumed), then BPF_NOEXIST/BPF_EXIST and (sockhash) a full map.
  const m = c.k._map(c, a[1]!);
  if (m.def.type !== type) {
    // kernel/bpf/verifier.c check_map_func_compatibility refuses the program
    return c.hc.fault(`cannot pass map_type ${m.def.type} into func ${name} (map ${m.def.name}, ${m.def.typeName}); the verifier refuses it: ${name} takes a BPF_MAP_TYPE_${type === MapType.SOCKMAP ? 'SOCKMAP' : 'SOCKHASH'}`);
  }
  const flags = a[3]!;
  if (flags > BigInt(BPF_EXIST)) return r64(-EINVAL);
  const key = readBytes(c, a[2]!, m.def.keySize);
  if (type === MapType.SOCKMAP && !m.sockmapIndexOk(key)) return r64(-E2BIG);
  const sock = c.run.objs.sock;
  const rcvq = c.k._rcvqFlag();
  if (rcvq && sock.bpf_sock_ops_cb_flags & rcvq) return r64(-EBUSY);
  const r = m.sockmapUpdate(key, sock.id, Number(flags));
  if (r < 0) return r64(r);
  sock.in_sockmap = true;
  return 0n;
}

const KFUNCS: Record<string, Impl> = {
  bpf_cast_to_kern_ctx(c, a) {
    if (a[0] !== c.run.info.ctxBase || c.run.info.kernCtxBase === undefined) return a[0]!;
    return c.run.info.kernCtxBase;
  },
  bpf_rdonly_cast: (_c, a) => a[0]!, // the pointer itself: reads go to the object's region
  bpf_sock_ops_enable_tx_tstamp(_c, a) {
    // net/core/filter.c after the op check (TSTAMP_SENDMSG_CB only): flags must be 0.
    return a[1] !== 0n ? r64(-EINVAL) : 0n;
  },
  bpf_sock_ops_tcp_set_rcvlowat(c, a) {
    // design.md §4.4 (seed): negative -> INT_MAX, then the tcp_set_rcvlowat() rules; wake up only
    // on the recvmsg path (skb NULL), the enqueue path's tcp_data_ready() follows the hook.
    let val = i32(a[1]!);
    if (val < 0) val = INT_MAX;
    return r64(c.run.objs.sock.setRcvlowat(val, { wakeup: c.run.skb === null }));
  },
};

/** Names of the helpers and kfuncs the emulator implements. */
export const IMPLEMENTED_HELPERS: readonly string[] = Object.keys(HELPERS);
export const IMPLEMENTED_KFUNCS: readonly string[] = Object.keys(KFUNCS);
