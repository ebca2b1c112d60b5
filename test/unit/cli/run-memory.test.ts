// Issue 12: `bpf-sockops run` streams a long scenario. Nothing per step is kept while it runs
// (results, bpf_printk lines, compiled steps), and the scenario itself is its text and a few
// typed arrays: a run of 4N frames fits the old-space cap that a run of N frames needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { runCommand } from '../../../cli/run';
import { EXAMPLE_O, cliLauncher } from './hostile-helpers';

const dir = mkdtempSync(join(tmpdir(), 'run-memory-'));

/** The example hook with n frames (bench/dap-scale.ts's scenario): 3 steps and a printk per frame,
 *  and an expect of "printk" at the end (answered without keeping the lines). */
function frames(n: number): string {
  const stream: unknown[] = [];
  const steps: unknown[] = [{ setsockopt: { level: 3735928559, optname: 2343432205, int: 1 } }, { expect: { ret: 0, cbFlags: 128 } }];
  for (let i = 0; i < n; i++) {
    stream.push({ u32le: [100, 150] }, { zeros: 250 });
    steps.push({ send: 100 }, { send: 158 }, { recv: 258 });
  }
  steps.push({ expect: { readable: 0, rcvlowat: 8, printk: 'header 100 payload 150' } });
  const file = join(dir, `frames-${n}.scenario.json`);
  writeFileSync(file, JSON.stringify({ program: EXAMPLE_O, sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt', socket: { family: 'inet6' }, stream, steps }));
  return file;
}

test('the heap after a full collection is the same at a tenth and at the end of a 40,000-frame run: no per-step state is kept', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const used = () => { gc(); return process.memoryUsage().heapUsed; };
  const n = 40_000;
  const file = frames(n);
  let text = 0, calls = 0;
  let tail = '';
  const samples: number[] = [];
  const code = await runCommand([file], {
    out: (s) => {
      text += s.length;
      tail = (tail + s).slice(-200);
      // output comes in 64 KB pieces: about 330 of them for this run
      if (++calls % 30 === 0) samples.push(used());
    },
    err: (s) => assert.fail(s),
  });
  assert.equal(code, 0);
  assert.match(tail, /2 passed, 0 failed\n$/, 'the printk expect passed without the lines being kept');
  assert.ok(text > 20_000_000 && samples.length >= 8, `${samples.length} samples over ${text} characters of output`);
  // a kept line of printk per frame is about 2 MB over the run; a kept result per step far more
  const growth = Math.max(...samples.slice(1)) - samples[0]!;
  assert.ok(growth < 1_000_000, `the heap grew by ${growth} bytes between the first sample and the end (${samples.map((x) => (x / 1e6).toFixed(2)).join(', ')} MB)`);
});

test('under a 48 MB old-space cap the bundled CLI runs 10,000 and 40,000 frames (JSON output) to the end', async () => {
  const l = await cliLauncher();
  for (const n of [10_000, 40_000]) {
    const r = spawnSync(process.execPath, ['--max-old-space-size=48', l, 'run', frames(n), '--format', 'json'], {
      encoding: 'utf8', timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30,
    });
    assert.equal(r.signal, null, `${n} frames: ${r.stderr.slice(0, 300)}`);
    assert.equal(r.status, 0, `${n} frames: exit ${r.status}: ${r.stderr.slice(0, 300)}`);
    const end = r.stdout.slice(-200);
    assert.match(end, /"passed": 2,\n {2}"failed": 0,\n {2}"faulted": false\n}\n$/, `${n} frames: the document ends`);
    assert.equal(r.stdout.match(/\n {4}\{\n {6}"step": /g)?.length, 3 * n + 4, 'a record per step, the open included');
  }
});
