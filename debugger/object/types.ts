// The public contract of the object loader: what loadObject() returns for a clang-built
// BPF ELF object. Implementations live beside this file and are re-exported by ./index.ts.
import type { Insn } from '../vm/api';

/** Thrown for every malformed input; message names the file, the section/offset and what to do. */
export class ObjectError extends Error {
  constructor(
    readonly file: string,
    readonly where: string, // e.g. "section .BTF.ext, offset 0x40" or "program tcp_autolowat, insn 12"
    readonly detail: string,
  ) {
    super(`${file}: ${where}: ${detail}`);
    this.name = 'ObjectError';
  }
}

// ---- BTF (every kind) ----
export type BtfKind =
  | 'void' | 'int' | 'ptr' | 'array' | 'struct' | 'union' | 'enum' | 'fwd' | 'typedef'
  | 'volatile' | 'const' | 'restrict' | 'func' | 'func_proto' | 'var' | 'datasec'
  | 'float' | 'decl_tag' | 'type_tag' | 'enum64';

export interface BtfMember { name: string; type: number; bitOffset: number; bitSize: number }
export interface BtfParam { name: string; type: number }
export interface BtfEnumValue { name: string; value: bigint }
export interface BtfVarSecinfo { type: number; offset: number; size: number }

export interface BtfType {
  id: number;
  kind: BtfKind;
  name: string; // '' when anonymous
  size?: number; // int, struct, union, enum, enum64, datasec, float
  type?: number; // ptr, typedef, volatile, const, restrict, func, func_proto(ret), var, decl_tag, type_tag
  int?: { encoding: number; offset: number; bits: number; signed: boolean; char: boolean; bool: boolean };
  array?: { type: number; indexType: number; nelems: number };
  members?: BtfMember[]; // struct, union
  kflag?: boolean;
  values?: BtfEnumValue[]; // enum, enum64
  signed?: boolean; // enum, enum64
  params?: BtfParam[]; // func_proto
  linkage?: number; // func, var
  secinfo?: BtfVarSecinfo[]; // datasec
  componentIdx?: number; // decl_tag
}

export interface Btf {
  types: BtfType[]; // index = type id; types[0] is void
  /** First type named `name` (optionally of that kind), following no typedefs. */
  find(name: string, kind?: BtfKind): BtfType | undefined;
  /** Strip typedef/const/volatile/restrict/type_tag. */
  resolve(id: number): BtfType;
  sizeof(id: number): number;
  /** Member path like 'inet_conn.icsk_inet.sk.sk_rcvlowat' inside a struct/union:
   *  byte offset and the member's type id, or undefined. Anonymous members are searched. */
  memberOffset(structId: number, path: string): { offset: number; type: number; bitSize: number } | undefined;
  /** C-like spelling for display: 'struct tcp_sock *', '__u32'. */
  typeName(id: number): string;
}

// ---- programs ----
export interface LineInfo {
  pc: number; // instruction slot index within the program (after subprograms are appended)
  file: string;
  line: number; // 1-based
  col: number; // 1-based; 0 when unknown
  text: string; // the source line as recorded in BTF (may be '')
}

export interface FuncInfo {
  name: string;
  startPc: number;
  endPc: number; // exclusive
  btfTypeId: number; // BTF FUNC id, 0 if none
  section: string; // 'sockops' for the entry, '.text' for subprograms
  /** First instruction slot of the function inside its ELF section (for disassembly views). */
  secInsn?: number;
}

export type CoreReloKind =
  | 'field_byte_offset' | 'field_byte_size' | 'field_exists' | 'field_signed'
  | 'field_lshift_u64' | 'field_rshift_u64' | 'type_id_local' | 'type_id_target'
  | 'type_exists' | 'type_size' | 'enumval_exists' | 'enumval_value' | 'type_matches';

export interface CoreRelo {
  pc: number;
  kind: CoreReloKind;
  typeId: number; // root type (local BTF)
  accessStr: string; // e.g. '0:1:2'
  /** Human spelling, e.g. 'struct tcp_sock::copied_seq'. */
  spec: string;
  /** Value patched into the instruction (offset, size, 0/1, enum value...). */
  value: number;
}

export type RelocKind = 'map' | 'global' | 'kfunc' | 'call' | 'ksym';
export interface ResolvedReloc {
  pc: number;
  kind: RelocKind;
  symbol: string; // map name, section name + offset, kfunc name, called function
  mapIndex?: number; // for 'map' and 'global'
  offset?: number; // for 'global'
  kfuncIndex?: number; // for 'kfunc'
  targetPc?: number; // for 'call'
}

export interface BpfProgram {
  name: string; // function symbol, e.g. 'tcp_autolowat'
  section: string; // SEC name, e.g. 'sockops', 'cgroup/setsockopt'
  /** Slots with .text subprograms appended and calls fixed. Encodings after loading:
   *  - ld_imm64 of a map: src=1 (BPF_PSEUDO_MAP_FD), imm = map index;
   *  - ld_imm64 of global data: src=2 (BPF_PSEUDO_MAP_VALUE), imm = map index, next slot imm = offset;
   *  - bpf-to-bpf call: src=1, imm = relative slot offset (target = pc + 1 + imm);
   *  - kfunc call: src=2, imm = index into BpfObject.kfuncs;
   *  - helper call: src=0, imm = helper id (unchanged);
   *  - ld_imm64 of a function address (bpf_loop & co callbacks): src=4 (BPF_PSEUDO_FUNC),
   *    imm = relative slot offset (target = pc + 1 + imm), next slot imm = 0;
   *  - ld_imm64 of an extern variable (__ksym/__kconfig, not modelled): src=3, imm = 0, next imm = 0,
   *    with a warning in BpfObject.warnings.
   *  CO-RE relocations are already applied (see CoreRelo). */
  insns: Insn[];
  funcs: FuncInfo[]; // entry first, then appended subprograms
  lineInfo: LineInfo[]; // sorted by pc
  coreRelos: CoreRelo[];
  relocs: ResolvedReloc[];
}

export interface MapDef {
  name: string; // 'rcvq_state', or '.data', '.rodata', '.bss', '.rodata.str1.1' for global data
  type: number; // BPF_MAP_TYPE_* value
  typeName: string; // 'BPF_MAP_TYPE_SK_STORAGE'
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  keyTypeId: number; // BTF ids (0 when unknown)
  valueTypeId: number;
  /** Initial contents for global-data maps (.data/.rodata: the section bytes; .bss: zeros). */
  initial?: Uint8Array;
  readonly?: boolean; // .rodata*
}

export interface BpfObject {
  file: string;
  license: string;
  btf: Btf | null;
  programs: BpfProgram[];
  maps: MapDef[];
  kfuncs: string[]; // extern kfunc names referenced by any program, index = kfuncIndex
  /** Non-fatal observations (e.g. 'no .BTF.ext: no line info'). */
  warnings: string[];
  /** struct_ops variables of SEC(".struct_ops") / SEC(".struct_ops.link") (./structops.ts); absent: none. */
  structOps?: import('./structops').StructOpsMap[];
}
