// Soundness of the scalar layer (debugger/verifier/scalar.ts, tnum.ts): for random ranges, every
// concrete value the ranges allow must stay inside what the ALU and branch rules compute, as in
// the kernel (adjust_scalar_min_max_vals, regs_refine_cond_op); and known cases give the kernel's
// exact bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aluScalar, branchTaken, constScalar, rangeScalar, refine, sizedScalar, sync, unknownScalar, type AluOp, type CondOp, type Scalar, constFold, isConst } from '../../../debugger/verifier/scalar';
import { tnumAdd, tnumAnd, tnumConst, tnumIn, tnumMul, tnumOr, tnumRange, tnumSub, tnumXor } from '../../../debugger/verifier/tnum';
import { prng } from '../../kernel/mutate';

const U64 = (1n << 64n) - 1n;
const holds = (s: Scalar, v: bigint): boolean => {
  const u = BigInt.asUintN(64, v), i = BigInt.asIntN(64, v), u32 = BigInt.asUintN(32, v), i32 = BigInt.asIntN(32, v);
  return u >= s.umin && u <= s.umax && i >= s.smin && i <= s.smax && u32 >= s.u32min && u32 <= s.u32max && i32 >= s.s32min && i32 <= s.s32max && (u & ~s.varOff.mask & U64) === s.varOff.value;
};

test('tnum ops contain the concrete results', () => {
  const r = prng(1);
  const rb = () => BigInt(Math.floor(r() * 2 ** 32)) << BigInt(Math.floor(r() * 33)) | BigInt(Math.floor(r() * 256));
  for (let k = 0; k < 2000; k++) {
    const a = BigInt.asUintN(64, rb()), b = BigInt.asUintN(64, rb());
    const ta = tnumRange(a, a + BigInt(Math.floor(r() * 64))), tb = tnumConst(b);
    for (const [t, v] of [[tnumAdd(ta, tb), a + b], [tnumSub(ta, tb), a - b], [tnumAnd(ta, tb), a & b], [tnumOr(ta, tb), a | b], [tnumXor(ta, tb), a ^ b], [tnumMul(ta, tb), a * b]] as const) {
      assert.ok(tnumIn(t, tnumConst(BigInt.asUintN(64, v))), `tnum misses ${v}`);
    }
  }
});

test('ALU results contain every concrete result (64- and 32-bit)', () => {
  const r = prng(2);
  const ops: AluOp[] = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh', 'div', 'mod'];
  for (let k = 0; k < 3000; k++) {
    const lo = BigInt(Math.floor(r() * 2000) - 1000), hi = lo + BigInt(Math.floor(r() * 300));
    const a = rangeScalar(lo, hi);
    const shiftish = r() < 0.5;
    const c = shiftish ? BigInt(Math.floor(r() * 40)) : BigInt(Math.floor(r() * 5000) - 2500);
    const b = constScalar(BigInt.asUintN(64, c));
    const op = ops[k % ops.length]!;
    const alu64 = r() < 0.6;
    const res = aluScalar(op, a, b, alu64);
    for (const x of [lo, hi, (lo + hi) / 2n]) {
      const av = alu64 ? BigInt.asUintN(64, x) : BigInt.asUintN(32, x);
      const bv = alu64 ? BigInt.asUintN(64, c) : BigInt.asUintN(32, c);
      if ((op === 'lsh' || op === 'rsh' || op === 'arsh') && bv >= (alu64 ? 64n : 32n)) continue;
      const v = constFold(op, av, bv, alu64)!;
      assert.ok(holds(res, v), `${op}${alu64 ? '' : '32'} [${lo},${hi}] ${c}: ${v} outside ${JSON.stringify(res, (_k, y) => (typeof y === 'bigint' ? String(y) : y))}`);
    }
  }
});

test('branch refinement keeps every value that takes the branch', () => {
  const r = prng(3);
  const ops: CondOp[] = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle'];
  const sat: Record<CondOp, (a: bigint, b: bigint, w: number) => boolean> = {
    jeq: (a, b) => a === b, jne: (a, b) => a !== b, jset: (a, b) => (a & b) !== 0n,
    jgt: (a, b, w) => BigInt.asUintN(w, a) > BigInt.asUintN(w, b), jge: (a, b, w) => BigInt.asUintN(w, a) >= BigInt.asUintN(w, b),
    jlt: (a, b, w) => BigInt.asUintN(w, a) < BigInt.asUintN(w, b), jle: (a, b, w) => BigInt.asUintN(w, a) <= BigInt.asUintN(w, b),
    jsgt: (a, b, w) => BigInt.asIntN(w, a) > BigInt.asIntN(w, b), jsge: (a, b, w) => BigInt.asIntN(w, a) >= BigInt.asIntN(w, b),
    jslt: (a, b, w) => BigInt.asIntN(w, a) < BigInt.asIntN(w, b), jsle: (a, b, w) => BigInt.asIntN(w, a) <= BigInt.asIntN(w, b),
  };
  for (let k = 0; k < 3000; k++) {
    const lo = BigInt(Math.floor(r() * 400) - 200), hi = lo + BigInt(Math.floor(r() * 100));
    const c = BigInt(Math.floor(r() * 400) - 200);
    const op = ops[k % ops.length]!;
    const is32 = r() < 0.3;
    const A = rangeScalar(lo, hi), B = constScalar(BigInt.asUintN(64, c));
    const t = branchTaken(A, B, op, is32);
    const a2 = { ...A }, b2 = { ...B };
    refine(a2, b2, op, is32);
    for (let x = lo; x <= hi; x++) {
      const taken = sat[op](x, c, is32 ? 32 : 64);
      if (t === 1) assert.ok(taken, `${op} said always for ${x}`);
      if (t === 0) assert.ok(!taken, `${op} said never for ${x}`);
      if (taken) assert.ok(holds(a2, x), `${op}${is32 ? '32' : ''} ${c}: ${x} lost from [${lo},${hi}]`);
    }
  }
});

test('known cases: a masked load, a 32-bit zero extension, a shifted byte', () => {
  const v = aluScalar('and', unknownScalar(), constScalar(0xffn), true);
  assert.equal(v.umin, 0n); assert.equal(v.umax, 255n); assert.equal(v.smin, 0n); assert.equal(v.smax, 255n);
  const z = aluScalar('mov', unknownScalar(), rangeScalar(-1n, -1n), false);
  assert.ok(isConst(z)); assert.equal(z.varOff.value, 0xffffffffn);
  const s = aluScalar('lsh', sizedScalar(1), constScalar(2n), true);
  assert.equal(s.umax, 1020n); assert.equal(s.varOff.mask & 3n, 0n);
  const w = sync({ ...unknownScalar(), umax: 7n });
  assert.equal(w.smax, 7n); assert.equal(w.u32max, 7n);
});
