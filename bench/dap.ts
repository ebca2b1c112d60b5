// Debugger timings (issue 5 targets: launch with a prebuilt object to the first stop <= 100 ms,
// each step <= 10 ms). In-process through the runtime the adapter translates for; the DAP layer
// adds a JSON message each way. Prints figures; asserts nothing.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openLaunch } from '../debugger/runtime/launch';
import { DebugRuntime, type Paused } from '../debugger/runtime/runtime';
import { frames, scopes } from '../debugger/runtime/inspect';
import { benchDapScale } from './dap-scale';

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
export function readAll(rt: DebugRuntime, at: Paused): number {
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
