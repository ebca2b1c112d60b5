// The extension's scenario runs go through the real emulator: same figures as `bpf-sockops run`,
// expect failures placed on their step, and no compiler behind the user's back when none is allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerSimBackend, splitFailure, num, squeeze } from '../../../extension/simBackend';
import { runScenario, formatRun } from '../../../extension/run';
import { timelineHtml } from '../../../extension/timeline/html';

registerSimBackend();
const EX = path.resolve('examples/autolowat');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ext-sim-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('splits the emulator failure line into key, actual and expected', () => {
  assert.deepEqual(splitFailure('rcvlowat is 8, expected 258'), { text: 'rcvlowat is 8, expected 258', key: 'rcvlowat', actual: '8', expected: '258' });
  assert.deepEqual(splitFailure('something else'), { text: 'something else' });
});

test('register values: small ones signed decimal, pointers hex', () => {
  assert.deepEqual([num(0n), num(-95n & 0xffffffffffffffffn), num(258n), num(0xffff888000001000n)], ['0', '-95', '258', '0xffff888000001000']);
});

test('repeated helper calls collapse with a count', () => {
  assert.deepEqual(squeeze(['a=0', 'a=0', 'a=0', 'b=1', 'a=0']), ['a=0 \u00d73', 'b=1', 'a=0']);
  assert.deepEqual(squeeze([]), []);
});

test('the example scenario runs: one outcome per step after the passive open, all expects pass', async () => {
  const file = path.join(EX, 'case4-partial-descriptor.scenario.json');
  const nSteps = JSON.parse(fs.readFileSync(file, 'utf8')).steps.length;
  const r = await runScenario(file, {});
  assert.equal(r.error, undefined);
  assert.equal(r.steps.length, nSteps + 1);
  assert.equal(r.steps[0]!.index, -1);
  assert.deepEqual(r.steps.slice(1).map((s) => s.index), [...Array(nSteps).keys()]);
  const expects = r.steps.filter((s) => s.expect);
  assert.equal(r.failed, 0);
  assert.equal(r.passed, expects.length);
  assert.ok(expects.length > 0 && expects.every((s) => s.expect!.ok));
  assert.ok(r.steps.some((s) => s.programs.some((p) => p.startsWith('tcp_autolowat RCVQ_CB r0='))), 'the hook ran at RCVQ_CB, named by the table');
  assert.ok(r.steps.some((s) => s.rcvlowat > 1), 'the hook moved sk_rcvlowat');
  assert.match(formatRun(r).at(-1)!, new RegExp(`^${expects.length} passed, 0 failed$`));
});

test('a wrong expectation fails at its own step with expected and actual values', async () => {
  const src = JSON.parse(fs.readFileSync(path.join(EX, 'case1-one-frame.scenario.json'), 'utf8'));
  src.program = path.join(EX, src.program);
  const k = src.steps.findIndex((s: Record<string, unknown>) => 'expect' in s);
  src.steps[k] = { expect: { rcvlowat: 123456 } };
  const file = path.join(tmp, 'wrong.scenario.json');
  fs.writeFileSync(file, JSON.stringify(src, null, 2));
  const r = await runScenario(file, {});
  assert.equal(r.failed, 1);
  const st = r.steps.find((s) => s.index === k)!;
  assert.equal(st.expect?.ok, false);
  assert.equal(st.expect?.failures[0]?.key, 'rcvlowat');
  assert.equal(st.expect?.failures[0]?.expected, '123456');
  assert.match(timelineHtml({ title: 't', run: r, cspSource: 'x', nonce: 'n' }), /rcvlowat is \d+, expected 123456/);
});

test('a .c program without an allowed compiler is refused before anything runs', async () => {
  const src = JSON.parse(fs.readFileSync(path.join(EX, 'case1-one-frame.scenario.json'), 'utf8'));
  src.program = path.join(EX, 'autolowat.bpf.c');
  const file = path.join(tmp, 'c.scenario.json');
  fs.writeFileSync(file, JSON.stringify(src));
  const r = await runScenario(file, { noCompilerReason: 'compiling needs a trusted workspace' });
  assert.equal(r.steps.length, 0);
  assert.match(r.error!.message, /autolowat\.bpf\.c is C source and compiling needs a trusted workspace/);
  const r2 = await runScenario(path.join(EX, 'case1-one-frame.scenario.json'), { program: path.join(EX, 'autolowat.bpf.c') });
  assert.match(r2.error!.message, /C source/);
});

test('a broken scenario file gives an error naming the file, not an exception', async () => {
  const file = path.join(tmp, 'broken.scenario.json');
  fs.writeFileSync(file, '{ "program": "x.o", "steps": [ { "send": -1 } ] }');
  const r = await runScenario(file, {});
  assert.equal(r.steps.length, 0);
  assert.ok(r.error);
  assert.ok(r.error.message.includes('broken.scenario.json') || r.error.message.includes('x.o'), r.error.message);
});

const haveClang = ['/usr/bin/clang-19', '/usr/local/bin/clang-19'].find((p) => fs.existsSync(p));
test('with a compiler, the hook source gives the same run as its prebuilt object', { skip: haveClang ? false : 'clang-19 not installed' }, async () => {
  const file = path.join(EX, 'case2-two-frames.scenario.json');
  const fromO = await runScenario(file, {});
  const fromC = await runScenario(file, { program: path.join(EX, 'autolowat.bpf.c'), compiler: { path: haveClang!, args: [] } });
  assert.equal(fromC.error, undefined, fromC.error?.message);
  assert.deepEqual(fromC.steps.map((s) => [s.index, s.rcvlowat, s.readable, s.epoll, s.wakeups]), fromO.steps.map((s) => [s.index, s.rcvlowat, s.readable, s.epoll, s.wakeups]));
  assert.equal(fromC.passed, fromO.passed);
});
