// VM benchmark: instructions per second on three clang-19-compiled programs in bench/programs/
// (an ALU loop, a byte parse over a 4 KiB buffer, a call-heavy loop): our interpreter, our fast
// tier, the interpreter with a hook, and, when its sources are present, uBPF's C interpreter
// built with -O2 and its JIT (scripts/ubpf-bench.sh) on the same bytecode and buffer, with the
// ratios. Our engines run in a child process from an esbuild bundle of bench/vm-engine.ts, as
// the CLI ships (plain node): under the tsx loader that runs this file, V8's ArrayBufferDetaching
// protector gets invalidated while modules load (seen with node --trace-protector-invalidation;
// not in a plain node run of the bundle), which puts a detached-buffer check on every typed-array
// access of the process; the in-process interpreter figure is printed too ("interp@tsx").
// Without esbuild, or with BENCH_VM_INPROCESS=1, everything runs in-process.
// Times are CPU time of the measuring process (process.cpuUsage in ours,
// CLOCK_PROCESS_CPUTIME_ID in the uBPF harness), so other load on a shared machine counts less,
// and each figure is the best of a few interleaved rounds. Prints figures;
// asserts only that every engine returns the same r0. Run: node --import tsx bench/vm.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeInsns, type Tier } from '../debugger/vm/index';
import { CASES, measure, program, type Case, type Figure, type Prog } from './vm-engine';

const DIR = join(import.meta.dirname, 'programs');
/** Where scripts/ubpf-bench.sh looks for uBPF's sources when UBPF_SRC is not set. */
const DEFAULT_UBPF_SRC = '/work/.mirror/iovisor+ubpf/repo';

/** bench/vm-engine.ts bundled by esbuild into `dir`; null (with the reason) when it cannot be. */
async function engineBundle(dir: string): Promise<{ file: string | null; why: string }> {
  try {
    const esbuild = await import('esbuild');
    const file = join(dir, 'vm-engine.cjs');
    esbuild.buildSync({ entryPoints: [join(import.meta.dirname, 'vm-engine.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: file, logLevel: 'error' });
    return { file, why: '' };
  } catch (e) {
    return { file: null, why: `esbuild bundle failed (${(e as Error).message.split('\n')[0]})` };
  }
}

function measureChild(bundle: string, c: Case, tier: Tier, ms: number, withHook: boolean): Figure {
  const r = spawnSync(process.execPath, [bundle, 'measure', DIR, c.file, tier, String(ms), withHook ? '1' : '0'], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`engine child on ${c.file} [${tier}]: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.status}`}`);
  const j = JSON.parse(line) as { mips: number; insns: number; r0: string };
  return { mips: j.mips, insns: j.insns, r0: BigInt(j.r0) };
}

/** The uBPF harness binary: $UBPF_BENCH_BIN, else built by scripts/ubpf-bench.sh when uBPF's
 *  sources are present ($UBPF_SRC or the default mirror); null (with the reason) otherwise. */
function ubpfBinary(): { bin: string | null; why: string } {
  if (process.env.UBPF_BENCH_BIN) return { bin: process.env.UBPF_BENCH_BIN, why: '' };
  const src = process.env.UBPF_SRC ?? DEFAULT_UBPF_SRC;
  if (!existsSync(src)) return { bin: null, why: `uBPF sources not found (set UBPF_SRC to a checkout of github.com/iovisor/ubpf; looked at ${src})` };
  const r = spawnSync('sh', [join(import.meta.dirname, '..', 'scripts', 'ubpf-bench.sh'), '--build', src], { encoding: 'utf8' });
  if (r.status !== 0) return { bin: null, why: `scripts/ubpf-bench.sh failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  return { bin: r.stdout.trim().split('\n').pop()!, why: '' };
}

function measureUbpf(bin: string, dir: string, c: Case, p: Prog, insnsPerRun: number, ms: number, jit = false): Figure {
  const code = join(dir, c.file + '.bin');
  writeFileSync(code, encodeInsns(p.insns));
  let mem = '-';
  if (c.buf) { mem = join(dir, c.file + '.mem'); writeFileSync(mem, c.buf()); }
  const r = spawnSync(bin, [code, mem, String(ms), ...(jit ? ['jit'] : [])], { encoding: 'utf8' });
  const m = /runs=(\d+) ns=(\d+) r0=0x([0-9a-f]+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`uBPF on ${c.file}: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.status}`}`);
  return { mips: (insnsPerRun * Number(m[1])) / Number(m[2]) * 1000, insns: insnsPerRun, r0: BigInt('0x' + m[3]) };
}

export async function benchVm(): Promise<void> {
  const minMs = Number(process.env.BENCH_MS ?? 1500);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const { bin, why } = ubpfBinary();
  const tmp = mkdtempSync(join(tmpdir(), 'bench-vm-'));
  const { file: bundle, why: noBundle } = process.env.BENCH_VM_INPROCESS ? { file: null, why: 'BENCH_VM_INPROCESS is set' } : await engineBundle(tmp);
  const ours = (c: Case, p: Prog, tier: Tier, ms: number, hook: boolean) => bundle ? measureChild(bundle, c, tier, ms, hook) : measure(c, p, tier, ms, hook);
  console.log('vm: million instructions per CPU second (higher is better), best of %d interleaved rounds', rounds);
  console.log(bundle ? '  ours: in a child process from an esbuild bundle (plain node, as the CLI ships); interp@tsx: the interpreter in this process, under the tsx loader'
    : `  ours: in this process (${noBundle})`);
  console.log(bin ? `  uBPF: its C interpreter (ubpf_exec) and its JIT (ubpf_compile), built -O2 by scripts/ubpf-bench.sh${process.env.UBPF_BENCH_REV ? ` from ${process.env.UBPF_BENCH_REV}` : ''}` : `  uBPF: not measured: ${why}`);
  const rows: string[] = [];
  try {
    for (const c of CASES) {
      const p = program(DIR, c);
      const best: Record<string, Figure> = {};
      const keep = (k: string, f: Figure) => { if (!best[k] || f.mips > best[k].mips) best[k] = f; };
      for (let r = 0; r < rounds; r++) {
        keep('interp', ours(c, p, 'interp', minMs / rounds, false));
        keep('fast', ours(c, p, 'fast', minMs / rounds, false));
        if (bundle) keep('interp@tsx', measure(c, p, 'interp', minMs / rounds, false));
        if (bin) keep('uBPF', measureUbpf(bin, tmp, c, p, best.interp.insns, minMs / rounds));
      }
      keep('interp+hook', ours(c, p, 'interp', minMs / 3, true));
      if (bin) keep('uBPF-JIT', measureUbpf(bin, tmp, c, p, best.interp.insns, minMs / 3, true));
      const r0s = new Set(Object.values(best).map((f) => f.r0));
      const parts = Object.entries(best).map(([k, f]) => `${k} ${f.mips.toFixed(1)}`);
      console.log(`  ${c.name.padEnd(17)} ${String(best.interp.insns).padStart(8)} insns/run   ${parts.join('   ')} M/s${r0s.size > 1 ? `   r0 DIFFERS: ${Object.entries(best).map(([k, f]) => `${k} 0x${f.r0.toString(16)}`).join(', ')}` : ''}`);
      if (r0s.size > 1) process.exitCode = 1;
      if (best.uBPF) {
        const u = best.uBPF.mips;
        const fx = best.fast.mips / u, ix = best.interp.mips / u;
        const tsx = best['interp@tsx'] ? `   interp@tsx/uBPF ${(best['interp@tsx'].mips / u).toFixed(2)}x` : '';
        rows.push(`  ${c.name.padEnd(17)} fast/uBPF ${fx.toFixed(2)}x (target 3x${fx >= 3 ? ', met' : ', NOT met'})   interp/uBPF ${ix.toFixed(2)}x (target 1x${ix >= 1 ? ', met' : ', NOT met'})${tsx}`);
      }
    }
    if (rows.length) { console.log('  ratios against uBPF\'s C interpreter (-O2), same bytecode, same run:'); for (const r of rows) console.log(r); }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchVm().catch((e) => { console.error(e); process.exitCode = 1; });
}
