// DWARF 4/5 reader for relocatable BPF objects (clang -target bpf -g): C types, scopes with their
// parameters and variables and location lists, inlined subroutines with call sites, globals.
// No npm library reads unlinked BPF objects (addresses are section offsets given by relocations).
import { ByteView } from '../bytes';
import { parseElf, type ElfFile } from '../elf';
import { readUnits, type Die, type Unit } from './info';
import { DwarfModel } from './model';
import { DebugSections, DwarfError } from './reader';

export { DwarfError, DebugSections, type Addr } from './reader';
export { readUnits, attr, attrNum, attrStr, attrRef, type Die, type Unit, type Attr, type AttrValue } from './info';
export { dieLocation, dieRanges, decodeExpr, exprText, type Op, type Range, type LocEntry } from './loc';
export { DwarfModel, stripType, sizeOf, typeName, type CType, type CMember, type DVar, type DScope, type DGlobal, type VarLoc } from './model';
export { tagName, opName, TAG, AT, OP } from './consts';

export interface Dwarf {
  elf: ElfFile;
  sections: DebugSections;
  units: Unit[];
  dies: Map<number, Die>;
  model: DwarfModel;
}

/** Read the DWARF of an object. Throws DwarfError (section, offset, what) on malformed input. */
export function readDwarf(bytes: Uint8Array | ElfFile, file = 'object'): Dwarf {
  const elf = bytes instanceof Uint8Array ? parseElf(new ByteView(bytes, file)) : bytes;
  const sections = new DebugSections(elf);
  const { units, dies } = readUnits(sections);
  const model = new DwarfModel(sections, dies, units.map((u) => u.root));
  return { elf, sections, units, dies, model };
}

/** The same, or the reason it cannot be read (no -g, damaged sections), for callers that carry on without. */
export function tryReadDwarf(bytes: Uint8Array, file: string): Dwarf | { error: string } {
  try {
    return readDwarf(bytes, file);
  } catch (e) {
    if (e instanceof DwarfError || (e instanceof Error && e.name === 'ObjectError')) return { error: `${file}: ${e.message}` };
    throw e;
  }
}
