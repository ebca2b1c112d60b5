// Hostile or stale DAP arguments: each gets an error response that says what is wrong, and the
// session goes on (the next continue still stops where it should).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FRAMES_SCENARIO, launch, resume, scope, top, withClient } from './client';

async function refused(p: Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, why);
    assert.doesNotMatch(e.message, /TypeError|Cannot read properties|Maximum call stack|\n\s+at /, 'an explanation, not a host exception');
    return true;
  });
}

function raw(dc: DebugClient, command: string, args: unknown): Promise<DebugProtocol.Response> {
  return dc.customRequest(command, args as never);
}

test('missing or mistyped arguments are named in the error', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'set_lowat' }] }));
    await refused(raw(dc, 'setBreakpoints', {}), /setBreakpoints: the request has no arguments/);
    await refused(raw(dc, 'setBreakpoints', { breakpoints: [] }), /setBreakpoints: 'source' must be a Source object, not undefined/);
    await refused(raw(dc, 'setBreakpoints', { source: { path: 'frames.bpf.c' }, breakpoints: [{ line: 'x' }] }), /'breakpoints' must be a list of \{line\}/);
    await refused(raw(dc, 'setFunctionBreakpoints', { breakpoints: [{}] }), /'breakpoints' must be a list of \{name\}/);
    await refused(raw(dc, 'setDataBreakpoints', { breakpoints: 'all' }), /setDataBreakpoints: 'breakpoints' must be a list of \{dataId\}, not "all"/);
    await refused(raw(dc, 'setExceptionBreakpoints', { filters: [1] }), /setExceptionBreakpoints: 'filters' must be a list of filter names/);
    await refused(raw(dc, 'evaluate', { context: 'watch' }), /evaluate: 'expression' must be an expression, not undefined/);
    await refused(raw(dc, 'evaluate', undefined), /evaluate: the request has no arguments/);
    const regs = await scope(dc, 'Registers');
    await refused(raw(dc, 'setVariable', { variablesReference: regs.ref, name: 'r1' }), /setVariable: 'value' must be an expression/);
    await refused(raw(dc, 'readMemory', { memoryReference: '0x10', offset: 1.5, count: 4 }), /readMemory: 'offset' must be an integer, not 1\.5/);
    await refused(raw(dc, 'readMemory', { memoryReference: '0x10', count: -5 }), /readMemory: 'count' must be a byte count, not -5/);
    await refused(raw(dc, 'disassemble', { memoryReference: '0x100000000', instructionCount: 'x' }), /disassemble: 'instructionCount' must be an instruction count/);
    // a '{_name}' in user text is not taken for a message placeholder
    await refused(dc.evaluateRequest({ expression: '{_stack}' }), /unexpected character '\{'/);
    const s = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(s?.body.reason, 'function breakpoint', 'the session goes on');
  });
});

test('frame ids and variables references from an earlier stop are never taken for the new stop\'s (views get empty answers, evaluate and writes are refused)', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'set_lowat' }] }));
    const before = await top(dc);
    const regs = await scope(dc, 'Registers');
    const r1 = regs.map.r1;
    await refused(dc.scopesRequest({ frameId: 424242 }), /frame 424242 is not a frame of this stop/);
    await refused(dc.variablesRequest({ variablesReference: 424242 }), /variablesReference 424242 is not valid at this stop/);
    // setVariable keeps the stop: its references stay good
    await dc.setVariableRequest({ variablesReference: regs.ref, name: 'r8', value: '8' });
    assert.equal((await dc.scopesRequest({ frameId: before[0]!.id })).body.scopes.length > 0, true);
    await resume(dc, () => dc.stepBackRequest({ threadId: 1 }));
    // the client asks for the new stop's scopes first, as VS Code does
    const now = await scope(dc, 'Registers');
    assert.notEqual(now.ref, regs.ref, 'a reference is never handed out twice');
    // a frame or reference of the earlier stop (a view asking late): answered empty, no error shown
    assert.deepEqual((await dc.scopesRequest({ frameId: before[0]!.id })).body.scopes, []);
    await refused(dc.evaluateRequest({ expression: 'r1', frameId: before[0]!.id }), /is not a frame of this stop/);
    assert.deepEqual((await dc.variablesRequest({ variablesReference: regs.ref })).body.variables, []);
    await refused(dc.setVariableRequest({ variablesReference: regs.ref, name: 'r1', value: '5' }), /is not valid at this stop/);
    // the refused write did not happen, here or at the first stop
    assert.equal((await scope(dc, 'Registers')).map.r1, now.map.r1);
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal((await scope(dc, 'Registers')).map.r1, r1, 'r1 at the first stop again, untouched');
  });
});

test('malformed expressions, wild memory, odd disassembly offsets: answered, never a crash or a hang', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'set_lowat' }] }));
    const f = await top(dc);
    const regs = await scope(dc, 'Registers');
    await refused(dc.evaluateRequest({ expression: '('.repeat(20000) + '1' + ')'.repeat(20000) }), /nested more than \d+ deep/);
    await refused(dc.evaluateRequest({ expression: '-'.repeat(50000) + '1' }), /nested more than \d+ deep/);
    await refused(dc.evaluateRequest({ expression: Array(50000).fill('1').join('+') }), /nested more than \d+ deep/);
    await refused(dc.setVariableRequest({ variablesReference: regs.ref, name: 'r1', value: '1 +' }), /cannot set r1: expression ends early/);
    // memory: the readable prefix, then unreadable bytes; addresses outside 64 bits refused
    const r10 = regs.vars.find((v) => v.name === 'r10')!;
    const big = (await raw(dc, 'readMemory', { memoryReference: r10.memoryReference, offset: -16, count: 1e9 })) as DebugProtocol.ReadMemoryResponse;
    assert.equal(Buffer.from(big.body!.data!, 'base64').length + big.body!.unreadableBytes!, 1e9);
    assert.ok(Buffer.from(big.body!.data!, 'base64').length >= 16, 'the 16 stack bytes below r10 are readable');
    const wild = (await raw(dc, 'readMemory', { memoryReference: '0xffffffffffffffff', count: 1e9 })) as DebugProtocol.ReadMemoryResponse;
    assert.equal(wild.body!.unreadableBytes, 1e9);
    await refused(raw(dc, 'readMemory', { memoryReference: '0xffffffffffffffff', offset: 1, count: 1 }), /outside the 64-bit address space/);
    await refused(raw(dc, 'readMemory', { memoryReference: '', count: 1 }), /bad memory reference ''/);
    // disassembly: odd byte offsets round down to the slot, counts beyond the bound are refused
    const ipr = f[0]!.instructionPointerReference!;
    const odd = await dc.disassembleRequest({ memoryReference: ipr, offset: 3, instructionCount: 1 });
    const even = await dc.disassembleRequest({ memoryReference: ipr, instructionCount: 1 });
    assert.equal(odd.body!.instructions[0]!.address, even.body!.instructions[0]!.address);
    await refused(dc.disassembleRequest({ memoryReference: ipr, instructionCount: 1e9 }), /ask for at most \d+ per request/);
    await refused(dc.disassembleRequest({ memoryReference: ipr, offset: 1e15, instructionCount: 1 }), /\+ 1000000000000000 bytes is not an instruction reference/);
    const bp = (await raw(dc, 'setInstructionBreakpoints', { breakpoints: [{ instructionReference: 'zz' }] })) as DebugProtocol.SetInstructionBreakpointsResponse;
    assert.equal(bp.body.breakpoints[0]!.verified, false);
    assert.match(bp.body.breakpoints[0]!.message ?? '', /'zz' is not an instruction reference of this session/);
    await raw(dc, 'setInstructionBreakpoints', { breakpoints: [] });
    const s = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(s?.body.reason, 'function breakpoint', 'the session goes on');
  });
});
