// Debugger timings (issue 5 targets: launch with a prebuilt object to the first stop <= 100 ms,
// each step <= 10 ms). In-process through the runtime the adapter translates for; the DAP layer
// adds a JSON message each way. Prints figures; asserts nothing.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openLaunch } from '../debugger/runtime/launch';
import { DebugRuntime, type Paused } from '../debugger/runtime/runtime';
import { frames, scopes } from '../debugger/runtime/inspect';
import { Simulation } from '../debugger/sim';
import { SimPort } from '../debugger/runtime/sim-port';
import { spawnSync } from 'node:child_process';
import { framesScenario } from './dap-scale';

const ROOT = resolve(__dirname, '..');

function ms(t0: number): number {
  return performance.now() - t0;
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(2)} ms, median ${s[s.length >> 1]!.toFixed(2)} ms, max ${s[s.length - 1]!.toFixed(2)} ms (n=${s.length})`;
}

/** The call stack and every variable of every scope, as the Call Stack and Variables views fetch them. */
function readAll(rt: DebugRuntime, at: Paused): number {
  let n = frames(rt, at).length;
  for (const s of scopes(rt, at, () => {})) n += s.nodes().length;
  return n;
}

async function one(label: string, scenario: string, bp: { fn?: string; file?: string; line?: number }, sourceDirs: string[] = []) {
  const launches: number[] = [];
  let rt: DebugRuntime | null = null;
  for (let i = 0; i < 8; i++) {
    const t0 = performance.now();
    const { factory } = await openLaunch({ scenario });
    rt = new DebugRuntime(factory, { sourceDirs });
    if (bp.fn) rt.setFunctionBreakpoints([{ name: bp.fn }]);
    if (bp.file) rt.setSourceBreakpoints(bp.file, [{ line: bp.line! }]);
    const p = rt.start(false);
    readAll(rt, p);
    launches.push(ms(t0));
  }
  console.log(`${label}: launch (prebuilt .o) to first stop, variables read: ${stats(launches.slice(1))}; first (cold) ${launches[0]!.toFixed(1)} ms`);
  const r = rt!;
  const kinds: [string, () => Paused][] = [
    ['step over (line)', () => r.step('over')],
    ['step in (line)', () => r.step('in')],
    ['step (instruction)', () => r.step('in', 'instruction')],
    ['step back (line)', () => r.stepBack()],
    ['continue to next breakpoint', () => r.continue()],
    ['step in then out (inlined function)', () => { r.step('in'); return r.step('out'); }],
  ];
  for (const [name, fn] of kinds) {
    const t: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      let p = fn();
      if (p.kind === 'end') p = r.start(false);
      readAll(r, p);
      t.push(ms(t0));
    }
    console.log(`${label}: ${name}: ${stats(t)}`);
  }
  console.log(`${label}: ${r.replays} re-runs, ${r.hookedInsns} hooked instructions`);
  if (bp.file) {
    // the same step every time: from the breakpoint's first hit, one step over, views read
    const t: number[] = [];
    for (let i = 0; i < 20; i++) {
      r.start(false);
      const t0 = performance.now();
      readAll(r, r.step('over'));
      t.push(ms(t0));
    }
    console.log(`${label}: step over from the breakpoint line: ${stats(t)}`);
  }
}

/**
 * Issue 12: the example hook with N frames (bench/dap-scale.ts). A plain run (Simulation, no
 * hook), then the debugger: first stop in the last frame (a breakpoint on the line of
 * wanted_rcvlowat's call with a hit count), then steps over, back and in there, each with the
 * stack and every scope read as the views do; the plain run's peak RSS in a child process.
 * Targets: a step <= 10 ms median at every N; the first stop at N = 100,000 within 2x of the
 * plain run; the run under 200 MB peak RSS.
 */
async function scale(n: number): Promise<void> {
  const file = framesScenario(n);
  const ex = join(ROOT, 'examples/autolowat');
  let t0 = performance.now();
  const sim = Simulation.fromFile(file);
  const prep = ms(t0);
  t0 = performance.now();
  sim.keepTrace = false;
  while (!sim.done) sim.stepOnce();
  const plain = ms(t0);
  const line = readFileSync(join(ex, 'autolowat.bpf.c'), 'utf8').split('\n').findIndex((l) => l.includes('lowat = wanted_rcvlowat(')) + 1;
  t0 = performance.now();
  // the runtime's own factory (what launch builds, without the launch's checks)
  const rt = new DebugRuntime(SimPort.prepare(file), { sourceDirs: [ex] });
  // 3 RCVQ_CB runs per frame reach the line: the (3N-2)th hit is in the last frame
  rt.setSourceBreakpoints(join(ex, 'autolowat.bpf.c'), [{ line, hitCondition: `== ${3 * n - 2}` }]);
  let p = rt.start(false);
  readAll(rt, p);
  const first = ms(t0);
  rt.setSourceBreakpoints(join(ex, 'autolowat.bpf.c'), []);
  const kinds: [string, () => Paused][] = [['step over', () => rt.step('over')], ['step back', () => rt.stepBack()], ['step in', () => rt.step('in')], ['step back (instruction)', () => rt.stepBack('instruction')]];
  const figures: string[] = [];
  for (const [name, fn] of kinds) {
    const t: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t1 = performance.now();
      p = fn();
      readAll(rt, p);
      t.push(ms(t1));
    }
    figures.push(`${name} median ${median(t).toFixed(2)} ms`);
  }
  console.log(`N=${n} frames (${3 * n + 3} steps): prepare ${prep.toFixed(0)} ms, plain run ${plain.toFixed(0)} ms; debugger launch to the first stop in the last frame ${first.toFixed(0)} ms (${(first / (prep + plain)).toFixed(2)}x prepare + run); ${figures.join(', ')}; ${rt.replays} replays`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** `bpf-sockops run` of the N-frame scenario in a child process: time and peak RSS. */
function runRss(n: number): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/dap-scale.ts'), String(n)], { encoding: 'utf8', cwd: ROOT });
  const j = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { code?: number; ms?: number; maxRssKb?: number };
  console.log(`N=${n} frames: bpf-sockops run (child process): exit ${j.code}, ${j.ms?.toFixed(0)} ms, peak RSS ${((j.maxRssKb ?? 0) / 1024).toFixed(0)} MB`);
}

export async function benchDapScale(sizes = [1_000, 10_000, 100_000]): Promise<void> {
  for (const n of sizes) await scale(n);
  runRss(sizes[sizes.length - 1]!);
}

export async function benchDap(): Promise<void> {
  const ex = join(ROOT, 'examples/autolowat');
  await one('example case4', join(ex, 'case4-partial-descriptor.scenario.json'), { fn: 'bpf_sock_ops_tcp_set_rcvlowat' }, [ex]);
  // the line before the kfunc call: F10 there runs through the inlined wanted_rcvlowat
  const line = readFileSync(join(ex, 'autolowat.bpf.c'), 'utf8').split('\n').findIndex((l) => l.includes('lowat = wanted_rcvlowat(')) + 1;
  await one('example case4 (line before the kfunc call)', join(ex, 'case4-partial-descriptor.scenario.json'), { file: join(ex, 'autolowat.bpf.c'), line }, [ex]);
  const fx = join(ROOT, 'test/fixtures/dap');
  await one('bpf-to-bpf fixture', join(fx, 'frames.scenario.json'), { file: join(fx, 'frames.bpf.c'), line: 63 });
  await benchDapScale();
}

if (/[\\/]bench[\\/]dap\.ts$/.test(process.argv[1] ?? '')) {
  // `node --import tsx bench/dap.ts 1000 10000`: only the scaling figures, at those sizes
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  (sizes.length ? benchDapScale(sizes) : benchDap()).catch((e) => { console.error(e); process.exitCode = 1; });
}
