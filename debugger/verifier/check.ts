// The verifier walk (kernel/bpf/verifier.c do_check, 7.1.5): every path of the program from the
// entry, one instruction at a time, with register/stack/reference state, branches pushed and
// explored depth first (push_stack / pop_stack), states pruned at the prune points of
// kernel/bpf/cfg.c against states already proven safe (kernel/bpf/states.c is_state_visited:
// live registers, precision marks traced back by ./precision.ts, may_goto widening, loop SCCs
// with backedges), the 1,000,000 processed-instruction limit, and the first error ending the
// walk. Judges as for a loader with CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN unless opts.perfmon is
// false. Approximated: stack slots are compared whatever their liveness (7.1.5 compares live ones
// only, kernel/bpf/liveness.c); scalar ids are not remapped (check_scalar_ids); callbacks
// (bpf_loop, bpf_for_each_map_elem) are walked once per call rather than until they converge.
// Facts only: the error carries a kind and data; ./messages.ts writes the plain sentence.
import type { BpfObject, BpfProgram } from '../object/types';
import type { Insn } from '../vm/api';
import type { ProgType } from '../../sockops/types';
import { table as sockopsTable, type SockopsTable } from '../../sockops';
import { type Reg, type Frame, type VState, type Slot, STACK_SIZE, notInit, scalarReg, ptrReg, cloneReg, cloneState, ownSlot, isPtr, regTypeStr, regStr, statesSafe, statesEqual, widenImprecise } from './state';
import { type AluOp, type CondOp, type Scalar, aluScalar, branchTaken, constScalar, isConst, negate, rangeScalar, refine, sizedScalar, sync, unknownScalar, violated, cloneScalar, S64_MIN, constValue, isConst32 } from './scalar';
import { tnumAdd, tnumConst } from './tnum';
import { EXPECTED, KFUNC_PROTOS, PROTOS, PROTOS_BY_TYPE, type ArgType } from './protos';
import { liveness, cfgCheck, prunePoints, loopSccs, PRUNE, FORCE_CHECKPOINT, JMP_POINT } from './cfg';
import { History, Precision, stackAccessFlag, linkedRegs, type Checkpoint } from './precision';

export const COMPLEXITY_LIMIT = 1_000_000; // BPF_COMPLEXITY_LIMIT_INSNS
/** bpf_base_func_proto (kernel/bpf/helpers.c): helpers offered only to a loader with CAP_PERFMON. */
const PERFMON_HELPERS = new Set(['bpf_trace_printk', 'bpf_get_current_task', 'bpf_get_current_task_btf', 'bpf_get_current_comm', 'bpf_probe_read_user',
  'bpf_probe_read_kernel', 'bpf_probe_read_user_str', 'bpf_probe_read_kernel_str', 'bpf_copy_from_user', 'bpf_copy_from_user_task', 'bpf_snprintf_btf',
  'bpf_snprintf', 'bpf_task_pt_regs', 'bpf_trace_vprintk', 'bpf_perf_event_read_value', 'bpf_perf_event_read', 'bpf_send_signal', 'bpf_send_signal_thread',
  'bpf_get_task_stack', 'bpf_get_branch_snapshot']);
const MAX_CALL_FRAMES = 8;
const BPF_MAX_VAR_OFF = 1 << 29;
const BPF_MAX_VAR_SIZ = 1 << 29;

export type ErrorKind =
  | 'uninit-reg' | 'null-deref' | 'bad-deref' | 'ctx-access' | 'modified-ctx' | 'pkt-bounds' | 'map-bounds' | 'mem-bounds'
  | 'stack-bounds' | 'stack-uninit' | 'stack-misaligned' | 'stack-fill' | 'helper-arg' | 'helper-arg-null' | 'helper-size'
  | 'helper-unavailable' | 'helper-gpl' | 'kfunc' | 'unreleased-ref' | 'retval' | 'ret-ptr' | 'too-large' | 'infinite-loop'
  | 'unreachable' | 'jump-range' | 'ptr-arith' | 'unbounded-var' | 'readonly' | 'call-depth' | 'bad-insn' | 'other';

/** A rejection: what the kernel prints (message), where (pc) and the facts behind it. */
export class VerifierReject extends Error {
  constructor(readonly pc: number, readonly kernelMessage: string, readonly kind: ErrorKind, readonly facts: Record<string, string | number | undefined> = {}) {
    super(kernelMessage);
  }
}

export interface CheckOptions {
  /** sockops table profile (which helpers/kfuncs exist, ctx fields). */
  profile?: string;
  /** CAP_PERFMON (default true): uninitialised stack reads allowed, pointer leaks allowed. */
  perfmon?: boolean;
  /** Collect the kernel-style log (costs time). */
  log?: boolean;
  /** Stop after this many processed insns (tests); default COMPLEXITY_LIMIT. */
  limit?: number;
}

export interface CheckResult {
  accepted: boolean;
  processed: number;
  error?: VerifierReject;
  log: string[];
  /** Max stack depth of the entry function (bytes). */
  stackDepth: number;
  states: number;
}

// ---- opcode fields ----
const CLS = (c: number) => c & 7;
const LD = 0, LDX = 1, ST = 2, STX = 3, ALU = 4, JMP = 5, JMP32 = 6, ALU64 = 7;
const SIZE: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
const ALU_OPS: Record<number, AluOp | 'end'> = { 0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh', 0x80: 'neg', 0x90: 'mod', 0xa0: 'xor', 0xb0: 'mov', 0xc0: 'arsh', 0xd0: 'end' };
const JMP_OPS: Record<number, CondOp> = { 0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset', 0x50: 'jne', 0x60: 'jsgt', 0x70: 'jsge', 0xa0: 'jlt', 0xb0: 'jle', 0xc0: 'jslt', 0xd0: 'jsle' };
const OP_SYM: Record<string, string> = { add: '+=', sub: '-=', mul: '*=', div: '/=', or: '|=', and: '&=', lsh: '<<=', rsh: '>>=', neg: 'neg', mod: '%=', xor: '^=', mov: '=', arsh: 's>>=', end: 'end', sdiv: 's/=', smod: 's%=' };

type GlobalArg = { kind: 'scalar' } | { kind: 'ctx' } | { kind: 'mem'; size: number };
interface GlobalFunc { name: string; idx: number; args: GlobalArg[]; voidRet: boolean }
interface Snap extends Checkpoint { state: VState; parent: Snap | null; branches: number; pc: number; hits: number; misses: number; scc: string | null }
/** A path pruned against a state of its own loop (bpf_scc_backedge): its precision is propagated
 *  again when the loop's visit ends, as more marks may have reached the loop state since. */
interface Backedge { old: Snap; hist: number; pc: number; last: Snap | null; frames: number }
/** bpf_scc_visit: one walk of a loop (per call chain): the checkpoint that entered it, backedges. */
interface SccVisit { entry: Snap | null; backedges: Backedge[] }
/** One path being walked: its state, next pc, last checkpoint, newest history entry since it. */
interface Path { state: VState; pc: number; last: Snap | null; hist: number; jh: number }

const CTX_SIZE_SOCKOPT = 40; // sizeof(struct bpf_sockopt)

export function checkProgram(obj: BpfObject, prog: BpfProgram, progType: ProgType, opts: CheckOptions = {}): CheckResult {
  const v = new Checker(obj, prog, progType, opts);
  return v.run();
}

class Checker {
  private readonly insns: Insn[];
  private readonly t: SockopsTable;
  private readonly perfmon: boolean;
  private readonly log: string[] = [];
  private readonly logOn: boolean;
  private processed = 0;
  private nextId = 1;
  private states = 0;
  private readonly explored = new Map<number, Snap[]>();
  private readonly prune: Uint8Array;
  private live!: Uint16Array;
  private readonly pending: Path[] = [];
  private stackDepth = 0;
  private readonly limit: number;
  private readonly gpl: boolean;
  private globals: Map<number, GlobalFunc> | undefined;
  private readonly globalsCalled = new Set<number>();
  /** Set while walking a global function on its own. */
  private subprog: GlobalFunc | undefined;
  private jmps = 0;
  private prevJmps = 0;
  private prevInsns = 0;
  private readonly hist = new History();
  private readonly prec: Precision;
  /** The path whose instruction is being processed. */
  private curPath!: Path;
  private scc!: Int32Array;
  private readonly visits = new Map<string, SccVisit>();
  /** The kernel's jump-history entry of the current insn was counted (cur_hist_ent). */
  private jhDone = false;
  /** The last instruction processed (not pruned). */
  private lastPc = 0;
  /** Set by stackRead when the value is a spilled register's. */
  private filled = false;
  private readonly liveRegs = { regsAt: (pc: number) => this.live[pc]! };

  constructor(private readonly obj: BpfObject, private readonly prog: BpfProgram, private readonly progType: ProgType, opts: CheckOptions) {
    this.insns = prog.insns;
    this.t = sockopsTable(opts.profile);
    this.perfmon = opts.perfmon !== false;
    this.logOn = !!opts.log;
    this.limit = opts.limit ?? COMPLEXITY_LIMIT;
    this.prune = prunePoints(this.insns);
    this.prec = new Precision(this.insns, this.hist);
    this.gpl = /^(GPL|GPL v2|GPL and additional rights|Dual BSD\/GPL|Dual MIT\/GPL|Dual MPL\/GPL)$/.test(obj.license);
  }

  run(): CheckResult {
    try {
      cfgCheck(this.insns, this.prog);
      this.live = liveness(this.insns, this.prog);
      this.scc = loopSccs(this.insns);
      this.walk();
      return { accepted: true, processed: this.processed, log: this.finishLog(), stackDepth: this.stackDepth, states: this.states };
    } catch (e) {
      if (!(e instanceof VerifierReject)) throw e;
      if (this.logOn) this.log.push(e.kernelMessage);
      return { accepted: false, processed: this.processed, error: e, log: this.finishLog(), stackDepth: this.stackDepth, states: this.states };
    }
  }

  private finishLog(): string[] {
    if (this.logOn) this.log.push(`processed ${this.processed} insns (limit ${COMPLEXITY_LIMIT}) max_states_per_insn ? total_states ${this.states} peak_states ${this.states} mark_read ?`);
    return this.log;
  }

  private initialState(): VState {
    const regs: Reg[] = [];
    for (let i = 0; i < 11; i++) regs.push(notInit());
    regs[1] = ptrReg('PTR_TO_CTX');
    regs[10] = ptrReg('PTR_TO_STACK', { frameNo: 0 });
    return { frames: [{ regs, stack: new Map(), funcStart: 0, callsite: -1, depth: 0 }], refs: [] };
  }

  // ---- exploration ----
  private walk(): void {
    this.walkFrom(this.initialState(), 0);
    this.walkGlobals();
  }

  private walkFrom(state: VState, pc: number): void {
    let path: Path | undefined = { state, pc, last: null, hist: -1, jh: 0 };
    while (path) {
      const end = this.runPath(path);
      if (end) this.endPath(path);
      path = this.pending.pop();
      if (path && this.logOn) this.log.push(`from ${path.pc - 1} to ${path.pc}: ${this.stateStr(path.state)}`);
    }
  }

  /** bpf_update_branch_counts: a path ended; checkpoints whose every branch is done are final
   *  (a loop's entry state ending its visit propagates the loop's backedges: maybe_exit_scc). */
  private endPath(p: Path): void {
    let s = p.last;
    while (s) {
      s.branches--;
      if (s.branches > 0) break;
      if (s.scc !== null) {
        const v = this.visits.get(s.scc);
        if (v && v.entry === s) { v.entry = null; this.propagateBackedges(v); }
      }
      s = s.parent;
    }
  }

  /** compute_scc_callchain: the call sites down to the outermost frame standing in a loop, and that
   *  loop's id; null when no frame is in one. */
  private sccKey(st: VState, pc: number): string | null {
    let key = '';
    for (let i = 0; i < st.frames.length; i++) {
      const at = i === st.frames.length - 1 ? pc : st.frames[i + 1]!.callsite;
      const id = this.scc[at]!;
      if (id) return `${key}${id}`;
      key += `${at},`;
    }
    return null;
  }

  /** propagate_backedges: re-propagate precision along every backedge until nothing changes. */
  private propagateBackedges(v: SccVisit): void {
    for (let i = 0; v.backedges.length; i++) {
      const before = this.prec.changes;
      if (i > 64) {
        for (const b of v.backedges) this.prec.markAll(b.last);
        break;
      }
      for (const b of v.backedges) this.propagatePrecision(b.old, b.frames, b.hist, b.pc, b.last);
      if (this.prec.changes === before) break;
    }
    v.backedges = [];
  }

  /** push_stack: the other side of the branch at `at` waits, starting at `pc`. */
  private push(state: VState, pc: number, from: Path, at: number): void {
    if (from.last) from.last.branches++;
    this.pending.push({ state, pc, last: from.last, hist: from.hist, jh: from.jh });
    if (this.pending.length > 8192) throw new VerifierReject(at, 'The sequence of 8193 jumps is too complex.', 'too-large');
  }

  /** Follow one path until it exits, is pruned or branches end it; true when it ended. */
  private runPath(p: Path): boolean {
    for (;;) {
      // the kernel's log ends with the last insn it processed: the error is placed there
      if (this.processed++ >= this.limit) throw new VerifierReject(this.lastPc, `BPF program is too large. Processed ${this.limit + 1} insn`, 'too-large', { limit: this.limit });
      const pc = p.pc;
      if (pc < 0 || pc >= this.insns.length) throw new VerifierReject(pc, `invalid insn idx ${pc} insn_cnt ${this.insns.length}`, 'jump-range');
      if (this.prune[pc]! & PRUNE && this.visited(p)) {
        if (this.logOn) this.log.push(`${pc}: safe`);
        return true;
      }
      const insn = this.insns[pc]!;
      p.hist = this.hist.push(pc, p.hist);
      this.curPath = p;
      this.lastPc = pc;
      this.jhDone = false;
      if (this.prune[pc]! & JMP_POINT) this.countJh();
      if (this.logOn) this.log.push(`${pc}: (${insn.code.toString(16).padStart(2, '0')}) ${this.insnText(pc)}`);
      const next = this.step(p, insn, pc);
      if (next === 'exit') return true;
      p.pc = next;
    }
  }

  private visited(p: Path): boolean {
    const pc = p.pc;
    let list = this.explored.get(pc);
    const liveMask = this.live[pc]!;
    const forced = (this.prune[pc]! & FORCE_CHECKPOINT) !== 0 || p.jh > 40;
    // is_state_visited (kernel/bpf/states.c): remember a new state only after 2 jumps and 8 insns
    let add = forced || (this.jmps - this.prevJmps >= 2 && this.processed - this.prevInsns >= 8);
    const mayGoto = this.insns[pc]!.code === 0xe5;
    const callsCallback = (this.prune[pc]! & FORCE_CHECKPOINT) !== 0 && this.insns[pc]!.code === 0x85;
    if (list) {
      // the kernel adds new states at the head of the list and walks it from there: newest first
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i]!;
        let hit = false, loop = false;
        if (s.branches > 0) {
          // a state of this path's own loop, still being explored: its precision marks are not
          // final, so it only serves may_goto convergence (RANGE_WITHIN) and the infinite-loop test
          if (mayGoto && (s.state.mayGoto ?? 0) !== (p.state.mayGoto ?? 0) && statesSafe(s.state, p.state, pc, this.liveRegs, this.perfmon, true)) {
            hit = loop = true;
          } else if (callsCallback) {
            // bpf_calls_callback: the callback's iterations converge (no infinite-loop test here)
            hit = loop = statesSafe(s.state, p.state, pc, this.liveRegs, this.perfmon, true);
            if (!hit && !forced && this.jmps - this.prevJmps < 20 && this.processed - this.prevInsns < 100) add = false;
          } else {
            if (statesEqual(s.state, p.state, liveMask)) throw new VerifierReject(pc, `infinite loop detected at insn ${pc}`, 'infinite-loop');
            if (!forced && this.jmps - this.prevJmps < 20 && this.processed - this.prevInsns < 100) add = false;
          }
        } else {
          // a loop state whose backedges are pending has incomplete marks: compare exactly
          loop = s.scc !== null && !!this.visits.get(s.scc)?.backedges.length;
          hit = statesSafe(s.state, p.state, pc, this.liveRegs, this.perfmon, loop);
        }
        if (hit) {
          s.hits++;
          const n = p.state.frames.length;
          this.propagatePrecision(s, n, p.hist, pc, p.last);
          if (loop && s.scc !== null) this.visits.get(s.scc)?.backedges.push({ old: s, hist: p.hist, pc, last: p.last, frames: n });
          return true;
        }
        // miss: a state that keeps missing is dropped (miss_cnt > hit_cnt * n + n)
        if (add) s.misses++;
        const lim = (this.prune[pc]! & FORCE_CHECKPOINT) && s.branches > 0 ? 64 : 3;
        if (s.misses > s.hits * lim + lim) list.splice(i, 1);
      }
    } else {
      list = [];
      this.explored.set(pc, list);
    }
    if (add) {
      this.prevJmps = this.jmps;
      this.prevInsns = this.processed;
      const key = this.sccKey(p.state, pc);
      const snap: Snap = { state: cloneState(p.state), parent: p.last, branches: 1, pc, hits: 0, misses: 0, hist: p.hist, scc: key };
      if (key !== null) {
        // maybe_enter_scc
        let v = this.visits.get(key);
        if (!v) this.visits.set(key, (v = { entry: null, backedges: [] }));
        if (!v.entry) v.entry = snap;
      }
      list.push(snap);
      p.last = snap;
      p.hist = -1;
      p.jh = 0;
      this.states++;
    }
    return false;
  }

  /** propagate_precision: what the explored state needed precisely, the current path needs too
   *  (its scalars matched only because they were not compared). */
  private propagatePrecision(old: Snap, frames: number, hist: number, pc: number, last: Snap | null): void {
    const bt = this.prec.bt;
    bt.reset(frames - 1);
    old.state.frames.forEach((f, fr) => {
      for (let r = 0; r < 10; r++) { const x = f.regs[r]!; if (x.type === 'SCALAR_VALUE' && x.precise) bt.setReg(fr, r); }
      for (const [spi, sl] of f.stack) if (sl.spill?.type === 'SCALAR_VALUE' && sl.spill.precise && sl.bytes[0] === 'spill') bt.setSlot(fr, spi);
    });
    this.prec.markChain(hist, pc, last);
  }

  /** mark_chain_precision for registers of the innermost frame, from the instruction being
   *  processed (its own effect is not traced: it has not happened yet). */
  private precise(...regs: number[]): void {
    const p = this.curPath;
    const bt = this.prec.bt;
    const fr = p.state.frames.length - 1;
    bt.reset(fr);
    for (const r of regs) { const x = p.state.frames[fr]!.regs[r]; if (x?.type === 'SCALAR_VALUE') bt.setReg(fr, r); }
    this.prec.markChain(this.hist.prev[p.hist]!, p.pc, p.last);
  }

  /** mark_chain_precision_batch for one stack slot (a constant map key). */
  private preciseSlot(frameNo: number, spi: number): void {
    const p = this.curPath;
    const bt = this.prec.bt;
    bt.reset(p.state.frames.length - 1);
    bt.setSlot(frameNo, spi);
    this.prec.markChain(this.hist.prev[p.hist]!, p.pc, p.last);
  }

  /** INSN_F_STACK_ACCESS on the instruction being processed. */
  private stackFlag(frameNo: number, spi: number): void {
    this.hist.flags[this.curPath.hist]! |= stackAccessFlag(frameNo, spi);
    this.countJh();
  }

  /** One more entry in the kernel's jump history of this path (it forces a checkpoint past 40). */
  private countJh(): void {
    if (this.jhDone) return;
    this.jhDone = true;
    this.curPath.jh++;
  }

  // ---- one instruction ----
  private cur(p: Path): Frame { return p.state.frames[p.state.frames.length - 1]!; }

  private readReg(f: Frame, r: number, pc: number): Reg {
    const reg = f.regs[r];
    if (!reg || r > 10) throw new VerifierReject(pc, `R${r} is invalid`, 'bad-insn');
    if (reg.type === 'NOT_INIT') throw new VerifierReject(pc, `R${r} !read_ok`, 'uninit-reg', { reg: r });
    return reg;
  }

  private writeReg(f: Frame, r: number, v: Reg, pc: number): void {
    if (r === 10) throw new VerifierReject(pc, 'frame pointer is read only', 'bad-insn');
    if (r > 10) throw new VerifierReject(pc, `R${r} is invalid`, 'bad-insn');
    f.regs[r] = v;
  }

  private step(p: Path, insn: Insn, pc: number): number | 'exit' {
    const f = this.cur(p);
    const cls = CLS(insn.code);
    switch (cls) {
      case ALU: case ALU64: this.alu(f, insn, pc, cls === ALU64); return pc + 1;
      case LDX: this.ldx(p, f, insn, pc); return pc + 1;
      case ST: case STX: this.store(p, f, insn, pc, cls); return pc + 1;
      case LD: return this.ld(f, insn, pc);
      case JMP: case JMP32: this.jmps++; return this.jmp(p, f, insn, pc, cls === JMP32);
    }
    throw new VerifierReject(pc, `unknown opcode ${insn.code.toString(16).padStart(2, '0')}`, 'bad-insn');
  }

  private ld(f: Frame, insn: Insn, pc: number): number {
    if (insn.code !== 0x18) {
      if ((insn.code & 0xe0) === 0x20 || (insn.code & 0xe0) === 0x40) throw new VerifierReject(pc, 'BPF_LD_[ABS|IND] instructions not allowed for this program type', 'bad-insn');
      throw new VerifierReject(pc, `unknown opcode ${insn.code.toString(16).padStart(2, '0')}`, 'bad-insn');
    }
    const hi = this.insns[pc + 1];
    if (!hi) throw new VerifierReject(pc, 'invalid BPF_LD_IMM insn', 'bad-insn');
    let v: Reg;
    switch (insn.src) {
      case 0: v = scalarReg(constScalar(BigInt.asUintN(32, BigInt(insn.imm)) | (BigInt.asUintN(32, BigInt(hi.imm)) << 32n))); break;
      case 1: v = ptrReg('CONST_PTR_TO_MAP', { mapIndex: insn.imm }); break;
      case 2: {
        const m = this.obj.maps[insn.imm];
        v = ptrReg('PTR_TO_MAP_VALUE', { mapIndex: insn.imm, off: hi.imm, rdonly: !!m?.readonly });
        break;
      }
      case 4: v = ptrReg('PTR_TO_FUNC', { funcPc: pc + 1 + insn.imm }); break;
      default: v = ptrReg('PTR_TO_BTF_ID', { trusted: false }); break; // __ksym: approximated as an untrusted BTF pointer
    }
    this.writeReg(f, insn.dst, v, pc);
    return pc + 2;
  }

  // ---- ALU ----
  private alu(f: Frame, insn: Insn, pc: number, alu64: boolean): void {
    const opc = ALU_OPS[insn.code & 0xf0];
    const srcX = (insn.code & 0x08) !== 0;
    if (!opc) throw new VerifierReject(pc, `invalid BPF_ALU opcode ${(insn.code & 0xf0).toString(16)}`, 'bad-insn');
    if (opc === 'end') {
      const d = this.readReg(f, insn.dst, pc);
      if (isPtr(d)) throw new VerifierReject(pc, `R${insn.dst} pointer arithmetic prohibited`, 'ptr-arith', { reg: insn.dst });
      const bits = insn.imm;
      let s: Scalar;
      if (isConst(d.s)) {
        let x = constValue(d.s) & ((1n << BigInt(bits)) - 1n);
        if (srcX || !alu64 && (insn.code & 0x08)) x = bswap(x, bits);
        else if (alu64) x = bswap(x, bits);
        s = constScalar(x);
      } else s = (!alu64 && !srcX) ? sizedScalar(bits / 8) : sizedScalar(bits / 8);
      this.writeReg(f, insn.dst, scalarReg(s), pc);
      return;
    }
    let op: AluOp = opc;
    if ((op === 'div' || op === 'mod') && insn.off === 1) op = op === 'div' ? 'sdiv' : 'smod';
    if (op === 'neg') {
      const d = this.readReg(f, insn.dst, pc);
      if (isPtr(d)) throw new VerifierReject(pc, `R${insn.dst} pointer arithmetic prohibited`, 'ptr-arith', { reg: insn.dst });
      this.writeReg(f, insn.dst, scalarReg(aluScalar('neg', d.s, constScalar(0n), alu64)), pc);
      return;
    }
    const src = srcX ? this.readReg(f, insn.src, pc) : scalarReg(immScalar(insn.imm, alu64));
    if (op === 'mov') {
      if (srcX && insn.off && insn.off !== 0) {
        // movsx: sign-extend the low off bits
        if (isPtr(src)) throw new VerifierReject(pc, `R${insn.src} sign-extension part of pointer`, 'ptr-arith');
        const bits = insn.off;
        let s: Scalar;
        if (isConst(src.s)) {
          const v = BigInt.asIntN(bits, constValue(src.s));
          s = constScalar(alu64 ? BigInt.asUintN(64, v) : BigInt.asUintN(32, v));
        } else s = alu64 ? rangeScalar(-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n) : aluScalar('mov', unknownScalar(), unknownScalar(), false);
        this.writeReg(f, insn.dst, scalarReg(s), pc);
        return;
      }
      if (isPtr(src)) {
        if (!alu64) {
          // a 32-bit move of a pointer gives a scalar (allowed with allow_ptr_leaks)
          if (!this.perfmon) throw new VerifierReject(pc, `R${insn.src} partial copy of pointer`, 'ptr-arith');
          this.writeReg(f, insn.dst, scalarReg(aluScalar('mov', unknownScalar(), unknownScalar(), false)), pc);
          return;
        }
        this.writeReg(f, insn.dst, cloneReg(src), pc);
        return;
      }
      if (alu64) {
        const r = cloneReg(src);
        if (srcX && !r.id && !isConst(r.s)) r.id = this.nextId++; // linked scalars
        if (srcX) f.regs[insn.src] = { ...f.regs[insn.src]!, id: r.id };
        this.writeReg(f, insn.dst, r, pc);
      } else {
        const r = scalarReg(aluScalar('mov', unknownScalar(), src.s, false));
        // a 32-bit copy of a value that fits in 32 bits stays linked to its source (BPF_MOV32)
        if (srcX && src.s.umax <= 0xffffffffn && !isConst(src.s)) {
          const id = src.id || this.nextId++;
          f.regs[insn.src] = { ...f.regs[insn.src]!, id };
          r.id = id;
        }
        this.writeReg(f, insn.dst, r, pc);
      }
      return;
    }
    const dst = this.readReg(f, insn.dst, pc);
    if (isPtr(dst) || isPtr(src)) {
      // adjust_reg_min_max_vals: the scalar added to a pointer is relied on exactly
      if (srcX && isPtr(dst) && !isPtr(src)) this.precise(insn.src);
      else if (srcX && !isPtr(dst) && isPtr(src)) this.precise(insn.dst);
      this.writeReg(f, insn.dst, this.ptrAlu(op, dst, src, insn, pc, alu64), pc);
      return;
    }
    this.writeReg(f, insn.dst, scalarReg(aluScalar(op, dst.s, src.s, alu64)), pc);
  }

  private ptrAlu(op: AluOp, dst: Reg, src: Reg, insn: Insn, pc: number, alu64: boolean): Reg {
    const d = insn.dst;
    if (isPtr(dst) && isPtr(src)) {
      if (op === 'sub' && this.perfmon) return scalarReg(unknownScalar()); // allow_ptr_leaks: any two pointers
      throw new VerifierReject(pc, `R${d} pointer ${OP_SYM[op]} pointer prohibited`, 'ptr-arith', { reg: d });
    }
    const ptr = isPtr(dst) ? dst : src;
    const off = isPtr(dst) ? src : dst;
    if (!alu64) {
      if (op === 'sub' && this.perfmon) return scalarReg(aluScalar('mov', unknownScalar(), unknownScalar(), false));
      throw new VerifierReject(pc, `R${d} 32-bit pointer arithmetic prohibited`, 'ptr-arith', { reg: d });
    }
    if (ptr.maybeNull) throw new VerifierReject(pc, `R${d} pointer arithmetic on ${regTypeStr(ptr)} prohibited, null-check it first`, 'null-deref', { reg: d, type: regTypeStr(ptr) });
    const known = isConst(off.s);
    const forbidden = ['CONST_PTR_TO_MAP', 'PTR_TO_PACKET_END', 'PTR_TO_SOCKET', 'PTR_TO_SOCK_COMMON', 'PTR_TO_TCP_SOCK'];
    if (forbidden.includes(ptr.type) && !(ptr.type === 'CONST_PTR_TO_MAP' && known && constValue(off.s) === 0n && op === 'add')) {
      throw new VerifierReject(pc, `R${d} pointer arithmetic on ${regTypeStr(ptr)} prohibited`, 'ptr-arith', { reg: d, type: regTypeStr(ptr) });
    }
    if (op !== 'add' && op !== 'sub') {
      if (['and', 'or', 'xor'].includes(op)) throw new VerifierReject(pc, `R${d} bitwise operator ${OP_SYM[op]} on pointer prohibited`, 'ptr-arith', { reg: d });
      throw new VerifierReject(pc, `R${d} pointer arithmetic with ${OP_SYM[op]} operator prohibited`, 'ptr-arith', { reg: d });
    }
    if (op === 'sub' && !isPtr(dst)) throw new VerifierReject(pc, `R${d} tried to subtract pointer from scalar`, 'ptr-arith', { reg: d });
    if (!this.perfmon && (insn.code & 0x08) !== 0) {
      // sanitize_ptr_alu without bypass_spec_v1: a register operand is masked only for stack and map values
      const ptrRegNo = isPtr(dst) ? d : insn.src, offRegNo = isPtr(dst) ? insn.src : d;
      if (ptr.type !== 'PTR_TO_STACK' && ptr.type !== 'PTR_TO_MAP_VALUE') throw new VerifierReject(pc, `R${ptrRegNo} has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root`, 'ptr-arith', { reg: ptrRegNo });
      if (off.s.smin < 0n && off.s.smax > 0n) throw new VerifierReject(pc, `R${offRegNo} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root`, 'ptr-arith', { reg: offRegNo });
    }
    // check_reg_sane_offset_scalar
    const tname = regTypeStr(ptr);
    if (known) {
      const val = BigInt.asIntN(64, constValue(off.s));
      if (val >= BigInt(BPF_MAX_VAR_OFF) || val <= -BigInt(BPF_MAX_VAR_OFF)) throw new VerifierReject(pc, `math between ${tname} pointer and ${val} is not allowed`, 'ptr-arith');
    } else if (off.s.smin === S64_MIN) {
      throw new VerifierReject(pc, `math between ${tname} pointer and register with unbounded min value is not allowed`, 'unbounded-var', { reg: d, type: tname });
    } else if (off.s.smin >= BigInt(BPF_MAX_VAR_OFF) || off.s.smin <= -BigInt(BPF_MAX_VAR_OFF)) {
      throw new VerifierReject(pc, `value ${off.s.smin} makes ${tname} pointer be out of bounds`, 'ptr-arith');
    }
    const r = cloneReg(ptr);
    if (known) {
      const val = Number(BigInt.asIntN(64, constValue(off.s)));
      r.off = op === 'add' ? r.off + val : r.off - val;
    } else {
      r.s = aluScalar(op, ptr.s, off.s, true);
      if (r.type === 'PTR_TO_PACKET') { r.id = this.nextId++; r.range = 0; }
    }
    if (!this.perfmon) this.sanitizeBounds(r, d, pc); // sanitize_check_bounds (no bypass_spec_v1)
    if (ptr.type === 'PTR_TO_STACK' || ptr.type === 'PTR_TO_MAP_VALUE' || ptr.type === 'PTR_TO_CTX') {
      // sanity: keep offsets in 32-bit range as the kernel does (check_reg_sane_offset_ptr)
      if (Math.abs(r.off) >= BPF_MAX_VAR_OFF) throw new VerifierReject(pc, `value ${r.off} makes ${tname} pointer be out of bounds`, 'ptr-arith');
    }
    return r;
  }

  /** Without CAP_PERFMON, pointer arithmetic must stay inside the object (Spectre v1 masking). */
  private sanitizeBounds(r: Reg, d: number, pc: number): void {
    if (r.type === 'PTR_TO_STACK') {
      if (!isConst(r.s)) throw new VerifierReject(pc, `R${d} variable stack access prohibited for !root, var_off=(0x${r.s.varOff.value.toString(16)}; 0x${r.s.varOff.mask.toString(16)}) off=${r.off}`, 'ptr-arith', { reg: d });
      const off = r.off + Number(BigInt.asIntN(64, constValue(r.s)));
      if (off >= 0 || off < -STACK_SIZE) throw new VerifierReject(pc, `R${d} stack pointer arithmetic goes out of range, prohibited for !root; off=${off}`, 'ptr-arith', { reg: d });
    } else if (r.type === 'PTR_TO_MAP_VALUE') {
      const vs = this.obj.maps[r.mapIndex ?? -1]?.valueSize ?? 0;
      const lo = r.off + Number(BigInt.asIntN(64, r.s.smin)), hi = r.off + Number(r.s.umax > BigInt(BPF_MAX_VAR_OFF) ? BigInt(BPF_MAX_VAR_OFF) : r.s.umax);
      if (r.s.smin < 0n && !isConst(r.s) || lo < 0 || hi + 1 > vs) throw new VerifierReject(pc, `R${d} pointer arithmetic of map value goes out of range, prohibited for !root`, 'map-bounds', { reg: d, limit: vs, map: this.obj.maps[r.mapIndex ?? -1]?.name });
    }
  }

  // ---- memory ----
  private ldx(p: Path, f: Frame, insn: Insn, pc: number): void {
    const mode = insn.code & 0xe0;
    if (mode !== 0x60 && mode !== 0x80) throw new VerifierReject(pc, `unknown opcode ${insn.code.toString(16).padStart(2, '0')}`, 'bad-insn');
    const size = SIZE[insn.code & 0x18]!;
    const base = this.readReg(f, insn.src, pc);
    const val = this.access(p, base, insn.src, insn.off, size, 'read', pc, undefined);
    let out = val;
    if (mode === 0x80 && out.type === 'SCALAR_VALUE' && size < 8) {
      // LDSX: sign-extended
      out = scalarReg(isConst(out.s) ? constScalar(BigInt.asUintN(64, BigInt.asIntN(size * 8, constValue(out.s)))) : rangeScalar(-(1n << BigInt(size * 8 - 1)), (1n << BigInt(size * 8 - 1)) - 1n));
    }
    this.writeReg(f, insn.dst, out, pc);
  }

  private store(p: Path, f: Frame, insn: Insn, pc: number, cls: number): void {
    const mode = insn.code & 0xe0;
    const size = SIZE[insn.code & 0x18]!;
    if (cls === STX && mode === 0xc0) return this.atomic(p, f, insn, pc, size);
    if (mode !== 0x60) throw new VerifierReject(pc, `unknown opcode ${insn.code.toString(16).padStart(2, '0')}`, 'bad-insn');
    const base = this.readReg(f, insn.dst, pc);
    const value = cls === STX ? this.readReg(f, insn.src, pc) : scalarReg(constScalar(BigInt.asUintN(64, BigInt(insn.imm))));
    if (cls === ST && base.type === 'PTR_TO_CTX') {
      // BPF_ST into ctx is refused outright (check_mem_access through convert_ctx_access)
      throw new VerifierReject(pc, 'BPF_ST stores into R' + insn.dst + ' ctx is not allowed', 'ctx-access', { reg: insn.dst });
    }
    this.access(p, base, insn.dst, insn.off, size, 'write', pc, value, cls === STX ? insn.src : -1);
  }

  private atomic(p: Path, f: Frame, insn: Insn, pc: number, size: number): void {
    if (size !== 4 && size !== 8) throw new VerifierReject(pc, 'invalid atomic operand size', 'bad-insn');
    const base = this.readReg(f, insn.dst, pc);
    const src = this.readReg(f, insn.src, pc);
    if (isPtr(src)) throw new VerifierReject(pc, `R${insn.src} leaks addr into mem`, 'other', { reg: insn.src });
    if (base.type === 'PTR_TO_CTX' || base.type === 'PTR_TO_PACKET' || base.type === 'PTR_TO_SOCKET' || base.type === 'PTR_TO_TCP_SOCK' || base.type === 'PTR_TO_SOCK_COMMON' || base.type === 'PTR_TO_BTF_ID') {
      throw new VerifierReject(pc, `BPF_ATOMIC stores into R${insn.dst} ${regTypeStr(base)} is not allowed`, 'bad-deref', { reg: insn.dst, type: regTypeStr(base) });
    }
    this.access(p, base, insn.dst, insn.off, size, 'read', pc, undefined);
    this.access(p, base, insn.dst, insn.off, size, 'write', pc, scalarReg(unknownScalar()));
    const imm = insn.imm;
    if (imm & 1) { // BPF_FETCH: old value into src (or r0 for cmpxchg)
      const dst = imm === 0xf1 ? 0 : insn.src;
      f.regs[dst] = scalarReg(size === 8 ? unknownScalar() : sizedScalar(4));
    }
  }

  /** check_mem_access: returns the loaded value (reads) or a dummy. */
  private access(p: Path, base: Reg, regno: number, insnOff: number, size: number, t: 'read' | 'write', pc: number, value: Reg | undefined, valueReg = -1): Reg {
    const off = base.off + insnOff;
    if (base.maybeNull || base.type === 'SCALAR_VALUE' || base.type === 'CONST_PTR_TO_MAP' || base.type === 'PTR_TO_FUNC' || base.type === 'PTR_TO_PACKET_END') {
      throw new VerifierReject(pc, `R${regno} invalid mem access '${regTypeStr(base)}'`, base.maybeNull ? 'null-deref' : 'bad-deref', { reg: regno, type: regTypeStr(base), off: insnOff, size });
    }
    switch (base.type) {
      case 'PTR_TO_STACK': return this.stackAccess(p, base, regno, off, size, t, pc, value, valueReg);
      case 'PTR_TO_CTX': return this.ctxAccess(base, regno, off, size, t, pc, value);
      case 'PTR_TO_MAP_VALUE': {
        const m = this.obj.maps[base.mapIndex ?? -1];
        const vs = m?.valueSize ?? 0;
        if (t === 'write' && m?.readonly) throw new VerifierReject(pc, `write into map forbidden, value_size=${vs} off=${off} size=${size}`, 'readonly', { reg: regno, map: m.name });
        this.regionCheck(base, regno, off, size, vs, pc, 'map', m?.name);
        if (t === 'read') {
          if (m?.readonly && m.initial && isConst(base.s)) {
            const o = off + Number(constValue(base.s));
            if (o >= 0 && o + size <= m.initial.length) {
              let x = 0n;
              for (let i = size - 1; i >= 0; i--) x = (x << 8n) | BigInt(m.initial[o + i]!);
              return scalarReg(constScalar(x));
            }
          }
          return scalarReg(sizedScalar(size));
        }
        return scalarReg(unknownScalar());
      }
      case 'PTR_TO_MEM': {
        if (t === 'write' && base.rdonly) throw new VerifierReject(pc, `R${regno} cannot write into ${regTypeStr(base)}`, 'readonly', { reg: regno });
        this.regionCheck(base, regno, off, size, base.memSize ?? 0, pc, 'mem');
        return scalarReg(sizedScalar(size));
      }
      case 'PTR_TO_PACKET': {
        if (t === 'write' && this.progType === 'sock_ops') throw new VerifierReject(pc, 'cannot write into packet', 'readonly', { reg: regno });
        if (t === 'write' && value && isPtr(value) && !this.perfmon) throw new VerifierReject(pc, `R${valueReg} leaks addr into packet`, 'other');
        if (base.s.smin < 0n) throw new VerifierReject(pc, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, 'unbounded-var', { reg: regno });
        const umax = Number(base.s.umax > BigInt(BPF_MAX_VAR_OFF) ? BigInt(BPF_MAX_VAR_OFF) : base.s.umax);
        if (off < 0 || off + size + umax > base.range || base.s.umax >= BigInt(BPF_MAX_VAR_OFF)) {
          throw new VerifierReject(pc, `invalid access to packet, off=${off} size=${size}, R${regno}(id=${base.id},off=${base.off},r=${base.range})\nR${regno} offset is outside of the packet`, 'pkt-bounds', { reg: regno, off, size, range: base.range });
        }
        return scalarReg(sizedScalar(size));
      }
      case 'PTR_TO_SOCKET': case 'PTR_TO_SOCK_COMMON': case 'PTR_TO_TCP_SOCK': {
        const what = base.type === 'PTR_TO_TCP_SOCK' ? 'tcp_sock' : 'sock';
        if (t === 'write') throw new VerifierReject(pc, `R${regno} cannot write into ${regTypeStr(base)}`, 'readonly', { reg: regno, type: regTypeStr(base) });
        if (!isConst(base.s)) throw new VerifierReject(pc, `R${regno} invalid ${regTypeStr(base)} access off=${off} size=${size}`, 'bad-deref', { reg: regno });
        if (!sockAccessOk(what, off, size)) {
          throw new VerifierReject(pc, `R${regno} invalid ${what} access off=${off} size=${size}`, 'bad-deref', { reg: regno, off, size, type: what });
        }
        return scalarReg(sizedScalar(size));
      }
      case 'PTR_TO_BTF_ID': {
        if (!this.perfmon) throw new VerifierReject(pc, `'struct ${base.btfName ?? ''}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN`, 'bad-deref', { reg: regno, needs: 'CAP_PERFMON' });
        if (t === 'write') throw new VerifierReject(pc, 'only read is supported', 'readonly', { reg: regno });
        if (off < 0) throw new VerifierReject(pc, `R${regno} is ptr_${base.btfName ?? ''} invalid negative access: off=${off}`, 'bad-deref', { reg: regno });
        return this.btfLoad(base, off, size);
      }
      case 'PTR_TO_MAP_KEY':
        return scalarReg(sizedScalar(size));
    }
    throw new VerifierReject(pc, `R${regno} invalid mem access '${regTypeStr(base)}'`, 'bad-deref', { reg: regno, type: regTypeStr(base) });
  }

  /** check_mem_region_access with the variable part of the offset. */
  private regionCheck(base: Reg, regno: number, off: number, size: number, limit: number, pc: number, what: 'map' | 'mem', mapName?: string): void {
    const s = base.s;
    const bad = (o: number) => what === 'map'
      ? new VerifierReject(pc, `invalid access to map value, value_size=${limit} off=${o} size=${size}`, 'map-bounds', { reg: regno, off: o, size, limit, map: mapName })
      : new VerifierReject(pc, `invalid access to memory, mem_size=${limit} off=${o} size=${size}`, 'mem-bounds', { reg: regno, off: o, size, limit });
    if (isConst(s)) {
      const o = off + Number(BigInt.asIntN(64, constValue(s)));
      if (o < 0 || o + size > limit) throw bad(o);
      return;
    }
    if (s.smin < 0n && (s.smin === S64_MIN || off + Number(s.smin) < 0)) {
      throw new VerifierReject(pc, `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`, 'unbounded-var', { reg: regno });
    }
    if (off + Number(s.smin) < 0) throw new VerifierReject(pc, `R${regno} min value is outside of the allowed memory range`, what === 'map' ? 'map-bounds' : 'mem-bounds', { reg: regno });
    if (s.umax >= BigInt(BPF_MAX_VAR_OFF)) throw new VerifierReject(pc, `R${regno} unbounded memory access, make sure to bounds check any such access`, 'unbounded-var', { reg: regno });
    if (off + Number(s.umax) + size > limit) {
      throw new VerifierReject(pc, `invalid access to map value, value_size=${limit} off=${off + Number(s.umax)} size=${size}\nR${regno} max value is outside of the allowed memory range`, what === 'map' ? 'map-bounds' : 'mem-bounds', { reg: regno, off: off + Number(s.umax), size, limit, map: mapName });
    }
  }

  private btfLoad(base: Reg, off: number, size: number): Reg {
    const btf = this.obj.btf;
    if (btf && base.btfId && size === 8) {
      try {
        const mt = pointerMemberAt(btf, base.btfId, off, 0);
        if (mt !== undefined) {
          const target = btf.resolve(mt);
          // walked pointers are PTR_UNTRUSTED (btf_struct_access / btf_struct_walk)
          return ptrReg('PTR_TO_BTF_ID', { trusted: false, btfId: target.id, btfName: target.name });
        }
      } catch { /* an odd BTF type: fall back to a scalar */ }
    }
    return scalarReg(sizedScalar(size));
  }

  private ctxAccess(base: Reg, regno: number, off: number, size: number, t: 'read' | 'write', pc: number, value: Reg | undefined): Reg {
    if (base.off !== 0 && !isConst(base.s) || !isConst(base.s)) throw new VerifierReject(pc, `variable ctx access var_off=(0x${base.s.varOff.value.toString(16)}; 0x${base.s.varOff.mask.toString(16)}) disallowed`, 'modified-ctx', { reg: regno });
    if (base.off !== 0) throw new VerifierReject(pc, `dereference of modified ctx ptr R${regno} off=${base.off} disallowed`, 'modified-ctx', { reg: regno, off: base.off });
    if (t === 'write' && value && isPtr(value) && !this.perfmon) throw new VerifierReject(pc, `R? leaks addr into ctx`, 'other');
    const bad = () => new VerifierReject(pc, `invalid bpf_context access off=${off} size=${size}`, 'ctx-access', { reg: regno, off, size, write: t === 'write' ? 1 : 0 });
    if (this.progType === 'sock_ops') {
      if (this.t.ctxAccessError(off, size, t === 'write')) throw bad();
      if (t === 'write') return scalarReg(unknownScalar());
      const fld = this.t.ctxFieldAt(off);
      switch (fld?.regType) {
        case 'PTR_TO_SOCKET_OR_NULL': return ptrReg('PTR_TO_SOCKET', { maybeNull: true, id: this.nextId++ });
        case 'PTR_TO_PACKET': return ptrReg('PTR_TO_PACKET'); // id 0: every fresh load shares the range (find_good_pkt_pointers)
        case 'PTR_TO_PACKET_END': return ptrReg('PTR_TO_PACKET_END');
      }
      return scalarReg(sizedScalar(size));
    }
    // struct bpf_sockopt: kernel/bpf/cgroup.c cg_sockopt_is_valid_access
    const get = this.progType === 'cgroup_getsockopt';
    if (off < 0 || off >= CTX_SIZE_SOCKOPT || off % size !== 0) throw bad();
    if (t === 'write') {
      const ok = (off === 36 && size === 4 && get) || ((off === 28 || off === 24) && size === 4 && !get) || (off === 32 && size === 4);
      if (!ok) throw bad();
      return scalarReg(unknownScalar());
    }
    if (off < 24) {
      if (size !== 8) throw bad();
      if (off === 0) return ptrReg('PTR_TO_SOCKET');
      if (off === 8) return ptrReg('PTR_TO_PACKET');
      return ptrReg('PTR_TO_PACKET_END');
    }
    if (size !== 4) throw bad();
    if (off === 36 && !get) throw bad();
    return scalarReg(sizedScalar(4));
  }

  // ---- stack ----
  private stackFrame(p: Path, base: Reg): Frame {
    return p.state.frames[base.frameNo ?? p.state.frames.length - 1]!;
  }

  private stackAccess(p: Path, base: Reg, regno: number, off: number, size: number, t: 'read' | 'write', pc: number, value: Reg | undefined, valueReg: number): Reg {
    const frame = this.stackFrame(p, base);
    if (!isConst(base.s)) return this.varStackAccess(frame, base, regno, off, size, t, pc);
    const o = off + Number(BigInt.asIntN(64, constValue(base.s)));
    if (o < -STACK_SIZE || o + size > 0 || o >= 0) throw new VerifierReject(pc, `invalid ${t === 'write' ? 'write to' : 'read from'} stack R${regno} off=${o} size=${size}`.replace(/^invalid (write to|read from) stack R\d+ off=/, `invalid stack off=`).replace(/ size=/, ' size='), 'stack-bounds', { reg: regno, off: o, size });
    if (o % size !== 0) throw new VerifierReject(pc, `misaligned stack access off ${base.off}+${off - base.off} size ${size}`, 'stack-misaligned', { reg: regno, off: o, size });
    this.stackDepth = Math.max(this.stackDepth, -o);
    frame.depth = Math.max(frame.depth, -o);
    const frameNo = base.frameNo ?? p.state.frames.length - 1;
    if (t === 'write') {
      this.stackFlag(frameNo, slotIdx(o));
      this.stackWrite(frame, o, size, value!, pc, valueReg);
      return scalarReg(unknownScalar());
    }
    this.filled = false;
    const r = this.stackRead(frame, o, size, pc, regno);
    if (this.filled) this.stackFlag(frameNo, slotIdx(o)); // a spilled register restored
    return r;
  }

  private varStackAccess(frame: Frame, base: Reg, regno: number, off: number, size: number, t: 'read' | 'write', pc: number): Reg {
    const s = base.s;
    // check_ptr_alignment: stack accesses are always strict
    const lowMask = BigInt(size - 1);
    const at = tnumAdd(s.varOff, tnumConst(BigInt.asUintN(64, BigInt(off))));
    if (size > 1 && ((at.value & lowMask) !== 0n || (at.mask & lowMask) !== 0n)) {
      throw new VerifierReject(pc, `misaligned stack access off (0x${s.varOff.value.toString(16)}; 0x${s.varOff.mask.toString(16)})+${base.off}+${off - base.off} size ${size}`, 'stack-misaligned', { reg: regno, size });
    }
    const min = off + Number(s.smin), max = off + Number(s.smax);
    if (s.smin === S64_MIN || s.smax >= BigInt(BPF_MAX_VAR_OFF) || min < -STACK_SIZE || max + size > 0) {
      throw new VerifierReject(pc, `invalid unbounded variable-offset ${t === 'write' ? 'write to' : 'read from'} stack R${regno}`, 'stack-bounds', { reg: regno });
    }
    for (let o = min; o < max + size; o++) {
      const slot = frame.stack.get(slotIdx(o));
      const k = slot ? slot.bytes[byteIdx(o)]! : 'invalid';
      if (t === 'write') {
        const sl = ensureSlot(frame, o);
        if (sl.spill) { sl.spill = undefined; sl.bytes = sl.bytes.map((b) => (b === 'spill' ? 'misc' : b)); }
        if (sl.bytes[byteIdx(o)] === 'invalid' || sl.bytes[byteIdx(o)] === 'zero') sl.bytes[byteIdx(o)] = 'misc';
      } else if (k === 'invalid' && !this.perfmon) {
        throw new VerifierReject(pc, `invalid read from stack R${regno} var_off (0x${s.varOff.value.toString(16)}; 0x${s.varOff.mask.toString(16)})+${off} size ${size}`, 'stack-uninit', { reg: regno, off: o, size });
      }
    }
    this.stackDepth = Math.max(this.stackDepth, -min);
    return scalarReg(sizedScalar(size));
  }

  private stackWrite(frame: Frame, o: number, size: number, value: Reg, pc: number, valueReg = -1): void {
    const idx = slotIdx(o);
    const slot = ensureSlot(frame, o);
    if (size === 8 && o % 8 === 0) {
      frame.stack.set(idx, { bytes: Array(8).fill('spill'), spill: cloneReg(value) });
      return;
    }
    if (isPtr(value)) throw new VerifierReject(pc, 'invalid size of register spill', 'stack-fill'); // check_stack_write_fixed_off
    // a narrower write breaks an earlier spill into misc bytes
    if (slot.spill) {
      slot.spill = undefined;
      slot.spillSize = undefined;
      slot.bytes = slot.bytes.map((b) => (b === 'spill' ? 'misc' : b));
    }
    if (o % 8 === 0 && value.type === 'SCALAR_VALUE') {
      // a scalar at an 8-aligned slot is spilled with its size (save_register_state(..., size))
      const mask = (1n << BigInt(size * 8)) - 1n;
      slot.spill = scalarReg(isConst(value.s) ? constScalar(constValue(value.s) & mask) : sizedScalar(size));
      slot.spillSize = size;
      for (let i = 0; i < size; i++) slot.bytes[i] = 'spill';
      return;
    }
    const zero = value.type === 'SCALAR_VALUE' && isConst(value.s) && constValue(value.s) === 0n;
    // check_stack_write_fixed_off: STACK_ZERO relies on the register being exactly 0
    if (zero && valueReg >= 0) this.precise(valueReg);
    for (let i = 0; i < size; i++) {
      const b = o + i;
      const sl = ensureSlot(frame, b);
      if (sl.spill) { sl.spill = undefined; sl.spillSize = undefined; sl.bytes = sl.bytes.map((x) => (x === 'spill' ? 'misc' : x)); }
      sl.bytes[byteIdx(b)] = zero ? 'zero' : 'misc';
    }
  }

  private stackRead(frame: Frame, o: number, size: number, pc: number, regno: number): Reg {
    const slot = frame.stack.get(slotIdx(o));
    if (slot?.spill && (slot.spillSize ?? 8) === 8 && slot.bytes.every((b) => b === 'spill')) {
      if (size === 8 && o % 8 === 0) { this.filled = true; return cloneReg(slot.spill); }
      if (isPtr(slot.spill)) {
        if (this.perfmon) return scalarReg(sizedScalar(size));
        throw new VerifierReject(pc, 'invalid size of register fill', 'stack-fill', { reg: regno });
      }
      const sp = slot.spill.s;
      if (isConst(sp) && o % 8 === 0) this.filled = true;
      if (isConst(sp) && o % 8 === 0) return scalarReg(constScalar(constValue(sp) & ((1n << BigInt(size * 8)) - 1n)));
      return scalarReg(sizedScalar(size));
    }
    if (slot?.spill && o % 8 === 0 && size === slot.spillSize) { this.filled = true; return cloneReg(slot.spill); }
    let allZero = true;
    for (let i = 0; i < size; i++) {
      const b = o + i;
      const sl = frame.stack.get(slotIdx(b));
      const k = sl ? sl.bytes[byteIdx(b)]! : 'invalid';
      if (k === 'invalid') {
        if (!this.perfmon) throw new VerifierReject(pc, `invalid read from stack off ${o}+${i} size ${size}`, 'stack-uninit', { reg: regno, off: o, size });
        allZero = false;
      } else if (k !== 'zero') allZero = false;
    }
    return scalarReg(allZero ? constScalar(0n) : sizedScalar(size));
  }

  /** The constant key a stack pointer points at (get_constant_map_key): zero bytes or a spilled
   *  constant of exactly the key's size; undefined otherwise. */
  private constantKey(p: Path, key: Reg, keySize: number): bigint | undefined {
    if (key.type !== 'PTR_TO_STACK' || !isConst(key.s)) return undefined;
    const frame = this.stackFrame(p, key);
    const o = key.off + Number(BigInt.asIntN(64, constValue(key.s)));
    let zeros = true;
    for (let i = 0; i < keySize; i++) {
      const sl = frame.stack.get(slotIdx(o + i));
      if (!sl || sl.bytes[byteIdx(o + i)] !== 'zero') { zeros = false; break; }
    }
    if (zeros) return 0n;
    const slot = frame.stack.get(slotIdx(o));
    if (o % 8 !== 0 || !slot?.spill || slot.spill.type !== 'SCALAR_VALUE' || (slot.spillSize ?? 8) !== keySize || !isConst(slot.spill.s)) return undefined;
    this.preciseSlot(key.frameNo ?? p.state.frames.length - 1, slotIdx(o)); // get_constant_map_key
    return constValue(slot.spill.s);
  }

  /** A helper reads (or writes) `size` bytes at a stack pointer (check_stack_range_initialized). */
  private stackRange(p: Path, reg: Reg, regno: number, minSize: number, maxSize: number, write: boolean, pc: number): void {
    const frame = this.stackFrame(p, reg);
    const lo = reg.off + Number(reg.s.smin), hi = reg.off + Number(reg.s.smax);
    if (reg.s.smin === S64_MIN || lo < -STACK_SIZE || hi + maxSize > 0) {
      throw new VerifierReject(pc, `invalid indirect access to stack R${regno} off=${lo} size=${maxSize}`, 'stack-bounds', { reg: regno, off: lo, size: maxSize });
    }
    this.stackDepth = Math.max(this.stackDepth, -lo);
    for (let o = lo; o < hi + maxSize; o++) {
      const sl = frame.stack.get(slotIdx(o));
      const k = sl ? sl.bytes[byteIdx(o)]! : 'invalid';
      if (write) {
        const s = ensureSlot(frame, o);
        if (s.spill) { s.spill = undefined; s.bytes = s.bytes.map((b) => (b === 'spill' ? 'misc' : b)); }
        s.bytes[byteIdx(o)] = 'misc';
      } else if (k === 'invalid' && !this.perfmon && o < lo + minSize + (hi - lo)) {
        throw new VerifierReject(pc, `invalid read from stack R${regno} off ${lo}+${o - lo} size ${maxSize}`, 'stack-uninit', { reg: regno, off: lo, size: maxSize });
      }
    }
  }

  // ---- jumps, calls, exit ----
  private jmp(p: Path, f: Frame, insn: Insn, pc: number, j32: boolean): number | 'exit' {
    const op = insn.code & 0xf0;
    if (op === 0x00) {
      if (insn.code === 0x05 || insn.code === 0x06) return pc + 1 + (insn.code === 0x06 ? insn.imm : insn.off);
    }
    if (op === 0x80) return this.call(p, f, insn, pc);
    if (op === 0x90) return this.exit(p, pc);
    if (op === 0xe0) {
      // may_goto (check_cond_jmp_op, BPF_JCOND): the next iteration waits with one more level of
      // depth, its imprecise scalars widened against the previous iteration's state
      // (find_prev_entry); this path leaves the loop
      const next = cloneState(p.state);
      next.mayGoto = (next.mayGoto ?? 0) + 1;
      const prev = this.prevEntry(p, pc);
      if (prev) widenImprecise(prev.state, next);
      this.push(next, pc + 1, p, pc);
      return pc + 1 + insn.off;
    }
    const cond = JMP_OPS[op];
    if (!cond) throw new VerifierReject(pc, `invalid BPF_JMP/JMP32 opcode ${op.toString(16)}`, 'bad-insn');
    const srcX = (insn.code & 0x08) !== 0;
    const a = this.readReg(f, insn.dst, pc);
    const b = srcX ? this.readReg(f, insn.src, pc) : scalarReg(immScalar(insn.imm, !j32));
    const target = pc + 1 + insn.off;
    const verdict = this.branchVerdict(a, b, cond, j32);
    if (verdict !== -1) {
      // check_cond_jmp_op: a branch decided by the bounds makes them precise
      const regs: number[] = [];
      if (a.type === 'SCALAR_VALUE') regs.push(insn.dst);
      if (srcX && b.type === 'SCALAR_VALUE') regs.push(insn.src);
      if (regs.length) this.precise(...regs);
      return verdict === 1 ? target : pc + 1;
    }
    // scalars sharing an id are refined together: their precision goes together (collect_linked_regs)
    for (const r of srcX ? [a, b] : [a]) {
      if (r.type !== 'SCALAR_VALUE' || !r.id) continue;
      const l = linkedRegs(p.state, r.id);
      if (l.length > 1) { this.hist.linked.set(p.hist, [...(this.hist.linked.get(p.hist) ?? []), ...l]); this.countJh(); }
    }
    // both ways: the other branch waits on the stack
    const other = cloneState(p.state);
    const taken = this.refineBranch(other, insn, cond, j32, true, srcX);
    const fall = this.refineBranch(p.state, insn, cond, j32, false, srcX);
    if (!taken && !fall) return 'exit';
    if (!fall) { p.state = other; return target; }
    if (taken) this.push(other, target, p, pc);
    return pc + 1;
  }

  /** find_prev_entry: the nearest older checkpoint of this path at pc, with the same call sites. */
  private prevEntry(p: Path, pc: number, older = true): Snap | undefined {
    const cs = (st: VState) => st.frames.map((f) => f.callsite).join();
    const mine = cs(p.state);
    for (let s = (older ? p.last?.parent : p.last) ?? null; s; s = s.parent) if (s.pc === pc && s.branches > 0 && cs(s.state) === mine) return s;
    return undefined;
  }

  private branchVerdict(a: Reg, b: Reg, op: CondOp, j32: boolean): 1 | 0 | -1 {
    if (a.type === 'SCALAR_VALUE' && b.type === 'SCALAR_VALUE') return branchTaken(a.s, b.s, op, j32);
    // is_branch_taken: a pointer the verifier knows is not NULL (reg_not_null) against 0
    const ptr = isPtr(a) ? a : b, other = isPtr(a) ? b : a;
    if (other.type !== 'SCALAR_VALUE' || !regNotNull(ptr)) return -1;
    const zero = j32 ? isConst32(other.s) && (constValue(other.s) & 0xffffffffn) === 0n : isConst(other.s) && constValue(other.s) === 0n;
    if (!zero) return -1;
    if (op === 'jeq') return 0;
    if (op === 'jne') return 1;
    return -1;
  }

  /** Narrow the state for one side of a conditional jump; false when that side cannot happen. */
  private refineBranch(st: VState, insn: Insn, op: CondOp, j32: boolean, taken: boolean, srcX: boolean): boolean {
    const f = st.frames[st.frames.length - 1]!;
    const a = f.regs[insn.dst]!;
    const b = srcX ? f.regs[insn.src]! : scalarReg(immScalar(insn.imm, !j32));
    // NULL checks: ptr ==/!= 0
    if (!j32 && (op === 'jeq' || op === 'jne') && a.maybeNull && b.type === 'SCALAR_VALUE' && isConst(b.s) && constValue(b.s) === 0n) {
      const isNull = (op === 'jeq') === taken;
      markNull(st, a.id, a.refObjId, isNull);
      return true;
    }
    // packet range: pkt vs pkt_end
    if (!j32 && srcX) {
      const r = pktCompare(a, b, op, taken);
      if (r) { markPktRange(st, r.pkt, r.range); return true; }
    }
    if (a.type !== 'SCALAR_VALUE' || b.type !== 'SCALAR_VALUE') return true;
    const A = cloneScalar(a.s), B = cloneScalar(b.s);
    const eff = taken ? op : negate(op);
    if (op === 'jset') refine(A, B, 'jset', j32, taken);
    else if (eff) refine(A, B, eff, j32);
    if (violated(A) || violated(B)) return false;
    const setAll = (id: number, s: Scalar, self: Reg) => {
      if (!id) return;
      for (const fr of st.frames) for (let i = 0; i < 11; i++) { const r = fr.regs[i]!; if (r !== self && r.type === 'SCALAR_VALUE' && r.id === id) fr.regs[i] = { ...r, s: cloneScalar(s) }; }
    };
    f.regs[insn.dst] = { ...a, s: A };
    setAll(a.id, A, f.regs[insn.dst]!);
    if (srcX) { f.regs[insn.src] = { ...b, s: B }; setAll(b.id, B, f.regs[insn.src]!); }
    return true;
  }

  private call(p: Path, f: Frame, insn: Insn, pc: number): number | 'exit' {
    if (insn.src === 1) {
      const target = pc + 1 + insn.imm;
      const g = this.globalFunc(target);
      if (g) {
        // a global function is verified on its own; the call only checks the arguments against
        // its BTF prototype (btf_check_func_arg_match) and returns an unknown scalar
        this.checkGlobalArgs(p, f, g, pc);
        this.clobber(f);
        f.regs[0] = scalarReg(unknownScalar());
        this.globalsCalled.add(target);
        return pc + 1;
      }
      // bpf-to-bpf call: a new frame with r1-r5 passed, as the kernel does for static functions
      if (p.state.frames.length >= MAX_CALL_FRAMES) throw new VerifierReject(pc, `the call stack of ${p.state.frames.length + 1} frames is too deep !`, 'call-depth');
      const regs: Reg[] = [];
      for (let i = 0; i < 11; i++) regs.push(i >= 1 && i <= 5 ? cloneReg(f.regs[i]!) : notInit());
      regs[10] = ptrReg('PTR_TO_STACK', { frameNo: p.state.frames.length });
      p.state.frames.push({ regs, stack: new Map(), funcStart: target, callsite: pc, depth: 0 });
      return target;
    }
    if (insn.src === 2) return this.kfuncCall(p, f, insn, pc);
    return this.helperCall(p, f, insn, pc);
  }

  /** BTF_FUNC_GLOBAL functions by start pc: their params (kind per arg) and subprog number. */
  private globalFunc(start: number): GlobalFunc | undefined {
    if (this.globals === undefined) {
      this.globals = new Map();
      const btf = this.obj.btf;
      const funcs = [...this.prog.funcs].sort((a, b) => a.startPc - b.startPc);
      funcs.forEach((fn, idx) => {
        if (idx === 0 || !btf || !fn.btfTypeId) return;
        const ft = btf.types[fn.btfTypeId];
        if (!ft || ft.kind !== 'func' || ft.linkage !== 1) return;
        const proto = btf.types[ft.type ?? 0];
        const args: GlobalArg[] = (proto?.params ?? []).map((prm) => {
          const t = btf.resolve(prm.type);
          if (t.kind !== 'ptr') return { kind: 'scalar' };
          const target = btf.resolve(t.type ?? 0);
          if (/^(bpf_sock_ops|bpf_sockopt|__sk_buff)$/.test(target.name)) return { kind: 'ctx' };
          let size = 0;
          try { size = btf.sizeof(target.id); } catch { size = 0; }
          return { kind: 'mem', size };
        });
        const ret = btf.resolve(proto?.type ?? 0);
        this.globals!.set(fn.startPc, { name: fn.name, idx, args, voidRet: !proto?.type || ret.kind === 'void' });
      });
    }
    return this.globals.get(start);
  }

  private checkGlobalArgs(p: Path, f: Frame, g: GlobalFunc, pc: number): void {
    const fail = (why: string) => new VerifierReject(pc, `${why}\nCaller passes invalid args into func#${g.idx} ('${g.name}')`, 'helper-arg', { name: g.name, helper: g.name });
    g.args.forEach((a, i) => {
      const regno = i + 1;
      const reg = f.regs[regno]!;
      if (a.kind === 'scalar') { if (reg.type !== 'SCALAR_VALUE') throw fail(`R${regno} is not a scalar`); return; }
      if (a.kind === 'ctx') {
        if (reg.type !== 'PTR_TO_CTX') throw fail(`arg#${i} expects pointer to ctx`);
        if (reg.off !== 0) throw fail(`dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`);
        return;
      }
      const mem = ['PTR_TO_STACK', 'PTR_TO_PACKET', 'PTR_TO_MAP_VALUE', 'PTR_TO_MEM', 'PTR_TO_MAP_KEY'];
      if (!mem.includes(reg.type)) throw fail(`R${regno} type=${regTypeStr(reg)} expected=fp, pkt, pkt_meta, map_key, map_value, mem`);
      if (reg.maybeNull) throw fail(`arg#${i} is expected to be non-NULL`);
      try { if (a.size > 0) this.helperMem(p, reg, regno, a.size, a.size, false, pc, g.name); } catch (e) { if (e instanceof VerifierReject) throw fail(e.kernelMessage); throw e; }
    });
  }

  /** Walk each global function called from the program on its own (do_check_subprogs). */
  private walkGlobals(): void {
    const done = new Set<number>();
    for (;;) {
      const next = [...this.globalsCalled].find((s) => !done.has(s));
      if (next === undefined) return;
      done.add(next);
      const g = this.globalFunc(next)!;
      const regs: Reg[] = [];
      for (let i = 0; i < 11; i++) regs.push(notInit());
      g.args.forEach((a, i) => {
        regs[i + 1] = a.kind === 'scalar' ? scalarReg(unknownScalar()) : a.kind === 'ctx' ? ptrReg('PTR_TO_CTX') : ptrReg('PTR_TO_MEM', { maybeNull: true, memSize: a.size, id: this.nextId++ });
      });
      regs[10] = ptrReg('PTR_TO_STACK', { frameNo: 0 });
      this.subprog = g;
      this.explored.clear();
      this.walkFrom({ frames: [{ regs, stack: new Map(), funcStart: next, callsite: -1, depth: 0 }], refs: [] }, next);
    }
  }

  private clobber(f: Frame): void {
    for (let i = 1; i <= 5; i++) f.regs[i] = notInit();
  }

  private kfuncCall(p: Path, f: Frame, insn: Insn, pc: number): number {
    const name = this.obj.kfuncs[insn.imm] ?? `kfunc#${insn.imm}`;
    const info = this.t.kfunc(name);
    if (!info) throw new VerifierReject(pc, `calling kernel function ${name} is not allowed`, 'kfunc', { name, why: 'unknown' });
    if (!info.progTypes.includes(this.progType)) throw new VerifierReject(pc, `calling kernel function ${name} is not allowed`, 'kfunc', { name, why: 'prog-type' });
    if (!this.gpl) throw new VerifierReject(pc, 'cannot call kernel function from non-GPL compatible program', 'helper-gpl', { name });
    const proto = KFUNC_PROTOS[name];
    let ret: Reg = scalarReg(unknownScalar());
    if (proto) {
      proto.args.forEach((k, i) => {
        const r = this.readReg(f, i + 1, pc);
        if (k === 'ctx' && (r.type !== 'PTR_TO_CTX' || r.off !== 0)) throw new VerifierReject(pc, `arg#${i} expected pointer to ctx, but got ${regTypeStr(r)}`, 'helper-arg', { reg: i + 1, name, expected: 'ctx' });
        if (k === 'trusted_kern_ctx' && !(r.type === 'PTR_TO_BTF_ID' && r.trusted)) throw new VerifierReject(pc, `R${i + 1} must be referenced or trusted`, 'helper-arg', { reg: i + 1, name, expected: 'trusted kern ctx' });
        if (k === 'scalar' && r.type !== 'SCALAR_VALUE') throw new VerifierReject(pc, `arg#${i} is not a scalar`, 'helper-arg', { reg: i + 1, name });
        if (k === 'const_btf_id' && !(r.type === 'SCALAR_VALUE' && isConst(r.s))) throw new VerifierReject(pc, `R${i + 1} must be a known constant`, 'helper-arg', { reg: i + 1, name });
        if (k === 'const_btf_id') this.precise(i + 1);
      });
      if (proto.ret === 'kern_ctx') ret = ptrReg('PTR_TO_BTF_ID', { trusted: true, btfName: 'bpf_sock_ops_kern', btfId: this.obj.btf?.find('bpf_sock_ops_kern', 'struct')?.id });
      else if (proto.ret === 'rdonly_cast') {
        const id = Number(constValue(f.regs[2]!.s));
        const ty = this.obj.btf?.types[id];
        ret = ty && (ty.kind === 'struct' || ty.kind === 'union') ? ptrReg('PTR_TO_BTF_ID', { trusted: false, btfId: id, btfName: ty.name }) : ptrReg('PTR_TO_MEM', { rdonly: true, memSize: 0 });
      } else ret = scalarReg(unknownScalar());
    }
    this.clobber(f);
    f.regs[0] = ret;
    return pc + 1;
  }

  private helperCall(p: Path, f: Frame, insn: Insn, pc: number): number {
    const id = insn.imm;
    const h = this.t.helper(id);
    if (!h || id <= 0) throw new VerifierReject(pc, `invalid func unknown#${id}`, 'helper-unavailable', { id });
    const avail = this.t.availableAtLoad(h, this.progType);
    if (!avail.ok) {
      const sleep = h.sleepableOnly && h.progTypes[this.progType];
      throw new VerifierReject(pc, sleep ? `helper call might sleep in a non-sleepable prog` : `program of this type cannot use helper ${h.name}#${id}`, 'helper-unavailable', { name: h.name, id });
    }
    // bpf_sk_base_func_proto: the bpf_skc_to_*() casts return BTF pointers and need CAP_PERFMON
    if (!this.perfmon && (/^bpf_skc_to_/.test(h.name) || PERFMON_HELPERS.has(h.name))) throw new VerifierReject(pc, `program of this type cannot use helper ${h.name}#${id}`, 'helper-unavailable', { name: h.name, id, needs: 'CAP_PERFMON' });
    if (h.gplOnly && !this.gpl) throw new VerifierReject(pc, 'cannot call GPL-restricted function from non-GPL compatible program', 'helper-gpl', { name: h.name });
    const proto = PROTOS_BY_TYPE[this.progType]?.[h.name] ?? PROTOS[h.name];
    const meta: { map?: number; ringbufRef?: number; allocSize?: number; func?: number; ctxArg?: Reg; key?: Reg } = {};
    if (!proto) {
      for (let i = 0; i < h.params.length && i < 5; i++) this.readReg(f, i + 1, pc);
    } else {
      for (let i = 0; i < proto.args.length; i++) this.checkArg(p, f, proto.args[i]!, i + 1, proto.args[i + 1], pc, h.name, meta);
    }
    if (h.name === 'bpf_loop') this.precise(1); // the iteration count decides the walk
    // callbacks: verify the callback body once, as a call from here (bpf_loop & co)
    let ret: Reg = scalarReg(unknownScalar());
    if (proto) {
      switch (proto.ret) {
        case 'VOID': ret = notInit(); break;
        case 'PTR_TO_MAP_VALUE_OR_NULL': {
          // array lookups with a constant in-range key cannot fail (can_elide_value_nullness)
          const m = this.obj.maps[meta.map ?? -1];
          const key = h.name === 'bpf_map_lookup_elem' && m && (m.type === 2 || m.type === 6) && !(m.flags & 0x1000) ? this.constantKey(p, meta.key!, m.keySize) : undefined;
          const sure = key !== undefined && key >= 0n && key < BigInt(m!.maxEntries);
          ret = ptrReg('PTR_TO_MAP_VALUE', { maybeNull: !sure, mapIndex: meta.map, id: sure ? 0 : this.nextId++ });
          break;
        }
        case 'PTR_TO_MAP_VALUE': ret = ptrReg('PTR_TO_MAP_VALUE', { mapIndex: meta.map }); break;
        case 'PTR_TO_TCP_SOCK_OR_NULL': ret = ptrReg('PTR_TO_TCP_SOCK', { maybeNull: true, id: this.nextId++ }); break;
        case 'PTR_TO_SOCKET_OR_NULL': ret = ptrReg('PTR_TO_SOCKET', { maybeNull: true, id: this.nextId++ }); break;
        case 'PTR_TO_BTF_ID_OR_NULL': ret = ptrReg('PTR_TO_BTF_ID', { maybeNull: true, id: this.nextId++, btfName: proto.retStruct, btfId: this.obj.btf?.find(proto.retStruct ?? '', 'struct')?.id }); break;
        case 'PTR_TO_RINGBUF_MEM_OR_NULL': {
          const rid = this.nextId++;
          p.state.refs.push({ id: rid, insn: pc });
          ret = ptrReg('PTR_TO_MEM', { maybeNull: true, ringbuf: true, memSize: meta.allocSize ?? 0, id: rid, refObjId: rid });
          break;
        }
        default: ret = scalarReg(helperRetRange(h.name));
      }
    }
    if (meta.func !== undefined) {
      // push_callback_call: one more call of the callback waits (a copy from before the call's
      // clobbering: its exit comes back to this insn, which is then processed again); this path
      // goes on as if the helper had returned. bpf_loop stops at its count (callback_depth).
      const umax = f.regs[1]!.s.umax;
      if (h.name !== 'bpf_loop' || BigInt(f.cbDepth ?? 0) < umax) {
        const cb = cloneState(p.state);
        const caller = cb.frames[cb.frames.length - 1]!;
        caller.cbDepth = (caller.cbDepth ?? 0) + 1;
        cb.cbUnroll = (cb.cbUnroll ?? 0) + 1;
        this.enterCallback(cb, pc, meta.func, h.name, meta.ctxArg, meta.map);
        this.push(cb, meta.func, p, pc);
      }
      f.cbDepth = 0;
    }
    if (meta.ringbufRef) releaseRef(p.state, meta.ringbufRef);
    this.clobber(f);
    f.regs[0] = ret;
    return pc + 1;
  }

  private enterCallback(st: VState, pc: number, funcPc: number, helper: string, ctxArg: Reg | undefined, map: number | undefined): void {
    if (st.frames.length >= MAX_CALL_FRAMES) throw new VerifierReject(pc, `the call stack of ${st.frames.length + 1} frames is too deep !`, 'call-depth');
    const regs: Reg[] = [];
    for (let i = 0; i < 11; i++) regs.push(notInit());
    if (helper === 'bpf_loop') {
      regs[1] = scalarReg(sizedScalar(4));
      regs[2] = ctxArg ? cloneReg(ctxArg) : scalarReg(constScalar(0n));
    } else {
      // bpf_for_each_map_elem: (map, key, value, ctx)
      regs[1] = ptrReg('CONST_PTR_TO_MAP', { mapIndex: map });
      regs[2] = ptrReg('PTR_TO_MAP_KEY', { mapIndex: map });
      regs[3] = ptrReg('PTR_TO_MAP_VALUE', { mapIndex: map });
      regs[4] = ctxArg ? cloneReg(ctxArg) : scalarReg(constScalar(0n));
    }
    regs[10] = ptrReg('PTR_TO_STACK', { frameNo: st.frames.length });
    st.frames.push({ regs, stack: new Map(), funcStart: funcPc, callsite: pc, callback: { helper }, depth: 0 });
  }

  private checkArg(p: Path, f: Frame, at: ArgType, regno: number, nextArg: ArgType | undefined, pc: number, helper: string, meta: { map?: number; ringbufRef?: number; allocSize?: number; func?: number; ctxArg?: Reg; key?: Reg }): void {
    const reg = this.readReg(f, regno, pc);
    const isNullConst = reg.type === 'SCALAR_VALUE' && isConst(reg.s) && constValue(reg.s) === 0n;
    const typeErr = () => new VerifierReject(pc, `R${regno} type=${regTypeStr(reg)} expected=${EXPECTED[at]}`, reg.maybeNull ? 'helper-arg-null' : 'helper-arg', { reg: regno, helper, expected: EXPECTED[at], type: regTypeStr(reg), arg: regno });
    const memTypes = ['PTR_TO_STACK', 'PTR_TO_PACKET', 'PTR_TO_MAP_KEY', 'PTR_TO_MAP_VALUE', 'PTR_TO_MEM', 'PTR_TO_CTX'];
    switch (at) {
      case 'ANYTHING': return;
      case 'CONST_MAP_PTR':
        if (reg.type !== 'CONST_PTR_TO_MAP') throw typeErr();
        meta.map = reg.mapIndex;
        return;
      case 'PTR_TO_CTX': case 'PTR_TO_CTX_OR_NULL':
        if (at === 'PTR_TO_CTX_OR_NULL' && isNullConst) return;
        if (reg.type !== 'PTR_TO_CTX') throw typeErr();
        if (reg.off !== 0) throw new VerifierReject(pc, `dereference of modified ctx ptr R${regno} off=${reg.off} disallowed`, 'modified-ctx', { reg: regno, off: reg.off });
        return;
      case 'PTR_TO_SOCK_COMMON':
        if (reg.maybeNull || !['PTR_TO_SOCK_COMMON', 'PTR_TO_SOCKET', 'PTR_TO_TCP_SOCK'].includes(reg.type)) throw typeErr();
        return;
      case 'PTR_TO_BTF_ID_SOCK_COMMON':
        if (reg.maybeNull || !['PTR_TO_SOCK_COMMON', 'PTR_TO_SOCKET', 'PTR_TO_TCP_SOCK', 'PTR_TO_BTF_ID'].includes(reg.type) || reg.trusted === false) throw typeErr();
        return;
      case 'PTR_TO_BTF_ID':
        if (reg.type !== 'PTR_TO_BTF_ID' || reg.maybeNull || reg.trusted === false) throw typeErr();
        return;
      case 'PTR_TO_FUNC':
        if (reg.type !== 'PTR_TO_FUNC') throw typeErr();
        meta.func = reg.funcPc;
        return;
      case 'PTR_TO_STACK_OR_NULL':
        if (isNullConst) return;
        if (reg.type !== 'PTR_TO_STACK') throw typeErr();
        meta.ctxArg = reg;
        return;
      case 'PTR_TO_RINGBUF_MEM_RELEASE':
        if (reg.type !== 'PTR_TO_MEM' || !reg.ringbuf || reg.maybeNull) throw typeErr();
        if (reg.off !== 0 || !isConst(reg.s) || constValue(reg.s) !== 0n) throw new VerifierReject(pc, `R${regno} must have zero offset when passed to release func`, 'helper-arg', { reg: regno, helper });
        if (!reg.refObjId || !p.state.refs.some((r) => r.id === reg.refObjId)) throw new VerifierReject(pc, `R${regno} must be referenced when passed to release function`, 'helper-arg', { reg: regno, helper });
        meta.ringbufRef = reg.refObjId;
        return;
      case 'CONST_ALLOC_SIZE_OR_ZERO':
        if (reg.type !== 'SCALAR_VALUE') throw typeErr();
        if (!isConst(reg.s)) throw new VerifierReject(pc, `R${regno} is not a known constant'`, 'helper-size', { reg: regno, helper });
        meta.allocSize = Number(constValue(reg.s));
        this.precise(regno);
        return;
      case 'CONST_SIZE': case 'CONST_SIZE_OR_ZERO':
        if (reg.type !== 'SCALAR_VALUE') throw typeErr();
        return; // checked with the memory argument before it
      case 'PTR_TO_CONST_STR':
        if (reg.type !== 'PTR_TO_MAP_VALUE' || reg.maybeNull) throw typeErr();
        return;
      case 'PTR_TO_MAP_KEY': case 'PTR_TO_MAP_VALUE': case 'PTR_TO_MAP_VALUE_OR_NULL': {
        if (at === 'PTR_TO_MAP_VALUE_OR_NULL' && isNullConst) return;
        if (reg.maybeNull || !memTypes.includes(reg.type)) throw typeErr();
        const m = this.obj.maps[meta.map ?? -1];
        if (at === 'PTR_TO_MAP_KEY') meta.key = reg;
        const size = at === 'PTR_TO_MAP_KEY' ? m?.keySize ?? 0 : m?.valueSize ?? 0;
        if (size > 0) this.helperMem(p, reg, regno, size, size, false, pc, helper);
        return;
      }
      case 'PTR_TO_MEM': case 'PTR_TO_MEM_OR_NULL': case 'PTR_TO_UNINIT_MEM': {
        if (at === 'PTR_TO_MEM_OR_NULL' && isNullConst) return;
        if (reg.maybeNull || !memTypes.includes(reg.type)) throw typeErr();
        if (nextArg === 'CONST_SIZE' || nextArg === 'CONST_SIZE_OR_ZERO') {
          const sz = this.readReg(f, regno + 1, pc);
          if (sz.type !== 'SCALAR_VALUE') throw new VerifierReject(pc, `R${regno + 1} type=${regTypeStr(sz)} expected=scalar`, 'helper-arg', { reg: regno + 1, helper });
          const s = sz.s;
          if (s.smin < 0n) throw new VerifierReject(pc, `R${regno + 1} min value is negative, either use unsigned or 'var &= const'`, 'helper-size', { reg: regno + 1, helper });
          if (s.umin === 0n && nextArg === 'CONST_SIZE' ) throw new VerifierReject(pc, `R${regno + 1} invalid zero-sized read: u64=[${s.umin},${s.umax}]`, 'helper-size', { reg: regno + 1, helper });
          if (s.umax >= BigInt(BPF_MAX_VAR_SIZ)) throw new VerifierReject(pc, `R${regno + 1} unbounded memory access, use 'var &= const' or 'if (var < const)'`, 'helper-size', { reg: regno + 1, helper });
          // a variable size turns raw (write-only) mode off: the buffer must be initialised (check_mem_size_reg)
          if (s.umax > 0n) this.helperMem(p, reg, regno, Number(s.umin), Number(s.umax), at === 'PTR_TO_UNINIT_MEM' && isConst(s), pc, helper);
          this.precise(regno + 1); // check_mem_size_reg
        }
        return;
      }
    }
  }

  /** check_helper_mem_access: `maxSize` bytes at reg. */
  private helperMem(p: Path, reg: Reg, regno: number, minSize: number, maxSize: number, write: boolean, pc: number, helper: string): void {
    switch (reg.type) {
      case 'PTR_TO_STACK': return this.stackRange(p, reg, regno, minSize, maxSize, write, pc);
      case 'PTR_TO_MAP_VALUE': {
        const m = this.obj.maps[reg.mapIndex ?? -1];
        if (write && m?.readonly) throw new VerifierReject(pc, `write into map forbidden, value_size=${m.valueSize} off=${reg.off} size=${maxSize}`, 'readonly', { reg: regno, helper });
        this.regionCheck(reg, regno, reg.off, maxSize, m?.valueSize ?? 0, pc, 'map', m?.name);
        return;
      }
      case 'PTR_TO_MEM': this.regionCheck(reg, regno, reg.off, maxSize, reg.memSize ?? 0, pc, 'mem'); return;
      case 'PTR_TO_PACKET':
        if (reg.off < 0 || reg.off + maxSize + Number(reg.s.umax) > reg.range) {
          throw new VerifierReject(pc, `invalid access to packet, off=${reg.off} size=${maxSize}, R${regno}(id=${reg.id},off=${reg.off},r=${reg.range})\nR${regno} offset is outside of the packet`, 'pkt-bounds', { reg: regno, off: reg.off, size: maxSize, range: reg.range, helper });
        }
        return;
      case 'PTR_TO_CTX':
        throw new VerifierReject(pc, `invalid bpf_context access off=${reg.off} size=${maxSize}`, 'ctx-access', { reg: regno, off: reg.off, size: maxSize, helper });
    }
  }

  private exit(p: Path, pc: number): number | 'exit' {
    const st = p.state;
    const f = st.frames[st.frames.length - 1]!;
    if (st.frames.length > 1) {
      // return from a bpf-to-bpf call or a callback
      const r0 = this.readReg(f, 0, pc);
      if (f.callback) {
        if (r0.type === 'SCALAR_VALUE') this.precise(0); // prepare_func_exit: the callback's R0 range is relied on
        if (r0.type !== 'SCALAR_VALUE') throw new VerifierReject(pc, `At callback return the register R0 is not a known value (${regTypeStr(r0)})`, 'ret-ptr');
        if (r0.s.smin < 0n || r0.s.smax > 1n) throw new VerifierReject(pc, `At callback return the register R0 has${r0.s.smin > S64_MIN ? ` smin=${r0.s.smin}` : ''}${r0.s.smax < (1n << 63n) - 1n ? ` smax=${r0.s.smax}` : ''}${r0.s.smin === S64_MIN && r0.s.smax === (1n << 63n) - 1n ? ' unknown scalar value' : ''} should have been in [0, 1]`, 'retval', { callback: f.callback.helper });
      }
      st.frames.pop();
      const caller = st.frames[st.frames.length - 1]!;
      if (f.callback) {
        // prepare_func_exit: back to the helper call, which is processed again (another call of
        // the callback or the helper's return); imprecise scalars widened against the previous
        // visit of that call
        const prev = this.prevEntry(p, f.callsite, false);
        if (prev) widenImprecise(prev.state, st);
        return f.callsite;
      }
      caller.regs[0] = cloneReg(r0);
      for (let i = 1; i <= 5; i++) caller.regs[i] = notInit();
      return f.callsite + 1;
    }
    if (this.subprog) {
      // check_global_subprog_return_code
      if (this.subprog.voidRet) return 'exit';
      const r0 = this.readReg(f, 0, pc);
      if (isPtr(r0)) throw new VerifierReject(pc, `At subprogram exit the register R0 is not a scalar value (${regTypeStr(r0)})`, 'ret-ptr', { type: regTypeStr(r0) });
      return 'exit';
    }
    if (st.refs.length) {
      const r = st.refs[0]!;
      throw new VerifierReject(pc, `Unreleased reference id=${r.id} alloc_insn=${r.insn}\nBPF_EXIT instruction in main prog would lead to reference leak`, 'unreleased-ref', { id: r.id, allocInsn: r.insn });
    }
    const r0 = f.regs[0]!;
    if (r0.type === 'NOT_INIT') throw new VerifierReject(pc, 'R0 !read_ok', 'uninit-reg', { reg: 0, atExit: 1 });
    if (isPtr(r0)) {
      if (!this.perfmon) throw new VerifierReject(pc, 'R0 leaks addr as return value', 'ret-ptr');
      throw new VerifierReject(pc, `At program exit the register R0 is not a known value (${regTypeStr(r0)})`, 'ret-ptr', { type: regTypeStr(r0) });
    }
    this.precise(0); // check_return_code relies on R0's range
    const s = r0.s;
    if (s.smin < 0n || s.smax > 1n) {
      let m = 'At program exit the register R0 has';
      let unknown = true;
      if (s.smin > S64_MIN) { m += ` smin=${s.smin}`; unknown = false; }
      if (s.smax < (1n << 63n) - 1n) { m += ` smax=${s.smax}`; unknown = false; }
      if (unknown) m += ' unknown scalar value';
      m += ' should have been in [0, 1]';
      throw new VerifierReject(pc, m, 'retval', { smin: String(s.smin), smax: String(s.smax) });
    }
    return 'exit';
  }

  // ---- log text ----
  private insnText(pc: number): string {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return formatInsnLazy(this.insns, pc);
    } catch { return '?'; }
  }

  private stateStr(st: VState): string {
    const f = st.frames[st.frames.length - 1]!;
    const parts: string[] = [];
    f.regs.forEach((r, i) => { if (r.type !== 'NOT_INIT') parts.push(`R${i}=${regStr(r, (m) => this.obj.maps[m]?.name ?? String(m))}`); });
    return parts.join(' ');
  }
}

import { formatInsn } from '../vm/disasm';
function formatInsnLazy(insns: Insn[], pc: number): string { return formatInsn(insns, pc); }

/** bpf_sock_is_valid_access / bpf_tcp_sock_is_valid_access (net/core/filter.c): bpf_tcp_sock
 *  fields are read whole (bytes_received/bytes_acked as 8 bytes, the rest as 4); bpf_sock allows
 *  narrow loads of the ids, addresses and ports, whole 4-byte loads of the rest. */
function sockAccessOk(what: 'sock' | 'tcp_sock', off: number, size: number): boolean {
  if (off < 0 || off % size !== 0) return false;
  if (what === 'tcp_sock') {
    if (off >= 112) return false;
    return off === 80 || off === 88 ? size === 8 : size === 4;
  }
  if (off >= 80 || size > 4) return false;
  if (off >= 48 && off < 52) return off + size <= 50 && (size <= 2 || off === 48); // dst_port (__be16) + padding
  const narrow = [4, 8, 12, 44, 72, 76].includes(off & ~3) || (off >= 24 && off < 44) || (off >= 52 && off < 72);
  return narrow ? true : size === 4;
}

/** The pointee type id of the pointer member at byte `off` of struct `id` (nested structs and
 *  unions searched), or undefined when no pointer member starts there. */
function pointerMemberAt(btf: NonNullable<BpfObject['btf']>, id: number, off: number, depth: number): number | undefined {
  const t = btf.resolve(id);
  if (depth > 8) return undefined;
  if (t.kind === 'ptr') return off === 0 ? t.type ?? 0 : undefined;
  if (t.kind === 'array' && t.array) {
    let es = 0;
    try { es = btf.sizeof(t.array.type); } catch { return undefined; }
    return es > 0 ? pointerMemberAt(btf, t.array.type, off % es, depth + 1) : undefined;
  }
  if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
  for (const m of t.members ?? []) {
    const mo = m.bitOffset / 8;
    let ms = 0;
    try { ms = btf.sizeof(m.type); } catch { continue; }
    if (off >= mo && off < mo + ms) {
      const r = pointerMemberAt(btf, m.type, off - mo, depth + 1);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** reg_not_null (kernel/bpf/verifier.c): pointer kinds that are never NULL. A ctx, stack or packet
 *  pointer compared with 0 is not decided: the kernel walks both ways. */
function regNotNull(r: Reg): boolean {
  if (r.maybeNull) return false;
  switch (r.type) {
    case 'PTR_TO_SOCKET': case 'PTR_TO_TCP_SOCK': case 'PTR_TO_MAP_VALUE': case 'PTR_TO_MAP_KEY': case 'PTR_TO_SOCK_COMMON': case 'CONST_PTR_TO_MAP':
      return true;
    case 'PTR_TO_BTF_ID': return r.trusted === true;
    case 'PTR_TO_MEM': return !(r.rdonly && !r.ringbuf); // bpf_rdonly_cast memory is PTR_UNTRUSTED
    default: return false;
  }
}

const IMM64 = new Map<number, Scalar>(), IMM32 = new Map<number, Scalar>();
/** The scalar of an instruction's immediate (shared: scalars are never changed in place). */
function immScalar(imm: number, alu64: boolean): Scalar {
  const m = alu64 ? IMM64 : IMM32;
  let s = m.get(imm);
  if (!s) m.set(imm, (s = constScalar(alu64 ? BigInt.asUintN(64, BigInt(imm)) : BigInt.asUintN(32, BigInt(imm)))));
  return s;
}

function bswap(x: bigint, bits: number): bigint {
  let out = 0n;
  for (let i = 0; i < bits / 8; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
}

const slotIdx = (o: number) => Math.floor((-o - 1) / 8);
const byteIdx = (o: number) => ((o % 8) + 8) % 8;
/** The slot holding fp offset o, writable in place (copy-on-write). */
const ensureSlot = (f: Frame, o: number): Slot => ownSlot(f, slotIdx(o));

function markNull(st: VState, id: number, refObjId: number, isNull: boolean): void {
  for (const f of st.frames) {
    for (let i = 0; i < 11; i++) {
      const r = f.regs[i]!;
      if (r.maybeNull && id && r.id === id) f.regs[i] = isNull ? scalarReg(constScalar(0n)) : { ...r, maybeNull: false };
    }
    for (const [k, s] of f.stack) {
      if (s.spill?.maybeNull && id && s.spill.id === id) f.stack.set(k, { ...s, own: undefined, spill: isNull ? scalarReg(constScalar(0n)) : { ...s.spill, maybeNull: false } });
    }
  }
  if (isNull && refObjId) releaseRef(st, refObjId);
}

function releaseRef(st: VState, id: number): void {
  st.refs = st.refs.filter((r) => r.id !== id);
  for (const f of st.frames) for (let i = 0; i < 11; i++) if (f.regs[i]!.refObjId === id) f.regs[i] = notInit();
}

/** pkt vs pkt_end comparisons that prove bytes readable on one side (find_good_pkt_pointers). */
function pktCompare(a: Reg, b: Reg, op: CondOp, taken: boolean): { pkt: Reg; range: number } | null {
  let pkt: Reg, end: Reg, o: CondOp = op;
  if (a.type === 'PTR_TO_PACKET' && b.type === 'PTR_TO_PACKET_END') { pkt = a; end = b; }
  else if (b.type === 'PTR_TO_PACKET' && a.type === 'PTR_TO_PACKET_END') {
    pkt = b; end = a;
    const flip: Partial<Record<CondOp, CondOp>> = { jgt: 'jlt', jlt: 'jgt', jge: 'jle', jle: 'jge' };
    o = flip[op] ?? op;
  } else return null;
  void end;
  if (!isConst(pkt.s) && pkt.s.umax > 0n && false) return null;
  // pkt > end taken: nothing; not taken (pkt <= end): range = off.  pkt >= end not taken (pkt < end): range = off (kernel: off - 1 +1)
  const good = (o === 'jgt' && !taken) || (o === 'jle' && taken) || (o === 'jge' && !taken) || (o === 'jlt' && taken);
  if (!good) return null;
  return { pkt, range: pkt.off };
}

function markPktRange(st: VState, pkt: Reg, range: number): void {
  if (range < 0) return;
  for (const f of st.frames) {
    for (let i = 0; i < 11; i++) {
      const r = f.regs[i]!;
      if (r.type === 'PTR_TO_PACKET' && r.id === pkt.id && r.range < range) f.regs[i] = { ...r, range };
    }
    for (const [k, s] of f.stack) if (s.spill?.type === 'PTR_TO_PACKET' && s.spill.id === pkt.id && s.spill.range < range) f.stack.set(k, { ...s, own: undefined, spill: { ...s.spill, range } });
  }
}

/** do_refine_retval_range and the helpers whose result is known to be small. */
function helperRetRange(name: string): Scalar {
  switch (name) {
    case 'bpf_get_smp_processor_id': return rangeScalar(0n, 8191n);
    default: return unknownScalar();
  }
}

export { sync as _sync };
