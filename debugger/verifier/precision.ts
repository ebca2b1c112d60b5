// Precision tracking as kernel/bpf/backtrack.c does it (7.1.5: bpf_mark_chain_precision,
// backtrack_insn, bpf_mark_all_scalars_precise). A scalar in an explored state is compared at
// pruning time only if some later instruction relied on its exact value (a pointer offset, a
// helper's size argument, a branch the verifier decided, the return code...). When that happens
// the register is "backtracked": walking the path's instruction history backwards, the set of
// registers and stack slots the value came from is followed into every parent checkpoint, whose
// copies of them get `precise`. Everything else stays imprecise and matches any scalar
// (regsafe in ./state.ts).
//
// The history: every processed instruction is one entry (pc, the previous entry, flags) in one
// growing pool; a path keeps the index of its newest entry since its last checkpoint, so branches
// share their common prefix for free. The kernel keeps a sparser jump history plus "previous
// insn = idx - 1"; the walk is the same.
import type { Insn } from '../vm/api';
import type { Reg, VState } from './state';
import { SYNC_CALLBACK_HELPERS } from './cfg';

/** Flag bits of a history entry: a stack slot spilled to / filled from (INSN_F_STACK_ACCESS). */
export const stackAccessFlag = (frameNo: number, spi: number): number => 1 | (frameNo << 1) | (spi << 5);
const flagFrame = (f: number) => (f >> 1) & 0xf;
const flagSpi = (f: number) => (f >> 5) & 0x3f;

/** A register (spi < 0) or a spilled stack slot (reg < 0) linked by a shared scalar id. */
export interface Linked { frame: number; reg: number; spi: number }

export class History {
  pc = new Int32Array(1 << 14);
  prev = new Int32Array(1 << 14);
  flags = new Int32Array(1 << 14);
  n = 0;
  /** entry -> registers sharing an id at a conditional jump (bt_sync_linked_regs). */
  readonly linked = new Map<number, Linked[]>();

  push(pc: number, prev: number): number {
    if (this.n === this.pc.length) {
      const grow = (a: Int32Array) => { const b = new Int32Array(a.length * 2); b.set(a); return b; };
      this.pc = grow(this.pc); this.prev = grow(this.prev); this.flags = grow(this.flags);
    }
    const e = this.n++;
    this.pc[e] = pc; this.prev[e] = prev; this.flags[e] = 0;
    return e;
  }
}

/** A checkpoint as the backtracking sees it: its state, its parent, the history leading to it. */
export interface Checkpoint { state: VState; parent: Checkpoint | null; hist: number; pc: number }

const MAX_FRAMES = 8;
const ARGS = 0x3e; // r1-r5

/** backtrack_state: registers and stack slots (per frame) still to be traced. */
export class Backtrack {
  readonly regs = new Int32Array(MAX_FRAMES);
  readonly lo = new Int32Array(MAX_FRAMES); // stack slots 0..31
  readonly hi = new Int32Array(MAX_FRAMES); // stack slots 32..63
  frame = 0;
  reset(frame: number): void { this.regs.fill(0); this.lo.fill(0); this.hi.fill(0); this.frame = frame; }
  empty(): boolean {
    for (let i = 0; i <= this.frame && i < MAX_FRAMES; i++) if (this.regs[i] || this.lo[i] || this.hi[i]) return false;
    return true;
  }
  setReg(fr: number, r: number): void { this.regs[fr]! |= 1 << r; }
  clearReg(fr: number, r: number): void { this.regs[fr]! &= ~(1 << r); }
  hasReg(fr: number, r: number): boolean { return ((this.regs[fr]! >> r) & 1) === 1; }
  setSlot(fr: number, spi: number): void { if (spi < 32) this.lo[fr]! |= 1 << spi; else this.hi[fr]! |= 1 << (spi - 32); }
  clearSlot(fr: number, spi: number): void { if (spi < 32) this.lo[fr]! &= ~(1 << spi); else this.hi[fr]! &= ~(1 << (spi - 32)); }
  hasSlot(fr: number, spi: number): boolean { return spi < 32 ? ((this.lo[fr]! >>> spi) & 1) === 1 : ((this.hi[fr]! >>> (spi - 32)) & 1) === 1; }
  stackEmpty(fr: number): boolean { return this.lo[fr] === 0 && this.hi[fr] === 0; }
}

const UNSUPPORTED = -1;

export class Precision {
  readonly bt = new Backtrack();
  /** Counters for the log / bench. */
  marks = 0;
  fallbacks = 0;
  /** Precise marks newly set (propagate_backedges runs until this stops moving). */
  changes = 0;
  steps = 0;

  constructor(private readonly insns: Insn[], readonly hist: History) {}

  /** bpf_mark_chain_precision: trace what is set in `bt` back from history entry `e` (the newest
   *  instruction already applied; `subseq` is the pc after it) through `cp` and its parents. */
  markChain(e: number, subseq: number, cp: Checkpoint | null): void {
    const bt = this.bt;
    if (bt.empty()) return;
    this.marks++;
    const h = this.hist;
    for (;;) {
      while (e >= 0) {
        const pc = h.pc[e]!;
        this.steps++;
        if (this.backtrackInsn(pc, subseq, e) === UNSUPPORTED) { this.markAll(cp); return; }
        if (bt.empty()) return;
        subseq = pc;
        e = h.prev[e]!;
      }
      if (!cp) return; // program (or global function) entry: arguments are what they are
      this.markState(cp.state);
      if (bt.empty()) return;
      e = cp.hist;
      subseq = cp.pc;
      cp = cp.parent;
    }
  }

  /** Set `precise` on the checkpoint's copies of what bt holds; drop what is no scalar or was
   *  already precise (its own history was traced when it was marked). */
  private markState(st: VState): void {
    const bt = this.bt;
    for (let fr = Math.min(bt.frame, st.frames.length - 1); fr >= 0; fr--) {
      const f = st.frames[fr]!;
      let m = bt.regs[fr]!;
      for (let r = 0; m; r++, m >>>= 1) {
        if (!(m & 1)) continue;
        const reg = f.regs[r];
        if (!reg || reg.type !== 'SCALAR_VALUE' || reg.precise) bt.clearReg(fr, r);
        else { f.regs[r] = { ...reg, precise: true }; this.changes++; }
      }
      if (bt.stackEmpty(fr)) continue;
      for (let spi = 0; spi < 64; spi++) {
        if (!bt.hasSlot(fr, spi)) continue;
        const slot = f.stack.get(spi);
        const sp = slot?.spill;
        if (!slot || !sp || sp.type !== 'SCALAR_VALUE' || slot.bytes[0] !== 'spill' || sp.precise) { bt.clearSlot(fr, spi); continue; }
        f.stack.set(spi, { ...slot, spill: { ...sp, precise: true } });
        this.changes++;
      }
    }
  }

  /** bpf_mark_all_scalars_precise: the history could not be followed; every scalar of every
   *  checkpoint up the chain is precise (sound, prunes less). */
  markAll(cp: Checkpoint | null): void {
    this.fallbacks++;
    this.bt.reset(0);
    for (; cp; cp = cp.parent) {
      for (const f of cp.state.frames) {
        for (let r = 0; r < 10; r++) { const reg = f.regs[r]!; if (reg.type === 'SCALAR_VALUE' && !reg.precise) f.regs[r] = { ...reg, precise: true }; }
        for (const [spi, slot] of f.stack) {
          const sp = slot.spill;
          if (sp && sp.type === 'SCALAR_VALUE' && !sp.precise) f.stack.set(spi, { ...slot, spill: { ...sp, precise: true } });
        }
      }
    }
  }

  private syncLinked(e: number): void {
    const l = this.hist.linked.get(e);
    if (!l) return;
    const bt = this.bt;
    let any = false;
    for (const x of l) if (x.reg >= 0 ? bt.hasReg(x.frame, x.reg) : bt.hasSlot(x.frame, x.spi)) { any = true; break; }
    if (!any) return;
    for (const x of l) if (x.reg >= 0) bt.setReg(x.frame, x.reg); else bt.setSlot(x.frame, x.spi);
  }

  /** backtrack_insn: what insn `pc` (followed by `subseq`) makes the set depend on. */
  private backtrackInsn(pc: number, subseq: number, e: number): number {
    const bt = this.bt;
    const insn = this.insns[pc]!;
    const code = insn.code, cls = code & 7, op = code & 0xf0;
    const d = insn.dst, s = insn.src, fr = bt.frame;
    const flags = this.hist.flags[e]!;
    this.syncLinked(e);
    if (cls === 4 || cls === 7) { // ALU, ALU64
      if (!bt.hasReg(fr, d)) return 0;
      if (op === 0xd0 || op === 0x80) return 0; // end, neg: dst depends on itself
      if (op === 0xb0) { // mov
        bt.clearReg(fr, d);
        if (code & 0x08 && s !== 10) bt.setReg(fr, s);
      } else if (code & 0x08 && s !== 10) bt.setReg(fr, s);
    } else if (cls === 1 || (cls === 3 && (code & 0xe0) === 0xc0 && insn.imm & 1)) { // LDX, atomic fetch
      const load = cls === 1 ? d : insn.imm === 0xf1 ? 0 : s;
      if (!bt.hasReg(fr, load)) return 0;
      bt.clearReg(fr, load);
      if (flags & 1) bt.setSlot(flagFrame(flags), flagSpi(flags));
    } else if (cls === 2 || cls === 3) { // ST, STX
      if (bt.hasReg(fr, d)) return UNSUPPORTED;
      if (!(flags & 1)) return 0;
      const sf = flagFrame(flags), spi = flagSpi(flags);
      if (!bt.hasSlot(sf, spi)) return 0;
      bt.clearSlot(sf, spi);
      if (cls === 3) bt.setReg(fr, s);
    } else if (cls === 5 || cls === 6) {
      if (op === 0x80) { // call
        const entered = subseq !== pc + 1;
        if (insn.src === 1) {
          if (!entered) { // a global function: verified on its own, r0 is an unknown scalar
            if (bt.regs[fr]! & ARGS) return UNSUPPORTED;
            bt.clearReg(fr, 0);
            return 0;
          }
          // leaving a static subprogram's first insn backwards: its r1-r5 are the caller's
          if (bt.regs[fr]! & ~ARGS || !bt.stackEmpty(fr) || fr === 0) return UNSUPPORTED;
          for (let r = 1; r <= 5; r++) if (bt.hasReg(fr, r)) { bt.clearReg(fr, r); bt.setReg(fr - 1, r); }
          bt.frame--;
          return 0;
        }
        if (entered) { // a helper that called a callback (bpf_loop & co): the callback's args are the helper's
          if (bt.regs[fr]! & ~ARGS || !bt.stackEmpty(fr) || fr === 0) return UNSUPPORTED;
          for (let r = 1; r <= 5; r++) bt.clearReg(fr, r);
          bt.frame--;
          return 0;
        }
        bt.clearReg(fr, 0);
        if (bt.regs[fr]! & ARGS) return UNSUPPORTED;
        return 0;
      }
      if (op === 0x90) { // exit, walked backwards: into the callee's frame
        if (fr + 1 >= MAX_FRAMES) return UNSUPPORTED;
        // a callback's exit goes back to its helper call (subseq); a subprogram's to after its call
        const back = this.insns[subseq];
        const toCallback = !!back && back.code === 0x85 && back.src === 0 && SYNC_CALLBACK_HELPERS.has(back.imm);
        const ret = this.insns[subseq - 1];
        const fromSubprog = !toCallback && !!ret && (ret.code & 0xf7) === 0x85 && ret.src === 1;
        if (!fromSubprog) for (let r = 1; r <= 5; r++) bt.clearReg(fr, r);
        if (bt.regs[fr]! & ARGS) return UNSUPPORTED;
        const r0 = fromSubprog && bt.hasReg(fr, 0);
        bt.clearReg(fr, 0);
        bt.frame++;
        bt.regs[bt.frame] = 0; bt.lo[bt.frame] = 0; bt.hi[bt.frame] = 0;
        if (r0) bt.setReg(bt.frame, 0);
        return 0;
      }
      if (op === 0x00 || op === 0xe0) return 0; // ja, may_goto
      if (code & 0x08) { // a compare of two registers: both are needed if either is
        if (!bt.hasReg(fr, d) && !bt.hasReg(fr, s)) return 0;
        if (s !== 10) bt.setReg(fr, s);
        if (d !== 10) bt.setReg(fr, d);
      }
    } else if (cls === 0) { // ld_imm64
      if (bt.hasReg(fr, d)) bt.clearReg(fr, d);
    }
    this.syncLinked(e);
    return 0;
  }
}

/** Registers and spilled slots of every frame sharing scalar id `id` (collect_linked_regs). */
export function linkedRegs(st: VState, id: number): Linked[] {
  const out: Linked[] = [];
  st.frames.forEach((f, frame) => {
    for (let r = 0; r < 10; r++) { const x: Reg = f.regs[r]!; if (x.type === 'SCALAR_VALUE' && x.id === id) out.push({ frame, reg: r, spi: -1 }); }
    for (const [spi, sl] of f.stack) if (sl.spill?.type === 'SCALAR_VALUE' && sl.spill.id === id && sl.bytes[0] === 'spill') out.push({ frame, reg: -1, spi });
  });
  return out;
}
