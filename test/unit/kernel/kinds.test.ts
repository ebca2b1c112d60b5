// The pointer-kind pass (debugger/verifier/kinds.ts) on small assembled programs: ctx field
// kinds, NULL tests through copies and spills, helper results, joins, calls and loops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../../debugger/vm/asm';
import type { BpfObject, BpfProgram } from '../../../debugger/object';
import type { ProgType } from '../../../sockops/types';
import { analyzeKinds } from '../../../debugger/verifier/kinds';

function prog(text: string, section = 'sockops'): { p: BpfProgram; obj: BpfObject } {
  const insns = assemble(text);
  const p: BpfProgram = {
    name: 't', section, insns, funcs: [{ name: 't', startPc: 0, endPc: insns.length, btfTypeId: 0, section }],
    lineInfo: [], coreRelos: [], relocs: [],
  };
  const obj: BpfObject = { file: 't.o', license: 'GPL', btf: null, programs: [p], maps: [], kfuncs: [], warnings: [] };
  return { p, obj };
}

function kinds(text: string, progType: ProgType = 'sock_ops') {
  const { p, obj } = prog(text, progType === 'sock_ops' ? 'sockops' : 'cgroup/setsockopt');
  return { r: analyzeKinds(p, progType, obj), insns: p.insns };
}

test('ctx->sk of sock_ops is PTR_TO_SOCKET_OR_NULL until tested; the test refines every copy', () => {
  const { r } = kinds(`
    ldxdw %r2, [%r1+184]
    mov %r3, %r2
    ldxw %r4, [%r2+4]
    jeq %r2, 0, out
    ldxw %r5, [%r3+72]
    exit
  out:
    mov %r0, %r3
    exit`);
  const before = r.accessAt(2)!;
  assert.equal(before.base.type, 'PTR_TO_SOCKET');
  assert.equal(before.base.maybeNull, true);
  const after = r.accessAt(4)!;
  assert.equal(after.base.type, 'PTR_TO_SOCKET');
  assert.equal(after.base.maybeNull, false, 'r3 is a copy of r2: the NULL test covers it');
  assert.equal(after.off, 72);
  assert.equal(after.reg, 3);
  // on the NULL side the copy is the scalar 0
  const k = r.kindsAt(6)!;
  assert.equal(k.regs[3]!.type, 'SCALAR_VALUE');
  assert.equal(k.regs[3]!.value, 0n);
});

test('bpf_tcp_sock() gives PTR_TO_TCP_SOCK_OR_NULL; a spill and fill keeps the kind and the NULL test', () => {
  const { r } = kinds(`
    ldxdw %r1, [%r1+184]
    jeq %r1, 0, out
    call 96
    stxdw [%r10-8], %r0
    ldxdw %r6, [%r10-8]
    jne %r0, 0, ok
    ja out
  ok:
    ldxw %r7, [%r6+16]
  out:
    mov %r0, 1
    exit`);
  const a = r.accessAt(7)!;
  assert.equal(a.base.type, 'PTR_TO_TCP_SOCK');
  assert.equal(a.base.maybeNull, false, 'the filled copy shares the id of r0');
  assert.equal(a.off, 16);
  // the spill is seen in the stack slot
  assert.equal(r.kindsAt(4)!.stack.get(-8)!.type, 'PTR_TO_TCP_SOCK');
  // r1-r5 are clobbered by the call
  assert.equal(r.kindsAt(3)!.regs[1]!.type, 'NOT_INIT');
});

test('a narrow store into a spilled slot turns it into a scalar', () => {
  const { r } = kinds(`
    stxdw [%r10-8], %r1
    stw [%r10-8], 0
    ldxdw %r2, [%r10-8]
    ldxw %r0, [%r2+0]
    exit`);
  assert.equal(r.accessAt(3)!.base.type, 'SCALAR_VALUE');
  assert.equal(r.accessAt(0)!.base.type, 'PTR_TO_STACK');
  assert.equal(r.accessAt(0)!.off, -8);
});

test('paths that disagree on the base kind meet as CONFLICT; same kind at two offsets has no single offset', () => {
  const { r } = kinds(`
    ldxw %r3, [%r1+0]
    mov %r2, %r1
    mov %r4, %r1
    jeq %r3, 1, other
    mov %r2, %r10
    add %r4, 8
    ja join
  other:
    add %r4, 16
  join:
    ldxw %r0, [%r2+0]
    ldxw %r0, [%r4+4]
    exit`);
  const c = r.accessAt(8)!;
  assert.equal(c.base.type, 'CONFLICT');
  assert.equal(c.off, undefined);
  const v = r.accessAt(9)!;
  assert.equal(v.base.type, 'PTR_TO_CTX');
  assert.equal(v.off, undefined);
  assert.equal(v.base.varOff, true);
});

test('pointer arithmetic with known constants keeps the offset (also through registers)', () => {
  const { r } = kinds(`
    mov %r2, 4
    lsh %r2, 2
    mov %r3, %r1
    add %r3, %r2
    ldxw %r0, [%r3+4]
    exit`);
  const a = r.accessAt(4)!;
  assert.equal(a.base.type, 'PTR_TO_CTX');
  assert.equal(a.off, 20);
});

test('bpf-to-bpf calls are followed per call site; r0 comes back, r6-r9 are the caller\'s', () => {
  const { r } = kinds(`
    mov %r6, %r1
    call local f
    ldxw %r2, [%r6+0]
    mov %r1, %r10
    add %r1, -16
    call local f
    exit
  f:
    ldxw %r0, [%r1+4]
    exit`);
  assert.equal(r.accessAt(2)!.base.type, 'PTR_TO_CTX');
  // f's load sees the ctx from one call and the stack from the other
  assert.equal(r.accessAt(7)!.base.type, 'CONFLICT');
  assert.deepEqual(r.unreachable, []);
});

test('a counting loop ends (constants widen to unknown scalars)', () => {
  const { r } = kinds(`
    mov %r2, 0
    mov %r3, %r1
  loop:
    add %r3, 1
    add %r2, 1
    jlt %r2, 100, loop
    ldxb %r0, [%r3+0]
    exit`);
  const a = r.accessAt(5)!;
  assert.equal(a.base.type, 'PTR_TO_CTX');
  assert.equal(a.off, undefined);
  assert.equal(r.kindsAt(5)!.regs[2]!.value, undefined);
});

test('bpf_loop callbacks are analysed with the helper\'s arguments', () => {
  const { r } = kinds(`
    mov %r6, %r1
    mov %r1, 4
    lddw %r2, func cb
    mov %r3, %r6
    mov %r4, 0
    call 181
    exit
  cb:
    ldxw %r0, [%r2+0]
    mov %r0, 0
    exit`);
  const a = r.accessAt(8)!;
  assert.equal(a.base.type, 'PTR_TO_CTX', 'the callback ctx is bpf_loop\'s r3');
});

test('bpf_sockopt: sk is PTR_TO_SOCKET (never NULL), optval/optval_end are packet pointers', () => {
  const { r } = kinds(`
    ldxdw %r2, [%r1+0]
    ldxdw %r3, [%r1+8]
    ldxdw %r4, [%r1+16]
    ldxw %r5, [%r2+4]
    ldxw %r5, [%r3+0]
    mov %r0, 1
    exit`, 'cgroup_setsockopt');
  assert.equal(r.accessAt(3)!.base.type, 'PTR_TO_SOCKET');
  assert.equal(r.accessAt(3)!.base.maybeNull, false);
  assert.equal(r.accessAt(4)!.base.type, 'PTR_TO_PACKET');
  assert.equal(r.kindsAt(5)!.regs[4]!.type, 'PTR_TO_PACKET_END');
});

test('map lookups: CONST_PTR_TO_MAP in r1, PTR_TO_MAP_VALUE_OR_NULL back', () => {
  const { p, obj } = prog(`
    lddw %r1, 0
    mov %r2, %r10
    add %r2, -8
    call 1
    jeq %r0, 0, out
    ldxw %r1, [%r0+4]
  out:
    exit`);
  p.insns[0]!.src = 1; // BPF_PSEUDO_MAP_FD, map #0
  obj.maps.push({ name: 'm', type: 1, typeName: 'BPF_MAP_TYPE_HASH', keySize: 8, valueSize: 8, maxEntries: 1, flags: 0, keyTypeId: 0, valueTypeId: 0 });
  const r = analyzeKinds(p, 'sock_ops', obj);
  assert.equal(r.kindsAt(5)!.regs[0]!.type, 'PTR_TO_MAP_VALUE');
  assert.equal(r.kindsAt(5)!.regs[0]!.maybeNull, true);
  const a = r.accessAt(6)!;
  assert.equal(a.base.mapIndex, 0);
  assert.equal(a.base.maybeNull, false);
  assert.equal(a.off, 4);
});

test('an instruction naming a register past r10 stops its path with a note (the VM validation refuses the program)', () => {
  const { p, obj } = prog('mov %r0, 0\nexit');
  p.insns.unshift({ code: 0x0f, dst: 0, src: 14, off: 0, imm: 0 }); // add r0, r14
  p.funcs[0]!.endPc = p.insns.length;
  const r = analyzeKinds(p, 'sock_ops', obj);
  assert.deepEqual(r.notes, [{ pc: 0, message: 'invalid register r14' }]);
});
