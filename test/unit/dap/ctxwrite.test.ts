// Data breakpoints on ctx bytes over DAP: the writable fields of struct bpf_sock_ops, reply
// (args[0], offset 4) and sk_txhash (offset 164), stored by test/fixtures/dap/ctxwrite.bpf.c at
// the passive open (RWND_INIT, TIMEOUT_INIT, PASSIVE_ESTABLISHED_CB) and at each RCVQ_CB.
// (A data breakpoint on a map value's bytes is covered in dap.test.ts: frame_state.frames.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { FIX, evaluate, launch, resume, scope, top, withClient } from './client';

const C = join(FIX, 'ctxwrite.bpf.c');
const SCENARIO = join(FIX, 'ctxwrite.scenario.json');
const hasClang = spawnSync('clang-19', ['--version']).status === 0;

function lineOf(text: string): number {
  const i = readFileSync(C, 'utf8').split('\n').findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${C} has no line with ${text}`);
  return i + 1;
}
const L_RWND_REPLY = lineOf('STORE(reply, 40)');
const L_TIMEOUT_REPLY = lineOf('STORE(reply, 250)');
const L_EST_TXHASH = lineOf('STORE(sk_txhash, TXHASH_BASE);');
const L_RCVQ_TXHASH = lineOf('STORE(sk_txhash, TXHASH_BASE | len)');
const L_RCVQ_REPLY = lineOf('STORE(reply, len)');

/** Launch stopped in the first run (TCP_LISTEN_CB) and return the data ids of reply/args[0] and sk_txhash. */
async function ctxWatchIds(dc: DebugClient): Promise<{ reply: string; txhash: string }> {
  const s = await launch(dc, { scenario: SCENARIO }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'dap_ctxwrite' }] }));
  assert.equal(s?.body.reason, 'function breakpoint');
  const ctx = await scope(dc, 'Context');
  assert.equal(ctx.map.op, 'BPF_SOCK_OPS_TCP_LISTEN_CB (11)');
  const args = ctx.vars.find((v) => v.name === 'args')!;
  assert.ok(args.variablesReference > 0, 'args expands to its elements');
  // the whole array is 16 bytes: not watchable; its element 0 (reply) is
  const whole = await dc.dataBreakpointInfoRequest({ variablesReference: ctx.ref, name: 'args' });
  assert.equal(whole.body.dataId, null);
  assert.match(whole.body.description, /args cannot be watched/);
  const reply = await dc.dataBreakpointInfoRequest({ variablesReference: args.variablesReference, name: '[0]' });
  const txhash = await dc.dataBreakpointInfoRequest({ variablesReference: ctx.ref, name: 'sk_txhash' });
  assert.ok(reply.body.dataId && txhash.body.dataId, `${reply.body.description} / ${txhash.body.description}`);
  assert.equal(reply.body.description, 'skops->args[0]');
  assert.equal(txhash.body.description, 'skops->sk_txhash');
  assert.deepEqual(reply.body.accessTypes, ['write']);
  await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
  return { reply: reply.body.dataId!, txhash: txhash.body.dataId! };
}

/** The instruction before the stop (the store that changed the watched bytes) and its C line. */
async function storeBefore(dc: DebugClient): Promise<{ text: string; line?: number }> {
  const ref = (await top(dc))[0]!.instructionPointerReference!;
  const dis = await dc.disassembleRequest({ memoryReference: ref, instructionOffset: -1, instructionCount: 1 });
  const i = dis.body!.instructions[0]!;
  return { text: i.instruction, line: i.line };
}

/** Continue to the next stop; check it is a data breakpoint after a store at `line`, in the run named `run`. */
async function nextCtxStop(dc: DebugClient, run: RegExp, description: RegExp, line: number, offset: number): Promise<void> {
  const s = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
  assert.equal(s?.body.reason, 'data breakpoint', s?.body.description);
  assert.match(s!.body.description ?? '', description);
  assert.equal(s!.body.hitBreakpointIds?.length, 1);
  const f = await top(dc);
  assert.equal(f[0]!.name, 'dap_ctxwrite');
  assert.match(f[f.length - 1]!.name, run);
  // stopped after the store: the frame is on the store's line or the next one
  assert.ok(f[0]!.line === line || f[0]!.line === line + 1, `stopped at line ${f[0]!.line}, the store is at ${line}`);
  const st = await storeBefore(dc);
  assert.match(st.text, new RegExp(`^\\*\\(u32 \\*\\)\\(r1 \\+ 0x${offset.toString(16)}\\) = r\\d$`), st.text);
  assert.equal(st.line, line, `the store ${st.text}`);
}

test('data breakpoints on reply (args[0]) and sk_txhash stop after each store, with the new value in the Context scope', async () => {
  await withClient(async (dc) => {
    const ids = await ctxWatchIds(dc);
    const r = await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: ids.reply, accessType: 'write' }, { dataId: ids.txhash, accessType: 'write' }] });
    assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [true, true]);
    // RWND_INIT: reply = 40. The kernel fills a fresh ctx for each op: no stop where a new run begins
    await nextCtxStop(dc, /^RWND_INIT \(request sock/, /^skops->args\[0\] changed: 0 -> 40 \(0x28\)$/, L_RWND_REPLY, 4);
    let ctx = await scope(dc, 'Context');
    assert.equal(ctx.map.op, 'BPF_SOCK_OPS_RWND_INIT (2)');
    assert.equal(ctx.map.args, '[40, 0, 0, 0]');
    assert.equal(await evaluate(dc, 'skops->reply'), '40 (0x28)');
    assert.equal(await evaluate(dc, 'skops->args[0] == ctx.reply'), '1');
    // TIMEOUT_INIT: reply = 250. The sk_txhash store of RWND_INIT between them is on a request sock
    // (not is_locked_tcp_sock): skipped by the kernel, the field stays 0, no stop
    await nextCtxStop(dc, /^TIMEOUT_INIT \(request sock/, /^skops->args\[0\] changed: 0 -> 250 \(0xfa\)$/, L_TIMEOUT_REPLY, 4);
    ctx = await scope(dc, 'Context');
    assert.equal(ctx.map.args, '[250, 0, 0, 0]');
    assert.equal(ctx.map.sk_txhash, '0');
    // PASSIVE_ESTABLISHED_CB: the full, locked socket takes sk_txhash
    await nextCtxStop(dc, /^PASSIVE_ESTABLISHED_CB$/, /^skops->sk_txhash changed: 0 -> 1592590336 \(0x5eed0000\)$/, L_EST_TXHASH, 164);
    ctx = await scope(dc, 'Context');
    assert.equal(ctx.map.sk_txhash, String(0x5eed0000));
    assert.equal(ctx.map.args, '[0, 0, 0, 0]');
    // the first enqueue: both fields, in program order
    await nextCtxStop(dc, /^RCVQ_CB enqueue seq 0\.\.6 \(6 bytes\)/, /^skops->sk_txhash changed: 1592590336 \(0x5eed0000\) -> 1592590342 \(0x5eed0006\)$/, L_RCVQ_TXHASH, 164);
    assert.equal((await scope(dc, 'Context')).map.args, '[0, 0, 0, 0]', 'reply not stored yet');
    await nextCtxStop(dc, /^RCVQ_CB enqueue seq 0\.\.6 \(6 bytes\)/, /^skops->args\[0\] changed: 0 -> 6$/, L_RCVQ_REPLY, 4);
    ctx = await scope(dc, 'Context');
    assert.equal(ctx.map.args, '[6, 0, 0, 0]');
    assert.equal(ctx.map.sk_txhash, String(0x5eed0006));
    assert.equal(ctx.map.skb_len, '6');
    // clearing the data breakpoints lets the run go to the end of the scenario
    const cleared = await dc.setDataBreakpointsRequest({ breakpoints: [] });
    assert.equal(cleared.body.breakpoints.length, 0);
    const end = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(end?.body.reason, 'pause');
    assert.equal(end?.body.description, 'scenario finished: 1 passed, 0 failed');
    assert.equal(await resume(dc, () => dc.continueRequest({ threadId: 1 })), null, 'a further continue terminates');
  });
});

test('a condition and a hit condition on ctx data breakpoints', async () => {
  await withClient(async (dc) => {
    const ids = await ctxWatchIds(dc);
    await dc.setDataBreakpointsRequest({
      breakpoints: [
        // reply changes at RWND_INIT, TIMEOUT_INIT and at the enqueues of 6, 8 and 13 bytes
        { dataId: ids.reply, accessType: 'write', condition: 'skops->op == BPF_SOCK_OPS_RCVQ_CB && skops->skb_len > 6' },
        // sk_txhash changes at PASSIVE_ESTABLISHED_CB (1), enqueue 6 (2), enqueue 8 (3), recvmsg (4), enqueue 13 (5)
        { dataId: ids.txhash, accessType: 'write', hitCondition: '% 4' },
      ],
    });
    // reply: the first change that meets the condition is the enqueue of 8 bytes
    await nextCtxStop(dc, /^RCVQ_CB enqueue seq 6\.\.14 \(8 bytes\)/, /^skops->args\[0\] changed: 0 -> 8$/, L_RCVQ_REPLY, 4);
    assert.equal((await scope(dc, 'Context')).map.args, '[8, 0, 0, 0]');
    // sk_txhash: its 4th change, at the recvmsg run (skb_len 0: 0x5eed0000)
    await nextCtxStop(dc, /^RCVQ_CB recvmsg/, /^skops->sk_txhash changed: 1592590344 \(0x5eed0008\) -> 1592590336 \(0x5eed0000\)$/, L_RCVQ_TXHASH, 164);
    assert.equal((await scope(dc, 'Context')).map.sk_txhash, String(0x5eed0000));
    // reply again: the enqueue of 13 bytes (the recvmsg run stored 0 over 0: no change)
    await nextCtxStop(dc, /^RCVQ_CB enqueue seq 14\.\.27 \(13 bytes\)/, /^skops->args\[0\] changed: 0 -> 13 \(0xd\)$/, L_RCVQ_REPLY, 4);
    const end = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(end?.body.reason, 'pause', 'no 8th sk_txhash change: the run ends');
    assert.equal(end?.body.description, 'scenario finished: 1 passed, 0 failed');
  });
});

test('malformed data ids and hit conditions are refused or reported, and the run goes on', async () => {
  await withClient(async (dc) => {
    const ids = await ctxWatchIds(dc);
    const r = await dc.setDataBreakpointsRequest({
      breakpoints: [
        { dataId: 'null' }, { dataId: '{"kind":"ctx"}' }, { dataId: 'not json' },
        // reply, the union alias of args[0], as the hook's C says it
        { dataId: ids.reply, condition: 'skops->reply == 13 && ctx.replylong[0] == 13' },
        // a hit count that is not understood: said when set, and it stops (as a broken condition does)
        { dataId: ids.txhash, hitCondition: 'often' },
      ],
    });
    assert.deepEqual(r.body.breakpoints.map((b) => b.verified), [false, false, false, true, true]);
    assert.match(r.body.breakpoints[0]!.message ?? '', /unknown data id/);
    assert.equal(r.body.breakpoints[3]!.message, undefined);
    assert.match(r.body.breakpoints[4]!.message ?? '', /hit count 'often' is not understood/);
    await nextCtxStop(dc, /^PASSIVE_ESTABLISHED_CB$/, /^skops->sk_txhash changed: 0 -> 1592590336 \(0x5eed0000\)$/, L_EST_TXHASH, 164);
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: ids.reply, condition: 'skops->reply == 13' }] });
    await nextCtxStop(dc, /^RCVQ_CB enqueue seq 14\.\.27 \(13 bytes\)/, /^skops->args\[0\] changed: 0 -> 13 \(0xd\)$/, L_RCVQ_REPLY, 4);
    const end = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(end?.body.description, 'scenario finished: 1 passed, 0 failed');
  });
});

test('ctxwrite.bpf.o is what build.sh makes of ctxwrite.bpf.c (when clang-19 is present)', { skip: !hasClang && 'clang-19 is not installed' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'dap-fix-'));
  const b = spawnSync('sh', [join(FIX, 'build.sh'), out], { encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  for (const o of ['ctxwrite.bpf.o', 'frames.bpf.o', 'spin.bpf.o']) {
    assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(FIX, o))), `${o} differs from a rebuild: run test/fixtures/dap/build.sh and commit`);
  }
});
