// The verifier's speed (issue 11): `bpf-sockops verify` on the example hook's prebuilt object
// (load + every program), and the walk's rate on a long bounded loop (the 800,000-insn DAP test
// hook). Figures only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../debugger/object';
import { verifyObject } from '../debugger/verifier';

const root = join(__dirname, '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchVerifier(): Promise<void> {
  const example = readFileSync(join(root, 'examples/autolowat/autolowat.bpf.o'));
  const times: number[] = [], cpus: number[] = [];
  let verdict = '';
  for (let i = 0; i < 30; i++) {
    const t = performance.now(), c = process.cpuUsage();
    const v = verifyObject(loadObject(example, 'autolowat.bpf.o'));
    times.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpus.push((u.user + u.system) / 1000);
    verdict = v.map((x) => `${x.program} ${x.verdict} ${x.processed}`).join(', ');
  }
  console.log(`verify examples/autolowat/autolowat.bpf.o (load + ${loadObject(example, 'x').programs.length} programs: ${verdict}): ${median(times).toFixed(1)} ms median of 30 (CPU ${median(cpus).toFixed(1)} ms)`);
  // the example with barrier_var() (test/fixtures/verifier/autolowat-barrier.bpf.c): the kernel
  // accepts it after 105,003 insns; the walk needs precision tracking to prune like it does
  const barrier = readFileSync(join(root, 'test/fixtures/verifier/autolowat-barrier.bpf.o'));
  const bt: number[] = [];
  const cpu: number[] = [];
  let processed = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now(), c = process.cpuUsage();
    processed = verifyObject(loadObject(barrier, 'autolowat-barrier.bpf.o'))[0]!.processed;
    bt.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  console.log(`verify test/fixtures/verifier/autolowat-barrier.bpf.o (${processed} insns processed; kernel 105,003): ${median(bt).toFixed(0)} ms median of 5 (CPU ${median(cpu).toFixed(0)} ms; ${Math.round(processed / median(cpu))}k insns/s)`);
  const classes = readFileSync(join(root, 'test/fixtures/verifier/classes.bpf.o'));
  const t1 = performance.now();
  const v = verifyObject(loadObject(classes, 'classes.bpf.o'), { profile: 'linux-7.1.5' });
  console.log(`verify test/fixtures/verifier/classes.bpf.o (${v.length} programs): ${(performance.now() - t1).toFixed(1)} ms`);
  const spin = readFileSync(join(root, 'test/fixtures/dap/spin.bpf.o'));
  const t2 = performance.now();
  const s = verifyObject(loadObject(spin, 'spin.bpf.o'), { profile: 'linux-7.1.5' })[0]!;
  const ms = performance.now() - t2;
  console.log(`walk rate: ${s.processed} insns processed in ${ms.toFixed(0)} ms (${Math.round(s.processed / ms)}k insns/s; the kernel's limit is 1,000,000)`);
}
