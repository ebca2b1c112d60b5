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
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../debugger/sim';
import { compileSelftest, runCaseScenarios, selftestMain, ROOT, type CaseResult } from './selftest-common';

const CASES = join(ROOT, 'examples/autolowat-tcp-ops');
/** S3's names: its struct_ops variable and its cgroup/setsockopt program. */
const S3_STRUCT_OPS = 'tcp_autolowat_ops';
const S3_SETSOCKOPT = 'tcp_autolowat_setsockopt';

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

/** Compile S3 into `dir`; returns the object path or throws with clang's message. */
export function compileS3(source: string, dir: string): string {
  return compileSelftest(source, dir, TRACING_NET_H, 'tcp_autolowat_s3.bpf.o');
}

/** Run every case scenario with `object` (S3's names) in place of the example's program. */
export function runCases(object: string, dir: string): CaseResult[] {
  return runCaseScenarios(CASES, (f) => {
    const sc = JSON.parse(readFileSync(join(CASES, f), 'utf8')) as Record<string, unknown>;
    delete sc.$schema;
    sc.program = object;
    sc.structOps = S3_STRUCT_OPS;
    sc.setsockopt = S3_SETSOCKOPT;
    const file = join(dir, f);
    writeFileSync(file, JSON.stringify(sc));
    return Simulation.fromFile(file);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  selftestMain('selftest-s3', 'S3 (tools/testing/selftests/bpf/progs/tcp_autolowat.c of the struct_ops AutoLOWAT series)', compileS3, runCases);
}
