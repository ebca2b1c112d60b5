// CO-RE relocations resolved against the program's own BTF as the target (design §3: the
// simulated kernel lays its objects out from the program's BTF), so field offsets equal the local
// ones, everything exists, sizes and enum values are the local ones. The arithmetic and the
// instruction patching follow libbpf (tools/lib/bpf/relo_core.c: bpf_core_calc_field_relo,
// bpf_core_patch_insn), including its bitfield load size, which can differ from clang's guess.
import type { Insn } from '../vm/api';
import type { ParsedBtf } from './btf';
import type { ExtCoreRelo } from './btfext';
import type { BtfType, CoreReloKind } from './types';

// enum bpf_core_relo_kind (include/uapi/linux/bpf.h), in numeric order.
export const CORE_KINDS: CoreReloKind[] = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64',
  'field_rshift_u64', 'type_id_local', 'type_id_target', 'type_exists', 'type_size',
  'enumval_exists', 'enumval_value', 'type_matches',
];
/** The spelling llvm-objdump -r uses for each kind (llvm BPF target). */
export const CORE_KIND_OBJDUMP: Record<CoreReloKind, string> = {
  field_byte_offset: 'byte_off', field_byte_size: 'byte_sz', field_exists: 'field_exists', field_signed: 'signed',
  field_lshift_u64: 'lshift_u64', field_rshift_u64: 'rshift_u64', type_id_local: 'local_type_id',
  type_id_target: 'target_type_id', type_exists: 'type_exists', type_size: 'type_size',
  enumval_exists: 'enumval_exists', enumval_value: 'enumval_value', type_matches: 'type_matches',
};

export interface CoreResult {
  kind: CoreReloKind;
  spec: string;
  value: bigint;
  /** libbpf checks the compiler's value against the local one except for ambiguous bitfield aspects. */
  validate: boolean;
}

/** The root type as llvm-objdump -r spells it in CO-RE annotations ('struct tcp_sock', 'typedef seq_t'). */
export function objdumpTypeName(btf: ParsedBtf, id: number): string {
  const t = btf.types[id];
  if (t && t.kind === 'typedef') return `typedef ${t.name}`;
  return btf.typeName(id);
}

/** Throws a plain Error with the reason; the caller wraps it into an ObjectError with the place. */
export function resolveCoreRelo(btf: ParsedBtf, r: ExtCoreRelo): CoreResult {
  const kind = CORE_KINDS[r.kind];
  if (!kind) throw new Error(`unknown CO-RE relocation kind ${r.kind}`);
  if (r.typeId === 0) throw new Error('CO-RE relocation against type id 0 (void)');
  const acc = r.accessStr.split(':').map((s) => {
    if (!/^\d{1,9}$/.test(s)) throw new Error(`malformed access string '${r.accessStr}'`);
    return Number(s);
  });
  const rootName = objdumpTypeName(btf, r.typeId);

  if (kind.startsWith('type_')) {
    if (acc.length !== 1 || acc[0] !== 0) throw new Error(`type relocation needs access string '0', got '${r.accessStr}'`);
    const spec = rootName;
    switch (kind) {
      case 'type_id_local': case 'type_id_target': return { kind, spec, value: BigInt(r.typeId), validate: true };
      case 'type_exists': case 'type_matches': return { kind, spec, value: 1n, validate: true };
      default: return { kind, spec, value: BigInt(btf.sizeof(r.typeId)), validate: true };
    }
  }
  if (kind.startsWith('enumval_')) {
    const e = btf.resolve(r.typeId);
    if (e.kind !== 'enum' && e.kind !== 'enum64') throw new Error(`enum value relocation against ${rootName}, not an enum`);
    if (acc.length !== 1 || acc[0] >= e.values!.length) throw new Error(`enumerator index '${r.accessStr}' out of range for ${rootName} (${e.values!.length} values)`);
    const ev = e.values![acc[0]];
    const spec = `${rootName}::${ev.name} = ${ev.value}`;
    return { kind, spec, value: kind === 'enumval_exists' ? 1n : BigInt.asUintN(64, ev.value), validate: true };
  }

  // Field relocations: walk the accessors, as bpf_core_parse_spec does.
  let bitOff = acc[0] * btf.sizeof(r.typeId) * 8;
  let cur = r.typeId;
  let specText = rootName + (acc[0] ? `[${acc[0]}]` : '') + '::';
  let parts: string[] = [];
  let last: { parent: BtfType; idx: number } | null = null;
  for (let i = 1; i < acc.length; i++) {
    const t = btf.resolve(cur);
    const idx = acc[i];
    if (t.kind === 'struct' || t.kind === 'union') {
      const ms = t.members!;
      if (idx >= ms.length) throw new Error(`member index ${idx} out of range for ${btf.typeName(t.id)} (${ms.length} members), access '${r.accessStr}'`);
      const m = ms[idx];
      bitOff += m.bitOffset;
      cur = m.type;
      parts.push(m.name || `<anon ${idx}>`);
      last = { parent: t, idx };
    } else if (t.kind === 'array') {
      const a = t.array!;
      if (idx >= a.nelems && a.nelems !== 0) throw new Error(`array index ${idx} out of range (${a.nelems} elements), access '${r.accessStr}'`);
      bitOff += idx * btf.sizeof(a.type) * 8;
      cur = a.type;
      if (parts.length) parts[parts.length - 1] += `[${idx}]`;
      else parts.push(`[${idx}]`);
      last = null;
    } else {
      throw new Error(`access '${r.accessStr}' steps into ${btf.typeName(t.id)}, which is neither a struct, a union nor an array`);
    }
  }
  specText += parts.join('.');
  if (acc.length === 1) specText = rootName + (acc[0] ? `[${acc[0]}]` : '');
  const spec = specText;
  if (kind === 'field_exists') return { kind, spec, value: 1n, validate: true };

  if (!last) {
    // Array element or the root itself (bpf_core_calc_field_relo's "a[n] accessor" branch).
    if (kind === 'field_byte_offset') return { kind, spec, value: BigInt(bitOff >>> 3), validate: true };
    if (kind === 'field_byte_size') return { kind, spec, value: BigInt(btf.sizeof(cur)), validate: true };
    throw new Error(`${kind} cannot be applied to an array element access ('${r.accessStr}')`);
  }
  const m = last.parent.members![last.idx];
  const mt = btf.resolve(m.type);
  let bitSz = m.bitSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = mt.size ?? 0;
    if (byteSz <= 0) throw new Error(`bitfield ${spec} has a type without a size`);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    // Smallest power-of-two load, from the member's type size up, that covers the bits.
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new Error(`bitfield ${spec} cannot be read with a 64-bit load`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.sizeof(m.type);
    byteOff = bitOff >>> 3;
    bitSz = byteSz * 8;
  }
  switch (kind) {
    case 'field_byte_offset': return { kind, spec, value: BigInt(byteOff), validate: !bitfield };
    case 'field_byte_size': return { kind, spec, value: BigInt(byteSz), validate: !bitfield };
    case 'field_signed': {
      const signed = ((mt.kind === 'enum' || mt.kind === 'enum64') && mt.signed) || (mt.kind === 'int' && mt.int!.signed);
      return { kind, spec, value: signed ? 1n : 0n, validate: true };
    }
    case 'field_lshift_u64': return { kind, spec, value: BigInt(64 - (bitOff + bitSz - byteOff * 8)), validate: !bitfield };
    case 'field_rshift_u64': return { kind, spec, value: BigInt(64 - bitSz), validate: true };
    default: throw new Error(`unexpected field relocation kind ${kind}`);
  }
}

/** Patches insns[pc] (and pc+1 for ld_imm64) with the value; returns an error text or null. */
export function patchCoreInsn(insns: Insn[], pc: number, res: CoreResult): string | null {
  const insn = insns[pc];
  const cls = insn.code & 7;
  const v = res.value;
  switch (cls) {
    case 4: case 7: { // ALU, ALU64 with an immediate operand
      if ((insn.code & 0x08) !== 0) return `CO-RE ${res.kind} on an ALU instruction with a register operand (opcode 0x${insn.code.toString(16)})`;
      if (res.validate && BigInt(insn.imm >>> 0) !== (v & 0xffffffffn) && BigInt(insn.imm) !== v) return `compiler put ${insn.imm} in the immediate but the local BTF gives ${v}; the object and its BTF disagree`;
      insn.imm = Number(BigInt.asIntN(32, v));
      return null;
    }
    case 1: case 2: case 3: { // LDX, ST, STX: the offset
      if (res.validate && BigInt(insn.off) !== v) return `compiler put offset ${insn.off} in the instruction but the local BTF gives ${v}; the object and its BTF disagree`;
      if (v > 0x7fffn) return `offset ${v} does not fit the 16-bit instruction offset`;
      insn.off = Number(v);
      return null;
    }
    case 0: { // ld_imm64
      const next = insns[pc + 1];
      if (insn.code !== 0x18 || !next || insn.src !== 0 || insn.off !== 0 || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) return 'CO-RE relocation on a malformed ld_imm64';
      const cur = (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      if (res.validate && cur !== v) return `compiler put ${cur} in ld_imm64 but the local BTF gives ${v}; the object and its BTF disagree`;
      insn.imm = Number(BigInt.asIntN(32, v));
      next.imm = Number(BigInt.asIntN(32, v >> 32n));
      return null;
    }
    default:
      return `CO-RE relocation on an instruction of class ${cls} (opcode 0x${insn.code.toString(16)}) that carries no patchable value`;
  }
}
