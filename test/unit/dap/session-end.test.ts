// The end of the scenario is a stop (step back and Variables still work there; a further
// continue ends the session) and pause answers honestly: a long run stops where it is, a stopped
// session says it is already stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FIX, FRAMES_SCENARIO, launch, nextStop, resume, scope, top, withClient } from './client';

const SPIN_SCENARIO = join(FIX, 'spin.scenario.json');

test('the end of the scenario stops once: final socket, step back and reverse continue work; a further continue terminates', async () => {
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: FRAMES_SCENARIO });
    assert.equal(s?.body.reason, 'pause');
    assert.equal(s?.body.description, 'scenario finished: 3 passed, 0 failed');
    let f = await top(dc);
    assert.equal(f.length, 1);
    assert.equal(f[0]!.name, 'end of the scenario');
    // the lone frame is not a label: VS Code selects it and shows its scopes in the Variables view
    assert.notEqual(f[0]!.presentationHint, 'label');
    const sock = await scope(dc, 'Socket');
    assert.equal(sock.map.sk_rcvlowat, '1', 'the final socket (the last expect: rcvlowat 1, 9 readable)');
    assert.match(sock.map.readable!, /^9 /);
    assert.equal((await scope(dc, 'Event')).map.result, '3 passed, 0 failed');
    // step back: into the last program run (the last send), then further back
    const b = await resume(dc, () => dc.stepBackRequest({ threadId: 1 }));
    assert.equal(b?.body.reason, 'step');
    f = await top(dc);
    assert.ok(f.length >= 1 && f[0]!.name !== 'end of the scenario', f.map((x) => x.name).join(' < '));
    // forward again: arriving at the end stops there once more
    const again = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(again?.body.reason, 'pause');
    assert.equal(again?.body.description, 'scenario finished: 3 passed, 0 failed');
    // reverse continue from the end, with a function breakpoint: the last call of consume
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'consume' }] });
    const rc = await resume(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
    assert.equal(rc?.body.reason, 'function breakpoint');
    assert.equal((await top(dc))[0]!.name, 'consume');
    assert.equal((await top(dc))[2]!.name, 'RCVQ_CB enqueue seq 14..23 (9 bytes)');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const end = await resume(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.ok(end, 'a step inside the last run is not the end yet');
    // continue to the end, then once more: the session terminates
    assert.equal((await resume(dc, () => dc.continueRequest({ threadId: 1 })))?.body.reason, 'pause');
    assert.equal(await resume(dc, () => dc.continueRequest({ threadId: 1 })), null);
  });
});

test('a failing expect is counted in the end stop', async () => {
  await withClient(async (dc) => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'dap-end-'));
    const sc = JSON.parse(readFileSync(FRAMES_SCENARIO, 'utf8'));
    sc.program = join(FIX, 'frames.bpf.o');
    sc.steps[1] = { expect: { rcvlowat: 99 } };
    const file = join(dir, 'failing.scenario.json');
    writeFileSync(file, JSON.stringify(sc));
    const s = await launch(dc, { scenario: file });
    assert.equal(s?.body.description, 'scenario finished: 2 passed, 1 failed');
  });
});

test('launched without debugging (noDebug): the end terminates the session', async () => {
  await withClient(async (dc) => {
    assert.equal(await launch(dc, { scenario: FRAMES_SCENARIO, noDebug: true }), null);
  });
});

test('pause while stopped: the response says the thread is already stopped and why', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO, stopOnEntry: true });
    await assert.rejects(dc.pauseRequest({ threadId: 1 }), /already stopped \(before the passive open\).*runs are bounded by the instruction budget/);
  });
});

test('pause during a long run stops at the instruction the program is on; continue goes on from there', async () => {
  await withClient(async (dc) => {
    // 60 enqueues of a hook spinning ~800,000 instructions each: the run is long enough for the
    // pause to arrive while a program runs (the test asserts where it stopped, not how fast)
    await launch(dc, { scenario: SPIN_SCENARIO, stopOnEntry: true });
    const stop = nextStop(dc);
    await dc.continueRequest({ threadId: 1 });
    const paused = dc.pauseRequest({ threadId: 1 });
    const s = await stop;
    assert.equal(s?.body.reason, 'pause');
    assert.match(s!.body.description ?? '', /^paused by request at instruction \d+ of this run$/);
    const r = await paused;
    assert.equal(r.success, true);
    const f = await top(dc);
    assert.equal(f[0]!.name, 'dap_spin');
    assert.match(f[1]!.name, /^RCVQ_CB enqueue seq \d+\.\.\d+ \(1 bytes?\)$/);
    const regs = await scope(dc, 'Registers');
    assert.equal(regs.vars.length, 11);
    // instruction step from the pause: one instruction further in the same run
    const before = BigInt(f[0]!.instructionPointerReference!);
    await resume(dc, () => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
    const after = (await top(dc))[0]!;
    assert.equal(after.name, 'dap_spin');
    assert.notEqual(BigInt(after.instructionPointerReference!), before);
    const t = await dc.terminateRequest({}) as DebugProtocol.TerminateResponse;
    assert.equal(t.success, true);
  });
});
