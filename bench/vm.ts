// VM benchmark: instructions per second on three clang-19-compiled programs in bench/programs/
// (an ALU loop, a byte parse over a 4 KiB buffer, a call-heavy loop): our interpreter, our fast
// tier, the interpreter with a hook, and, when its sources are present, uBPF's C interpreter
// built with -O2 (scripts/ubpf-bench.sh) on the same bytecode and buffer, with the ratios.
// Times are CPU time of the measuring process (process.cpuUsage here, CLOCK_PROCESS_CPUTIME_ID in
// the uBPF harness), so other load on a shared machine counts less, and each figure is the best
// of a few interleaved rounds. Prints figures;
// asserts only that every engine returns the same r0. Run: node --import tsx bench/vm.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadObject } from '../debugger/object/index';
import { encodeInsns, Vm, type Tier, type CallTable, type Insn } from '../debugger/vm/index';

const DIR = join(import.meta.dirname, 'programs');
const noCalls: CallTable = { helper: () => undefined, kfunc: () => undefined };
/** Where scripts/ubpf-bench.sh looks for uBPF's sources when UBPF_SRC is not set. */
const DEFAULT_UBPF_SRC = '/work/.mirror/iovisor+ubpf/repo';

interface Case { name: string; file: string; buf?: () => Uint8Array }

function parseBuffer(): Uint8Array {
  const buf = new Uint8Array(4096);
  let s = 12345;
  for (let i = 0; i < buf.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; buf[i] = s >>> 24; }
  return buf;
}

const CASES: Case[] = [
  { name: 'ALU loop', file: 'alu_loop.o' },
  { name: 'byte parse 4 KiB', file: 'byte_parse.o', buf: parseBuffer },
  { name: 'call-heavy loop', file: 'call_loop.o' },
];

interface Prog { insns: Insn[]; funcStarts: number[] }
function program(c: Case): Prog {
  const obj = loadObject(new Uint8Array(readFileSync(join(DIR, c.file))), c.file);
  const prog = obj.programs[0];
  return { insns: prog.insns, funcStarts: prog.funcs.map((f) => f.startPc) };
}

interface Figure { mips: number; insns: number; r0: bigint }

function measure(c: Case, p: Prog, tier: Tier, ms: number, withHook: boolean): Figure {
  const vm = new Vm({ insns: p.insns, funcStarts: p.funcStarts }, noCalls, { tier });
  const r1 = c.buf ? vm.memory.map({ name: 'buf', kind: 'packet', bytes: c.buf(), writable: false }) : 0n;
  const once = () => {
    const st = vm.run(r1, withHook ? { budget: 100_000_000, hook: () => false } : { budget: 100_000_000 });
    if (st.status !== 'exit') throw new Error(`${c.name} [${tier}]: ${st.status === 'fault' ? st.fault.message : 'paused'}`);
    return st;
  };
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  // warm up until V8 has optimized the loop (its compiler threads count in CPU time too)
  for (let w = cpu(), k = 0; k < 2 || cpu() - w < Math.min(300, ms / 2); k++) once();
  let insns = 0, runs = 0, r0 = 0n;
  const t0 = cpu();
  let el = 0;
  while (el < ms || runs < 3) {
    const st = once() as { r0: bigint; insns: number };
    insns += st.insns; r0 = st.r0; runs++;
    el = cpu() - t0;
  }
  return { mips: insns / el / 1000, insns: insns / runs, r0 };
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

function measureUbpf(bin: string, dir: string, c: Case, p: Prog, insnsPerRun: number, ms: number): Figure {
  const code = join(dir, c.file + '.bin');
  writeFileSync(code, encodeInsns(p.insns));
  let mem = '-';
  if (c.buf) { mem = join(dir, c.file + '.mem'); writeFileSync(mem, c.buf()); }
  const r = spawnSync(bin, [code, mem, String(ms)], { encoding: 'utf8' });
  const m = /runs=(\d+) ns=(\d+) r0=0x([0-9a-f]+)/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`uBPF on ${c.file}: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.status}`}`);
  return { mips: (insnsPerRun * Number(m[1])) / Number(m[2]) * 1000, insns: insnsPerRun, r0: BigInt('0x' + m[3]) };
}

export async function benchVm(): Promise<void> {
  const minMs = Number(process.env.BENCH_MS ?? 1500);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const { bin, why } = ubpfBinary();
  const tmp = mkdtempSync(join(tmpdir(), 'bench-vm-'));
  console.log('vm: million instructions per CPU second (higher is better), best of %d interleaved rounds', rounds);
  console.log(bin ? `  uBPF: its C interpreter (ubpf_exec), built -O2 by scripts/ubpf-bench.sh${process.env.UBPF_BENCH_REV ? ` from ${process.env.UBPF_BENCH_REV}` : ''}` : `  uBPF: not measured: ${why}`);
  const rows: string[] = [];
  try {
    for (const c of CASES) {
      const p = program(c);
      const best: Record<string, Figure> = {};
      const keep = (k: string, f: Figure) => { if (!best[k] || f.mips > best[k].mips) best[k] = f; };
      for (let r = 0; r < rounds; r++) {
        keep('interp', measure(c, p, 'interp', minMs / rounds, false));
        keep('fast', measure(c, p, 'fast', minMs / rounds, false));
        if (bin) keep('uBPF', measureUbpf(bin, tmp, c, p, best.interp.insns, minMs / rounds));
      }
      keep('interp+hook', measure(c, p, 'interp', minMs / 3, true));
      const r0s = new Set(Object.values(best).map((f) => f.r0));
      const parts = Object.entries(best).map(([k, f]) => `${k} ${f.mips.toFixed(1)}`);
      console.log(`  ${c.name.padEnd(17)} ${String(best.interp.insns).padStart(8)} insns/run   ${parts.join('   ')} M/s${r0s.size > 1 ? `   r0 DIFFERS: ${Object.entries(best).map(([k, f]) => `${k} 0x${f.r0.toString(16)}`).join(', ')}` : ''}`);
      if (r0s.size > 1) process.exitCode = 1;
      if (best.uBPF) {
        const u = best.uBPF.mips;
        const fx = best.fast.mips / u, ix = best.interp.mips / u;
        rows.push(`  ${c.name.padEnd(17)} fast/uBPF ${fx.toFixed(2)}x (target 3x${fx >= 3 ? ', met' : ', NOT met'})   interp/uBPF ${ix.toFixed(2)}x (target 1x${ix >= 1 ? ', met' : ', NOT met'})`);
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
