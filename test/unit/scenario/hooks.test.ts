// Hooks written independently of the example (test/fixtures/hooks/): a 4-byte big-endian length
// prefix enabled at passive open (bpf_core_cast reads, sk_storage, sequence wrap, out-of-order
// drain), and a hook calling what the kernel refuses at RCVQ_CB. Their scenarios state the
// kernel's results; the committed objects match what clang-19 builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../../cli/run';
import { loadObject } from '../../../debugger/object/index';
import { spawnSync } from 'node:child_process';
import { compileBpf } from '../../../debugger/scenario/index';

// Rebuild-and-compare only with the compiler the objects were built with.
const haveClang19 = spawnSync('clang-19', ['--version']).status === 0;

const dir = join(__dirname, '../../fixtures/hooks');

async function run(args: string[]) {
  let out = '', err = '';
  const code = await runCommand(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

for (const f of readdirSync(dir).filter((x) => x.endsWith('.scenario.json')).sort()) {
  test(`fixture ${f}: the kernel's results`, async () => {
    const r = await run([join(dir, f)]);
    const expects = (readFileSync(join(dir, f), 'utf8').match(/"expect"/g) ?? []).length;
    assert.equal(r.err, '');
    assert.match(r.out, new RegExp(`\\n${expects} passed, 0 failed\\n$`));
    assert.equal(r.code, 0);
  });
}

test('be32 fixture: the out-of-order drain hands the hook each skb in order across the 2^32 wrap', async () => {
  const r = await run([join(dir, 'be32_prefix.scenario.json'), '--format', 'json']);
  const j = JSON.parse(r.out);
  const last = j.steps.at(-2); // the send that fills the hole
  assert.deepEqual(last.runs.map((x: { event: string }) => x.event), ['RCVQ_CB enqueue seq 15..19 (4 bytes)', 'RCVQ_CB enqueue (ofo drain) seq 19..39 (20 bytes)']);
  const names = new Set(j.steps.flatMap((s: { runs: { helpers: { name: string }[] }[] }) => s.runs.flatMap((x) => x.helpers.map((h) => h.name))));
  assert.ok(names.has('bpf_rdonly_cast'), 'reads through bpf_core_cast');
  assert.ok(names.has('bpf_sk_storage_get'));
});

test('a failing expectation is reported with both values and exits 1', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(join(tmpdir(), 'bpf-sockops-fx-'));
  const f = join(d, 'wrong.scenario.json');
  writeFileSync(f, JSON.stringify({ program: join(dir, 'be32_prefix.bpf.o'), stream: [{ u32be: [10] }, { zeros: 10 }], steps: [{ send: 2 }, { expect: { rcvlowat: 5, epoll: 0 } }] }));
  const r = await run([f]);
  assert.equal(r.code, 1);
  assert.match(r.out, /FAIL: rcvlowat is 4, expected 5/);
  assert.match(r.out, /\n0 passed, 1 failed\n$/);
});

for (const name of ['be32_prefix', 'misuse']) {
  test(`committed ${name}.bpf.o matches a clang rebuild`, { skip: !haveClang19 && 'clang-19 not installed' }, () => {
    const fresh = loadObject(compileBpf(join(dir, `${name}.bpf.c`), { compiler: 'clang-19' }), 'fresh.o');
    const committed = loadObject(new Uint8Array(readFileSync(join(dir, `${name}.bpf.o`))), 'committed.o');
    const shape = (o: typeof fresh) => ({ progs: o.programs.map((p) => [p.name, p.section, p.insns]), maps: o.maps.map((m) => [m.name, m.type, m.valueSize]), kfuncs: o.kfuncs });
    assert.deepEqual(shape(committed), shape(fresh));
  });
}
