// The bpf_loop answers of the live kernel (test:kernel part 4, recorded in
// test/fixtures/kernel/loop-oracle.json) against our VM, without a kernel: loop counts, early
// stop, nested loops, flags != 0, nr_loops too big in the inlined form (-E2BIG as a 32-bit value)
// and in the helper form (flags the verifier cannot see: -E2BIG as a 64-bit value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadObject } from '../../../debugger/object';
import { bpfLoopInlinedCalls } from '../../../debugger/kernel/bpf/callbacks';
import { LOOP_FIXTURE, LOOP_OBJ, loopDiff, runLoopProgramsInVm, slots, type LoopFixture } from '../../kernel/loop-vm';

const fixture = JSON.parse(readFileSync(LOOP_FIXTURE, 'utf8')) as LoopFixture;

test('every recorded kernel answer is ours too', () => {
  const ours = runLoopProgramsInVm();
  const names = Object.keys(fixture.programs);
  assert.ok(names.length >= 6, `${names.length} programs recorded`);
  assert.deepEqual([...ours.keys()].sort(), [...names].sort(), 'the object and the recording have the same programs');
  for (const name of names) {
    const k = fixture.programs[name]!;
    assert.equal(loopDiff(k, ours.get(name)!), null, `${name} (kernel ${fixture.kernelRelease})`);
  }
});

test('the kernel facts the recording holds', () => {
  const out = (name: string) => slots(fixture.programs[name]!.bss);
  assert.deepEqual(out('loop_early_stop').slice(0, 4), [5n, 10n, 1n, 6n], 'stop at the 5th callback: 5; BPF_MAX_LOOPS is allowed');
  assert.equal(out('loop_too_big')[0], 0xfffffff9n, 'inlined bpf_loop: -E2BIG from a 32-bit mov');
  assert.equal(out('loop_too_big')[3], 0n, '... so comparing the 64-bit result with -E2BIG is false');
  assert.equal(out('loop_hidden_flags')[2], 0xfffffffffffffff9n, 'the helper: -E2BIG sign-extended');
  assert.equal(out('loop_bad_flags')[0], BigInt.asUintN(64, -22n), 'flags != 0: -EINVAL');
});

test('which bpf_loop calls the verifier inlines: all but the one whose flags come from memory', () => {
  const obj = loadObject(new Uint8Array(readFileSync(LOOP_OBJ)), LOOP_OBJ);
  for (const p of obj.programs) {
    const calls = p.insns.flatMap((x, pc) => (x.code === 0x85 && x.src === 0 && x.imm === 181 ? [pc] : []));
    const inl = bpfLoopInlinedCalls(p.insns);
    const flagsNonZeroConst = p.name === 'loop_bad_flags';
    const expected = p.name === 'loop_hidden_flags' || flagsNonZeroConst ? [] : calls;
    assert.deepEqual(calls.filter((pc) => inl.has(pc)), expected, p.name);
    assert.ok(calls.length > 0, p.name);
  }
});

const haveClang = spawnSync('clang-19', ['--version']).status === 0;
test('progs/loop_oracle.bpf.o is up to date with its source', { skip: haveClang ? false : 'clang-19 not installed' }, () => {
  const dir = dirname(LOOP_OBJ);
  const out = mkdtempSync(join(tmpdir(), 'loopo-'));
  try {
    const o = join(out, 'loop_oracle.bpf.o');
    const r = spawnSync('clang-19', ['-target', 'bpf', '-O2', '-g', `-fdebug-prefix-map=${dir}=.`, `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', 'loop_oracle.bpf.c', '-o', o], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(o).equals(readFileSync(LOOP_OBJ)), 'rebuild test/kernel/progs/loop_oracle.bpf.o (see the command in this test)');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
