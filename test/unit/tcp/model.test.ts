// The TCP receive model against the kernel rules it mirrors, driven with a fake BpfHooks (no
// emulator): epoll readiness (tcp_epollin_ready), tcp_set_rcvlowat, the RCVQ_CB hook points,
// the out-of-order drain, FIN, the -EUCLEAN/-EBUSY/-EOPNOTSUPP rules, the passive open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops/index';
import { TcpModel, abiFromTable } from '../../../debugger/kernel/tcp/index';
import type { BpfHooks, ProgramRunTrace, SetsockoptInvocation, SetsockoptResult, SockModel, SockOpsInvocation } from '../../../debugger/kernel/types';

const t = table();
const abi = abiFromTable(t);
const OP = (n: string) => t.constant(n)!;
const RCVQ = OP('BPF_SOCK_OPS_RCVQ_CB');
const RCVQ_FLAG = t.cbFlag('BPF_SOCK_OPS_RCVQ_CB_FLAG')!.value;
const err = (n: string) => -t.profile.errnos.find((e) => e.name === n)!.value;

interface Call { op: number; skb: { seq: number; endSeq: number; len: number; flags: number } | null; copied_seq: number; rcv_nxt: number; state: number; queueLen: number }

/** A fake BPF side: records every call; `onOp` plays the program. */
class FakeHooks implements BpfHooks {
  calls: Call[] = [];
  onOp: ((sock: SockModel, inv: SockOpsInvocation) => void) | null = null;
  onSockopt: ((sock: SockModel, inv: SetsockoptInvocation) => SetsockoptResult | null) | null = null;
  sockOps(sock: SockModel, inv: SockOpsInvocation) {
    this.calls.push({ op: inv.op, skb: inv.skb && { seq: inv.skb.seq, endSeq: inv.skb.endSeq, len: inv.skb.payload.length, flags: inv.skb.tcpFlags }, copied_seq: sock.copied_seq, rcv_nxt: sock.rcv_nxt, state: sock.state, queueLen: sock.receiveQueue.length });
    this.onOp?.(sock, inv);
    return { ret: 1, trace: trace('fake', inv.op) };
  }
  setsockopt(sock: SockModel, inv: SetsockoptInvocation) {
    return this.onSockopt ? this.onSockopt(sock, inv) : null;
  }
}
function trace(program: string, op?: number): ProgramRunTrace {
  return { program, op, r0: 1n, insns: 1, helpers: [], printk: [] };
}

function established(opts: { seq?: number; rcvbuf?: number } = {}, hooks: FakeHooks | null = new FakeHooks()) {
  const m = new TcpModel(abi, { family: 'inet6', rcvbuf: opts.rcvbuf }, hooks);
  m.passiveOpen({ seq: opts.seq ?? 0 });
  return m;
}
const bytes = (n: number, v = 0) => new Uint8Array(n).fill(v);
const int = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); return b; };
/** setsockopt(SOL_SOCKET, SO_RCVBUF, val) from the application. */
const soRcvbuf = (m: TcpModel, val: number) => assert.equal(m.setsockopt(OP('SOL_SOCKET'), OP('SO_RCVBUF'), int(val)).ret, 0);

test('passive open runs LISTEN, RWND_INIT, TIMEOUT_INIT, NEEDS_ECN (SYN-ACK), PASSIVE_ESTABLISHED in order; request-sock ops see NEW_SYN_RECV', () => {
  const h = new FakeHooks();
  const m = new TcpModel(abi, { family: 'inet' }, h);
  m.passiveOpen({ seq: 1000 });
  assert.deepEqual(h.calls.map((c) => c.op), [OP('BPF_SOCK_OPS_TCP_LISTEN_CB'), OP('BPF_SOCK_OPS_RWND_INIT'), OP('BPF_SOCK_OPS_TIMEOUT_INIT'), OP('BPF_SOCK_OPS_NEEDS_ECN'), OP('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB')]);
  assert.equal(h.calls[0]!.state, OP('BPF_TCP_LISTEN'));
  assert.equal(h.calls[1]!.state, OP('BPF_TCP_NEW_SYN_RECV'));
  assert.equal(h.calls[3]!.state, OP('BPF_TCP_NEW_SYN_RECV'));
  assert.equal(h.calls[4]!.state, OP('BPF_TCP_SYN_RECV'));
  assert.equal(m.sock.state, OP('BPF_TCP_ESTABLISHED'));
  assert.equal(m.sock.rcv_nxt, 1000);
  assert.equal(m.sock.copied_seq, 1000);
});

test('STATE_CB fires on SYN_RECV -> ESTABLISHED only when the listener set STATE_CB_FLAG', () => {
  const h = new FakeHooks();
  h.onOp = (sock, inv) => { if (inv.op === OP('BPF_SOCK_OPS_TCP_LISTEN_CB')) sock.bpf_sock_ops_cb_flags |= t.cbFlag('BPF_SOCK_OPS_STATE_CB_FLAG')!.value; };
  const m = new TcpModel(abi, { family: 'inet6' }, h);
  const seen: number[][] = [];
  h.onOp = ((prev) => (sock: SockModel, inv: SockOpsInvocation) => { prev!(sock, inv); if (inv.op === OP('BPF_SOCK_OPS_STATE_CB')) seen.push([inv.args[0], inv.args[1]]); })(h.onOp);
  m.passiveOpen();
  assert.equal(h.calls.at(-1)!.op, OP('BPF_SOCK_OPS_STATE_CB'));
  assert.deepEqual(seen, [[OP('BPF_TCP_SYN_RECV'), OP('BPF_TCP_ESTABLISHED')]]);
});

test('fastopen data is queued by tcp_fastopen_add_skb after PASSIVE_ESTABLISHED_CB, and RCVQ_CB sees it when enabled there', () => {
  const h = new FakeHooks();
  h.onOp = (sock, inv) => { if (inv.op === OP('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB')) assert.equal(sock.setCbFlags(RCVQ_FLAG), 0); };
  const m = new TcpModel(abi, { family: 'inet6' }, h);
  m.passiveOpen({ seq: 0, fastopen: bytes(20, 7) });
  const ops = h.calls.map((c) => c.op);
  assert.deepEqual(ops.slice(-4), [OP('BPF_SOCK_OPS_TIMEOUT_INIT'), OP('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB'), RCVQ, OP('BPF_SOCK_OPS_NEEDS_ECN')], 'the SYN-ACK (NEEDS_ECN) goes out after the child took the data');
  assert.deepEqual(h.calls.at(-2)!.skb, { seq: 0, endSeq: 20, len: 20, flags: 0x10 });
  assert.equal(m.sock.readable(), 20);
  assert.equal(m.sock.wakeups, 0); // no tcp_data_ready before accept()
});

test('epoll: readable == rcvlowat is ready, one byte less is not (tcp_epollin_ready avail >= target)', () => {
  const m = established();
  m.sock.setRcvlowat(10, { wakeup: false });
  m.segment(0, bytes(9));
  assert.equal(m.sock.readable(), 9);
  assert.equal(m.sock.epollIn(), false);
  assert.equal(m.sock.wakeups, 0);
  m.segment(9, bytes(1));
  assert.equal(m.sock.epollIn(), true);
  assert.equal(m.sock.wakeups, 1);
});

test('epoll: memory pressure above 7/8 of sk_rcvbuf overrides rcvlowat (tcp_rmem_pressure)', () => {
  const m = established();
  const s = m.sock;
  s.setRcvlowat(100000, { wakeup: false });
  m.segment(0, bytes(10));
  s.sk_rcvbuf = 8000;
  s.sk_rmem_alloc = 7000; // threshold = 8000 - 8000/8 = 7000: not above
  assert.equal(s.rmemPressure(), false);
  assert.equal(s.epollIn(), false);
  s.sk_rmem_alloc = 7001;
  assert.equal(s.rmemPressure(), true);
  assert.equal(s.epollIn(), true);
  s.sk_rmem_alloc = 10;
  s.memoryPressure = true; // tcp_under_memory_pressure
  assert.equal(s.epollIn(), true);
});

test('epoll: many small segments fill 7/8 of a small locked rcvbuf and wake the reader below rcvlowat', () => {
  const m = established();
  soRcvbuf(m, 4096); // SO_RCVBUF: rcvbuf 8192, locked
  assert.equal(m.sock.sk_rcvbuf, 8192);
  m.sock.setRcvlowat(4000, { wakeup: false });
  let off = 0;
  let firstReady = -1;
  for (let k = 0; k < 40 && firstReady < 0; k++) {
    m.segment(off, bytes(10));
    off += 10;
    if (m.sock.epollIn()) firstReady = k;
  }
  assert.ok(firstReady > 0, 'became ready');
  assert.ok(m.sock.readable() < 4000);
  assert.ok(m.sock.sk_rmem_alloc > 8192 - 1024);
  assert.equal(m.sock.wakeups, 1);
});

test('epoll: a receive window at or below rcv_mss overrides rcvlowat (tcp_receive_window rule)', () => {
  const m = established();
  const s = m.sock;
  s.setRcvlowat(1000, { wakeup: false });
  m.segment(0, bytes(10));
  assert.equal(s.epollIn(), false);
  s.rcv_wup = s.rcv_nxt;
  s.rcv_wnd = s.rcv_mss + 1;
  assert.equal(s.epollIn(), false);
  s.rcv_wnd = s.rcv_mss;
  assert.equal(s.receiveWindow(), s.rcv_mss);
  assert.equal(s.epollIn(), true);
});

test('tcp_set_rcvlowat: 0 becomes 1, cap at tcp_rmem[2]/2, rcvbuf grows to 2*val unless locked, then cap rcvbuf/2', () => {
  const m = new TcpModel(abi, { family: 'inet6', tcpRmemMax: 1 << 20 }, null);
  m.passiveOpen();
  const s = m.sock;
  s.setRcvlowat(0, { wakeup: true });
  assert.equal(s.sk_rcvlowat, 1);
  s.setRcvlowat(100000, { wakeup: true });
  assert.equal(s.sk_rcvlowat, 100000);
  assert.equal(s.sk_rcvbuf, 200000); // tcp_space_from_win: 2 * val with the default scaling ratio
  s.setRcvlowat(1 << 21, { wakeup: false });
  assert.equal(s.sk_rcvlowat, 1 << 19); // min(val, rmem[2] / 2)
  // net/ipv4/tcp.c tcp_set_rcvlowat: val = min(val, cap) before tcp_space_from_win(sk, val):
  // rcvbuf grows to 2 * the CLAMPED val (1 << 20), not 2 * the asked 1 << 21
  assert.equal(s.sk_rcvbuf, 1 << 20);
  soRcvbuf(m, 10000); // SO_RCVBUF locks: rcvbuf 20000
  s.setRcvlowat(50000, { wakeup: false });
  assert.equal(s.sk_rcvlowat, 10000);
  assert.equal(s.sk_rcvbuf, 20000);
});

test('tcp_set_rcvlowat wakes the reader only with wakeup (recvmsg path), not on the enqueue path', () => {
  const m = established();
  m.sock.setRcvlowat(100, { wakeup: false });
  m.segment(0, bytes(50));
  assert.equal(m.sock.wakeups, 0);
  m.sock.setRcvlowat(50, { wakeup: false });
  assert.equal(m.sock.wakeups, 0);
  m.sock.setRcvlowat(40, { wakeup: true });
  assert.equal(m.sock.wakeups, 1);
});

test('RCVQ_CB enqueue sees the arriving skb (not the coalesced tail), after rcv_nxt advanced', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  assert.equal(m.sock.setCbFlags(RCVQ_FLAG), 0);
  h.calls = [];
  m.segment(0, bytes(10));
  m.segment(10, bytes(30));
  assert.equal(m.sock.receiveQueue.length, 1); // coalesced by tcp_try_coalesce
  assert.equal(m.sock.receiveQueue[0]!.endSeq, 40);
  assert.deepEqual(h.calls.map((c) => [c.op, c.skb?.seq, c.skb?.endSeq, c.skb?.len, c.rcv_nxt]), [[RCVQ, 0, 10, 10, 10], [RCVQ, 10, 40, 30, 40]]);
});

test('out-of-order drain runs RCVQ_CB once per skb moved, in sequence order, then wakes once', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  m.sock.setCbFlags(RCVQ_FLAG);
  m.sock.setRcvlowat(60, { wakeup: false });
  h.calls = [];
  m.segment(40, bytes(20)); // ofo
  m.segment(20, bytes(20)); // ofo, before it: not coalesced with its right neighbour
  m.segment(70, bytes(5)); // ofo, after a hole at 60..70
  assert.equal(m.sock.ofoQueue.length, 3);
  assert.equal(h.calls.length, 0); // nothing on the receive queue yet
  assert.equal(m.sock.readable(), 0);
  m.segment(0, bytes(20));
  assert.deepEqual(h.calls.map((c) => [c.skb!.seq, c.skb!.endSeq, c.rcv_nxt]), [[0, 20, 20], [20, 40, 40], [40, 60, 60]]);
  assert.equal(m.sock.ofoQueue.length, 1); // 70..75 waits for 60..70
  assert.equal(m.sock.readable(), 60);
  assert.equal(m.sock.wakeups, 1);
});

test('out-of-order segments that touch are coalesced in the ofo queue; duplicates are dropped', () => {
  const m = established();
  m.segment(10, bytes(10));
  m.segment(20, bytes(10)); // starts at the end of the previous: coalesced
  assert.equal(m.sock.ofoQueue.length, 1);
  assert.equal(m.sock.ofoQueue[0]!.endSeq, 30);
  const before = m.sock.sk_rmem_alloc;
  m.segment(12, bytes(5)); // covered
  assert.equal(m.sock.ofoQueue.length, 1);
  assert.equal(m.sock.sk_rmem_alloc, before);
  const ev = m.takeEvents();
  assert.ok(ev.some((e) => e.kind === 'drop'));
});

test('retransmitted old data is dropped; a segment beyond the window is dropped', () => {
  const m = established();
  m.segment(0, bytes(10));
  m.segment(0, bytes(10));
  assert.equal(m.sock.readable(), 10);
  const r = m.segment(10 + m.sock.receiveWindow(), bytes(10));
  assert.deepEqual(r.kind === 'dropped' && r.reason === 'TCP_OVERWINDOW' && [r.rcvNxt, r.window], [10, m.sock.receiveWindow()]);
});

test('recvmsg: RCVQ_CB with skb NULL after copied_seq advanced; none when nothing was copied', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  m.sock.setCbFlags(RCVQ_FLAG);
  m.segment(0, bytes(100, 1));
  h.calls = [];
  const r0 = m.recvmsg(30);
  assert.equal(r0.ret, 30);
  assert.deepEqual(h.calls.map((c) => [c.op, c.skb, c.copied_seq]), [[RCVQ, null, 30]]);
  m.recvmsg(70);
  assert.equal(m.recvmsg(10).ret, err('EAGAIN'));
  assert.equal(h.calls.length, 2);
  assert.equal(m.sock.receiveQueue.length, 0);
  assert.equal(m.sock.sk_rmem_alloc, 0);
});

test('FIN: takes one sequence number, sets RCV_SHUTDOWN (epoll 1), CLOSE_WAIT; recv returns the data then 0', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  m.sock.setCbFlags(RCVQ_FLAG);
  m.sock.setRcvlowat(1000, { wakeup: false });
  m.segment(0, bytes(10));
  assert.equal(m.sock.epollIn(), false);
  h.calls = [];
  m.segment(10, new Uint8Array(0), { fin: true });
  assert.deepEqual(h.calls.map((c) => [c.skb!.seq, c.skb!.endSeq, c.skb!.len, c.skb!.flags & 1]), [[10, 11, 0, 1]]);
  assert.equal(m.sock.readable(), 11);
  assert.equal(m.sock.epollIn(), true);
  assert.equal(m.sock.done, true);
  assert.equal(m.sock.wakeups, 1); // tcp_data_ready: SOCK_DONE
  assert.equal(m.stateName(m.sock.state), 'CLOSE_WAIT');
  const r = m.recvmsg(100);
  assert.equal(r.ret, 10);
  assert.equal(r.eof, true);
  assert.equal(m.sock.readable(), 0);
  assert.equal(m.recvmsg(100).ret, 0);
  const after = m.segment(11, bytes(5));
  assert.equal(after.kind === 'dropped' && after.reason === 'AFTER_FIN' && after.state, 'CLOSE_WAIT');
});

test('enabling RCVQ_CB: -EUCLEAN with data queued, -EBUSY in a sockmap, -EOPNOTSUPP on MPTCP; flags unchanged', () => {
  const m = established();
  m.segment(0, bytes(5));
  assert.equal(m.sock.setCbFlags(RCVQ_FLAG), err('EUCLEAN'));
  assert.equal(m.sock.bpf_sock_ops_cb_flags, 0);
  m.recvmsg(5);
  m.sock.in_sockmap = true;
  assert.equal(m.sock.setCbFlags(RCVQ_FLAG | 4), err('EBUSY'));
  assert.equal(m.sock.bpf_sock_ops_cb_flags, 0);
  m.sock.in_sockmap = false;
  assert.equal(m.sock.setCbFlags(RCVQ_FLAG), 0);
  assert.equal(m.sock.bpf_sock_ops_cb_flags, RCVQ_FLAG);
  const mp = new TcpModel(abi, { family: 'inet', mptcp: true }, null);
  mp.passiveOpen();
  assert.equal(mp.sock.setCbFlags(RCVQ_FLAG), err('EOPNOTSUPP'));
  assert.equal(mp.sock.setCbFlags(4), 0); // other flags are fine
});

test('setsockopt: the cgroup program consumes, fails with EPERM, or passes SO_RCVLOWAT on to tcp_set_rcvlowat', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  h.onSockopt = (_s, inv) => ({ action: inv.level === 0xdeadbeef ? 'consumed' : inv.level === 99 ? 'eperm' : 'kernel', level: inv.level, optname: inv.optname, optval: inv.optval, trace: trace('sockopt') });
  assert.equal(m.setsockopt(0xdeadbeef, 0x8badf00d, int(1)).ret, 0);
  assert.equal(m.setsockopt(99, 1, int(1)).ret, err('EPERM'));
  m.segment(0, bytes(50));
  const w = m.sock.wakeups;
  assert.equal(m.setsockopt(OP('SOL_SOCKET'), OP('SO_RCVLOWAT'), int(40)).ret, 0);
  assert.equal(m.sock.sk_rcvlowat, 40);
  assert.equal(m.sock.wakeups, w + 1); // tcp_set_rcvlowat's tcp_data_ready
  m.setsockopt(OP('SOL_SOCKET'), OP('SO_RCVLOWAT'), int(-5));
  assert.equal(m.sock.sk_rcvlowat, (32 * 1024 * 1024) >> 1); // INT_MAX capped at tcp_rmem[2]/2
  h.onSockopt = null;
  assert.equal(m.setsockopt(0xdeadbeef, 0x8badf00d, int(1)).ret, err('ENOPROTOOPT'));
});

test('sequence numbers wrap around 2^32', () => {
  const h = new FakeHooks();
  const m = established({ seq: 0xfffffff0 }, h);
  m.sock.setCbFlags(RCVQ_FLAG);
  m.segment(0xfffffff0, bytes(32));
  assert.equal(m.sock.rcv_nxt, 0x10);
  assert.equal(m.sock.readable(), 32);
  assert.deepEqual([h.calls.at(-1)!.skb!.seq, h.calls.at(-1)!.skb!.endSeq], [0xfffffff0, 0x10]);
  m.segment(0x20, bytes(8)); // ofo across the wrap
  m.segment(0x10, bytes(16));
  assert.equal(m.sock.readable(), 56);
  assert.equal(m.recvmsg(100).ret, 56);
});

test('setsockopt: a refusal carries the errno the application gets (bpf_set_retval), -EPERM by default', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  h.onSockopt = (_s, inv) => ({ action: 'eperm', errno: inv.optname === 1 ? err('EUCLEAN') : undefined, level: inv.level, optname: inv.optname, optval: inv.optval, trace: trace('sockopt') });
  const euclean = m.setsockopt(0xdeadbeef, 1, int(1));
  assert.equal(euclean.ret, err('EUCLEAN'));
  assert.deepEqual([euclean.by, euclean.cgroupErrno], ['cgroup-refused', 'retval']);
  const ev = m.takeEvents().find((e) => e.kind === 'setsockopt-prog');
  assert.deepEqual(ev && ev.kind === 'setsockopt-prog' ? [ev.action, ev.errno] : null, ['eperm', err('EUCLEAN')]);
  assert.equal(m.setsockopt(0xdeadbeef, 2, int(1)).ret, err('EPERM'));
});

test('request-sock ops run with is_fullsock 0; the SYN-ACK header-option ops get the SYN-ACK skb', () => {
  const seen: { op: number; fullsock?: boolean; skb: boolean; flags?: number }[] = [];
  const h = new FakeHooks();
  h.onOp = (sock, inv) => {
    seen.push({ op: inv.op, fullsock: inv.fullsock, skb: inv.skb !== null, flags: inv.skb?.tcpFlags });
    if (inv.op === OP('BPF_SOCK_OPS_TCP_LISTEN_CB')) sock.bpf_sock_ops_cb_flags |= t.cbFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')!.value;
  };
  // the program reserves 4 bytes at HDR_OPT_LEN_CB (else WRITE_HDR_OPT_CB does not run)
  const base = h.sockOps.bind(h);
  h.sockOps = (sock, inv) => inv.op === OP('BPF_SOCK_OPS_HDR_OPT_LEN_CB') ? { ...base(sock, inv), remainingOptLen: inv.remainingOptLen! - 4 } : base(sock, inv);
  new TcpModel(abi, { family: 'inet6' }, h).passiveOpen();
  const at = (name: string) => seen.find((x) => x.op === OP(name))!;
  assert.equal(at('BPF_SOCK_OPS_TCP_LISTEN_CB').fullsock, undefined);
  assert.equal(at('BPF_SOCK_OPS_RWND_INIT').fullsock, false);
  assert.equal(at('BPF_SOCK_OPS_TIMEOUT_INIT').fullsock, false);
  assert.deepEqual(at('BPF_SOCK_OPS_HDR_OPT_LEN_CB'), { op: OP('BPF_SOCK_OPS_HDR_OPT_LEN_CB'), fullsock: false, skb: true, flags: 0x12 });
  assert.deepEqual(at('BPF_SOCK_OPS_WRITE_HDR_OPT_CB'), { op: OP('BPF_SOCK_OPS_WRITE_HDR_OPT_CB'), fullsock: false, skb: true, flags: 0x12 });
  assert.equal(at('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB').fullsock, undefined, 'the child is a full socket');
});

test('coalescing keeps every byte in order and earlier payload views intact', () => {
  const h = new FakeHooks();
  const m = established({}, h);
  const views: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    m.segment(i * 100, bytes(100, i + 1));
    views.push(m.sock.receiveQueue[0]!.payload);
  }
  assert.equal(m.sock.receiveQueue.length, 1, 'one skb: every segment coalesced into the tail');
  assert.equal(m.sock.receiveQueue[0]!.payload.length, 1200);
  for (let i = 0; i < 12; i++) assert.equal(views[i]!.length, (i + 1) * 100);
  assert.deepEqual([...views[0]!.subarray(0, 100)], new Array(100).fill(1), 'a view of the first payload is unchanged');
  const r = m.recvmsg(2000);
  assert.equal(r.ret, 1200);
  for (let i = 0; i < 12; i++) assert.ok(r.data.subarray(i * 100, i * 100 + 100).every((b) => b === i + 1), `segment ${i}`);
});

test('TCP_LISTEN_CB: the listener has no peer yet (remote address and port 0); the request sock has it', () => {
  const seen: [number, number, number][] = [];
  const h = new FakeHooks();
  h.onOp = (sock, inv) => { seen.push([inv.op, sock.remote_port, sock.remote_ip4]); };
  const m = new TcpModel(abi, { family: 'inet', remote: { ip4: 0x0a000002, port: 40001 } }, h);
  m.passiveOpen();
  assert.deepEqual(seen[0], [OP('BPF_SOCK_OPS_TCP_LISTEN_CB'), 0, 0]);
  assert.deepEqual(seen[1], [OP('BPF_SOCK_OPS_RWND_INIT'), 40001, 0x0a000002]);
  assert.equal(m.sock.remote_port, 40001);
  assert.equal(m.sock.rtt_min, 50, 'the handshake ACK\'s RTT sample (tcp_synack_rtt_meas), default 50 us');
});

test('header options: WRITE_HDR_OPT_CB runs only after a reservation; remaining_opt_len is 40 minus the kernel\'s options', () => {
  const lens: [number, number | undefined, boolean][] = [];
  const h = new FakeHooks();
  let reserve = 0;
  h.onOp = (sock, inv) => {
    if (inv.op === OP('BPF_SOCK_OPS_TCP_LISTEN_CB')) sock.bpf_sock_ops_cb_flags |= t.cbFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')!.value;
    if (inv.op === OP('BPF_SOCK_OPS_HDR_OPT_LEN_CB') || inv.op === OP('BPF_SOCK_OPS_WRITE_HDR_OPT_CB')) lens.push([inv.op, inv.remainingOptLen, !!inv.skb?.header]);
  };
  const base = h.sockOps.bind(h);
  h.sockOps = (sock, inv) => inv.op === OP('BPF_SOCK_OPS_HDR_OPT_LEN_CB') ? { ...base(sock, inv), remainingOptLen: inv.remainingOptLen! - reserve } : base(sock, inv);
  const m = new TcpModel(abi, { family: 'inet' }, h);
  m.passiveOpen();
  const L = OP('BPF_SOCK_OPS_HDR_OPT_LEN_CB'), W = OP('BPF_SOCK_OPS_WRITE_HDR_OPT_CB');
  assert.deepEqual(lens, [[L, 20, false]], 'SYN-ACK: MSS + SACK_PERM/TS + WS take 20; nothing reserved: no WRITE_HDR_OPT_CB');
  lens.length = 0;
  reserve = 5;
  m.segment(0, bytes(10));
  assert.deepEqual(lens, [[L, 28, false], [W, 8, true]], 'ACK: timestamps take 12; 5 reserved, rounded up to 8');
  const w = h.calls.at(-1)!;
  assert.equal(w.op, W);
});

test('segments: PARSE_HDR_OPT_CB on the slow path only; close from CLOSE_WAIT runs LAST_ACK, the FIN, the peer ACK, RTT_CB, CLOSE', () => {
  const h = new FakeHooks();
  const flags = ['BPF_SOCK_OPS_STATE_CB_FLAG', 'BPF_SOCK_OPS_RTT_CB_FLAG', 'BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG'].reduce((a, n) => a | t.cbFlag(n)!.value, 0);
  h.onOp = (sock, inv) => { if (inv.op === OP('BPF_SOCK_OPS_TCP_LISTEN_CB')) sock.bpf_sock_ops_cb_flags |= flags; };
  const m = new TcpModel(abi, { family: 'inet' }, h);
  m.passiveOpen({ seq: 5000, isn: 77 });
  assert.equal(m.sock.snd_nxt, 78);
  assert.equal(m.sock.srtt_us, 50 << 3);
  const n = h.calls.length;
  m.segment(5000, bytes(10));
  assert.ok(!h.calls.slice(n).some((c) => c.op === OP('BPF_SOCK_OPS_PARSE_HDR_OPT_CB')), 'in-order data with timestamps only: header prediction, no hook');
  m.segment(5020, bytes(10));
  assert.ok(h.calls.slice(n).some((c) => c.op === OP('BPF_SOCK_OPS_PARSE_HDR_OPT_CB')), 'out of order: slow path');
  m.recvmsg(100);
  m.segment(5010, bytes(10));
  m.recvmsg(100);
  const segsOut = m.sock.segs_out;
  assert.ok(segsOut >= 3, 'every segment was ACKed');
  m.segment(5030, bytes(0), { fin: true });
  assert.equal(m.stateName(m.sock.state), 'CLOSE_WAIT');
  assert.equal(m.sock.segs_out, segsOut, 'the FIN\'s ACK is delayed (pingpong)');
  const k = h.calls.length;
  m.close();
  const names = h.calls.slice(k).map((c) => t.op(c.op)!.short);
  assert.deepEqual(names, ['STATE_CB', 'PARSE_HDR_OPT_CB', 'RTT_CB', 'STATE_CB']);
  assert.equal(m.stateName(m.sock.state), 'CLOSE');
  assert.equal(m.sock.bytes_acked, 1n, 'the FIN');
  assert.equal(m.sock.segs_out, segsOut + 1);
});

test('NEEDS_ECN: a SYN asking for ECN on an ECT packet runs it on the request sock before RWND_INIT (tcp_ecn_create_request)', () => {
  for (const [ecn, first] of [['ect', 'NEEDS_ECN'], ['ecn', 'RWND_INIT'], ['none', 'RWND_INIT']] as const) {
    const h = new FakeHooks();
    new TcpModel(abi, { family: 'inet' }, h).passiveOpen({ synEcn: ecn });
    assert.equal(t.op(h.calls[1]!.op)!.short, first, ecn);
  }
});

test('tcp_data_queue_ofo: an out-of-order segment raises rcv_mss too (tcp_measure_rcv_mss), which the epoll window rule uses', () => {
  const m = established();
  assert.equal(m.sock.rcv_mss, 536); // tcp_initialize_rcv_mss: TCP_MSS_DEFAULT
  m.segment(100, bytes(1000));
  assert.equal(m.sock.ofoQueue.length, 1);
  assert.equal(m.sock.rcv_mss, 1000);
  m.segment(1100, bytes(2000)); // longer than advmss: capped at it
  assert.equal(m.sock.rcv_mss, 1448);
});

test('tcp_data_queue_ofo: a segment coalesced into its left neighbour does not drop the skbs it now covers (no merge_right); the drain does', () => {
  const m = established();
  m.segment(100, bytes(100)); // A 100..200
  m.segment(300, bytes(100)); // C 300..400
  const rmemAC = m.sock.sk_rmem_alloc;
  m.segment(200, bytes(200)); // starts at A's end: tcp_ooo_try_coalesce into A, now 100..400
  assert.deepEqual(m.sock.ofoQueue.map((s) => [s.seq, s.endSeq]), [[100, 400], [300, 400]]);
  assert.ok(m.sock.sk_rmem_alloc > rmemAC, 'C stays charged');
  m.takeEvents();
  m.segment(0, bytes(100));
  assert.equal(m.sock.ofoQueue.length, 0);
  assert.equal(m.sock.readable(), 400);
  const drops = m.takeEvents().filter((e) => e.kind === 'drop');
  assert.equal(drops.length, 1);
  assert.equal(drops[0]!.kind === 'drop' && drops[0]!.reason, 'TCP_OFO_DROP');
  assert.equal(m.sock.sk_rmem_alloc, m.sock.receiveQueue.reduce((a, s) => a + s.truesize, 0));
});

test('SACK blocks of our ACKs: overlapping out-of-order skbs make one block (remaining_opt_len 40 - 12 - 12)', () => {
  const lens: number[] = [];
  const h = new FakeHooks();
  h.onOp = (sock, inv) => {
    if (inv.op === OP('BPF_SOCK_OPS_TCP_LISTEN_CB')) sock.bpf_sock_ops_cb_flags |= t.cbFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')!.value;
    if (inv.op === OP('BPF_SOCK_OPS_HDR_OPT_LEN_CB')) lens.push(inv.remainingOptLen!);
  };
  const m = new TcpModel(abi, { family: 'inet' }, h);
  m.passiveOpen();
  m.segment(100, bytes(100));
  m.segment(300, bytes(100));
  assert.equal(lens.at(-1), 40 - 12 - (4 + 2 * 8), 'two blocks: 100..200, 300..400');
  m.segment(200, bytes(200)); // coalesced into 100..200, which now overlaps 300..400
  assert.equal(m.sock.ofoQueue.length, 2);
  assert.equal(lens.at(-1), 40 - 12 - (4 + 8), 'one block: 100..400');
});
