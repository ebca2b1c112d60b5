// One socket at one address through every view of it, the patterns of the series' sock_ops
// selftest (test/fixtures/kernel-patterns/patterns.bpf.c): bpf_tcp_sock + bpf_core_cast,
// ctx->sk + bpf_core_cast, kern ctx skb->cb, sk_storage through different views, probe reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../../../debugger/object';
import { BpfKernel } from '../../../debugger/kernel/bpf';
import { probeReadText } from '../../../debugger/sim';
import { table } from '../../../sockops';
import { inv, signed, TestSock, u32le } from './util';
import { makeSkb } from './sockmodel';

const DIR = join(import.meta.dirname, '../../fixtures/kernel-patterns');
const obj = loadObject(new Uint8Array(readFileSync(join(DIR, 'patterns.bpf.o'))), 'test/fixtures/kernel-patterns/patterns.bpf.o');
const SRC = readFileSync(join(DIR, 'patterns.bpf.c'), 'utf8').split('\n');
/** ./patterns.bpf.c:N of the source line holding `text`. */
const at = (text: string) => `./patterns.bpf.c:${SRC.findIndex((l) => l.includes(text)) + 1}`;
const RCVQ = table().op('RCVQ_CB')!.value;
const S = { RAN: 0, BTP_IS_SK: 1, CAST_COPIED: 2, CAST_RCVNXT: 3, BTP_RCVNXT: 4, SK_FAMILY: 5, SAME_STORAGE: 6, PROBE: 7 };
const O = { RAN: 16, CAST_COPIED: 17, CAST_LOWAT: 18, KERN_SK_IS_SK: 19, SEQ: 20, END_SEQ: 21, MARK: 22, SAME_STORAGE: 23,
  BTP_IS_SK: 24, TP_IS_SK: 25, BTP_CWND: 26, PROBE: 27, FLAGS_PROBE: 28 };

function res(k: BpfKernel): number[] {
  const bss = k.maps().find((m) => m.def.name === '.bss')!.entries()[0]!.value;
  const dv = new DataView(bss.buffer, bss.byteOffset, bss.byteLength);
  return Array.from({ length: bss.byteLength >> 3 }, (_, i) => signed(dv.getBigUint64(i * 8, true)));
}

function load(): BpfKernel {
  return BpfKernel.load(obj, { sockops: 'ops_patterns', setsockopt: 'set_patterns' });
}

test('cgroup/setsockopt: bpf_tcp_sock(ctx->sk) is the socket; core_cast reads tcp_sock; storage made through one view is found through the other', () => {
  const k = load();
  const s = new TestSock();
  s.copied_seq = 4242;
  s.rcv_nxt = 4300;
  const out = k.setsockopt(s, { level: 0x5ca1ab1e, optname: 7, optval: u32le(1), label: 'setsockopt' })!;
  assert.equal(out.trace!.fault, undefined, out.trace!.fault?.message);
  const r = res(k);
  assert.equal(r[S.RAN], 1);
  assert.equal(r[S.BTP_IS_SK], 1, 'bpf_tcp_sock() returns the socket\'s own address');
  assert.equal(r[S.CAST_COPIED], 4242);
  assert.equal(r[S.CAST_RCVNXT], 4300);
  assert.equal(r[S.BTP_RCVNXT], 4300, 'a bpf_tcp_sock load is converted to tcp_sock.rcv_nxt');
  assert.equal(r[S.SK_FAMILY], 10, 'a bpf_sock load is converted to skc_family');
  assert.equal(r[S.SAME_STORAGE], 1, 'sk_storage keyed by the bpf_tcp_sock and the bpf_sock views of one socket');
  assert.equal(r[S.PROBE], 7, 'sk_socket is NULL: the probe read through it gives 0');
  assert.deepEqual(out.trace!.probeRead && { line: out.trace!.probeRead.line, count: out.trace!.probeRead.count }, { line: at('sk_socket->flags + 7'), count: 1 });
  assert.equal(out.action, 'consumed');
});

test('sockops: core_cast(ctx->sk), kern ctx skb->cb, every pointer to the socket equal, storage from setsockopt', () => {
  const k = load();
  const s = new TestSock();
  s.copied_seq = 1000;
  s.sk_rcvlowat = 33;
  s.snd_cwnd = 17;
  assert.equal(k.setsockopt(s, { level: 0x5ca1ab1e, optname: 7, optval: u32le(1), label: 'enable' })!.trace!.fault, undefined);
  const out = k.sockOps(s, inv(RCVQ, makeSkb(1008, new Uint8Array(20))))!;
  assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
  const r = res(k);
  assert.equal(r[O.RAN], 1);
  assert.equal(r[O.CAST_COPIED], 1000);
  assert.equal(r[O.CAST_LOWAT], 33);
  assert.equal(r[O.KERN_SK_IS_SK], 1, 'bpf_cast_to_kern_ctx(skops)->sk is ctx->sk');
  assert.equal(r[O.SEQ], 1008);
  assert.equal(r[O.END_SEQ], 1028);
  assert.equal(r[O.MARK], 0x5151, 'the storage the setsockopt program made through bpf_tcp_sock');
  assert.equal(r[O.SAME_STORAGE], 1, 'ctx->sk and bpf_skc_to_tcp_sock() key the same storage');
  assert.equal(r[O.TP_IS_SK], 1);
  assert.equal(r[O.BTP_IS_SK], 1);
  assert.equal(r[O.BTP_CWND], 17);
  assert.equal(r[O.PROBE], 9);
  assert.equal(r[O.FLAGS_PROBE], 11, 'bpf_probe_read_kernel of a NULL pointer member fails and the buffer reads 0');
  const p = out.trace.probeRead!;
  assert.ok(p, 'the run says a probe read failed');
  assert.equal(p.line, at('sk_socket->flags + 9'));
  assert.equal(probeReadText(p), `probe read at ${at('sk_socket->flags + 9')} returned 0: address outside any kernel object (0x0, 8 bytes)`);
  // a run that fails no probe read says nothing
  const quiet = k.sockOps(s, inv(1, null));
  assert.equal(quiet!.trace.probeRead, undefined);
});

test('kernel-patterns fixture objects are up to date with their sources', { skip: spawnSync('clang-19', ['--version']).status === 0 ? false : 'clang-19 not installed' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'kpat-'));
  try {
    const r = spawnSync('sh', [join(DIR, 'build.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const o of readdirSync(DIR).filter((f) => f.endsWith('.o'))) {
      assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(DIR, o))), `${o} differs: run test/fixtures/kernel-patterns/build.sh`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bpf_cgrp_storage_get through sk->sk_cgrp_data.cgroup: one cgroup for every socket; NULL gives NULL; delete', () => {
  const k = BpfKernel.load(obj, { sockops: 'cgrp_patterns', profile: 'linux-7.1.5' });
  const C = { RUNS: 40, NULL_CGROUP: 41, DELETE: 42, DELETE_AGAIN: 43 };
  for (const [sock, want] of [[new TestSock(1), 1], [new TestSock(1), 2], [new TestSock(2), 3]] as const) {
    const out = k.sockOps(sock, inv(4))!;
    assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
    assert.equal(res(k)[C.RUNS], want, 'the counter lives in the cgroup, shared by the sockets');
    assert.equal(res(k)[C.NULL_CGROUP], 1);
  }
  const out = k.sockOps(new TestSock(3), inv(1))!;
  assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
  assert.equal(res(k)[C.RUNS], 4);
  assert.equal(res(k)[C.DELETE], 0);
  assert.equal(res(k)[C.DELETE_AGAIN], -2, '-ENOENT once deleted');
  k.sockOps(new TestSock(4), inv(4));
  assert.equal(res(k)[C.RUNS], 1, 'created again from zero');
});
