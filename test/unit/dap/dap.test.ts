// The debug adapter over DAP: launch (and its failures), breakpoints of every kind, stepping
// across bpf-to-bpf calls, step back, scopes with live values, data breakpoints, disassembly,
// memory, evaluate, setVariable and console output, on the example hook and on a hook with
// bpf-to-bpf calls (test/fixtures/dap/frames.bpf.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import {
  EXAMPLE, FAULT_SCENARIO, FIX, FRAMES_C, FRAMES_SCENARIO, collectOutput, evaluate, launch, resume, scope, top, withClient,
} from './client';

/** 1-based line of the first line containing `text`. */
function lineOf(file: string, text: string): number {
  const i = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${file} has no line with ${text}`);
  return i + 1;
}

const L_FRAMES_INC = lineOf(FRAMES_C, 'st->frames++');
const L_CALL_CONSUME = lineOf(FRAMES_C, 'done = consume(skops, st, skops->skb_len)');
const L_SET_LOWAT_CALL = lineOf(FRAMES_C, 'set_lowat(skops, st->remaining');
const L_WILD = lineOf(FRAMES_C, 'return *(volatile int *)');
const L_BLANK_IN_CONSUME = lineOf(FRAMES_C, 'int i, done = 0;') + 1; // an empty line: no code
const hasClang = spawnSync('clang-19', ['--version']).status === 0;

test('launch failures explain themselves', async () => {
  await withClient(async (dc) => {
    await assert.rejects(dc.launch({ type: 'bpf-sockops', request: 'launch', scenario: join(FIX, 'missing.scenario.json') } as never), /missing\.scenario\.json does not exist/);
  });
  await withClient(async (dc) => {
    await assert.rejects(dc.launch({ type: 'bpf-sockops', request: 'launch' } as never), /no "scenario"/);
  });
  // a program that is not an ELF object: the loader's message names the file
  const dir = mkdtempSync(join(tmpdir(), 'dap-test-'));
  const bogus = join(dir, 'bogus.o');
  writeFileSync(bogus, 'not an elf');
  await withClient(async (dc) => {
    await assert.rejects(dc.launch({ type: 'bpf-sockops', request: 'launch', scenario: FRAMES_SCENARIO, program: bogus } as never), (e: Error) => e.message.includes('bogus.o') && /launch failed/.test(e.message));
  });
  // an unknown sockops function: the kernel side lists what there is
  const sc = join(dir, 'wrong.scenario.json');
  writeFileSync(sc, JSON.stringify({ ...JSON.parse(readFileSync(FRAMES_SCENARIO, 'utf8')), program: join(FIX, 'frames.bpf.o'), sockops: 'no_such_prog' }));
  await withClient(async (dc) => {
    await assert.rejects(dc.launch({ type: 'bpf-sockops', request: 'launch', scenario: sc } as never), /no_such_prog/);
  });
  if (hasClang) {
    const bad = join(dir, 'broken.bpf.c');
    writeFileSync(bad, 'int f(void) { return undeclared_thing; }\n');
    await withClient(async (dc) => {
      await assert.rejects(dc.launch({ type: 'bpf-sockops', request: 'launch', scenario: FRAMES_SCENARIO, program: bad } as never), (e: Error) => /undeclared_thing/.test(e.message) && /broken\.bpf\.c/.test(e.message));
    });
  }
});

test('line breakpoint stops inside a bpf-to-bpf callee with the call chain under the event frame', async () => {
  await withClient(async (dc) => {
    const out = collectOutput(dc);
    let verified: boolean | undefined;
    const stop = await launch(dc, { scenario: FRAMES_SCENARIO }, async () => {
      const r = await dc.setBreakpointsRequest({ source: { path: FRAMES_C }, breakpoints: [{ line: L_FRAMES_INC }, { line: L_BLANK_IN_CONSUME }] });
      verified = r.body.breakpoints[0]!.verified;
      assert.equal(r.body.breakpoints[0]!.line, L_FRAMES_INC);
      // the blank line moves to the next line with code
      assert.equal(r.body.breakpoints[1]!.verified, true);
      assert.ok(r.body.breakpoints[1]!.line! > L_BLANK_IN_CONSUME, `moved to ${r.body.breakpoints[1]!.line}`);
      // keep only the first one for the rest of the test
      await dc.setBreakpointsRequest({ source: { path: FRAMES_C }, breakpoints: [{ line: L_FRAMES_INC }] });
    });
    assert.equal(verified, true);
    assert.equal(stop?.body.reason, 'breakpoint');
    const frames = await top(dc);
    assert.equal(frames[0]!.name, 'consume');
    assert.equal(frames[0]!.line, L_FRAMES_INC);
    assert.ok(frames[0]!.source?.path?.endsWith('frames.bpf.c'));
    assert.ok(frames[0]!.instructionPointerReference);
    assert.equal(frames[1]!.name, 'dap_frames');
    assert.equal(frames[1]!.line, L_CALL_CONSUME);
    assert.equal(frames[2]!.name, 'RCVQ_CB enqueue seq 6..14 (8 bytes)');
    assert.equal(frames[2]!.presentationHint, 'label');
    // console: one line per scenario step so far, numbered as `bpf-sockops run` numbers them (steps[0] is step 0)
    assert.ok(out.lines.some((l) => /^step 0 send 6/.test(l)), out.lines.join(''));
    assert.ok(out.lines.some((l) => /^open passive open/.test(l)), out.lines.join(''));
    // continue: the second frame completes in the last send
    const s2 = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(s2?.body.reason, 'breakpoint');
    assert.equal((await top(dc))[2]!.name, 'RCVQ_CB enqueue seq 14..23 (9 bytes)');
    assert.ok(out.lines.some((l) => l.includes('frame 1 complete (14 bytes)')), 'bpf_printk output on the console');
    const end = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(end?.body.reason, 'pause', 'stops once at the end of the scenario');
    assert.equal(end?.body.description, 'scenario finished: 3 passed, 0 failed');
    assert.equal(await resume(dc, () => dc.continueRequest({ threadId: 1 })), null, 'a further continue terminates');
  });
});

test('scopes show ctx, socket, registers, stack, maps and event; values are live across a kfunc call', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setBreakpointsRequest({ source: { path: FRAMES_C }, breakpoints: [{ line: L_SET_LOWAT_CALL }] }));
    const ctx = await scope(dc, 'Context');
    assert.equal(ctx.map.op, 'BPF_SOCK_OPS_RCVQ_CB (21)');
    assert.equal(ctx.map.skb_len, '6');
    assert.equal(ctx.map.family, '10');
    const sock = await scope(dc, 'Socket');
    assert.equal(sock.map.sk_rcvlowat, '1');
    assert.match(sock.map.bpf_sock_ops_cb_flags!, /BPF_SOCK_OPS_RCVQ_CB_FLAG/);
    assert.match(sock.map.readable!, /^6 /);
    const q = sock.vars.find((v) => v.name === 'receive queue')!;
    const skbs = await dc.variablesRequest({ variablesReference: q.variablesReference });
    assert.equal(skbs.body.variables.length, 1);
    assert.match(skbs.body.variables[0]!.value, /seq 0\.\.6 \(6 bytes\)/);
    const regs = await scope(dc, 'Registers');
    assert.equal(regs.vars.length, 11);
    assert.match(regs.map.r10!, /stack.*\(end\)/);
    const stack = await scope(dc, 'Stack');
    assert.equal(stack.vars.length, 64);
    assert.equal(stack.vars[0]!.name, '[r10-8]');
    const ev = await scope(dc, 'Event');
    assert.equal(ev.map.what, 'send 6');
    const maps = await scope(dc, 'Maps');
    const fs = maps.vars.find((v) => v.name === 'frame_state')!;
    assert.match(fs.value, /SK_STORAGE, 1 entry/);
    const entries = await dc.variablesRequest({ variablesReference: fs.variablesReference });
    const fields = await dc.variablesRequest({ variablesReference: entries.body.variables[0]!.variablesReference });
    const byName = Object.fromEntries(fields.body.variables.map((v) => [v.name, v.value]));
    assert.equal(byName.frame_len, '14');
    assert.equal(byName.remaining, '8');
    // step over the call that reaches the kfunc: the socket shows the new rcvlowat
    const s = await resume(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.equal(s?.body.reason, 'step');
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '14');
    assert.match(await evaluate(dc, 'sk_rcvlowat'), /^14\b/);
  });
});

test('step in, out and over across bpf-to-bpf calls; instruction stepping; step back; reverse continue', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setBreakpointsRequest({ source: { path: FRAMES_C }, breakpoints: [{ line: L_CALL_CONSUME }] }));
    let f = await top(dc);
    assert.equal(f[0]!.line, L_CALL_CONSUME);
    await resume(dc, () => dc.stepInRequest({ threadId: 1 }));
    f = await top(dc);
    assert.equal(f[0]!.name, 'consume', 'stepped into the callee');
    assert.equal(f[1]!.name, 'dap_frames');
    await resume(dc, () => dc.stepOutRequest({ threadId: 1 }));
    f = await top(dc);
    assert.equal(f[0]!.name, 'dap_frames', 'back in the caller');
    // instruction stepping moves one slot
    const before = BigInt(f[0]!.instructionPointerReference!);
    await resume(dc, () => dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
    const after = BigInt((await top(dc))[0]!.instructionPointerReference!);
    assert.ok(after === before + 8n || (await top(dc))[0]!.name !== 'dap_frames', `${before} -> ${after}`);
    // step back returns to where we were
    await resume(dc, () => dc.stepBackRequest({ threadId: 1, granularity: 'instruction' }));
    assert.equal(BigInt((await top(dc))[0]!.instructionPointerReference!), before);
    // step over the call: stays in dap_frames, on a later line
    await resume(dc, () => dc.nextRequest({ threadId: 1 }));
    f = await top(dc);
    assert.equal(f[0]!.name, 'dap_frames');
    assert.notEqual(f[0]!.line, L_CALL_CONSUME);
    // line step back lands on a line of this frame again
    await resume(dc, () => dc.stepBackRequest({ threadId: 1 }));
    assert.equal((await top(dc))[0]!.name, 'dap_frames');
    // continue to the next hit (the last send), then reverse-continue to the previous one
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal((await top(dc))[1]!.name, 'RCVQ_CB enqueue seq 6..14 (8 bytes)');
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal((await top(dc))[1]!.name, 'RCVQ_CB enqueue seq 14..23 (9 bytes)');
    const back = await resume(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
    assert.equal(back?.body.reason, 'breakpoint');
    assert.equal((await top(dc))[1]!.name, 'RCVQ_CB enqueue seq 6..14 (8 bytes)');
  });
});

test('function breakpoints on BPF functions and on helper/kfunc names; conditions, hit counts, logpoints', async () => {
  await withClient(async (dc) => {
    const out = collectOutput(dc);
    const s = await launch(dc, { scenario: FRAMES_SCENARIO }, async () => {
      const r = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'bpf_sock_ops_tcp_set_rcvlowat', condition: 'skops->skb_len == 8' }, { name: 'no_such_function' }] });
      assert.equal(r.body.breakpoints[0]!.verified, true);
      assert.equal(r.body.breakpoints[1]!.verified, false);
      await dc.setBreakpointsRequest({ source: { path: FRAMES_C }, breakpoints: [{ line: L_SET_LOWAT_CALL, logMessage: 'lowat before: {sk_rcvlowat} len {skops->skb_len}' }] });
    });
    assert.equal(s?.body.reason, 'function breakpoint');
    const f = await top(dc);
    assert.equal(f[0]!.name, 'set_lowat');
    assert.equal(f[2]!.name, 'RCVQ_CB enqueue seq 6..14 (8 bytes)', 'the condition skipped the first enqueue');
    // stopped before the kfunc call instruction
    const dis = await dc.disassembleRequest({ memoryReference: f[0]!.instructionPointerReference!, instructionCount: 1 });
    assert.match(dis.body!.instructions[0]!.instruction, /call .*bpf_sock_ops_tcp_set_rcvlowat/);
    assert.ok(out.lines.some((l) => l.includes('lowat before: 1 len 6')), out.lines.join(''));
  });
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: FRAMES_SCENARIO }, async () => {
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'consume', hitCondition: '2' }] });
    });
    assert.equal(s?.body.reason, 'function breakpoint');
    assert.equal((await top(dc))[1]!.name, 'dap_frames');
    assert.equal((await top(dc))[2]!.name, 'RCVQ_CB enqueue seq 6..14 (8 bytes)', 'second call of consume');
  });
});

test('instruction breakpoints from the disassembly view', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO, stopOnEntry: true });
    // disassemble around the first program's entry: find the entry reference through a stop in it
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'dap_frames' }] });
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    const ref = (await top(dc))[0]!.instructionPointerReference!;
    const dis = await dc.disassembleRequest({ memoryReference: ref, instructionOffset: 0, instructionCount: 12 });
    const ins = dis.body!.instructions;
    assert.equal(ins.length, 12);
    assert.equal(ins[0]!.symbol, 'dap_frames');
    const sw = ins.find((i) => /if w?r?\d+ == 0x15 goto/.test(i.instruction))!;
    assert.ok(sw, ins.map((i) => i.instruction).join('\n'));
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const r = (await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: sw.address }] })) as DebugProtocol.SetInstructionBreakpointsResponse;
    assert.equal(r.body.breakpoints[0]!.verified, true);
    const s = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(s?.body.reason, 'instruction breakpoint');
    assert.equal((await top(dc))[0]!.instructionPointerReference, sw.address);
  });
});

test('exception breakpoints: a guest fault stops at the faulting C line; a helper error stops after the call', async () => {
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: FAULT_SCENARIO }, () => dc.setExceptionBreakpointsRequest({ filters: ['fault'] }));
    assert.equal(s?.body.reason, 'exception');
    assert.match(s!.body.description ?? '', /guest fault: load of 4 bytes at 0xdead/);
    const f = await top(dc);
    assert.equal(f[0]!.name, 'consume');
    assert.equal(f[0]!.line, L_WILD);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.match(info.body.description ?? '', /frames\.bpf\.c:\d+/);
  });
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setExceptionBreakpointsRequest({ filters: ['helper-error'] }));
    assert.equal(s?.body.reason, 'exception');
    assert.match(s!.body.description ?? '', /bpf_skb_load_bytes returned -14 \(-EFAULT\)/);
    const f = await top(dc);
    assert.equal(f[0]!.name, 'read_prefix');
    assert.equal(f[0]!.line, lineOf(FRAMES_C, 'if (bpf_skb_load_bytes(skops, off, &be, sizeof(be)))'), 'the stop shows the line of the call that failed');
    assert.equal(f[2]!.name.startsWith('RCVQ_CB recvmsg'), true, f[2]!.name);
  });
});

test('data breakpoint on sk_rcvlowat stops after the write; setVariable and evaluate; readMemory', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'dap_frames' }] }));
    const sock = await scope(dc, 'Socket');
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: sock.ref, name: 'sk_rcvlowat' });
    assert.ok(info.body.dataId);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    const s = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(s?.body.reason, 'data breakpoint');
    assert.match(s!.body.description ?? '', /sk_rcvlowat changed: 1 -> 14/);
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '14');
    // evaluate: registers, ctx fields, constants
    assert.equal(await evaluate(dc, 'skops->op == BPF_SOCK_OPS_RCVQ_CB && ctx.skb_len == 6'), '1');
    assert.match(await evaluate(dc, '(rcv_nxt - copied_seq) * 2'), /^12 \(0xc\)$/);
    await assert.rejects(evaluate(dc, 'no_such_name + 1'), /unknown name 'no_such_name'/);
    // setVariable on a register, replayed at this position
    const regs = await scope(dc, 'Registers');
    const set = await dc.setVariableRequest({ variablesReference: regs.ref, name: 'r7', value: '0x1234' });
    assert.match(set.body.value, /0x1234/);
    assert.equal(await evaluate(dc, 'r7'), '4660 (0x1234)');
    // readMemory through the ctx pointer in a register that holds it, if any, else r10's stack
    const r10 = (await scope(dc, 'Registers')).vars.find((v) => v.name === 'r10')!;
    assert.ok(r10.memoryReference);
    const mem = (await dc.customRequest('readMemory', { memoryReference: r10.memoryReference!, offset: -8, count: 8 })) as DebugProtocol.ReadMemoryResponse;
    assert.equal(Buffer.from(mem.body!.data!, 'base64').length, 8, 'the 8 bytes below r10');
    const wild = (await dc.customRequest('readMemory', { memoryReference: '0xdead', count: 4 })) as DebugProtocol.ReadMemoryResponse;
    assert.equal(wild.body!.unreadableBytes, 4);
  });
});

test('the example hook: step over bpf_sock_ops_tcp_set_rcvlowat shows the new sk_rcvlowat', async () => {
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: join(EXAMPLE, 'case4-partial-descriptor.scenario.json') }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'bpf_sock_ops_tcp_set_rcvlowat' }] }));
    assert.equal(s?.body.reason, 'function breakpoint');
    const f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat');
    assert.ok(f[0]!.source?.path?.endsWith('examples/autolowat/autolowat.bpf.c'), f[0]!.source?.path);
    assert.match(f[f.length - 1]!.name, /^RCVQ_CB enqueue seq \d+\.\.\d+ \(1 bytes?\)/);
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '1');
    await resume(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '8');
    assert.equal((await scope(dc, 'Context')).map.op, 'BPF_SOCK_OPS_RCVQ_CB (21)');
    // the next stop: the second enqueue of the split descriptor sets 258
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    await resume(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '258');
  });
});

test('a .c program is compiled with clang for the launch (when clang-19 is present)', { skip: !hasClang && 'clang-19 is not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-cc-'));
  const c = join(dir, 'frames.bpf.c');
  copyFileSync(FRAMES_C, c);
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: FRAMES_SCENARIO, program: c, compilerArgs: ['-I', join(__dirname, '../../../include')] }, () => dc.setBreakpointsRequest({ source: { path: c }, breakpoints: [{ line: L_FRAMES_INC }] }));
    assert.equal(s?.body.reason, 'breakpoint');
    const f = await top(dc);
    assert.equal(f[0]!.source?.path, c);
    assert.equal(f[0]!.line, L_FRAMES_INC);
  });
});

test('stop on entry, data breakpoint on a map value field, setVariable on the socket', async () => {
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: FRAMES_SCENARIO, stopOnEntry: true });
    assert.equal(s?.body.reason, 'entry');
    const f = await top(dc);
    assert.equal(f.length, 1);
    assert.match(f[0]!.name, /^before the passive open: passive open/);
    // the Event scope numbers steps as the CLI, the timeline and the Testing view do
    assert.equal((await scope(dc, 'Event')).map.step, '-1 (the passive open)');
    assert.notEqual(f[0]!.presentationHint, 'label', 'alone, the frame stays selectable: the Variables view shows its scopes');
    // run to the first enqueue, where the sk_storage value exists
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'set_lowat' }] });
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    const maps = await scope(dc, 'Maps');
    const fs = maps.vars.find((v) => v.name === 'frame_state')!;
    const entry = (await dc.variablesRequest({ variablesReference: fs.variablesReference })).body.variables[0]!;
    const info = await dc.dataBreakpointInfoRequest({ variablesReference: entry.variablesReference, name: 'frames' });
    assert.ok(info.body.dataId, info.body.description);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
    const hit = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(hit?.body.reason, 'data breakpoint');
    assert.match(hit!.body.description ?? '', /frames changed/);
    const line = (await top(dc))[0]!.line;
    assert.ok(line >= L_FRAMES_INC && line <= L_FRAMES_INC + 1, `stopped after the store, at line ${line}`);
    // setVariable on the socket: replayed at this position
    const sock = await scope(dc, 'Socket');
    const r = await dc.setVariableRequest({ variablesReference: sock.ref, name: 'sk_rcvlowat', value: '1000' });
    assert.equal(r.body.value, '1000');
    assert.match(await evaluate(dc, 'sk_rcvlowat'), /^1000\b/);
    const ro = sock.vars.find((v) => v.name === 'rcv_nxt')!;
    assert.deepEqual(ro.presentationHint?.attributes, ['readOnly']);
  });
});
