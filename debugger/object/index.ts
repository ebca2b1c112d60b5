// Public surface of the object loader. Everything other folders use is exported here.
export * from './types';
export { loadObject, decodeSlots, collectFuncs, type ElfFunc, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_FUNC, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL } from './load';
export { parseElf, RELOC_NAMES, type ElfFile, type ElfSection, type ElfSymbol, type ElfRel } from './elf';
export { parseBtf, type ParsedBtf } from './btf';
export { parseBtfExt, type BtfExt } from './btfext';
export { resolveCoreRelo, CORE_KINDS, CORE_KIND_OBJDUMP } from './core';
export { mapTypeName, MAP_TYPE_NAMES } from './maps';
export { ByteView } from './bytes';
