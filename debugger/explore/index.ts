// `bpf-sockops explore`: search the ways a scenario's bytes can arrive and be read for one that
// breaks the hook (issue 14). The API the CLI and the extension call: explore() runs a campaign
// (or one shard of it) and returns a report whose counterexample.out is the scenario to open;
// mergeReports() combines shards' reports. Plain TypeScript: no vscode, no process exit.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Simulation, type SimOptions } from '../sim';
import { runDelivery, type Outcome } from './exec';
import type { FindingKind } from './oracle';
import { searchPartAsync, type PartResult, type PartSpec } from './search';
import { shrink } from './shrink';
import { makeTarget, type Target } from './target';
import { runParts } from './workers';
import { counterexampleJson } from './write';

export { tuneHeapForSearch } from './heap';
export { exploreWorkerMain } from './workers';
export { TargetError } from './target';
export type { FindingKind } from './oracle';

/** Deliveries tried per shard unless --budget says otherwise. */
export const DEFAULT_BUDGET = 2000;

export interface ExploreOptions extends SimOptions {
  seed?: number;
  budget?: number;
  /** 1-based shard index and shard count (--shard K/N). */
  shard?: { k: number; n: number };
  jobs?: number;
  /** Where to write the minimized counterexample (default: beside the scenario,
   *  NAME.counterexample.scenario.json). */
  out?: string;
  /** Stops the search early (the report counts what was explored); the extension's Cancel. */
  signal?: AbortSignal;
}

export interface Counterexample {
  kind: FindingKind;
  message: string;
  /** Global index of the delivery that failed first, and the shard that ran it. */
  iteration: number;
  shard: number;
  out: string;
  /** Steps after the setup, and segments, in the minimized scenario. */
  steps: number;
  segments: number;
  /** The steps after the setup, as `run` labels them ('segment 4..158', 'recv 258'). */
  labels: string[];
  shrinkAttempts: number;
  /** `run` of the written file fails too (for an ignored helper error: shows the call failing). */
  verified: boolean;
}

export interface ExploreReport {
  tool: 'bpf-sockops explore';
  scenario: string;
  seed: number;
  budget: number;
  shards: { k: number; n: number }[];
  jobs: number;
  explored: {
    deliveries: number; systematic: number; random: number; mutated: number;
    events: number; rcvqRuns: number; runs: number; systematicSpace: number;
    /** Per shard, distinct coverage features and corpus size (not additive across shards). */
    features: number[]; corpus: number[];
  };
  ms: number;
  /** The search was cancelled (ExploreOptions.signal) before the budget was used up. */
  cancelled?: boolean;
  counterexample: Counterexample | null;
  /** The scenario as written fails `run` already. */
  originalFails: boolean;
}

export function defaultOut(file: string): string {
  return resolve(file).replace(/(\.scenario)?\.json$/, '') + '.counterexample.scenario.json';
}

export async function explore(file: string, opts: ExploreOptions = {}): Promise<ExploreReport> {
  const t0 = performance.now();
  const sim: SimOptions = {};
  if (opts.program) sim.program = opts.program;
  if (opts.profile) sim.profile = opts.profile;
  if (opts.compiler) sim.compiler = opts.compiler;
  if (opts.compilerArgs) sim.compilerArgs = opts.compilerArgs;
  const prepared = Simulation.prepare(file, sim);
  const t = makeTarget(prepared);
  const seed = opts.seed ?? 1;
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const shard = opts.shard ?? { k: 1, n: 1 };
  const jobs = Math.max(1, opts.jobs ?? 1);
  const parts = partsOf(seed, budget, shard, jobs);
  const signal = opts.signal;
  const results = await runParts(file, sim, parts, (p, stop) => searchPartAsync(t, p, () => stop() || signal?.aborted === true), signal);
  const report: ExploreReport = {
    tool: 'bpf-sockops explore',
    scenario: prepared.scenario.file,
    seed, budget, shards: [shard], jobs,
    explored: sumParts(results),
    ms: 0,
    counterexample: null,
    originalFails: t.originalFailed > 0,
  };
  const failing = results.map((r) => r.failing).filter((f) => f !== undefined).sort((a, b) => a!.iteration - b!.iteration)[0];
  if (signal?.aborted) report.cancelled = true;
  if (failing) report.counterexample = minimize(t, failing, opts.out ?? defaultOut(file), seed, shard.k, sim);
  report.ms = Math.round(performance.now() - t0);
  return report;
}

/** Shard k of n takes the deliveries g = k-1 (mod n), the first `budget` of them; worker j of
 *  `jobs` takes every jobs-th of those: whatever --jobs each shard uses, shards stay disjoint. */
export function partsOf(seed: number, budget: number, shard: { k: number; n: number }, jobs: number): PartSpec[] {
  const parts: PartSpec[] = [];
  for (let j = 0; j < jobs; j++) {
    const count = Math.floor(budget / jobs) + (j < budget % jobs ? 1 : 0);
    if (count > 0) parts.push({ seed, budget, part: shard.k - 1 + shard.n * j, stride: shard.n * jobs, count });
  }
  return parts;
}

function sumParts(rs: PartResult[]): ExploreReport['explored'] {
  const e: ExploreReport['explored'] = { deliveries: 0, systematic: 0, random: 0, mutated: 0, events: 0, rcvqRuns: 0, runs: 0, systematicSpace: rs[0]?.systematicSpace ?? 0, features: [], corpus: [] };
  let f = 0, c = 0;
  for (const r of rs) {
    e.deliveries += r.deliveries; e.systematic += r.systematic; e.random += r.random; e.mutated += r.mutated;
    e.events += r.events; e.rcvqRuns += r.rcvqRuns; e.runs += r.runs;
    f = Math.max(f, r.features); c += r.corpus;
  }
  e.features = [f];
  e.corpus = [c];
  return e;
}

function minimize(t: Target, failing: NonNullable<PartResult['failing']>, out: string, seed: number, shard: number, sim: SimOptions): Counterexample {
  const again = runDelivery(t, failing.evs);
  const start = again.finding ? again : null;
  if (!start) throw new Error(`internal: the failing delivery ${failing.iteration} did not fail again (${failing.message})`);
  const { outcome, attempts } = shrink(t, start);
  writeFileSync(out, counterexampleJson(t, outcome, out, { seed, iteration: failing.iteration }));
  let verified = false;
  try {
    const s = Simulation.fromFile(out, sim);
    const r = s.runAll();
    // `run` fails on a failed expect or a fault; an ignored helper error it only shows: the
    // replay must show the same call failing
    verified = outcome.finding!.kind === 'helper-error'
      ? r.results.some((x) => x.runs.some((tr) => tr.helpers.some((c) => c.pc === outcome.finding!.pc && BigInt.asIntN(64, c.ret) < 0n)))
      : r.failed > 0 || r.faulted;
  } catch { verified = false; }
  return {
    kind: outcome.finding!.kind,
    message: outcome.finding!.message,
    iteration: failing.iteration,
    shard,
    out,
    steps: outcome.steps.length,
    segments: outcome.concrete.filter((e) => e.k === 'seg').length,
    labels: labelsOf(outcome),
    shrinkAttempts: attempts,
    verified,
  };
}

/** The counterexample's steps after the setup as `run` labels them, with the expect that fails. */
function labelsOf(o: Outcome): string[] {
  const f = o.finding!;
  const labels = o.steps.map((x) => x.label);
  const last = o.steps[o.steps.length - 1];
  if (f.expect && !(f.kind === 'expect' && last?.step.kind === 'expect')) {
    labels.push('expect ' + Object.entries(f.expect).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' '));
  }
  return labels;
}

/** Combines the JSON reports of shards (explore merge). Throws with the file's name on a report
 *  that is not one or belongs to another scenario/seed/budget. */
export function mergeReports(reports: { file: string; report: unknown }[]): ExploreReport {
  let merged: ExploreReport | null = null;
  for (const { file, report } of reports) {
    const r = report as ExploreReport;
    if (!r || typeof r !== 'object' || r.tool !== 'bpf-sockops explore' || !r.explored || !Array.isArray(r.shards)) {
      throw new Error(`${file}: not a bpf-sockops explore JSON report (write one with explore --format json)`);
    }
    if (!merged) { merged = JSON.parse(JSON.stringify(r)) as ExploreReport; continue; }
    if (r.scenario !== merged.scenario || r.seed !== merged.seed || r.budget !== merged.budget) {
      throw new Error(`${file}: a report of ${r.scenario} (seed ${r.seed}, budget ${r.budget}); the others are of ${merged.scenario} (seed ${merged.seed}, budget ${merged.budget}): merge the shards of one campaign`);
    }
    for (const s of r.shards) {
      if (merged.shards.some((m) => m.k === s.k && m.n === s.n)) throw new Error(`${file}: shard ${s.k}/${s.n} is already in the merge (given twice?)`);
    }
    merged.shards.push(...r.shards);
    const e = merged.explored, x = r.explored;
    e.deliveries += x.deliveries; e.systematic += x.systematic; e.random += x.random; e.mutated += x.mutated;
    e.events += x.events; e.rcvqRuns += x.rcvqRuns; e.runs += x.runs;
    e.features.push(...x.features); e.corpus.push(...x.corpus);
    merged.ms = Math.max(merged.ms, r.ms);
    merged.originalFails ||= r.originalFails;
    const c = r.counterexample;
    if (c && (!merged.counterexample || c.shard < merged.counterexample.shard || (c.shard === merged.counterexample.shard && c.iteration < merged.counterexample.iteration))) merged.counterexample = c;
  }
  if (!merged) throw new Error('explore merge: give the JSON reports to merge');
  merged.shards.sort((a, b) => a.k - b.k);
  return merged;
}
