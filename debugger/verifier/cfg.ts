// Control-flow facts the verifier walk needs before it starts (kernel/bpf/verifier.c check_cfg and
// the liveness the kernel computes for state pruning): jumps that leave the program, the last
// instruction, the prune points (jump targets and the instructions after branches and calls) and,
// per instruction, the registers some later instruction may read before writing them.
import type { BpfProgram } from '../object/types';
import type { Insn } from '../vm/api';
import { VerifierReject } from './check';

const CLS = (c: number) => c & 7;

function isJmp(i: Insn): boolean { const c = CLS(i.code); return c === 5 || c === 6; }

/** Successor pcs of the instruction at pc (calls fall through; exit has none). */
export function successors(insns: Insn[], pc: number): number[] {
  const i = insns[pc]!;
  if (i.code === 0x18) return [pc + 2];
  if (!isJmp(i)) return [pc + 1];
  const op = i.code & 0xf0;
  if (op === 0x90) return []; // exit
  if (op === 0x80) return [pc + 1]; // call
  if (op === 0x00) return [pc + 1 + (i.code === 0x06 ? i.imm : i.off)]; // ja / gotol
  return [pc + 1, pc + 1 + i.off];
}

/** check_cfg: every jump lands inside the program; the last instruction ends the function. */
export function cfgCheck(insns: Insn[], prog: BpfProgram): void {
  const n = insns.length;
  if (n === 0) throw new VerifierReject(0, 'empty program', 'bad-insn');
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    if (i.code === 0x18) { pc++; continue; }
    if (!isJmp(i)) continue;
    const op = i.code & 0xf0;
    if (op === 0x80) {
      if (i.src === 1) {
        const t = pc + 1 + i.imm;
        if (t < 0 || t >= n) throw new VerifierReject(pc, `jump out of range from insn ${pc} to ${t}`, 'jump-range');
      }
      continue;
    }
    if (op === 0x90) continue;
    const t = pc + 1 + (i.code === 0x06 ? i.imm : i.off);
    if (t < 0 || t >= n) throw new VerifierReject(pc, `jump out of range from insn ${pc} to ${t}`, 'jump-range');
  }
  // kernel/bpf/cfg.c bpf_check_cfg: every insn is reached from the entry (following jumps, calls
  // into subprograms and callback addresses); none jumps into the middle of an ld_imm64
  const seen = new Uint8Array(n);
  const work = [0];
  seen[0] = 1;
  while (work.length) {
    const pc = work.pop()!;
    const i = insns[pc]!;
    const next = [...successors(insns, pc)];
    if (isJmp(i) && (i.code & 0xf0) === 0x80 && i.src === 1) next.push(pc + 1 + i.imm);
    if (i.code === 0x18 && i.src === 4) next.push(pc + 1 + i.imm);
    for (const t of next) if (t >= 0 && t < n && !seen[t]) { seen[t] = 1; work.push(t); }
  }
  for (let pc = 0; pc < n; pc++) {
    if (!seen[pc]) throw new VerifierReject(pc, `unreachable insn ${pc}`, 'unreachable');
    if (insns[pc]!.code === 0x18) {
      if (seen[pc + 1]) throw new VerifierReject(pc, `jump into the middle of ldimm64 insn ${pc}`, 'jump-range');
      pc++;
    }
  }
  // the last insn of each function must be an exit or an unconditional jump
  const ends = prog.funcs.map((f) => f.endPc - 1);
  for (const e of ends.length ? ends : [n - 1]) {
    const i = insns[e];
    if (!i) continue;
    const ok = isJmp(i) && ((i.code & 0xf0) === 0x90 || (i.code & 0xf0) === 0x00 && (i.code === 0x05 || i.code === 0x06));
    if (!ok) throw new VerifierReject(e, 'last insn is not an exit or jmp', 'bad-insn');
  }
}

/** 1 at jump targets, branch fall-throughs and call return sites. */
export function prunePoints(insns: Insn[]): Uint8Array {
  const p = new Uint8Array(insns.length + 1);
  for (let pc = 0; pc < insns.length; pc++) {
    const i = insns[pc]!;
    if (i.code === 0x18) { pc++; continue; }
    if (!isJmp(i)) continue;
    const op = i.code & 0xf0;
    if (op === 0x90) continue;
    if (op === 0x80) { if (pc + 1 < insns.length) p[pc + 1] = 1; continue; }
    for (const s of successors(insns, pc)) if (s >= 0 && s < insns.length) p[s] = 1;
  }
  return p;
}

/** Registers read (use) and written (def) by one instruction, as bit masks of r0..r10. */
function useDef(i: Insn): [number, number] {
  const c = CLS(i.code);
  const bit = (r: number) => (r <= 10 ? 1 << r : 0);
  switch (c) {
    case 0: return i.code === 0x18 ? [0, bit(i.dst)] : [bit(6) | bit(i.src), 0x3f];
    case 1: return [bit(i.src), bit(i.dst)];
    case 2: return [bit(i.dst), 0];
    case 3: {
      if ((i.code & 0xe0) === 0xc0) {
        const fetch = (i.imm & 1) !== 0;
        if (i.imm === 0xf1) return [bit(i.dst) | bit(i.src) | 1, 1];
        return [bit(i.dst) | bit(i.src), fetch ? bit(i.src) : 0];
      }
      return [bit(i.dst) | bit(i.src), 0];
    }
    case 4: case 7: {
      const op = i.code & 0xf0;
      const x = (i.code & 0x08) !== 0;
      if (op === 0xb0) return [x ? bit(i.src) : 0, bit(i.dst)];
      return [bit(i.dst) | (x && op !== 0xd0 ? bit(i.src) : 0), bit(i.dst)];
    }
    case 5: case 6: {
      const op = i.code & 0xf0;
      if (op === 0x80) return [0x3e, 0x3f];
      if (op === 0x90) return [1, 0];
      if (op === 0x00 || op === 0xe0) return [0, 0];
      return [bit(i.dst) | ((i.code & 0x08) !== 0 ? bit(i.src) : 0), 0];
    }
  }
  return [0x7ff, 0];
}

/** live[pc]: bit r set when r may be read before written on some path from pc. */
export function liveness(insns: Insn[], _prog: BpfProgram): Uint16Array {
  const n = insns.length;
  const live = new Uint16Array(n + 1);
  const ud = insns.map(useDef);
  let changed = true;
  let rounds = 0;
  while (changed && rounds++ < 1000) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      let out = 0;
      for (const s of successors(insns, pc)) if (s >= 0 && s < n) out |= live[s]!;
      const [use, def] = ud[pc]!;
      const v = (use | (out & ~def)) & 0x7ff;
      if (v !== live[pc]) { live[pc] = v; changed = true; }
    }
  }
  return live;
}
