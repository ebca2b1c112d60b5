// Tristate numbers, as kernel/bpf/tnum.c: a 64-bit value whose bits are each 0, 1 or unknown.
// `value` holds the known 1 bits, `mask` the unknown bits (value & mask == 0). All operations
// mirror the kernel functions of the same name (tnum_add, tnum_and, tnum_range, ...). BigInt,
// always kept in [0, 2^64).
export interface Tnum { readonly value: bigint; readonly mask: bigint }

export const U64 = (1n << 64n) - 1n;
export const U32 = 0xffffffffn;
const u64 = (v: bigint): bigint => v & U64;

export const tnum = (value: bigint, mask: bigint): Tnum => ({ value: u64(value) & ~u64(mask) & U64, mask: u64(mask) });
export const tnumConst = (v: bigint): Tnum => ({ value: u64(v), mask: 0n });
export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64 };

/** fls64: the 1-based index of the highest set bit (0 for 0), without building a string. */
function fls64(x: bigint): number {
  if (x === 0n) return 0;
  const hi = Number(x >> 32n);
  return hi ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x & 0xffffffffn));
}

/** tnum_range: the smallest tnum holding every value of [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  min = u64(min); max = u64(max);
  const chi = min ^ max;
  const bits = fls64(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return tnum(min & ~delta, delta);
}

export const tnumIsConst = (a: Tnum): boolean => a.mask === 0n;
export const tnumIsUnknown = (a: Tnum): boolean => a.mask === U64;
export const tnumEquals = (a: Tnum, b: Tnum): boolean => a.value === b.value && a.mask === b.mask;

export function tnumLshift(a: Tnum, sh: number): Tnum { return tnum(a.value << BigInt(sh), a.mask << BigInt(sh)); }
export function tnumRshift(a: Tnum, sh: number): Tnum { return tnum(a.value >> BigInt(sh), a.mask >> BigInt(sh)); }
/** tnum_arshift with insn bitness 32 or 64. */
export function tnumArshift(a: Tnum, sh: number, bits: 32 | 64): Tnum {
  const s = BigInt(sh);
  if (bits === 32) {
    const v = BigInt.asIntN(32, a.value) >> s, m = BigInt.asIntN(32, a.mask) >> s;
    return tnum(BigInt.asUintN(32, v), BigInt.asUintN(32, m));
  }
  return tnum(BigInt.asIntN(64, a.value) >> s, BigInt.asIntN(64, a.mask) >> s);
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.mask + b.mask);
  const sv = u64(a.value + b.value);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return tnum(sv & ~mu, mu);
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.value - b.value);
  const alpha = u64(dv + a.mask);
  const beta = u64(dv - b.mask);
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return tnum(dv & ~mu, mu);
}

export function tnumNeg(a: Tnum): Tnum { return tnumSub(tnumConst(0n), a); }

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask, beta = b.value | b.mask;
  const v = a.value & b.value;
  return tnum(v, alpha & beta & ~v);
}
export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return tnum(v, mu & ~v);
}
export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return tnum(v & ~mu, mu);
}

/** tnum_mul (7.1.5: per bit of a, the union of "add b" and "add nothing" when the bit is unknown). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let acc = tnumConst(0n);
  let x = a, y = b;
  while (x.value || x.mask) {
    if (x.value & 1n) acc = tnumAdd(acc, y);
    else if (x.mask & 1n) acc = tnumUnion(acc, tnumAdd(acc, y));
    x = tnumRshift(x, 1);
    y = tnumLshift(y, 1);
  }
  return acc;
}

export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return tnum(v & ~mu, mu);
}
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const v = a.value & b.value;
  const mu = a.mask | b.mask | (a.value ^ b.value);
  return tnum(v & ~mu, mu);
}
/** tnum_cast to `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  if (size >= 8) return a;
  const m = (1n << BigInt(size * 8)) - 1n;
  return tnum(a.value & m, a.mask & m);
}
/** tnum_in(a, b): every value b can hold, a can hold too. */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if (b.mask & ~a.mask) return false;
  return a.value === (b.value & ~a.mask);
}
export const tnumSubreg = (a: Tnum): Tnum => tnumCast(a, 4);
export const tnumClearSubreg = (a: Tnum): Tnum => tnumLshift(tnumRshift(a, 32), 32);
export const tnumWithSubreg = (reg: Tnum, sub: Tnum): Tnum => tnumOr(tnumClearSubreg(reg), tnumSubreg(sub));
export const tnumConstSubreg = (a: Tnum, v: bigint): Tnum => tnumWithSubreg(a, tnumConst(v & U32));

/** tnum_strn: "(0x0; 0xff)" or the constant, as the verifier log prints var_off. */
export function tnumStr(a: Tnum): string {
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}
