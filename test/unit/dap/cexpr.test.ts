// The C expression evaluator (debugger/expr/c.ts) on a small guest memory: C's integer promotions
// and conversions, casts, pointers (* & [] ->, arithmetic scaled by the pointee), struct members
// and bit fields, and the debugger's own names as the fallback; errors name the column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type CEnv, evaluateC, evaluateCInt } from '../../../debugger/expr/c';
import { BUILTIN_TYPES, type CType, type CValue, pointerTo, scalar, typeName } from '../../../debugger/expr/ctypes';

const u32 = BUILTIN_TYPES.__u32!, u8 = BUILTIN_TYPES.__u8!, int = BUILTIN_TYPES.int!;
const state: CType = { kind: 'struct', name: 'st', size: 16, incomplete: false, members: [
  { name: 'have', type: u32, offset: 0 },
  { name: 'desc', type: { kind: 'array', elem: u8, count: 8 }, offset: 4 },
  { name: 'flags', type: u32, offset: 12, bitSize: 3, bitOffset: 2 },
] };
const BASE = 0x1000n;
const mem = new Uint8Array(64);
mem.set([5, 0, 0, 0, 100, 0, 0, 0, 150, 0, 0, 0, 0b10100, 0, 0, 0]);

function env(): CEnv {
  const vars: Record<string, CValue> = {
    st: { type: pointerTo(state), bytes: new Uint8Array(new BigUint64Array([BASE]).buffer) },
    n: { type: int, bytes: new Uint8Array([0xff, 0xff, 0xff, 0xff]) }, // -1
    big: { type: u32, bytes: new Uint8Array([0, 0, 0, 0x80]) }, // 2^31
  };
  return {
    mem: { read: (a, len) => { const o = Number(a - BASE); if (o < 0 || o + len > mem.length) throw new Error(`0x${a.toString(16)} is not guest memory`); return mem.slice(o, o + len); } },
    variable: (name) => vars[name],
    type: (name) => (name === 'struct st' ? state : undefined),
    legacy: (path) => (path.join('.') === 'sk.rcv_nxt' ? 77n : path[0] === 'sk_rcvlowat' ? 8n : undefined),
    hint: () => 'st, n, big',
  };
}
const ev = (s: string) => evaluateCInt(s, env());

test('integer promotions and the usual arithmetic conversions', () => {
  assert.equal(ev('n < 1u'), 0n, 'int -1 converts to unsigned int');
  assert.equal(ev('n < 1'), 1n);
  assert.equal(ev('n < 1L'), 1n, 'long holds every int');
  assert.equal(ev('big + big'), 0n, 'unsigned int wraps');
  assert.equal(ev('(long)big + big'), 1n << 32n);
  assert.equal(ev('(unsigned char)-1 + 1'), 256n, 'the char promotes to int before the +');
  assert.equal(ev('(__u8)300'), 44n);
  assert.equal(ev('-7 / 2'), -3n, 'division truncates toward zero');
  assert.equal(ev('-7 % 2'), -1n);
  assert.equal(ev('1 << 31'), -(1n << 31n), 'an int result');
  assert.equal(ev('0xffffffff + 1'), 0n, 'a hex literal that fits unsigned int is unsigned int');
  assert.equal(ev('4294967296 - 1'), 4294967295n, 'a decimal literal too large for int is long');
  assert.equal(ev("'A' + 1"), 66n);
  assert.equal(ev('n ? 10 : 20'), 10n);
  assert.equal(ev('sizeof(struct st) + sizeof(long)'), 24n);
});

test('pointers, members, arrays, bit fields and casts', () => {
  assert.equal(ev('st->have'), 5n);
  assert.equal(ev('(*st).have'), 5n);
  assert.equal(ev('st->desc[0] + st->desc[4]'), 250n);
  assert.equal(ev('*(__u32 *)&st->desc[0]'), 100n);
  assert.equal(ev('*(__u32 *)(st->desc + 4)'), 150n, 'pointer arithmetic scaled by the pointee (u8)');
  assert.equal(ev('(__u32 *)st + 1 == (__u32 *)&st->desc[0]'), 1n);
  assert.equal(ev('&st->desc[4] - &st->desc[0]'), 4n);
  assert.equal(ev('st->flags'), 0b101n, 'bits 2..4 of the word at 12');
  assert.equal(ev('(long)st'), BASE);
  const v = evaluateC('st->desc', env());
  assert.equal(typeName(v.type), '__u8[8]');
  assert.equal(scalar(evaluateC('st', env()), env().mem), BASE);
});

test("the debugger's own names as a fallback, and errors that say what is wrong", () => {
  assert.equal(ev('sk->rcv_nxt + sk_rcvlowat'), 85n);
  assert.throws(() => ev('nosuch + 1'), /unknown name 'nosuch'; try st, n, big \(column 1/);
  assert.throws(() => ev('st->nosuch'), /struct st has no member 'nosuch'/);
  assert.throws(() => ev('*n'), /'\*' needs a pointer, not int/);
  assert.throws(() => ev('&n'), /'&' needs a value in memory/);
  assert.throws(() => ev('st->desc[8]'), /index 8 is outside __u8\[8\]/);
  assert.throws(() => ev('*(struct nope *)st'), /unknown type 'struct nope'/);
  assert.throws(() => ev('1 / (n + 1)'), /division by zero/);
  assert.throws(() => ev('1 << 40'), /shift by 40 is undefined for int/);
  assert.throws(() => ev('*(__u32 *)0x9999'), /0x9999 is not guest memory/);
  assert.throws(() => ev('*st'), /struct st is not a number/);
});
