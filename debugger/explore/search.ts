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

export function searchPart(t: Target, p: PartSpec, stop: () => boolean = () => false): PartResult {
  const t0 = performance.now();
  const S = systematicCount(t, p.budget);
  const near = nearCuts(t);
  const res: PartResult = { deliveries: 0, systematic: 0, random: 0, mutated: 0, events: 0, rcvqRuns: 0, runs: 0, features: 0, corpus: 0, systematicSpace: S, ms: 0 };
  const seen = new Set<number>();
  const corpus: Ev[][] = [];
  const local = new Rng(mix(p.seed, 0x51ed + p.part));
  for (let i = 0; i < p.count; i++) {
    if ((i & 15) === 0 && stop()) break;
    const g = p.part + i * p.stride;
    let evs: Ev[];
    if (g < S) { evs = systematicDelivery(t, g, p.budget); res.systematic++; }
    else if (corpus.length && local.chance(0.5)) { evs = mutate(t, local.pick(corpus), local, near); res.mutated++; }
    else { evs = randomDelivery(t, new Rng(mix(p.seed, g)), near); res.random++; }
    const o = runDelivery(t, evs, { coverage: true });
    res.deliveries++;
    res.events += o.steps.length;
    res.rcvqRuns += o.rcvqRuns;
    res.runs += o.runs;
    let fresh = false;
    for (const f of o.features) if (!seen.has(f)) { seen.add(f); fresh = true; }
    if (fresh && g >= S) corpus.push(evs);
    if (o.finding) {
      res.failing = { kind: o.finding.kind, message: o.finding.message, iteration: g, evs: o.concrete };
      break;
    }
  }
  res.features = seen.size;
  res.corpus = corpus.length;
  res.ms = performance.now() - t0;
  return res;
}
