// The opcode table: every valid opcode byte with its name and shape, built from the per-class
// tables in ./ops. The validator, the interpreter, the disassembler and the assembler all read
// this one table.
import { ALU_OPS } from './ops/alu';
import { JMP_OPS, MAY_GOTO } from './ops/jump';
import { SIZES, MODE_MEM, MODE_MEMSX, MODE_ATOMIC } from './ops/loadstore';

export const BPF_CLASS = { LD: 0, LDX: 1, ST: 2, STX: 3, ALU: 4, JMP: 5, JMP32: 6, ALU64: 7 } as const;
export const BPF_X = 0x08; // source = register

export type OpKind =
  | 'alu' // two-operand ALU, incl. mov/movsx, sdiv/smod by off
  | 'neg'
  | 'end' // le/be (ALU), bswap (ALU64)
  | 'ja' // JMP ja (off) and JMP32 ja = gotol (imm)
  | 'jcond'
  | 'maygoto' // JMP | JCOND, src 0: may_goto (off is the target)
  | 'call'
  | 'exit'
  | 'lddw'
  | 'ldx' // LDX MEM / MEMSX
  | 'st' // ST MEM (imm)
  | 'stx' // STX MEM
  | 'atomic'; // STX ATOMIC (W, DW)

export interface OpInfo {
  code: number;
  cls: number;
  kind: OpKind;
  /** Base name: 'add', 'mov', 'jeq', 'ja', 'call', 'exit', 'lddw', 'ldx', 'st', 'stx', 'atomic', 'le', 'be', 'bswap'. */
  name: string;
  /** llvm-objdump operator ('+=', '==', ...) for alu/jcond. */
  sym: string;
  /** ALU64 or JMP (64-bit operands); false for ALU and JMP32. */
  is64: boolean;
  /** Source is a register (BPF_X). */
  srcReg: boolean;
  /** Access width in bytes for memory ops. */
  size: number;
  /** LDX MEMSX: sign-extending load. */
  signExt: boolean;
}

function mk(code: number, kind: OpKind, name: string, sym: string, is64: boolean, srcReg: boolean, size = 0, signExt = false): OpInfo {
  return { code, cls: code & 7, kind, name, sym, is64, srcReg, size, signExt };
}

/** OPS[code] is the opcode's description, or undefined for an opcode the kernel rejects. */
export const OPS: (OpInfo | undefined)[] = new Array(256).fill(undefined);

for (const cls of [BPF_CLASS.ALU, BPF_CLASS.ALU64]) {
  const is64 = cls === BPF_CLASS.ALU64;
  for (const o of ALU_OPS) {
    if (o.name === 'neg') { OPS[o.op | cls] = mk(o.op | cls, 'neg', 'neg', '-', is64, false); continue; }
    if (o.name === 'end') {
      if (is64) OPS[o.op | cls] = mk(o.op | cls, 'end', 'bswap', '', true, false);
      else {
        OPS[o.op | cls] = mk(o.op | cls, 'end', 'le', '', false, false);
        OPS[o.op | BPF_X | cls] = mk(o.op | BPF_X | cls, 'end', 'be', '', false, true);
      }
      continue;
    }
    OPS[o.op | cls] = mk(o.op | cls, 'alu', o.name, o.sym, is64, false);
    OPS[o.op | BPF_X | cls] = mk(o.op | BPF_X | cls, 'alu', o.name, o.sym, is64, true);
  }
}
for (const cls of [BPF_CLASS.JMP, BPF_CLASS.JMP32]) {
  const is64 = cls === BPF_CLASS.JMP;
  for (const o of JMP_OPS) {
    if (o.name === 'ja') { OPS[o.op | cls] = mk(o.op | cls, 'ja', 'ja', '', is64, false); continue; }
    if (o.name === 'call' || o.name === 'exit') {
      if (is64) OPS[o.op | cls] = mk(o.op | cls, o.name, o.name, '', true, false);
      continue; // callx (0x8d) and the JMP32 forms are rejected
    }
    OPS[o.op | cls] = mk(o.op | cls, 'jcond', o.name, o.sym, is64, false);
    OPS[o.op | BPF_X | cls] = mk(o.op | BPF_X | cls, 'jcond', o.name, o.sym, is64, true);
  }
}
OPS[MAY_GOTO] = mk(MAY_GOTO, 'maygoto', 'may_goto', '', true, false);
OPS[0x18] = mk(0x18, 'lddw', 'lddw', '', true, false, 8);
for (const s of SIZES) {
  OPS[BPF_CLASS.LDX | MODE_MEM | s.size] = mk(BPF_CLASS.LDX | MODE_MEM | s.size, 'ldx', 'ldx', '', true, true, s.bytes);
  if (s.bytes !== 8) OPS[BPF_CLASS.LDX | MODE_MEMSX | s.size] = mk(BPF_CLASS.LDX | MODE_MEMSX | s.size, 'ldx', 'ldx', '', true, true, s.bytes, true);
  OPS[BPF_CLASS.ST | MODE_MEM | s.size] = mk(BPF_CLASS.ST | MODE_MEM | s.size, 'st', 'st', '', true, false, s.bytes);
  OPS[BPF_CLASS.STX | MODE_MEM | s.size] = mk(BPF_CLASS.STX | MODE_MEM | s.size, 'stx', 'stx', '', true, true, s.bytes);
  if (s.bytes >= 4) OPS[BPF_CLASS.STX | MODE_ATOMIC | s.size] = mk(BPF_CLASS.STX | MODE_ATOMIC | s.size, 'atomic', 'atomic', '', s.bytes === 8, true, s.bytes);
}

export function opInfo(code: number): OpInfo | undefined {
  return OPS[code & 0xff];
}

/** Size suffix used by the conformance assembler: b, h, w, dw. */
export function sizeSuffix(bytes: number): string {
  return bytes === 1 ? 'b' : bytes === 2 ? 'h' : bytes === 4 ? 'w' : 'dw';
}
/** C type used by llvm-objdump for an access: u8..u64, s8..s32. */
export function sizeCType(bytes: number, signed: boolean): string {
  return (signed ? 's' : 'u') + String(bytes * 8);
}
