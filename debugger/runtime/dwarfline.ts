// The DWARF line table (.debug_line) of a BPF object, read for one fact BTF line_info drops:
// which instructions belong to no source line (line 0). LLVM's BTF writer emits a line_info
// record only where the line is known, so an instruction of code the compiler shared between
// statements (a tail-merged call, a common `return`) inherits the line before it in the BTF view,
// often a line of another function. The DWARF table says line 0 there. Only the line-0 ranges
// are taken; the lines themselves still come from BTF, as the loader gives them.
import { ByteView, parseElf, type BpfObject, type ElfFile } from '../object/index';
import { readDebugLine } from '../object/dwarf/line';

export { readDebugLine, type LineSeq } from '../object/dwarf/line';

/** Per program (by name): 1 for each pc that DWARF puts on line 0. Null with a reason when DWARF cannot be used. */
export function lineZero(bytes: Uint8Array, object: BpfObject): { masks: Map<string, Uint8Array> } | { error: string } {
  let elf: ElfFile;
  try { elf = parseElf(new ByteView(bytes, object.file)); } catch (e) { return { error: (e as Error).message }; }
  const seqs = readDebugLine(elf);
  if (typeof seqs === 'string') return { error: seqs };
  const masks = new Map<string, Uint8Array>();
  for (const p of object.programs) {
    const m = new Uint8Array(p.insns.length);
    for (const f of p.funcs) {
      if (f.secInsn === undefined) continue;
      const len = f.endPc - f.startPc;
      for (const s of seqs) {
        if (s.section !== f.section) continue;
        for (let i = 0; i + 1 < s.addr.length; i++) {
          if (s.line[i] !== 0) continue;
          const a = Math.floor(s.addr[i]! / 8), z = Math.ceil(s.addr[i + 1]! / 8);
          for (let k = Math.max(a, f.secInsn); k < Math.min(z, f.secInsn + len); k++) m[f.startPc + k - f.secInsn] = 1;
        }
      }
    }
    masks.set(p.name, m);
  }
  return { masks };
}
