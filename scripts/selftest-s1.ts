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
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../debugger/sim';
import { compileSelftest, runCaseScenarios, selftestMain, ROOT, type CaseResult } from './selftest-common';

const CASES = join(ROOT, 'examples/autolowat');

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

/** Compile S1 into `dir`; returns the object path or throws with clang's message. */
export function compileS1(source: string, dir: string): string {
  return compileSelftest(source, dir, TRACING_NET_H, 'tcp_autolowat.bpf.o');
}

/** Run every case scenario with `object` in place of the example's program. */
export function runCases(object: string): CaseResult[] {
  return runCaseScenarios(CASES, (f) => Simulation.fromFile(join(CASES, f), { program: object }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  selftestMain('selftest-s1', 'S1 (tools/testing/selftests/bpf/progs/tcp_autolowat.c of the AutoLOWAT series)', compileS1, (o) => runCases(o));
}
