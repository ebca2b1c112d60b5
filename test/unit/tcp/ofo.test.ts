// The out-of-order queue's chunked list (ofo.ts) against a plain sorted array: random inserts,
// covered-neighbour removal, replaces and drains keep the same order and contents, across chunk
// splits (more than 512 skbs) and sequence-number wraparound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OfoQueue } from '../../../debugger/kernel/tcp/ofo';
import { after } from '../../../debugger/kernel/tcp/sock';
import type { QueuedSkb } from '../../../debugger/kernel/tcp/sock';

let id = 1;
const skb = (seq: number, len: number): QueuedSkb => ({ seq: seq >>> 0, endSeq: (seq + len) >>> 0, tcpFlags: 0x10, payload: new Uint8Array(0), id: id++, truesize: 1, frags: 1 });

/** xorshift32: a fixed sequence of pseudo-random numbers. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

for (const base of [0, 0xffff0000]) {
  test(`random inserts, merge_right and drains agree with a sorted array (3000 skbs, seq base 0x${base.toString(16)})`, () => {
    const q = new OfoQueue();
    const ref: QueuedSkb[] = [];
    const r = rng(7 + base);
    for (let i = 0; i < 3000; i++) {
      const s = skb(base + (r() % 100000), 1 + (r() % 40));
      // reference: last with seq <= s.seq, insert after it, drop the following skbs s covers
      let at = ref.length - 1;
      while (at >= 0 && after(ref[at]!.seq, s.seq)) at--;
      const p = q.findPrev(s.seq);
      assert.equal(p ? q.at(p) : undefined, at >= 0 ? ref[at] : undefined, 'findPrev');
      ref.splice(at + 1, 0, s);
      const pos = q.insertAfter(p, s);
      assert.equal(q.at(pos), s);
      let n = 0;
      while (at + 2 + n < ref.length && !after(ref[at + 2 + n]!.endSeq, s.endSeq)) n++;
      const gone = ref.splice(at + 2, n);
      assert.deepEqual(q.removeCoveredAfter(pos, s.endSeq), gone);
      if (i % 500 === 499) { // drain a few from the front
        for (let k = 0; k < 50; k++) assert.equal(q.shift(), ref.shift());
      }
    }
    assert.equal(q.length, ref.length);
    assert.deepEqual(q.toArray(), ref);
    assert.deepEqual([...q], ref);
    assert.deepEqual(q.head(5), ref.slice(0, 5));
    const c = ref.slice();
    q.reset(c);
    assert.deepEqual(q.toArray(), ref);
    assert.deepEqual(q.clear(), ref);
    assert.equal(q.length, 0);
    assert.equal(q.first(), undefined);
  });
}
