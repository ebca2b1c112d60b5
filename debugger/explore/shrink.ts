// Shrinking a failing delivery: fewest segments, fewest steps, smallest sizes, as long as a
// finding of the same kind remains. Greedy passes until none helps (or the attempt cap).
import { runDelivery, type Ev, type Outcome } from './exec';
import type { FindingKind } from './oracle';
import type { Target } from './target';

export interface Shrunk {
  outcome: Outcome;
  attempts: number;
}

type Seg = Extract<Ev, { k: 'seg' }>;

export function shrink(t: Target, failing: Outcome, maxAttempts = 400): Shrunk {
  const kind: FindingKind = failing.finding!.kind;
  let best = failing;
  let attempts = 0;
  const tryEvs = (evs: Ev[]): boolean => {
    if (attempts >= maxAttempts) return false;
    attempts++;
    if (!delivers(t, evs, failing.reachedEnd)) return false; // each step in between (and a trailing expect) needs its bytes
    const o = runDelivery(t, evs);
    if (o.finding?.kind !== kind || o.reachedEnd !== failing.reachedEnd) return false;
    if (size(o) > size(best)) return false;
    best = o;
    return true;
  };
  for (let progress = true; progress && attempts < maxAttempts;) {
    progress = false;
    // drop single events, last first (later ones matter least)
    for (let i = best.concrete.length - 1; i >= 0; i--) {
      if (best.concrete[i]?.k === 'mid') continue;
      const evs = best.concrete.slice();
      evs.splice(i, 1);
      if (i < best.concrete.length && tryEvs(evs)) progress = true;
    }
    // coalesce neighbours contiguous in sequence
    for (let i = 0; i + 1 < best.concrete.length; i++) {
      const a = best.concrete[i]!, b = best.concrete[i + 1]!;
      if (a.k !== 'seg' || b.k !== 'seg' || a.fin || a.off + a.len !== b.off) continue;
      const evs = best.concrete.slice();
      evs.splice(i, 2, { k: 'seg', off: a.off, len: a.len + b.len, fin: b.fin });
      if (tryEvs(evs)) { progress = true; i--; }
    }
    // smaller reads and shorter segments (halving, then one byte)
    for (let i = 0; i < best.concrete.length; i++) {
      const e = best.concrete[i]!;
      if (e.k === 'mid') continue;
      const cur = e.k === 'seg' ? e.len : e.n;
      for (const n of [Math.floor(cur / 2), cur - 1]) {
        if (n < 1 || n >= cur) continue;
        const evs = best.concrete.slice();
        evs[i] = e.k === 'seg' ? { ...(e as Seg), len: n } : { k: 'recv', mode: 'bytes', n };
        if (tryEvs(evs)) { progress = true; break; }
      }
    }
  }
  return { outcome: best, attempts };
}

/** What "smaller" means: segments first, then steps, then bytes moved. */
function size(o: Outcome): number {
  let segs = 0, bytes = 0;
  for (const e of o.concrete) { if (e.k === 'seg') { segs++; bytes += e.len; } else if (e.k === 'recv') bytes += e.n; }
  return segs * 1e9 + o.steps.length * 1e6 + bytes;
}

/** Before each phase marker, the bytes of the phases so far arrived; with `whole`, every byte
 *  of [0, total) (and the FIN when the original sends one) by the end. */
export function delivers(t: Target, evs: readonly Ev[], whole: boolean): boolean {
  const ranges: [number, number][] = [];
  let fin = false;
  const covered = () => {
    ranges.sort((a, b) => a[0] - b[0]);
    let at = t.phases[0]!.from; // bytes in before the first data step (a Fast Open SYN's)
    for (const [a, b] of ranges) if (a <= at) at = Math.max(at, b);
    return at;
  };
  for (const e of evs) {
    if (e.k === 'seg') { ranges.push([e.off, e.off + e.len]); if (e.fin) fin = true; }
    else if (e.k === 'mid' && covered() < t.phases[e.i]!.to) return false;
  }
  return !whole || (covered() >= t.total && (!t.fin || fin));
}
