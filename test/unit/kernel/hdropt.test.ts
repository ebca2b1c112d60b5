// Header-option helpers, sockmap updates, perf output and netns cookie: per-op errors and
// argument checks (net/core/filter.c bpf_sock_ops_{load,store,reserve}_hdr_opt, net/core/sock_map.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfKernel } from '../../../debugger/kernel/bpf';
import { table } from '../../../sockops';
import { fixture, inv, results, signed, TestSock } from './util';
import { makeSkb } from './sockmodel';

const RCVQ = table().op('RCVQ_CB')!.value;
const E = { EPERM: -1, E2BIG: -7, EBUSY: -16, EINVAL: -22, ENOSPC: -28, ENOMSG: -42, EOPNOTSUPP: -95 };
// Slots: 0 load exp, 1 load NOP kind, 2 load bad flags, 3 reserve, 4 reserve flags, 5 store, 6 sock_hash_update,
// 7 perf output current CPU, 8 perf output index 7, 9 netns cookie.
function runAt(op: number, sock = new TestSock()) {
  const k = BpfKernel.load(fixture('hdropt.bpf.o'), {});
  const out = k.sockOps(sock, inv(op, makeSkb(1, new Uint8Array(4))))!;
  return { r: results(k).slice(0, 10).map(signed), k, out, sock };
}

test('HDR_OPT_LEN_CB: reserve works, load is refused after its argument checks, store is refused', () => {
  const { r } = runAt(14);
  assert.equal(r[0], E.EPERM);
  assert.equal(r[1], E.EINVAL, 'a NOP search kind is an argument error before the op check');
  assert.equal(r[2], E.EINVAL);
  assert.equal(r[3], 0);
  assert.equal(r[4], E.EINVAL);
  assert.equal(r[5], E.EPERM);
  assert.equal(r[6], E.EOPNOTSUPP);
});

test('WRITE_HDR_OPT_CB: load walks the (empty) options, store checks the space, reserve refused', () => {
  const { r } = runAt(15);
  assert.equal(r[0], E.ENOMSG);
  assert.equal(r[3], E.EPERM);
  assert.equal(r[5], E.ENOSPC);
});

test('RCVQ_CB: every header-option helper and sockmap update is refused', () => {
  const { r } = runAt(RCVQ);
  assert.equal(r[0], E.EOPNOTSUPP);
  assert.equal(r[3], E.EPERM);
  assert.equal(r[5], E.EPERM);
  assert.equal(r[6], E.EOPNOTSUPP);
});

test('sock_hash_update at PASSIVE_ESTABLISHED: the socket joins; with RCVQ_CB on it is refused (-EBUSY)', () => {
  const { r, sock, k } = runAt(5);
  assert.equal(r[6], 0);
  assert.equal(sock.in_sockmap, true);
  assert.equal(k.maps().find((m) => m.def.name === 'socks')!.entries().length, 1);
  const s = new TestSock();
  s.bpf_sock_ops_cb_flags = 0x80;
  assert.equal(runAt(5, s).r[6], E.EBUSY);
  assert.equal(s.in_sockmap, false);
});

test('perf_event_output captures the record; an index beyond the array is -E2BIG; netns cookie', () => {
  const { r, k } = runAt(5);
  assert.equal(r[7], 0);
  assert.equal(r[8], E.E2BIG);
  const ev = k.maps().find((m) => m.def.name === 'events')!.entries();
  assert.equal(ev.length, 1);
  assert.equal(new DataView(ev[0]!.value.buffer, ev[0]!.value.byteOffset).getBigUint64(0, true), 0x1122334455667788n);
  assert.equal(r[9], 1);
});

test('load_hdr_opt: the table and the emulator read the same row: argument checks, then -EPERM without an skb', () => {
  const t = table();
  const h = t.helper('bpf_load_hdr_opt')!;
  // PASSIVE_ESTABLISHED_CB has its skb except under TCP_REPAIR: a run without one gets -EPERM,
  // unless an argument is bad (-EINVAL first).
  const k = BpfKernel.load(fixture('hdropt.bpf.o'), {});
  assert.deepEqual(k.warnings.filter((w) => /argument checks/.test(w)), []);
  const out = k.sockOps(new TestSock(), inv(5, null))!;
  const r = results(k).slice(0, 3).map(signed);
  assert.deepEqual(r, [E.EPERM, E.EINVAL, E.EINVAL]);
  assert.equal(out.trace.helpers[0]!.errno, 'EPERM');
  const rule = t.callAt(h, 5, [0, 0, 4, 0], { skb: false });
  assert.ok(rule.result === E.EPERM && rule.rule.afterArgChecks && rule.rule.whenNoSkb);
  assert.equal(t.callAt(h, 5, [0, 0, 4, 0], { skb: true }).result, 'ok');
  assert.equal(t.callAt(h, 5, [0, 0, 4, 0]).result, 'ok', 'statically the op has its skb');
  // TCP_CONNECT_CB never has an skb: the same order.
  const k3 = BpfKernel.load(fixture('hdropt.bpf.o'), {});
  k3.sockOps(new TestSock(), inv(3, null));
  assert.deepEqual(results(k3).slice(0, 3).map(signed), [E.EPERM, E.EINVAL, E.EINVAL]);
  assert.equal(t.callAt(h, 3, [0, 0, 4, 0]).result, E.EPERM);
  const { r: with5 } = runAt(5);
  assert.equal(with5[0], E.ENOMSG, 'with its skb the search runs (no options: -ENOMSG)');
});
