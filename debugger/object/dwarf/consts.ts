// DWARF constants used by the reader, with their names (DWARF 5 standard, section 7). The names
// are the ones llvm-dwarfdump prints, so a dump and our reading can be compared.

export const TAG: Record<string, number> = {
  array_type: 0x01, enumeration_type: 0x04, formal_parameter: 0x05, label: 0x0a, lexical_block: 0x0b,
  member: 0x0d, pointer_type: 0x0f, compile_unit: 0x11, structure_type: 0x13, subroutine_type: 0x15,
  typedef: 0x16, union_type: 0x17, unspecified_parameters: 0x18, variant: 0x19, inlined_subroutine: 0x1d,
  subrange_type: 0x21, base_type: 0x24, const_type: 0x26, enumerator: 0x28, subprogram: 0x2e,
  variable: 0x34, volatile_type: 0x35, restrict_type: 0x37, atomic_type: 0x47, call_site: 0x48,
  call_site_parameter: 0x49, GNU_call_site: 0x4109, GNU_call_site_parameter: 0x410a, LLVM_annotation: 0x6000,
  namespace: 0x39, ptr_to_member_type: 0x1f, string_type: 0x12, dwarf_procedure: 0x36, rvalue_reference_type: 0x42,
  reference_type: 0x10, immutable_type: 0x4b, generic_subrange: 0x45, variant_part: 0x33, imported_declaration: 0x08,
};

export const AT: Record<string, number> = {
  sibling: 0x01, location: 0x02, name: 0x03, byte_size: 0x0b, bit_offset: 0x0c, bit_size: 0x0d,
  stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, language: 0x13, comp_dir: 0x1b, const_value: 0x1c,
  inline: 0x20, producer: 0x25, prototyped: 0x27, lower_bound: 0x22, upper_bound: 0x2f,
  abstract_origin: 0x31, artificial: 0x34, count: 0x37, data_member_location: 0x38, decl_column: 0x39,
  decl_file: 0x3a, decl_line: 0x3b, declaration: 0x3c, encoding: 0x3e, external: 0x3f, frame_base: 0x40,
  specification: 0x47, type: 0x49, ranges: 0x55, call_column: 0x57, call_file: 0x58, call_line: 0x59,
  data_bit_offset: 0x6b, str_offsets_base: 0x72, addr_base: 0x73, rnglists_base: 0x74,
  call_all_calls: 0x7a, call_return_pc: 0x7d, call_value: 0x7e, call_origin: 0x7f, call_pc: 0x81,
  call_tail_call: 0x82, call_target: 0x83, loclists_base: 0x8c, alignment: 0x88,
  GNU_addr_base: 0x2133, GNU_ranges_base: 0x2132,
};

export const FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09,
  block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref1: 0x11,
  ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17, exprloc: 0x18,
  flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25,
  strx2: 0x26, strx3: 0x27, strx4: 0x28, addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
} as const;

export const ATE = { boolean: 0x02, float: 0x04, signed: 0x05, signed_char: 0x06, unsigned: 0x07, unsigned_char: 0x08, UTF: 0x10 } as const;

/** DW_OP_* by value (the single-byte opcodes; reg0..31, breg0..31 and lit0..31 by range). */
export const OP: Record<string, number> = {
  addr: 0x03, deref: 0x06, const1u: 0x08, const1s: 0x09, const2u: 0x0a, const2s: 0x0b, const4u: 0x0c,
  const4s: 0x0d, const8u: 0x0e, const8s: 0x0f, constu: 0x10, consts: 0x11, dup: 0x12, drop: 0x13, over: 0x14,
  pick: 0x15, swap: 0x16, rot: 0x17, xderef: 0x18, abs: 0x19, and: 0x1a, div: 0x1b, minus: 0x1c, mod: 0x1d,
  mul: 0x1e, neg: 0x1f, not: 0x20, or: 0x21, plus: 0x22, plus_uconst: 0x23, shl: 0x24, shr: 0x25, shra: 0x26,
  xor: 0x27, bra: 0x28, eq: 0x29, ge: 0x2a, gt: 0x2b, le: 0x2c, lt: 0x2d, ne: 0x2e, skip: 0x2f,
  regx: 0x90, fbreg: 0x91, bregx: 0x92, piece: 0x93, deref_size: 0x94, nop: 0x96, call_frame_cfa: 0x9c,
  implicit_value: 0x9e, stack_value: 0x9f, implicit_pointer: 0xa0, addrx: 0xa1, constx: 0xa2,
  entry_value: 0xa3, const_type: 0xa4, regval_type: 0xa5, deref_type: 0xa6, convert: 0xa8, reinterpret: 0xa9,
  bit_piece: 0x9d, GNU_entry_value: 0xf3,
};

function invert(o: Record<string, number>, prefix: string): Map<number, string> {
  return new Map(Object.entries(o).map(([k, v]) => [v, `${prefix}${k}`]));
}
const TAG_NAMES = invert(TAG, 'DW_TAG_');
const OP_NAMES = invert(OP, 'DW_OP_');

export function tagName(t: number): string {
  return TAG_NAMES.get(t) ?? `DW_TAG_unknown_0x${t.toString(16)}`;
}

export function opName(op: number): string {
  if (op >= 0x30 && op <= 0x4f) return `DW_OP_lit${op - 0x30}`;
  if (op >= 0x50 && op <= 0x6f) return `DW_OP_reg${op - 0x50}`;
  if (op >= 0x70 && op <= 0x8f) return `DW_OP_breg${op - 0x70}`;
  return OP_NAMES.get(op) ?? `DW_OP_unknown_0x${op.toString(16)}`;
}
