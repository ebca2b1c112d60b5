// bpf_bprintf_prepare() format rules and bstr_printf() output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrintk } from '../../../debugger/kernel/bpf';

const enc = (s: string) => new TextEncoder().encode(s + '\0');
const mem = {
  cstring: (a: bigint) => (a === 0x1000n ? 'hello' : null),
  bytes: (a: bigint, n: number) => (a === 0x2000n ? new Uint8Array([10, 0, 0, 1, ...new Array(Math.max(0, n - 4)).fill(0)]).slice(0, n) : null),
};
const fmt = (f: string, ...args: bigint[]) => formatPrintk(enc(f), args, mem);

test('conversions the kernel accepts', () => {
  const ok = (f: string, args: bigint[], want: string) => {
    const r = formatPrintk(enc(f), args, mem);
    assert.ok(r.ok, `${f}: ${!r.ok && r.why}`);
    assert.equal(r.ok && r.text, want);
  };
  ok('%d %i %u', [0xffffffffn, 5n, 0xffffffffn], '-1 5 4294967295');
  ok('%x %X %%', [255n, 255n, 0n], 'ff FF %');
  ok('%ld %lu %lld', [0xffffffffffffffffn, 0xffffffffffffffffn, 2n ** 40n], '-1 18446744073709551615 1099511627776');
  ok('%llx|%5d|%-4u|%03d', [0xdeadbeefcafen, 42n, 7n, 9n], 'deadbeefcafe|   42|7   |009');
  ok('%s!', [0x1000n], 'hello!');
  ok('%c%c', [0x41n, 0x42n], 'AB');
  ok('%pI4', [0x2000n], '10.0.0.1');
  ok('%s', [0x9999n], '');
  ok('%p', [0x10n], '0x10');
  ok('no args', [], 'no args');
});

test('formats the kernel refuses with -EINVAL', () => {
  for (const f of ['%q', '%.2d', '%n', '%sx', '%pZ', '%lf', 'tab\x01']) {
    const r = fmt(f, 1n, 2n, 3n);
    assert.equal(r.ok, false, f);
    assert.equal(!r.ok && r.errno, -22, f);
  }
  const tooMany = fmt('%d %d %d %d', 1n, 2n, 3n);
  assert.equal(tooMany.ok, false);
  const noNul = formatPrintk(new TextEncoder().encode('abc'), [], mem);
  assert.equal(noNul.ok, false);
});

test('errors come in the kernel walk order; a parsed format is reused with new arguments', () => {
  const first = fmt('%d %d %d %q', 1n, 2n, 3n);
  assert.ok(!first.ok && /more conversions than the 3 arguments/.test(first.why), 'too few arguments is found before the bad conversion');
  const bad = fmt('%d %q %d %d', 1n, 2n, 3n);
  assert.ok(!bad.ok && /unsupported conversion '%q'/.test(bad.why));
  const ctl = fmt('a\x02%d', 1n);
  assert.ok(!ctl.ok && /control byte 0x2 at offset 1/.test(ctl.why));
  const again = (v: bigint) => { const r = fmt('n=%llu %s', v, 0x1000n); return r.ok ? r.text : r.why; };
  assert.equal(again(7n), 'n=7 hello');
  assert.equal(again(8n), 'n=8 hello');
});
