// Issue 16 "Volume": 10,000 one-byte out-of-order segments. Each step used to copy the whole
// out-of-order queue into its result (quadratic time, 3.7 GB). Now a step's result is O(1) and
// the queue work is O(log n) per segment; the run happens in a child process whose heap is capped,
// so a regression to per-step copies dies of heap exhaustion instead of passing slowly.
// (Timings are in `npm run bench -- tcp`, not here.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const N = 10_000;
const OBJ = resolve(import.meta.dirname, '../../../examples/autolowat/autolowat.bpf.o');

/** N one-byte segments, last byte first (every one lands in front of the queue: no coalescing,
 *  N skbs out of order), then the missing first byte (one drain of N skbs), then reads. */
export function ofoScenario(n: number): object {
  const steps: object[] = [];
  for (let off = n; off >= 1; off--) steps.push({ segment: { offset: off, len: 1 } });
  steps.push({ expect: { readable: 0 } });
  steps.push({ send: 1 });
  steps.push({ expect: { readable: n + 1 } });
  steps.push({ recv: n + 1 });
  steps.push({ expect: { readable: 0, receiveQueue: 0 } });
  return { program: OBJ, sockops: 'tcp_autolowat', socket: { family: 'inet', rcvbuf: 64 << 20, tcpRmemMax: 64 << 20 }, stream: [{ zeros: n + 1 }], steps };
}

function runCapped(file: string, heapMb: number): Record<string, number | boolean> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `--max-old-space-size=${heapMb}`, resolve(import.meta.dirname, 'volume-worker.ts'), file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `the run failed within a ${heapMb} MB heap:\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | boolean>;
}

test(`${N} one-byte out-of-order segments then the missing byte: correct, O(1) per step result, within a 192 MB heap`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-volume-'));
  try {
    const file = join(dir, 'ofo.scenario.json');
    writeFileSync(file, JSON.stringify(ofoScenario(N)));
    const r = runCapped(file, 192);
    assert.equal(r.results, N + 6, 'every step ran (open + N segments + 5)');
    assert.deepEqual([r.passed, r.failed, r.faulted], [3, 0, false]);
    assert.equal(r.maxOfo, N, 'the queue held every segment');
    assert.deepEqual([r.ofo, r.rq, r.readable], [0, 0, 0]);
    // a step's socket snapshot lists at most 8 skbs per queue: its size does not grow with N
    assert.ok((r.maxSnapshot as number) < 2000, `snapshot ${r.maxSnapshot} bytes`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
