// Scalar bounds as the verifier tracks them (kernel/bpf/verifier.c, 7.1.5): a tnum plus signed and
// unsigned 64- and 32-bit ranges, kept consistent by reg_bounds_sync(); the ALU rules of
// adjust_scalar_min_max_vals (scalar_min_max_add & co, each with its 32-bit twin) and the branch
// rules of is_scalar_branch_taken / regs_refine_cond_op. Values are BigInt: unsigned fields in
// [0, 2^w), signed fields in [-2^(w-1), 2^(w-1)).
import {
  type Tnum, TNUM_UNKNOWN, U32, U64, tnumAdd, tnumAnd, tnumArshift, tnumCast, tnumClearSubreg, tnumConst, tnumIn,
  tnumIntersect, tnumIsConst, tnumLshift, tnumMul, tnumOr, tnumRange, tnumRshift, tnumSub, tnumSubreg, tnumXor,
} from './tnum';

export interface Scalar {
  varOff: Tnum;
  smin: bigint; smax: bigint; umin: bigint; umax: bigint;
  s32min: bigint; s32max: bigint; u32min: bigint; u32max: bigint;
}

export const S64_MIN = -(1n << 63n), S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n), S32_MAX = (1n << 31n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const s32 = (v: bigint) => BigInt.asIntN(32, v);
const u32 = (v: bigint) => BigInt.asUintN(32, v);
const u64 = (v: bigint) => BigInt.asUintN(64, v);
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

export function unknownScalar(): Scalar {
  return { varOff: TNUM_UNKNOWN, smin: S64_MIN, smax: S64_MAX, umin: 0n, umax: U64, s32min: S32_MIN, s32max: S32_MAX, u32min: 0n, u32max: U32 };
}
/** __mark_reg_known */
export function constScalar(v: bigint): Scalar {
  const u = u64(v);
  return { varOff: tnumConst(u), smin: s64(u), smax: s64(u), umin: u, umax: u, s32min: s32(u), s32max: s32(u), u32min: u32(u), u32max: u32(u) };
}
/** A scalar known to lie in [0, 2^(8*size)) (a zero-extended load of `size` bytes). */
const SIZED: Scalar[] = [];
/** Scalars are never changed once built (every operation works on a copy), so the common ones are
 *  shared. */
export function sizedScalar(size: number): Scalar {
  if (size >= 8) return unknownScalar();
  return (SIZED[size] ??= sizedScalarNew(size));
}
function sizedScalarNew(size: number): Scalar {
  const r = unknownScalar();
  r.varOff = tnumRange(0n, (1n << BigInt(size * 8)) - 1n);
  return sync(r);
}
/** A scalar in [lo, hi] (signed 64-bit), e.g. a helper's return range. */
export function rangeScalar(lo: bigint, hi: bigint): Scalar {
  const r = unknownScalar();
  r.smin = lo; r.smax = hi;
  return sync(r);
}

export const isConst = (r: Scalar): boolean => tnumIsConst(r.varOff);
export const constValue = (r: Scalar): bigint => r.varOff.value;
export const isConst32 = (r: Scalar): boolean => tnumIsConst(tnumSubreg(r.varOff));
export const cloneScalar = (r: Scalar): Scalar => ({ ...r });

function reset64(r: Scalar) { r.smin = S64_MIN; r.smax = S64_MAX; r.umin = 0n; r.umax = U64; }
function reset32(r: Scalar) { r.s32min = S32_MIN; r.s32max = S32_MAX; r.u32min = 0n; r.u32max = U32; }

function update32(r: Scalar) {
  const t = tnumSubreg(r.varOff);
  r.s32min = max(r.s32min, s32(t.value | (t.mask & 0x80000000n)));
  r.s32max = min(r.s32max, s32(t.value | (t.mask & 0x7fffffffn)));
  r.u32min = max(r.u32min, t.value);
  r.u32max = min(r.u32max, t.value | t.mask);
}
function update64(r: Scalar) {
  const t = r.varOff;
  r.smin = max(r.smin, s64(t.value | (t.mask & (1n << 63n))));
  r.smax = min(r.smax, s64(t.value | (t.mask & S64_MAX)));
  r.umin = max(r.umin, t.value);
  r.umax = min(r.umax, t.value | t.mask);
}
function boundOffset(r: Scalar) {
  const v64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(r.u32min, r.u32max));
  r.varOff = tnumOr(tnumClearSubreg(v64), v32);
}
function deduce32from64(r: Scalar) {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = max(r.u32min, u32(r.umin));
    r.u32max = min(r.u32max, u32(r.umax));
    if (s32(r.umin) <= s32(r.umax)) { r.s32min = max(r.s32min, s32(r.umin)); r.s32max = min(r.s32max, s32(r.umax)); }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (u32(r.smin) <= u32(r.smax)) { r.u32min = max(r.u32min, u32(r.smin)); r.u32max = min(r.u32max, u32(r.smax)); }
    if (s32(r.smin) <= s32(r.smax)) { r.s32min = max(r.s32min, s32(r.smin)); r.s32max = min(r.s32max, s32(r.smax)); }
  }
  if (u32(r.umin >> 32n) + 1n === u32(r.umax >> 32n) && s32(r.umin) < 0n && s32(r.umax) >= 0n) {
    r.s32min = max(r.s32min, s32(r.umin)); r.s32max = min(r.s32max, s32(r.umax));
  }
  if (u32(r.smin >> 32n) + 1n === u32(r.smax >> 32n) && s32(r.smin) < 0n && s32(r.smax) >= 0n) {
    r.s32min = max(r.s32min, s32(r.smin)); r.s32max = min(r.s32max, s32(r.smax));
  }
}
function deduce32from32(r: Scalar) {
  if (s32(r.u32min) <= s32(r.u32max)) { r.s32min = max(r.s32min, s32(r.u32min)); r.s32max = min(r.s32max, s32(r.u32max)); }
  if (u32(r.s32min) <= u32(r.s32max)) { r.u32min = max(r.u32min, u32(r.s32min)); r.u32max = min(r.u32max, u32(r.s32max)); }
  else if (r.u32max < u32(r.s32min)) { r.s32min = s32(r.u32min); r.u32max = min(r.u32max, u32(r.s32max)); }
  else if (u32(r.s32max) < r.u32min) { r.s32max = s32(r.u32max); r.u32min = max(r.u32min, u32(r.s32min)); }
}
function deduce64from64(r: Scalar) {
  if (s64(r.umin) <= s64(r.umax)) { r.smin = max(r.smin, s64(r.umin)); r.smax = min(r.smax, s64(r.umax)); }
  if (u64(r.smin) <= u64(r.smax)) { r.umin = max(r.umin, u64(r.smin)); r.umax = min(r.umax, u64(r.smax)); }
  else if (r.umax < u64(r.smin)) { r.smin = s64(r.umin); r.umax = min(r.umax, u64(r.smax)); }
  else if (u64(r.smax) < r.umin) { r.smax = s64(r.umax); r.umin = max(r.umin, u64(r.smin)); }
}
function deduce64from32(r: Scalar) {
  const hi = ~U32 & U64;
  r.umin = max(r.umin, (r.umin & hi) | r.u32min);
  r.umax = min(r.umax, (r.umax & hi) | r.u32max);
  r.smin = max(r.smin, s64((u64(r.smin) & hi) | r.u32min));
  r.smax = min(r.smax, s64((u64(r.smax) & hi) | r.u32max));
  if (r.s32min >= 0n && r.smin >= S32_MIN && r.smax <= S32_MAX) {
    r.smin = r.s32min; r.smax = r.s32max; r.umin = u64(r.s32min); r.umax = u64(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(u64(r.smin), u64(r.smax)));
  }
}
function deduce(r: Scalar) {
  boundOffset(r); update64(r); update32(r); deduce64from64(r);
  deduce32from64(r);
  deduce32from32(r);
  deduce64from32(r);
}

/** A contradiction (min > max): the path cannot happen (range_bounds_violation). */
export function violated(r: Scalar): boolean {
  if (r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max) return true;
  return false;
}

/** reg_bounds_sync. Mutates and returns r. */
export function sync(r: Scalar): Scalar {
  if (violated(r)) return r;
  update32(r); update64(r);
  // deduce() is a function of the fields alone: once a round changes nothing, the rest (a second
  // round, bound_offset, update_reg_bounds, all part of a round) changes nothing either
  const v = r.varOff, smin = r.smin, smax = r.smax, umin = r.umin, umax = r.umax, s32min = r.s32min, s32max = r.s32max, u32min = r.u32min, u32max = r.u32max;
  deduce(r);
  if (r.varOff.value === v.value && r.varOff.mask === v.mask && r.smin === smin && r.smax === smax && r.umin === umin && r.umax === umax &&
    r.s32min === s32min && r.s32max === s32max && r.u32min === u32min && r.u32max === u32max) return r;
  deduce(r);
  boundOffset(r);
  update32(r); update64(r);
  return r;
}

/** zext_32_to_64: the result of a 32-bit ALU op. */
export function zext32(r: Scalar): Scalar {
  r.varOff = tnumSubreg(r.varOff);
  r.umin = r.u32min; r.umax = r.u32max;
  if (r.s32min >= 0n) { r.smin = r.s32min; r.smax = r.s32max; } else { r.smin = 0n; r.smax = U32; }
  return sync(r);
}

export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'sdiv' | 'mod' | 'smod' | 'or' | 'and' | 'lsh' | 'rsh' | 'arsh' | 'xor' | 'neg' | 'mov';

const overflowsU = (v: bigint, w: bigint) => v < 0n || v >= 1n << w;
const overflowsS = (v: bigint, w: bigint) => v < -(1n << (w - 1n)) || v >= 1n << (w - 1n);

/** The scalar result of `dst = dst OP src` (64-bit ALU when alu64, else 32-bit with zero
 *  extension), as adjust_scalar_min_max_vals computes it. Shifts by a non-constant or too-large
 *  amount give an unknown value, as the kernel does. */
export function aluScalar(op: AluOp, dst: Scalar, src: Scalar, alu64: boolean): Scalar {
  if (op === 'mov') return alu64 ? cloneScalar(src) : zext32(cloneScalar(src));
  const w = alu64 ? 64n : 32n;
  // Both known: compute exactly (the kernel's tnum and range rules agree on constants).
  const known = alu64 ? isConst(dst) && isConst(src) : isConst32(dst) && isConst32(src);
  if (known) {
    const v = constFold(op, alu64 ? dst.varOff.value : u32(dst.varOff.value), alu64 ? src.varOff.value : u32(src.varOff.value), alu64);
    if (v !== undefined) return constScalar(alu64 ? v : u32(v));
  }
  const r = cloneScalar(dst);
  const shiftOk = isConst(src) && src.varOff.value < w;
  const sh = Number(src.varOff.value);
  // 32-bit view [min,max] of dst/src in the ALU's width
  const D = view(dst, alu64), S = view(src, alu64);
  let res: View;
  switch (op) {
    case 'add': {
      const t = tnumAdd(D.t, S.t);
      let smin = D.smin + S.smin, smax = D.smax + S.smax;
      if (overflowsS(smin, w) || overflowsS(smax, w)) { smin = sMin(w); smax = sMax(w); }
      let umin = D.umin + S.umin, umax = D.umax + S.umax;
      const minOv = overflowsU(umin, w), maxOv = overflowsU(umax, w);
      if (!minOv && maxOv) { umin = 0n; umax = uMax(w); } else { umin = BigInt.asUintN(Number(w), umin); umax = BigInt.asUintN(Number(w), umax); }
      res = { t, smin, smax, umin, umax };
      break;
    }
    case 'sub': {
      const t = tnumSub(D.t, S.t);
      let smin = D.smin - S.smax, smax = D.smax - S.smin;
      if (overflowsS(smin, w) || overflowsS(smax, w)) { smin = sMin(w); smax = sMax(w); }
      let umin = D.umin - S.umax, umax = D.umax - S.umin;
      const minOv = overflowsU(umin, w), maxOv = overflowsU(umax, w);
      if (minOv && !maxOv) { umin = 0n; umax = uMax(w); } else { umin = BigInt.asUintN(Number(w), umin); umax = BigInt.asUintN(Number(w), umax); }
      res = { t, smin, smax, umin, umax };
      break;
    }
    case 'mul': {
      const t = tnumMul(D.t, S.t);
      let umin = D.umin * S.umin, umax = D.umax * S.umax;
      if (overflowsU(umax, w) || overflowsU(umin, w)) { umin = 0n; umax = uMax(w); }
      const p = [D.smin * S.smin, D.smin * S.smax, D.smax * S.smin, D.smax * S.smax];
      let smin = sMin(w), smax = sMax(w);
      if (!p.some((x) => overflowsS(x, w))) { smin = p.reduce(min); smax = p.reduce(max); }
      res = { t, smin, smax, umin, umax };
      break;
    }
    case 'and': {
      const t = tnumAnd(D.t, S.t);
      const umin = t.value, umax = min(D.umax, S.umax);
      const sOk = toS(umin, w) <= toS(umax, w);
      res = { t, umin, umax, smin: sOk ? toS(umin, w) : sMin(w), smax: sOk ? toS(umax, w) : sMax(w) };
      break;
    }
    case 'or': {
      const t = tnumOr(D.t, S.t);
      const umin = max(D.umin, S.umin), umax = t.value | t.mask;
      const sOk = toS(umin, w) <= toS(umax, w);
      res = { t, umin, umax, smin: sOk ? toS(umin, w) : sMin(w), smax: sOk ? toS(umax, w) : sMax(w) };
      break;
    }
    case 'xor': {
      const t = tnumXor(D.t, S.t);
      const umin = t.value, umax = t.value | t.mask;
      const sOk = toS(umin, w) <= toS(umax, w);
      res = { t, umin, umax, smin: sOk ? toS(umin, w) : sMin(w), smax: sOk ? toS(umax, w) : sMax(w) };
      break;
    }
    case 'lsh': {
      if (!shiftOk) return unknownOf(alu64);
      const t = tnumCast(tnumLshift(D.t, sh), Number(w) / 8);
      // scalar_min_max_lsh: exact unless bits fall off the top
      const ok = D.umax < 1n << (w - BigInt(sh));
      res = ok ? { t, umin: D.umin << BigInt(sh), umax: D.umax << BigInt(sh), smin: sMin(w), smax: sMax(w) } : { t, umin: 0n, umax: uMax(w), smin: sMin(w), smax: sMax(w) };
      if (ok && toS(res.umin, w) <= toS(res.umax, w)) { res.smin = toS(res.umin, w); res.smax = toS(res.umax, w); }
      break;
    }
    case 'rsh': {
      if (!shiftOk) return unknownOf(alu64);
      const t = tnumRshift(D.t, sh);
      res = { t, umin: D.umin >> BigInt(sh), umax: D.umax >> BigInt(sh), smin: sMin(w), smax: sMax(w) };
      if (toS(res.umin, w) <= toS(res.umax, w)) { res.smin = toS(res.umin, w); res.smax = toS(res.umax, w); }
      break;
    }
    case 'arsh': {
      if (!shiftOk) return unknownOf(alu64);
      const t = tnumArshift(D.t, sh, alu64 ? 64 : 32);
      const smin = D.smin >> BigInt(sh), smax = D.smax >> BigInt(sh);
      res = { t, smin, smax, umin: 0n, umax: uMax(w) };
      break;
    }
    case 'neg': {
      const t = tnumSub(tnumConst(0n), D.t);
      res = { t: alu64 ? t : tnumSubreg(t), smin: sMin(w), smax: sMax(w), umin: 0n, umax: uMax(w) };
      break;
    }
    case 'div': case 'mod': {
      // scalar_min_max_udiv / umod with a constant non-zero divisor; else unknown
      if (!(S.umin === S.umax && S.umin !== 0n)) return unknownOf(alu64);
      const c = S.umin;
      if (op === 'div') res = { t: TNUM_UNKNOWN_W(w), umin: D.umin / c, umax: D.umax / c, smin: sMin(w), smax: sMax(w) };
      else res = { t: TNUM_UNKNOWN_W(w), umin: D.umax < c ? D.umin : 0n, umax: min(D.umax, c - 1n), smin: sMin(w), smax: sMax(w) };
      if (toS(res.umin, w) <= toS(res.umax, w)) { res.smin = toS(res.umin, w); res.smax = toS(res.umax, w); }
      break;
    }
    default:
      return unknownOf(alu64);
  }
  if (alu64) {
    r.varOff = res.t; r.smin = res.smin; r.smax = res.smax; r.umin = res.umin; r.umax = res.umax;
    // the 32-bit halves follow the same rule for add/sub/mul/and/or/xor/lsh (scalar32_min_max_*)
    if (['add', 'sub', 'mul', 'and', 'or', 'xor'].includes(op)) {
      const r32 = aluScalar(op, dst, src, false);
      r.s32min = r32.s32min; r.s32max = r32.s32max; r.u32min = r32.u32min; r.u32max = r32.u32max;
    } else reset32(r);
    return sync(r);
  }
  r.varOff = tnumSubreg(res.t);
  r.s32min = res.smin; r.s32max = res.smax; r.u32min = res.umin; r.u32max = res.umax;
  reset64(r);
  return zext32(r);
}

interface View { t: Tnum; smin: bigint; smax: bigint; umin: bigint; umax: bigint }
function view(r: Scalar, alu64: boolean): View {
  return alu64 ? { t: r.varOff, smin: r.smin, smax: r.smax, umin: r.umin, umax: r.umax } : { t: tnumSubreg(r.varOff), smin: r.s32min, smax: r.s32max, umin: r.u32min, umax: r.u32max };
}
const sMin = (w: bigint) => -(1n << (w - 1n));
const sMax = (w: bigint) => (1n << (w - 1n)) - 1n;
const uMax = (w: bigint) => (1n << w) - 1n;
const toS = (v: bigint, w: bigint) => BigInt.asIntN(Number(w), v);
const TNUM_UNKNOWN_W = (w: bigint): Tnum => (w === 64n ? TNUM_UNKNOWN : { value: 0n, mask: U32 });
function unknownOf(alu64: boolean): Scalar {
  const r = unknownScalar();
  return alu64 ? r : zext32(r);
}

/** The value of an ALU op on known operands (the interpreter's semantics: division by zero gives
 *  0, modulo by zero keeps dst). */
export function constFold(op: AluOp, a: bigint, b: bigint, alu64: boolean): bigint | undefined {
  const W = alu64 ? 64 : 32;
  const u = (v: bigint) => BigInt.asUintN(W, v), s = (v: bigint) => BigInt.asIntN(W, v);
  const m = BigInt(W - 1);
  switch (op) {
    case 'add': return u(a + b);
    case 'sub': return u(a - b);
    case 'mul': return u(a * b);
    case 'div': return b === 0n ? 0n : u(u(a) / u(b));
    case 'mod': return b === 0n ? u(a) : u(u(a) % u(b));
    case 'sdiv': return s(b) === 0n ? 0n : u(s(a) / s(b));
    case 'smod': return s(b) === 0n ? u(a) : u(s(a) % s(b));
    case 'or': return u(a | b);
    case 'and': return u(a & b);
    case 'xor': return u(a ^ b);
    case 'lsh': return u(a << (b & m));
    case 'rsh': return u(u(a) >> (b & m));
    case 'arsh': return u(s(a) >> (b & m));
    case 'neg': return u(-a);
    case 'mov': return u(b);
  }
  return undefined;
}

// ---- conditional jumps ----
export type CondOp = 'jeq' | 'jne' | 'jgt' | 'jge' | 'jlt' | 'jle' | 'jsgt' | 'jsge' | 'jslt' | 'jsle' | 'jset';

interface Bounds { umin: bigint; umax: bigint; smin: bigint; smax: bigint; t: Tnum }
const b64 = (r: Scalar): Bounds => ({ umin: r.umin, umax: r.umax, smin: r.smin, smax: r.smax, t: r.varOff });
const b32 = (r: Scalar): Bounds => ({ umin: r.u32min, umax: r.u32max, smin: r.s32min, smax: r.s32max, t: tnumSubreg(r.varOff) });

/** is_scalar_branch_taken: 1 taken always, 0 never, -1 unknown. */
export function branchTaken(a: Scalar, b: Scalar, op: CondOp, is32: boolean): 1 | 0 | -1 {
  const x = is32 ? b32(a) : b64(a), y = is32 ? b32(b) : b64(b);
  const xc = tnumIsConst(x.t), yc = tnumIsConst(y.t);
  switch (op) {
    case 'jeq':
      if (xc && yc) return x.t.value === y.t.value ? 1 : 0;
      if (x.umin > y.umax || x.umax < y.umin || x.smin > y.smax || x.smax < y.smin) return 0;
      return (x.t.value ^ y.t.value) & ~(x.t.mask | y.t.mask) ? 0 : -1;
    case 'jne': {
      const r = branchTaken(a, b, 'jeq', is32);
      return r === -1 ? -1 : r === 1 ? 0 : 1;
    }
    case 'jset':
      if ((x.t.value & y.t.value) !== 0n) return 1;
      if (((x.t.value | x.t.mask) & (y.t.value | y.t.mask)) === 0n) return 0;
      return -1;
    case 'jgt': return x.umin > y.umax ? 1 : x.umax <= y.umin ? 0 : -1;
    case 'jsgt': return x.smin > y.smax ? 1 : x.smax <= y.smin ? 0 : -1;
    case 'jlt': return x.umax < y.umin ? 1 : x.umin >= y.umax ? 0 : -1;
    case 'jslt': return x.smax < y.smin ? 1 : x.smin >= y.smax ? 0 : -1;
    case 'jge': return x.umin >= y.umax ? 1 : x.umax < y.umin ? 0 : -1;
    case 'jsge': return x.smin >= y.smax ? 1 : x.smax < y.smin ? 0 : -1;
    case 'jle': return x.umax <= y.umin ? 1 : x.umin > y.umax ? 0 : -1;
    case 'jsle': return x.smax <= y.smin ? 1 : x.smin > y.smax ? 0 : -1;
  }
}

/** The opposite condition (for the fall-through branch). */
export function negate(op: CondOp): CondOp | undefined {
  switch (op) {
    case 'jeq': return 'jne';
    case 'jne': return 'jeq';
    case 'jgt': return 'jle';
    case 'jle': return 'jgt';
    case 'jge': return 'jlt';
    case 'jlt': return 'jge';
    case 'jsgt': return 'jsle';
    case 'jsle': return 'jsgt';
    case 'jsge': return 'jslt';
    case 'jslt': return 'jsge';
    case 'jset': return undefined;
  }
}

/** regs_refine_cond_op: narrow a and b knowing `a OP b` holds (is32: on the low 32 bits).
 *  `holds` false with op 'jset' means "a & b == 0". Mutates both, then syncs them. */
export function refine(a: Scalar, b: Scalar, op: CondOp, is32: boolean, holds = true): void {
  if (op === 'jset') {
    if (!isConst(b) && !(is32 && isConst32(b))) return;
    const v = is32 ? u32(b.varOff.value) : b.varOff.value;
    if (holds) {
      if ((v & (v - 1n)) === 0n && v !== 0n) a.varOff = tnumOr(a.varOff, tnumConst(v));
    } else a.varOff = tnumAnd(a.varOff, tnumConst(~v & U64));
    sync(a);
    return;
  }
  if (is32) {
    const A = { umin: a.u32min, umax: a.u32max, smin: a.s32min, smax: a.s32max }, B = { umin: b.u32min, umax: b.u32max, smin: b.s32min, smax: b.s32max };
    refineRanges(A, B, op);
    a.u32min = A.umin; a.u32max = A.umax; a.s32min = A.smin; a.s32max = A.smax;
    b.u32min = B.umin; b.u32max = B.umax; b.s32min = B.smin; b.s32max = B.smax;
    if (op === 'jeq') {
      const t = tnumIntersect(tnumSubreg(a.varOff), tnumSubreg(b.varOff));
      a.varOff = tnumOr(tnumClearSubreg(a.varOff), t);
      b.varOff = tnumOr(tnumClearSubreg(b.varOff), t);
    }
  } else {
    refineRanges(a, b, op);
    if (op === 'jeq') { const t = tnumIntersect(a.varOff, b.varOff); a.varOff = t; b.varOff = t; }
  }
  // a constant operand's bounds stay that point or cross (violated(), which the caller checks):
  // no sync needed, except after jeq's tnum intersection
  sync(a);
  if (op === 'jeq' || !isConst(b)) sync(b);
}

function refineRanges(a: { umin: bigint; umax: bigint; smin: bigint; smax: bigint }, b: typeof a, op: CondOp) {
  switch (op) {
    case 'jeq':
      a.umin = b.umin = max(a.umin, b.umin); a.umax = b.umax = min(a.umax, b.umax);
      a.smin = b.smin = max(a.smin, b.smin); a.smax = b.smax = min(a.smax, b.smax);
      break;
    case 'jne': {
      // only a known operand equal to one end of the other's range helps
      const adj = (x: typeof a, y: typeof a) => {
        if (y.umin !== y.umax) return;
        const v = y.umin;
        if (x.umin === v) x.umin++; else if (x.umax === v) x.umax--;
        if (y.smin === y.smax) { const sv = y.smin; if (x.smin === sv) x.smin++; else if (x.smax === sv) x.smax--; }
      };
      adj(a, b); adj(b, a);
      break;
    }
    case 'jle': a.umax = min(a.umax, b.umax); b.umin = max(b.umin, a.umin); break;
    case 'jlt': a.umax = min(a.umax, b.umax - 1n); b.umin = max(b.umin, a.umin + 1n); break;
    case 'jge': a.umin = max(a.umin, b.umin); b.umax = min(b.umax, a.umax); break;
    case 'jgt': a.umin = max(a.umin, b.umin + 1n); b.umax = min(b.umax, a.umax - 1n); break;
    case 'jsle': a.smax = min(a.smax, b.smax); b.smin = max(b.smin, a.smin); break;
    case 'jslt': a.smax = min(a.smax, b.smax - 1n); b.smin = max(b.smin, a.smin + 1n); break;
    case 'jsge': a.smin = max(a.smin, b.smin); b.smax = min(b.smax, a.smax); break;
    case 'jsgt': a.smin = max(a.smin, b.smin + 1n); b.smax = min(b.smax, a.smax - 1n); break;
  }
}

/** old covers cur (range_within + tnum_in): the pruning test for scalars. */
export function scalarCovers(old: Scalar, cur: Scalar): boolean {
  return old === cur || old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin && old.smax >= cur.smax &&
    old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max &&
    tnumIn(old.varOff, cur.varOff);
}

export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return a === b || a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax && a.u32min === b.u32min &&
    a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max && a.varOff.value === b.varOff.value && a.varOff.mask === b.varOff.mask;
}

/** The log's spelling of a scalar: "scalar()", "1", "scalar(smin=0,smax=umax=255,var_off=(0x0; 0xff))". */
export function scalarStr(r: Scalar): string {
  if (isConst(r)) return String(s64(r.varOff.value));
  const parts: string[] = [];
  if (r.smin !== S64_MIN) parts.push(`smin=${r.smin}`);
  if (r.smax !== S64_MAX) parts.push(`smax=${r.smax}`);
  if (r.umin !== 0n) parts.push(`umin=${r.umin}`);
  if (r.umax !== U64) parts.push(`umax=${r.umax}`);
  if (r.s32min !== S32_MIN && r.s32min !== r.smin) parts.push(`smin32=${r.s32min}`);
  if (r.s32max !== S32_MAX && r.s32max !== r.smax) parts.push(`smax32=${r.s32max}`);
  if (r.u32min !== 0n && r.u32min !== r.umin) parts.push(`umin32=${r.u32min}`);
  if (r.u32max !== U32 && r.u32max !== r.umax) parts.push(`umax32=${r.u32max}`);
  if (r.varOff.mask !== U64) parts.push(`var_off=(0x${r.varOff.value.toString(16)}; 0x${r.varOff.mask.toString(16)})`);
  return `scalar(${parts.join(',')})`;
}
