// The out-of-order queue (tcp_sock.out_of_order_queue, an rbtree keyed by seq in the kernel): a
// sorted list of chunks of at most MAX_CHUNK skbs, so that finding the place of a segment is a
// binary search over chunks then within one, and inserting or removing one moves at most
// MAX_CHUNK entries — O(log n + MAX_CHUNK) whatever order the segments arrive in (a flat array
// costs a memmove of the whole queue for every skb inserted before its tail).
// Sequence numbers compare with before()/after() (mod 2^32), as the kernel's do.
import { after, type QueuedSkb } from './sock';

const MAX_CHUNK = 512;

/** A place in the queue; valid until the next change. */
export interface OfoPos { c: number; o: number }

export class OfoQueue {
  private chunks: QueuedSkb[][] = [];
  private n = 0;
  /** toArray()'s answer until the next change. */
  private flat: QueuedSkb[] | null = null;

  get length(): number {
    return this.n;
  }

  /** The skbs in order, as one array (cached until the queue changes: for the debugger's view). */
  toArray(): QueuedSkb[] {
    if (!this.flat) this.flat = this.chunks.flat();
    return this.flat;
  }

  /** The first k skbs (O(k)). */
  head(k: number): QueuedSkb[] {
    const out: QueuedSkb[] = [];
    for (const ch of this.chunks) {
      for (const s of ch) {
        if (out.length >= k) return out;
        out.push(s);
      }
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<QueuedSkb> {
    for (const ch of this.chunks) yield* ch;
  }

  first(): QueuedSkb | undefined {
    return this.chunks[0]?.[0];
  }

  at(p: OfoPos): QueuedSkb {
    return this.chunks[p.c]![p.o]!;
  }

  /** The last skb with seq <= `seq` (the kernel's search for the insertion point), or null. */
  findPrev(seq: number): OfoPos | null {
    const ch = this.chunks;
    // the first chunk whose first skb starts after seq; the answer is in the chunk before it
    let lo = 0;
    let hi = ch.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(ch[mid]![0]!.seq, seq)) hi = mid;
      else lo = mid + 1;
    }
    if (lo === 0) return null;
    const c = lo - 1;
    const arr = ch[c]!;
    let a = 0;
    let b = arr.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (after(arr[mid]!.seq, seq)) b = mid;
      else a = mid + 1;
    }
    return { c, o: a - 1 };
  }

  /** Replace the skb at `p`. */
  replace(p: OfoPos, skb: QueuedSkb): void {
    this.chunks[p.c]![p.o] = skb;
    this.flat = null;
  }

  /** Insert `skb` right after `p` (null: at the front); returns its place. */
  insertAfter(p: OfoPos | null, skb: QueuedSkb): OfoPos {
    this.flat = null;
    this.n++;
    if (this.chunks.length === 0) {
      this.chunks.push([skb]);
      return { c: 0, o: 0 };
    }
    let c = p ? p.c : 0;
    let o = p ? p.o + 1 : 0;
    const arr = this.chunks[c]!;
    if (o === arr.length) arr.push(skb);
    else arr.splice(o, 0, skb);
    if (arr.length > MAX_CHUNK) {
      const half = arr.length >> 1;
      this.chunks.splice(c + 1, 0, arr.splice(half));
      if (o >= half) { c++; o -= half; }
    }
    return { c, o };
  }

  /** merge_right: remove the skbs after `p` whose end_seq is not after `endSeq` (the new skb
   *  covers them). Returns them. */
  removeCoveredAfter(p: OfoPos, endSeq: number): QueuedSkb[] {
    const gone: QueuedSkb[] = [];
    let c = p.c;
    let o = p.o + 1;
    for (;;) {
      const arr = this.chunks[c];
      if (!arr) break;
      if (o >= arr.length) { c++; o = 0; continue; }
      if (after(arr[o]!.endSeq, endSeq)) break;
      gone.push(...arr.splice(o, 1));
      if (arr.length === 0) { this.chunks.splice(c, 1); o = 0; }
    }
    if (gone.length) { this.n -= gone.length; this.flat = null; }
    return gone;
  }

  /** Remove and return the first skb. */
  shift(): QueuedSkb | undefined {
    const arr = this.chunks[0];
    if (!arr) return undefined;
    const s = arr.shift();
    if (arr.length === 0) this.chunks.shift();
    this.n--;
    this.flat = null;
    return s;
  }

  /** Remove everything (tcp_fin purges the queue); returns what was there. */
  clear(): QueuedSkb[] {
    const all = this.toArray();
    this.chunks = [];
    this.n = 0;
    this.flat = null;
    return all;
  }

  /** Replace the contents with `skbs` (already in order: a checkpoint's). */
  reset(skbs: QueuedSkb[]): void {
    this.chunks = [];
    for (let i = 0; i < skbs.length; i += MAX_CHUNK / 2) this.chunks.push(skbs.slice(i, i + MAX_CHUNK / 2));
    this.n = skbs.length;
    this.flat = null;
  }
}
