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
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    verifyObject(loadObject(example, 'autolowat.bpf.o'));
    times.push(performance.now() - t);
  }
  console.log(`verify examples/autolowat/autolowat.bpf.o (load + ${loadObject(example, 'x').programs.length} programs): ${median(times).toFixed(1)} ms median of 30`);
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
