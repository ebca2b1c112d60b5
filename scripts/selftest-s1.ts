// The series' own sock_ops selftest program (S1: tools/testing/selftests/bpf/progs/tcp_autolowat.c
// of the AutoLOWAT series, public in the kernel-patches/bpf repository) run unchanged through our
// emulator: compiled here with clang, then S2's four cases (examples/autolowat/case*.scenario.json,
// both address families) run with --program set to it. Prints a pass/fail table; exit 1 when a
// case fails or a program faults.
//
//   node --import tsx scripts/selftest-s1.ts PATH/TO/tcp_autolowat.c
//
// Without the file it says so and exits 0 (the source is not part of this repository). It needs
// clang with the BPF target (CLANG, else clang-19 or clang) and bpftool with a kernel BTF
// (/sys/kernel/btf/vmlinux, or VMLINUX_BTF) to generate vmlinux.h in a temporary folder; the
// selftests' own headers are replaced by the small one written below (before()/after(),
// bpf_core_cast() for an older libbpf, and include/bpf_sockops_autolowat.h for the series' names).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../debugger/sim';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CASES = join(ROOT, 'examples/autolowat');

function skip(why: string): never {
  console.log(`selftest-s1: skipped: ${why}`);
  process.exit(0);
}

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The stand-in for the selftests' bpf_tracing_net.h: only what S1 uses from it. */
const TRACING_NET_H = `/* written by scripts/selftest-s1.ts: what S1 needs from the selftests' bpf_tracing_net.h */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include "bpf_sockops_autolowat.h"
static inline bool before(__u32 seq1, __u32 seq2) { return (__s32)(seq1 - seq2) < 0; }
#define after(seq2, seq1) before(seq1, seq2)
#ifndef bpf_core_cast
#define bpf_core_cast(ptr, type) ((typeof(type) *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))
#endif
`;

export interface CaseResult { scenario: string; passed: number; failed: number; faults: string[] }

/** Compile S1 into `dir`; returns the object path or throws with clang's message. */
export function compileS1(source: string, dir: string): string {
  const clang = process.env.CLANG ?? (have('clang-19') ? 'clang-19' : 'clang');
  if (!have(clang)) throw new Error(`no clang found (set CLANG to clang with the BPF target)`);
  const btf = process.env.VMLINUX_BTF ?? '/sys/kernel/btf/vmlinux';
  if (!existsSync(btf)) throw new Error(`no kernel BTF at ${btf} (set VMLINUX_BTF) to generate vmlinux.h`);
  const dump = spawnSync('bpftool', ['btf', 'dump', 'file', btf, 'format', 'c'], { maxBuffer: 1 << 28 });
  if (dump.status !== 0) throw new Error(`bpftool btf dump failed: ${dump.stderr?.toString() ?? dump.error?.message}`);
  writeFileSync(join(dir, 'vmlinux.h'), dump.stdout);
  writeFileSync(join(dir, 'bpf_tracing_net.h'), TRACING_NET_H);
  // <string.h> under -target bpf asks for the 32-bit glibc stubs; S1 needs none of them
  mkdirSync(join(dir, 'gnu'), { recursive: true });
  writeFileSync(join(dir, 'gnu/stubs-32.h'), '');
  const out = join(dir, 'tcp_autolowat.bpf.o');
  const args = ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I${dir}`, `-I${join(ROOT, 'include')}`,
    '-I/usr/include/x86_64-linux-gnu', '-Wno-compare-distinct-pointer-types', '-c', source, '-o', out];
  const cc = spawnSync(clang, args, { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`${clang} failed on ${source}:\n${cc.stderr}`);
  return out;
}

/** Run every case scenario with `object` in place of the example's program. */
export function runCases(object: string): CaseResult[] {
  const out: CaseResult[] = [];
  for (const f of readdirSync(CASES).filter((n) => /^case\d.*\.scenario\.json$/.test(n)).sort()) {
    const sim = Simulation.fromFile(join(CASES, f), { program: object });
    const faults: string[] = [];
    while (!sim.done) {
      const r = sim.stepOnce();
      for (const run of r.runs) if (run.fault) faults.push(`${run.program}: ${run.fault.message}${run.fault.line ? ` at ${run.fault.line}` : ''}`);
    }
    out.push({ scenario: f, passed: sim.passed, failed: sim.failed, faults: sim.faulted && !faults.length ? ['a program faulted'] : faults });
  }
  return out;
}

function main(): void {
  const arg = process.argv[2];
  if (!arg) skip('give the path of S1 (tools/testing/selftests/bpf/progs/tcp_autolowat.c of the AutoLOWAT series)');
  const source = resolve(arg);
  if (!existsSync(source)) skip(`${source} does not exist`);
  const dir = mkdtempSync(join(tmpdir(), 'selftest-s1-'));
  try {
    let object: string;
    try {
      object = compileS1(source, dir);
    } catch (e) {
      console.error(`selftest-s1: ${(e as Error).message}`);
      process.exit(2);
    }
    const results = runCases(object);
    const w = Math.max(...results.map((r) => r.scenario.length));
    console.log(`${'scenario'.padEnd(w)}  expects  result`);
    let bad = 0;
    for (const r of results) {
      const ok = r.failed === 0 && r.faults.length === 0;
      if (!ok) bad++;
      console.log(`${r.scenario.padEnd(w)}  ${String(r.passed).padStart(3)}/${String(r.passed + r.failed).padEnd(3)}  ${ok ? 'PASS' : 'FAIL'}`);
      for (const f of r.faults) console.log(`    fault: ${f}`);
    }
    console.log(`${results.length - bad} of ${results.length} cases pass with no fault`);
    process.exitCode = bad ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
