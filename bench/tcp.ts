// The TCP model under volume (issue 16): N one-byte out-of-order segments, last byte first (each
// lands in front of the out-of-order queue, none coalesce), then the missing first byte (one
// drain of N skbs) and one read, as a scenario through Simulation (what `bpf-sockops run`
// does, minus printing). Prints prepare time (parse + load), run time, steps per second and
// peak RSS for several N, so a return to per-step O(queue) work shows as a growing per-step
// cost (the queue is sorted chunks of at most 512 skbs: front inserts stay cheap). Also the model alone with checkpoint/restore at every step (what the debugger's time
// travel pays). Asserts nothing: test/unit/tcp/volume.test.ts checks the behaviour.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Simulation } from '../debugger/sim';
import { TcpModel, abiFromTable } from '../debugger/kernel/tcp/index';
import { table } from '../sockops/index';

const OBJ = resolve(__dirname, '../examples/autolowat/autolowat.bpf.o');

function scenario(n: number): object {
  const steps: object[] = [];
  for (let off = n; off >= 1; off--) steps.push({ segment: { offset: off, len: 1 } });
  steps.push({ send: 1 }, { recv: n + 1 });
  return { program: OBJ, sockops: 'tcp_autolowat', socket: { family: 'inet', rcvbuf: 64 << 20, tcpRmemMax: 64 << 20 }, stream: [{ zeros: n + 1 }], steps };
}

export async function benchTcp(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-bench-tcp-'));
  try {
    for (const n of [1_000, 10_000, 40_000]) {
      const file = join(dir, `ofo-${n}.scenario.json`);
      writeFileSync(file, JSON.stringify(scenario(n)));
      let t = performance.now();
      const sim = Simulation.fromFile(file);
      const prepare = performance.now() - t;
      t = performance.now();
      let steps = 0;
      while (!sim.done) { sim.stepOnce(); steps++; }
      const run = performance.now() - t;
      const rss = process.memoryUsage().rss / 2 ** 20;
      console.log(`${String(n).padStart(6)} one-byte ofo segments: prepare ${prepare.toFixed(0)} ms, run ${run.toFixed(0)} ms (${(steps / (run / 1000)).toFixed(0)} steps/s, ${((run * 1000) / steps).toFixed(1)} us/step), rss ${rss.toFixed(0)} MB`);
    }
    const abi = abiFromTable(table());
    const m = new TcpModel(abi, { family: 'inet', rcvbuf: 64 << 20, tcpRmemMax: 64 << 20 }, null);
    m.passiveOpen({ seq: 0 });
    const n = 4_000;
    const payload = new Uint8Array(1);
    let t = performance.now();
    let cps = 0;
    for (let off = n; off >= 1; off -= 2) { // every other byte: n/2 skbs that cannot coalesce
      m.segment(off, payload);
      m.takeEvents();
      const cp = m.checkpoint();
      cps++;
      if (off % 1000 === 0) m.restore(cp); // a checkpoint costs O(skbs queued): ~1 us each
    }
    const ms = performance.now() - t;
    console.log(`model alone, ${cps} segments with a checkpoint after each (queue up to ${m.sock.ofoQueue.length} skbs): ${ms.toFixed(0)} ms, ${((ms * 1000) / cps).toFixed(1)} us per segment + checkpoint`);
    t = performance.now();
    for (let i = 0; i < 100; i++) m.restore(m.checkpoint());
    console.log(`checkpoint + restore of ${m.sock.ofoQueue.length} queued skbs: ${((performance.now() - t) * 10).toFixed(0)} us`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
