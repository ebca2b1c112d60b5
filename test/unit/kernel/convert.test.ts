// Loads through the UAPI socket views are converted at load time (debugger/kernel/bpf/convert.ts):
// the pointer is the socket's own address; a view access the kernel refuses is a load error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../../debugger/vm/asm';
import type { BpfObject } from '../../../debugger/object';
import { BpfKernel, LoadError } from '../../../debugger/kernel/bpf';
import { inv, TestSock } from './util';

function kernelFor(text: string): BpfKernel {
  const insns = assemble(text);
  const prog = { name: 'p', section: 'sockops', insns, funcs: [{ name: 'p', startPc: 0, endPc: insns.length, btfTypeId: 0, section: 'sockops' }], lineInfo: [], coreRelos: [], relocs: [] };
  const obj: BpfObject = { file: 'p.o', license: 'GPL', btf: null, programs: [prog], maps: [], kfuncs: [], warnings: [] };
  return BpfKernel.load(obj, { profile: 'linux-7.1.5' });
}

test('ctx->sk, bpf_tcp_sock(sk) and the converted loads: one address, UAPI values', () => {
  // r6 = ctx; r7 = ctx->sk; r0 = bpf_tcp_sock(r7); reply = (r0 == r7); args[0]... via helper trace
  const k = kernelFor(`
    mov %r6, %r1
    ldxdw %r7, [%r6+184]
    jeq %r7, 0, out
    ldxw %r8, [%r7+4]
    mov %r1, %r7
    call 96
    jeq %r0, 0, out
    ldxw %r9, [%r0+0]
    mov %r1, 0
    jne %r0, %r7, ne
    mov %r1, 1
  ne:
    lsh %r1, 16
    or %r1, %r8
    lsh %r9, 20
    or %r1, %r9
    stxw [%r6+4], %r1
  out:
    mov %r0, 1
    exit`);
  const s = new TestSock(1, 'inet6');
  s.snd_cwnd = 7;
  const out = k.sockOps(s, inv(4))!;
  assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
  // reply = (cwnd << 20) | (same address << 16) | family
  assert.equal(out.ret, (7 << 20) | (1 << 16) | 10);
});

test('a bpf_sock load past the struct, or a store through it, is refused at load as check_sock_access does', () => {
  assert.throws(() => kernelFor('ldxdw %r2, [%r1+184]\njeq %r2, 0, out\nldxw %r0, [%r2+80]\nout:\nmov %r0, 1\nexit'),
    (e: unknown) => e instanceof LoadError && /R2 invalid bpf_sock access off=80 size=4: struct bpf_sock has 80 bytes \(check_sock_access\)/.test(e.message));
  assert.throws(() => kernelFor('ldxdw %r2, [%r1+184]\njeq %r2, 0, out\nstw [%r2+4], 1\nout:\nmov %r0, 1\nexit'),
    (e: unknown) => e instanceof LoadError && /R2 invalid bpf_sock access off=4 size=4: struct bpf_sock is read-only/.test(e.message));
  assert.throws(() => kernelFor('ldxdw %r1, [%r1+184]\njeq %r1, 0, out\ncall 96\njeq %r0, 0, out\nldxdw %r0, [%r0+112]\nout:\nmov %r0, 1\nexit'),
    (e: unknown) => e instanceof LoadError && /invalid bpf_tcp_sock access off=112 size=8: struct bpf_tcp_sock has 112 bytes/.test(e.message));
});

test('sockView: a debugger reading a struct bpf_sock * value finds the converted fields', () => {
  const k = kernelFor('ldxdw %r2, [%r1+184]\nmov %r0, 1\nexit');
  let sk = 0n;
  let vm: import('../../../debugger/vm/api').VmApi | null = null;
  k.setInsnHook(({ pc, vm: v }) => { if (pc === 1) { sk = v.reg(2); vm = v; } });
  k.sockOps(new TestSock(1, 'inet'), inv(4));
  assert.notEqual(sk, 0n);
  const view = k.sockView(vm!, sk, 'bpf_sock');
  assert.notEqual(view, sk);
  assert.equal(vm!.memory.read(view + 4n, 4), 2n, 'bpf_sock.family (AF_INET) where the debugger reads it');
  assert.equal(k.sockView(vm!, 0x1234n, 'bpf_sock'), 0x1234n, 'not a socket: unchanged');
});

test('an access whose base is a socket view on one path and another kind on another is left as it is, with a warning', () => {
  // r2 = ctx->sk on one path, the stack on the other; the load at `join` has no single kind
  const k = kernelFor(`
    ldxw %r3, [%r1+0]
    mov %r2, %r10
    add %r2, -8
    stdw [%r10-8], 0
    jeq %r3, 4, sk
    ja join
  sk:
    ldxdw %r2, [%r1+184]
    jeq %r2, 0, out
  join:
    ldxw %r0, [%r2+4]
  out:
    mov %r0, 1
    exit`);
  assert.ok(k.warnings.some((w) => /insn 8: R2 is PTR_TO_SOCKET or PTR_TO_STACK depending on the path: the access is not converted/.test(w)), k.warnings.join('\n'));
});
