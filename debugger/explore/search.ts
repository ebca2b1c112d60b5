// One part of a campaign: the deliveries with global index g = part, part + stride, ... (a shard
// of a shard: --shard K/N times --jobs J gives stride N*J), `count` of them. Index g < S (the
// systematic space, when small) is systematic delivery g; past it, delivery g is random from
// seed mix(seed, g) or, half the time once something found new coverage, a mutation of a
// corpus entry. Deterministic for a given (seed, part, stride, count).
import { runDelivery, type Ev } from './exec';
import { mutate, nearCuts, randomDelivery, systematicCount, systematicDelivery } from './gen';
import type { FindingKind } from './oracle';
import { mix, Rng } from './rng';
import type { Target } from './target';

export interface PartSpec {
  seed: number;
  /** Budget of the whole shard: it decides the systematic space, so every part agrees. */
  budget: number;
  part: number;
  stride: number;
  count: number;
}

export interface PartResult {
  deliveries: number;
  systematic: number;
  random: number;
  mutated: number;
  /** Steps run after the setup (events), RCVQ_CB runs, all program runs. */
  events: number;
  rcvqRuns: number;
  runs: number;
  /** Distinct coverage features and the corpus size. */
  features: number;
  corpus: number;
  /** Size of the systematic space (all parts). */
  systematicSpace: number;
  ms: number;
  failing?: { kind: FindingKind; message: string; iteration: number; evs: Ev[] };
}

/** The search of one part, one delivery per step() (so a caller can yield between steps). */
export class PartSearch {
  private readonly t0 = performance.now();
  private readonly S: number;
  private readonly near: number[];
  private readonly res: PartResult;
  private readonly seen = new Set<number>();
  private readonly corpus: Ev[][] = [];
  private readonly local: Rng;
  private i = 0;
  private over = false;

  constructor(private readonly t: Target, private readonly p: PartSpec) {
    this.S = systematicCount(t, p.budget);
    this.near = nearCuts(t);
    this.res = { deliveries: 0, systematic: 0, random: 0, mutated: 0, events: 0, rcvqRuns: 0, runs: 0, features: 0, corpus: 0, systematicSpace: this.S, ms: 0 };
    this.local = new Rng(mix(p.seed, 0x51ed + p.part));
  }

  /** Runs the next delivery; false when the part is done (count reached or a finding). */
  step(): boolean {
    if (this.over || this.i >= this.p.count) { this.over = true; return false; }
    const { t, p, res, local } = this;
    const g = p.part + this.i * p.stride;
    this.i++;
    let evs: Ev[];
    if (g < this.S) { evs = systematicDelivery(t, g, p.budget); res.systematic++; }
    else if (this.corpus.length && local.chance(0.5)) { evs = mutate(t, local.pick(this.corpus), local, this.near); res.mutated++; }
    else { evs = randomDelivery(t, new Rng(mix(p.seed, g)), this.near); res.random++; }
    // branch outcomes need the instruction hook (the slower interpreter): every 4th delivery
    const o = runDelivery(t, evs, { coverage: (this.i & 3) === 1 ? 'branches' : true });
    res.deliveries++;
    res.events += o.steps.length;
    res.rcvqRuns += o.rcvqRuns;
    res.runs += o.runs;
    let fresh = false;
    for (const f of o.features) if (!this.seen.has(f)) { this.seen.add(f); fresh = true; }
    if (fresh && g >= this.S) this.corpus.push(evs);
    if (o.finding) {
      res.failing = { kind: o.finding.kind, message: o.finding.message, iteration: g, evs: o.concrete };
      this.over = true;
      return false;
    }
    return true;
  }

  result(): PartResult {
    this.res.features = this.seen.size;
    this.res.corpus = this.corpus.length;
    this.res.ms = performance.now() - this.t0;
    return this.res;
  }
}

export function searchPart(t: Target, p: PartSpec, stop: () => boolean = () => false): PartResult {
  const s = new PartSearch(t, p);
  for (let i = 0; s.step(); i++) if ((i & 15) === 15 && stop()) break;
  return s.result();
}

/** The same, yielding to the event loop every few deliveries (the extension host stays responsive
 *  and an AbortSignal can fire). */
export async function searchPartAsync(t: Target, p: PartSpec, stop: () => boolean = () => false): Promise<PartResult> {
  const s = new PartSearch(t, p);
  for (let i = 0; s.step(); i++) {
    if ((i & 7) === 7) {
      await new Promise<void>((r) => setImmediate(r));
      if (stop()) break;
    }
  }
  return s.result();
}
