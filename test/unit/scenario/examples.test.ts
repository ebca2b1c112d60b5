// The AutoLOWAT example end to end: every scenario in examples/autolowat/ passes through the
// emulator (the seed selftest's four cases, both families, and the further ones); the JSON trace
// has the contract's shape; the committed .o is what clang-19 builds from the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../../cli/run';
import { Simulation } from '../../../debugger/sim';
import { loadObject } from '../../../debugger/object/index';
import { spawnSync } from 'node:child_process';
import { compileBpf } from '../../../debugger/scenario/index';

// Rebuild-and-compare only with the compiler the objects were built with.
const haveClang19 = spawnSync('clang-19', ['--version']).status === 0;

const dir = join(__dirname, '../../../examples/autolowat');
const scenarios = readdirSync(dir).filter((f) => f.endsWith('.scenario.json')).sort();

async function run(args: string[]) {
  let out = '', err = '';
  const code = await runCommand(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

test('the example has the seed cases in both families and the further scenarios', () => {
  for (const c of ['case1-one-frame', 'case2-two-frames', 'case3-next-descriptor', 'case4-partial-descriptor']) {
    assert.ok(scenarios.includes(`${c}.scenario.json`), c);
    assert.ok(scenarios.includes(`${c}-inet.scenario.json`), c + '-inet');
  }
  for (const c of ['ofo-arrival', 'fin', 'partial-reads', 'give-up', 'euclean-data-queued']) assert.ok(scenarios.includes(`${c}.scenario.json`), c);
});

for (const f of scenarios) {
  test(`run ${f}: every expect passes, no fault`, async () => {
    const r = await run([join(dir, f)]);
    const expects = (readFileSync(join(dir, f), 'utf8').match(/"expect"/g) ?? []).length;
    assert.equal(r.err, '');
    assert.match(r.out, new RegExp(`\\n${expects} passed, 0 failed\\n$`));
    assert.equal(r.code, 0);
  });
}

test('text lines carry rcvlowat, readable, epoll and wakeups; a failed expect exits 1', async () => {
  const r = await run([join(dir, 'case4-partial-descriptor.scenario.json')]);
  const lines = r.out.trim().split('\n');
  assert.match(lines[0]!, /^open\s+passive open \(inet6\).*PASSIVE_ESTABLISHED_CB/);
  assert.ok(lines.some((l) => /^step 2 +send 1: .*RCVQ_CB enqueue seq 0\.\.1 \(1 byte\).*\| rcvlowat 8 \| readable 1 \| epoll 0 \| wakeups 0$/.test(l)));
  assert.ok(lines.some((l) => /^step 10 +recv 258: read 258 bytes; RCVQ_CB recvmsg.*\| rcvlowat 8 \| readable 1 \| epoll 0/.test(l)));
});

test('--format json: per step the event, program runs with op, ret, insns, helper calls, then the socket', async () => {
  const r = await run([join(dir, 'case4-partial-descriptor.scenario.json'), '--format', 'json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out);
  assert.equal(j.failed, 0);
  const send1 = j.steps.find((s: { step: number }) => s.step === 2);
  assert.deepEqual(send1.event, { send: 1 });
  const run0 = send1.runs[0];
  assert.equal(run0.program, 'tcp_autolowat');
  assert.equal(run0.opName, 'RCVQ_CB');
  assert.equal(run0.ret, 1);
  assert.ok(run0.insns > 10);
  const names = run0.helpers.map((h: { name: string }) => h.name);
  assert.ok(names.includes('bpf_skb_load_bytes'));
  assert.ok(names.includes('bpf_sock_ops_tcp_set_rcvlowat'));
  const setl = run0.helpers.find((h: { name: string }) => h.name === 'bpf_sock_ops_tcp_set_rcvlowat');
  assert.equal(setl.args[1], 8);
  assert.equal(send1.rcvlowat, 8);
  assert.equal(send1.readable, 1);
  assert.equal(send1.epoll, 0);
  assert.equal(typeof send1.wakeups, 'number');
  const desc = j.steps.find((s: { step: number }) => s.step === 4);
  assert.ok(desc.runs[0].printk.some((l: string) => l.includes('frame at 0: header 100 payload 150')));
});

test('the simulation is deterministic: two runs give the same trace', () => {
  const a = Simulation.fromFile(join(dir, 'ofo-arrival.scenario.json'));
  const b = Simulation.fromFile(join(dir, 'ofo-arrival.scenario.json'));
  const ra = a.runAll().results.map((r) => [r.text, r.sock, r.runs.map((x) => [x.insns, x.helpers.map((h) => String(h.ret))])]);
  const rb = b.runAll().results.map((r) => [r.text, r.sock, r.runs.map((x) => [x.insns, x.helpers.map((h) => String(h.ret))])]);
  assert.deepEqual(ra, rb);
  assert.equal(a.steps.length, 1 + a.scenario.steps.length);
});

test('the committed autolowat.bpf.o is what clang builds from autolowat.bpf.c (same programs, maps)', { skip: !haveClang19 && 'clang-19 not installed: rebuild check skipped' }, () => {
  const fresh = loadObject(compileBpf(join(dir, 'autolowat.bpf.c'), { compiler: 'clang-19' }), 'fresh.o');
  const committed = loadObject(new Uint8Array(readFileSync(join(dir, 'autolowat.bpf.o'))), 'committed.o');
  const shape = (o: typeof fresh) => ({ progs: o.programs.map((p) => ({ name: p.name, section: p.section, insns: p.insns })), maps: o.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize]), kfuncs: o.kfuncs });
  assert.deepEqual(shape(committed), shape(fresh), 'rebuild examples/autolowat/autolowat.bpf.o (see README.md)');
});
