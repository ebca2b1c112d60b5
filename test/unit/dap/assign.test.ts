// The one range check of setVariable (debugger/runtime/assign.ts): what a place of each C shape
// accepts, the literal forms users type, and the sentence for a value that does not fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignValue, literalValue, namedTarget, rangeOf, RAW64, targetOf } from '../../../debugger/runtime/assign';
import { evaluateCInt } from '../../../debugger/expr/c';
import { BUILTIN_TYPES, pointerTo } from '../../../debugger/expr/ctypes';

const env = { variable: () => undefined, type: () => undefined, mem: { read: () => { throw new Error('no memory'); } } };
const set = (ctype: string, text: string) => assignValue(namedTarget(ctype, 4), text, (t) => evaluateCInt(t, env));

test('ranges of every shape: signed, unsigned, _Bool, pointers, raw 64-bit registers', () => {
  assert.deepEqual(rangeOf(namedTarget('int', 4)), { min: -2147483648n, max: 2147483647n });
  assert.deepEqual(rangeOf(namedTarget('__u32', 4)), { min: 0n, max: 4294967295n });
  assert.deepEqual(rangeOf(namedTarget('__s8', 1)), { min: -128n, max: 127n });
  assert.deepEqual(rangeOf(namedTarget('unsigned short', 2)), { min: 0n, max: 65535n });
  assert.deepEqual(rangeOf(namedTarget('_Bool', 1)), { min: 0n, max: 1n });
  assert.deepEqual(rangeOf(targetOf(pointerTo(BUILTIN_TYPES.char!))), { min: 0n, max: (1n << 64n) - 1n });
  assert.deepEqual(rangeOf(RAW64), { min: -(1n << 63n), max: (1n << 64n) - 1n });
  // a type name the built-ins do not know: unsigned of the field's size
  assert.deepEqual(rangeOf(namedTarget('my_u16', 2)), { min: 0n, max: 65535n });
});

test('literal forms at their exact value, expressions by C rules', () => {
  assert.equal(literalValue('2147483648'), 2147483648n);
  assert.equal(literalValue('-2147483648'), -2147483648n);
  assert.equal(literalValue(' 0x80000000u '), 0x80000000n);
  assert.equal(literalValue('-0x1'), -1n);
  assert.equal(literalValue('0b101'), 5n);
  assert.equal(literalValue('017'), 15n);
  assert.equal(literalValue('0'), 0n);
  assert.equal(literalValue('18446744073709551615ULL'), (1n << 64n) - 1n);
  assert.equal(literalValue('-9223372036854775808'), -(1n << 63n), 'C would type 9223372036854775808 unsigned and negate it to itself; the user means -2^63');
  assert.equal(literalValue('true'), 1n);
  assert.equal(literalValue('false'), 0n);
  assert.equal(literalValue('1 + 1'), null);
  assert.equal(literalValue("'a'"), null);
  assert.equal(set('int', "'a'"), 97n);
  assert.equal(set('__u8', "'\\n'"), 10n);
  assert.equal(set('int', '-1'), -1n);
  assert.equal(set('int', '2147483647'), 2147483647n);
  assert.equal(set('int', '-2147483648'), -2147483648n);
  assert.equal(set('__u32', '0xffffffff'), 4294967295n);
  assert.equal(set('__u32', '1u << 31'), 2147483648n, 'an expression has its C value');
  assert.equal(set('_Bool', 'true'), 1n);
  assert.equal(set('_Bool', 'false'), 0n);
  assert.equal(set('_Bool', '1'), 1n);
});

test('a value that does not fit is refused with the type and its range, never truncated', () => {
  assert.throws(() => set('int', '2147483648'), { message: '2147483648 does not fit in int (-2147483648..2147483647)' });
  assert.throws(() => set('int', '-2147483649'), { message: /^-2147483649 does not fit in int \(-2147483648\.\.2147483647\)$/ });
  assert.throws(() => set('int', '0x80000000'), { message: '0x80000000 (2147483648) does not fit in int (-2147483648..2147483647); for the bit pattern 0x80000000 write -2147483648' });
  assert.throws(() => set('__u32', '-1'), { message: '-1 does not fit in __u32 (0..4294967295); for the bit pattern of -1 write 4294967295 (0xffffffff)' });
  assert.throws(() => set('__u32', '4294967296'), { message: /^4294967296 does not fit in __u32 \(0\.\.4294967295\)$/ });
  assert.throws(() => set('__u8', "256"), { message: /256 does not fit in __u8 \(0\.\.255\)/ });
  assert.throws(() => set('int', '+2147483648'), { message: '+2147483648 (2147483648) does not fit in int (-2147483648..2147483647)' });
  assert.throws(() => set('_Bool', '2'), { message: '2 does not fit in _Bool (0..1); write 0, 1, false or true' });
  // an expression's value: C's int arithmetic wraps (2147483647 + 1 is INT_MIN), then the check
  assert.throws(() => set('__u32', '0 - 5'), { message: /^0 - 5 is -5, which does not fit in __u32/ });
  assert.throws(() => set('__s16', '40000'), { message: /40000 does not fit in __s16 \(-32768\.\.32767\)/ });
  const reg = (t: string) => assignValue(RAW64, t, (x) => evaluateCInt(x, env));
  assert.equal(reg('-1'), -1n);
  assert.equal(reg('18446744073709551615'), (1n << 64n) - 1n);
  assert.equal(reg('-9223372036854775808'), -(1n << 63n));
  assert.throws(() => reg('18446744073709551616'), { message: '18446744073709551616 does not fit in 64-bit register (-9223372036854775808..18446744073709551615)' });
  assert.throws(() => reg('-9223372036854775809'), /does not fit in 64-bit register/);
  // a huge literal is named by its start and length, not printed whole
  const huge = '0x' + 'f'.repeat(5000);
  assert.throws(() => set('int', huge), (e: Error) => e.message.length < 300 && /^0xffff.*… \(5002 characters\) \(.*… \(\d+ characters\)\) does not fit in int/.test(e.message));
  // what the evaluator refuses is its own message
  assert.throws(() => set('int', 'no_such + 1'), /unknown name 'no_such'/);
});
