// `npm run bench`: every benchmark of the project, one after the other, printing figures.
// Benchmarks measure; tests assert behaviour. Pass names to run a subset: `npm run bench -- vm kernel`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const suites: { name: string; file: string; fn: string; what: string }[] = [
  { name: 'vm', file: 'vm.ts', fn: 'benchVm', what: 'instructions per second: interpreter, fast tier, uBPF (issues 2, 14)' },
  { name: 'kernel', file: 'kernel.ts', fn: 'benchKernel', what: 'simulated RCVQ_CB events per second (issue 3)' },
  { name: 'server', file: 'server.ts', fn: 'benchServer', what: 'diagnostics latency (issue 4)' },
  { name: 'dap', file: 'dap.ts', fn: 'benchDap', what: 'launch-to-first-stop and step times (issue 5)' },
  { name: 'fuzz', file: 'fuzz.ts', fn: 'benchFuzz', what: 'random programs per second (issue 7)' },
  { name: 'explore', file: 'explore.ts', fn: 'benchExplore', what: 'RCVQ_CB events per second in the kernel layer and in explore (issue 14)' },
  { name: 'tcp', file: 'tcp.ts', fn: 'benchTcp', what: 'TCP model volume: out-of-order segments, checkpoints (issue 16)' },
  { name: 'verifier', file: 'verifier.ts', fn: 'benchVerifier', what: 'verify: the example hook, the walk rate (issue 11)' },
  { name: 'hostile', file: 'hostile.ts', fn: 'benchHostile', what: 'run RSS on 10,000 ofo segments, hover after 1,000 edits, first diagnostics of 200,000 lines (issue 16)' },
];

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  let failed = 0;
  for (const s of suites) {
    if (wanted.length && !wanted.includes(s.name)) continue;
    const path = join(__dirname, s.file);
    console.log(`\n=== ${s.name}: ${s.what}`);
    if (!existsSync(path)) { console.log(`missing: bench/${s.file}`); failed++; continue; }
    try {
      const mod = (await import(path)) as Record<string, unknown>;
      const fn = mod[s.fn];
      if (typeof fn !== 'function') throw new Error(`bench/${s.file} does not export ${s.fn}()`);
      await (fn as () => Promise<void>)();
    } catch (e) {
      console.log(`FAILED: ${(e as Error).stack ?? e}`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}
main().then((c) => { process.exitCode = c; });
