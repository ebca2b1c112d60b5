// Which helper and kfunc calls a program ignores the result of: r0 is dead after the call (no
// path reads it before it is overwritten). A call that fails there is a finding of `explore`
// ("every helper error the hook ignores"). Backward liveness of r0 alone over the slots.
import type { Insn } from '../vm/index';

const CLS_LD = 0, CLS_LDX = 1, CLS_ST = 2, CLS_STX = 3, CLS_ALU = 4, CLS_JMP = 5, CLS_JMP32 = 6, CLS_ALU64 = 7;
const OP_CALL = 0x80, OP_EXIT = 0x90, OP_JA = 0x00, OP_MOV = 0xb0;
const MODE_ATOMIC = 0xc0;
const BPF_CMPXCHG = 0xf1;

/** pcs of the call instructions (helpers, kfuncs) after which r0 is dead. */
export function deadR0AfterCalls(insns: readonly Insn[]): Set<number> {
  const n = insns.length;
  const uses = new Uint8Array(n);
  const defs = new Uint8Array(n);
  const succ: number[][] = new Array(n);
  const calls: number[] = [];
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    const cls = i.code & 7;
    const op = i.code & 0xf0;
    const x = (i.code & 0x08) !== 0;
    const next = pc + 1;
    succ[pc] = [next];
    switch (cls) {
      case CLS_LD:
        if (i.code === 0x18) { if (i.dst === 0) defs[pc] = 1; succ[pc] = [pc + 2]; }
        else defs[pc] = 1; // legacy packet loads (ld_abs/ld_ind) define r0
        break;
      case CLS_LDX:
        if (i.src === 0) uses[pc] = 1;
        else if (i.dst === 0) defs[pc] = 1;
        break;
      case CLS_ST:
        if (i.dst === 0) uses[pc] = 1;
        break;
      case CLS_STX:
        if (i.dst === 0 || i.src === 0) uses[pc] = 1;
        if ((i.code & 0xe0) === MODE_ATOMIC && i.imm === BPF_CMPXCHG) uses[pc] = 1;
        break;
      case CLS_ALU: case CLS_ALU64:
        if (x && i.src === 0) uses[pc] = 1;
        if (i.dst === 0) { if (op === OP_MOV) { if (!uses[pc]) defs[pc] = 1; } else uses[pc] = 1; }
        break;
      case CLS_JMP: case CLS_JMP32:
        if (op === OP_EXIT && cls === CLS_JMP) { uses[pc] = 1; succ[pc] = []; }
        else if (op === OP_CALL && cls === CLS_JMP) { defs[pc] = 1; if (i.src !== 1) calls.push(pc); }
        else if (op === OP_JA) succ[pc] = [pc + 1 + (cls === CLS_JMP32 ? i.imm : i.off)];
        else {
          if (i.dst === 0 || (x && i.src === 0)) uses[pc] = 1;
          succ[pc] = [next, pc + 1 + i.off];
        }
        break;
    }
  }
  const live = new Uint8Array(n + 2);
  for (let changed = true; changed;) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      let out = 0;
      for (const s of succ[pc]!) if (s >= 0 && s < n && live[s]) { out = 1; break; }
      const v = uses[pc] ? 1 : defs[pc] ? 0 : out;
      if (v !== live[pc]) { live[pc] = v; changed = true; }
    }
  }
  const dead = new Set<number>();
  for (const pc of calls) if (!live[pc + 1]) dead.add(pc);
  return dead;
}
