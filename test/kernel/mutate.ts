// The verifier's mutation corpus (issue 11): programs made by changing real hooks the kernel
// accepts, one plausible mistake at a time, in the object file itself (same length, so BTF line
// and func info, relocations and CO-RE records stay valid, and libbpf loads it as it loads the
// original). Operators: drop a NULL check, widen a bound, shift an offset, swap a helper argument,
// remove an initialisation, unbound a loop. Deterministic from (bases, count, seed); a mutation is
// stored as its slot edits so a recorded kernel verdict can be matched to it without a kernel.
import { collectFuncs, parseElf, parseBtf, parseBtfExt, ByteView } from '../../debugger/object';

export type MutOp = 'drop-null-check' | 'widen-bound' | 'shift-offset' | 'swap-helper-arg' | 'remove-init' | 'unbound-loop';
export const MUT_OPS: MutOp[] = ['drop-null-check', 'widen-bound', 'shift-offset', 'swap-helper-arg', 'remove-init', 'unbound-loop'];

export interface Base { file: string; program: string; bytes: Uint8Array }
/** One slot edit: the section's byte offset in the file + 8*slot gets the 8 bytes `hex`. */
export interface Edit { at: number; hex: string }
export interface Mutant { base: number; op: MutOp; edits: Edit[] }

interface Slot { code: number; dst: number; src: number; off: number; imm: number }
const decode = (b: Uint8Array, o: number): Slot => {
  const dv = new DataView(b.buffer, b.byteOffset + o, 8);
  return { code: b[o]!, dst: b[o + 1]! & 0xf, src: b[o + 1]! >> 4, off: dv.getInt16(2, true), imm: dv.getInt32(4, true) };
};
const encode = (s: Slot): string => {
  const b = Buffer.alloc(8);
  b[0] = s.code; b[1] = (s.dst & 0xf) | ((s.src & 0xf) << 4); b.writeInt16LE(s.off, 2); b.writeInt32LE(s.imm | 0, 4);
  return b.toString('hex');
};
const NOP: Slot = { code: 0x05, dst: 0, src: 0, off: 0, imm: 0 }; // ja +0

/** The entry function's slots that may be edited: no relocation, no CO-RE record, no ld_imm64. */
const slotCache = new WeakMap<Base, { fileOff: number; slots: Slot[]; editable: boolean[] }>();
export function editableSlots(base: Base): { fileOff: number; slots: Slot[]; editable: boolean[] } {
  let r = slotCache.get(base);
  if (!r) slotCache.set(base, (r = readSlots(base)));
  return r;
}

function readSlots(base: Base): { fileOff: number; slots: Slot[]; editable: boolean[] } {
  const elf = parseElf(new ByteView(base.bytes, base.file));
  const funcs = collectFuncs(elf);
  let fn;
  for (const [, list] of funcs) for (const f of list) if (f.name === base.program && f.sec.name !== '.text') fn = f;
  if (!fn) throw new Error(`${base.file}: no program ${base.program}`);
  const sec = fn.sec;
  const relocated = new Set((elf.rels.get(sec.index) ?? []).map((r) => r.offset));
  const btfSec = elf.sections.find((s) => s.name === '.BTF');
  const extSec = elf.sections.find((s) => s.name === '.BTF.ext');
  if (btfSec && extSec) {
    const btf = parseBtf(btfSec.data, base.file);
    const ext = parseBtfExt(extSec.data, btf, base.file);
    for (const r of ext.coreRelo.get(sec.name) ?? []) relocated.add(r.insnOff);
  }
  const slots: Slot[] = [];
  const editable: boolean[] = [];
  for (let s = fn.start; s < fn.end; s++) {
    const o = s * 8;
    const x = decode(sec.data, o);
    slots.push(x);
    editable.push(!relocated.has(o));
  }
  // both halves of ld_imm64 are fixed
  for (let i = 0; i < slots.length; i++) if (slots[i]!.code === 0x18) { editable[i] = false; if (i + 1 < slots.length) editable[i + 1] = false; i++; }
  return { fileOff: sec.offset + fn.start * 8, slots, editable };
}

const CLS = (c: number) => c & 7;
const isCondK = (s: Slot) => (CLS(s.code) === 5 || CLS(s.code) === 6) && (s.code & 0x08) === 0 && ![0x00, 0x80, 0x90, 0xe0].includes(s.code & 0xf0);
const RANGE_OPS = [0x20, 0x30, 0xa0, 0xb0, 0x60, 0x70, 0xc0, 0xd0]; // jgt jge jlt jle jsgt jsge jslt jsle

/** Every candidate edit of `op` on the base, each a list of slot edits (deterministic order). */
export function candidates(base: Base, op: MutOp, rnd: () => number): Edit[][] {
  const { fileOff, slots, editable } = editableSlots(base);
  const out: Edit[][] = [];
  const at = (i: number) => fileOff + i * 8;
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  for (let i = 0; i < slots.length; i++) {
    if (!editable[i]) continue;
    const s = slots[i]!;
    switch (op) {
      case 'drop-null-check':
        // the test stays but no longer tests NULL (imm 1), or is gone (falls through / always jumps)
        if ((s.code === 0x15 || s.code === 0x55) && s.imm === 0) {
          out.push([{ at: at(i), hex: encode({ ...s, imm: 1 }) }]);
          out.push([{ at: at(i), hex: encode(NOP) }]);
          out.push([{ at: at(i), hex: encode({ code: 0x05, dst: 0, src: 0, off: s.off, imm: 0 }) }]);
        }
        break;
      case 'widen-bound':
        if (isCondK(s) && RANGE_OPS.includes(s.code & 0xf0)) {
          const d = pick([1, 2, 3, 4, 8, 16, 64, 1000, Math.max(1, Math.abs(s.imm))]);
          out.push([{ at: at(i), hex: encode({ ...s, imm: s.imm + d }) }]);
        }
        break;
      case 'shift-offset': {
        const mem = (CLS(s.code) === 1 || CLS(s.code) === 2 || CLS(s.code) === 3) && (s.code & 0xe0) === 0x60;
        const d = pick([-16, -8, -6, -4, -3, -2, -1, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64]);
        if (mem) out.push([{ at: at(i), hex: encode({ ...s, off: s.off + d }) }]);
        else if (s.code === 0x07 && s.imm !== 0) out.push([{ at: at(i), hex: encode({ ...s, imm: s.imm + d }) }]);
        break;
      }
      case 'swap-helper-arg':
        if (s.code === 0x85 && s.src === 0) {
          const movs: number[] = [];
          for (let j = Math.max(0, i - 8); j < i; j++) {
            const m = slots[j]!;
            if (editable[j] && (m.code === 0xbf || m.code === 0xb7) && m.dst >= 1 && m.dst <= 5) movs.push(j);
          }
          for (let a = 0; a < movs.length; a++) for (let b = a + 1; b < movs.length; b++) {
            const x = slots[movs[a]!]!, y = slots[movs[b]!]!;
            if (x.dst === y.dst) continue;
            out.push([{ at: at(movs[a]!), hex: encode({ ...x, dst: y.dst }) }, { at: at(movs[b]!), hex: encode({ ...y, dst: x.dst }) }]);
          }
        }
        break;
      case 'remove-init': {
        const mov = s.code === 0xb7 || s.code === 0xbf || s.code === 0xb4 || s.code === 0xbc;
        const stackStore = (CLS(s.code) === 2 || CLS(s.code) === 3) && (s.code & 0xe0) === 0x60 && s.dst === 10;
        if (mov || stackStore) out.push([{ at: at(i), hex: encode(NOP) }]);
        break;
      }
      case 'unbound-loop':
        if ((CLS(s.code) === 5 || CLS(s.code) === 6) && s.off < 0 && ![0x80, 0x90].includes(s.code & 0xf0)) {
          if (isCondK(s)) out.push([{ at: at(i), hex: encode({ ...s, imm: pick([0x7fffffff, s.imm * 1000 + 1000]) }) }]);
          out.push([{ at: at(i), hex: encode({ ...s, code: 0x05, dst: 0, src: 0, imm: 0 }) }]);
        }
        break;
    }
  }
  return out;
}

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to `count` distinct mutants over the bases, round-robin over bases and operators. */
export function generateCorpus(bases: Base[], count: number, seed: number): Mutant[] {
  const rnd = prng(seed);
  const seen = new Set<string>();
  const out: Mutant[] = [];
  const pools = new Map<string, Edit[][]>();
  let misses = 0;
  for (let k = 0; out.length < count && misses < count * 20; k++) {
    const b = k % bases.length;
    const op = MUT_OPS[Math.floor(k / bases.length) % MUT_OPS.length]!;
    const key = `${b}/${op}`;
    // candidates drawn fresh each round so random deltas differ; sites stay the same
    let pool = pools.get(key);
    if (!pool || rnd() < 0.5) { pool = candidates(bases[b]!, op, rnd); pools.set(key, pool); }
    if (pool.length === 0) { misses++; continue; }
    let edits = pool[Math.floor(rnd() * pool.length)]!;
    // one mutant in four makes a second, different mistake elsewhere in the same hook
    if (rnd() < 0.25) {
      const op2 = MUT_OPS[Math.floor(rnd() * MUT_OPS.length)]!;
      const more = candidates(bases[b]!, op2, rnd).filter((x) => x.every((e) => edits.every((f) => f.at !== e.at)));
      if (more.length) edits = [...edits, ...more[Math.floor(rnd() * more.length)]!];
    }
    const id = `${b}:${edits.map((e) => `${e.at}=${e.hex}`).join(',')}`;
    if (seen.has(id)) { misses++; continue; }
    seen.add(id);
    out.push({ base: b, op, edits });
  }
  return out;
}

export function applyMutant(base: Base, m: Mutant): Uint8Array {
  const b = Uint8Array.from(base.bytes);
  for (const e of m.edits) b.set(Buffer.from(e.hex, 'hex'), e.at);
  return b;
}
