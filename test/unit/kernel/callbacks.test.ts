// bpf_loop and bpf_for_each_map_elem in the simulated kernel, through the scenario runner
// (debugger/sim.ts): an AutoLOWAT hook that walks the frames of each RCVQ_CB skb with bpf_loop
// (test/fixtures/kernel/loop_frames.bpf.c and its loop-*.scenario.json), and array/hash map walks
// (foreach.bpf.c). Also what the debugger sees: the callback's instructions and frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Simulation } from '../../../debugger/sim';
import { BpfKernel, LoadError } from '../../../debugger/kernel/bpf';
import type { ProgramRunTrace } from '../../../debugger/kernel/types';
import { FIXTURES, fixture, results, signed } from './util';

const scenario = (name: string, budget?: number) => new Simulation(Simulation.prepare(join(FIXTURES, name)), budget ? { budget } : {});
const runsOf = (sim: Simulation): ProgramRunTrace[] => sim.trace.flatMap((s) => s.runs);

for (const name of ['loop-frames.scenario.json', 'loop-many-frames.scenario.json', 'loop-oversize-frame.scenario.json']) {
  test(`${name}: every expectation passes, no program faults`, () => {
    const sim = scenario(name);
    const r = sim.runAll();
    const failures = r.results.flatMap((s) => (s.expect && !s.expect.ok ? [`${s.step.label}: ${s.expect.failures.join('; ')}`] : []));
    assert.deepEqual(failures, []);
    assert.ok(r.passed >= 2, `passed ${r.passed}`);
    assert.equal(r.faulted, false);
    assert.deepEqual(runsOf(sim).filter((t) => t.fault).map((t) => t.fault!.message), []);
  });
}

test('300 empty frames in one segment: 1501 callbacks, bpf_loop returns the calls made', () => {
  const sim = scenario('loop-many-frames.scenario.json');
  sim.stepOnce(); // the passive open
  sim.stepOnce(); // send 1200
  const res = results(sim.kernel);
  assert.equal(res[0], 1501n, 'bpf_loop: 300 frames x 5 callbacks, then the one that returns 1 (i + 1)');
  assert.equal(res[1], 1501n, 'callbacks counted by the callbacks themselves');
  assert.equal(res[2], 1n);
  assert.equal(res[3], 1200n, 'rcvlowat covers the 300 frames');
  const run = sim.trace[1]!.runs[0]!;
  const loops = run.helpers.filter((h) => h.name === 'bpf_loop');
  assert.equal(loops.length, 1);
  assert.equal(loops[0]!.ret, 1501n);
  assert.equal(loops[0]!.args[0], 2n * 1200n + 2n, 'nr_loops');
  assert.equal(loops[0]!.args[3], 0n, 'flags');
  // the callbacks' own helper calls are in the trace, before the bpf_loop entry (it ends last)
  const loads = run.helpers.filter((h) => h.name === 'bpf_skb_load_bytes');
  assert.equal(loads.length, 1200, 'one header byte per callback');
  assert.ok(run.helpers.indexOf(loops[0]!) > run.helpers.indexOf(loads[loads.length - 1]!));
  assert.ok(run.insns > 1501 * 20, `the run's instruction count includes the callbacks (${run.insns})`);
});

test('the budget covers callback instructions: a small one ends the run inside the callback', () => {
  const sim = scenario('loop-many-frames.scenario.json', 5000);
  sim.stepOnce();
  sim.stepOnce();
  const run = sim.trace[1]!.runs[0]!;
  assert.ok(run.fault, 'the run faulted');
  assert.match(run.fault!.message, /instruction budget of 5000 exhausted/);
  const prog = sim.kernel.sockopsProgram!;
  const cb = prog.funcs.find((f) => f.name === 'walk_step')!;
  assert.ok(cb, 'walk_step is a function of the program');
  const end = Math.min(...prog.funcs.filter((f) => f.startPc > cb.startPc).map((f) => f.startPc), prog.insns.length);
  assert.ok(run.fault!.pc >= cb.startPc && run.fault!.pc < end, `fault pc ${run.fault!.pc} in walk_step [${cb.startPc}, ${end})`);
  assert.match(run.fault!.line ?? '', /loop_frames\.bpf\.c:\d+/);
});

test('the debugger hook sees the callback instructions in a callback frame returning into the bpf_loop call', () => {
  const sim = scenario('loop-frames.scenario.json');
  const prog = sim.kernel.sockopsProgram!;
  const cb = prog.funcs.find((f) => f.name === 'walk_step')!;
  const loopPc = prog.insns.findIndex((x) => x.code === 0x85 && x.src === 0 && x.imm === 181);
  assert.ok(loopPc > 0, 'the program calls bpf_loop');
  let inCallback = 0;
  let frames: { funcStart: number; returnPc: number; callbackOf?: number }[] | null = null;
  sim.kernel.setInsnHook(({ pc, vm }) => {
    if (pc !== cb.startPc) return;
    inCallback++;
    frames ??= vm.frames().map((f) => ({ funcStart: f.funcStart, returnPc: f.returnPc, callbackOf: f.callbackOf }));
  });
  sim.stepOnce(); // the passive open
  sim.stepOnce(); // expect cbFlags
  sim.stepOnce(); // send 128: two frames: 4 + 1 callbacks each, then the stopping one
  assert.equal(inCallback, 11);
  assert.deepEqual(frames, [
    { funcStart: 0, returnPc: -1, callbackOf: undefined },
    { funcStart: cb.startPc, returnPc: loopPc + 1, callbackOf: loopPc },
  ]);
});

test('bpf_for_each_map_elem: array and hash walks, early stop, flags, value writes, deletes during the walk', () => {
  const sim = scenario('foreach.scenario.json');
  const r = sim.runAll();
  assert.equal(r.faulted, false, runsOf(sim).map((t) => t.fault?.message).join());
  const res = results(sim.kernel);
  assert.equal(res[0], 8n, 'array: max_entries elements visited (bpf_for_each_array_elem)');
  assert.equal(res[1], 10n * 28n, 'sum of the values 0, 10, ..., 70');
  assert.equal(res[2], 28n, 'sum of the keys 0..7');
  assert.equal(res[3], 3n, 'stopped by the callback at the 3rd element, which counts');
  assert.equal(res[4], 1n + 11n + 21n, 'the first walk bumped each value by 1');
  assert.equal(signed(res[5]!), -22, 'flags != 0: -EINVAL');
  assert.equal(res[6], 5n, 'hash: its 5 elements');
  assert.equal(res[7], 1500n);
  // del_next deletes key + 1: keys 2 and 4 go before they are reached (insertion order, ours)
  assert.equal(res[8], 3n);
  assert.equal(res[9], 3n, '3 elements left');
  assert.equal(res[10], 1n + 3n + 5n);
  const arr = sim.kernel.maps().find((m) => m.def.name === 'arr')!.entries();
  assert.deepEqual(arr.map((e) => new DataView(e.value.buffer, e.value.byteOffset).getBigUint64(0, true)), [2n, 12n, 22n, 31n, 41n, 51n, 61n, 71n]);
});

test('bpf_for_each_map_elem: the key is read-only, the value writable', () => {
  const sim = scenario('foreach.scenario.json');
  let seen: { key: string; value: string } | null = null;
  const prog = () => sim.kernel.sockopsProgram!;
  sim.kernel.setInsnHook(({ pc, vm }) => {
    const cb = prog().funcs.find((f) => f.name === 'sum_elem')!;
    if (pc !== cb.startPc || seen) return;
    const k = vm.memory.find(vm.reg(2), 4)!.region;
    const v = vm.memory.find(vm.reg(3), 8)!.region;
    seen = { key: `${k.kind} ${k.writable}`, value: `${v.kind} ${v.writable}` };
  });
  sim.runAll();
  assert.deepEqual(seen, { key: 'map false', value: 'map true' });
});

test('a program calling bpf_for_each_map_elem on a perf event array is refused at load', () => {
  const obj = fixture('foreach.bpf.o');
  // the same object with the hash map's type changed to PERF_EVENT_ARRAY (4): no map_for_each_callback
  const bad = { ...obj, maps: obj.maps.map((m) => (m.name === 'hash' ? { ...m, type: 4, typeName: 'BPF_MAP_TYPE_PERF_EVENT_ARRAY' } : m)) };
  assert.throws(() => BpfKernel.load(bad, { sockops: 'foreach' }), (e: unknown) => e instanceof LoadError && /callback function not allowed for map/.test(e.message));
});
