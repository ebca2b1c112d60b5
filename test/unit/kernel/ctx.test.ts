// struct bpf_sock_ops as the program reads it (sock_ops_convert_ctx_access in net/core/filter.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops';
import { inv, probes, results, TestSock, u32le } from './util';
import { makeSkb } from './sockmodel';

// Slot indices of probes.bpf.c read_ctx.
const R = {
  OP: 0, ARG0: 1, ARG3: 2, FAMILY: 3, RIP4: 4, LIP4: 5, RIP6_0: 6, RIP6_3: 7, RPORT: 8, LPORT: 9, FULLSOCK: 10, CWND: 11,
  SRTT: 12, CBFLAGS: 13, STATE: 14, RCVNXT: 15, SNDNXT: 16, SNDUNA: 17, MSS: 18, SEGSIN: 19, TXHASH: 20, BYTESRCV: 21,
  BYTESACK: 22, SKNULL: 23, SKFAMILY: 24, SKDPORT: 25, SKSPORT: 26, SKSTATE: 27, DATA_EQ: 28, SKBLEN: 29, TCPFLAGS: 30,
  TCPFLAGS_B: 31, DATASEGS: 32,
};
const RCVQ = table().op('RCVQ_CB')!.value;

test('RCVQ_CB enqueue: every field as the kernel converts it', () => {
  const k = probes({ sockops: 'read_ctx' });
  const s = new TestSock(1, 'inet6');
  s.bpf_sock_ops_cb_flags = 0x80;
  s.bytes_received = 0x1_0000_0005n;
  const skb = makeSkb(1000, u32le(100, 150, 0, 0, 0), 7, 0x19);
  const out = k.sockOps(s, inv(RCVQ, skb, [11, 0, 0, 33]))!;
  const r = results(k);
  assert.equal(r[R.OP], BigInt(RCVQ));
  assert.equal(r[R.ARG0], 11n);
  assert.equal(r[R.ARG3], 33n);
  assert.equal(r[R.FAMILY], 10n);
  // IPv4 addresses in network byte order: 10.0.0.2 reads as 0x0200000a on little-endian.
  assert.equal(r[R.RIP4], 0x0200000an);
  assert.equal(r[R.LIP4], 0x0100000an);
  assert.equal(r[R.RIP6_0], 0xb80d0120n);
  assert.equal(r[R.RIP6_3], 0x02000000n);
  // remote_port: network-order port in the upper 16 bits; bpf_ntohl() gives 0x1234.
  assert.equal(r[R.RPORT], 0x34120000n);
  assert.equal(r[R.LPORT], 8080n);
  assert.equal(r[R.FULLSOCK], 1n);
  assert.equal(r[R.CWND], 10n);
  assert.equal(r[R.SRTT], 800n);
  assert.equal(r[R.CBFLAGS], 0x80n);
  assert.equal(r[R.STATE], 1n);
  assert.equal(r[R.RCVNXT], 1000n);
  assert.equal(r[R.SNDNXT], 5000n);
  assert.equal(r[R.SNDUNA], 4990n);
  assert.equal(r[R.MSS], 1448n);
  assert.equal(r[R.SEGSIN], 3n);
  assert.equal(r[R.DATASEGS], 1n);
  assert.equal(r[R.BYTESRCV], 0x1_0000_0005n);
  assert.equal(r[R.SKNULL], 0n);
  assert.equal(r[R.SKFAMILY], 10n);
  assert.equal(r[R.SKDPORT], 0x3412n, 'bpf_sock.dst_port is a __be16');
  assert.equal(r[R.SKSPORT], 8080n, 'bpf_sock.src_port is host order');
  assert.equal(r[R.SKSTATE], 1n);
  assert.equal(r[R.DATA_EQ], 1n, 'skb_data == skb_data_end at RCVQ_CB (end_offset 0)');
  assert.equal(r[R.SKBLEN], 20n);
  assert.equal(r[R.TCPFLAGS], 0x19n);
  assert.equal(r[R.TCPFLAGS_B], 0x19n, 'a 1-byte load of skb_tcp_flags is allowed');
  // sk_txhash written at a locked op reaches the socket; reply is what tcp_call_bpf returns.
  assert.equal(r[R.TXHASH], 0x1234n);
  assert.equal(s.sk_txhash, 0x1234);
  assert.equal(out.ret, 42);
  assert.equal(out.trace.r0, 1n);
  assert.equal(out.trace.fault, undefined);
});

test('recvmsg call (skb NULL): skb fields read 0', () => {
  const k = probes({ sockops: 'read_ctx' });
  k.sockOps(new TestSock(), inv(RCVQ, null));
  const r = results(k);
  assert.equal(r[R.SKBLEN], 0n);
  assert.equal(r[R.TCPFLAGS], 0n);
  assert.equal(r[R.DATA_EQ], 1n);
  assert.equal(r[R.RCVNXT], 1000n);
});

test('op without is_locked_tcp_sock (TSTAMP_SND_SW_CB): TCP fields read 0, sk_txhash store skipped', () => {
  const k = probes({ sockops: 'read_ctx' });
  const s = new TestSock(2, 'inet');
  s.bpf_sock_ops_cb_flags = 0x04;
  k.sockOps(s, inv(17, makeSkb(1, new Uint8Array(3))));
  const r = results(k);
  assert.equal(r[R.FULLSOCK], 1n);
  for (const f of ['CWND', 'SRTT', 'CBFLAGS', 'RCVNXT', 'SNDNXT', 'SNDUNA', 'MSS', 'SEGSIN', 'BYTESRCV', 'BYTESACK'] as const) {
    assert.equal(r[R[f]], 0n, `${f} reads 0 when not locked`);
  }
  assert.equal(s.sk_txhash, 0, 'SOCK_OPS_SET_FIELD skips the store');
  assert.equal(r[R.STATE], 1n, 'state is not gated');
  assert.equal(r[R.FAMILY], 2n);
  assert.equal(r[R.SKNULL], 0n, 'sk is gated by is_fullsock only');
  assert.equal(r[R.SKBLEN], 3n);
});

test('op on a request sock (NEEDS_ECN): sk is NULL', () => {
  const k = probes({ sockops: 'read_ctx' });
  const out = k.sockOps(new TestSock(), inv(6))!;
  const r = results(k);
  assert.equal(r[R.SKNULL], 1n);
  assert.equal(r[R.FULLSOCK], 0n);
  assert.equal(r[R.RCVNXT], 0n);
  assert.equal(out.ret, 42);
});

test('kernel objects are per socket: two sockets keep their own values', () => {
  const k = probes({ sockops: 'read_ctx' });
  const a = new TestSock(1);
  const b = new TestSock(2);
  b.rcv_nxt = 77;
  k.sockOps(a, inv(4));
  assert.equal(results(k)[R.RCVNXT], 1000n);
  k.sockOps(b, inv(4));
  assert.equal(results(k)[R.RCVNXT], 77n);
});

test('a request-sock invocation at an op whose row says is_fullsock varies (RWND_INIT): sk NULL, TCP fields 0', () => {
  const k = probes({ sockops: 'read_ctx' });
  k.sockOps(new TestSock(), { ...inv(2), fullsock: false });
  const r = results(k);
  assert.equal(r[R.FULLSOCK], 0n);
  assert.equal(r[R.SKNULL], 1n);
  assert.equal(r[R.RCVNXT], 0n, 'is_locked_tcp_sock follows is_fullsock at tcp_call_bpf ops');
  assert.equal(r[R.STATE], 1n, 'state has no gate');
  k.sockOps(new TestSock(), inv(2));
  assert.equal(results(k)[R.FULLSOCK], 1n, 'a full socket by default');
  k.sockOps(new TestSock(), { ...inv(4), fullsock: false });
  assert.equal(results(k)[R.FULLSOCK], 1n, 'the row decides where it does not vary (ACTIVE_ESTABLISHED_CB: full)');
});
