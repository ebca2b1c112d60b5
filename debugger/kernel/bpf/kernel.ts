// The BPF side of the simulated kernel: picks the programs of an object, prepares them for the
// VM, builds the contexts the kernel would pass (struct bpf_sock_ops / bpf_sock_ops_kern,
// struct bpf_sockopt) in run frames, and runs the programs for the TCP model's hooks. The
// kernel objects of the sockets live in ./objects.ts, helper and kfunc calls go through
// ./dispatch.ts to the implementations in ./helpers/ and ./kfuncs.ts, which reach the kernel only
// through the KernelHost this class builds (./run.ts). Per-op facts come from the sockops table.
//
// Speed (bench/kernel.ts): everything that does not change from run to run is worked out once
// per program: the ctx, bpf_sock_ops_kern, sk_buff and packet regions are mapped once and
// refilled in place; field writers come from the table and the BTF at load time; helper entries
// (implementation, per-op verdict of the table, trace shape) are built on first call. After a
// helper call the kernel objects are rewritten only if the helper can change the socket (or a
// ctx store changed it): the others leave every byte as it was.
import type { BpfObject, BpfProgram, MapDef } from '../../object/types';
import type { CallTable, RunStatus, VmApi } from '../../vm/api';
import { createVm, Memory, validate } from '../../vm';
import type { HelperInfo, KfuncInfo } from '../../../sockops/types';
import { table as sockopsTable, type SockopsTable } from '../../../sockops';
import type {
  BpfHooks, ProbeReadFact, ProgramRunTrace, SetsockoptInvocation, SockModel, SockOpsInvocation, SockOpsResult,
} from '../types';
import type { GetsockoptHookResult, GetsockoptInvocation } from '../types';
import { EFAULT, EINVAL, EPERM } from './consts';
import { LoadError } from './errors';
import { KernCtxLayout, SkbLayout, SockLayout } from './layout';
import { BpfMap, type MapCheckpoint } from './maps';
import { Prng, VirtualClock } from './prng';
import { bpfLoopInlinedCalls } from './callbacks';
import { checkCalls, lineOf, mapHelperError, pickProgram, progTypeOf, scanProgram, sockoptAccessError } from './prepare';
import { CallDispatch } from './dispatch';
import { RunFrames } from './frames';
import { convertSockAccesses } from './convert';
import { analyzeKinds } from '../../verifier/kinds';
import type { KindsResult } from '../../verifier/types';
import { ARG_CHECKS, HELPERS, KFUNCS } from './helpers';
import { NOT_MODELLED } from './helpers/notmodelled';
import { SIM_CGROUP_ID } from './helpers/memory';
import { KernelObjects, type SockObjects } from './objects';
import { resolveStructOps, structOpsCtxAccessError, TcpOpsFlags } from './structops';
import type { StructOpsMemberInfo, StructOpsProfile } from '../../../sockops/types';
import type { Skb } from '../types';
import {
  PAGE_SIZE, ProgEnv, type ActiveRun, type CallCtx, type InsnHook, type KernelHost, type MapView,
  type PrintkLine, type RunInfo, type SetsockoptOutcome, type SockoptFrame,
} from './run';

/** pcs of the loads the kernel runs as BPF_PROBE_MEM: through PTR_TO_BTF_ID pointers and
 *  untrusted memory (kernel/bpf/verifier.c convert_ctx_accesses, BPF_PROBE_MEM). */
function probeLoads(prog: BpfProgram, kinds: KindsResult): Set<number> {
  const out = new Set<number>();
  for (let pc = 0; pc < prog.insns.length; pc++) {
    const a = kinds.accessAt(pc);
    if (!a || a.write) continue;
    if (a.base.type === 'PTR_TO_BTF_ID' || (a.base.type === 'PTR_TO_MEM' && a.base.trusted === false)) out.add(pc);
  }
  return out;
}

/** The name of a packet region of `len` bytes (built only when a region is mapped). */
const PACKET_NAME = (len: number) => `skb payload (${len} bytes)`;

export type { RunInfo, InsnHook, SetsockoptOutcome, MapView, PrintkLine } from './run';

/** BpfKernel.checkpoint(). */
export interface KernelCheckpoint { maps: MapCheckpoint[]; printk: number; rng: [bigint, bigint]; tcpOps?: [number, number][] }
export { IMPLEMENTED_HELPERS, IMPLEMENTED_KFUNCS } from './helpers';

export interface BpfKernelOptions {
  /** Function name of the SEC("sockops") program; omitted: the only one in the object. */
  sockops?: string;
  /** Function name of a SEC("cgroup/setsockopt") program to attach, if any. */
  setsockopt?: string;
  /** Function name of a SEC("cgroup/getsockopt") program to attach, if any. */
  getsockopt?: string;
  /** Variable of SEC(".struct_ops.link") / SEC(".struct_ops") to attach (profiles with struct
   *  bpf_tcp_ops); omitted: the object's only one, when the object has no sockops program. */
  structOps?: string;
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
  /** Keep every bpf_printk line in printk() (default true). False: the lines are only in each
   *  run's trace (ProgramRunTrace.printk), for callers that keep their own log from the traces
   *  (Simulation) or drop them (benchmarks, fuzzers): a log that grows with every run costs
   *  ~30% of the per-event time in GC (bench/kernel.ts). */
  printkLog?: boolean;
  /** What each run's trace keeps of its helper calls (default 'full'; see traceLevel). */
  trace?: TraceLevel;
  /** The VM tier the programs run in (default 'interp'; 'fast': compiled to JavaScript, the same
   *  results; bench/kernel.ts measures both on the example hook). */
  tier?: 'interp' | 'fast';
}



/** 'full': every helper call in ProgramRunTrace.helpers (pc, name, args, r0, errno); 'brief':
 *  ProgramRunTrace.calls (pc and r0's low byte per call) and, in helpers, only the calls that
 *  returned a negative r0: no object per call, for callers that only count and hash calls
 *  (explore, benchmarks). */
export type TraceLevel = 'full' | 'brief';

export class BpfKernel implements BpfHooks {
  readonly table: SockopsTable;
  readonly obj: BpfObject;
  readonly sockopsProgram: BpfProgram | null;
  readonly setsockoptProgram: BpfProgram | null;
  readonly getsockoptProgram: BpfProgram | null;
  /** Non-fatal observations (layout conflicts, helpers the emulator does not implement). */
  readonly warnings: string[] = [];
  /** The trace level of the runs that start from now on (TraceLevel). */
  traceLevel: TraceLevel;

  private readonly envs: ProgEnv[] = [];
  private readonly sockEnv: ProgEnv | null;
  private readonly sockoptEnv: ProgEnv | null;
  private readonly getsockoptEnv: ProgEnv | null;
  private readonly bpfMaps: BpfMap[];
  private readonly sockLayout: SockLayout;
  private readonly skbLayout: SkbLayout;
  private readonly kernLayout: KernCtxLayout;
  private readonly objects: KernelObjects;
  /** struct cgroup (sized from the program's BTF, else 1024 bytes, assumed); its fields read 0. */
  private readonly cgroupBytes: Uint8Array;
  private readonly dispatch: CallDispatch;
  private readonly rng: Prng;
  private readonly clock: { nowNs(): bigint };
  private readonly budget: number | undefined;
  private readonly tier: 'interp' | 'fast';
  private readonly printkLog: PrintkLine[] = [];
  private readonly keepPrintk: boolean;
  private insnHook: InsnHook | null = null;
  private active: ActiveRun | null = null;
  private readonly rcvqFlag: number;
  private readonly hdrOptLenOp: number | undefined;
  private readonly txhashOff: number;
  private readonly frames: RunFrames;
  /** struct bpf_tcp_ops members attached (./structops.ts) and the sockets' flags; null: none. */
  private readonly tcpOpsEnvs: Map<string, ProgEnv> | null = null;
  private readonly tcpOpsFlags: TcpOpsFlags | null = null;

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
    this.tier = opts.tier ?? 'interp';
    this.traceLevel = opts.trace ?? 'full';
    this.keepPrintk = opts.printkLog ?? true;
    this.rcvqFlag = this.table.cbFlag('BPF_SOCK_OPS_RCVQ_CB_FLAG')?.value ?? 0;
    this.hdrOptLenOp = this.table.constant('BPF_SOCK_OPS_HDR_OPT_LEN_CB');
    this.txhashOff = this.table.ctxField('sk_txhash')?.offset ?? 164;
    // A cgroup/setsockopt program may run alone (objects with no sockops program are common);
    // with nothing named, the object's one sockops program is required.
    const so = (this.table.profile as Partial<StructOpsProfile>).structOps;
    const useStructOps = so !== undefined && opts.sockops === undefined && (opts.structOps !== undefined || (obj.structOps ?? []).some((m) => m.struct === so.struct));
    const alone = opts.sockops === undefined && (opts.setsockopt !== undefined || opts.getsockopt !== undefined || useStructOps) && !obj.programs.some((p) => p.section === 'sockops');
    this.sockopsProgram = alone ? null : pickProgram(obj, opts.sockops, 'sockops', 'sockops');
    this.setsockoptProgram = opts.setsockopt !== undefined ? pickProgram(obj, opts.setsockopt, 'cgroup/setsockopt', 'setsockopt') : null;
    this.getsockoptProgram = opts.getsockopt !== undefined ? pickProgram(obj, opts.getsockopt, 'cgroup/getsockopt', 'getsockopt') : null;
    this.bpfMaps = obj.maps.map((d, i) => new BpfMap(d, i));
    this.sockLayout = new SockLayout(obj.btf);
    this.skbLayout = new SkbLayout(obj.btf);
    this.kernLayout = new KernCtxLayout(obj.btf);
    this.frames = new RunFrames(this.table, this.kernLayout, this.skbLayout, this.txhashOff, (run) => this.refreshKernArgs(run));
    this.objects = new KernelObjects(this.table, this.sockLayout, this.kernLayout);
    const cg = obj.btf?.find('cgroup', 'struct');
    this.cgroupBytes = new Uint8Array(Math.max(8, cg && obj.btf ? obj.btf.sizeof(cg.id) : 1024));
    this.dispatch = new CallDispatch({
      table: this.table,
      host: this.makeHost(),
      kfuncNames: obj.kfuncs,
      active: () => this.active,
      refresh: (run, full) => this.objects.refresh(run, full),
      refreshAlways: opts.refreshAfterEveryHelper ?? false,
    });
    this.warnings.push(...this.sockLayout.warnings, ...this.skbLayout.warnings);
    for (const m of this.bpfMaps) {
      if (m.kind === 'unsupported') this.warnings.push(`map ${m.def.name} (${m.def.typeName}) is not modeled: helpers on it fault`);
    }
    this.sockEnv = this.sockopsProgram ? this.prepare(this.sockopsProgram) : null;
    this.sockoptEnv = this.setsockoptProgram ? this.prepare(this.setsockoptProgram) : null;
    this.getsockoptEnv = this.getsockoptProgram ? this.prepare(this.getsockoptProgram) : null;
    if (opts.structOps !== undefined && !so) throw new LoadError(obj.file, null, `"structOps" names ${opts.structOps}, but profile ${this.table.profile.name} has no struct_ops hooks; use profile autolowat-tcp-ops-v5.`);
    if (useStructOps && so) {
      const { members } = resolveStructOps(obj, so, opts.structOps);
      this.tcpOpsFlags = new TcpOpsFlags(so.enabledBy.value);
      this.tcpOpsEnvs = new Map(members.map((m) => [m.info.name, this.prepare(m.prog, m.info)]));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Preparation

  private prepare(prog: BpfProgram, member?: StructOpsMemberInfo): ProgEnv {
    // A struct_ops member's helpers take socket pointers, as the cgroup flavour's do.
    const progType = member ? 'cgroup_setsockopt' : progTypeOf(prog.section);
    if (!progType) throw new LoadError(this.obj.file, prog.name, `SEC("${prog.section}") is not a program type the emulator runs (sockops, cgroup/setsockopt, cgroup/getsockopt).`);
    const env = new ProgEnv(prog, progType);
    if (member) env.structOpsMember = member.name;
    env.loopInlined = bpfLoopInlinedCalls(prog.insns);
    const t = this.table;
    const fail = (pc: number, msg: string): never => {
      throw new LoadError(this.obj.file, prog.name, msg, lineOf(prog, pc), pc);
    };
    // The structural check first (insn N: Invalid register r14 as src), naming the object and the
    // program: the analyses below assume well-formed instructions.
    const malformed = validate(prog.insns, { funcStarts: prog.funcs.map((f) => f.startPc) })[0];
    if (malformed) fail(malformed.pc, malformed.detail);
    checkCalls(this.obj, prog, {
      helperName: (id) => t.helper(id)?.name,
      helperAvailable: (id) => {
        const h = t.helper(id)!;
        if (member && !member.helpers.includes(h.name)) return `program of this type cannot use helper ${h.name}#${h.id}: struct bpf_tcp_ops member ${member.name} may call ${member.helpers.join(', ')} (profile ${t.profile.name}, docs/abi.md §5.4)`;
        const v = member ? { ok: true as const } : t.availableAtLoad(h, progType);
        if (!v.ok) return `program of this type cannot use helper ${h.name}#${h.id}: ${v.why}`;
        if (!HELPERS[h.name]) this.warnings.push(`${prog.name}: ${h.name}#${h.id} is allowed but ${NOT_MODELLED[h.name] !== undefined ? 'not modelled' : 'not implemented'} by the emulator: a call faults`);
        this.checkRulesImplemented(prog, h);
        return null;
      },
      helperGplOnly: (id) => t.helper(id)?.gplOnly === true,
      kfuncAllowed: (name) => {
        const k = t.kfunc(name);
        if (!k) {
          return `unknown kfunc ${name}: it is not a kernel function of profile ${t.profile.name}; check the name or the profile.`;
        }
        if (member && !member.kfuncs.includes(name)) return `calling kernel function ${name} is not allowed: struct bpf_tcp_ops member ${member.name} may call the kfuncs ${member.kfuncs.join(', ')} (profile ${t.profile.name}, docs/abi.md §5.4)`;
        const v = member ? { ok: true as const } : t.availableAtLoad(k, progType);
        if (!v.ok) return `calling kernel function ${name} is not allowed: ${v.why}`;
        if (!KFUNCS[name]) this.warnings.push(`${prog.name}: kfunc ${name} is not implemented by the emulator: a call faults`);
        this.checkRulesImplemented(prog, k);
        return null;
      },
    });
    const setsockopt = progType === 'cgroup_setsockopt';
    const issues = scanProgram(prog.insns, {
      ctxAccessError: (off, size, write) =>
        member ? structOpsCtxAccessError(member, off, size, write) : progType === 'sock_ops' ? t.ctxAccessError(off, size, write) : sockoptAccessError(off, size, write, setsockopt),
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

    // Accesses through the UAPI socket views, converted as the verifier does (./convert.ts).
    // (struct_ops members read kernel objects through BTF pointers only: no UAPI views to convert,
    // and the kind analysis knows no BPF_PROG() context: their loads run unconverted.)
    const kinds = member ? null : analyzeKinds(prog, progType, this.obj, { profile: t.profile.name });
    if (kinds) env.kinds = kinds;
    const conv = kinds ? convertSockAccesses(prog, kinds, this.objects.uapi) : { insns: prog.insns, issues: [], converted: 0, unsure: [] };
    for (const u of conv.unsure) this.warnings.push(`${prog.name}: insn ${u.pc}${lineOf(prog, u.pc) ? ` (${lineOf(prog, u.pc)})` : ''}: ${u.message}`);
    if (conv.issues.length) {
      const first = conv.issues[0]!;
      fail(first.pc, `${first.message}. Fix the access in the C source; the kernel refuses to load this program.`);
    }

    // The VM, its map handles and global data regions.
    const calls: CallTable = {
      helper: (id) => this.dispatch.helperFn(env, id),
      kfunc: (index) => this.dispatch.kfuncFn(env, index),
      helperName: (id) => (env.helperNames[id] ??= `${t.helper(id)?.name ?? 'unknown'}#${id}`),
      kfuncName: (index) => this.obj.kfuncs[index] ?? `kfunc #${index}`,
    };
    const memory = new Memory();
    env.memory = memory;
    // The one struct cgroup, first in every program's memory (the same address in all of them)
    env.cgroupBase = memory.map({ name: 'struct cgroup (the programs\' cgroup)', kind: 'kernel', bytes: this.cgroupBytes, writable: false });
    const first = this.envs[0];
    if (first && first.cgroupBase !== env.cgroupBase) throw new Error(`internal: struct cgroup at 0x${env.cgroupBase.toString(16)} in ${prog.name} but 0x${first.cgroupBase.toString(16)} in ${first.prog.name}`);
    for (const m of this.bpfMaps) {
      // A small read-only region stands for struct bpf_map: the map "pointer" a program holds.
      const base = memory.map({ name: `map ${m.def.name}`, kind: 'other', bytes: new Uint8Array(64), writable: false });
      env.mapHandles.push(base);
      env.handleToMap.set(base, m.index);
    }
    const vm = createVm(
      {
        insns: conv.insns,
        funcStarts: prog.funcs.map((f) => f.startPc),
        probeLoads: kinds ? probeLoads(prog, kinds) : new Set<number>(),
        onProbeFault: (pc, addr, size) => this.probeFault(env, pc, addr, size),
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
      { memory, tier: this.tier },
    );
    env.vm = vm;
    this.envs.push(env);
    return env;
  }

  /** A failed probe read (a load through a BTF pointer outside every kernel object read 0):
   *  noted in the run's trace, the first one with its place and how many followed. */
  private probeFault(env: ProgEnv, pc: number, addr: bigint, size: number): void {
    const run = this.active;
    if (!run || run.env !== env) return;
    const trace = run.info.trace;
    if (trace.probeRead) {
      trace.probeRead.count++;
      return;
    }
    const fact: ProbeReadFact = { pc, addr, size, count: 1, why: 'outside' };
    const line = lineOf(env.prog, pc);
    if (line) fact.line = line;
    trace.probeRead = fact;
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

  /** `label` names a new region (a function: only called then). */
  private valueBase(env: ProgEnv, m: BpfMap, v: Uint8Array, label: string | (() => string) = 'value'): bigint {
    if (m.kind === 'global') return this.globalBase(env, m);
    let base = env.valueBases.get(v);
    if (base === undefined) {
      base = env.memory.map({ name: `map ${m.def.name} ${typeof label === 'function' ? label() : label}`, kind: 'map', bytes: v, writable: true });
      env.valueBases.set(v, base);
    }
    return base;
  }

  // ---------------------------------------------------------------------------------------------
  // Sockets and their objects (./objects.ts)

  private sockObjects(sock: SockModel): SockObjects {
    return this.objects.sockObjects(sock);
  }

  private sockBase(env: ProgEnv, o: SockObjects): bigint {
    return this.objects.sockBase(env, o);
  }

  private refresh(run: ActiveRun, full: boolean): void {
    this.objects.refresh(run, full);
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
    const frame = this.frames.sockOpsFrame(env);
    const trace = this.newTrace(env, inv.op);
    const { ctx, dv, kern } = frame;
    ctx.fill(0);
    // bpf_sock_ops_kern and the sk_buff need no zeroing: read-only to the program, and every
    // refresh/fill writes all of their modeled fields (the rest stays 0)
    const run: ActiveRun = {
      env, objs, op: inv.op, fullsock, locked, skb, ctx, dv, kern, kdv: frame.kdv, skbBase: 0n, packetBase: 0n,
      pkt: null, skbLen: 0, dataEnd: 0, syn: inv.syn ?? null, written: 0,
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
      const m = this.frames.scratchRegion(env, frame.packets, bytes, len, skb.header ? () => `skb TCP header + payload (${skb.header!.length} + ${skb.payload.length} bytes)` : PACKET_NAME, false, transient);
      run.packetBase = m.base;
      run.pkt = m.bytes;
      run.skbLen = len;
      run.dataEnd = skb.dataEnd ?? 0;
      run.skbBase = frame.skbBase;
      this.skbLayout.fillWith(frame.skbBuf, frame.sdv, skb, run.packetBase, this.sockBase(env, objs));
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

  /** Whether the socket's BPF_TCP_OPS_FLAG_RCVQ is on (struct_ops profiles; absent otherwise). */
  tcpOpsOn(sock: SockModel): boolean {
    const f = this.tcpOpsFlags;
    return f !== null && (f.get(sock) & f.rcvq) !== 0;
  }

  /** Run a struct bpf_tcp_ops member (docs/abi.md §5.3): enqueue_rcvq(sk, skb) or
   *  dequeue_rcvq(sk), the BPF_PROG() context holding the socket's and the skb's addresses.
   *  null when the struct_ops variable does not set the member. */
  tcpOps(sock: SockModel, member: string, skb: Skb | null, label: string): ProgramRunTrace | null {
    const env = this.tcpOpsEnvs?.get(member);
    if (!env) return null;
    const objs = this.sockObjects(sock);
    const frame = this.structOpsFrame(env);
    const trace = this.newTrace(env);
    const { ctx, dv } = frame;
    ctx.fill(0);
    const run: ActiveRun = {
      env, objs, op: -1, fullsock: true, locked: true, skb, ctx, dv, kern: null, kdv: null, skbBase: 0n,
      packetBase: 0n, pkt: null, skbLen: 0, dataEnd: 0, syn: null, written: 0, remainingOptLen: 0, retval: 0, dirty: false, frame,
      info: undefined as unknown as RunInfo,
    };
    dv.setBigUint64(0, this.sockBase(env, objs), true);
    const transient: bigint[] = [];
    if (skb) {
      const m = this.frames.scratchRegion(env, frame.optvals, skb.payload, skb.payload.length, PACKET_NAME, false, transient);
      run.packetBase = m.base;
      run.pkt = m.bytes;
      run.skbLen = skb.payload.length;
      const sf = this.structOpsSkb(env);
      run.skbBase = sf.base;
      sf.bytes.fill(0);
      this.skbLayout.fillWith(sf.bytes, sf.dv, skb, run.packetBase, this.sockBase(env, objs));
      dv.setBigUint64(8, run.skbBase, true);
    }
    run.info = { kind: 'setsockopt', program: env.prog, vm: env.vm, ctxBase: frame.ctxBase, label, sock, skb, trace };
    this.refresh(run, true);
    this.execute(run, frame.ctxBase, transient);
    return trace;
  }

  /** The BPF_PROG() context region of a member (its arguments, u64 each). */
  private structOpsFrame(env: ProgEnv): SockoptFrame {
    const f = env.sockoptFrame;
    this.frames.notRunning(env, f);
    if (f) return f;
    const member = this.table.profile as Partial<StructOpsProfile>;
    const info = member.structOps!.members.find((m) => m.name === env.structOpsMember)!;
    const ctx = new Uint8Array(8 * Math.max(1, info.args.length));
    const frame: SockoptFrame = { ctx, dv: new DataView(ctx.buffer), ctxBase: 0n, optvals: new Map(), run: null };
    frame.ctxBase = env.vm.memory.map({
      name: `ctx ${info.name}(${info.args.map((a) => a.ctype + a.name).join(', ')})`, kind: 'ctx', bytes: ctx, writable: false,
      check: (off, size, write) => structOpsCtxAccessError(info, off, size, write),
    });
    env.sockoptFrame = frame;
    return frame;
  }

  private readonly skbRegions = new Map<ProgEnv, { bytes: Uint8Array; dv: DataView; base: bigint }>();
  private structOpsSkb(env: ProgEnv): { bytes: Uint8Array; dv: DataView; base: bigint } {
    let r = this.skbRegions.get(env);
    if (!r) {
      const bytes = new Uint8Array(this.skbLayout.size);
      r = { bytes, dv: new DataView(bytes.buffer), base: env.vm.memory.map({ name: 'struct sk_buff (the skb of the run)', kind: 'kernel', bytes, writable: false }) };
      this.skbRegions.set(env, r);
    }
    return r;
  }

  private refreshKernArgs(run: ActiveRun): void {
    const f = this.kernLayout.fields['args'];
    if (f && run.kern) run.kern.set(run.ctx.subarray(4, 4 + f.size), f.offset);
  }

  setsockopt(sock: SockModel, inv: SetsockoptInvocation): SetsockoptOutcome | null {
    const env = this.sockoptEnv;
    if (!env) return null;
    const objs = this.sockObjects(sock);
    const frame = this.frames.sockoptFrame(env);
    const trace = this.newTrace(env);
    // __cgroup_bpf_run_filter_setsockopt: a buffer of max(16, optlen) bytes capped at PAGE_SIZE.
    const optlen = inv.optval.length;
    const maxOptlen = Math.min(Math.max(16, optlen), PAGE_SIZE);
    const transient: bigint[] = [];
    const { base: optvalBase, bytes: buf } = this.frames.scratchRegion(env, frame.optvals, inv.optval, maxOptlen, () => `sockopt optval (${maxOptlen} bytes)`, true, transient);
    const { ctx, dv } = frame;
    ctx.fill(0);
    const run: ActiveRun = {
      env, objs, op: -1, fullsock: true, locked: true, skb: null, ctx, dv, kern: null, kdv: null, skbBase: 0n,
      packetBase: 0n, pkt: null, skbLen: 0, dataEnd: 0, syn: null, written: 0, remainingOptLen: 0, retval: 0, dirty: false, frame, info: undefined as unknown as RunInfo,
    };
    dv.setBigUint64(0, this.sockBase(env, objs), true); // bpf_sockopt.sk: the struct sock * (cg_sockopt_convert_ctx_access)
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

  /** The attached cgroup/getsockopt program after the kernel's getsockopt handler ran:
   *  kernel/bpf/cgroup.c __cgroup_bpf_run_filter_getsockopt. The buffer is max_optlen (the
   *  application's optlen) bytes capped at PAGE_SIZE (sockopt_alloc_buf; a negative one is
   *  -EINVAL); when the kernel succeeded it holds the kernel's bytes and ctx.optlen is the
   *  kernel's optlen, else ctx.optlen is max_optlen. ctx.retval starts as the kernel's return
   *  (bpf_prog_run_array_cg: run_ctx.retval = retval); a program returning 0 makes it -EPERM
   *  unless it holds an errno. On success an optlen past the buffer or negative is -EFAULT
   *  (ignored, keeping the kernel's answer, when max_optlen > PAGE_SIZE); optlen 0 leaves the
   *  kernel's optval/optlen; else optlen bytes of the buffer go back to the application. */
  getsockopt(sock: SockModel, inv: GetsockoptInvocation): GetsockoptHookResult | null {
    const env = this.getsockoptEnv;
    if (!env) return null;
    if (inv.maxOptlen < 0) return { ret: -EINVAL, optval: null, trace: null };
    const objs = this.sockObjects(sock);
    const frame = this.frames.sockoptFrame(env, true);
    const trace = this.newTrace(env);
    const maxOptlen = Math.min(inv.maxOptlen, PAGE_SIZE);
    let ctxOptlen = inv.maxOptlen;
    let origOptlen = inv.maxOptlen;
    if (inv.retval === 0) {
      ctxOptlen = origOptlen = inv.optval.length;
    }
    const transient: bigint[] = [];
    // A region of at least one byte (mapping none is not possible); optval_end bounds the program.
    const initial = inv.retval === 0 ? inv.optval.subarray(0, Math.min(inv.optval.length, maxOptlen)) : new Uint8Array(0);
    const { base: optvalBase, bytes: buf } = this.frames.scratchRegion(env, frame.optvals, initial, Math.max(1, maxOptlen), () => `sockopt optval (${maxOptlen} bytes)`, true, transient);
    const { ctx, dv } = frame;
    ctx.fill(0);
    const run: ActiveRun = {
      env, objs, op: -1, fullsock: true, locked: true, skb: null, ctx, dv, kern: null, kdv: null, skbBase: 0n,
      packetBase: 0n, pkt: null, skbLen: 0, dataEnd: 0, syn: null, written: 0, remainingOptLen: 0, retval: inv.retval, dirty: false, frame, info: undefined as unknown as RunInfo,
    };
    dv.setBigUint64(0, this.sockBase(env, objs), true);
    dv.setBigUint64(8, optvalBase, true);
    dv.setBigUint64(16, optvalBase + BigInt(maxOptlen), true);
    dv.setInt32(24, inv.level, true);
    dv.setInt32(28, inv.optname, true);
    dv.setInt32(32, ctxOptlen, true);
    // bpf_sockopt.retval: cg_sockopt_convert_ctx_access turns it into run_ctx.retval. The ctx
    // field and bpf_get/set_retval share it here through the value after the run (assumed: a
    // program mixing a ctx store with bpf_get_retval in one run sees the older value).
    dv.setInt32(36, inv.retval, true);
    run.info = { kind: 'setsockopt', program: env.prog, vm: env.vm, ctxBase: frame.ctxBase, label: inv.label, sock, skb: null, trace };
    this.refresh(run, true);
    const status = this.execute(run, frame.ctxBase, transient);
    const ctxRetval = dv.getInt32(36, true);
    let retval = ctxRetval !== inv.retval ? ctxRetval : run.retval;
    const newLen = dv.getInt32(32, true);
    const isErr = (v: number) => v < 0 && v >= -4095; // IS_ERR_VALUE((long)retval)
    // bpf_prog_run_array_cg: a program returning 0 (a fault counts as 0) -> -EPERM unless an errno is set.
    if ((status.status !== 'exit' || (status.r0 & 1n) === 0n) && !isErr(retval)) retval = -EPERM;
    if (retval < 0) return { ret: retval, optval: null, trace };
    if (newLen > maxOptlen || newLen < 0) {
      if (origOptlen > PAGE_SIZE && newLen >= 0) return { ret: inv.retval, optval: null, trace };
      return { ret: -EFAULT, optval: null, trace };
    }
    return { ret: retval, optval: newLen === 0 ? null : buf.slice(0, newLen), trace };
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  /** A run's trace, empty, at the current trace level. */
  private newTrace(env: ProgEnv, op?: number): ProgramRunTrace {
    const t: ProgramRunTrace = op === undefined
      ? { program: env.prog.name, r0: 0n, insns: 0, helpers: [], printk: [] }
      : { program: env.prog.name, op, r0: 0n, insns: 0, helpers: [], printk: [] };
    if (this.traceLevel === 'brief') t.calls = [];
    return t;
  }

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
          // one argument object per run, refilled before each instruction (InsnHook)
          const arg = { pc: 0, vm: env.vm, program: env.prog, run: run.info };
          opts.hook = (pc: number) => {
            arg.pc = pc;
            return hook(arg);
          };
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


  errnoName(errno: number): string {
    return this.dispatch.errnoName(errno);
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

  /** The BPF side between steps, for the debugger's checkpoints: map contents, the printk log's
   *  length, the PRNG. Regions and programs are fixed at load and need nothing. */
  checkpoint(): KernelCheckpoint {
    if (this.active) throw new Error('BpfKernel.checkpoint() between program runs only');
    const cp: KernelCheckpoint = { maps: this.bpfMaps.map((m) => m.checkpoint()), printk: this.printkLog.length, rng: this.rng.state };
    if (this.tcpOpsFlags) cp.tcpOps = this.tcpOpsFlags.checkpoint();
    return cp;
  }

  /** Put the BPF side back to `cp` (taken from this kernel, no further back in its log than now). */
  restore(cp: KernelCheckpoint): void {
    if (this.printkLog.length < cp.printk) throw new Error('BpfKernel.restore(): the checkpoint is ahead of this kernel');
    this.bpfMaps.forEach((m, i) => m.restore(cp.maps[i]!));
    this.printkLog.length = cp.printk;
    this.rng.state = cp.rng;
    if (this.tcpOpsFlags) this.tcpOpsFlags.restore(cp.tcpOps ?? []);
  }

  /** For debugger views of a `struct bpf_sock *` / `struct bpf_tcp_sock *` value: the address of
   *  the fields as the program reads them (converted, ./convert.ts) when `addr` is a socket's
   *  address in `vm`'s memory, else `addr` itself (not a socket: read it as it is). */
  sockView(vm: VmApi, addr: bigint, view: 'bpf_sock' | 'bpf_tcp_sock'): bigint {
    const env = this.envs.find((e) => e.vm === vm);
    if (!env || !env.baseToSock.has(addr)) return addr;
    return addr + BigInt(view === 'bpf_sock' ? this.objects.uapi.sock : this.objects.uapi.tcpSock);
  }

  /** Every bpf_trace_printk/vprintk line so far, in order (none with `printkLog: false`). */
  printk(): PrintkLine[] {
    return [...this.printkLog];
  }

  // ---------------------------------------------------------------------------------------------
  // What helpers and kfuncs may ask of the kernel

  private makeHost(): KernelHost {
    const k = this;
    return {
      table: this.table,
      rcvqFlag: this.rcvqFlag,
      get tcpOps() { return k.tcpOpsFlags; },
      map(c: CallCtx, handle: bigint): BpfMap {
        const i = c.env.handleToMap.get(handle);
        if (i === undefined) return c.hc.fault(`0x${handle.toString(16)} is not a map`);
        return k.bpfMaps[i]!;
      },
      valuePtr: (c, m, v, label) => k.valueBase(c.env, m, v, label),
      forget(c, v) {
        c.env.staleValues.push(v);
      },
      sock: (c, addr) => k.objects.sockFromPtr(c.env, addr),
      cgroup(c, addr) {
        if (addr === 0n) return null;
        const hit = c.env.vm.memory.find(addr, 1);
        if (hit?.region.base !== c.env.cgroupBase) return c.hc.fault(`0x${addr.toString(16)} is not a struct cgroup${hit ? ` (it points into ${hit.region.name})` : ''}; the verifier wants a trusted cgroup pointer (ARG_PTR_TO_BTF_ID_OR_NULL of struct cgroup)`);
        return SIM_CGROUP_ID;
      },
      sockAddr: (c, o) => k.objects.sockBase(c.env, o),
      keyPtr(c, depth, key) {
        const id = `${depth}:${key.length}`;
        let m = c.env.keyRegions.get(id);
        if (!m) {
          const bytes = new Uint8Array(key.length);
          m = { bytes, base: c.env.vm.memory.map({ name: `bpf_for_each_map_elem key (depth ${depth + 1})`, kind: 'map', bytes, writable: false }) };
          c.env.keyRegions.set(id, m);
        }
        m.bytes.set(key);
        return m.base;
      },
      printk(c, text) {
        c.run.info.trace.printk.push(text);
        if (!k.keepPrintk) return;
        const line: PrintkLine = { program: c.env.prog.name, label: c.run.info.label, text };
        if (c.run.op >= 0) line.op = c.run.op;
        k.printkLog.push(line);
      },
      rand: () => this.rng.nextU32(),
      now: () => this.clock.nowNs(),
    };
  }
}
