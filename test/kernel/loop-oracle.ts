// test:kernel part 4: bpf_loop in the live kernel vs our VM. The programs of
// test/kernel/progs/loop_oracle.bpf.c (loop counts, early stop, nested loops, flags != 0,
// nr_loops too big, flags the verifier cannot see) run as socket filters with BPF_PROG_TEST_RUN
// through test/kernel/native/looprun.c (libbpf: callbacks need BTF func_info), and in a bare VM
// with bpf_loop (test/kernel/loop-vm.ts). The kernel's answers are kept in
// test/fixtures/kernel/loop-oracle.json, which test/unit/kernel/loop-oracle.test.ts checks
// without a kernel: a disagreement found here stays a failing regression test until fixed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './native';
import { LOOP_FIXTURE, LOOP_OBJ, loopDiff, runLoopProgramsInVm, slots, type LoopFixture } from './loop-vm';

const NATIVE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'native');

export async function loopOracle(opts: { log: (s: string) => void }): Promise<number> {
  const log = opts.log;
  log('\n[4] bpf_loop: live kernel (BPF_PROG_TEST_RUN, socket filters) vs our VM');
  let bin: string;
  try { bin = buildNative('looprun', ['-lbpf'], NATIVE_DIR); } catch (e) { log(`  skipped: cannot build test/kernel/native/looprun.c against libbpf: ${(e as Error).message.split('\n')[0]} (install libbpf-dev)`); return 0; }
  const r = spawnSync(bin, [LOOP_OBJ], { encoding: 'utf8', timeout: 60_000 });
  const lines = (r.stdout ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const setup = lines.find((l) => 'setup' in l);
  if (setup || r.status !== 0) {
    log(`  FAILED to run ${LOOP_OBJ}: ${setup ? `${setup.setup}: errno ${setup.error}` : `exit ${r.status} ${r.signal ?? ''} ${r.stderr}`}`);
    return 1;
  }
  const ours = runLoopProgramsInVm();
  const old: LoopFixture | null = existsSync(LOOP_FIXTURE) ? JSON.parse(readFileSync(LOOP_FIXTURE, 'utf8')) as LoopFixture : null;
  const fixture: LoopFixture = { kernelRelease: release(), programs: {} };
  let failed = 0;
  for (const l of lines) {
    const name = String(l.prog);
    if (l.err !== 0) { log(`  ${name}: BPF_PROG_TEST_RUN failed with errno ${l.err}`); failed++; continue; }
    const kernel = { retval: Number(l.retval), bss: String(l.bss) };
    const mine = ours.get(name) ?? { error: 'not run' };
    const d = loopDiff(kernel, mine);
    const k = slots(kernel.bss);
    const used = k.length - [...k].reverse().findIndex((v) => v !== 0n);
    const shown = k.slice(0, Math.min(Math.max(used, 1), k.length)).map((v) => `0x${v.toString(16)}`).join(' ');
    log(`  ${name.padEnd(18)} retval ${String(kernel.retval).padEnd(10)} out[] ${shown}  ${d ? `DISAGREEMENT: ${d}` : 'same'}`);
    const entry: LoopFixture['programs'][string] = { ...kernel };
    if (d) { entry.ours = mine; failed++; }
    fixture.programs[name] = entry;
  }
  const changed = !old || JSON.stringify(old.programs) !== JSON.stringify(fixture.programs);
  if (changed) {
    writeFileSync(LOOP_FIXTURE, JSON.stringify(fixture, null, 2) + '\n');
    log(`  kernel answers ${old ? 'changed: rewrote' : 'recorded in'} ${LOOP_FIXTURE} (test/unit/kernel/loop-oracle.test.ts checks them without a kernel; commit it)`);
  }
  log(`  programs compared: ${lines.length}; disagreements: ${failed}`);
  return failed;
}
