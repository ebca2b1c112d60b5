// The source file an object's line info names is the object's choice: naming /dev/zero or a FIFO
// must not abort or hang the adapter at the first stackTrace (io/files refuses both; the frame
// then has no source text, and the session goes on). The objects are patched copies made here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIX, launch, newClient, withClient } from './client';

/** A copy of frames.bpf.o whose every string naming frames.bpf.c now names `to` (no longer). */
function renamedSource(dir: string, to: string): string {
  const b = Buffer.from(readFileSync(join(FIX, 'frames.bpf.o')));
  const name = Buffer.from('frames.bpf.c\0');
  let n = 0;
  for (let at = b.indexOf(name); at >= 0; at = b.indexOf(name, at + 1)) {
    let start = at;
    while (start > 0 && b[start - 1] !== 0) start--;
    assert.ok(to.length < at + name.length - start);
    b.write(`${to}\0`, start, 'latin1');
    n++;
  }
  assert.ok(n > 0);
  const o = join(dir, 'patched.bpf.o');
  writeFileSync(o, b);
  const sc = JSON.parse(readFileSync(join(FIX, 'frames.scenario.json'), 'utf8'));
  sc.program = o;
  const s = join(dir, 'patched.scenario.json');
  writeFileSync(s, JSON.stringify(sc));
  return s;
}

for (const kind of ['/dev/zero', 'a FIFO']) {
  test(`line info naming ${kind}: the stack trace is answered and the session goes on`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dap-src-'));
    let to = '/dev/zero';
    if (kind === 'a FIFO') { execFileSync('mkfifo', [join(dir, 'p.c')]); to = 'p.c'; }
    const scenario = renamedSource(dir, to);
    await withClient(async (dc) => {
      const stop = await launch(dc, { scenario, stopOnEntry: true });
      assert.ok(stop, 'stopped on entry');
      const st = await dc.stackTraceRequest({ threadId: 1 });
      assert.ok(st.body.stackFrames.length > 0);
      const t = await dc.threadsRequest();
      assert.equal(t.body.threads.length, 1, 'the adapter still answers');
    });
  });
}

test('disconnect during a long run is answered before the run ends (the run is not waited for)', async () => {
  const SPIN = join(FIX, 'spin.scenario.json');
  // not withClient: its stop() sends another disconnect, which an adapter that ended never answers
  const dc = newClient();
  await dc.start();
  {
    await launch(dc, { scenario: SPIN, stopOnEntry: true });
    let terminated = false;
    dc.waitForEvent('terminated').then(() => { terminated = true; }, () => {});
    let stopped = false;
    dc.waitForEvent('stopped').then(() => { stopped = true; }, () => {});
    await dc.continueRequest({ threadId: 1 });
    const r = await dc.disconnectRequest({});
    assert.equal(r.success, true);
    // answered while the run was still going: it had neither stopped at the end nor terminated
    assert.equal(stopped || terminated, false);
  }
});
