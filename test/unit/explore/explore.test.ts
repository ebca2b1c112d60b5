// bpf-sockops explore (issue 14): on a hook with a planted boundary bug it finds a delivery that
// breaks the frames oracle and writes a minimized scenario that `run` fails; on the example hook
// it finds none within the default budget; shards are disjoint and deterministic; reports merge;
// helper results the program never reads are found by the r0 liveness pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation } from '../../../debugger/sim';
import { DEFAULT_BUDGET, explore, mergeReports, partsOf, type ExploreReport } from '../../../debugger/explore/index';
import { makeTarget } from '../../../debugger/explore/target';
import { searchPart } from '../../../debugger/explore/search';
import { runDelivery } from '../../../debugger/explore/exec';
import { nearCuts, randomDelivery } from '../../../debugger/explore/gen';
import { mix, Rng } from '../../../debugger/explore/rng';
import { deadR0AfterCalls } from '../../../debugger/explore/liveness';
import { assemble } from '../../../debugger/vm/index';
import { exploreCommand } from '../../../cli/explore';
import { spawnSync } from 'node:child_process';
import { loadObject } from '../../../debugger/object/index';
import { compileBpf } from '../../../debugger/scenario/index';

const root = join(__dirname, '..', '..', '..');
const PLANTED = join(root, 'examples/autolowat/planted-boundary.scenario.json');
const CORRECT = join(__dirname, 'fixtures/example-frames.scenario.json');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => { out.push(s); }, err: (s: string) => { err.push(s); } }, out, err };
}

test('planted boundary bug: a counterexample, shrunk, that `run` fails with the failing expect last', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explore-'));
  try {
    const out = join(dir, 'cx.scenario.json');
    // the scenario as written passes: the bug needs a descriptor split across segments
    assert.equal(Simulation.fromFile(PLANTED).runAll().failed, 0);
    const c = capture();
    assert.equal(await exploreCommand([PLANTED, '--out', out, '--seed', '1'], c.io), 1);
    assert.match(c.out.join(''), /counterexample \((early-wakeup|stall)\)/);
    const sc = JSON.parse(readFileSync(out, 'utf8')) as { program: string; steps: Record<string, unknown>[]; frames: number[] };
    assert.deepEqual(sc.frames, [258, 258, 38]);
    const last = sc.steps[sc.steps.length - 1]!;
    assert.ok('expect' in last, 'ends with the expect that fails');
    const sends = sc.steps.filter((s) => 'send' in s || 'segment' in s);
    assert.ok(sends.length >= 2 && sends.length <= 4, `shrunk to a few segments (${sends.length})`);
    // some segment cuts a descriptor: it ends inside the first 8 bytes of a frame
    const starts = [0, 258, 516];
    let at = 0;
    const cutsDescriptor = sends.some((s) => {
      const len = typeof s.send === 'number' ? s.send : (s.segment as { len: number }).len;
      const off = typeof s.send === 'number' ? at : (s.segment as { offset: number }).offset;
      at = Math.max(at, off + len);
      return starts.some((f) => off + len > f && off + len < f + 8);
    });
    assert.ok(cutsDescriptor, JSON.stringify(sends));
    // the written file is an ordinary scenario: run fails on its last expect
    const r = Simulation.fromFile(out).runAll();
    assert.equal(r.failed, 1);
    assert.equal(r.results[r.results.length - 1]!.expect?.ok, false);
    const rc = capture();
    const { runCommand } = await import('../../../cli/run');
    assert.equal(await runCommand([out], rc.io), 1);
    assert.match(rc.out.join(''), /1 failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example hook: no counterexample within the default budget', async () => {
  const r = await explore(CORRECT, { out: join(tmpdir(), 'never-written.scenario.json') });
  assert.equal(r.counterexample, null);
  assert.equal(r.explored.deliveries, DEFAULT_BUDGET);
  assert.ok(r.explored.systematic > 0 && r.explored.random > 0 && r.explored.mutated > 0, JSON.stringify(r.explored));
  assert.ok(r.explored.rcvqRuns > r.explored.deliveries, 'the hook ran');
  const c = capture();
  assert.equal(await exploreCommand([CORRECT, '--budget', '50'], c.io), 0);
  assert.match(c.out.join(''), /explored 50 deliveries .*no counterexample within the budget/s);
});

test('shards: disjoint deterministic parts; merge adds them up', async () => {
  const t = makeTarget(Simulation.prepare(CORRECT));
  const a = searchPart(t, { seed: 7, budget: 40, part: 0, stride: 2, count: 20 });
  const again = searchPart(t, { seed: 7, budget: 40, part: 0, stride: 2, count: 20 });
  assert.deepEqual({ ...a, ms: 0 }, { ...again, ms: 0 }, 'same seed and part: same search');
  const r1 = await explore(CORRECT, { seed: 3, budget: 30, shard: { k: 1, n: 2 } });
  const r2 = await explore(CORRECT, { seed: 3, budget: 30, shard: { k: 2, n: 2 } });
  const m = mergeReports([{ file: 'a.json', report: r1 }, { file: 'b.json', report: r2 }]);
  assert.equal(m.explored.deliveries, 60);
  assert.deepEqual(m.shards, [{ k: 1, n: 2 }, { k: 2, n: 2 }]);
  assert.throws(() => mergeReports([{ file: 'a.json', report: r1 }, { file: 'a2.json', report: r1 }]), /shard 1\/2 is already in the merge/);
  assert.throws(() => mergeReports([{ file: 'x.json', report: { hello: 1 } }]), /x\.json: not a bpf-sockops explore JSON report/);
  const other: ExploreReport = { ...r2, seed: 4 };
  assert.throws(() => mergeReports([{ file: 'a.json', report: r1 }, { file: 'c.json', report: other }]), /c\.json: a report of .* \(seed 4/);
});

test('shards are disjoint whatever --jobs each uses, and cover the first N*budget deliveries', () => {
  const seen = new Map<number, string>();
  for (const [k, jobs] of [[1, 1], [2, 3], [3, 2]] as const) {
    for (const p of partsOf(1, 10, { k, n: 3 }, jobs)) {
      for (let i = 0; i < p.count; i++) {
        const g = p.part + i * p.stride;
        assert.equal(seen.get(g), undefined, `delivery ${g} in shard ${k} and ${seen.get(g)}`);
        seen.set(g, `${k}`);
      }
    }
  }
  assert.deepEqual([...seen.keys()].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
});

test('--jobs 2: worker threads share the budget and stop at a counterexample', async () => {
  const r = await explore(CORRECT, { seed: 5, budget: 24, jobs: 2 });
  assert.equal(r.explored.deliveries, 24);
  assert.equal(r.counterexample, null);
});

test('bad input exits 2 with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explore-bad-'));
  try {
    const noSend = join(dir, 'nosend.scenario.json');
    writeFileSync(noSend, JSON.stringify({ program: join(root, 'examples/autolowat/autolowat.bpf.o'), stream: [{ zeros: 8 }], steps: [{ expect: { epoll: 0 } }] }));
    const c = capture();
    assert.equal(await exploreCommand([noSend], c.io), 2);
    assert.match(c.err.join(''), /nosend\.scenario\.json: the scenario sends nothing/);
    const d = capture();
    assert.equal(await exploreCommand([CORRECT, '--shard', '3/2'], d.io), 2);
    assert.match(d.err.join(''), /--shard takes K\/N/);
    const e = capture();
    assert.equal(await exploreCommand([join(dir, 'missing.json')], e.io), 2);
    assert.match(e.err.join(''), /missing\.json/);
    const badFrames = join(dir, 'frames.scenario.json');
    writeFileSync(badFrames, JSON.stringify({ program: join(root, 'examples/autolowat/autolowat.bpf.o'), stream: [{ zeros: 8 }], frames: [4, 5], steps: [{ send: 8 }] }));
    const f = capture();
    assert.equal(await exploreCommand([badFrames], f.io), 2);
    assert.match(f.err.join(''), /frames add up to 9 bytes but the stream has only 8/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oracle: a stall and an early wakeup are findings; the original delivery of the planted hook is clean', () => {
  const t = makeTarget(Simulation.prepare(PLANTED));
  // whole frames in order: clean
  const ok = runDelivery(t, [{ k: 'seg', off: 0, len: 258, fin: false }, { k: 'seg', off: 258, len: 258, fin: false }, { k: 'seg', off: 516, len: 38, fin: true }]);
  assert.equal(ok.finding, null);
  assert.equal(ok.reachedEnd, true);
  // the descriptor cut 4 + 4: header 150, payload 0 (the second half overwrote the first): the
  // hook wants 158 bytes and epoll reports a 258-byte frame as readable at 158
  const cut = runDelivery(t, [{ k: 'seg', off: 0, len: 4, fin: false }, { k: 'seg', off: 4, len: 154, fin: false }]);
  assert.equal(cut.finding?.kind, 'early-wakeup', cut.finding?.message);
  assert.match(cut.finding!.message, /158 of the 258 bytes/);
});

test('liveness: calls whose r0 is never read', () => {
  const insns = assemble(`
    call 1
    mov %r6, %r0
    call 2
    call 3
    jeq %r0, 0, out
    mov %r0, 1
out:
    exit`);
  const dead = deadR0AfterCalls(insns);
  assert.deepEqual([...dead].sort(), [2]); // call 2's r0 is overwritten by call 3
});

test('an AbortSignal stops the search; the report says how much was explored', async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await explore(CORRECT, { budget: 500, signal: ac.signal });
  assert.equal(r.cancelled, true);
  assert.equal(r.explored.deliveries, 8, 'checked every 8 deliveries');
  assert.equal(r.counterexample, null);
});

test('a rewound simulation (checkpoint after the setup) runs deliveries exactly as a fresh one', () => {
  for (const file of [PLANTED, CORRECT]) {
    const t = makeTarget(Simulation.prepare(file));
    const near = nearCuts(t);
    for (let i = 0; i < 40; i++) {
      const evs = randomDelivery(t, new Rng(mix(11, i)), near);
      const coverage = i % 2 ? 'branches' as const : true;
      const a = runDelivery(t, evs, { coverage });
      const b = runDelivery(t, evs, { coverage, fresh: true });
      const view = (o: typeof a) => ({ finding: o.finding, steps: o.steps.map((s) => s.label), rcvq: o.rcvqRuns, runs: o.runs, features: o.features, end: o.reachedEnd });
      assert.deepEqual(view(a), view(b), `${file} delivery ${i}: ${JSON.stringify(evs)}`);
    }
  }
});

test('steps in between keep their place (setsockopt after a drain, a second read at end of stream)', async () => {
  for (const name of ['euclean-data-queued', 'fin']) {
    const r = await explore(join(root, `examples/autolowat/${name}.scenario.json`), { budget: 150 });
    assert.equal(r.counterexample, null, `${name}: ${r.counterexample?.message}`);
  }
});

test('"always": true expects are checked after every event; the counterexample ends with the one that failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explore-always-'));
  try {
    const sc = JSON.parse(readFileSync(CORRECT, 'utf8')) as { program: string; steps: unknown[] };
    sc.program = join(root, 'examples/autolowat/autolowat.bpf.o');
    // holds: the hook never gives up on well-formed frames
    sc.steps.splice(2, 0, { expect: { cbFlags: 128 }, always: true });
    const ok = join(dir, 'ok.scenario.json');
    writeFileSync(ok, JSON.stringify(sc));
    assert.equal((await explore(ok, { budget: 100 })).counterexample, null);
    // fails as soon as the reader is woken: the first wakeup of any delivery
    sc.steps.splice(2, 0, { expect: { wakeups: 0 }, always: true });
    const bad = join(dir, 'bad.scenario.json');
    writeFileSync(bad, JSON.stringify(sc));
    const out = join(dir, 'cx.scenario.json');
    const r = await explore(bad, { budget: 100, out });
    assert.equal(r.counterexample?.kind, 'expect');
    assert.match(r.counterexample!.message, /the "always" expect at steps\[2\] .*wakeups is 1, expected 0/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as { steps: Record<string, unknown>[] };
    assert.deepEqual(written.steps[written.steps.length - 1]!.expect, { wakeups: 0 });
    assert.equal(r.counterexample!.verified, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed planted-boundary.bpf.o is what clang-19 builds from planted-boundary.bpf.c', { skip: spawnSync('clang-19', ['--version']).status !== 0 && 'clang-19 not installed' }, () => {
  const src = join(root, 'examples/autolowat/planted-boundary.bpf.c');
  const fresh = loadObject(compileBpf(src, { compiler: 'clang-19' }), 'fresh.o');
  const committed = loadObject(new Uint8Array(readFileSync(src.replace(/\.c$/, '.o'))), 'committed.o');
  const shape = (o: typeof fresh) => ({ progs: o.programs.map((p) => ({ name: p.name, section: p.section, insns: p.insns })), maps: o.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize]), kfuncs: o.kfuncs });
  assert.deepEqual(shape(committed), shape(fresh), 'rebuild examples/autolowat/planted-boundary.bpf.o: clang-19 -target bpf -O2 -g -I include -idirafter /usr/include/x86_64-linux-gnu -c examples/autolowat/planted-boundary.bpf.c -o examples/autolowat/planted-boundary.bpf.o');
});

test('an ignored helper error is a finding, shrunk to the smallest segment that triggers it', { skip: spawnSync('clang-19', ['--version']).status !== 0 && 'clang-19 not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explore-ign-'));
  try {
    const out = join(dir, 'cx.scenario.json');
    const r = await explore(join(__dirname, 'fixtures/ignores-error.scenario.json'), { budget: 50, out, compiler: 'clang-19' });
    assert.equal(r.originalFails, false, 'the scenario as written (4 + 4 bytes) never calls it');
    assert.equal(r.counterexample?.kind, 'helper-error');
    assert.match(r.counterexample!.message, /ignores_error ignores the error of bpf_setsockopt \(pc \d+\): it returned -95 \(EOPNOTSUPP\)/);
    assert.equal(r.counterexample!.verified, true);
    const sc = JSON.parse(readFileSync(out, 'utf8')) as { steps: unknown[] };
    assert.deepEqual(sc.steps, [{ send: 5 }], 'one segment of 5 bytes: the hook calls it for skbs longer than 4');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
