// Assembler for the bpf_conformance dialect (/work/shared/conformance/README.md), e.g.
//   mov32 %r0, 0      ldxdw %r0, [%r1+2]      lddw %r1, 0x1122334455667788
//   jne %r0, 15, fail   ja +2   call local func1   lock fetch add32 [%r10-8], %r1   may_goto done
// Encodings come from the opcode table (./opcodes). An undefined label `exit` means the first
// exit instruction (the upstream assembler's convention).
import type { Insn } from './api';
import { BPF_CLASS, BPF_X, OPS } from './opcodes';
import { ALU_OPS } from './ops/alu';
import { JMP_OPS, MAY_GOTO } from './ops/jump';
import { ATOMIC_OPS, SIZES, MODE_MEM, MODE_MEMSX, MODE_ATOMIC, LDIMM64_FUNC } from './ops/loadstore';
import { CALL_HELPER, CALL_LOCAL } from './ops/call';

export class AsmError extends Error {
  constructor(readonly line: number, readonly detail: string, readonly file = '<asm>') {
    super(`${file}:${line}: ${detail}`);
    this.name = 'AsmError';
  }
}

const ALU_BY_NAME = new Map<string, number>(ALU_OPS.map((o) => [o.name, o.op]));
const JMP_BY_NAME = new Map<string, number>(JMP_OPS.map((o) => [o.name, o.op]));
const SIZE_BY_NAME = new Map<string, (typeof SIZES)[number]>(SIZES.map((s) => [s.name, s]));
const ATOMIC_BY_NAME = new Map<string, number>(ATOMIC_OPS.map((a) => [a.name, a.imm]));

interface Pending { insn: Insn; line: number; label?: string; field?: 'off' | 'imm' }

function parseReg(tok: string, line: number): number {
  const m = /^%r(\d+)$/.exec(tok.trim());
  if (!m || Number(m[1]) > 10) throw new AsmError(line, `Invalid register '${tok.trim()}' (expected %r0..%r10)`);
  return Number(m[1]);
}

function parseInt64(tok: string, line: number): bigint {
  const t = tok.trim();
  if (!/^[+-]?(0x[0-9a-fA-F]+|\d+)$/.test(t)) throw new AsmError(line, `Invalid immediate '${t}'`);
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  const v = BigInt(body);
  return neg ? -v : v;
}

/** imm32: decimal in [-2^31, 2^31), hex in [0, 2^32) or its negation. */
function parseImm32(tok: string, line: number): number {
  const t = tok.trim();
  const v = parseInt64(t, line);
  const isHex = /0x/i.test(t);
  const ok = isHex ? v >= -(1n << 31n) && v < 1n << 32n : v >= -(1n << 31n) && v < 1n << 31n;
  if (!ok) throw new AsmError(line, `Invalid immediate '${t}': out of 32-bit range`);
  return Number(BigInt.asIntN(32, v));
}

function parseMem(tok: string, line: number): { reg: number; off: number } {
  const m = /^\[\s*(%r\d+)\s*(?:([+-])\s*(0x[0-9a-fA-F]+|\d+))?\s*\]$/.exec(tok.trim());
  if (!m) throw new AsmError(line, `Invalid memory operand '${tok.trim()}' (expected [%rN+off])`);
  const reg = parseReg(m[1], line);
  let off = m[3] ? Number(BigInt(m[3])) : 0;
  if (m[2] === '-') off = -off;
  if (off < -32768 || off > 32767) throw new AsmError(line, `Invalid offset ${off}: out of 16-bit range`);
  return { reg, off };
}

const isReg = (t: string) => /^%/.test(t.trim());

function ins(code: number, dst = 0, src = 0, off = 0, imm = 0): Insn {
  return { code, dst, src, off, imm };
}

/** Assemble conformance-dialect text. Throws AsmError naming the line. */
export function assemble(text: string, file = '<asm>'): Insn[] {
  const out: Pending[] = [];
  const labels = new Map<string, number>();
  let firstExit = -1;
  const lines = text.split(/\r?\n/);
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    let line = lines[li];
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    line = line.trim();
    if (!line) continue;
    const lm = /^([A-Za-z_.][\w.]*):\s*(.*)$/.exec(line);
    if (lm) {
      if (labels.has(lm[1])) throw new AsmError(lineNo, `label '${lm[1]}' defined twice`, file);
      labels.set(lm[1], out.length);
      line = lm[2].trim();
      if (!line) continue;
    }
    const sp = line.search(/\s/);
    const mnem = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : line.slice(sp + 1).trim();
    const ops = rest ? splitOperands(rest) : [];
    try {
      encodeLine(mnem, ops, lineNo, out);
    } catch (e) {
      if (e instanceof AsmError) throw new AsmError(e.line, e.detail, file);
      throw e;
    }
    if (mnem === 'exit' && firstExit < 0) firstExit = out.length - 1;
  }
  if (firstExit >= 0 && !labels.has('exit')) labels.set('exit', firstExit);
  // slot indices (ld_imm64 takes two)
  const slotOf: number[] = [];
  let slot = 0;
  for (const p of out) { slotOf.push(slot); slot += p.insn.code === 0x18 ? 2 : 1; }
  slotOf.push(slot);
  const insns: Insn[] = [];
  out.forEach((p, i) => {
    if (p.label !== undefined) {
      const li = labels.get(p.label);
      if (li === undefined) throw new AsmError(p.line, `Invalid label '${p.label}': not defined`, file);
      const rel = slotOf[li] - (slotOf[i] + 1);
      if (p.field === 'imm') p.insn.imm = rel;
      else {
        if (rel < -32768 || rel > 32767) throw new AsmError(p.line, `jump to '${p.label}' is too far for a 16-bit offset`, file);
        p.insn.off = rel;
      }
    }
    insns.push(p.insn);
    if (p.insn.code === 0x18) insns.push((p as Pending & { hi: Insn }).hi);
  });
  return insns;
}

function splitOperands(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) { out.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function need(mnem: string, ops: string[], n: number, line: number): void {
  if (ops.length !== n) throw new AsmError(line, `Invalid number of operands for ${mnem}: ${ops.length} (expected ${n})`);
}

function target(tok: string, line: number, p: Pending, field: 'off' | 'imm'): void {
  const t = tok.trim();
  if (/^[+-]?(0x[0-9a-fA-F]+|\d+)$/.test(t)) {
    const v = Number(parseInt64(t, line));
    if (field === 'off') {
      if (v < -32768 || v > 32767) throw new AsmError(line, `Invalid offset ${t}: out of 16-bit range`);
      p.insn.off = v;
    } else p.insn.imm = v | 0;
    return;
  }
  if (!/^[A-Za-z_.][\w.]*$/.test(t)) throw new AsmError(line, `Invalid jump target '${t}'`);
  p.label = t;
  p.field = field;
}

function encodeLine(mnem: string, ops: string[], line: number, out: Pending[]): void {
  const push = (insn: Insn): Pending => { const p = { insn, line }; out.push(p); return p; };
  // ALU: add, add32, sdiv, smod32, neg, movsx832 ...
  let m = /^(movsx)(8|16|32)(32|64)$/.exec(mnem);
  if (m) {
    need(mnem, ops, 2, line);
    const cls = m[3] === '64' ? BPF_CLASS.ALU64 : BPF_CLASS.ALU;
    push(ins(0xb0 | BPF_X | cls, parseReg(ops[0], line), parseReg(ops[1], line), Number(m[2])));
    return;
  }
  m = /^(add|sub|mul|div|or|and|lsh|rsh|neg|mod|xor|mov|arsh|sdiv|smod)(32)?$/.exec(mnem);
  if (m) {
    const cls = m[2] ? BPF_CLASS.ALU : BPF_CLASS.ALU64;
    const signed = m[1] === 'sdiv' || m[1] === 'smod';
    const op = ALU_BY_NAME.get(signed ? m[1].slice(1) : m[1])!;
    if (m[1] === 'neg') { need(mnem, ops, 1, line); push(ins(op | cls, parseReg(ops[0], line))); return; }
    need(mnem, ops, 2, line);
    const dst = parseReg(ops[0], line);
    if (isReg(ops[1])) push(ins(op | BPF_X | cls, dst, parseReg(ops[1], line), signed ? 1 : 0));
    else push(ins(op | cls, dst, 0, signed ? 1 : 0, parseImm32(ops[1], line)));
    return;
  }
  m = /^(le|be|bswap|swap)(16|32|64)$/.exec(mnem);
  if (m) {
    need(mnem, ops, 1, line);
    const code = m[1] === 'le' ? 0xd4 : m[1] === 'be' ? 0xdc : 0xd7;
    push(ins(code, parseReg(ops[0], line), 0, 0, Number(m[2])));
    return;
  }
  m = /^ldx(s?)(b|h|w|dw)$/.exec(mnem);
  if (m) {
    need(mnem, ops, 2, line);
    const sz = SIZE_BY_NAME.get(m[2])!;
    if (m[1] && sz.bytes === 8) throw new AsmError(line, `Invalid mnemonic '${mnem}'`);
    const mem = parseMem(ops[1], line);
    push(ins(BPF_CLASS.LDX | (m[1] ? MODE_MEMSX : MODE_MEM) | sz.size, parseReg(ops[0], line), mem.reg, mem.off));
    return;
  }
  m = /^(st|stx)(b|h|w|dw)$/.exec(mnem);
  if (m) {
    need(mnem, ops, 2, line);
    const sz = SIZE_BY_NAME.get(m[2])!;
    const mem = parseMem(ops[0], line);
    if (m[1] === 'st') push(ins(BPF_CLASS.ST | MODE_MEM | sz.size, mem.reg, 0, mem.off, parseImm32(ops[1], line)));
    else push(ins(BPF_CLASS.STX | MODE_MEM | sz.size, mem.reg, parseReg(ops[1], line), mem.off));
    return;
  }
  if (mnem === 'lddw') {
    need(mnem, ops, 2, line);
    if (/^func\s+/.test(ops[1])) { // lddw %rN, func LABEL: the address of a function (ld_imm64 src=4, BPF_PSEUDO_FUNC)
      const p = push(ins(0x18, parseReg(ops[0], line), LDIMM64_FUNC));
      (p as Pending & { hi: Insn }).hi = ins(0, 0, 0, 0, 0);
      target(ops[1].replace(/^func\s+/, ''), line, p, 'imm');
      return;
    }
    const v = parseInt64(ops[1], line);
    if (v < -(1n << 63n) || v >= 1n << 64n) throw new AsmError(line, `Invalid immediate '${ops[1]}': out of 64-bit range`);
    const u = BigInt.asUintN(64, v);
    const p = push(ins(0x18, parseReg(ops[0], line), 0, 0, Number(BigInt.asIntN(32, u & 0xffffffffn))));
    (p as Pending & { hi: Insn }).hi = ins(0, 0, 0, 0, Number(BigInt.asIntN(32, u >> 32n)));
    return;
  }
  if (mnem === 'may_goto') { // BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO (0): not in the upstream dialect, named as llvm-objdump names it
    need(mnem, ops, 1, line);
    target(ops[0], line, push(ins(MAY_GOTO)), 'off');
    return;
  }
  if (mnem === 'ja' || mnem === 'ja32') {
    need(mnem, ops, 1, line);
    const p = push(ins(mnem === 'ja' ? 0x05 : 0x06));
    target(ops[0], line, p, mnem === 'ja' ? 'off' : 'imm');
    return;
  }
  m = /^(jeq|jgt|jge|jset|jne|jsgt|jsge|jlt|jle|jslt|jsle)(32)?$/.exec(mnem);
  if (m) {
    need(mnem, ops, 3, line);
    const cls = m[2] ? BPF_CLASS.JMP32 : BPF_CLASS.JMP;
    const op = JMP_BY_NAME.get(m[1])!;
    const dst = parseReg(ops[0], line);
    const p = isReg(ops[1])
      ? push(ins(op | BPF_X | cls, dst, parseReg(ops[1], line)))
      : push(ins(op | cls, dst, 0, 0, parseImm32(ops[1], line)));
    target(ops[2], line, p, 'off');
    return;
  }
  if (mnem === 'call') {
    if (ops.length === 1 && /^local\s+/.test(ops[0])) {
      const p = push(ins(0x85, 0, CALL_LOCAL));
      target(ops[0].replace(/^local\s+/, ''), line, p, 'imm');
      return;
    }
    need(mnem, ops, 1, line);
    if (isReg(ops[0])) { push(ins(0x8d, parseReg(ops[0], line))); return; } // callx: rejected by the validator
    push(ins(0x85, 0, CALL_HELPER, 0, parseImm32(ops[0], line)));
    return;
  }
  if (mnem === 'exit') { need(mnem, ops, 0, line); push(ins(0x95)); return; }
  if (mnem === 'lock') {
    // lock [fetch] <op>[32] [%rD+off], %rS — the first operand holds "[fetch] op [mem]"
    if (ops.length !== 2) throw new AsmError(line, `Invalid number of operands for lock (expected: lock [fetch] op [%rN+off], %rM)`);
    const mm = /^(fetch\s+)?(add|or|and|xor|xchg|cmpxchg)(32)?\s+(\[.*\])$/.exec(ops[0]);
    if (!mm) throw new AsmError(line, `Invalid lock operation '${ops[0]}'`);
    let name = mm[2];
    if (mm[1]) { if (name === 'xchg' || name === 'cmpxchg') throw new AsmError(line, `Invalid lock operation 'fetch ${name}'`); name = 'fetch ' + name; }
    const imm = ATOMIC_BY_NAME.get(name)!;
    const mem = parseMem(mm[4], line);
    const size = mm[3] ? 0x00 : 0x18;
    push(ins(BPF_CLASS.STX | MODE_ATOMIC | size, mem.reg, parseReg(ops[1], line), mem.off, imm));
    return;
  }
  throw new AsmError(line, `Invalid mnemonic '${mnem}'`);
}

/** Used by tests: every opcode the assembler can produce exists in the table. */
export function assemblerCovers(code: number): boolean { return OPS[code] !== undefined; }
