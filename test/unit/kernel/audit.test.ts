// Every helper the sockops table makes available to sock_ops and cgroup/{set,get}sockopt programs
// is implemented by the emulator or listed as not modelled with what the kernel would return; a
// call of a not-modelled one ends the run with that text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { profileNames, table } from '../../../sockops';
import type { ProgType } from '../../../sockops/types';
import { IMPLEMENTED_HELPERS } from '../../../debugger/kernel/bpf';
import { NOT_MODELLED } from '../../../debugger/kernel/bpf/helpers';
import { assemble } from '../../../debugger/vm/asm';
import type { BpfObject } from '../../../debugger/object';
import { BpfKernel } from '../../../debugger/kernel/bpf';
import { inv, TestSock } from './util';

const TYPES: ProgType[] = ['sock_ops', 'cgroup_setsockopt', 'cgroup_getsockopt'];

test('every helper available to our program types is implemented or explicitly not modelled', () => {
  const missing: string[] = [];
  let available = 0;
  for (const p of profileNames()) {
    for (const h of table(p).profile.helpers) {
      if (!TYPES.some((t) => h.progTypes[t])) continue;
      available++;
      const impl = IMPLEMENTED_HELPERS.includes(h.name);
      const nm = NOT_MODELLED[h.name] !== undefined;
      if (!impl && !nm) missing.push(`${p}: ${h.name}#${h.id}`);
      assert.ok(!(impl && nm), `${h.name} is both implemented and listed as not modelled`);
    }
  }
  assert.ok(available > 100, `only ${available} helper rows found`);
  assert.deepEqual(missing, []);
  // every not-modelled row names a kernel source file
  for (const [name, what] of Object.entries(NOT_MODELLED)) assert.match(what, /[ (]([a-z]+\/)+[a-z_0-9]+\.c\b/, `${name}: ${what}`);
});

test('a call of a not-modelled helper faults with what the kernel would do', () => {
  // r1 = ctx; call bpf_get_current_pid_tgid (#14); exit
  const insns = assemble('call 14\nexit');
  const prog = { name: 'p', section: 'sockops', insns, funcs: [{ name: 'p', startPc: 0, endPc: insns.length, btfTypeId: 0, section: 'sockops' }], lineInfo: [], coreRelos: [], relocs: [] };
  const obj: BpfObject = { file: 'p.o', license: 'GPL', btf: null, programs: [prog], maps: [], kfuncs: [], warnings: [] };
  const k = BpfKernel.load(obj, { profile: 'linux-7.1.5' });
  assert.ok(k.warnings.some((w) => /bpf_get_current_pid_tgid#14 is allowed but not modelled/.test(w)), k.warnings.join('\n'));
  const out = k.sockOps(new TestSock(), inv(4))!;
  assert.match(out.trace.fault!.message, /bpf_get_current_pid_tgid#14 is not modelled by the emulator: in the kernel it returns \(tgid << 32\) \| pid/);
});

test('bpf_skc_to_mptcp_sock is NULL for a plain TCP socket; bpf_skc_to_tcp6_sock follows the family', () => {
  // r7 = ctx->sk; if NULL exit; skc_to_mptcp_sock(sk) (#196); skc_to_tcp6_sock(sk) (#136)
  const insns = assemble(`
    ldxdw %r7, [%r1+184]
    jeq %r7, 0, out
    mov %r1, %r7
    call 196
    mov %r1, %r7
    call 136
  out:
    mov %r0, 1
    exit`);
  const prog = { name: 'p', section: 'sockops', insns, funcs: [{ name: 'p', startPc: 0, endPc: insns.length, btfTypeId: 0, section: 'sockops' }], lineInfo: [], coreRelos: [], relocs: [] };
  const obj: BpfObject = { file: 'p.o', license: 'GPL', btf: null, programs: [prog], maps: [], kfuncs: [], warnings: [] };
  const k = BpfKernel.load(obj, { profile: 'linux-7.1.5' });
  for (const [family, tcp6] of [['inet6', 1], ['inet', 0]] as const) {
    const s = new TestSock(1, family);
    const out = k.sockOps(s, inv(4))!;
    assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
    const mptcp = out.trace.helpers.find((h) => h.name === 'bpf_skc_to_mptcp_sock')!;
    assert.equal(mptcp.ret, 0n);
    const t6 = out.trace.helpers.find((h) => h.name === 'bpf_skc_to_tcp6_sock')!;
    assert.equal(t6.ret !== 0n ? 1 : 0, tcp6, family);
  }
});

test('an object with only a cgroup/setsockopt program loads when that program is named', () => {
  const insns = assemble('mov %r0, 1\nexit');
  const prog = { name: 'only_set', section: 'cgroup/setsockopt', insns, funcs: [{ name: 'only_set', startPc: 0, endPc: insns.length, btfTypeId: 0, section: 'cgroup/setsockopt' }], lineInfo: [], coreRelos: [], relocs: [] };
  const obj: BpfObject = { file: 'set.o', license: 'GPL', btf: null, programs: [prog], maps: [], kfuncs: [], warnings: [] };
  const k = BpfKernel.load(obj, { setsockopt: 'only_set' });
  assert.equal(k.sockopsProgram, null);
  assert.equal(k.sockOps(new TestSock(), inv(4)), null, 'no sock_ops program: nothing runs');
  const r = k.setsockopt(new TestSock(), { level: 1, optname: 8, optval: new Uint8Array(4), label: 'SO_RCVBUF' })!;
  assert.equal(r.action, 'kernel');
  // without a name, an object with no sockops program is still refused with the list of programs
  assert.throws(() => BpfKernel.load(obj, {}), /no SEC\("sockops"\) program in the object; programs there: only_set \(SEC\("cgroup\/setsockopt"\)\)/);
});
