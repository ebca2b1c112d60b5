// Issue 10: a program the kernel verifier accepted must not fault in the emulator. Every fixture
// under test/fixtures/nofault/ is a generated program the running kernel (6.18) accepted and the
// emulator faulted on (found by test:kernel part 6, test/kernel/nofault.ts); each replays here
// without a kernel or compiler. A fixture whose cause is known and not fixed yet is a `todo` with
// that cause; when the emulator is fixed the todo passes and should be removed from KNOWN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runNofault, nofaultScenario, NOFAULT_FIXTURES } from '../../kernel/nofault';
import { generate, ctxReads, NOFAULT_PRELUDE } from '../../kernel/nofault-gen';

/** Known causes: a fault message pattern -> why the emulator faults on a program the kernel accepted. */
const KNOWN: { pattern: RegExp; cause: string }[] = [
  // none open: bpf_get_current_cgroup_id (#80), the first one found (nf_setsockopt_100029), was
  // implemented in 2253a2c and its fixture stays as a regression test
];

const dirs = existsSync(NOFAULT_FIXTURES) ? readdirSync(NOFAULT_FIXTURES).filter((d) => existsSync(join(NOFAULT_FIXTURES, d, 'scenario.json'))).sort() : [];

for (const d of dirs) {
  const dir = join(NOFAULT_FIXTURES, d);
  const seen = JSON.parse(readFileSync(join(dir, 'fault.json'), 'utf8')) as { seen: { message: string } };
  const known = KNOWN.find((k) => k.pattern.test(seen.seen.message))?.cause;
  test(`nofault fixture ${d}: the kernel accepted it; the emulator runs it without a fault`, { todo: known }, () => {
    const path = join(dir, 'scenario.json');
    const faults = runNofault(path, readFileSync(path, 'utf8'));
    assert.deepEqual(faults.map((f) => `${f.program}: ${f.message}`), []);
  });
}

test('every fixture has its program, disassembly and the fault seen', () => {
  for (const d of dirs) {
    for (const f of ['program.c', 'program.bpf.o', 'disasm.txt', 'fault.json']) assert.ok(existsSync(join(NOFAULT_FIXTURES, d, f)), `${d}/${f} is missing`);
    const fault = JSON.parse(readFileSync(join(NOFAULT_FIXTURES, d, 'fault.json'), 'utf8')) as { program: string; seen: { message: string } };
    assert.equal(fault.program, d);
    assert.ok(fault.seen.message.length > 0);
  }
});

test('the generator is deterministic per seed and writes the blocks it reports', () => {
  const a = generate(12345, 'sockops'), b = generate(12345, 'sockops');
  assert.equal(a.body, b.body);
  assert.notEqual(a.body, generate(12346, 'sockops').body);
  assert.match(a.body, /^SEC\("sockops"\)\nint nf_sockops_12345\(struct bpf_sock_ops \*c\)/);
  assert.match(generate(7, 'setsockopt').body, /^SEC\("cgroup\/setsockopt"\)/);
  assert.ok(a.blocks.length >= 2);
  assert.match(NOFAULT_PRELUDE, /bpf_rdonly_cast/);
});

test('ctx reads: narrow only at a field start, every offset aligned to its size, pointers excluded', () => {
  const reads = ctxReads();
  assert.ok(reads.length > 30);
  for (const r of reads) assert.equal(r.off % r.size, 0, `${r.field} +${r.off} size ${r.size}`);
  assert.ok(!reads.some((r) => r.field === 'sk' || r.field === 'skb_data'));
  // skb_tcp_flags (offset 212): 1 and 2 bytes at 212 only (sock_ops_is_valid_access)
  const flags = reads.filter((r) => r.field === 'skb_tcp_flags');
  assert.deepEqual(flags.filter((r) => r.size < 4).map((r) => r.off), flags.filter((r) => r.size < 4).map(() => flags[0]!.off));
});

test('the scenario attaches the programs named and runs every kind of step', () => {
  const sc = JSON.parse(nofaultScenario('x.bpf.o', 'a', 'b', 'inet6')) as { sockops: string; setsockopt: string; socket: { family: string }; steps: object[] };
  assert.equal(sc.sockops, 'a');
  assert.equal(sc.setsockopt, 'b');
  assert.equal(sc.socket.family, 'inet6');
  const kinds = new Set(sc.steps.flatMap((s) => Object.keys(s)));
  assert.deepEqual([...kinds].sort(), ['fin', 'recv', 'send', 'setsockopt']);
  assert.equal(resolve(NOFAULT_FIXTURES).endsWith(join('test', 'fixtures', 'nofault')), true);
});
