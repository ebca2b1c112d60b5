// Map definitions: BTF-defined maps in `.maps` (the __uint/__type macros of bpf_helpers.h encode
// each attribute as a pointer member: `int (*type)[N]` carries N, `T *key` carries T), legacy
// `struct bpf_map_def` in `maps`, and one array map per global-data section (as libbpf does).
import { hex } from './bytes';
import type { ParsedBtf } from './btf';
import { type ElfFile, type ElfSection, SHF_EXECINSTR, SHT_NOBITS, SHT_PROGBITS, STT_SECTION } from './elf';
import { globalDataProblem, mapSizeProblem } from './limits';
import { ObjectError, type MapDef } from './types';

// enum bpf_map_type (include/uapi/linux/bpf.h, kernel 7.1.5), index = value.
export const MAP_TYPE_NAMES = [
  'UNSPEC', 'HASH', 'ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'PERCPU_HASH', 'PERCPU_ARRAY', 'STACK_TRACE',
  'CGROUP_ARRAY', 'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'ARRAY_OF_MAPS', 'HASH_OF_MAPS', 'DEVMAP', 'SOCKMAP',
  'CPUMAP', 'XSKMAP', 'SOCKHASH', 'CGROUP_STORAGE', 'REUSEPORT_SOCKARRAY', 'PERCPU_CGROUP_STORAGE', 'QUEUE',
  'STACK', 'SK_STORAGE', 'DEVMAP_HASH', 'STRUCT_OPS', 'RINGBUF', 'INODE_STORAGE', 'TASK_STORAGE', 'BLOOM_FILTER',
  'USER_RINGBUF', 'CGRP_STORAGE', 'ARENA', 'INSN_ARRAY',
].map((n) => 'BPF_MAP_TYPE_' + n);

export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_F_RDONLY_PROG = 0x80; // include/uapi/linux/bpf.h
export const BPF_F_MMAPABLE = 0x400;

export function mapTypeName(t: number): string {
  return MAP_TYPE_NAMES[t] ?? `BPF_MAP_TYPE_${t} (unknown)`;
}

/** A map plus where its definition lives, so relocations can find it. */
export interface MapSlot {
  def: MapDef;
  shndx: number; // section of the definition (or of the global data)
  offset: number; // byte offset of the definition in that section (0 for global data)
  size: number;
  global: boolean;
}

export function isGlobalDataSection(s: ElfSection): boolean {
  if (s.type !== SHT_PROGBITS && s.type !== SHT_NOBITS) return false;
  if ((s.flags & SHF_EXECINSTR) !== 0) return false;
  return /^\.(data|rodata|bss)(\..*)?$/.test(s.name);
}

export function collectMaps(elf: ElfFile, btf: ParsedBtf | null, file: string, warnings: string[]): MapSlot[] {
  const out: MapSlot[] = [];
  const fail = (where: string, detail: string): never => {
    throw new ObjectError(file, where, detail);
  };
  for (const sec of elf.sections) {
    if (sec.name === '.maps') out.push(...btfMaps(elf, sec, btf, fail));
    else if (sec.name === 'maps' && sec.type === SHT_PROGBITS) out.push(...legacyMaps(elf, sec, fail));
  }
  for (const sec of elf.sections) {
    if (!isGlobalDataSection(sec)) continue;
    if (sec.size === 0) continue;
    const big = globalDataProblem(sec.size);
    if (big) fail(`section ${sec.name}`, big);
    const readonly = sec.name.startsWith('.rodata');
    const ds = btf?.find(sec.name, 'datasec');
    out.push({
      def: {
        name: sec.name,
        type: BPF_MAP_TYPE_ARRAY,
        typeName: mapTypeName(BPF_MAP_TYPE_ARRAY),
        keySize: 4,
        valueSize: sec.size,
        maxEntries: 1,
        flags: BPF_F_MMAPABLE | (readonly ? BPF_F_RDONLY_PROG : 0),
        keyTypeId: 0,
        valueTypeId: ds?.id ?? 0,
        initial: sec.type === SHT_NOBITS ? new Uint8Array(sec.size) : sec.data.slice(),
        readonly,
      },
      shndx: sec.index,
      offset: 0,
      size: sec.size,
      global: true,
    });
  }
  for (const m of out) {
    if (m.global) continue;
    const why = mapSizeProblem(m.def);
    if (why) fail(`map ${m.def.name} (${m.def.typeName})`, `the kernel refuses this map: ${why}`);
  }
  if (out.length === 0 && elf.sections.some((s) => s.name === '.maps')) warnings.push('section .maps defines no maps');
  return out;
}

function btfMaps(elf: ElfFile, sec: ElfSection, btf: ParsedBtf | null, fail: (w: string, d: string) => never): MapSlot[] {
  const syms = elf.symbols.filter((s) => s.shndx === sec.index && s.type !== STT_SECTION && s.name !== '').sort((a, b) => a.value - b.value);
  if (syms.length === 0) return [];
  if (!btf) fail('section .maps', 'maps are defined in .maps but the object has no .BTF section; compile with -g');
  const ds = btf.find('.maps', 'datasec');
  if (!ds) fail('section .BTF', 'no DATASEC .maps describing the maps in section .maps; compile with -g');
  const out: MapSlot[] = [];
  for (const sym of syms) {
    const where = `section .maps, map ${sym.name} at offset 0x${hex(sym.value)}`;
    const vi = ds.secinfo!.find((s) => btf.types[s.type].kind === 'var' && btf.types[s.type].name === sym.name);
    if (!vi) fail(where, `no BTF variable ${sym.name} in DATASEC .maps`);
    const varT = btf.types[vi.type];
    const st = btf.resolve(varT.type ?? 0);
    if (st.kind !== 'struct') fail(where, `BTF type of ${sym.name} is ${btf.typeName(varT.type ?? 0)}, not a struct of __uint/__type members`);
    const def: MapDef = { name: sym.name, type: 0, typeName: '', keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, keyTypeId: 0, valueTypeId: 0 };
    const num = (mtype: number, mname: string): number => {
      const p = btf.resolve(mtype);
      const arr = p.kind === 'ptr' ? btf.resolve(p.type ?? 0) : undefined;
      if (!arr || arr.kind !== 'array') fail(where, `member ${mname} should be __uint(${mname}, N) (a pointer to an array), found ${btf.typeName(mtype)}`);
      return arr.array!.nelems;
    };
    const pointee = (mtype: number, mname: string): number => {
      const p = btf.resolve(mtype);
      if (p.kind !== 'ptr') fail(where, `member ${mname} should be __type(${mname}, T) (a pointer), found ${btf.typeName(mtype)}`);
      return p.type ?? 0;
    };
    let keySizeSet = 0, valueSizeSet = 0;
    for (const m of st.members!) {
      switch (m.name) {
        case 'type': def.type = num(m.type, m.name); break;
        case 'max_entries': def.maxEntries = num(m.type, m.name); break;
        case 'map_flags': def.flags = num(m.type, m.name); break;
        case 'key_size': keySizeSet = num(m.type, m.name); break;
        case 'value_size': valueSizeSet = num(m.type, m.name); break;
        case 'key': def.keyTypeId = pointee(m.type, m.name); def.keySize = btf.sizeof(def.keyTypeId); break;
        case 'value': def.valueTypeId = pointee(m.type, m.name); def.valueSize = btf.sizeof(def.valueTypeId); break;
        default: break; // pinning, numa_node, map_extra, values (map-in-map): not modelled
      }
    }
    if (keySizeSet) {
      if (def.keyTypeId && def.keySize !== keySizeSet) fail(where, `key_size ${keySizeSet} disagrees with sizeof key type (${def.keySize})`);
      def.keySize = keySizeSet;
    }
    if (valueSizeSet) {
      if (def.valueTypeId && def.valueSize !== valueSizeSet) fail(where, `value_size ${valueSizeSet} disagrees with sizeof value type (${def.valueSize})`);
      def.valueSize = valueSizeSet;
    }
    if (def.type === 0) fail(where, 'no map type; add __uint(type, BPF_MAP_TYPE_...)');
    def.typeName = mapTypeName(def.type);
    out.push({ def, shndx: sec.index, offset: sym.value, size: sym.size, global: false });
  }
  return out;
}

function legacyMaps(elf: ElfFile, sec: ElfSection, fail: (w: string, d: string) => never): MapSlot[] {
  // struct bpf_map_def { type, key_size, value_size, max_entries, map_flags } (five __u32).
  const syms = elf.symbols.filter((s) => s.shndx === sec.index && s.type !== STT_SECTION && s.name !== '').sort((a, b) => a.value - b.value);
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  return syms.map((sym) => {
    const where = `section maps, map ${sym.name} at offset 0x${hex(sym.value)}`;
    if (sym.value + 20 > sec.data.length) fail(where, 'struct bpf_map_def (20 bytes) runs past the end of the section');
    const u = (i: number) => dv.getUint32(sym.value + 4 * i, true);
    const type = u(0);
    return {
      def: { name: sym.name, type, typeName: mapTypeName(type), keySize: u(1), valueSize: u(2), maxEntries: u(3), flags: u(4), keyTypeId: 0, valueTypeId: 0 },
      shndx: sec.index, offset: sym.value, size: 20, global: false,
    };
  });
}
