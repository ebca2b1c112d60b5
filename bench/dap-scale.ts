// Issue 12: the debugger and `run` on long scenarios. The scenario: the example hook with N frames,
// each an 8-byte descriptor (header 100, payload 150) and 250 bytes, sent as 100 + 158 bytes and
// then read (3 steps and 3 RCVQ_CB runs per frame). Written to a temporary folder.
// Targets: a step <= 10 ms median at every N; the first stop in the last frame at N = 100,000
// within 2x of the plain run (prepare + run); `bpf-sockops run` of N = 100,000 under 200 MB peak RSS.
// Times are given as CPU time of this process (process.cpuUsage: the machine may be shared, which
// stretches wall-clock times) and wall-clock; the ratio uses CPU time.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(__dirname, '..');

export function framesScenario(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-bench-'));
  const stream: unknown[] = [];
  const steps: unknown[] = [{ setsockopt: { level: 3735928559, optname: 2343432205, int: 1 } }, { expect: { ret: 0, cbFlags: 128 } }];
  for (let i = 0; i < n; i++) {
    stream.push({ u32le: [100, 150] }, { zeros: 250 });
    steps.push({ send: 100 }, { send: 158 }, { recv: 258 });
  }
  steps.push({ expect: { readable: 0, rcvlowat: 8 } });
  const file = join(dir, `frames-${n}.scenario.json`);
  writeFileSync(file, JSON.stringify({
    program: join(ROOT, 'examples/autolowat/autolowat.bpf.o'), sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt',
    socket: { family: 'inet6' }, stream, steps,
  }));
  return file;
}

/** CPU milliseconds of this process so far (user + system). */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * A plain run (Simulation, no hook, nothing kept, as `run` does), then the debugger: first stop
 * in the last frame (a breakpoint on the line of wanted_rcvlowat's call with a hit count), then
 * steps over, back and in there, each with the stack and every scope read as the views do.
 */
async function scale(n: number): Promise<string> {
  const { Simulation } = await import('../debugger/sim');
  const { DebugRuntime } = await import('../debugger/runtime/runtime');
  const { SimPort } = await import('../debugger/runtime/sim-port');
  const { readAll } = await import('./dap');
  const file = framesScenario(n);
  const ex = join(ROOT, 'examples/autolowat');
  let c0 = cpu();
  let t0 = performance.now();
  const sim = Simulation.fromFile(file);
  sim.keepTrace = false;
  sim.keepPrintk = false;
  const prepCpu = cpu() - c0;
  while (!sim.done) sim.stepOnce();
  const plainCpu = cpu() - c0;
  const plainWall = performance.now() - t0;
  const line = readFileSync(join(ex, 'autolowat.bpf.c'), 'utf8').split('\n').findIndex((l) => l.includes('lowat = wanted_rcvlowat(')) + 1;
  c0 = cpu();
  t0 = performance.now();
  // the runtime's own factory (what launch builds, without the launch's checks)
  const rt = new DebugRuntime(SimPort.prepare(file), { sourceDirs: [ex] });
  // 3 RCVQ_CB runs per frame reach the line: the (3N-2)th hit is in the last frame
  rt.setSourceBreakpoints(join(ex, 'autolowat.bpf.c'), [{ line, hitCondition: `== ${3 * n - 2}` }]);
  let p = rt.start(false);
  readAll(rt, p);
  const firstCpu = cpu() - c0;
  const firstWall = performance.now() - t0;
  const stopped = `stopped at step ${p.step}`;
  rt.setSourceBreakpoints(join(ex, 'autolowat.bpf.c'), []);
  const kinds: [string, () => typeof p][] = [['step over', () => rt.step('over')], ['step back', () => rt.stepBack()], ['step in', () => rt.step('in')], ['step back (instruction)', () => rt.stepBack('instruction')]];
  const figures: string[] = [];
  for (const [name, fn] of kinds) {
    const t: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t1 = performance.now();
      p = fn();
      readAll(rt, p);
      t.push(performance.now() - t1);
    }
    figures.push(`${name} ${median(t).toFixed(2)}`);
  }
  return `N=${n} frames (${3 * n + 3} steps): plain prepare + run ${plainCpu.toFixed(0)} ms CPU (prepare ${prepCpu.toFixed(0)}; ${plainWall.toFixed(0)} ms wall); ` +
    `debugger launch to the first stop in the last frame ${firstCpu.toFixed(0)} ms CPU (${firstWall.toFixed(0)} ms wall, ${stopped}): ${(firstCpu / plainCpu).toFixed(2)}x; ` +
    `median ms (wall) of ${figures.join(', ')}; ${rt.replays} replays`;
}

/** `bpf-sockops run` of the N-frame scenario in a child process, the CLI bundled from the sources
 *  now (as bin/bpf-sockops.js runs dist/cli.js): time and peak RSS, text and JSON output to /dev/null. */
async function runRss(n: number): Promise<string[]> {
  const file = framesScenario(n);
  const bundle = join(mkdtempSync(join(tmpdir(), 'bpf-sockops-bench-cli-')), 'cli.js');
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [join(ROOT, 'cli/main.ts')], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent' });
  const out: string[] = [];
  for (const format of ['text', 'json']) {
    const code = `const t0 = performance.now(); require(${JSON.stringify(bundle)}).main(['run', ${JSON.stringify(file)}, '--format', ${JSON.stringify(format)}]).then((code) => { process.stderr.write(JSON.stringify({ code, ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS }) + '\\n'); });`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const j = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}') as { code?: number; ms?: number; maxRssKb?: number };
    out.push(`N=${n} frames: bpf-sockops run --format ${format} (the CLI bundled now, child process, output to /dev/null): exit ${j.code}, ${j.ms?.toFixed(0)} ms, peak RSS ${((j.maxRssKb ?? 0) / 1024).toFixed(0)} MB`);
  }
  return out;
}

export async function benchDapScale(sizes = [1_000, 10_000, 100_000]): Promise<void> {
  for (const n of sizes) console.log(await scale(n));
  for (const l of await runRss(sizes[sizes.length - 1]!)) console.log(l);
}

// `node --import tsx bench/dap-scale.ts N...`: the scaling figures at those sizes
if (/dap-scale\.ts$/.test(process.argv[1] ?? '')) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  benchDapScale(sizes.length ? sizes : undefined).catch((e: unknown) => { console.error(e); process.exitCode = 1; });
}
