// C values for the debugger's expressions and views: a value has a C type (from DWARF, BTF or a
// built-in name) and lives in guest memory (an address), in a register of a frame, or nowhere
// (computed). Integer rules follow C: promotions, the usual arithmetic conversions, wrapping.
import type { Btf } from '../object/types';
import { type CMember, type CType, sizeOf, stripType, typeName } from '../object/dwarf/index';

export { type CType, sizeOf, stripType, typeName };

/** Guest memory as the evaluator sees it: reads throw with the address when it is unmapped. */
export interface Mem {
  read(addr: bigint, n: number): Uint8Array;
}

export interface CValue {
  type: CType;
  /** An lvalue in guest memory. */
  addr?: bigint;
  /** An lvalue in register `reg` of the frame (bytes hold its value). */
  reg?: number;
  /** The contents when not in memory (computed values, registers), little-endian. */
  bytes?: Uint8Array;
  /** A bit field: bits [bitOffset, bitOffset + bitSize) of the storage at addr/bytes. */
  bitOffset?: number;
  bitSize?: number;
}

const base = (name: string, size: number, signed: boolean, extra: Partial<{ bool: boolean; char: boolean }> = {}): CType =>
  ({ kind: 'base', name, size, signed, bool: !!extra.bool, float: false, char: !!extra.char });

export const INT = base('int', 4, true);
export const UINT = base('unsigned int', 4, false);
export const LONG = base('long', 8, true);
export const ULONG = base('unsigned long', 8, false);
export const U64 = base('u64', 8, false);
export const VOID: CType = { kind: 'void' };

/** Type names every C compiler knows, and the kernel's short integer names. */
export const BUILTIN_TYPES: Record<string, CType> = {
  char: base('char', 1, true, { char: true }), 'signed char': base('signed char', 1, true, { char: true }), 'unsigned char': base('unsigned char', 1, false, { char: true }),
  short: base('short', 2, true), 'unsigned short': base('unsigned short', 2, false), int: INT, 'unsigned int': UINT, unsigned: UINT, signed: INT,
  long: LONG, 'unsigned long': ULONG, 'long long': base('long long', 8, true), 'unsigned long long': base('unsigned long long', 8, false),
  _Bool: base('_Bool', 1, false, { bool: true }), bool: base('_Bool', 1, false, { bool: true }), void: VOID,
  u8: base('u8', 1, false), u16: base('u16', 2, false), u32: base('u32', 4, false), u64: U64,
  s8: base('s8', 1, true), s16: base('s16', 2, true), s32: base('s32', 4, true), s64: base('s64', 8, true),
  __u8: base('__u8', 1, false), __u16: base('__u16', 2, false), __u32: base('__u32', 4, false), __u64: base('__u64', 8, false),
  __s8: base('__s8', 1, true), __s16: base('__s16', 2, true), __s32: base('__s32', 4, true), __s64: base('__s64', 8, true),
  __be16: base('__be16', 2, false), __be32: base('__be32', 4, false), __le16: base('__le16', 2, false), __le32: base('__le32', 4, false),
  size_t: ULONG, ssize_t: LONG, uintptr_t: ULONG, intptr_t: LONG,
  uint8_t: base('uint8_t', 1, false), uint16_t: base('uint16_t', 2, false), uint32_t: base('uint32_t', 4, false), uint64_t: base('uint64_t', 8, false),
  int8_t: base('int8_t', 1, true), int16_t: base('int16_t', 2, true), int32_t: base('int32_t', 4, true), int64_t: base('int64_t', 8, true),
};

export function pointerTo(t: CType): CType {
  return { kind: 'pointer', to: t, size: 8 };
}

export function isInteger(t: CType): boolean {
  const s = stripType(t);
  return (s.kind === 'base' && !s.float) || s.kind === 'enum';
}
export function isPointer(t: CType): boolean {
  return stripType(t).kind === 'pointer';
}
export function isScalar(t: CType): boolean {
  return isInteger(t) || isPointer(t);
}
/** The integer shape of a scalar type: size in bytes and signedness (pointers: unsigned 8). */
export function intShape(t: CType): { size: number; signed: boolean } {
  const s = stripType(t);
  if (s.kind === 'base') return { size: s.size || 8, signed: s.signed };
  if (s.kind === 'enum') return { size: s.size || 4, signed: s.signed };
  return { size: 8, signed: false };
}

/** Integer promotion (C11 6.3.1.1): anything narrower than int becomes int. */
export function promote(t: CType): CType {
  const { size } = intShape(t);
  if (stripType(t).kind === 'enum') return size > 4 ? intShape(t).signed ? LONG : ULONG : INT;
  return size < 4 ? INT : t;
}

/** The usual arithmetic conversions (C11 6.3.1.8) of two promoted integer types. */
export function common(a: CType, b: CType): CType {
  const x = intShape(a), y = intShape(b);
  if (x.size === y.size && x.signed === y.signed) return x.size >= y.size ? a : b;
  if (x.signed === y.signed) return x.size > y.size ? a : b;
  const [u, uT, s, sT] = x.signed ? [y, b, x, a] : [x, a, y, b];
  if (u.size >= s.size) return uT;
  return s.size > u.size ? sT : uT;
}

/** A value of type t from an integer (wrapped to t's width). */
export function fromInt(t: CType, v: bigint): CValue {
  const { size } = intShape(t);
  return { type: t, bytes: leBytes(BigInt.asUintN(size * 8, v), size) };
}

export function leBytes(v: bigint, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) { b[i] = Number(x & 0xffn); x >>= 8n; }
  return b;
}
export function leInt(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** The bytes of a value (its size), read from memory when it lives there. */
export function contents(v: CValue, mem: Mem): Uint8Array {
  const n = Math.max(1, sizeOf(v.type));
  if (v.bytes) return v.bytes.length >= n ? v.bytes.subarray(0, n) : (() => { const b = new Uint8Array(n); b.set(v.bytes!); return b; })();
  if (v.addr !== undefined) return mem.read(v.addr, n);
  throw new Error(`the value of type ${typeName(v.type)} has no contents`);
}

/** A scalar as a bigint, sign-extended when its type is signed. */
export function scalar(v: CValue, mem: Mem): bigint {
  const t = stripType(v.type);
  if (t.kind === 'array' && v.addr !== undefined) return v.addr; // decays to a pointer
  if (t.kind === 'func' && v.addr !== undefined) return v.addr;
  if (!isScalar(v.type)) throw new Error(`${typeName(v.type)} is not a number`);
  const { size, signed } = intShape(v.type);
  if (v.bitSize !== undefined) {
    const nb = Math.ceil(((v.bitOffset ?? 0) + v.bitSize) / 8);
    const raw = v.bytes ?? mem.read(v.addr!, nb);
    const x = (leInt(raw.subarray(0, nb)) >> BigInt(v.bitOffset ?? 0)) & ((1n << BigInt(v.bitSize)) - 1n);
    return signed ? BigInt.asIntN(v.bitSize, x) : x;
  }
  const b = v.bytes ? v.bytes.subarray(0, size) : mem.read(v.addr!, size);
  const x = leInt(b);
  if (t.kind === 'base' && t.bool) return x ? 1n : 0n;
  return signed ? BigInt.asIntN(size * 8, x) : x;
}

/** A BTF type as a C type (for casts to types the object's BTF has but its DWARF lacks). */
export function fromBtf(btf: Btf, id: number, seen = new Map<number, CType>()): CType {
  const got = seen.get(id);
  if (got) return got;
  const t = btf.types[id];
  if (!t || t.kind === 'void') return VOID;
  switch (t.kind) {
    case 'int': return base(t.name, t.size ?? 4, !!t.int?.signed, { bool: t.int?.bool, char: t.int?.char });
    case 'enum': case 'enum64': return { kind: 'enum', name: t.name, size: t.size ?? 4, signed: !!t.signed, values: (t.values ?? []).map((v) => ({ name: v.name, value: v.value })) };
    case 'ptr': { const p = { kind: 'pointer', to: VOID, size: 8 } as { kind: 'pointer'; to: CType; size: number }; seen.set(id, p); p.to = fromBtf(btf, t.type ?? 0, seen); return p; }
    case 'typedef': { const d = { kind: 'typedef', name: t.name, to: VOID } as { kind: 'typedef'; name: string; to: CType }; seen.set(id, d); d.to = fromBtf(btf, t.type ?? 0, seen); return d; }
    case 'const': case 'volatile': case 'restrict': { const q = { kind: 'qual', qual: t.kind, to: VOID } as { kind: 'qual'; qual: 'const'; to: CType }; seen.set(id, q); q.to = fromBtf(btf, t.type ?? 0, seen); return q; }
    case 'type_tag': return fromBtf(btf, t.type ?? 0, seen);
    case 'array': return { kind: 'array', elem: fromBtf(btf, t.array!.type, seen), count: t.array!.nelems };
    case 'struct': case 'union': {
      const s = { kind: t.kind, name: t.name, size: t.size ?? 0, members: [], incomplete: false } as Extract<CType, { kind: 'struct' | 'union' }>;
      seen.set(id, s);
      for (const m of t.members ?? []) {
        const mem: CMember = { name: m.name, type: fromBtf(btf, m.type, seen), offset: Math.floor(m.bitOffset / 8) };
        if (m.bitSize) { mem.bitSize = m.bitSize; mem.bitOffset = m.bitOffset % 8; }
        s.members.push(mem);
      }
      return s;
    }
    case 'fwd': return { kind: 'struct', name: t.name, size: 0, members: [], incomplete: true };
    case 'func_proto': return { kind: 'func', ret: fromBtf(btf, t.type ?? 0, seen) };
    default: return VOID;
  }
}
