// Kernel regressions without a kernel: every fixture in test/fixtures/kernel-regressions holds a
// program and what BPF_PROG_TEST_RUN returned for it on a real kernel; our VM must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emit, generate, PKT_LEN } from '../../kernel/isa-gen';
import { diff, fixtureProgram, fromHex, runInVm, type RegressionFixture } from '../../kernel/isa-vm';

const DIR = join(import.meta.dirname ?? __dirname, '../../fixtures/kernel-regressions');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('there are kernel regression fixtures', () => {
  assert.ok(files.length >= 4, `expected fixtures in ${DIR}`);
});

for (const f of files) {
  test(`kernel regression ${f}`, () => {
    const fx = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as RegressionFixture;
    const ours = runInVm(fixtureProgram(fx));
    const kernel = { retval: fx.kernel.retval, out: fromHex(fx.kernel.outHex) };
    assert.equal(kernel.out.length, PKT_LEN, `${f}: the kernel output is the whole packet`);
    assert.equal(diff(kernel, ours), null, `${f}: ${fx.note}`);
  });
}

test('the comparison sees a single flipped output byte and a different retval', () => {
  const fx = JSON.parse(readFileSync(join(DIR, files[0]), 'utf8')) as RegressionFixture;
  const ours = runInVm(fixtureProgram(fx));
  assert.ok(ours.ok);
  const out = fromHex(fx.kernel.outHex);
  out[100] ^= 0x40;
  assert.match(diff({ retval: fx.kernel.retval, out }, ours) ?? '', /first differing output byte 100/);
  assert.match(diff({ retval: fx.kernel.retval ^ 1, out: fromHex(fx.kernel.outHex) }, ours) ?? '', /retval/);
});

test('the generator is deterministic per seed and both sides share body and epilogue', () => {
  for (const seed of [1, 7, 123456789]) {
    const a = emit(generate(seed), { kind: 'kernel' });
    const b = emit(generate(seed), { kind: 'kernel' });
    assert.deepEqual(a, b);
    const v = emit(generate(seed), { kind: 'vm', data: 0xff0100000000n, dataEnd: 0xff0100000000n + BigInt(PKT_LEN) });
    assert.equal(v.insns.length, a.insns.length);
    assert.deepEqual(v.insns.slice(4), a.insns.slice(4)); // only the 4-slot prologue loads differ
  }
  assert.notDeepEqual(emit(generate(1), { kind: 'kernel' }), emit(generate(2), { kind: 'kernel' }));
});

test('generated programs run to exit in the VM and write the whole stack image', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const p = generate(seed);
    const r = runInVm(p);
    assert.ok(r.ok, `seed ${seed}: ${r.ok ? '' : r.message}`);
    // bytes 0..247 of the output are the final stack; the epilogue rewrote them from fp-256
    assert.equal(r.out.length, PKT_LEN);
  }
});
