// ELF64 little-endian relocatable objects for EM_BPF: section headers, names, symbols and
// REL relocation tables. Only what the loader and the disassembler need; every offset and
// count is checked against the file before use.
import { ByteView, cstring, hex } from './bytes';

export const EM_BPF = 247;
export const ET_REL = 1;
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// BPF relocation types (llvm/include/llvm/BinaryFormat/ELFRelocs/BPF.def).
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

export const RELOC_NAMES: Record<number, string> = {
  0: 'R_BPF_NONE', 1: 'R_BPF_64_64', 2: 'R_BPF_64_ABS64', 3: 'R_BPF_64_ABS32', 4: 'R_BPF_64_NODYLD32', 10: 'R_BPF_64_32',
};

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** File bytes (empty for NOBITS). */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  type: number; // STT_*
  bind: number; // STB_*
  shndx: number;
  value: number;
  size: number;
}

export interface ElfRel {
  offset: number; // byte offset in the target section
  type: number; // R_BPF_*
  sym: number; // symbol index
}

export interface ElfFile {
  view: ByteView;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** REL tables by the index of the section they apply to. */
  rels: Map<number, ElfRel[]>;
  symtabIndex: number;
  /** Sections skipped because they are broken but not needed (DWARF and the like). */
  warnings: string[];
}

/** Sections the loader reads besides allocated ones; anything else (DWARF, addrsig) may be damaged. */
const NEEDED = new Set(['.BTF', '.BTF.ext', '.symtab', '.strtab']);

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;

export function sectionWhere(s: ElfSection): string {
  return `section ${s.name || '#' + s.index}`;
}

export function parseElf(view: ByteView): ElfFile {
  const b = view.bytes;
  if (b.length < EHDR_SIZE) view.fail('ELF header', `file is ${b.length} bytes, shorter than an ELF64 header (64); is it a compiled .o?`);
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) view.fail('ELF header, offset 0x0', 'not an ELF file (bad magic); pass the .o produced by clang -target bpf');
  if (b[4] !== 2) view.fail('ELF header, offset 0x4', `ELF class ${b[4]} is not ELFCLASS64; compile with clang -target bpf`);
  if (b[5] !== 1) view.fail('ELF header, offset 0x5', `ELF data encoding ${b[5]} is not little-endian; compile with -target bpf (bpfel), not bpfeb`);
  const type = view.u16(0x10, 'ELF header e_type');
  const machine = view.u16(0x12, 'ELF header e_machine');
  if (machine !== EM_BPF) view.fail('ELF header, offset 0x12', `e_machine ${machine} is not EM_BPF (247); compile with clang -target bpf`);
  if (type !== ET_REL) view.fail('ELF header, offset 0x10', `e_type ${type} is not ET_REL (1); pass the object file from clang -c, not a linked file`);
  const shoff = view.u64n(0x28, 'ELF header e_shoff');
  const shentsize = view.u16(0x3a, 'ELF header e_shentsize');
  let shnum = view.u16(0x3c, 'ELF header e_shnum');
  let shstrndx = view.u16(0x3e, 'ELF header e_shstrndx');
  if (shoff === 0) view.fail('ELF header, offset 0x28', 'no section header table (e_shoff = 0)');
  if (shentsize !== SHDR_SIZE) view.fail('ELF header, offset 0x3a', `e_shentsize ${shentsize} is not 64`);
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    // Extended numbering: the real values live in section header 0.
    view.check(shoff, SHDR_SIZE, 'section header 0');
    if (shnum === 0) shnum = view.u64n(shoff + 0x20, 'section header 0 sh_size (extended e_shnum)');
    if (shstrndx === SHN_XINDEX) shstrndx = view.u32(shoff + 0x28, 'section header 0 sh_link (extended e_shstrndx)');
  }
  if (shnum * SHDR_SIZE > b.length) view.fail(`section header table at 0x${hex(shoff)}`, `${shnum} section headers cannot fit in a ${b.length}-byte file`);
  view.check(shoff, shnum * SHDR_SIZE, `section header table (${shnum} entries at 0x${hex(shoff)})`);
  if (shstrndx >= shnum) view.fail('ELF header, offset 0x3e', `e_shstrndx ${shstrndx} is out of range (${shnum} sections)`);

  const raw: Omit<ElfSection, 'name' | 'data'>[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    const w = `section header ${i}`;
    nameOffs.push(view.u32(o, w));
    raw.push({
      index: i,
      type: view.u32(o + 4, w),
      flags: Number(view.u64(o + 8, w) & 0xffffffffn),
      offset: view.u64n(o + 0x18, w),
      size: view.u64n(o + 0x20, w),
      link: view.u32(o + 0x28, w),
      info: view.u32(o + 0x2c, w),
      addralign: view.u64n(o + 0x30, w),
      entsize: view.u64n(o + 0x38, w),
    });
  }
  const sections: ElfSection[] = [];
  const warnings: string[] = [];
  const strSec = raw[shstrndx];
  if (strSec.type !== SHT_STRTAB) view.fail(`section header ${shstrndx}`, `e_shstrndx points at a section of type ${strSec.type}, not a string table`);
  const shstr = view.slice(strSec.offset, strSec.size, `section name string table (section ${shstrndx})`);
  for (let i = 0; i < shnum; i++) {
    const r = raw[i];
    const name = i === 0 ? '' : cstring(shstr, nameOffs[i]);
    if (name === undefined) view.fail(`section header ${i}`, `name offset 0x${hex(nameOffs[i])} is outside the section name table (${shstr.length} bytes)`);
    let data: Uint8Array = new Uint8Array(0);
    const needed = (r.flags & SHF_ALLOC) !== 0 || NEEDED.has(name) || r.type === SHT_SYMTAB || r.type === SHT_STRTAB || (r.type === SHT_REL && r.info < shnum && (raw[r.info].flags & SHF_ALLOC) !== 0);
    if (r.type !== SHT_NOBITS && r.type !== SHT_NULL) {
      if (needed || (r.offset + r.size <= b.length && r.offset >= 0)) data = view.slice(r.offset, r.size, `section ${name} (header ${i}) contents`);
      else warnings.push(`section ${name} lies outside the file and was skipped`);
    }
    sections.push({ ...r, name, data });
  }

  // Symbols.
  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length !== 1) view.fail('section headers', symtabs.length === 0 ? 'no symbol table (.symtab); was the object stripped?' : `${symtabs.length} symbol tables; expected one`);
  const symtab = symtabs[0];
  if (symtab.size % SYM_SIZE !== 0) view.fail(sectionWhere(symtab), `size ${symtab.size} is not a multiple of the symbol entry size (24)`);
  if (symtab.link >= shnum || sections[symtab.link].type !== SHT_STRTAB) view.fail(sectionWhere(symtab), `sh_link ${symtab.link} does not name a string table`);
  const strtab = sections[symtab.link].data;
  const symbols: ElfSymbol[] = [];
  const nsyms = symtab.size / SYM_SIZE;
  const sv = new ByteView(symtab.data, view.file);
  for (let i = 0; i < nsyms; i++) {
    const o = i * SYM_SIZE;
    const w = `symbol #${i} in .symtab`;
    const nameOff = sv.u32(o, w);
    const info = sv.u8(o + 4, w);
    const shndx = sv.u16(o + 6, w);
    const name = cstring(strtab, nameOff);
    if (name === undefined) view.fail(w, `name offset 0x${hex(nameOff)} is outside the string table (${strtab.length} bytes)`);
    symbols.push({ index: i, name, type: info & 0xf, bind: info >> 4, shndx, value: sv.u64n(o + 8, w), size: sv.u64n(o + 16, w) });
  }
  // Section symbols have no name of their own: give them the section's.
  for (const s of symbols) {
    if (s.type === STT_SECTION && s.name === '' && s.shndx < shnum) s.name = sections[s.shndx].name;
  }

  // Relocation tables.
  const rels = new Map<number, ElfRel[]>();
  for (const s of sections) {
    if (s.type === SHT_RELA) view.fail(sectionWhere(s), 'RELA relocations are not used by BPF objects; rebuild with clang -target bpf');
    if (s.type !== SHT_REL) continue;
    // Relocations of DWARF, .BTF and .BTF.ext are for linkers; only code and data ones matter here.
    if (s.info < shnum && (sections[s.info].flags & SHF_ALLOC) === 0) continue;
    if (s.info >= shnum || s.info === 0) view.fail(sectionWhere(s), `sh_info ${s.info} does not name a section to relocate`);
    if (s.size % REL_SIZE !== 0) view.fail(sectionWhere(s), `size ${s.size} is not a multiple of the REL entry size (16)`);
    const rv = new ByteView(s.data, view.file);
    const list: ElfRel[] = [];
    for (let o = 0; o < s.size; o += REL_SIZE) {
      const w = `${sectionWhere(s)}, entry ${o / REL_SIZE}`;
      const offset = rv.u64n(o, w);
      const type = rv.u32(o + 8, w);
      const sym = rv.u32(o + 12, w);
      if (sym >= symbols.length) view.fail(w, `symbol index ${sym} is out of range (${symbols.length} symbols)`);
      list.push({ offset, type, sym });
    }
    const prev = rels.get(s.info);
    rels.set(s.info, prev ? prev.concat(list) : list);
  }
  return { view, sections, symbols, rels, symtabIndex: symtab.index, warnings };
}
