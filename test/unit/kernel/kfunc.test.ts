// kfuncs and BTF-laid-out kernel objects: bpf_cast_to_kern_ctx(...)->skb->cb as struct
// tcp_skb_cb through bpf_core_cast, bpf_skc_to_tcp_sock reads, bpf_sock_ops_tcp_set_rcvlowat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops';
import { inv, probes, results, signed, TestSock, u32le } from './util';
import { makeSkb } from './sockmodel';

const RCVQ = table().op('RCVQ_CB')!.value;
const Q = { SEQ: 32, END_SEQ: 33, TCPFLAGS: 34, SKBLEN: 35, LOAD_RET: 36, DESC0: 37, DESC1: 38, RCVNXT: 39, COPIED: 40,
  LOWAT_BEFORE: 41, KFUNC_RET: 42, LOWAT_AFTER: 43, CB_FLAGS: 44, KERN_OP: 45, KERN_FULLSOCK: 46, HAVE_SKB: 47,
  BAD_LOAD_RET: 48, BAD_DESC0: 49, KERN_LOCKED: 50 };

test('enqueue call: skb->cb as tcp_skb_cb, payload through bpf_skb_load_bytes, live rcvlowat after the kfunc', () => {
  const k = probes({ sockops: 'rcvq_probe' });
  const s = new TestSock();
  s.rcv_nxt = 1028;
  s.bpf_sock_ops_cb_flags = 0x80;
  const skb = makeSkb(1008, u32le(100, 150, 1, 2, 3), 3, 0x18);
  const out = k.sockOps(s, inv(RCVQ, skb))!;
  assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
  const r = results(k).map(signed);
  assert.equal(r[Q.HAVE_SKB], 1);
  assert.equal(r[Q.SEQ], 1008);
  assert.equal(r[Q.END_SEQ], 1028);
  assert.equal(r[Q.TCPFLAGS], 0x18);
  assert.equal(r[Q.SKBLEN], 20);
  assert.equal(r[Q.LOAD_RET], 0);
  assert.equal(r[Q.DESC0], 100);
  assert.equal(r[Q.DESC1], 150);
  assert.equal(r[Q.BAD_LOAD_RET], -14, 'out of range: -EFAULT');
  assert.equal(r[Q.BAD_DESC0], 0, 'and the buffer is zero-filled');
  assert.equal(r[Q.RCVNXT], 1028);
  assert.equal(r[Q.COPIED], 1000);
  assert.equal(r[Q.LOWAT_BEFORE], 1);
  assert.equal(r[Q.KFUNC_RET], 0);
  assert.equal(r[Q.LOWAT_AFTER], 258, 'a read after the kfunc sees the new sk_rcvlowat');
  assert.equal(r[Q.CB_FLAGS], 0x80);
  assert.equal(r[Q.KERN_OP], RCVQ);
  assert.equal(r[Q.KERN_FULLSOCK], 1);
  assert.equal(r[Q.KERN_LOCKED], 1);
  assert.deepEqual(s.calls, ['setRcvlowat(258, wakeup=false)'], 'no wakeup on the enqueue path');
  const kf = out.trace.helpers.find((h) => h.name === 'bpf_sock_ops_tcp_set_rcvlowat')!;
  assert.equal(kf.args[1], 258n);
  assert.equal(out.trace.helpers.find((h) => h.name === 'bpf_skb_load_bytes' && h.errno)!.errno, 'EFAULT');
});

test('recvmsg call: skb NULL, bpf_skb_load_bytes -EFAULT with zero fill, kfunc wakes up', () => {
  const k = probes({ sockops: 'rcvq_probe' });
  const s = new TestSock();
  k.sockOps(s, inv(RCVQ, null));
  const r = results(k).map(signed);
  assert.equal(r[Q.HAVE_SKB], 0);
  assert.equal(r[Q.LOAD_RET], -14);
  assert.equal(r[Q.DESC0], 0);
  assert.equal(r[Q.DESC1], 0);
  assert.deepEqual(s.calls, ['setRcvlowat(258, wakeup=true)']);
});

test('bpf_sock_ops_tcp_set_rcvlowat: negative -> INT_MAX at RCVQ_CB; -EOPNOTSUPP at another op', () => {
  const k = probes({ sockops: 'kfunc_any_op' });
  const s = new TestSock();
  const at = k.sockOps(s, inv(RCVQ, null))!;
  assert.equal(at.ret, 0);
  assert.deepEqual(s.calls, [`setRcvlowat(${0x7fffffff}, wakeup=true)`]);
  const s2 = new TestSock();
  const off = k.sockOps(s2, inv(4))!;
  assert.equal(off.ret, -95, 'reply holds the kfunc result');
  assert.deepEqual(s2.calls, [], 'the socket is untouched');
  assert.equal(off.trace.helpers.at(-1)!.errno, 'EOPNOTSUPP');
});
