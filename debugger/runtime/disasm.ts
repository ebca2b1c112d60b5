// Instruction addresses and the disassembly view. An instruction reference names a program and a
// slot: (program index + 1) << 32 | pc * 8, so each program has its own address range and the
// byte offset within it matches llvm-objdump's addresses.
import type { BpfProgram } from '../object/types';
import { formatInsn } from '../vm/disasm';
import type { DebugRuntime } from './runtime';
import { funcAt, lineAt } from './lines';

export function insnAddr(rt: DebugRuntime, prog: BpfProgram, pc: number): string {
  const i = rt.programs.indexOf(prog);
  return '0x' + ((BigInt(i + 1) << 32n) + BigInt(pc * 8)).toString(16);
}

/** Program and slot of an instruction reference plus a byte offset; null when it names none. */
export function decodeInsnAddr(rt: DebugRuntime, ref: string, byteOffset = 0, insnOffset = 0): { program: BpfProgram; pc: number } | null {
  let a: bigint;
  try { a = BigInt(ref) + BigInt(byteOffset); } catch { return null; }
  const i = Number(a >> 32n) - 1;
  const program = rt.programs[i];
  if (!program) return null;
  const pc = Number(a & 0xffffffffn) / 8 + insnOffset;
  return { program, pc: Math.floor(pc) };
}

export interface DisasmLine {
  address: string;
  instructionBytes?: string;
  instruction: string;
  symbol?: string;
  location?: { name: string; path?: string };
  line?: number;
  column?: number;
  presentationHint?: 'normal' | 'invalid';
}

function labelsOf(prog: BpfProgram): Map<number, string> {
  const labels = new Map<number, string>();
  for (const f of prog.funcs) labels.set(f.startPc, f.name);
  return labels;
}

/** `count` instructions starting `insnOffset` slots from the reference (entries outside the
 *  program are marked invalid, as DAP asks for exactly `count` entries). */
export function disassemble(rt: DebugRuntime, ref: string, byteOffset: number, insnOffset: number, count: number, source: (file: string) => { name?: string; path?: string } | undefined): DisasmLine[] {
  const at = decodeInsnAddr(rt, ref, byteOffset, insnOffset);
  if (!at) throw new Error(`'${ref}'${byteOffset ? ` + ${byteOffset} bytes` : ''} is not an instruction reference of this session (take one from a stack frame)`);
  const { program: prog } = at;
  const labels = labelsOf(prog);
  const out: DisasmLine[] = [];
  let lastLine = -1;
  for (let k = 0; k < count; k++) {
    const pc = at.pc + k;
    const address = insnAddr(rt, prog, Math.max(pc, 0)).replace(/^0x/, '');
    if (pc < 0 || pc >= prog.insns.length) {
      const a = (BigInt(rt.programs.indexOf(prog) + 1) << 32n) + BigInt(pc * 8);
      out.push({ address: '0x' + a.toString(16), instruction: '', presentationHint: 'invalid' });
      continue;
    }
    const insn = prog.insns[pc]!;
    // the second slot of ld_imm64 is not an instruction of its own
    const isTail = insn.code === 0 && prog.insns[pc - 1]?.code === 0x18;
    let text: string;
    try { text = isTail ? '(second half of ld_imm64)' : formatInsn(prog.insns, pc, { labels }); } catch (e) { text = `<${(e as Error).message}>`; }
    const call = insn.code === 0x85 && !isTail ? rt.callName(prog, pc) : undefined;
    const bytes = [insn.code, (insn.src << 4) | insn.dst, insn.off & 0xff, (insn.off >> 8) & 0xff, insn.imm & 0xff, (insn.imm >> 8) & 0xff, (insn.imm >> 16) & 0xff, (insn.imm >>> 24) & 0xff];
    const li = lineAt(prog, pc);
    const d: DisasmLine = {
      address: '0x' + address,
      instructionBytes: bytes.map((b) => b.toString(16).padStart(2, '0')).join(' '),
      instruction: call && !text.includes('<') ? `${text} <${call}>` : text,
    };
    const f = funcAt(prog, pc);
    if (f && f.startPc === pc) d.symbol = f.name;
    if (li && li.line !== lastLine) {
      const s = source(li.file);
      d.location = { name: s?.name ?? li.file, path: s?.path };
      d.line = li.line;
      if (li.col) d.column = li.col;
      lastLine = li.line;
    }
    out.push(d);
  }
  return out;
}
