// TcpModel.checkpoint()/restore(): the debugger's time travel puts the TCP model back to a step
// boundary; the run from there must be the run it was (same socket, queues, bytes, events), and
// a restore must not disturb what the abandoned future handed out (payload views, recv data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops/index';
import { TcpModel, abiFromTable } from '../../../debugger/kernel/tcp/index';

const abi = abiFromTable(table());
const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

function model(): TcpModel {
  const m = new TcpModel(abi, { family: 'inet6' }, null);
  m.passiveOpen({ seq: 0 });
  m.takeEvents();
  return m;
}

/** Everything observable about the model's state. */
function state(m: TcpModel): unknown {
  const q = (a: typeof m.sock.receiveQueue) => a.map((s) => [s.id, s.seq, s.endSeq, s.tcpFlags, s.truesize, s.frags, [...s.payload]]);
  return { snap: m.sock.snapshot(), rq: q(m.sock.receiveQueue), ofo: q(m.sock.ofoQueue), fields: JSON.stringify(m.sock.fields(), (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v)), next: m.nextSkbId, ts: m.tsNow, peer: { ...m.peer } };
}

/** The same future, step by step: out of order, coalescing, a drain, a read, a FIN. */
function future(m: TcpModel): unknown[] {
  const out: unknown[] = [];
  out.push(m.segment(30, bytes(10, 3)));
  out.push(m.segment(10, bytes(10, 1)));
  out.push(m.segment(20, bytes(10, 2))); // coalesces into 10..20 in the ofo queue
  out.push(m.segment(5, bytes(5, 9)));
  out.push(m.recvmsg(25));
  out.push(m.segment(40, new Uint8Array(0), { fin: true }));
  out.push(m.takeEvents().map((e) => e.kind));
  out.push(state(m));
  return out;
}

test('restore returns to the checkpoint: the same future replays identically, any number of times', () => {
  const m = model();
  m.segment(0, bytes(5, 7)); // in order: one skb on the receive queue
  m.takeEvents();
  const before = state(m);
  const cp = m.checkpoint();
  const first = future(m);
  m.restore(cp);
  assert.deepEqual(state(m), before, 'state after restore');
  assert.deepEqual(future(m), first, 'the same future');
  m.restore(cp);
  assert.deepEqual(future(m), first, 'and again from the same checkpoint');
});

test('a different future after a restore does not change bytes the first future handed out', () => {
  const m = model();
  m.segment(0, bytes(4, 1));
  m.segment(4, bytes(4, 2)); // coalesced: the tail skb has room to grow in its store
  m.takeEvents();
  const cp = m.checkpoint();
  m.segment(8, bytes(4, 3)); // future A appends 3s into the tail's store
  const viewA = m.sock.receiveQueue[0]!.payload; // as a program or the debugger saw the skb
  const a = m.recvmsg(100);
  assert.deepEqual([...a.data], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  m.restore(cp);
  m.segment(8, bytes(4, 4)); // future B appends 4s at the same place
  const b = m.recvmsg(100);
  assert.deepEqual([...b.data], [1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4]);
  assert.deepEqual([...a.data], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], 'future A\'s read is intact');
  assert.deepEqual([...viewA], [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], 'the skb view future A handed out is intact (restore dropped the shared coalescing room)');
});

test('checkpoint refuses to run mid-step (events pending): a step boundary is the only consistent point', () => {
  const m = model();
  m.segment(0, bytes(1, 1));
  assert.throws(() => m.checkpoint(), /between steps/);
  m.takeEvents();
  assert.doesNotThrow(() => m.checkpoint());
});

test('socket options and the saved SYN are part of a checkpoint', () => {
  const m = model();
  const int = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, v, true); return b; };
  const cp = m.checkpoint();
  assert.equal(m.setsockopt(abi.constant('SOL_SOCKET'), abi.constant('SO_RCVBUF'), int(1 << 20)).ret, 0);
  assert.equal(m.setsockopt(abi.constant('SOL_SOCKET'), abi.constant('SO_MARK'), int(5)).ret, 0);
  m.restore(cp);
  assert.equal(m.sock.sk_rcvbuf, 131072);
  assert.equal(m.sock.rcvbuf_locked, false);
  assert.equal(m.sock.sockopt.sk_mark, 0);
});
