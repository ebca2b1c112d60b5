// Load errors: what the verifier/loader would refuse, named with program, C line and a fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfKernel, LoadError } from '../../../debugger/kernel/bpf';
import type { BpfObject, BpfProgram } from '../../../debugger/object';
import type { Insn } from '../../../debugger/vm';
import { table } from '../../../sockops';
import { fixture } from './util';

function loadErr(obj: BpfObject, opts: Parameters<typeof BpfKernel.load>[1]): LoadError {
  try {
    BpfKernel.load(obj, opts);
  } catch (e) {
    assert.ok(e instanceof LoadError, `expected a LoadError, got ${e}`);
    return e;
  }
  assert.fail('expected a LoadError');
}

/** An object with one hand-written sock_ops program. */
function synthetic(insns: Insn[], opts: { license?: string; section?: string; kfuncs?: string[] } = {}): BpfObject {
  const prog: BpfProgram = {
    name: 'synthetic', section: opts.section ?? 'sockops', insns,
    funcs: [{ name: 'synthetic', startPc: 0, endPc: insns.length, btfTypeId: 0, section: opts.section ?? 'sockops' }],
    lineInfo: [], coreRelos: [], relocs: [],
  };
  return { file: 'synthetic.o', license: opts.license ?? 'GPL', btf: null, programs: [prog], maps: [], kfuncs: opts.kfuncs ?? [], warnings: [] };
}
const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
const EXIT = I(0x95);
const MOV0 = I(0xb7, 0, 0, 0, 1);
const LDX = { 1: 0x71, 2: 0x69, 4: 0x61, 8: 0x79 } as const;

test('a store to bpf_sock_ops.op is a load error naming the field and the C line', () => {
  const e = loadErr(fixture('bad_write_op.bpf.o'), {});
  assert.equal(e.program, 'write_op');
  assert.match(e.message, /bpf_sock_ops\.op/);
  assert.match(e.message, /bad_write_op\.bpf\.c:7/);
  assert.match(e.message, /only reply\/args\[0\] and sk_txhash are writable/);
});

test('a narrow load of a field without narrow loads is a load error, through a stack spill', () => {
  const e = loadErr(fixture('bad_narrow.bpf.o'), {});
  assert.match(e.message, /bpf_sock_ops\.family/);
  assert.match(e.message, /bad_narrow\.bpf\.c:10/);
});

test('every ctx field: loads of each size are accepted exactly when the verifier accepts them', () => {
  const t = table();
  for (const f of t.profile.ctxFields) {
    for (const size of [1, 2, 4, 8] as const) {
      const obj = synthetic([I(LDX[size], 0, 1, f.offset), MOV0, EXIT]);
      const want = t.ctxAccessError(f.offset, size, false);
      let got: string | null = null;
      try {
        BpfKernel.load(obj, {});
      } catch (e) {
        got = (e as Error).message;
      }
      if (want === null) assert.equal(got, null, `${f.name} size ${size}`);
      else assert.ok(got?.includes(want), `${f.name} size ${size}: ${got}`);
    }
  }
  // Stores: only reply (offset 4) and sk_txhash, 4 bytes.
  for (const [off, ok] of [[0, false], [4, true], [8, false], [164, true], [184, false]] as const) {
    const obj = synthetic([I(0x62, 1, 0, off, 1), MOV0, EXIT]); // *(u32 *)(r1 + off) = 1
    let threw = false;
    try {
      BpfKernel.load(obj, {});
    } catch {
      threw = true;
    }
    assert.equal(threw, !ok, `store at ${off}`);
  }
});

test('ctx pointer moved to another register and used there is still checked; arithmetic falls to the run-time check', () => {
  const moved = synthetic([I(0xbf, 6, 1), I(0x62, 6, 0, 0, 9), MOV0, EXIT]);
  assert.match(loadErr(moved, {}).message, /bpf_sock_ops\.op/);
});

test('unknown helper id, helper not allowed for the program type, unknown kfunc, kfunc from non-GPL', () => {
  const unknown = synthetic([I(0x85, 0, 0, 0, 9999), EXIT]);
  assert.match(loadErr(unknown, {}).message, /invalid func unknown#9999/);
  const e = loadErr(fixture('probes.bpf.o'), { sockops: 'rcvq_probe', profile: 'linux-7.1.5' });
  assert.match(e.message, /program of this type cannot use helper bpf_skb_load_bytes#26/);
  assert.match(e.message, /probes\.bpf\.c:\d+/);
  const k = loadErr(fixture('bad_kfunc.bpf.o'), {});
  assert.match(k.message, /unknown kfunc bpf_sock_ops_no_such_kfunc/);
  const g = loadErr(fixture('nongpl_kfunc.bpf.o'), {});
  assert.match(g.message, /cannot call kernel function bpf_cast_to_kern_ctx from non-GPL compatible program/);
  const p = loadErr(synthetic([I(0x85, 0, 0, 0, 6), EXIT], { license: 'Proprietary' }), {});
  assert.match(p.message, /GPL-restricted function bpf_trace_printk#6/);
});

test('program selection: missing name lists the programs; several sock_ops programs need a name; wrong section', () => {
  const obj = fixture('probes.bpf.o');
  const missing = loadErr(obj, { sockops: 'nope' });
  assert.match(missing.message, /no program named nope/);
  assert.match(missing.message, /read_ctx \(SEC\("sockops"\)\)/);
  assert.match(missing.message, /setsockopt_hook \(SEC\("cgroup\/setsockopt"\)\)/);
  assert.match(loadErr(obj, {}).message, /SEC\("sockops"\) programs in the object/);
  assert.match(loadErr(obj, { sockops: 'setsockopt_hook' }).message, /must be SEC\("sockops"\)/);
  assert.match(loadErr(obj, { sockops: 'read_ctx', setsockopt: 'read_ctx' }).message, /must be SEC\("cgroup\/setsockopt"\)/);
  const only = BpfKernel.load(synthetic([MOV0, EXIT]), {});
  assert.equal(only.sockopsProgram?.name, 'synthetic', 'the only SEC("sockops") program is picked');
  const none = synthetic([MOV0, EXIT], { section: 'cgroup/setsockopt' });
  assert.match(loadErr(none, {}).message, /no SEC\("sockops"\) program in the object; programs there: synthetic/);
});
