// Precision tracking and state pruning (debugger/verifier/precision.ts, state.ts): a scalar that
// no later instruction relies on is not compared when states are pruned, one that is (pointer
// arithmetic, through registers and stack spills) keeps its value in the comparison; the example
// hook variant that needs this to stay under the 1M-insn limit is walked like the kernel walks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject, type BpfObject, type BpfProgram } from '../../../debugger/object';
import { checkProgram } from '../../../debugger/verifier';
import type { Insn } from '../../../debugger/vm/api';

function rawProgram(insns: Insn[]): { obj: BpfObject; prog: BpfProgram } {
  const prog: BpfProgram = { name: 'raw', section: 'sockops', insns, funcs: [{ name: 'raw', startPc: 0, endPc: insns.length, btfTypeId: 0, section: 'sockops' }], lineInfo: [], coreRelos: [], relocs: [] };
  return { obj: { file: 'raw', license: 'GPL', btf: null, programs: [prog], maps: [], kfuncs: [], warnings: [] }, prog };
}
const I = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
const check = (insns: Insn[]) => { const { obj, prog } = rawProgram(insns); return checkProgram(obj, prog, 'sock_ops', { profile: 'linux-7.1.5' }); };

// r6 = ctx->args[0]; four fillers; if r6 > 10: r7 = 8 (out of the stack) else r7 = -8; join: a
// checkpoint is taken on the first path (2 jumps, >= 8 insns); r2 = r10 + r7; read a byte at r2.
const viaRegister = (bad: number) => [
  I(0x61, 6, 1, 4, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0),
  I(0x25, 6, 0, 2, 10), // 5: if r6 > 10 goto 8
  I(0xb7, 7, 0, 0, -8), // 6
  I(0x05, 0, 0, 1, 0), // 7: goto 9
  I(0xb7, 7, 0, 0, bad), // 8
  I(0xbf, 2, 10, 0, 0), // 9: r2 = r10 (join, prune point)
  I(0x0f, 2, 7, 0, 0), // 10: r2 += r7 (r7 must be precise)
  I(0x71, 0, 2, 0, 0), // 11: r0 = *(u8 *)(r2 + 0)
  I(0xb7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0),
];

test('a scalar used as a pointer offset is precise: the path with another value is not pruned', () => {
  const r = check(viaRegister(8));
  assert.equal(r.accepted, false, 'the r7 = 8 path reads past the frame and must be walked');
  assert.equal(r.error!.pc, 11);
  assert.equal(r.error!.kind, 'stack-bounds');
  // both values in range: accepted, and the second path is pruned at the join (fewer insns
  // than walking it: 12 + 3 for the branch, not 12 + 7)
  const ok = check(viaRegister(-16));
  assert.equal(ok.accepted, true, ok.error?.kernelMessage);
});

test('precision follows a value through a stack spill and fill to the checkpoint', () => {
  const insns = [
    I(0x61, 6, 1, 4, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0),
    I(0x25, 6, 0, 3, 10), // 5: if r6 > 10 goto 9
    I(0xb7, 7, 0, 0, -8), // 6
    I(0x7b, 10, 7, -16, 0), // 7: *(u64 *)(r10 - 16) = r7
    I(0x05, 0, 0, 2, 0), // 8: goto 11
    I(0xb7, 7, 0, 0, 8), // 9
    I(0x7b, 10, 7, -16, 0), // 10
    I(0xb7, 7, 0, 0, 0), // 11: join; r7 is dead from here
    I(0x79, 8, 10, -16, 0), // 12: r8 = *(u64 *)(r10 - 16)
    I(0xbf, 2, 10, 0, 0), I(0x0f, 2, 8, 0, 0), // 13, 14: r2 = r10 + r8
    I(0x71, 0, 2, 0, 0), // 15
    I(0xb7, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0),
  ];
  const r = check(insns);
  assert.equal(r.accepted, false, 'the spilled 8 must be compared at the join');
  assert.equal(r.error!.pc, 15);
});

test('a scalar nothing relies on does not keep states apart', () => {
  // the same shape, but r7 only goes to r0 through an undecided comparison: the second path is
  // pruned at the join although r7 differs
  const insns = [
    I(0x61, 6, 1, 4, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0), I(0xb7, 3, 0, 0, 0),
    I(0x25, 6, 0, 2, 10), // 5: if r6 > 10 goto 8
    I(0xb7, 7, 0, 0, 1), // 6
    I(0x05, 0, 0, 1, 0), // 7: goto 9
    I(0xb7, 7, 0, 0, 2), // 8
    I(0xb7, 0, 0, 0, 0), // 9: join
    I(0x3d, 7, 6, 1, 0), // 10: if r7 >= r6 goto 12 (undecided: no precision)
    I(0xb7, 0, 0, 0, 1), // 11
    I(0x95, 0, 0, 0, 0), // 12
  ];
  const r = check(insns);
  assert.equal(r.accepted, true, r.error?.kernelMessage);
  // first path: 0-7, 9-12 (11 insns, both sides of 10); second: 5 (popped), 8, 9 pruned
  assert.ok(r.processed <= 16, `processed ${r.processed}: the second path was walked to the end`);
});

test('the example hook with barrier_var(): accepted, insns processed as the kernel counts them', () => {
  const file = join(__dirname, '..', '..', 'fixtures', 'verifier', 'autolowat-barrier.bpf.o');
  const obj = loadObject(readFileSync(file), 'autolowat-barrier.bpf.o');
  const prog = obj.programs.find((p) => p.section === 'sockops')!;
  const r = checkProgram(obj, prog, 'sock_ops', { profile: 'linux-7.1.5' });
  assert.equal(r.accepted, true, r.error?.kernelMessage);
  // Linux 6.18: "processed 105003 insns" (its level-2 log's prune decisions are ours, in order);
  // without precision tracking the walk hits the 1M limit
  assert.equal(r.processed, 105_003);
});
