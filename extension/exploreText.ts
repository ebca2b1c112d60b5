// What "Explore this scenario" says about a report: plain TypeScript (no vscode) so it is tested
// without the editor. The report's facts come from debugger/explore.
import * as path from 'node:path';
import type { ExploreReport } from '../debugger/explore/index';

export interface ExploreSummary {
  /** The notification's text. */
  message: string;
  /** Error (a counterexample) or information. */
  failed: boolean;
  /** The minimized failing scenario to open. */
  open?: string;
  /** Lines for the output channel. */
  log: string[];
}

export function summarizeExplore(r: ExploreReport): ExploreSummary {
  const name = path.basename(r.scenario);
  const e = r.explored;
  const how = `${e.deliveries} deliveries (${e.systematic} systematic, ${e.random} random, ${e.mutated} mutated), ${e.events} events, ${e.rcvqRuns} RCVQ_CB runs in ${(r.ms / 1000).toFixed(1)} s`;
  const log = [`explore ${r.scenario} (seed ${r.seed}, budget ${r.budget}): ${how}${r.cancelled ? ', cancelled' : ''}`];
  if (r.originalFails) log.push('the scenario as written already fails `run`');
  const c = r.counterexample;
  if (c) {
    log.push(`counterexample (${c.kind}) at delivery ${c.iteration}: ${c.message}`);
    log.push(`minimized to ${c.steps} steps, ${c.segments} segments (${c.shrinkAttempts} shrink attempts); run ${c.verified ? 'fails on it too' : 'does NOT fail on it (report this)'}: ${c.out}`);
    for (const l of c.labels) log.push(`  ${l}`);
    return { failed: true, open: c.out, log, message: `${name}: counterexample found (${c.kind}): ${c.message} \u2014 minimized to ${c.steps} steps, ${c.segments} segments in ${path.basename(c.out)}` };
  }
  const msg = r.cancelled
    ? `${name}: exploring cancelled after ${e.deliveries} deliveries; no counterexample among them`
    : `${name}: no counterexample in ${e.deliveries} deliveries (${e.events} events)${r.originalFails ? '; the scenario as written fails run' : ''}`;
  return { failed: r.originalFails, log, message: msg };
}
