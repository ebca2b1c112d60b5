// npm run test:kernel — the running kernel as oracle (issue 7):
//   1. load-time availability of helpers and ctx accesses vs the sockops/ table,
//   2. random programs through BPF_PROG_TEST_RUN vs our VM,
//   3. a recording sock_ops program in a live cgroup + netns vs our simulator,
//   4. bpf_loop programs (socket filters, BPF_PROG_TEST_RUN) vs our VM and bpf_loop,
//   5. our verifier vs the kernel's: fixture programs + a mutation corpus (test/kernel/verifier-agree.ts),
//   6. random programs the kernel accepts never fault in the emulator (test/kernel/nofault.ts).
// Where bpf() is not permitted (or no C compiler), prints why and exits 0.
// Environment: ORACLE_SEED (default 7), ORACLE_PROGRAMS (default 100000), ORACLE_PARTS (e.g. "1,2"),
// ORACLE_RECORD=1 (re-record the hand-written corner fixtures of test/kernel/isa-edge.ts).
import { release } from 'node:os';
import { availability } from './availability';
import { isaDifferential, isExplainedMissing, recordEdges } from './isa';
import { buildNative, probeBpf } from './native';

function skip(why: string): never {
  console.log(`test:kernel skipped: ${why}`);
  process.exit(0);
}

async function main(): Promise<number> {
  const parts = new Set((process.env.ORACLE_PARTS ?? '1,2,3,4,5,6').split(',').map((s) => s.trim()));
  const seed = Number(process.env.ORACLE_SEED ?? 7) >>> 0;
  const count = Number(process.env.ORACLE_PROGRAMS ?? 100_000);
  if (!Number.isFinite(count) || count < 0) throw new Error(`ORACLE_PROGRAMS=${process.env.ORACLE_PROGRAMS} is not a count`);
  if (process.platform !== 'linux') skip(`bpf() needs Linux (this is ${process.platform})`);
  let bin: string;
  try { bin = buildNative('bpfrun'); } catch (e) { skip(`cannot build tools/bpfrun/bpfrun.c: ${(e as Error).message}`); }
  const why = probeBpf(bin);
  if (why) skip(`bpf() is not permitted here: ${why} (run as root or with CAP_BPF + CAP_NET_ADMIN)`);
  console.log(`kernel ${release()}; table profiles linux-7.1.5 (baseline) and autolowat-sockops-v3`);
  let failed = 0;

  if (parts.has('1')) {
    const t0 = Date.now();
    const a = await availability(bin);
    console.log(`\n[1] load-time availability (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    console.log(`  helpers x program types compared: ${a.helperPairs} (${a.helperAgree} agree with linux-7.1.5); gpl_only checked: ${a.gplChecked}`);
    console.log(`  ctx accesses compared (struct bpf_sock_ops, read/write x 1/2/4/8 x aligned offsets): ${a.ctxAccesses} (${a.ctxAgree} agree)`);
    for (const r of a.expected) console.log(`  expected difference: ${r.what}: kernel ${r.kernel}, profile ${r.table} -- ${r.expected}`);
    for (const r of a.versionDiffs) console.log(`  version difference: ${r.what}: kernel ${r.kernel}, table ${r.table} -- ${r.expected}`);
    for (const r of a.failures) console.log(`  DISAGREEMENT: ${r.what}: kernel ${r.kernel}; table ${r.table}${r.expected ? ` (${r.expected})` : ''}`);
    failed += a.failures.length;
  }

  if (parts.has('2')) {
    console.log(`\n[2] ISA differential: ${count} programs, seed ${seed} (ORACLE_SEED / ORACLE_PROGRAMS to change)`);
    const r = await isaDifferential(bin, { seed, count, log: (s) => console.log(s) });
    console.log(`  random programs run: ${r.programs} in ${r.seconds.toFixed(1)} s (${Math.round(r.programs / r.seconds)}/s); identical: ${r.agreed}; verifier rejected: ${r.rejected.length}; disagreements: ${r.disagreements.length}`);
    for (const x of r.rejected.slice(0, 5)) console.log(`  rejected: seed ${x.seed}: ${x.why}`);
    const cov = [...r.coverage.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    console.log(`  opcode coverage (${cov.length} opcode forms): ${cov.map(([k, n]) => `${k}:${n}`).join(' ')}`);
    for (const m of r.missing) console.log(`  conformance opcode not generated: ${m.key}: ${m.why}`);
    for (const d of r.disagreements) console.log(`  DISAGREEMENT seed ${d.seed}: ${d.what} -> ${d.fixture}`);
    if (process.env.ORACLE_RECORD) failed += await recordEdges(bin, (s) => console.log(s));
    const unexplained = r.missing.filter((m) => !isExplainedMissing(m)).length;
    if (unexplained && count < 5000) console.log(`  (coverage is only checked from 5000 programs on; ${count} were run)`);
    failed += r.disagreements.length + (count >= 5000 ? unexplained : 0);
    if (r.rejected.length) { console.log(`  the generator made ${r.rejected.length} programs the verifier refused (a generator bug)`); failed++; }
  }

  if (parts.has('3')) {
    const { sockopsLive } = await import('./sockops-live');
    const ok = await sockopsLive(bin, { log: (s) => console.log(s) });
    if (!ok) failed++;
  }

  if (parts.has('4')) {
    const { loopOracle } = await import('./loop-oracle');
    failed += await loopOracle({ log: (s) => console.log(s) });
  }

  if (parts.has('5')) {
    const { verifierAgreement } = await import('./verifier-agree');
    failed += await verifierAgreement({ log: (s) => console.log(s) });
  }

  if (parts.has('6')) {
    const { nofault } = await import('./nofault');
    failed += await nofault({ log: (s) => console.log(s) });
  }

  console.log(`\ntest:kernel: ${failed === 0 ? 'passed, 0 unexplained disagreements' : `${failed} unexplained disagreement(s)`}`);
  return failed === 0 ? 0 : 1;
}

main().then((c) => process.exit(c), (e) => { console.error(`test:kernel: ${(e as Error).stack ?? e}`); process.exit(1); });
