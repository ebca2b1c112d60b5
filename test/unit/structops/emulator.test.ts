// struct_ops bpf_tcp_ops on the emulator (issue 15, profile autolowat-tcp-ops-v5): the example hook's
// selftest cases, the flag gating the members, dynptr and kfunc rules, the loader's struct_ops maps,
// and the committed object against a clang-19 rebuild.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Simulation } from '../../../debugger/sim';
import { loadObject } from '../../../debugger/object';
import { compileBpf } from '../../../debugger/scenario/compile';

const root = resolve(__dirname, '../../..');
const dir = join(root, 'examples/autolowat-tcp-ops');
const obj = join(dir, 'autolowat.bpf.o');

function run(file: string) {
  const sim = Simulation.fromFile(file);
  const faults: string[] = [];
  while (!sim.done) {
    const r = sim.stepOnce();
    for (const x of r.runs) if (x.fault) faults.push(x.fault.message);
  }
  return { sim, faults };
}

test('the loader reads the .struct_ops.link variable: struct type from BTF, members to programs', () => {
  const o = loadObject(new Uint8Array(readFileSync(obj)), obj);
  assert.deepEqual(o.structOps, [{
    name: 'frames_ops', section: '.struct_ops.link', struct: 'bpf_tcp_ops', link: true,
    members: [{ name: 'enqueue_rcvq', offset: 0, program: 'frames_enqueue' }, { name: 'dequeue_rcvq', offset: 8, program: 'frames_dequeue' }],
  }]);
});

test('examples/autolowat-tcp-ops: the four selftest cases pass in both families with no fault', () => {
  const cases = readdirSync(dir).filter((f) => /^case\d.*\.scenario\.json$/.test(f));
  assert.equal(cases.length, 8);
  for (const f of cases) {
    const { sim, faults } = run(join(dir, f));
    assert.deepEqual(faults, [], f);
    assert.equal(sim.failed, 0, f);
    assert.ok(sim.passed >= 2, f);
  }
});

test('without BPF_TCP_OPS_FLAG_RCVQ the members never run (rcvlowat stays 1)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tcpops-'));
  try {
    const sc = JSON.parse(readFileSync(join(dir, 'case1-one-frame.scenario.json'), 'utf8'));
    sc.program = obj;
    delete sc.$schema;
    sc.steps = [{ send: 258 }, { expect: { rcvlowat: 1, readable: 258, epoll: 1 } }, { recv: 258 }, { expect: { rcvlowat: 1 } }];
    const f = join(tmp, 'noflag.scenario.json');
    writeFileSync(f, JSON.stringify(sc));
    const sim = Simulation.fromFile(f);
    let runs = 0;
    while (!sim.done) runs += sim.stepOnce().runs.length;
    assert.equal(sim.failed, 0);
    assert.equal(runs, 0, 'no enqueue_rcvq/dequeue_rcvq run');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('"structOps" naming a missing variable is a load error naming the ones there', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tcpops-'));
  try {
    const sc = JSON.parse(readFileSync(join(dir, 'case1-one-frame.scenario.json'), 'utf8'));
    sc.program = obj;
    delete sc.$schema;
    sc.structOps = 'nope';
    const f = join(tmp, 'bad.scenario.json');
    writeFileSync(f, JSON.stringify(sc));
    assert.throws(() => Simulation.fromFile(f), /no struct_ops variable named nope; struct_ops variables there: frames_ops \(struct bpf_tcp_ops/);
    sc.structOps = 'frames_ops';
    sc.sockops = 'x';
    writeFileSync(f, JSON.stringify(sc));
    assert.throws(() => Simulation.fromFile(f), /"structOps" and "sockops" name different kinds of hook/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the committed autolowat-tcp-ops object is what clang-19 builds from its source', { skip: spawnSync('clang-19', ['--version']).status !== 0 && 'clang-19 not installed' }, () => {
  const src = join(dir, 'autolowat.bpf.c');
  const fresh = loadObject(compileBpf(src, { compiler: 'clang-19' }), 'fresh.o');
  const committed = loadObject(new Uint8Array(readFileSync(obj)), 'committed.o');
  const shape = (o: typeof fresh) => ({ progs: o.programs.map((p) => ({ name: p.name, section: p.section, insns: p.insns })), maps: o.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize]), kfuncs: o.kfuncs, structOps: o.structOps });
  assert.deepEqual(shape(committed), shape(fresh), 'rebuild: clang-19 -target bpf -O2 -g -I include -idirafter /usr/include/x86_64-linux-gnu -c examples/autolowat-tcp-ops/autolowat.bpf.c -o examples/autolowat-tcp-ops/autolowat.bpf.o');
});

test('without a profile, a struct bpf_tcp_ops object runs against autolowat-tcp-ops-v5 (as check chooses)', async () => {
  const { profileForSource } = await import('../../../sockops/choose');
  const tmp = mkdtempSync(join(tmpdir(), 'tcpops-'));
  try {
    const sc = JSON.parse(readFileSync(join(dir, 'case4-partial-descriptor.scenario.json'), 'utf8'));
    sc.program = obj;
    delete sc.$schema;
    delete sc.profile;
    const f = join(tmp, 'noprofile.scenario.json');
    writeFileSync(f, JSON.stringify(sc));
    const sim = Simulation.fromFile(f);
    assert.equal(sim.prepared.table.profile.name, 'autolowat-tcp-ops-v5');
    while (!sim.done) sim.stepOnce();
    assert.equal(sim.failed, 0);
    assert.equal(profileForSource(readFileSync(join(dir, 'autolowat.bpf.c'), 'utf8')), 'autolowat-tcp-ops-v5');
    assert.equal(profileForSource(readFileSync(join(root, 'examples/autolowat/autolowat.bpf.c'), 'utf8')), undefined);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
