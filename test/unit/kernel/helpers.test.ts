// Helpers: success and error paths, with the per-op gates from the sockops table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops';
import { inv, probes, results, signed, TestSock } from './util';

const RCVQ = table().op('RCVQ_CB')!.value;
const PASSIVE_ESTABLISHED = 5;
const E = { EPERM: -1, ENOENT: -2, E2BIG: -7, EFAULT: -14, EEXIST: -17, EINVAL: -22, EOPNOTSUPP: -95, EUCLEAN: -117 };

test('map helpers: flags, errnos, live values, array rules', () => {
  const k = probes({ sockops: 'maps_probe' });
  const out = k.sockOps(new TestSock(), inv(PASSIVE_ESTABLISHED))!;
  const r = results(k).map(signed);
  assert.equal(r[0], 0, 'NOEXIST on a new key');
  assert.equal(r[1], E.EEXIST, 'NOEXIST on an existing key');
  assert.equal(r[2], E.ENOENT, 'EXIST on a missing key');
  assert.equal(r[3], E.E2BIG, 'hash full (max_entries 2)');
  assert.equal(r[4], E.EINVAL, 'unknown flags');
  assert.equal(r[5], 105, 'a write through the lookup pointer is seen by the next lookup');
  assert.equal(r[6], 1, 'missing key: NULL');
  assert.equal(r[7], 0, 'delete');
  assert.equal(r[8], E.ENOENT, 'delete again');
  assert.equal(r[9], E.E2BIG, 'array index >= max_entries');
  assert.equal(r[10], E.EEXIST, 'array NOEXIST');
  assert.equal(r[11], E.EINVAL, 'array delete');
  assert.equal(r[12], 3, 'atomic add on an array value');
  const flows = k.maps().find((m) => m.def.name === 'flows')!.entries();
  assert.equal(flows.length, 1);
  assert.deepEqual([...flows[0]!.key], [1, 0, 0, 0]);
  assert.equal(new DataView(flows[0]!.value.buffer, flows[0]!.value.byteOffset).getBigUint64(0, true), 105n);
  assert.equal(k.maps().find((m) => m.def.name === 'counters')!.entries().length, 4);
  const names = out.trace.helpers.map((h) => h.name);
  assert.equal(names.filter((n) => n === 'bpf_map_update_elem').length, 8);
  const eexist = out.trace.helpers.find((h) => h.errno === 'EEXIST')!;
  assert.equal(signed(eexist.ret), E.EEXIST);
  assert.ok(eexist.pc > 0);
});

test('printk: formatted text captured, bad formats fail with -EINVAL', () => {
  const k = probes({ sockops: 'maps_probe' });
  const s = new TestSock();
  const out = k.sockOps(s, inv(PASSIVE_ESTABLISHED))!;
  const r = results(k).map(signed);
  assert.deepEqual(out.trace.printk, ['op 5 port 4660 hex ff', 'v -1 abc']);
  assert.equal(r[13], 'op 5 port 4660 hex ff'.length);
  assert.equal(r[14], E.EINVAL, '%q is refused by bpf_bprintf_prepare');
  assert.equal(r[21], 'v -1 abc'.length);
  assert.deepEqual(k.printk().map((l) => l.text), ['op 5 port 4660 hex ff', 'v -1 abc']);
  assert.equal(k.printk()[0]!.op, PASSIVE_ESTABLISHED);
});

test('prandom, clock, cookie, cpu: deterministic for a seed', () => {
  const run = (seed: number) => {
    const k = probes({ sockops: 'maps_probe', seed });
    k.sockOps(new TestSock(3), inv(PASSIVE_ESTABLISHED));
    return results(k);
  };
  const a = run(1);
  const b = run(1);
  const c = run(2);
  assert.equal(a[15], b[15]);
  assert.equal(a[16], b[16]);
  assert.notEqual(a[15], a[16]);
  assert.notEqual(a[15], c[15]);
  assert.ok(a[15]! < 2n ** 32n);
  assert.ok(a[18]! > a[17]!, 'ktime advances');
  assert.equal(a[19], 0x1003n, 'bpf_get_socket_cookie');
  assert.equal(a[20], 0n);
  let t = 5000n;
  const k = probes({ sockops: 'maps_probe', clock: { nowNs: () => (t += 10n) } });
  k.sockOps(new TestSock(), inv(PASSIVE_ESTABLISHED));
  assert.deepEqual([results(k)[17], results(k)[18]], [5010n, 5020n]);
});

test('sk_storage: one storage per socket whichever pointer names it; F_CREATE copies the initial value', () => {
  const k = probes({ sockops: 'storage_probe' });
  const s = new TestSock(4);
  s.rcv_nxt = 4242;
  k.sockOps(s, inv(PASSIVE_ESTABLISHED));
  const r = results(k).map(signed);
  assert.equal(r[32], 1, 'flags > F_CREATE: NULL');
  assert.equal(r[29], 1, 'no storage and no F_CREATE: NULL');
  assert.equal(r[24], 1);
  assert.equal(r[25], 1, 'lookup through the tcp_sock pointer finds it');
  assert.equal(r[26], 1, 'same pointer');
  assert.equal(r[27], 0xfeed, 'initial value copied');
  assert.equal(r[28], 2, 'both increments hit one value');
  assert.equal(r[33], 4242, 'bpf_tcp_sock()->rcv_nxt');
  assert.equal(r[30], 0);
  assert.equal(r[31], E.ENOENT);
  assert.equal(r[34], 1, 'gone after delete');
  assert.deepEqual(k.skStorage(4), []);
});

// Slots of sockopt_probe.
const O = { SET_LOWAT: 40, GET_LOWAT: 41, LOWAT_VAL: 42, SET_BADLEN: 43, GET_BADLEVEL: 44, GET_BADLEVEL_BUF: 45, SET_CBF: 46,
  SET_CBF_BAD: 47, CBF_AFTER: 48, CBSET_RET: 49, CBSET_FLAGS: 50, NODELAY: 51, SET_RCVBUF: 52, RCVBUF_VAL: 53,
  SET_NEG_LOWAT: 54, NEG_LOWAT_VAL: 55 };

test('bpf_setsockopt/getsockopt at a locked op: SO_RCVLOWAT, SO_RCVBUF, TCP_NODELAY, cb flags', () => {
  const k = probes({ sockops: 'sockopt_probe' });
  const s = new TestSock();
  const out = k.sockOps(s, inv(PASSIVE_ESTABLISHED))!;
  const r = results(k).map(signed);
  assert.equal(r[O.SET_LOWAT], 0);
  assert.equal(r[O.GET_LOWAT], 0);
  assert.equal(r[O.LOWAT_VAL], 1000);
  assert.ok(s.calls.includes('setRcvlowat(1000, wakeup=true)'), 'sk_setsockopt -> tcp_set_rcvlowat with its wakeup check');
  assert.equal(r[O.SET_BADLEN], E.EINVAL, 'optlen 8 for an int option');
  assert.equal(r[O.GET_BADLEVEL], E.EINVAL);
  assert.equal(r[O.GET_BADLEVEL_BUF], 0, 'getsockopt zeroes optval on error');
  assert.equal(r[O.SET_CBF_BAD], E.EINVAL, 'unknown bit: all-or-nothing');
  assert.equal(r[O.SET_CBF], 0);
  assert.equal(r[O.CBF_AFTER], 0x04, 'the ctx read after the helper sees the new flags');
  assert.equal(r[O.CBSET_RET], 0x100, 'cb_flags_set returns the unsupported bits');
  assert.equal(r[O.CBSET_FLAGS], 0x02);
  assert.equal(s.bpf_sock_ops_cb_flags, 0x02);
  assert.equal(r[O.NODELAY], 0);
  assert.equal(s.tcp_nodelay, true);
  assert.equal(r[O.SET_RCVBUF], 0);
  assert.equal(r[O.RCVBUF_VAL], 10000, 'SO_RCVBUF doubles the value');
  assert.equal(s.rcvbuf_locked, true);
  assert.equal(r[O.SET_NEG_LOWAT], 0);
  assert.equal(r[O.NEG_LOWAT_VAL], 5000, 'negative -> INT_MAX, capped at rcvbuf/2 once the rcvbuf is locked');
  assert.ok(out.trace.helpers.some((h) => h.name === 'bpf_setsockopt' && h.errno === 'EINVAL'));
});

test('bpf_setsockopt/getsockopt at RCVQ_CB: -EOPNOTSUPP (is_locked_tcp_sock_ops unchanged); cb_flags_set works', () => {
  const k = probes({ sockops: 'sockopt_probe' });
  const s = new TestSock();
  s.bpf_sock_ops_cb_flags = 0x80;
  k.sockOps(s, inv(RCVQ, null));
  const r = results(k).map(signed);
  for (const slot of [O.SET_LOWAT, O.GET_LOWAT, O.SET_CBF, O.NODELAY, O.SET_RCVBUF]) assert.equal(r[slot], E.EOPNOTSUPP);
  assert.equal(results(k)[O.GET_BADLEVEL_BUF], 0x5555555555555555n, 'the op check returns before zeroing');
  assert.equal(r[O.CBSET_RET], 0x100);
  assert.equal(s.bpf_sock_ops_cb_flags, 0x02, 'the program turned RCVQ_CB off itself');
  assert.equal(s.sk_rcvlowat, 1);
});

test('cb flags: enabling RCVQ_CB with a non-empty receive queue fails with -EUCLEAN', () => {
  const k = probes({ sockops: 'sockopt_probe' });
  const s = new TestSock();
  s.receiveQueue.push({ seq: 1, endSeq: 2, tcpFlags: 0, payload: new Uint8Array(1), id: 1 });
  // The probe sets 0x04 via setsockopt then 0x102 via cb_flags_set; neither has RCVQ: both work.
  k.sockOps(s, inv(PASSIVE_ESTABLISHED));
  assert.equal(s.bpf_sock_ops_cb_flags, 0x02);
  // A setsockopt(2) through the cgroup hook turns it on: refused while data is queued.
  const k2 = probes({ sockops: 'read_ctx', setsockopt: 'setsockopt_hook' });
  const res = k2.setsockopt(s, { level: 0xdeadbeef | 0, optname: 0x8badf00d | 0, optval: new Uint8Array(4), label: 'setsockopt' })!;
  assert.equal(res.action, 'consumed');
  assert.equal(signed(results(k2)[58]!), E.EUCLEAN);
  assert.equal(s.bpf_sock_ops_cb_flags & 0x80, 0);
});
