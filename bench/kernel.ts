// Simulated RCVQ_CB events per second through the example AutoLOWAT hook
// (examples/autolowat/autolowat.bpf.o): a stream of 258-byte frames arriving in 1448-byte
// segments, read back every 8 segments. Prints figures; asserts nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Simulation } from '../debugger/sim';

export async function benchKernel(): Promise<void> {
  const segments = 2000;
  const seg = 1448;
  const frames = Math.ceil((segments * seg) / 258) + 1;
  const stream: unknown[] = [];
  for (let i = 0; i < frames; i++) stream.push({ u32le: [100, 150] }, { zeros: 250 });
  const steps: unknown[] = [{ setsockopt: { level: 0xdeadbeef, optname: 0x8badf00d, int: 1 } }];
  for (let i = 0; i < segments; i++) {
    steps.push({ send: seg });
    if (i % 8 === 7) steps.push({ recv: 8 * seg });
  }
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-bench-'));
  const file = join(dir, 'bench.scenario.json');
  writeFileSync(file, JSON.stringify({ program: resolve(__dirname, '../examples/autolowat/autolowat.bpf.o'), sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt', stream, steps }));
  try {
    const t0 = performance.now();
    const prepared = Simulation.prepare(file);
    const t1 = performance.now();
    for (let round = 0; round < 2; round++) {
      const sim = new Simulation(prepared);
      const s0 = performance.now();
      const res = sim.runAll();
      const s1 = performance.now();
      let rcvq = 0, insns = 0, enq = 0;
      for (const r of res.results) for (const e of r.events) if (e.kind === 'prog' && e.opName === 'RCVQ_CB') { rcvq++; insns += e.trace.insns; if (e.label.includes('enqueue')) enq++; }
      const secs = (s1 - s0) / 1000;
      console.log(`${round === 0 ? 'cold' : 'warm'}: ${rcvq} RCVQ_CB runs (${enq} enqueue, ${rcvq - enq} recvmsg) in ${(s1 - s0).toFixed(1)} ms: ${Math.round(rcvq / secs)} events/s, ${Math.round(insns / secs)} guest insns/s, ${(insns / rcvq).toFixed(0)} insns/event; faulted: ${res.faulted}`);
    }
    console.log(`scenario parse + object load: ${(t1 - t0).toFixed(1)} ms (${steps.length} steps, ${frames * 258} stream bytes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) benchKernel().catch((e) => { console.error(e); process.exitCode = 1; });
