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

/** Bits of prunePoints(). */
export const PRUNE = 1, FORCE_CHECKPOINT = 2, JMP_POINT = 4;
/** Helpers that call a callback synchronously (bpf_is_sync_callback_calling_insn): bpf_for_each_map_elem,
 *  bpf_find_vma, bpf_loop, bpf_user_ringbuf_drain. */
export const SYNC_CALLBACK_HELPERS = new Set([164, 180, 181, 209]);

/** Per insn, as kernel/bpf/cfg.c visit_insn marks them: PRUNE (is_state_visited runs there) on
 *  conditional jumps themselves, their targets, `ja` targets, return sites of calls, bpf-to-bpf
 *  calls and their callees, callback-calling helper calls; FORCE_CHECKPOINT on may_goto and
 *  callback-calling calls; JMP_POINT where the walk arrives non-linearly (branch targets, call
 *  return sites). */
export function prunePoints(insns: Insn[]): Uint8Array {
  const n = insns.length;
  const p = new Uint8Array(n + 1);
  const mark = (t: number, bits: number) => { if (t >= 0 && t < n) p[t]! |= bits; };
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    if (i.code === 0x18) {
      if (i.src === 4) { mark(pc + 2, PRUNE | JMP_POINT); mark(pc, PRUNE); mark(pc + 1 + i.imm, PRUNE | JMP_POINT); }
      pc++;
      continue;
    }
    if (!isJmp(i)) continue;
    const op = i.code & 0xf0;
    if (op === 0x90) continue;
    if (op === 0x80) {
      mark(pc + 1, PRUNE | JMP_POINT);
      if (i.src === 1) { mark(pc, PRUNE); mark(pc + 1 + i.imm, PRUNE | JMP_POINT); }
      else if (i.src === 0 && SYNC_CALLBACK_HELPERS.has(i.imm)) mark(pc, PRUNE | FORCE_CHECKPOINT | JMP_POINT);
      continue;
    }
    if (op === 0x00) { mark(pc + 1 + (i.code === 0x06 ? i.imm : i.off), PRUNE | JMP_POINT); continue; }
    mark(pc, PRUNE | (op === 0xe0 ? FORCE_CHECKPOINT : 0));
    mark(pc + 1 + i.off, PRUNE | JMP_POINT);
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

/** Strongly connected components of the instruction graph (kernel/bpf/cfg.c compute_scc: calls
 *  fall through, each function on its own): per insn the id (from 1) of the loop it is part of,
 *  0 when it is in none. Iterative Tarjan. */
export function loopSccs(insns: Insn[]): Int32Array {
  const n = insns.length;
  const scc = new Int32Array(n);
  const index = new Int32Array(n).fill(-1), low = new Int32Array(n), onStack = new Uint8Array(n);
  const stack: number[] = [];
  let next = 0, ids = 0;
  const succ = (pc: number) => (insns[pc] ? successors(insns, pc).filter((s) => s >= 0 && s < n) : []);
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || (root > 0 && insns[root - 1]?.code === 0x18)) continue;
    const work: { v: number; s: number[]; i: number }[] = [{ v: root, s: succ(root), i: 0 }];
    index[root] = low[root] = next++; stack.push(root); onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1]!;
      if (top.i < top.s.length) {
        const w = top.s[top.i++]!;
        if (index[w] === -1) {
          index[w] = low[w] = next++; stack.push(w); onStack[w] = 1;
          work.push({ v: w, s: succ(w), i: 0 });
        } else if (onStack[w]) low[top.v] = Math.min(low[top.v]!, index[w]!);
        continue;
      }
      work.pop();
      const v = top.v;
      if (work.length) { const u = work[work.length - 1]!.v; low[u] = Math.min(low[u]!, low[v]!); }
      if (low[v] !== index[v]) continue;
      const members: number[] = [];
      let w: number;
      do { w = stack.pop()!; onStack[w] = 0; members.push(w); } while (w !== v);
      const selfLoop = members.length === 1 && top.s.includes(v);
      if (members.length > 1 || selfLoop) { ids++; for (const m of members) scc[m] = ids; }
    }
  }
  return scc;
}
