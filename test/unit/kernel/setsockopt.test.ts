// cgroup/setsockopt: struct bpf_sockopt, optlen -1 consumes, 0 return -> EPERM, bad optlen -> EFAULT
// (kernel/bpf/cgroup.c __cgroup_bpf_run_filter_setsockopt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probes, results, signed, TestSock, u32le } from './util';

const C = { GET_RET: 56, FLAGS_BEFORE: 57, SET_RET: 58, STORAGE: 59 };
const opt = (level: number, optname: number, optval: Uint8Array) => ({ level, optname, optval, label: `setsockopt(${level}, ${optname})` });

test('custom option enables RCVQ_CB through bpf_setsockopt and is consumed', () => {
  const k = probes({ setsockopt: 'setsockopt_hook', sockops: 'read_ctx' });
  const s = new TestSock();
  s.bpf_sock_ops_cb_flags = 0x04;
  const r = k.setsockopt(s, opt(0xdeadbeef | 0, 0x8badf00d | 0, u32le(1)))!;
  assert.equal(r.action, 'consumed');
  assert.equal(r.trace!.program, 'setsockopt_hook');
  const res = results(k).map(signed);
  assert.equal(res[C.GET_RET], 0);
  assert.equal(res[C.FLAGS_BEFORE], 0x04);
  assert.equal(res[C.SET_RET], 0);
  assert.equal(res[C.STORAGE], 1);
  assert.equal(s.bpf_sock_ops_cb_flags, 0x84);
  assert.ok(s.calls.includes('setCbFlags(0x84)'));
  assert.equal(k.skStorage(s.id).length, 1, 'sk_storage created from the cgroup hook');
});

test('SO_RCVLOWAT rewritten by the program reaches the kernel with the new value', () => {
  const k = probes({ setsockopt: 'setsockopt_hook', sockops: 'read_ctx' });
  const r = k.setsockopt(new TestSock(), opt(1, 18, u32le(7)))!;
  assert.equal(r.action, 'kernel');
  assert.equal(r.level, 1);
  assert.equal(r.optname, 18);
  assert.deepEqual([...r.optval], [100, 0, 0, 0]);
});

test('program returns 0: EPERM; optlen beyond the buffer: EFAULT; untouched: kernel with the original value', () => {
  const k = probes({ setsockopt: 'setsockopt_hook', sockops: 'read_ctx' });
  const s = new TestSock();
  const eperm = k.setsockopt(s, opt(2, 1, u32le(1)))!;
  assert.equal(eperm.action, 'eperm');
  assert.equal(eperm.errno, -1);
  const efault = k.setsockopt(s, opt(3, 1, u32le(1)))!;
  assert.equal(efault.action, 'eperm');
  assert.equal(efault.errno, -14);
  const pass = k.setsockopt(s, opt(6, 1, u32le(1)))!;
  assert.equal(pass.action, 'kernel');
  assert.deepEqual([...pass.optval], [1, 0, 0, 0]);
});

test('no setsockopt program attached: null', () => {
  const k = probes({ sockops: 'read_ctx' });
  assert.equal(k.setsockopt(new TestSock(), opt(1, 18, u32le(1))), null);
});

test('bpf_set_retval: an errno it set is what setsockopt returns (bpf_prog_run_array_cg, __cgroup_bpf_run_filter_setsockopt)', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { loadObject } = await import('../../../debugger/object');
  const { BpfKernel } = await import('../../../debugger/kernel/bpf');
  const obj = loadObject(new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures/after_helpers.bpf.o'))), 'after_helpers.bpf.o');
  const k = BpfKernel.load(obj, { sockops: 'after_helpers', setsockopt: 'retval_probe' });
  const s = new TestSock();
  const run = (optname: number) => k.setsockopt(s, opt(6, optname, u32le(1)))!;
  const euclean = run(1);
  assert.deepEqual([euclean.action, euclean.errno], ['eperm', -117], 'returned 0 after bpf_set_retval(-EUCLEAN)');
  assert.deepEqual([run(2).action, run(2).errno], ['eperm', -1], 'returned 0, retval untouched: -EPERM');
  assert.deepEqual([run(3).action, run(3).errno], ['eperm', -22], 'returned 1 but set -EINVAL: the call still fails');
  assert.deepEqual([run(4).action, run(4).errno], ['eperm', -1], 'returned 0 with a retval that is no errno: -EPERM');
  assert.equal(run(5).action, 'consumed', 'a positive retval: do_sock_setsockopt skips the kernel handler and returns 0');
  assert.deepEqual([run(6).action, run(6).errno], ['eperm', -1]);
  const r = results(k).map(signed);
  assert.equal(r[20], 0, 'bpf_get_retval() starts at 0 for setsockopt');
  assert.equal(r[21], -1, 'and reads back what bpf_set_retval() stored');
  assert.equal(run(7).action, 'kernel', 'an untouched call reaches the kernel');
  const helpers = euclean.trace!.helpers.map((h) => h.name);
  assert.deepEqual(helpers, ['bpf_set_retval']);
});
