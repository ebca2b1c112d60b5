// Callbacks (HelperCoroutine, debugger/vm/api.ts): a helper that calls guest functions, as
// bpf_loop does. What the debugger relies on: the hook sees callback instructions, a pause inside
// a callback resumes there, step() enters the callback, frames() shows the callback frame with
// its return into the helper call site; and what a misbehaving helper gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assemble, callbackPc, callbackValue, GuestFaultError, Vm, type CallTable, type HelperCoroutine, type HelperFn,
} from '../../../debugger/vm/index';
import { bpfLoopHelper } from '../../../debugger/kernel/bpf/callbacks';

const withHelpers = (h: Record<number, HelperFn>): CallTable => ({ helper: (id) => h[id], kfunc: () => undefined });
const loopCalls = withHelpers({ 181: bpfLoopHelper });

// pcs: 0 mov, 1-2 lddw, 3 mov, 4 mov, 5 call, 6 exit | cb: 7 add, 8 mov, 9 exit
const LOOP3 = `
mov %r1, 3
lddw %r2, func cb
mov %r3, 0
mov %r4, 0
call 181
exit
cb:
add %r1, 0
mov %r0, 0
exit`;

test('ld_imm64 src=4 loads a callback value naming the function start', () => {
  const vm = new Vm({ insns: assemble('lddw %r0, func f\nexit\nf:\nmov %r0, 0\nexit') }, loopCalls);
  const st = vm.run(0n);
  assert.equal(st.status, 'exit');
  if (st.status !== 'exit') return;
  assert.equal(st.r0, callbackValue(3));
  assert.equal(callbackPc(st.r0), 3);
  assert.equal(callbackPc(0xff00_0000_0000_0003n), null);
  assert.ok(vm.funcStarts.includes(3), 'the callback is a function start');
  assert.equal(vm.callbackTarget(st.r0), 3);
  assert.equal(vm.callbackTarget(callbackValue(2)), null, 'pc 2 is not a function start');
});

test('the hook sees every callback instruction, in order, with the caller resumed after the call', () => {
  const seen: number[] = [];
  const vm = new Vm({ insns: assemble(LOOP3) }, loopCalls);
  const st = vm.run(0n, { hook: (pc) => { seen.push(pc); } });
  assert.deepEqual(st, { status: 'exit', r0: 3n, insns: 5 + 3 * 3 + 1 });
  assert.deepEqual(seen, [0, 1, 3, 4, 5, 7, 8, 9, 7, 8, 9, 7, 8, 9, 6]);
});

test('pause inside a callback, read its frames and registers, resume to the end', () => {
  const vm = new Vm({ insns: assemble(LOOP3) }, loopCalls);
  let hits = 0;
  vm.start(0n, { hook: (pc) => pc === 8 && ++hits === 2 });
  const st = vm.resume();
  assert.deepEqual(st, { status: 'paused', pc: 8, insns: 5 + 3 + 1 });
  assert.equal(vm.reg(1), 1n, 'r1 = index of the second callback');
  const fr = vm.frames();
  assert.equal(fr.length, 2);
  assert.deepEqual({ ...fr[1], fp: undefined, stackBase: undefined, callerRegs: undefined }, { funcStart: 7, returnPc: 6, callbackOf: 5, fp: undefined, stackBase: undefined, callerRegs: undefined });
  assert.equal(fr[1].callerRegs?.length, 4, "the caller's r6-r9, saved at the call");
  assert.equal(fr[0].callbackOf, undefined);
  assert.notEqual(fr[1].fp, fr[0].fp, 'the callback has its own frame');
  assert.equal(vm.reg(10), fr[1].fp);
  const end = vm.resume();
  assert.deepEqual(end, { status: 'exit', r0: 3n, insns: 15 });
  assert.equal(vm.reg(10), vm.frames()[0].fp);
});

test('step() goes into the callback and back out to the instruction after the helper call', () => {
  const vm = new Vm({ insns: assemble(LOOP3) }, loopCalls);
  vm.start(0n);
  const pcs: number[] = [];
  for (;;) {
    const st = vm.step();
    if (st.status !== 'paused') { assert.deepEqual(st, { status: 'exit', r0: 3n, insns: 15 }); break; }
    pcs.push(st.pc);
    if (st.pc >= 7) assert.equal(vm.frames().length, 2);
  }
  assert.deepEqual(pcs, [1, 3, 4, 5, 7, 8, 9, 7, 8, 9, 7, 8, 9, 6]);
});

test('a run started again after a pause inside a callback starts clean', () => {
  const vm = new Vm({ insns: assemble(LOOP3) }, loopCalls);
  vm.start(0n, { hook: (pc) => pc === 9 });
  assert.equal(vm.resume().status, 'paused');
  assert.equal(vm.frames().length, 2);
  const st = vm.run(0n);
  assert.deepEqual(st, { status: 'exit', r0: 3n, insns: 15 });
  assert.equal(vm.frames().length, 1);
});

test('a host exception thrown by the hook inside a callback propagates unchanged', () => {
  class Stop extends Error {}
  const vm = new Vm({ insns: assemble(LOOP3) }, loopCalls);
  assert.throws(() => vm.run(0n, { hook: (pc) => { if (pc === 8) throw new Stop('x'); } }), Stop);
});

test('a coroutine passes up to 5 arguments and gets each callback r0', () => {
  const got: bigint[] = [];
  const five: HelperFn = function* (_c, r1): HelperCoroutine {
    got.push(yield { fn: r1, args: [1n, 2n, 3n, 4n, 5n] });
    got.push(yield { fn: r1, args: [10n, -1n] });
    return 42n;
  };
  const src = `
lddw %r1, func f
mov %r6, 77
call 9
add %r0, %r6
exit
f:
mov %r0, %r1
add %r0, %r2
add %r0, %r3
add %r0, %r4
add %r0, %r5
exit`;
  const vm = new Vm({ insns: assemble(src) }, withHelpers({ 9: five }));
  const st = vm.run(0n);
  assert.deepEqual(st, { status: 'exit', r0: 42n + 77n, insns: 4 + 2 * 6 + 1 });
  // second call: r3-r5 are 0, -1 is 2^64 - 1, so the 64-bit sum wraps to 9
  assert.deepEqual(got, [15n, 9n]);
});

test('a coroutine that misbehaves ends the run with a fault at the helper call', () => {
  const src = 'mov %r1, 0\ncall 9\nexit\nf:\nmov %r0, 0\nexit';
  const run = (fn: HelperFn) => new Vm({ insns: assemble(src), funcStarts: [3] }, withHelpers({ 9: fn })).run(0n);
  const cases: [HelperFn, string, string][] = [
    [function* () { yield { fn: 0x1234n, args: [] }; return 0n; }, 'helper', 'callback 0x1234 is not the address of a function'],
    [function* () { yield { fn: callbackValue(1), args: [] }; return 0n; }, 'helper', 'is not the address of a function'],
    [function* () { yield { fn: callbackValue(3), args: [1n, 2n, 3n, 4n, 5n, 6n] }; return 0n; }, 'helper', 'at most 5 arguments'],
    [function* () { throw new GuestFaultError('load of 4 bytes at 0x0 is outside any region'); }, 'bad-access', 'outside any region'],
    [function* (c) { yield { fn: callbackValue(3), args: [] }; return c.fault('gave up'); }, 'helper', 'gave up'],
    [function* () { return 'x' as unknown as bigint; }, 'helper', 'returned string, not a bigint'],
  ];
  for (const [fn, kind, text] of cases) {
    const st = run(fn);
    assert.equal(st.status, 'fault', text);
    if (st.status !== 'fault') continue;
    assert.equal(st.fault.kind, kind, st.fault.message);
    assert.equal(st.fault.pc, 1, st.fault.message);
    assert.ok(st.fault.message.includes(text), st.fault.message);
    assert.ok(st.fault.message.startsWith('helper #9'), st.fault.message);
  }
});

test('frames() in nested callbacks: each callback frame returns into its own helper call', () => {
  // main calls helper 9 -> f; f calls helper 9 -> g; pause in g
  const src = `
lddw %r1, func f
call 9
exit
f:
lddw %r1, func g
call 9
mov %r0, 0
exit
g:
mov %r0, 0
exit`;
  const once: HelperFn = function* (_c, r1) { yield { fn: r1, args: [] }; return 5n; };
  const vm = new Vm({ insns: assemble(src) }, withHelpers({ 9: once }));
  vm.start(0n, { hook: (pc) => pc === 9 });
  assert.equal(vm.resume().status, 'paused');
  assert.deepEqual(vm.frames().map((f) => [f.funcStart, f.returnPc, f.callbackOf]), [[0, -1, undefined], [4, 3, 2], [9, 7, 6]]);
  assert.deepEqual(vm.resume(), { status: 'exit', r0: 5n, insns: 3 + 4 + 2 });
});

test('the fast tier runs callbacks (bpf_loop, nested coroutines, a budget ending inside one) as the interpreter does', () => {
  const nested = `
lddw %r1, func f
mov %r6, 7
call 9
add %r0, %r6
exit
f:
mov %r6, 100
lddw %r1, func g
call 9
add %r0, %r6
exit
g:
mov %r0, 3
exit`;
  const twice: HelperFn = function* (_c, r1) { const a = yield { fn: r1, args: [] }; const b = yield { fn: r1, args: [] }; return a + b; };
  const cases: [string, CallTable][] = [[LOOP3, loopCalls], [nested, withHelpers({ 9: twice })]];
  for (const [src, calls] of cases) {
    for (const budget of [undefined, 4, 7, 9, 12]) {
      const out = (['interp', 'fast'] as const).map((tier) => {
        const vm = new Vm({ insns: assemble(src) }, calls, { tier });
        if (tier === 'fast') assert.ok(vm.fastProgram(), 'the fast tier compiles a program with helper calls and callbacks');
        const st = vm.run(0n, budget === undefined ? {} : { budget });
        return JSON.stringify({ st, pc: vm.pc, count: vm.insnCount, frames: vm.frames().map((f) => [f.funcStart, f.returnPc, f.callbackOf ?? null]) }, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
      });
      assert.equal(out[1], out[0], `budget ${budget}`);
    }
  }
  const done = new Vm({ insns: assemble(nested) }, withHelpers({ 9: twice }), { tier: 'fast' }).run(0n);
  assert.deepEqual(done.status === 'exit' ? done.r0 : done, 7n + 2n * (100n + 6n));
});
