// The interpreter: pre-decoded typed arrays, one dispatch loop generated from ./semantics,
// 64-bit registers as two 32-bit halves. Every guest error becomes a Fault; exceptions thrown
// by a RunOptions.hook propagate unchanged.
import type { CallTable, ExecutableSpec, Fault, FaultKind, Frame, GuestCall, HelperContext, HelperCoroutine, HelperFn, RunOptions, RunStatus, VmApi } from './api';
import { assertValid, ValidationError, type ValidateOptions } from './decode';
import { GuestFaultError, HI_BASE, Memory, fmtAddr, type RegionSlot } from './memory';
import { OPS } from './opcodes';
import { DM } from './semantics';
import { CALL_HELPER, CALL_LOCAL, callbackPc, callbackValue } from './ops/call';
import { ATOMIC_CMPXCHG, LDIMM64_FUNC, LDIMM64_SRC_NAMES } from './ops/loadstore';
import { BPF_MAX_LOOPS } from './ops/jump';

import { STACK_SIZE, MAX_FRAMES, M_LO, M_HI, M_MG, M_RP, M_FS, M_SOK, M_SHI, M_SV, M_DEPTH, M_STACK, M_INSN, REC, SOK_CALLBACK, F_DISP, F_IMM, F_TGT, F_BLEN, F_OFF, F_BREM, F_FILL, F_W69 } from './layout';

const MAX_LOOPS = BPF_MAX_LOOPS, LOCAL = CALL_LOCAL; // module-local copies (no import bindings on hot paths)

export const DEFAULT_BUDGET = 1_000_000; // the verifier's complexity limit (BPF_COMPLEXITY_LIMIT_INSNS)
export { STACK_SIZE, MAX_FRAMES };

/** Execution tier. 'interp': the interpreter (./loop). 'fast': the program compiled to
 *  JavaScript (./fast), used for runs without a hook from their start; hooks, step() and
 *  resuming after a pause use the interpreter, and a run the fast tier cannot finish within the
 *  budget continues in the interpreter from the exact instruction. Same results, faults and
 *  counts (bench/vm.ts measures both). */
export type Tier = 'interp' | 'fast';
export interface VmOptions {
  /** Share a memory (regions already mapped); default a fresh one. */
  memory?: Memory;
  /** Execution tier (default 'interp'). 'fast' needs the uninitialized-register check of the
   *  validator (not turned off in `validate`); without it the Vm interprets. */
  tier?: Tier;
  /** Options for validation (entry registers, function starts). */
  validate?: ValidateOptions;
}

/** Raised inside helpers via HelperContext.fault(). */
class HelperFault extends Error {}

import { R_LIMIT, R_FAULT, R_EXIT, R_HOOK, LEADER, ZERO_OFF, BIG_OFF, READS_OFF, interpret, interpretHooked } from './loop';
import { compileFast, F_EXIT, F_FAULT, type FastProgram } from './fast';
export { R_LIMIT, R_FAULT, R_EXIT } from './loop';

export class Vm implements VmApi {
  readonly memory: Memory;
  // decoded program (read by the generated loops)
  readonly n: number;
  readonly code: Uint8Array;
  readonly rd: Uint8Array;
  readonly rs: Uint8Array;
  readonly off: Int32Array;
  readonly imm: Int32Array;
  readonly tgt: Int32Array;
  readonly klo: Int32Array;
  readonly khi: Int32Array;
  readonly funcStarts: number[];
  /** Dispatch word per slot: the opcode, + LEADER at the first instruction of a basic block,
   *  + ZERO_OFF when off is 0 and the opcode reads it; dst << 12, src << 16, off << 20 when it
   *  fits 12 bits, else + BIG_OFF (./loop). */
  readonly disp: Int32Array;
  /** At a block's first instruction: the instructions in the block (ld_imm64 counts one). */
  readonly blen: Int32Array;
  /** Per instruction: how many instructions of its block follow it. */
  readonly brem: Int32Array;
  /** Per function start pc: where a fresh frame of that function is zeroed from (frameFootprint). */
  readonly fillFrom: Int32Array;
  /** The machine words (./layout): registers, frame records and the program's instruction
   *  records, in one Int32Array; lo, hi, retPc, fnStart, saved, savedOk, stackHi and mgLeft
   *  are views of it. */
  readonly m: Int32Array;
  // machine state
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  _pc = 0;
  count = 0;
  /** The current frame depth (0: the program's entry function), kept in m for the loops. */
  get depth(): number { return this.m[M_DEPTH]; }
  set depth(k: number) { this.m[M_DEPTH] = k; }
  /** The whole of m as bytes (the interpreter's stack accesses). */
  readonly mdv: DataView;
  private budget = DEFAULT_BUDGET;
  private hook: RunOptions['hook'] | undefined;
  private state: 'idle' | 'running' | 'done' = 'idle';
  private final: RunStatus | null = null;
  private fault: Fault | null = null;
  /** @internal A pc where resuming does not call the hook again (it paused there). */
  skipHookAt = -1;
  /** @internal */ readonly retPc: Int32Array;
  /** @internal */ readonly fnStart: Int32Array;
  /** @internal */ readonly saved: Int32Array;
  /** @internal Frame k's saved[] slot holds its caller's r6-r9 (1), or the frame's function never
   *  writes r6-r9 so they are still the caller's (0, nothing saved). */
  readonly savedOk: Int32Array;
  /** Per function start pc: 1 when the function writes one of r6-r9 (its calls then save them). */
  readonly writes69: Uint8Array;
  /** One 512-byte region per frame depth ("stack frame k"), so an access past a frame's
   *  bounds faults instead of landing in a neighbour frame. */
  /** @internal */ readonly stackBytes: Uint8Array[] = [];
  /** @internal The same frames as 32-bit words (small frame zeroing; frameFootprint is a multiple of 4). */
  readonly stack32: Int32Array[] = [];
  private readonly stackBase: bigint[] = [];
  /** @internal */ readonly stackHi: Int32Array;
  /** Callback frames: the helper coroutine that called frame k (null for other frames) and the
   *  pc of that helper call. */
  /** @internal */ readonly cbIter: (HelperCoroutine | null)[] = new Array(MAX_FRAMES).fill(null);
  /** @internal */ readonly cbPc = new Int32Array(MAX_FRAMES);
  /** may_goto budget left in frame k: the hidden stack slot the kernel adds to every subprogram
   *  that uses may_goto, set to BPF_MAX_LOOPS in the subprogram's prologue (so at each entry of
   *  the function, not at a jump back to its first insn) and shared by all may_goto of the frame
   *  (kernel/bpf/fixups.c: the BPF_ST_MEM(BPF_DW, BPF_REG_FP, -stack_depth, BPF_MAX_LOOPS)
   *  prologue and the ldx / jeq 0 / sub 1 / stx rewrite of each may_goto). Modelled: the count
   *  form (the kernel interpreter, JITs without timed may_goto); assumed for x86-64, whose JIT
   *  uses the timed form (BPF_MAX_TIMED_LOOPS per refill, 250 ms: kernel/bpf/core.c
   *  bpf_check_timed_may_goto), which no deterministic model can follow. */
  readonly mgLeft: Int32Array;
  /** Function starts, for checking callback values. */
  private readonly funcSet: Set<number>;
  private readonly helperCtx: HelperContext & { pc: number };
  private readonly tier: Tier;
  /** The compiled program (fast tier): undefined until first needed, null if it cannot be built. */
  private fast: FastProgram | null | undefined;

  constructor(readonly spec: ExecutableSpec, readonly calls: CallTable, opts: VmOptions = {}) {
    const insns = spec.insns;
    assertValid(insns, { ...opts.validate, funcStarts: [...(opts.validate?.funcStarts ?? []), ...(spec.funcStarts ?? [])] });
    const n = (this.n = insns.length);
    const m = (this.m = new Int32Array(M_INSN + (n + 1) * REC));
    this.lo = m.subarray(M_LO, M_LO + 11);
    this.hi = m.subarray(M_HI, M_HI + 11);
    this.mgLeft = m.subarray(M_MG, M_MG + MAX_FRAMES);
    this.retPc = m.subarray(M_RP, M_RP + MAX_FRAMES);
    this.fnStart = m.subarray(M_FS, M_FS + MAX_FRAMES);
    this.savedOk = m.subarray(M_SOK, M_SOK + MAX_FRAMES);
    this.stackHi = m.subarray(M_SHI, M_SHI + MAX_FRAMES);
    this.saved = m.subarray(M_SV, M_SV + MAX_FRAMES * 8);
    this.mdv = new DataView(m.buffer, m.byteOffset, m.byteLength);
    this.code = new Uint8Array(n);
    this.rd = new Uint8Array(n);
    this.rs = new Uint8Array(n);
    this.off = new Int32Array(n);
    this.imm = new Int32Array(n);
    this.tgt = new Int32Array(n);
    this.klo = new Int32Array(n);
    this.khi = new Int32Array(n);
    const starts = new Set<number>([0, ...(spec.funcStarts ?? [])]);
    for (let pc = 0; pc < n; pc++) {
      const x = insns[pc];
      this.code[pc] = x.code; this.rd[pc] = x.dst; this.rs[pc] = x.src; this.off[pc] = x.off; this.imm[pc] = x.imm;
      const info = OPS[x.code];
      if (!info) continue; // second slot of ld_imm64 (validated)
      if (info.kind === 'jcond' || info.kind === 'maygoto' || (info.kind === 'ja' && info.is64)) this.tgt[pc] = pc + 1 + x.off;
      else if (info.kind === 'ja') this.tgt[pc] = pc + 1 + x.imm;
      else if (info.kind === 'call' && x.src === CALL_LOCAL) { this.tgt[pc] = pc + 1 + x.imm; starts.add(pc + 1 + x.imm); }
      else if (info.kind === 'lddw') {
        let v: bigint;
        if (x.src === 0) v = (BigInt(insns[pc + 1].imm >>> 0) << 32n) | BigInt(x.imm >>> 0);
        else if (x.src === LDIMM64_FUNC) { v = callbackValue(pc + 1 + x.imm); starts.add(pc + 1 + x.imm); }
        else if (spec.resolveLdImm64) v = BigInt.asUintN(64, spec.resolveLdImm64(pc, x.src, x.imm, insns[pc + 1].imm));
        else throw new ValidationError(pc, `ld_imm64 with src=${x.src} (${LDIMM64_SRC_NAMES[x.src]}) needs ExecutableSpec.resolveLdImm64`);
        this.klo[pc] = Number(v & 0xffffffffn); this.khi[pc] = Number(v >> 32n);
        pc++;
        this.code[pc] = 0;
      }
    }
    this.funcStarts = [...starts].sort((a, b) => a - b);
    this.fillFrom = new Int32Array(n);
    this.writes69 = new Uint8Array(n);
    { const fs = this.funcStarts; for (let i = 0; i < fs.length; i++) this.writes69[fs[i]] = writesCalleeSaved(this.code, this.rd, this.rs, this.imm, fs[i], i + 1 < fs.length ? fs[i + 1] : n) ? 1 : 0; }
    { const fs = this.funcStarts; for (let i = 0; i < fs.length; i++) this.fillFrom[fs[i]] = frameFootprint(this.code, this.rd, this.rs, this.off, fs[i], i + 1 < fs.length ? fs[i + 1] : n); }
    // basic blocks for the interpreter's per-block counting (./loop)
    this.disp = new Int32Array(n);
    this.blen = new Int32Array(n);
    this.brem = new Int32Array(n);
    const leader = new Uint8Array(n + 1);
    for (const f of starts) if (f >= 0 && f < n) leader[f] = 1;
    for (let pc = 0; pc < n; pc++) {
      const info = OPS[this.code[pc]];
      if (!info) continue;
      const k = info.kind, next = pc + (k === 'lddw' ? 2 : 1);
      if (k === 'ja' || k === 'jcond' || k === 'maygoto') leader[this.tgt[pc]] = 1;
      if (k === 'ja' || k === 'jcond' || k === 'maygoto' || k === 'call' || k === 'exit') leader[next] = 1;
    }
    for (let pc = 0, start = 0; pc < n; pc++) {
      if (!OPS[this.code[pc]]) continue; // second slot of ld_imm64
      this.disp[pc] = this.code[pc] | (leader[pc] ? LEADER : 0) | (READS_OFF[this.code[pc]] && this.off[pc] === 0 ? ZERO_OFF : 0) | (this.rd[pc] << 12) | (this.rs[pc] << 16)
        | (this.off[pc] >= -2048 && this.off[pc] < 2048 ? this.off[pc] << 20 : BIG_OFF);
      if (leader[pc]) start = pc;
      this.blen[start]++;
    }
    for (let pc = n - 1, after = 0; pc >= 0; pc--) {
      if (!OPS[this.code[pc]]) continue;
      this.brem[pc] = after;
      after = leader[pc] ? 0 : after + 1;
    }
    for (let pc = 0; pc < n; pc++) {
      const r = M_INSN + pc * REC;
      if (!OPS[this.code[pc]]) { m[r + F_IMM] = this.klo[pc - 1]; m[r + F_TGT] = this.khi[pc - 1]; continue; } // second slot of ld_imm64
      m[r + F_DISP] = this.disp[pc]; m[r + F_IMM] = this.imm[pc]; m[r + F_TGT] = this.tgt[pc]; m[r + F_BLEN] = this.blen[pc];
      m[r + F_OFF] = this.off[pc]; m[r + F_BREM] = this.brem[pc]; m[r + F_FILL] = this.fillFrom[pc]; m[r + F_W69] = this.writes69[pc];
    }
    this.tier = opts.tier === 'fast' && opts.validate?.checkUninit !== false ? 'fast' : 'interp';
    this.funcSet = starts;
    this.memory = opts.memory ?? new Memory();
    for (let k = 0; k < MAX_FRAMES; k++) {
      const bytes = new Uint8Array(m.buffer, m.byteOffset + (M_STACK + k * (STACK_SIZE / 4)) * 4, STACK_SIZE);
      const base = this.memory.map({ name: `stack frame ${k}`, kind: 'stack', bytes, writable: true });
      this.stackBytes.push(bytes);
      this.stack32.push(new Int32Array(bytes.buffer, bytes.byteOffset, STACK_SIZE / 4));
      this.stackBase.push(base);
      this.stackHi[k] = Number(base >> 32n);
      // the interpreter finds frame k at high word stackHi[0] + k (its stack fast path)
      if (this.stackHi[k] !== this.stackHi[0] + k) throw new Error('VM: stack frames must be mapped at consecutive region numbers');
    }
    const vm = this;
    this.helperCtx = {
      memory: this.memory,
      reg: (i: number) => vm.reg(i),
      pc: 0,
      fault(message: string): never { throw new HelperFault(message); },
      callbackTarget: (v: bigint) => vm.callbackTarget(v),
    };
  }

  get pc(): number { return this._pc; }
  get insnCount(): number { return this.count; }

  reg(i: number): bigint {
    if (!(i >= 0 && i <= 10)) throw new RangeError(`register r${i} does not exist (r0..r10)`);
    return (BigInt(this.hi[i] >>> 0) << 32n) | BigInt(this.lo[i] >>> 0);
  }
  setReg(i: number, v: bigint): void {
    if (!(i >= 0 && i <= 10)) throw new RangeError(`register r${i} does not exist (r0..r10)`);
    const u = BigInt.asUintN(64, v);
    this.lo[i] = Number(u & 0xffffffffn);
    this.hi[i] = Number(u >> 32n);
  }

  frames(): Frame[] {
    const out: Frame[] = [];
    // r6-r9 of each frame's caller: saved at the call, or (nothing saved: the frame's function
    // never writes them) the frame's own, which are the live ones or its callee's callerRegs
    const callerRegs: bigint[][] = [];
    let own = [6, 7, 8, 9].map((i) => this.reg(i));
    for (let k = this.depth; k > 0; k--) {
      if (this.savedOk[k]) own = [0, 1, 2, 3].map((i) => (BigInt(this.saved[k * 8 + i * 2 + 1]! >>> 0) << 32n) | BigInt(this.saved[k * 8 + i * 2]! >>> 0));
      callerRegs[k] = own;
    }
    for (let k = 0; k <= this.depth; k++) {
      const stackBase = this.stackBase[k];
      const f: Frame = { funcStart: this.fnStart[k], returnPc: k === 0 ? -1 : this.retPc[k], fp: stackBase + BigInt(STACK_SIZE), stackBase };
      if (k > 0 && this.cbIter[k] !== null) f.callbackOf = this.cbPc[k];
      if (k > 0) f.callerRegs = callerRegs[k];
      out.push(f);
    }
    return out;
  }

  /** The function start a callback value names, or null. */
  callbackTarget(v: bigint): number | null {
    const pc = callbackPc(BigInt.asUintN(64, v));
    return pc !== null && this.funcSet.has(pc) ? pc : null;
  }

  start(r1: bigint, opts: RunOptions = {}): void {
    this.lo.fill(0); this.hi.fill(0);
    this.setReg(1, r1);
    this.lo[10] = STACK_SIZE; this.hi[10] = this.stackHi[0];
    this.stackBytes[0].fill(0);
    this._pc = 0; this.count = 0; this.depth = 0; this.fnStart[0] = 0; this.mgLeft[0] = BPF_MAX_LOOPS;
    this.cbIter.fill(null);
    this.budget = opts.budget ?? DEFAULT_BUDGET;
    this.hook = opts.hook;
    this.state = 'running'; this.final = null; this.fault = null; this.skipHookAt = -1;
  }

  run(r1: bigint, opts: RunOptions = {}): RunStatus {
    this.start(r1, opts);
    return this.resume(opts);
  }

  resume(opts: RunOptions = {}): RunStatus {
    if (this.state === 'idle') throw new Error('VM: resume() before start()');
    if (this.state === 'done') return this.final!;
    if (opts.budget !== undefined) this.budget = opts.budget;
    const hook = opts.hook ?? this.hook;
    if (!hook) return this.exec(this.budget, true);
    // with a hook: the interpreter calls it before each instruction (./loop interpretHooked)
    if (this.count >= this.budget) return this.exec(this.budget);
    const rc = interpretHooked(this, this.budget, hook, this.skipHookAt);
    if (rc === R_HOOK) {
      this.skipHookAt = this._pc; // resuming from here does not pause again at the same place
      return { status: 'paused', pc: this._pc, insns: this.count };
    }
    this.skipHookAt = -1;
    return this.finish(rc);
  }

  step(): RunStatus {
    if (this.state === 'idle') throw new Error('VM: step() before start()');
    if (this.state === 'done') return this.final!;
    this.skipHookAt = -1;
    return this.exec(Math.min(this.count + 1, this.budget));
  }

  /** The fast tier's program, compiled on first use (null: it could not be). */
  fastProgram(): FastProgram | null {
    if (this.fast === undefined) this.fast = compileFast(this);
    return this.fast;
  }

  /** Run until `limit` instructions have executed in total (or exit/fault). `mayFast`: a run
   *  without a hook, which the fast tier may take when it is at its start. */
  private exec(limit: number, mayFast = false): RunStatus {
    let rc = -1;
    if (this.count >= this.budget) rc = R_LIMIT;
    else if (mayFast && this.tier === 'fast' && this._pc === 0 && this.depth === 0 && this.fastEntryState()) {
      const p = this.fastProgram();
      if (p) {
        const f = p.run(limit);
        if (f === F_EXIT) rc = R_EXIT;
        else if (f === F_FAULT) rc = R_FAULT;
      }
    }
    if (rc === -1) rc = interpret(this, limit, !mayFast);
    return this.finish(rc);
  }

  /** The status after a loop returned `rc`: paused at the limit, the budget fault, or the end. */
  private finish(rc: number): RunStatus {
    if (rc === R_LIMIT) {
      if (this.count >= this.budget) {
        let inCb = -1;
        for (let k = this.depth; k > 0 && inCb < 0; k--) if (this.cbIter[k] !== null) inCb = this.cbPc[k];
        const why = inCb < 0 ? ' (an endless loop?)'
          : ` inside a callback of the helper call at insn ${inCb} (the budget counts callback instructions; the kernel bounds bpf_loop only by nr_loops, at most 8M: raise the budget if the loop is meant to be this long)`;
        this.setFault('budget', this._pc, `instruction budget of ${this.budget} exhausted${why} before insn ${this._pc}`);
        rc = R_FAULT;
      } else return { status: 'paused', pc: this._pc, insns: this.count };
    }
    this.state = 'done';
    if (rc === R_FAULT) this.final = { status: 'fault', fault: this.fault!, insns: this.count };
    else this.final = { status: 'exit', r0: this.reg(0), insns: this.count };
    return this.final;
  }

  /** The fast tier's functions start with r0 and r6-r9 zero (start() leaves them so; a host
   *  may have set them with setReg, then the interpreter runs). */
  private fastEntryState(): boolean {
    const L = this.lo, H = this.hi;
    return (L[0] | H[0] | L[6] | H[6] | L[7] | H[7] | L[8] | H[8] | L[9] | H[9]) === 0;
  }

  // ---- called from the generated loops ----

  /** @internal */
  setFault(kind: FaultKind, pc: number, message: string, addr?: bigint): void {
    this.fault = addr === undefined ? { kind, pc, message } : { kind, pc, message, addr };
  }

  private slotFor(pc: number, ah: number, a: number, size: number, write: boolean): RegionSlot | null {
    const r = this.memory.slots[ah - HI_BASE];
    const o = a >>> 0;
    const addr = (BigInt(ah >>> 0) << 32n) | BigInt(o);
    const what = write ? 'store' : 'load';
    if (r === undefined || o + size > r.len) {
      this.setFault('bad-access', pc, `${what} of ${size} bytes at ${fmtAddr(addr)} is outside any region${r ? ` (${r.name} has ${r.len} bytes, offset ${o})` : ''}`, addr);
      return null;
    }
    if (write && !r.writable) {
      this.setFault('bad-access', pc, `store of ${size} bytes into read-only region ${r.name} at offset ${o}`, addr);
      return null;
    }
    if (r.check) {
      const msg = r.check(o, size, write);
      if (msg !== null) { this.setFault('ctx-access', pc, msg, addr); return null; }
    }
    return r;
  }

  /** @internal A load the fast path did not take: the value goes to DM (low, high word). */
  loadSlow(pc: number, ah: number, a: number, size: number, signExt: boolean): boolean {
    const r = this.slotFor(pc, ah, a, size, false);
    if (!r) {
      // BPF_PROBE_MEM: a failed probe read gives 0 (ExecutableSpec.probeLoads)
      if (this.fault?.kind !== 'bad-access' || !this.spec.probeLoads?.has(pc)) return false;
      const addr = this.fault.addr ?? 0n;
      this.fault = null;
      DM[0] = 0; DM[1] = 0;
      this.spec.onProbeFault?.(pc, addr, size);
      return true;
    }
    const o = a >>> 0;
    let v: number;
    switch (size) {
      case 1: v = signExt ? r.dv.getInt8(o) : r.dv.getUint8(o); break;
      case 2: v = signExt ? r.dv.getInt16(o, true) : r.dv.getUint16(o, true); break;
      case 4: v = r.dv.getInt32(o, true); break;
      default: DM[0] = r.dv.getInt32(o, true); DM[1] = r.dv.getInt32(o + 4, true); return true;
    }
    DM[0] = v; DM[1] = signExt ? v >> 31 : 0;
    return true;
  }

  /** @internal */
  storeSlow(pc: number, ah: number, a: number, size: number, lo: number, hi: number): boolean {
    const r = this.slotFor(pc, ah, a, size, true);
    if (!r) return false;
    const o = a >>> 0;
    switch (size) {
      case 1: r.dv.setInt8(o, lo); break;
      case 2: r.dv.setInt16(o, lo, true); break;
      case 4: r.dv.setInt32(o, lo, true); break;
      default: r.dv.setInt32(o, lo, true); r.dv.setInt32(o + 4, hi, true);
    }
    r.onWrite?.(o, size);
    return true;
  }

  /** @internal STX | ATOMIC (RFC 9669 §5.3): src value (vL, vH; vH 0 for 32 bits), r0 (for
   *  cmpxchg). The old value goes to DM (the 32-bit fetch forms zero-extend it); the template
   *  puts it into r0 (cmpxchg) or src (fetch forms). */
  atomic(pc: number, ah: number, a: number, size: number, op: number, vL: number, vH: number, r0L: number, r0H: number): boolean {
    const r = this.slotFor(pc, ah, a, size, true);
    if (!r) return false;
    const o = a >>> 0, dv = r.dv;
    const oldL = dv.getInt32(o, true), oldH = size === 8 ? dv.getInt32(o + 4, true) : 0;
    let nL: number, nH: number;
    switch (op & ~1) {
      case 0x00: { nL = (oldL + vL) | 0; nH = (oldH + vH + ((nL >>> 0) < (oldL >>> 0) ? 1 : 0)) | 0; break; }
      case 0x40: nL = oldL | vL; nH = oldH | vH; break;
      case 0x50: nL = oldL & vL; nH = oldH & vH; break;
      case 0xa0: nL = oldL ^ vL; nH = oldH ^ vH; break;
      case 0xe0: nL = vL; nH = vH; break; // xchg
      default: { // cmpxchg: compare with r0, r0 = old
        const eq = size === 8 ? r0L === oldL && r0H === oldH : r0L === oldL;
        nL = eq ? vL : oldL; nH = eq ? vH : oldH;
      }
    }
    dv.setInt32(o, nL, true);
    if (size === 8) dv.setInt32(o + 4, nH, true);
    DM[0] = oldL; DM[1] = oldH;
    r.onWrite?.(o, size);
    return true;
  }

  /** @internal Zero frame k for a call of the function at `fn`, as far as it can see it. */
  zeroFrame(k: number, fn: number): void {
    const from = this.fillFrom[fn];
    if (from < STACK_SIZE) this.stackBytes[k].fill(0, from);
  }

  /** @internal The stack-overflow fault of a bpf-to-bpf call at `pc` (one text for both tiers). */
  callOverflow(pc: number): void {
    this.setFault('stack-overflow', pc, `call to the function at insn ${pc + 1 + this.imm[pc]} would be frame ${this.depth + 2}; at most ${MAX_FRAMES} frames are allowed (MAX_CALL_FRAMES)`);
  }

  /** @internal CALL: returns the next pc, or -1 after recording a fault. */
  call(pc: number): number {
    const src = this.rs[pc], imm = this.imm[pc];
    if (src === LOCAL) {
      if (this.depth + 1 >= MAX_FRAMES) { this.callOverflow(pc); return -1; }
      const k = ++this.depth, sv = this.saved, L = this.lo, H = this.hi;
      this.savedOk[k] = this.writes69[pc + 1 + imm];
      if (this.savedOk[k]) for (let i = 0; i < 4; i++) { sv[k * 8 + i * 2] = L[6 + i]; sv[k * 8 + i * 2 + 1] = H[6 + i]; }
      this.retPc[k] = pc + 1;
      this.fnStart[k] = pc + 1 + imm;
      this.mgLeft[k] = MAX_LOOPS;
      this.zeroFrame(k, pc + 1 + imm);
      L[10] = STACK_SIZE; H[10] = this.stackHi[k];
      return pc + 1 + imm;
    }
    const h = this.helperStart(pc);
    return h < 0 ? -1 : h === 0 ? pc + 1 : this.pushCallbackFrame(pc);
  }

  /** @internal Call the helper or kfunc at `pc` with r1-r5: -1 after a fault; 0 when it
   *  returned (r0 set); 1 when it is a coroutine that asks for a callback (see helperStep). */
  helperStart(pc: number): number {
    const src = this.rs[pc], imm = this.imm[pc];
    let fn: HelperFn | undefined;
    if (src === CALL_HELPER) fn = this.calls.helper(imm);
    else fn = this.calls.kfunc(imm);
    if (!fn) { this.setFault('helper', pc, `unknown ${this.callName(pc)}: no implementation`); return -1; }
    const ctx = this.helperCtx;
    ctx.pc = pc;
    this._pc = pc;
    let r0: bigint | HelperCoroutine;
    try {
      r0 = fn(ctx, this.reg(1), this.reg(2), this.reg(3), this.reg(4), this.reg(5));
    } catch (e) {
      return this.helperThrew(e, pc, this.callName(pc));
    }
    if (typeof r0 !== 'bigint') {
      if (r0 !== null && typeof r0 === 'object' && typeof (r0 as HelperCoroutine).next === 'function') return this.helperStep(pc, r0, undefined);
      this.setFault('helper', pc, `${this.callName(pc)} returned ${typeof r0}, not a bigint`);
      return -1;
    }
    this.setReg(0, r0);
    return 0;
  }

  private callName(pc: number): string {
    const src = this.rs[pc], imm = this.imm[pc];
    if (src === CALL_HELPER) return `helper #${imm}${this.calls.helperName ? ` (${this.calls.helperName(imm)})` : ''}`;
    return `kfunc #${imm}${this.calls.kfuncName ? ` (${this.calls.kfuncName(imm)})` : ''}`;
  }

  private helperThrew(e: unknown, pc: number, what: string): number {
    if (e instanceof HelperFault) { this.setFault('helper', pc, `${what}: ${e.message}`); return -1; }
    if (e instanceof GuestFaultError) { this.setFault(e.kind, pc, `${what}: ${e.message}`, e.addr); return -1; }
    throw e;
  }

  /** The coroutine and callback start pc of the guest call a helper asked for (helperStep 1). */
  pendIt: HelperCoroutine | null = null;
  pendTarget = 0;

  /** @internal Run a helper coroutine (the helper call at `pc`) up to its next guest call or
   *  its end: -1 after a fault; 0 at its end (r0 set); 1 when it asks for a callback: pendIt
   *  and pendTarget are set, r1-r5 hold the arguments, the frame depth is checked but no frame
   *  is pushed (the caller's tier does that). */
  helperStep(pc: number, it: HelperCoroutine, r0: bigint | undefined): number {
    const ctx = this.helperCtx;
    ctx.pc = pc;
    this._pc = pc;
    let y: IteratorResult<GuestCall, bigint>;
    try {
      y = r0 === undefined ? it.next() : it.next(r0);
    } catch (e) {
      return this.helperThrew(e, pc, this.callName(pc));
    }
    if (y.done) {
      if (typeof y.value !== 'bigint') { this.setFault('helper', pc, `${this.callName(pc)} returned ${typeof y.value}, not a bigint`); return -1; }
      this.setReg(0, y.value);
      return 0;
    }
    const call = y.value;
    const target = call && typeof call.fn === 'bigint' ? this.callbackTarget(call.fn) : null;
    if (target === null) {
      const v = call && typeof call.fn === 'bigint' ? `0x${BigInt.asUintN(64, call.fn).toString(16)}` : String(call?.fn);
      this.setFault('helper', pc, `${this.callName(pc)}: callback ${v} is not the address of a function of this program (pass a static function: the verifier wants PTR_TO_FUNC, an ld_imm64 src=4)`);
      return -1;
    }
    const args = call.args ?? [];
    if (args.length > 5) { this.setFault('helper', pc, `${this.callName(pc)}: a callback takes at most 5 arguments (r1-r5), got ${args.length}`); return -1; }
    if (this.depth + 1 >= MAX_FRAMES) {
      this.setFault('stack-overflow', pc, `${this.callName(pc)}: its callback at insn ${target} would be frame ${this.depth + 2}; at most ${MAX_FRAMES} frames are allowed (MAX_CALL_FRAMES; callbacks count, kernel/bpf/verifier.c push_callback_call)`);
      return -1;
    }
    const L = this.lo, H = this.hi;
    for (let i = 0; i < 5; i++) {
      const a = i < args.length ? BigInt.asUintN(64, BigInt(args[i]!)) : 0n;
      L[1 + i] = Number(a & 0xffffffffn); H[1 + i] = Number(a >> 32n);
    }
    this.pendIt = it;
    this.pendTarget = target;
    return 1;
  }

  /** The interpreter's frame for the callback helperStep asked for; returns its start pc. */
  private pushCallbackFrame(pc: number): number {
    const it = this.pendIt!, target = this.pendTarget;
    this.pendIt = null;
    const k = ++this.depth, sv = this.saved, L = this.lo, H = this.hi;
    for (let i = 0; i < 4; i++) { sv[k * 8 + i * 2] = L[6 + i]; sv[k * 8 + i * 2 + 1] = H[6 + i]; }
    this.savedOk[k] = SOK_CALLBACK;
    this.retPc[k] = pc + 1;
    this.fnStart[k] = target;
    this.cbIter[k] = it;
    this.cbPc[k] = pc;
    this.mgLeft[k] = MAX_LOOPS;
    this.zeroFrame(k, target);
    L[10] = STACK_SIZE; H[10] = this.stackHi[k];
    return target;
  }

  /** @internal EXIT from a subprogram: restore r6-r9 and r10, return the caller's pc; from a
   *  callback, the helper that called it goes on (-1 after a fault, with _pc at the helper call). */
  popFrame(): number {
    const k = this.depth--, sv = this.saved, L = this.lo, H = this.hi;
    if (this.savedOk[k]) for (let i = 0; i < 4; i++) { L[6 + i] = sv[k * 8 + i * 2]; H[6 + i] = sv[k * 8 + i * 2 + 1]; }
    L[10] = STACK_SIZE; H[10] = this.stackHi[this.depth];
    const it = this.cbIter[k];
    if (it === null) return this.retPc[k];
    this.cbIter[k] = null;
    const pc = this.cbPc[k];
    const h = this.helperStep(pc, it, this.reg(0));
    return h < 0 ? -1 : h === 0 ? pc + 1 : this.pushCallbackFrame(pc);
  }
}

/** Where a function's fresh frame must be zeroed from, so that it reads zeros where it has
 *  not written (our frames start zeroed; the kernel's are not, but the verifier rejects reads
 *  of unwritten stack). A function that never lets r10 out of itself (no r10 operand but as
 *  the base of a load or store) can only see the bytes its r10-relative accesses name, so
 *  zeroing from its lowest in-frame offset up is the same for the program; a host looking at
 *  the region may see older bytes below that. 0: the whole frame; STACK_SIZE: nothing. */
function frameFootprint(code: Uint8Array, rd: Uint8Array, rs: Uint8Array, offs: Int32Array, start: number, end: number): number {
  let lo = STACK_SIZE;
  for (let pc = start; pc < end; pc++) {
    const info = OPS[code[pc]];
    if (!info) continue;
    if (info.kind === 'lddw') { pc++; continue; }
    const d = rd[pc], s = rs[pc], off = offs[pc];
    const base = info.kind === 'ldx' ? s : info.kind === 'st' || info.kind === 'stx' || info.kind === 'atomic' ? d : -1;
    const value = info.kind === 'stx' || info.kind === 'atomic' || (info.kind === 'alu' && info.srcReg) ? s : -1;
    if (value === 10) return 0; // r10 copied, stored or computed with: the frame escapes
    if (base === 10) {
      const o = STACK_SIZE + off;
      if (o >= 0 && o + info.size <= STACK_SIZE) lo = Math.min(lo, o & ~3);
    }
  }
  return lo;
}

/** Does the function in [start, end) write one of r6-r9 (the callee-saved registers)? */
function writesCalleeSaved(code: Uint8Array, rd: Uint8Array, rs: Uint8Array, imm: Int32Array, start: number, end: number): boolean {
  const callee = (r: number) => r >= 6 && r <= 9;
  for (let pc = start; pc < end; pc++) {
    const info = OPS[code[pc]];
    if (!info) continue;
    switch (info.kind) {
      case 'alu': case 'neg': case 'end': case 'ldx': case 'lddw':
        if (callee(rd[pc])) return true;
        break;
      case 'atomic': // fetch forms write src (cmpxchg writes r0)
        if ((imm[pc] & 1) !== 0 && imm[pc] !== ATOMIC_CMPXCHG && callee(rs[pc])) return true;
        break;
      default: break;
    }
    if (info.kind === 'lddw') pc++;
  }
  return false;
}

export function createVm(spec: ExecutableSpec, calls: CallTable, opts?: VmOptions): Vm {
  return new Vm(spec, calls, opts);
}
