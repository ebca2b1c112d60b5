// The debugger's expression language: precedence, 64-bit integer rules, names, errors with columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, ExprError, interpolate, type ExprEnv } from '../../../debugger/expr/index';

const env: ExprEnv = {
  lookup(path) {
    const k = path.join('.');
    const vals: Record<string, bigint> = { 'skops.op': 21n, 'ctx.op': 21n, 'skops.args.1': 7n, sk_rcvlowat: 258n, r1: 0xffffffffffffffffn };
    return vals[k];
  },
};

test('C precedence and integer arithmetic', () => {
  assert.equal(evaluate('1 + 2 * 3', env), 7n);
  assert.equal(evaluate('(1 + 2) * 3', env), 9n);
  assert.equal(evaluate('1 << 4 | 1', env), 17n);
  assert.equal(evaluate('7 / 2', env), 3n);
  assert.equal(evaluate('-7 / 2', env), -3n, 'truncates toward zero as C does');
  assert.equal(evaluate('-7 % 3', env), -1n);
  assert.equal(evaluate('0x10 + 0b11', env), 19n);
  assert.equal(evaluate('!0 + !5 + ~0', env), 0n);
  assert.equal(evaluate('1 == 1 && 2 != 3 || 0', env), 1n);
  assert.equal(evaluate('3 > 2 > 1', env), 0n, '(3 > 2) > 1');
  // C: 1 is an int, so 1 << 63 is undefined (the old 64-bit-only language accepted it); 1L is a long
  assert.equal(evaluate('(1L << 63) - 1 + 1', env), -(1n << 63n), 'wraps at 64 bits');
  assert.throws(() => evaluate('1 << 63', env), /shift by 63 is undefined for int \(0\.\.31\)/);
});

test('names: ctx fields by -> or ., array index, registers, socket fields', () => {
  assert.equal(evaluate('skops->op == 21 && ctx.op == 21', env), 1n);
  assert.equal(evaluate('skops->args[1] * 2', env), 14n);
  assert.equal(evaluate('sk_rcvlowat - 8', env), 250n);
  assert.equal(evaluate('r1', env), -1n, 'shown signed');
  assert.equal(evaluate('r1 + 1', env), 0n);
});

test('errors name the column and what went wrong', () => {
  assert.throws(() => evaluate('1 +', env), (e: ExprError) => e instanceof ExprError && /ends early/.test(e.message));
  assert.throws(() => evaluate('nope + 1', env), (e: ExprError) => e.column === 0 && /unknown name 'nope'/.test(e.message));
  assert.throws(() => evaluate('4 / (2 - 2)', env), /division by zero/);
  assert.throws(() => evaluate('1 $ 2', env), (e: ExprError) => e.column === 2);
  assert.throws(() => evaluate('(1 + 2', env), /expected '\)'/);
});

test('logpoint messages interpolate {expressions}', () => {
  assert.equal(interpolate('lowat={sk_rcvlowat} op={skops->op} {{x}}', env), 'lowat=258 op=21 {x}');
  assert.match(interpolate('bad {nope}', env), /bad <unknown name 'nope'/);
});

test('the debugger names go through the C parser: casts, ?:, sizeof, the path as written, the names offered', () => {
  const seen: string[] = [];
  const named: ExprEnv = { lookup: (path, text) => { seen.push(text); return env.lookup(path, text); }, hint: () => 'r0..r10, skops->op' };
  assert.equal(evaluate('(unsigned char)r1', named), 255n);
  assert.equal(evaluate('skops->op == 21 ? sizeof(int) : 0', named), 4n);
  assert.equal(evaluate('ctx . op + skops -> args [ 0x1 ]', named), 28n);
  assert.ok(seen.includes('skops->args[1]') && seen.includes('ctx.op'), seen.join(' | '));
  assert.throws(() => evaluate('skops->nope', named), /unknown name 'skops->nope'; try r0\.\.r10, skops->op/);
});
