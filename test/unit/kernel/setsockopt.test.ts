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
