// The BPF side of the simulated kernel: picks the programs of an object, prepares them for the
// VM, builds the contexts the kernel would pass (struct bpf_sock_ops / bpf_sock_ops_kern,
// struct bpf_sockopt), lays out kernel objects from the program's BTF, and implements the
// helpers and kfuncs on top of the TCP model's SockModel. Per-op facts come from the sockops
// table; helper semantics cite the kernel function they mirror.
import type { BpfObject, BpfProgram, MapDef } from '../../object/types';
import type { CallTable, HelperContext, HelperFn, RegionSpec, RunStatus, VmApi } from '../../vm/api';
import { createVm, GuestFaultError, Memory } from '../../vm';
import type { HelperInfo, KfuncInfo, ProgType } from '../../../sockops/types';
import { table as sockopsTable, type SockopsTable } from '../../../sockops';
import type {
  BpfHooks, HelperCallTrace, ProgramRunTrace, SetsockoptInvocation, SetsockoptResult, Skb, SockModel,
  SockOpsInvocation,
} from '../types';
import {
  BPF_EXIST, BPF_SK_STORAGE_GET_F_CREATE, E2BIG, EBUSY, EFAULT, EINVAL, ENOENT, ENOMSG, ENOSPC, EPERM,
  ERRNO_NAMES, GPL_ONLY_HELPERS, INT_MAX, licenseIsGplCompatible,
} from './consts';
import { LoadError } from './errors';
import { KernCtxLayout, SkbLayout, SockLayout, be16, be32, writeValue } from './layout';
import { BpfMap } from './maps';
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

/** SetsockoptResult plus the errno setsockopt(2) returns when the program's result is refused. */
export interface SetsockoptOutcome extends SetsockoptResult {
  /** -EPERM when the program returned 0; -EFAULT when it set optlen out of bounds. */
  errno?: number;
}

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
}

interface SockBases { tcp: bigint; bpfSock: bigint; bpfTcpSock: bigint }

/** One prepared program and its VM. */
class ProgEnv {
  readonly mapHandles: bigint[] = [];
  readonly handleToMap = new Map<bigint, number>();
  readonly valueBases = new Map<Uint8Array, bigint>();
  readonly sockBases = new Map<number, SockBases>();
  readonly baseToSock = new Map<bigint, number>();
  /** Values of deleted map entries still mapped: unmapped when the run ends. */
  readonly staleValues: Uint8Array[] = [];
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
  kern: Uint8Array | null;
  skbBuf: Uint8Array | null;
  skbBase: bigint;
  packetBase: bigint;
  remainingOptLen: number;
  /** Regions mapped for this run only. */
  transient: bigint[];
}

const BPF_SOCK_SIZE = 80;
const BPF_TCP_SOCK_SIZE = 112;
const PAGE_SIZE = 4096;

const i32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));
const r64 = (n: number | bigint) => BigInt.asUintN(64, BigInt(n));

type Impl = (c: CallCtx, a: bigint[]) => bigint;

/** What a helper implementation works with. */
interface CallCtx {
  hc: HelperContext;
  k: BpfKernel;
  run: ActiveRun;
  env: ProgEnv;
  info: HelperInfo | KfuncInfo | null;
}

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
  private readonly printkLog: PrintkLine[] = [];
  private insnHook: InsnHook | null = null;
  private active: ActiveRun | null = null;
  private readonly rcvqOp: number | undefined;

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
    this.rcvqOp = this.table.op('RCVQ_CB')?.value;
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
        return null;
      },
      kfuncAllowed: (name) => {
        const k = t.kfunc(name);
        if (!k) {
          return `unknown kfunc ${name}: it is not a kernel function of profile ${t.profile.name}; check the name or the profile.`;
        }
        const v = t.availableAtLoad(k, progType);
        if (!v.ok) return `calling kernel function ${name} is not allowed: ${v.why}`;
        if (!KFUNCS[name]) this.warnings.push(`${prog.name}: kfunc ${name} is not implemented by the emulator: a call faults`);
        return null;
      },
    });
    // non-GPL check for helpers the table marks gpl_only (the consts list covers older tables)
    for (let pc = 0; pc < prog.insns.length; pc++) {
      const insn = prog.insns[pc]!;
      if (insn.code === 0x85 && insn.src === 0) {
        const h = t.helper(insn.imm);
        if (h?.gplOnly && !GPL_ONLY_HELPERS.has(h.name) && !licenseIsGplCompatible(this.obj.license)) {
          fail(pc, `cannot call GPL-restricted function ${h.name}#${h.id} from non-GPL compatible program (license "${this.obj.license}").`);
        }
      }
    }
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
      helperName: (id) => `${t.helper(id)?.name ?? 'unknown'}#${id}`,
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
    const vm = createVm(
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
      o = {
        sock,
        tcp: new Uint8Array(this.sockLayout.size),
        bpfSock: new Uint8Array(BPF_SOCK_SIZE),
        bpfTcpSock: new Uint8Array(BPF_TCP_SOCK_SIZE),
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

  /** Write the socket's modeled fields into every view of it, and the ctx fields that read it. */
  private refresh(run: ActiveRun): void {
    const s = run.objs.sock;
    const o = run.objs;
    this.sockLayout.fill(o.tcp, s);
    fillBpfSock(o.bpfSock, s);
    fillBpfTcpSock(o.bpfTcpSock, s);
    if (run.skb && run.skbBuf) {
      this.skbLayout.fill(run.skbBuf, run.skb, { packet: run.packetBase, sock: this.sockBases(run.env, o).tcp });
    }
    if (run.op >= 0) this.fillSockOpsCtx(run);
  }

  private fillSockOpsCtx(run: ActiveRun): void {
    const s = run.objs.sock;
    const ctx = run.ctx;
    const bases = this.sockBases(run.env, run.objs);
    for (const f of this.table.profile.ctxFields) {
      if (f.offset < 20) continue; // op and args/reply belong to the kernel ctx, set once
      let v: number | bigint | Uint8Array = 0;
      const open =
        f.gate === 'none' ? true
        : f.gate === 'locked_tcp_sock' ? run.locked
        : f.gate === 'fullsock' ? run.fullsock
        : run.skb !== null;
      if (open) {
        switch (f.name) {
          case 'family': v = familyNumber(s); break;
          case 'remote_ip4': v = be32(s.remote_ip4); break;
          case 'local_ip4': v = be32(s.local_ip4); break;
          case 'remote_ip6': v = s.remote_ip6; break;
          case 'local_ip6': v = s.local_ip6; break;
          // skc_dport (network order) loaded as 2 bytes then << 16 (sock_ops_convert_ctx_access)
          case 'remote_port': v = new Uint8Array([0, 0, ...be16(s.remote_port)]); break;
          case 'local_port': v = s.local_port; break;
          case 'is_fullsock': v = run.fullsock ? 1 : 0; break;
          case 'state': v = s.state; break;
          case 'sk': v = bases.bpfSock; break;
          case 'skb_data': v = run.packetBase; break;
          // end_offset 0: the packet window is empty (RCVQ_CB per the seed; we model no TCP header at other ops)
          case 'skb_data_end': v = run.packetBase; break;
          case 'skb_len': v = run.skb?.payload.length ?? 0; break;
          case 'skb_tcp_flags': v = run.skb?.tcpFlags ?? 0; break;
          case 'skb_hwtstamp': v = 0n; break;
          default: {
            const key = f.name as keyof SockModel;
            const x = s[key];
            v = typeof x === 'number' || typeof x === 'bigint' ? x : 0;
          }
        }
      }
      writeValue(ctx, { offset: f.offset, size: f.size, path: f.name }, v);
    }
    if (run.kern) {
      this.kernLayout.fill(run.kern, {
        sk: bases.tcp,
        args: ctx.subarray(4, 20),
        skb: run.skb ? run.skbBase : 0n,
        skbDataEnd: run.skb ? run.packetBase : 0n,
        op: run.op,
        isFullsock: run.fullsock ? 1 : 0,
        isLockedTcpSock: run.locked ? 1 : 0,
        remainingOptLen: run.remainingOptLen,
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Hooks called by the TCP model

  sockOps(sock: SockModel, inv: SockOpsInvocation): { ret: number; trace: ProgramRunTrace } | null {
    const env = this.sockEnv;
    if (!env) return null;
    const opInfo = this.table.op(inv.op);
    const flag = (v: boolean | 'varies' | undefined, dflt: boolean) => (v === undefined || v === 'varies' ? dflt : v);
    const fullsock = flag(opInfo?.isFullsock, true);
    const locked = flag(opInfo?.isLockedTcpSock, fullsock);
    const skb = flag(opInfo?.hasSkb, inv.skb !== null) ? inv.skb : null;
    const objs = this.sockObjects(sock);
    const mem = env.vm.memory;
    const trace: ProgramRunTrace = { program: env.prog.name, op: inv.op, r0: 0n, insns: 0, helpers: [], printk: [] };
    const ctx = new Uint8Array(this.table.profile.ctxSize);
    const kern = new Uint8Array(this.kernLayout.size);
    const transient: bigint[] = [];
    const run: ActiveRun = {
      env, objs, op: inv.op, fullsock, locked, skb, ctx, kern, skbBuf: null, skbBase: 0n, packetBase: 0n,
      remainingOptLen: inv.op === this.table.constant('BPF_SOCK_OPS_HDR_OPT_LEN_CB') ? 40 : 0,
      transient,
      info: undefined as unknown as RunInfo,
    };
    const dv = new DataView(ctx.buffer);
    dv.setUint32(0, inv.op, true);
    for (let i = 0; i < 4; i++) dv.setUint32(4 + 4 * i, inv.args[i]! >>> 0, true);
    if (skb) {
      run.packetBase = mem.map({ name: `skb#${skb.id} payload`, kind: 'packet', bytes: skb.payload.slice(), writable: false });
      run.skbBuf = new Uint8Array(this.skbLayout.size);
      run.skbBase = mem.map({ name: `skb#${skb.id} struct sk_buff`, kind: 'kernel', bytes: run.skbBuf, writable: false });
      transient.push(run.packetBase, run.skbBase);
    }
    const txhash = this.table.ctxField('sk_txhash')?.offset ?? 164;
    const ctxSpec: RegionSpec = {
      name: 'ctx struct bpf_sock_ops',
      kind: 'ctx',
      bytes: ctx,
      writable: true,
      check: (off, size, write) => this.table.ctxAccessError(off, size, write),
      onWrite: (off) => {
        if (off === 4 && run.kern) this.refreshKernArgs(run);
        // SOCK_OPS_SET_FIELD: the store reaches sk only under is_locked_tcp_sock; otherwise skipped.
        if (off === txhash) {
          if (run.locked) run.objs.sock.sk_txhash = dv.getUint32(txhash, true);
          else dv.setUint32(txhash, 0, true);
        }
      },
    };
    const ctxBase = mem.map(ctxSpec);
    const kernBase = mem.map({ name: 'struct bpf_sock_ops_kern', kind: 'kernel', bytes: kern, writable: false });
    transient.push(ctxBase, kernBase);
    run.info = {
      kind: 'sockops', program: env.prog, vm: env.vm, ctxBase, kernCtxBase: kernBase, label: inv.label, op: inv.op,
      sock, skb, trace,
    };
    this.refresh(run);
    const status = this.execute(run, ctxBase);
    const r0 = status.status === 'exit' ? status.r0 : 0n;
    // tcp_call_bpf(): reply when the program returned 1, else -1.
    const ret = status.status === 'exit' && (r0 & 0xffffffffn) === 1n ? dv.getInt32(4, true) : -1;
    return { ret, trace };
  }

  private refreshKernArgs(run: ActiveRun): void {
    const f = this.kernLayout.fields['args'];
    if (f && run.kern) run.kern.set(run.ctx.subarray(4, 4 + f.size), f.offset);
  }

  setsockopt(sock: SockModel, inv: SetsockoptInvocation): SetsockoptOutcome | null {
    const env = this.sockoptEnv;
    if (!env) return null;
    const objs = this.sockObjects(sock);
    const mem = env.vm.memory;
    const trace: ProgramRunTrace = { program: env.prog.name, r0: 0n, insns: 0, helpers: [], printk: [] };
    // __cgroup_bpf_run_filter_setsockopt: a buffer of max(16, optlen) bytes capped at PAGE_SIZE.
    const optlen = inv.optval.length;
    const maxOptlen = Math.min(Math.max(16, optlen), PAGE_SIZE);
    const buf = new Uint8Array(maxOptlen);
    buf.set(inv.optval.subarray(0, Math.min(optlen, maxOptlen)));
    const ctx = new Uint8Array(SOCKOPT_CTX_SIZE);
    const dv = new DataView(ctx.buffer);
    const transient: bigint[] = [];
    const optvalBase = mem.map({ name: 'sockopt optval', kind: 'packet', bytes: buf, writable: true });
    const run: ActiveRun = {
      env, objs, op: -1, fullsock: true, locked: true, skb: null, ctx, kern: null, skbBuf: null, skbBase: 0n,
      packetBase: 0n, remainingOptLen: 0, transient, info: undefined as unknown as RunInfo,
    };
    const bases = this.sockBases(env, objs);
    dv.setBigUint64(0, bases.bpfSock, true);
    dv.setBigUint64(8, optvalBase, true);
    dv.setBigUint64(16, optvalBase + BigInt(maxOptlen), true);
    dv.setInt32(24, inv.level, true);
    dv.setInt32(28, inv.optname, true);
    dv.setInt32(32, optlen, true);
    dv.setInt32(36, 0, true);
    const ctxBase = mem.map({
      name: 'ctx struct bpf_sockopt', kind: 'ctx', bytes: ctx, writable: true,
      check: (off, size, write) => sockoptAccessError(off, size, write, true),
    });
    transient.push(optvalBase, ctxBase);
    run.info = { kind: 'setsockopt', program: env.prog, vm: env.vm, ctxBase, label: inv.label, sock, skb: null, trace };
    this.refresh(run);
    const status = this.execute(run, ctxBase);
    const level = dv.getInt32(24, true);
    const optname = dv.getInt32(28, true);
    const newLen = dv.getInt32(32, true);
    // bpf_prog_run_array_cg: a program returning 0 (or faulting here) makes setsockopt fail with -EPERM.
    if (status.status !== 'exit' || (status.r0 & 1n) === 0n) {
      return { action: 'eperm', level: inv.level, optname: inv.optname, optval: inv.optval, trace, errno: -EPERM };
    }
    if (newLen === -1) return { action: 'consumed', level: inv.level, optname: inv.optname, optval: inv.optval, trace };
    if (newLen > maxOptlen || newLen < -1) {
      if (optlen > PAGE_SIZE && newLen >= 0) {
        return { action: 'kernel', level: inv.level, optname: inv.optname, optval: inv.optval, trace };
      }
      return { action: 'eperm', level: inv.level, optname: inv.optname, optval: inv.optval, trace, errno: -EFAULT };
    }
    const optval = newLen === 0 ? inv.optval : buf.slice(0, newLen);
    return { action: 'kernel', level, optname, optval, trace };
  }

  // ---------------------------------------------------------------------------------------------
  // Running

  private execute(run: ActiveRun, ctxBase: bigint): RunStatus {
    const env = run.env;
    const trace = run.info.trace;
    const hook = this.insnHook;
    const prev = this.active;
    this.active = run;
    let status: RunStatus;
    try {
      const opts: { budget?: number; hook?: (pc: number) => void } = {};
      if (this.budget !== undefined) opts.budget = this.budget;
      if (hook) {
        const info = run.info;
        opts.hook = (pc: number) => hook({ pc, vm: env.vm, program: env.prog, run: info });
      }
      status = env.vm.run(ctxBase, opts);
    } finally {
      this.active = prev;
      for (const b of run.transient) env.vm.memory.unmap(b);
      for (const v of env.staleValues.splice(0)) {
        const b = env.valueBases.get(v);
        if (b !== undefined) {
          env.vm.memory.unmap(b);
          env.valueBases.delete(v);
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

  private helperFns = new Map<ProgEnv, Map<number, HelperFn | undefined>>();

  private helperFn(env: ProgEnv, id: number): HelperFn | undefined {
    let cache = this.helperFns.get(env);
    if (!cache) this.helperFns.set(env, (cache = new Map()));
    if (cache.has(id)) return cache.get(id);
    const info = this.table.helper(id);
    const impl = info ? HELPERS[info.name] : undefined;
    const fn: HelperFn | undefined = info && impl ? (hc, r1, r2, r3, r4, r5) => this.call(env, info, info.name, impl, hc, [r1, r2, r3, r4, r5]) : undefined;
    cache.set(id, fn);
    return fn;
  }

  private kfuncFns = new Map<ProgEnv, Map<number, HelperFn | undefined>>();

  private kfuncFn(env: ProgEnv, index: number): HelperFn | undefined {
    let cache = this.kfuncFns.get(env);
    if (!cache) this.kfuncFns.set(env, (cache = new Map()));
    if (cache.has(index)) return cache.get(index);
    const name = this.obj.kfuncs[index];
    const impl = name ? KFUNCS[name] : undefined;
    const info = name ? this.table.kfunc(name) ?? null : null;
    const fn: HelperFn | undefined = name && impl ? (hc, r1, r2, r3, r4, r5) => this.call(env, info, name, impl, hc, [r1, r2, r3, r4, r5]) : undefined;
    cache.set(index, fn);
    return fn;
  }

  private call(env: ProgEnv, info: HelperInfo | KfuncInfo | null, name: string, impl: Impl, hc: HelperContext, a: bigint[]): bigint {
    const run = this.active;
    if (!run || run.env !== env) return hc.fault(`${name} called outside a simulated run`);
    const nparams = info ? Math.min(5, info.params.filter((p) => p.name !== '...').length || 5) : 5;
    // Faults raised on purpose through hc.fault() pass through untouched (see the catch below).
    let faulting = false;
    const hcx: HelperContext = {
      memory: hc.memory,
      reg: (i) => hc.reg(i),
      pc: hc.pc,
      fault: (message: string): never => {
        faulting = true;
        return hc.fault(message);
      },
    };
    const c: CallCtx = { hc: hcx, k: this, run, env, info };
    let ret: bigint;
    try {
      const gate = info && run.op >= 0 ? this.table.callAt(info, run.op, a.map((x) => i32(x))) : { result: 'ok' as const };
      // bpf_sock_ops_load_hdr_opt checks its arguments before the -EPERM of HDR_OPT_LEN_CB /
      // no skb, so that rule is left to the implementation, which keeps the kernel's order.
      const deferred = gate.result === -EPERM && name === 'bpf_load_hdr_opt';
      ret = gate.result === 'ok' || deferred ? impl(c, a) : gateFailure(c, name, a, gate.result);
    } catch (e) {
      if (faulting) throw e;
      if (e instanceof GuestFaultError) return hc.fault(`${name}: ${e.message}`);
      // A bug on our side (or in the socket model) ends this program run as a helper fault
      // naming the call, rather than crashing the host.
      return hc.fault(`internal error in ${name}: ${(e as Error).message ?? String(e)}`);
    }
    ret = r64(ret);
    const t: HelperCallTrace = { pc: hc.pc, name, args: a.slice(0, nparams), ret };
    const sret = BigInt.asIntN(64, ret);
    if (sret < 0n && sret >= -4095n && returnsInt(info)) t.errno = this.errnoName(Number(sret));
    run.info.trace.helpers.push(t);
    this.refresh(run);
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
    return this.table.cbFlag('BPF_SOCK_OPS_RCVQ_CB_FLAG')?.value ?? 0;
  }
  /** @internal */ _rcvqOp(): number | undefined {
    return this.rcvqOp;
  }
}

function returnsInt(info: HelperInfo | KfuncInfo | null): boolean {
  if (!info) return true;
  return !/\*/.test(info.ret);
}

/** A per-op rule said no: the helper returns the errno without doing its work. Helpers whose
 *  output buffer is ARG_PTR_TO_UNINIT_MEM zero it as their own error paths do (assumed for
 *  skb_load_bytes at ops other than RCVQ_CB; bpf_sock_ops_getsockopt returns before zeroing). */
function gateFailure(c: CallCtx, name: string, a: bigint[], errno: number): bigint {
  if (name === 'bpf_skb_load_bytes') zeroFill(c, a[2]!, u32(a[3]!));
  return r64(errno);
}

function zeroFill(c: CallCtx, addr: bigint, len: number): void {
  if (len > 0) c.hc.memory.writeBytes(addr, new Uint8Array(len));
}

// ---- struct bpf_sock / struct bpf_tcp_sock (UAPI views; bpf_sock_convert_ctx_access, bpf_tcp_sock_convert_ctx_access) ----

function fillBpfSock(b: Uint8Array, s: SockModel): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  b.fill(0);
  dv.setUint32(4, familyNumber(s), true);
  dv.setUint32(8, 1, true); // SOCK_STREAM
  dv.setUint32(12, 6, true); // IPPROTO_TCP
  b.set(be32(s.local_ip4), 24); // src_ip4, network order
  b.set(s.local_ip6.subarray(0, 16), 28);
  dv.setUint32(44, s.local_port, true); // src_port, host order
  b.set(be16(s.remote_port), 48); // dst_port, network order
  b.set(be32(s.remote_ip4), 52);
  b.set(s.remote_ip6.subarray(0, 16), 56);
  dv.setUint32(72, s.state, true);
  dv.setInt32(76, -1, true); // rx_queue_mapping: none recorded
}

function fillBpfTcpSock(b: Uint8Array, s: SockModel): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  b.fill(0);
  dv.setUint32(0, s.snd_cwnd >>> 0, true);
  dv.setUint32(4, s.srtt_us >>> 0, true);
  dv.setUint32(16, s.rcv_nxt >>> 0, true);
  dv.setUint32(20, s.snd_nxt >>> 0, true);
  dv.setUint32(24, s.snd_una >>> 0, true);
  dv.setUint32(28, s.mss_cache >>> 0, true);
  dv.setUint32(56, s.segs_in >>> 0, true);
  dv.setUint32(60, s.data_segs_in >>> 0, true);
  dv.setBigUint64(80, BigInt.asUintN(64, s.bytes_received), true);
  dv.setBigUint64(88, BigInt.asUintN(64, s.bytes_acked), true);
}

// ---------------------------------------------------------------------------------------------
// Helpers (by kernel name). Per-op gates were applied by the caller from the table.

const readBytes = (c: CallCtx, addr: bigint, len: number) => c.hc.memory.readBytes(addr, len);

function printkMemory(c: CallCtx) {
  return {
    cstring: (addr: bigint, max: number) => {
      try {
        return c.hc.memory.readCString(addr, max);
      } catch {
        return null;
      }
    },
    bytes: (addr: bigint, len: number) => {
      try {
        return c.hc.memory.readBytes(addr, len);
      } catch {
        return null;
      }
    },
  };
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
    if (!skb || off > INT_MAX || off + len > skb.payload.length) {
      zeroFill(c, a[2]!, len);
      return r64(-EFAULT);
    }
    c.hc.memory.writeBytes(a[2]!, skb.payload.subarray(off, off + len));
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
    const out = new Uint8Array(optlen);
    const r = o ? bpfGetsockopt(o.sock, c.run.fullsock, i32(a[1]!), i32(a[2]!), out) : { ret: -EINVAL };
    if (!o) out.fill(0);
    c.hc.memory.writeBytes(a[3]!, out);
    return r64(r.ret);
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
    // net/core/filter.c bpf_sock_ops_load_hdr_opt: argument checks, then the option walk. We
    // model no TCP header, so a well-formed search finds nothing (-ENOMSG).
    const len = u32(a[2]!);
    const flags = a[3]!;
    if (len < 2 || flags & ~1n) return r64(-EINVAL);
    const s = readBytes(c, a[1]!, 2);
    const kind = s[0]!;
    const slen = s[1]!;
    if (slen > len || kind === 1 || kind === 0) return r64(-EINVAL);
    if (kind === 254 || kind === 253) {
      if (slen !== 4 && slen !== 6) return r64(-EINVAL);
    } else if (slen) return r64(-EINVAL);
    if (flags & 1n) return r64(-ENOENT); // no saved SYN
    if (!c.run.skb || c.run.op === c.k.table.constant('BPF_SOCK_OPS_HDR_OPT_LEN_CB')) return r64(-EPERM);
    return r64(-ENOMSG);
  },
  bpf_store_hdr_opt(c, a) {
    // bpf_sock_ops_store_hdr_opt after the op check: arguments, then the space left.
    const len = u32(a[2]!);
    if (len < 2 || a[3]! !== 0n) return r64(-EINVAL);
    const s = readBytes(c, a[1]!, 2);
    const kind = s[0]!;
    const klen = s[1]!;
    if (kind === 0 || kind === 1 || klen !== len) return r64(-EINVAL);
    if (klen > c.run.remainingOptLen) return r64(-ENOSPC);
    if ((kind === 254 || kind === 253) && klen < 4) return r64(-EINVAL);
    c.run.remainingOptLen -= klen;
    return 0n;
  },
  bpf_reserve_hdr_opt(c, a) {
    // bpf_sock_ops_reserve_hdr_opt after the op check. remaining_opt_len starts at 40 (assumed: no other options).
    const len = u32(a[1]!);
    if (a[2]! !== 0n || len < 2) return r64(-EINVAL);
    if (len > c.run.remainingOptLen) return r64(-ENOSPC);
    c.run.remainingOptLen -= len;
    return 0n;
  },
  bpf_sock_map_update: sockmapUpdate,
  bpf_sock_hash_update: sockmapUpdate,
};

function sockmapUpdate(c: CallCtx, a: bigint[]): bigint {
  // net/core/sock_map.c after the op check; the AutoLOWAT rule (design §4.6): a socket with the
  // RCVQ_CB flag on cannot join a sockmap (-EBUSY, assumed).
  const m = c.k._map(c, a[1]!);
  const flags = a[3]!;
  if (flags > BigInt(BPF_EXIST)) return r64(-EINVAL);
  const sock = c.run.objs.sock;
  const rcvq = c.k._rcvqFlag();
  if (rcvq && sock.bpf_sock_ops_cb_flags & rcvq) return r64(-EBUSY);
  m.sockmapSet(readBytes(c, a[2]!, m.def.keySize), sock.id);
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
