// Snapshots of the whole simulation at step boundaries, so that a stop, step, step back or
// reverse continue replays from the nearest one instead of from the start. Memory is bounded:
// after each stop the store is thinned so that checkpoints are dense near the stop and sparser
// with distance (the gap allowed grows with it), and never more than CAP are kept.

export interface Checkpoint {
  /** Absolute position of the boundary (the state before step `step` runs). */
  pos: number;
  step: number;
  /** Program runs before it (run indexes stay absolute). */
  runs: number;
  sim: unknown;
  /** Breakpoint and data-breakpoint hit counts and watched values as of the position before it. */
  hits: Map<number, number>;
  watchHits: Map<number, number>;
  watchPrev: Map<number, string>;
  /** The breakpoint configuration the counts belong to. */
  version: number;
}

export const CAP = 192;
/** Gap allowed at distance d: d / DENSITY positions. */
const DENSITY = 16;

export class CheckpointStore {
  private list: Checkpoint[] = [];

  get size(): number {
    return this.list.length;
  }

  /** Insert or replace the checkpoint at cp.pos. */
  add(cp: Checkpoint): void {
    let i = this.list.length;
    while (i > 0 && this.list[i - 1]!.pos > cp.pos) i--;
    if (i > 0 && this.list[i - 1]!.pos === cp.pos) this.list[i - 1] = cp;
    else this.list.splice(i, 0, cp);
  }

  has(pos: number, version: number): boolean {
    const c = this.before(pos);
    return !!c && c.pos === pos && c.version === version;
  }

  /** The latest checkpoint at or before `limit` (and, when given, of that configuration version). */
  before(limit: number, version?: number): Checkpoint | null {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const c = this.list[i]!;
      if (c.pos <= limit && (version === undefined || c.version === version)) return c;
    }
    return null;
  }

  /** Positions of the checkpoints before `pos`, latest first (reverse search walks these). */
  startsBefore(pos: number): number[] {
    return this.list.filter((c) => c.pos < pos).map((c) => c.pos).reverse();
  }

  /** Forget checkpoints after `pos` (an edit there changes what follows). */
  dropAfter(pos: number): void {
    this.list = this.list.filter((c) => c.pos <= pos);
  }

  clear(): void {
    this.list = [];
  }

  /** Keep checkpoints dense near `center`, sparser with distance, at most CAP; the first always. */
  thin(center: number): void {
    if (this.list.length <= CAP / 2) return;
    for (let density = DENSITY; ; density /= 2) {
      const keep = new Set<Checkpoint>([this.list[0]!]);
      // outward from the center on each side: keep one when the gap to the last kept reaches distance / density
      const after = this.list.filter((c) => c.pos >= center);
      const before = this.list.filter((c) => c.pos < center).reverse();
      for (const side of [after, before]) {
        let last = center;
        for (const c of side) {
          const d = Math.abs(c.pos - center);
          if (Math.abs(c.pos - last) >= d / density || d === 0) { keep.add(c); last = c.pos; }
        }
      }
      if (keep.size <= CAP || density < 0.01) {
        this.list = this.list.filter((c) => keep.has(c));
        return;
      }
    }
  }
}
