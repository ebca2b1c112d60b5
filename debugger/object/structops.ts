// struct_ops maps of a BPF object: the variables of the `.struct_ops` and `.struct_ops.link`
// sections (libbpf: bpf_object__init_struct_ops_maps), each an instance of a struct type named in
// the object's own BTF (DATASEC of the section name -> VAR -> struct), and which program each of
// its function-pointer members points at (the section's R_BPF_64_ABS64 relocations against the
// programs' symbols, as libbpf's bpf_object__collect_st_ops_relos reads them).
import type { Btf } from './types';
import { ObjectError } from './types';
import type { ElfFile } from './elf';

export interface StructOpsMember {
  name: string;
  /** Byte offset inside the struct. */
  offset: number;
  /** Function name of the program the member points at; absent: NULL (the member is not set). */
  program?: string;
}

export interface StructOpsMap {
  /** The variable's name (what a scenario's "structOps" names). */
  name: string;
  /** '.struct_ops' or '.struct_ops.link'. */
  section: string;
  /** The struct type (e.g. 'bpf_tcp_ops'), from the object's BTF. */
  struct: string;
  /** SEC(".struct_ops.link"): attached through a BPF link (libbpf BPF_F_LINK). */
  link: boolean;
  members: StructOpsMember[];
}

const R_BPF_64_ABS64 = 2;

export function isStructOpsSection(name: string): boolean {
  return name === '.struct_ops' || name === '.struct_ops.link' || name.startsWith('.struct_ops.') ;
}

/** The struct_ops maps of `elf`; [] when it has none. Throws ObjectError naming the section and
 *  variable for a struct_ops section the BTF does not describe. */
export function collectStructOps(elf: ElfFile, btf: Btf | null, file: string): StructOpsMap[] {
  const out: StructOpsMap[] = [];
  for (const sec of elf.sections) {
    if (!isStructOpsSection(sec.name)) continue;
    if (!btf) throw new ObjectError(file, `section ${sec.name}`, 'a struct_ops section needs the object\'s BTF to know its struct type: compile with -g');
    const ds = btf.types.find((t) => t.kind === 'datasec' && t.name === sec.name);
    if (!ds) throw new ObjectError(file, `section ${sec.name}`, `no BTF DATASEC "${sec.name}" describes its variables: compile with clang -g`);
    const rels = elf.rels.get(sec.index) ?? [];
    for (const si of ds.secinfo ?? []) {
      const v = btf.types[si.type];
      if (!v || v.kind !== 'var') continue;
      const st = btf.resolve(v.type!);
      const where = `section ${sec.name}, variable ${v.name}`;
      if (st.kind !== 'struct') throw new ObjectError(file, where, `is a ${btf.typeName(v.type!)}, not a struct: a struct_ops variable must be an instance of a struct_ops type such as struct bpf_tcp_ops`);
      const members: StructOpsMember[] = [];
      for (const m of st.members ?? []) {
        const offset = m.bitOffset / 8;
        const mem: StructOpsMember = { name: m.name, offset };
        const at = si.offset + offset;
        const r = rels.find((x) => x.offset === at);
        if (r) {
          const sym = elf.symbols[r.sym];
          if (r.type !== R_BPF_64_ABS64 || !sym) throw new ObjectError(file, `${where}, member ${m.name}`, `relocation type ${r.type} is not a function pointer (R_BPF_64_ABS64)`);
          mem.program = sym.name;
        }
        members.push(mem);
      }
      out.push({ name: v.name, section: sec.name, struct: st.name, link: sec.name === '.struct_ops.link', members });
    }
  }
  return out;
}
