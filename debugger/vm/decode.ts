// Decoding and validation shared by the interpreter, the fast tier and the disassembler.
// Validation mirrors the structural checks of the kernel verifier (kernel/bpf/verifier.c: "jump
// out of range from insn %d to %d" and "last insn is not an exit or jmp" in the subprog checks,
// the "reserved fields" and "unknown opcode" rejections, "R%d !read_ok" and "frame pointer is read
// only" in check_reg_arg), not its value tracking. Helper calls clobber r1-r5 (caller-saved).
import type { Insn } from './api';
import { OPS, type OpInfo } from './opcodes';
import { ALU_OPS } from './ops/alu';
import { ATOMIC_OPS, LDIMM64_FUNC, LDIMM64_SRC_NAMES } from './ops/loadstore';
import { CALL_HELPER, CALL_KFUNC, CALL_LOCAL } from './ops/call';

export class ValidationError extends Error {
  constructor(readonly pc: number, readonly detail: string) {
    super(`insn ${pc}: ${detail}`);
    this.name = 'ValidationError';
  }
}

export interface ValidateOptions {
  /** Start pcs of functions known to the caller (entry first); call targets are added. */
  funcStarts?: number[];
  /** Registers defined at entry (default r1 and r10, as for every kernel program type). */
  entryRegs?: number[];
  /** Reject reads of registers never written on some path (kernel "R%d !read_ok"). Default true. */
  checkUninit?: boolean;
}

const ATOMIC_IMMS = new Set<number>(ATOMIC_OPS.map((a) => a.imm));
const ALU_NAME = new Map<number, string>(ALU_OPS.map((o) => [o.op, o.name]));

/** Little-endian 8-byte slots into Insn objects. Throws on a length not a multiple of 8. */
export function decodeBytes(bytes: Uint8Array, what = 'program'): Insn[] {
  if (bytes.length % 8 !== 0) {
    throw new ValidationError(Math.floor(bytes.length / 8), `${what}: ${bytes.length} bytes is not a whole number of 8-byte instructions`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    const regs = bytes[i + 1];
    out.push({ code: bytes[i], dst: regs & 0xf, src: regs >> 4, off: dv.getInt16(i + 2, true), imm: dv.getInt32(i + 4, true) });
  }
  return out;
}

export function encodeInsns(insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const dv = new DataView(out.buffer);
  insns.forEach((x, k) => {
    const i = k * 8;
    out[i] = x.code & 0xff;
    out[i + 1] = (x.dst & 0xf) | ((x.src & 0xf) << 4);
    dv.setInt16(i + 2, x.off, true);
    dv.setInt32(i + 4, x.imm | 0, true);
  });
  return out;
}

const hex = (n: number) => '0x' + (n & 0xff).toString(16).padStart(2, '0');

/** Every problem found, in pc order (empty when the program is valid). */
export function validate(insns: Insn[], opts: ValidateOptions = {}): ValidationError[] {
  const errs: ValidationError[] = [];
  const n = insns.length;
  if (n === 0) return [new ValidationError(0, 'the program has no instructions')];
  const second = new Uint8Array(n); // 1 = second slot of an ld_imm64
  const err = (pc: number, msg: string) => errs.push(new ValidationError(pc, msg));

  // pass 1: per-instruction shape
  const funcSet = new Set<number>([0, ...(opts.funcStarts ?? [])]);
  for (let pc = 0; pc < n; pc++) {
    if (second[pc]) continue;
    const x = insns[pc];
    const info = OPS[x.code & 0xff];
    if (!info) { err(pc, unknownOpcodeText(x)); continue; }
    const msg = checkShape(x, info);
    if (msg) { err(pc, msg); continue; }
    if (info.kind === 'lddw') {
      if (pc + 1 >= n) { err(pc, 'ld_imm64 is truncated: its second 8-byte slot is missing'); continue; }
      const y = insns[pc + 1];
      second[pc + 1] = 1;
      if (y.code !== 0 || y.dst !== 0 || y.src !== 0 || y.off !== 0) {
        err(pc, `ld_imm64's second slot (insn ${pc + 1}) must have code, regs and off zero (has code ${hex(y.code)})`);
      }
    }
    if (info.kind === 'call' && x.src === CALL_LOCAL) funcSet.add(pc + 1 + x.imm);
    if (info.kind === 'lddw' && x.src === LDIMM64_FUNC) funcSet.add(pc + 1 + x.imm); // a callback is a function
  }
  if (errs.length) return errs;

  // pass 2: control flow targets and function boundaries
  // out-of-range call targets are reported at the call below
  const funcs = [...funcSet].filter((f) => f >= 0 && f < n && !second[f]).sort((a, b) => a - b);
  const funcOf = new Int32Array(n);
  { let fi = 0; for (let pc = 0; pc < n; pc++) { while (fi + 1 < funcs.length && funcs[fi + 1] <= pc) fi++; funcOf[pc] = fi; } }
  for (let pc = 0; pc < n; pc++) {
    if (second[pc]) continue;
    const x = insns[pc];
    const info = OPS[x.code & 0xff]!;
    if (info.kind === 'call' && x.src === CALL_LOCAL) {
      const t = pc + 1 + x.imm;
      if (t < 0 || t >= n) err(pc, `call to a local function at insn ${t}, outside the program (0..${n - 1})`);
      else if (second[t]) err(pc, `call into the middle of the ld_imm64 at insn ${t - 1}`);
      continue;
    }
    if (info.kind === 'lddw' && x.src === LDIMM64_FUNC) {
      const t = pc + 1 + x.imm;
      if (t < 0 || t >= n) err(pc, `ld_imm64 of a function address (src=4) names insn ${t}, outside the program (0..${n - 1})`);
      else if (second[t]) err(pc, `ld_imm64 of a function address (src=4) names the middle of the ld_imm64 at insn ${t - 1}`);
      continue;
    }
    if (info.kind === 'ja' || info.kind === 'jcond' || info.kind === 'maygoto') {
      const t = pc + 1 + (info.kind === 'ja' && !info.is64 ? x.imm : x.off);
      if (t < 0 || t >= n) err(pc, `jump to insn ${t} is out of range (program has ${n} slots)`);
      else if (second[t]) err(pc, `jump into the middle of the ld_imm64 at insn ${t - 1}`);
      else if (funcOf[t] !== funcOf[pc]) err(pc, `jump out of function: from insn ${pc} to insn ${t} in another function`);
    }
  }
  // the last insn of every function must not fall through (kernel: "last insn is not an exit or jmp")
  for (let fi = 0; fi < funcs.length; fi++) {
    const end = fi + 1 < funcs.length ? funcs[fi + 1] : n;
    let last = end - 1;
    if (last >= 0 && second[last]) last--;
    const x = insns[last];
    const info = OPS[x.code & 0xff]!;
    if (!(info.kind === 'exit' || info.kind === 'ja')) {
      err(last, fi === funcs.length - 1 && end === n
        ? 'the last instruction can fall off the end of the program (it must be exit or an unconditional jump)'
        : `the last instruction of the function at insn ${funcs[fi]} can fall into the next function (it must be exit or an unconditional jump)`);
    }
  }
  if (errs.length) return errs;
  if (opts.checkUninit !== false) checkUninit(insns, second, funcs, opts.entryRegs ?? [1, 10], errs);
  return errs.sort((a, b) => a.pc - b.pc);
}

/** Throws the first validation error. */
export function assertValid(insns: Insn[], opts?: ValidateOptions): void {
  const e = validate(insns, opts);
  if (e.length) throw e[0];
}

function unknownOpcodeText(x: Insn): string {
  const c = x.code & 0xff;
  if (c === 0x8d) return `unknown opcode ${hex(c)} (callx, call by register, is not supported)`;
  if ((c & 7) === 0 && c !== 0x18) return `unknown opcode ${hex(c)} (legacy LD_ABS/LD_IND packet access, not valid here)`;
  return `unknown opcode ${hex(c)}`;
}

function badReg(r: number): boolean { return r > 10; }

/** Reserved-field and register checks for one insn; null when fine. */
function checkShape(x: Insn, info: OpInfo): string | null {
  const name = info.name;
  const field = (f: string, v: number) => `${describe(x, info)} uses reserved field ${f} (= ${v}, must be 0)`;
  if (badReg(x.dst)) return `Invalid register r${x.dst} as dst (registers are r0..r10)`;
  switch (info.kind) {
    case 'alu': {
      if (badReg(x.src) && info.srcReg) return `Invalid register r${x.src} as src (registers are r0..r10)`;
      if (!info.srcReg && x.src !== 0) return field('src', x.src);
      if (info.srcReg && x.imm !== 0) return field('imm', x.imm);
      if (x.off !== 0) {
        const ok =
          ((name === 'div' || name === 'mod') && x.off === 1) ||
          (name === 'mov' && info.srcReg && (info.is64 ? [8, 16, 32] : [8, 16]).includes(x.off));
        if (!ok) return field('off', x.off);
      }
      if (x.dst === 10) return 'write to r10, the read-only frame pointer';
      return null;
    }
    case 'neg':
      if (x.src !== 0) return field('src', x.src);
      if (x.off !== 0) return field('off', x.off);
      if (x.imm !== 0) return field('imm', x.imm);
      if (x.dst === 10) return 'write to r10, the read-only frame pointer';
      return null;
    case 'end':
      if (x.src !== 0) return field('src', x.src);
      if (x.off !== 0) return field('off', x.off);
      if (x.imm !== 16 && x.imm !== 32 && x.imm !== 64) return `${describe(x, info)} with width ${x.imm} (must be 16, 32 or 64)`;
      if (x.dst === 10) return 'write to r10, the read-only frame pointer';
      return null;
    case 'ja':
      if (x.dst !== 0) return field('dst', x.dst);
      if (x.src !== 0) return field('src', x.src);
      if (info.is64 && x.imm !== 0) return field('imm', x.imm);
      if (!info.is64 && x.off !== 0) return field('off', x.off);
      return null;
    case 'jcond':
      if (info.srcReg && badReg(x.src)) return `Invalid register r${x.src} as src (registers are r0..r10)`;
      if (!info.srcReg && x.src !== 0) return field('src', x.src);
      if (info.srcReg && x.imm !== 0) return field('imm', x.imm);
      return null;
    case 'maygoto': // kernel/bpf/verifier.c check_jmp_op, case BPF_JCOND: "invalid may_goto imm %d"
      if (x.dst !== 0) return field('dst', x.dst);
      if (x.src !== 0) return `${describe(x, info)} with src=${x.src}: the only conditional pseudo jump is may_goto (src 0, BPF_MAY_GOTO)`;
      if (x.imm !== 0) return `invalid may_goto imm ${x.imm} (imm must be 0)`;
      return null;
    case 'call':
      if (x.dst !== 0) return field('dst', x.dst);
      if (x.off !== 0) return field('off', x.off);
      if (x.src !== CALL_HELPER && x.src !== CALL_LOCAL && x.src !== CALL_KFUNC) return `call with src=${x.src} (must be 0 helper, 1 bpf-to-bpf or 2 kfunc)`;
      if (x.src === CALL_HELPER && x.imm < 0) return `call of helper #${x.imm}: helper ids are not negative`;
      return null;
    case 'exit':
      if (x.dst !== 0) return field('dst', x.dst);
      if (x.src !== 0) return field('src', x.src);
      if (x.off !== 0) return field('off', x.off);
      if (x.imm !== 0) return field('imm', x.imm);
      return null;
    case 'lddw':
      if (x.off !== 0) return field('off', x.off);
      if (!(x.src in LDIMM64_SRC_NAMES)) return `ld_imm64 with src=${x.src} (unknown pseudo form)`;
      if (x.dst === 10) return 'write to r10, the read-only frame pointer';
      return null;
    case 'ldx':
      if (badReg(x.src)) return `Invalid register r${x.src} as src (registers are r0..r10)`;
      if (x.imm !== 0) return field('imm', x.imm);
      if (x.dst === 10) return 'write to r10, the read-only frame pointer';
      return null;
    case 'st':
      if (x.src !== 0) return field('src', x.src);
      return null;
    case 'stx':
      if (badReg(x.src)) return `Invalid register r${x.src} as src (registers are r0..r10)`;
      if (x.imm !== 0) return field('imm', x.imm);
      return null;
    case 'atomic':
      if (badReg(x.src)) return `Invalid register r${x.src} as src (registers are r0..r10)`;
      if (!ATOMIC_IMMS.has(x.imm)) return `atomic operation with imm ${'0x' + (x.imm >>> 0).toString(16)} is unknown (add/or/and/xor [|fetch], xchg, cmpxchg)`;
      if ((x.imm & 1) && x.src === 10) return 'atomic fetch into r10, the read-only frame pointer';
      return null;
  }
}

function describe(x: Insn, info: OpInfo): string {
  const base = info.kind === 'alu' ? (ALU_NAME.get(x.code & 0xf0) ?? info.name) + (info.is64 ? '' : '32') : info.name;
  return `${base} (opcode ${hex(x.code)})`;
}

// ---- uninitialized register reads (a forward must-be-defined analysis) ----
const ARGS = 0b111110; // r1..r5
function checkUninit(insns: Insn[], second: Uint8Array, funcs: number[], entryRegs: number[], errs: ValidationError[]): void {
  const n = insns.length;
  const inMask = new Int32Array(n).fill(-1); // -1 = not reached yet
  const work: number[] = [];
  const reported = new Set<number>();
  const flow = (pc: number, mask: number) => {
    if (pc < 0 || pc >= n) return;
    const old = inMask[pc];
    const m = old === -1 ? mask : old & mask;
    if (m !== old) { inMask[pc] = m; work.push(pc); }
  };
  let entry = 0;
  for (const r of entryRegs) entry |= 1 << r;
  flow(0, entry | (1 << 10));
  for (const f of funcs) if (f > 0 && f < n) flow(f, ARGS | (1 << 10));
  while (work.length) {
    const pc = work.pop()!;
    const mask = inMask[pc];
    const x = insns[pc];
    const info = OPS[x.code & 0xff]!;
    let uses = 0;
    let defs = 0;
    let kills = 0;
    const d = 1 << x.dst;
    const s = 1 << x.src;
    switch (info.kind) {
      case 'alu':
        if (info.name === 'mov') uses = info.srcReg ? s : 0;
        else uses = d | (info.srcReg ? s : 0);
        defs = d; break;
      case 'neg': case 'end': uses = d; defs = d; break;
      case 'jcond': uses = d | (info.srcReg ? s : 0); break;
      case 'lddw': defs = d; break;
      case 'ldx': uses = s; defs = d; break;
      case 'st': uses = d; break;
      case 'stx': uses = d | s; break;
      case 'atomic':
        uses = d | s | (x.imm === 0xf1 ? 1 : 0);
        defs = x.imm === 0xf1 ? 1 : x.imm & 1 ? s : 0; break;
      case 'call': defs = 1; kills = ARGS; break;
      case 'exit': uses = 1; break;
      case 'ja': case 'maygoto': break;
    }
    const missing = uses & ~mask;
    if (missing && !reported.has(pc)) {
      reported.add(pc);
      const r = 31 - Math.clz32(missing & -missing);
      errs.push(new ValidationError(pc, `Invalid read of uninitialized register r${r} (the verifier rejects it: R${r} !read_ok)`));
    }
    const out = ((mask | defs) & ~kills) | defs | (1 << 10);
    const next = info.kind === 'lddw' ? pc + 2 : pc + 1;
    if (info.kind === 'exit') continue;
    if (info.kind === 'ja') { flow(pc + 1 + (info.is64 ? x.off : x.imm), out); continue; }
    if (info.kind === 'jcond' || info.kind === 'maygoto') flow(pc + 1 + x.off, out);
    if (next < n && !second[next]) flow(next, out);
  }
}
