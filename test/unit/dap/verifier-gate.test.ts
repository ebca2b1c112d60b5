// The debugger and the verifier (issue 11): the extension refuses a rejected program before launch
// unless the user chooses Debug Anyway, which launches with ignoreVerifier; the adapter then says
// in the console and at the first stop that the emulator runs what the kernel would refuse.
// Without ignoreVerifier the adapter checks nothing (DAP clients keep debugging faulting programs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FRAMES_SCENARIO, launch, withClient } from './client';

function consoleText(dc: Parameters<Parameters<typeof withClient>[0]>[0]): () => string {
  const out: string[] = [];
  dc.on('output', (e: DebugProtocol.OutputEvent) => { out.push(e.body.output); });
  return () => out.join('');
}

test('ignoreVerifier: the verifier\'s rejection in the console and in the first stop\'s description', async () => {
  await withClient(async (dc) => {
    const text = consoleText(dc);
    const stop = await launch(dc, { scenario: FRAMES_SCENARIO, stopOnEntry: true, ignoreVerifier: true });
    assert.ok(stop);
    assert.match(String(stop.body.description), /^the emulator runs dap_frames, which the kernel would refuse to load \(ignoreVerifier\)/);
    assert.match(text(), /the kernel's verifier will reject dap_frames \(SEC\("sockops"\)\): \S*frames\.bpf\.c:\d+:\d+: R1 invalid mem access 'scalar' \(insn \d+\): /);
    const next = await new Promise<DebugProtocol.StoppedEvent | null>((resolve) => {
      dc.waitForEvent('stopped').then((e) => resolve(e as DebugProtocol.StoppedEvent), () => resolve(null));
      void dc.nextRequest({ threadId: 1 });
    });
    assert.ok(next);
    assert.doesNotMatch(String(next.body.description ?? ''), /kernel would refuse/, 'said once, at the first stop');
  });
});

test('without ignoreVerifier the adapter launches as before and says nothing about the verifier', async () => {
  await withClient(async (dc) => {
    const text = consoleText(dc);
    const stop = await launch(dc, { scenario: FRAMES_SCENARIO, stopOnEntry: true });
    assert.ok(stop);
    assert.doesNotMatch(String(stop.body.description ?? ''), /kernel would refuse/);
    assert.doesNotMatch(text(), /verifier will reject/);
  });
});

test('ignoreVerifier must be true or false', async () => {
  await withClient(async (dc) => {
    await assert.rejects(dc.launch({ type: 'bpf-sockops', request: 'launch', scenario: FRAMES_SCENARIO, ignoreVerifier: 'yes' } as DebugProtocol.LaunchRequestArguments), /ignoreVerifier/);
  });
});
