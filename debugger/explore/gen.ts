// Deliveries of a target's bytes: systematic (every set of cuts among the candidate points,
// in order) where the space is small, random otherwise, and mutations of deliveries that found
// new coverage. Every delivery carries every byte of each phase before the phase's step (a
// 'mid' event). Cuts fall byte by byte near frame starts (descriptors live there) and anywhere
// else at random.
import type { Ev } from './exec';
import type { Rng } from './rng';
import type { Phase, Target } from './target';

/** Out-of-order reach: a segment may arrive up to this many places early or late. */
export const REORDER_WINDOW = 4;
/** Cuts within this many bytes before / after a frame start are "near" it. */
const NEAR_BEFORE = 2;
const NEAR_AFTER = 12;
/** Recv sizes tried besides "the rest of the frame": oversize reads ask for this much. */
const OVERSIZE_READ = 65536;

type Seg = Extract<Ev, { k: 'seg' }>;

/** Cut points near frame starts (and the original's segment ends), sorted, in (0, total). */
export function nearCuts(t: Target): number[] {
  const s = new Set<number>(t.sendCuts);
  for (const f of t.frameStarts) for (let d = -NEAR_BEFORE; d <= NEAR_AFTER; d++) s.add(f + d);
  for (const p of t.phases) s.add(p.to);
  return [...s].filter((c) => c > 0 && c < t.total).sort((a, b) => a - b);
}

/** Candidate cuts the systematic phase enumerates: every byte of a short stream, else the near cuts. */
export function systematicCuts(t: Target): number[] {
  if (t.total <= 16) return Array.from({ length: t.total - 1 }, (_, i) => i + 1);
  return nearCuts(t);
}

/** The systematic space: every subset of the candidate cuts when there are few, else every
 *  split with at most 2 (or 1) of them; each cut set runs twice when the original reads:
 *  without reads and with a reader that reads the next frame whenever epoll says so. */
interface Space { cuts: number[]; maxCuts: number; count: number }

function space(t: Target, budget: number): Space {
  const cuts = systematicCuts(t);
  const m = cuts.length;
  const reads = t.readTotal > 0 ? 2 : 1;
  const fits = (sets: number) => sets * reads <= budget / 2;
  if (m <= 24 && fits(2 ** m)) return { cuts, maxCuts: m, count: 2 ** m * reads };
  const two = 1 + m + (m * (m - 1)) / 2;
  if (fits(two)) return { cuts, maxCuts: 2, count: two * reads };
  if (fits(1 + m)) return { cuts, maxCuts: 1, count: (1 + m) * reads };
  return { cuts, maxCuts: 0, count: 0 };
}

/** How many systematic deliveries there are (0 when even single cuts do not fit the budget). */
export function systematicCount(t: Target, budget: number): number {
  return space(t, budget).count;
}

/** The cut set number k of a space: a bit mask, or (at most 2 cuts) 0 = none, then singles, then pairs. */
function cutSet(sp: Space, k: number): number[] {
  const c = sp.cuts;
  if (sp.maxCuts === c.length) return c.filter((_, i) => Math.floor(k / 2 ** i) % 2 === 1);
  if (k === 0) return [];
  if (k <= c.length) return [c[k - 1]!];
  let r = k - 1 - c.length;
  for (let i = 0; i < c.length; i++) {
    const row = c.length - 1 - i;
    if (r < row) return [c[i]!, c[i + 1 + r]!];
    r -= row;
  }
  return [];
}

/** In-order segments of [ph.from, ph.to) cut at `cuts` (those inside the phase). */
function segmentsFromCuts(ph: Phase, cuts: readonly number[]): Ev[] {
  const evs: Ev[] = [];
  let at = ph.from;
  for (const c of [...cuts.filter((x) => x > ph.from && x < ph.to), ph.to]) {
    if (c <= at) continue;
    evs.push({ k: 'seg', off: at, len: c - at, fin: false });
    at = c;
  }
  return evs;
}

function withFinOnLast(ph: Phase, evs: Ev[]): Ev[] {
  if (!ph.fin) return evs;
  const last = evs.findIndex((e) => e.k === 'seg' && e.off + e.len === ph.to);
  if (last >= 0) evs[last] = { ...(evs[last] as Seg), fin: true };
  else evs.push({ k: 'seg', off: ph.to, len: 0, fin: true });
  return evs;
}

/** Phases joined, each followed by the marker of its step. */
function join(t: Target, parts: Ev[][]): Ev[] {
  const out: Ev[] = [];
  parts.forEach((p, i) => { out.push(...p); if (t.phases[i]!.step) out.push({ k: 'mid', i }); });
  return out;
}

/** Split at the markers: one list per phase. */
function split(t: Target, evs: readonly Ev[]): Ev[][] {
  const parts: Ev[][] = t.phases.map(() => []);
  let i = 0;
  for (const e of evs) {
    if (e.k === 'mid') { i = Math.min(e.i + 1, parts.length - 1); continue; }
    parts[i]!.push(e);
  }
  return parts;
}

export function systematicDelivery(t: Target, index: number, budget: number): Ev[] {
  const sp = space(t, budget);
  const reads = t.readTotal > 0 ? index % 2 : 0;
  const cuts = cutSet(sp, t.readTotal > 0 ? Math.floor(index / 2) : index);
  return join(t, t.phases.map((ph) => {
    // the FIN alone after the data: the state before it is checked too (a FIN makes any socket readable)
    const segs = segmentsFromCuts(ph, cuts);
    if (ph.fin) segs.push({ k: 'seg', off: ph.to, len: 0, fin: true });
    if (!reads || ph.readTo <= ph.readFrom) return segs;
    const out: Ev[] = [];
    for (const s of segs) out.push(s, { k: 'recv', mode: 'epoll', n: 0 });
    return out;
  }));
}

function randomRead(rng: Rng): Ev {
  if (rng.chance(0.3)) return { k: 'recv', mode: 'epoll', n: 0 };
  if (rng.chance(0.6)) return { k: 'recv', mode: 'frame', n: rng.pick([0, 0, 0, -1, 1, -rng.range(1, 8), rng.range(1, 8)]) };
  return { k: 'recv', mode: 'bytes', n: rng.pick([1, 8, rng.range(1, 600), OVERSIZE_READ]) };
}

function randomCut(ph: Phase, rng: Rng, near: readonly number[], sendCuts: readonly number[]): number {
  const r = rng.next() % 100;
  const inside = (xs: readonly number[]) => xs.filter((c) => c > ph.from && c < ph.to);
  if (r < 60) { const n = inside(near); if (n.length) return rng.pick(n); }
  if (r < 70) { const n = inside(sendCuts); if (n.length) return rng.pick(n); }
  return rng.range(ph.from + 1, ph.to - 1);
}

/** A retransmit within the phase: a later copy of bytes that already arrived or will
 *  (overlapping a segment, or spanning the boundary between two). */
function retransmit(ph: Phase, rng: Rng, of: Seg): Ev {
  if (rng.chance(0.4) || of.len < 1) return { ...of, fin: false };
  const a = rng.range(of.off, of.off + of.len - 1);
  const b = Math.min(ph.to, a + rng.range(1, Math.max(1, 2 * of.len)));
  return { k: 'seg', off: a, len: Math.max(1, b - a), fin: false };
}

function randomPhase(t: Target, ph: Phase, rng: Rng, near: readonly number[]): Ev[] {
  const len = ph.to - ph.from;
  let evs: Ev[] = [];
  if (len > 0) {
    const framesIn = t.frameStarts.filter((f) => f >= ph.from && f < ph.to).length;
    const maxCuts = Math.min(len - 1, 2 * Math.max(1, framesIn) + 4);
    const nCuts = rng.chance(0.2) ? rng.int(2) : rng.range(0, maxCuts);
    const cuts = new Set<number>();
    for (let i = 0; i < nCuts; i++) cuts.add(randomCut(ph, rng, near, t.sendCuts));
    evs = segmentsFromCuts(ph, [...cuts].sort((a, b) => a - b));
    if (rng.chance(0.5)) {
      for (let i = 0; i < evs.length; i++) {
        if (!rng.chance(0.3)) continue;
        const j = Math.min(evs.length - 1, i + rng.range(1, REORDER_WINDOW));
        [evs[i], evs[j]] = [evs[j]!, evs[i]!];
      }
    }
    if (rng.chance(0.35)) {
      for (let n = rng.range(1, 2); n > 0; n--) {
        const p = rng.int(evs.length);
        const q = rng.range(p + 1, Math.min(evs.length, p + 1 + REORDER_WINDOW));
        evs.splice(q, 0, retransmit(ph, rng, evs[p] as Seg));
      }
    }
  }
  if (ph.fin) {
    const r = rng.int(100);
    if (r < 60) evs = withFinOnLast(ph, evs);
    else if (r < 85) evs.push({ k: 'seg', off: ph.to, len: 0, fin: true });
    else evs.splice(rng.int(evs.length + 1), 0, { k: 'seg', off: ph.to, len: 0, fin: true });
  }
  if (ph.readTo > ph.readFrom) {
    const framesIn = t.frameStarts.filter((f) => f >= ph.readFrom && f < ph.readTo).length;
    const n = rng.range(0, 3 + framesIn);
    for (let i = 0; i < n; i++) evs.splice(rng.range(1, Math.max(1, evs.length)), 0, randomRead(rng));
  }
  return evs;
}

export function randomDelivery(t: Target, rng: Rng, near = nearCuts(t)): Ev[] {
  return join(t, t.phases.map((ph) => randomPhase(t, ph, rng, near)));
}

/** A small change to one phase of a delivery that keeps every byte of it delivered. */
export function mutate(t: Target, src: readonly Ev[], rng: Rng, near: readonly number[]): Ev[] {
  const parts = split(t, src);
  const pi = rng.int(parts.length);
  const ph = t.phases[pi]!;
  const evs = parts[pi]!;
  const reads = ph.readTo > ph.readFrom;
  const indexes = (pred: (e: Ev) => boolean) => { const s: number[] = []; evs.forEach((e, i) => { if (pred(e)) s.push(i); }); return s; };
  for (let n = rng.range(1, 3); n > 0; n--) {
    switch (rng.int(7)) {
      case 0: { // split a segment, near a frame start when one is inside
        const s = indexes((e) => e.k === 'seg' && e.len > 1);
        if (!s.length) break;
        const i = rng.pick(s);
        const e = evs[i] as Seg;
        const inside = near.filter((c) => c > e.off && c < e.off + e.len);
        const c = inside.length && rng.chance(0.7) ? rng.pick(inside) : rng.range(e.off + 1, e.off + e.len - 1);
        evs.splice(i, 1, { k: 'seg', off: e.off, len: c - e.off, fin: false }, { k: 'seg', off: c, len: e.off + e.len - c, fin: e.fin });
        break;
      }
      case 1: { // coalesce two arrivals that are contiguous in sequence
        for (let i = 0; i + 1 < evs.length; i++) {
          const a = evs[i]!, b = evs[i + 1]!;
          if (a.k === 'seg' && b.k === 'seg' && !a.fin && a.off + a.len === b.off && rng.chance(0.5)) {
            evs.splice(i, 2, { k: 'seg', off: a.off, len: a.len + b.len, fin: b.fin });
            break;
          }
        }
        break;
      }
      case 2: { // swap neighbours
        if (evs.length < 2) break;
        const i = rng.int(evs.length - 1);
        [evs[i], evs[i + 1]] = [evs[i + 1]!, evs[i]!];
        break;
      }
      case 3: { // retransmit
        const s = indexes((e) => e.k === 'seg' && e.len > 0);
        if (!s.length) break;
        evs.splice(rng.range(0, evs.length), 0, retransmit(ph, rng, evs[rng.pick(s)] as Seg));
        break;
      }
      case 4: // a read more
        if (reads) evs.splice(rng.range(0, evs.length), 0, randomRead(rng));
        break;
      case 5: { // a read less
        const r = indexes((e) => e.k === 'recv');
        if (r.length) evs.splice(rng.pick(r), 1);
        break;
      }
      case 6: { // another size for a read
        const r = indexes((e) => e.k === 'recv');
        if (r.length) evs[rng.pick(r)] = randomRead(rng);
        break;
      }
    }
  }
  return join(t, parts);
}
