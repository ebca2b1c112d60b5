// Instruction text exactly as llvm-objdump-19 -d prints it, derived from the opcode table.
// By default the text of a plain `llvm-objdump -d` (no CPU given: sub-word loads/stores shown on
// r registers, 32-bit xchg/cmpxchg as <unknown>); `alu32: true` gives the text of
// `llvm-objdump -d --mcpu=v3` (w registers where the instruction is a 32-bit one).
import type { Insn } from './api';
import { OPS, sizeCType } from './opcodes';
import { ATOMIC_OPS } from './ops/loadstore';
import { CALL_LOCAL } from './ops/call';

export interface FormatOptions {
  /** Jump-target labels by target pc: appended as ` <label>` after the offset, as llvm-objdump
   *  does with its symbolizer (e.g. `LBB0_3` or `f+0x1b0`). Absent: no suffix. */
  labels?: Map<number, string>;
  /** Mimic llvm-objdump --mcpu=v3 (alu32 feature) instead of the default CPU. */
  alu32?: boolean;
}

const hexs = (v: number) => (v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));
const reloff = (v: number) => (v < 0 ? '-0x' + (-v).toString(16) : '+0x' + v.toString(16));
const memref = (r: number, off: number) => `(r${r} ${off < 0 ? '-' : '+'} 0x${Math.abs(off).toString(16)})`;

export function formatInsn(insns: Insn[], pc: number, opts: FormatOptions = {}): string {
  const x = insns[pc];
  if (!x) return '<unknown>';
  const info = OPS[x.code & 0xff];
  if (!info) return '<unknown>';
  const alu32 = opts.alu32 === true;
  const label = (t: number) => (opts.labels?.has(t) ? ` <${opts.labels.get(t)}>` : '');
  const R = info.is64 ? 'r' : 'w';
  switch (info.kind) {
    case 'alu': {
      const dst = `${R}${x.dst}`;
      const src = info.srcReg ? `${R}${x.src}` : hexs(x.imm);
      if (info.name === 'mov') {
        if (info.srcReg && x.off !== 0) return `${dst} = (s${x.off})${R}${x.src}`;
        return `${dst} = ${src}`;
      }
      if ((info.name === 'div' || info.name === 'mod') && x.off === 1) return `${dst} s${info.sym} ${src}`;
      return `${dst} ${info.sym} ${src}`;
    }
    case 'neg':
      return `${R}${x.dst} = -${R}${x.dst}`;
    case 'end':
      return `r${x.dst} = ${info.name}${x.imm} r${x.dst}`;
    case 'ja':
      return info.is64 ? `goto ${reloff(x.off)}${label(pc + 1 + x.off)}` : `gotol ${reloff(x.imm)}${label(pc + 1 + x.imm)}`;
    case 'jcond': {
      const src = info.srcReg ? `${R}${x.src}` : hexs(x.imm);
      return `if ${R}${x.dst} ${info.sym} ${src} goto ${reloff(x.off)}${label(pc + 1 + x.off)}`;
    }
    case 'maygoto':
      return `may_goto ${reloff(x.off)}${label(pc + 1 + x.off)}`;
    case 'call':
      return x.src === CALL_LOCAL || x.src === 0 || x.src === 2 ? `call ${hexs(x.imm)}` : '<unknown>';
    case 'exit':
      return 'exit';
    case 'lddw': {
      const next = insns[pc + 1];
      if (!next) return '<unknown>';
      if (x.src !== 0) return `ld_pseudo\tr${x.dst}, ${hexs(x.src)}, ${hexs(x.imm)}`;
      const v = (BigInt(next.imm >>> 0) << 32n) | BigInt(x.imm >>> 0);
      const sv = BigInt.asIntN(64, v);
      return `r${x.dst} = ${sv < 0n ? "-0x" + (-sv).toString(16) : "0x" + sv.toString(16)} ll`;
    }
    case 'ldx': {
      const w = alu32 && !info.signExt && info.size < 8 ? 'w' : 'r';
      return `${w}${x.dst} = *(${sizeCType(info.size, info.signExt)} *)${memref(x.src, x.off)}`;
    }
    case 'st':
      return `*(${sizeCType(info.size, false)} *)${memref(x.dst, x.off)} = ${hexs(x.imm)}`;
    case 'stx': {
      const w = alu32 && info.size < 8 ? 'w' : 'r';
      return `*(${sizeCType(info.size, false)} *)${memref(x.dst, x.off)} = ${w}${x.src}`;
    }
    case 'atomic': {
      const a = ATOMIC_OPS.find((o) => o.imm === x.imm);
      if (!a) return '<unknown>';
      const is64 = info.size === 8;
      const ty = sizeCType(info.size, false);
      if (!is64 && !alu32) {
        // default CPU (LLVM 19): of the 32-bit atomics only add decodes, and fetch-add shows as it
        if (x.imm === 0x00 || x.imm === 0x01) return `lock *(${ty} *)${memref(x.dst, x.off)} += r${x.src}`;
        return '<unknown>';
      }
      const w = is64 ? 'r' : 'w';
      if (!a.fetch) return `lock *(${ty} *)${memref(x.dst, x.off)} ${a.sym} ${w}${x.src}`;
      if (a.name === 'xchg') return `${w}${x.src} = ${is64 ? 'xchg_64' : 'xchg32_32'}(r${x.dst} ${x.off < 0 ? '-' : '+'} 0x${Math.abs(x.off).toString(16)}, ${w}${x.src})`;
      if (a.name === 'cmpxchg') return `${w}0 = ${is64 ? 'cmpxchg_64' : 'cmpxchg32_32'}(r${x.dst} ${x.off < 0 ? '-' : '+'} 0x${Math.abs(x.off).toString(16)}, ${w}0, ${w}${x.src})`;
      return `${w}${x.src} = ${a.sym}((${ty} *)${memref(x.dst, x.off)}, ${w}${x.src})`;
    }
  }
}
