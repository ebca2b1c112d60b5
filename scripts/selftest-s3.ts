// The series' struct_ops selftest program (S3: tools/testing/selftests/bpf/progs/tcp_autolowat.c of
// the AutoLOWAT series v5, public in the kernel-patches/bpf-rc repository) run unchanged through our
// emulator with profile autolowat-tcp-ops-v5: compiled here with clang, then the selftest's four
// cases (examples/autolowat-tcp-ops/case*.scenario.json, both address families) run with S3's
// object, struct_ops variable and cgroup/setsockopt program in place of the example's. Prints a
// pass/fail table; exit 1 when a case fails or a program faults.
//
//   node --import tsx scripts/selftest-s3.ts PATH/TO/tcp_autolowat.c
//
// Without the file it says so and exits 0 (the source is not part of this repository). Like
// selftest-s1.ts it needs clang with the BPF target and bpftool with a kernel BTF for vmlinux.h;
// the selftests' bpf_tracing_net.h is replaced by a small stand-in that also includes
// include/bpf_tcp_ops_autolowat.h (struct bpf_tcp_ops, BPF_TCP_OPS_FLAG_RCVQ, the kfuncs), which
// a kernel without the series lacks.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../debugger/sim';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CASES = join(ROOT, 'examples/autolowat-tcp-ops');
/** S3's names: its struct_ops variable and its cgroup/setsockopt program. */
const S3_STRUCT_OPS = 'tcp_autolowat_ops';
const S3_SETSOCKOPT = 'tcp_autolowat_setsockopt';

function skip(why: string): never {
  console.log(`selftest-s3: skipped: ${why}`);
  process.exit(0);
}

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

const TRACING_NET_H = `/* written by scripts/selftest-s3.ts: what S3 needs from the selftests' bpf_tracing_net.h */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include "bpf_tcp_ops_autolowat.h"
#define TCPHDR_FIN 0x01
static inline bool before(__u32 seq1, __u32 seq2) { return (__s32)(seq1 - seq2) < 0; }
#define after(seq2, seq1) before(seq1, seq2)
#ifndef bpf_core_cast
#define bpf_core_cast(ptr, type) ((typeof(type) *)bpf_rdonly_cast((ptr), bpf_core_type_id_kernel(type)))
#endif
`;

export interface CaseResult { scenario: string; passed: number; failed: number; faults: string[] }

/** Compile S3 into `dir`; returns the object path or throws with clang's message. */
export function compileS3(source: string, dir: string): string {
  const clang = process.env.CLANG ?? (have('clang-19') ? 'clang-19' : 'clang');
  if (!have(clang)) throw new Error('no clang found (set CLANG to clang with the BPF target)');
  const btf = process.env.VMLINUX_BTF ?? '/sys/kernel/btf/vmlinux';
  if (!existsSync(btf)) throw new Error(`no kernel BTF at ${btf} (set VMLINUX_BTF) to generate vmlinux.h`);
  const dump = spawnSync('bpftool', ['btf', 'dump', 'file', btf, 'format', 'c'], { maxBuffer: 1 << 28 });
  if (dump.status !== 0) throw new Error(`bpftool btf dump failed: ${dump.stderr?.toString() ?? dump.error?.message}`);
  writeFileSync(join(dir, 'vmlinux.h'), dump.stdout);
  writeFileSync(join(dir, 'bpf_tracing_net.h'), TRACING_NET_H);
  mkdirSync(join(dir, 'gnu'), { recursive: true });
  writeFileSync(join(dir, 'gnu/stubs-32.h'), '');
  const out = join(dir, 'tcp_autolowat_s3.bpf.o');
  const args = ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I${dir}`, `-I${join(ROOT, 'include')}`,
    '-I/usr/include/x86_64-linux-gnu', '-Wno-compare-distinct-pointer-types', '-c', source, '-o', out];
  const cc = spawnSync(clang, args, { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`${clang} failed on ${source}:\n${cc.stderr}`);
  return out;
}

/** Run every case scenario with `object` (S3's names) in place of the example's program. */
export function runCases(object: string, dir: string): CaseResult[] {
  const out: CaseResult[] = [];
  for (const f of readdirSync(CASES).filter((n) => /^case\d.*\.scenario\.json$/.test(n)).sort()) {
    const sc = JSON.parse(readFileSync(join(CASES, f), 'utf8')) as Record<string, unknown>;
    delete sc.$schema;
    sc.program = object;
    sc.structOps = S3_STRUCT_OPS;
    sc.setsockopt = S3_SETSOCKOPT;
    const file = join(dir, f);
    writeFileSync(file, JSON.stringify(sc));
    const sim = Simulation.fromFile(file);
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
  if (!arg) skip('give the path of S3 (tools/testing/selftests/bpf/progs/tcp_autolowat.c of the struct_ops AutoLOWAT series)');
  const source = resolve(arg);
  if (!existsSync(source)) skip(`${source} does not exist`);
  const dir = mkdtempSync(join(tmpdir(), 'selftest-s3-'));
  try {
    let object: string;
    try {
      object = compileS3(source, dir);
    } catch (e) {
      console.error(`selftest-s3: ${(e as Error).message}`);
      process.exit(2);
    }
    const results = runCases(object, dir);
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
