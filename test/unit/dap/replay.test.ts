// The debug runtime's replay (debugger/runtime/runtime.ts) driven directly, without DAP: user edits
// are replayed only where they were made, a broken edit never ends the session, and breakpoint hit
// counts give the same stops forward and backward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DebugRuntime, type Paused } from '../../../debugger/runtime/runtime';
import { SimPort } from '../../../debugger/runtime/sim-port';
import { FRAMES_SCENARIO } from './client';

function open(): { rt: DebugRuntime; errors: string[] } {
  const rt = new DebugRuntime(SimPort.prepare(FRAMES_SCENARIO));
  const errors: string[] = [];
  rt.on('output', (text: string, category: string) => { if (category === 'stderr') errors.push(text); });
  return { rt, errors };
}

function stepInsns(rt: DebugRuntime, n: number): Paused {
  let p = rt.paused!;
  for (let i = 0; i < n; i++) p = rt.step('in', 'instruction');
  return p;
}

test('an edit whose position names another instruction after an earlier edit is dropped, not written there', () => {
  const { rt, errors } = open();
  rt.setFunctionBreakpoints([{ name: 'dap_frames' }]);
  const a = rt.start(false);
  assert.equal(a.stop.reason, 'function breakpoint');
  assert.equal(a.pc, 0);
  rt.setFunctionBreakpoints([]);
  // seven instructions on (past the ctx load at pc 6), set r9 there
  const b = stepInsns(rt, 7);
  assert.equal(b.run?.index, a.run?.index, 'still in the same run');
  rt.addEdit((vm) => vm?.setReg(9, 0x77n));
  assert.equal(rt.refresh().regs[9], 0x77n, 'the edit shows at its own position');
  // back to the entry: r1 = 0 makes the ctx load at pc 6 fault, so the run ends before b's position
  for (let i = 0; i < 7; i++) rt.stepBack('instruction');
  assert.equal(rt.paused!.pos, a.pos);
  rt.addEdit((vm) => vm?.setReg(1, 0n));
  rt.refresh();
  rt.setExceptionFilters([]);
  const again = stepInsns(rt, 7);
  assert.equal(again.pos, b.pos);
  assert.notEqual(again.run?.index === b.run?.index && again.pc === b.pc, true, 'the path changed: another instruction is at that position');
  assert.notEqual(again.regs[9], 0x77n, 'r9 of another instruction was not overwritten');
  assert.ok(errors.some((e) => /edit made at instruction 8 of run #\d+ \(dap_frames pc \d+\) was dropped: an edit made before it changed the path/.test(e)), errors.join(''));
});

test('an edit that fails is dropped with its reason; the session goes on', () => {
  const { rt, errors } = open();
  rt.setFunctionBreakpoints([{ name: 'set_lowat' }]);
  const p = rt.start(false);
  rt.addEdit(() => { throw new Error('store of 8 bytes at 0x10 is outside any region'); });
  assert.throws(() => rt.refresh(), /edit made at .* was dropped: store of 8 bytes at 0x10 is outside any region/);
  assert.equal(rt.paused!.pos, p.pos, 'still at the stop');
  assert.equal(errors.length, 1);
  // the edit is gone: later re-runs pass its position without a word
  const next = rt.continue();
  assert.ok(next.pos > p.pos);
  rt.stepBack();
  rt.refresh();
  assert.equal(errors.length, 1);
});

test('hit counts give the same stops forward and backward', () => {
  const { rt } = open();
  rt.setFunctionBreakpoints([{ name: 'set_lowat', hitCondition: '% 2' }]);
  rt.setSourceBreakpoints('frames.bpf.c', []);
  const forward: number[] = [];
  for (let p = rt.start(false); p.kind !== 'end'; p = rt.continue()) forward.push(p.pos);
  assert.ok(forward.length >= 2, 'every second call of set_lowat stops, at least twice in this scenario');
  const backward: number[] = [];
  for (let p = rt.reverseContinue(); p.stop.reason !== 'entry'; p = rt.reverseContinue()) backward.push(p.pos);
  assert.deepEqual(backward, [...forward].reverse());
  // and forward again from the start, after the backward replays
  const again: number[] = [];
  for (let p = rt.continue(); p.kind !== 'end'; p = rt.continue()) again.push(p.pos);
  assert.deepEqual(again, forward);
});
