// `bpf-sockops explore SCENARIO.json [--seed N] [--budget N] [--out FILE] [--format text|json]
// [--jobs N] [--shard K/N]` and `bpf-sockops explore merge REPORT.json...` (issue 14).
// Exit 1 with a minimized failing scenario written to --out when a counterexample is found, 0
// when the budget is exhausted without one, 2 on bad input.
import { readFileSync } from 'node:fs';
import { explore, mergeReports, TargetError, tuneHeapForSearch, type ExploreOptions, type ExploreReport } from '../debugger/explore/index';
import { ScenarioError } from '../debugger/scenario/index';
import { format, type Format, int, parseCommand, profile, shard, text } from './args';

export { exploreWorkerMain } from '../debugger/explore/index';

export interface CliIo { out: (s: string) => void; err: (s: string) => void }

const USAGE = `usage: bpf-sockops explore SCENARIO.json [--seed N] [--budget N] [--out FILE] [--format text|json] [--jobs N] [--shard K/N]
       bpf-sockops explore merge REPORT.json... [--format text|json]`;

const SPEC = {
  seed: int('--seed', 0, 0xffffffff), budget: int('--budget', 1, 1e9), jobs: int('--jobs', 1, 256), shard: shard(),
  out: text('--out', 'a file name'), format: format(), program: text('--program', 'a file'), profile: profile(),
};

export async function exploreCommand(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'merge') return mergeCommand(args.slice(1), io);
  const p = parseCommand('explore', USAGE, args, SPEC, io, { max: 1, noun: 'scenario', missing: 'give the scenario to explore' });
  if (typeof p === 'number') return p;
  const file = p.positional[0]!;
  const { format: fmt = 'text', seed, budget, jobs, shard: sh, out, program, profile: prof } = p.opts;
  const opts: ExploreOptions = {};
  if (seed !== undefined) opts.seed = seed;
  if (budget !== undefined) opts.budget = budget;
  if (jobs !== undefined) opts.jobs = jobs;
  if (sh !== undefined) opts.shard = sh;
  if (out !== undefined) opts.out = out;
  if (program !== undefined) opts.program = program;
  if (prof !== undefined) opts.profile = prof;
  let report: ExploreReport;
  try {
    tuneHeapForSearch(); // a process of its own: the larger young generation (debugger/explore/heap.ts)
    report = await explore(file, opts);
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof TargetError || e instanceof Error) {
      io.err(`bpf-sockops explore: ${process.env.BPF_SOCKOPS_DEBUG ? (e.stack ?? e.message) : e.message}\n`);
      return 2;
    }
    throw e;
  }
  print(report, fmt, io);
  return report.counterexample ? 1 : 0;
}

async function mergeCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand('explore merge', USAGE, args, { format: format() }, io, { missing: 'give the JSON reports of the shards' });
  if (typeof p === 'number') return p;
  const files = p.positional;
  const fmt = p.opts.format ?? 'text';
  let merged: ExploreReport;
  try {
    merged = mergeReports(files.map((file) => {
      let text: string;
      try { text = readFileSync(file, 'utf8'); } catch (e) { throw new Error(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
      try { return { file, report: JSON.parse(text) as unknown }; } catch (e) { throw new Error(`${file}: not JSON (${(e as Error).message}); give the files explore --format json wrote`); }
    }));
  } catch (e) {
    io.err(`bpf-sockops explore merge: ${(e as Error).message}\n`);
    return 2;
  }
  print(merged, fmt, io);
  return merged.counterexample ? 1 : 0;
}

function print(r: ExploreReport, fmt: Format, io: CliIo): void {
  if (fmt === 'json') { io.out(JSON.stringify(r, null, 2) + '\n'); return; }
  const e = r.explored;
  const shards = r.shards.length === 1 && r.shards[0]!.n === 1 ? '' : ` (shard${r.shards.length > 1 ? 's' : ''} ${r.shards.map((s) => `${s.k}/${s.n}`).join(', ')})`;
  io.out(`explored ${e.deliveries} deliveries of ${r.scenario}${shards}: ${e.systematic} systematic (of ${e.systematicSpace}), ${e.random} random, ${e.mutated} mutated; ` +
    `${e.events} events, ${e.rcvqRuns} RCVQ_CB runs, coverage ${e.features.join('+')} features; seed ${r.seed}, ${(r.ms / 1000).toFixed(1)} s\n`);
  if (r.originalFails) io.out('note: the scenario as written already fails `bpf-sockops run`\n');
  const c = r.counterexample;
  if (!c) {
    io.out(`no counterexample within the budget (${r.budget} deliveries per shard; raise --budget or change --seed to search further)\n`);
    return;
  }
  io.out(`counterexample (${c.kind}): ${c.message}\n`);
  io.out(`  found at delivery ${c.iteration}${r.shards.length > 1 ? ` of shard ${c.shard}` : ''}, shrunk to ${c.segments} segment${c.segments === 1 ? '' : 's'} and ${c.steps} step${c.steps === 1 ? '' : 's'} after the setup (${c.shrinkAttempts} tries)\n`);
  io.out(`  steps after the setup: ${c.labels.join(', ')}\n`);
  const replay = c.kind === 'helper-error'
    ? (c.verified ? ' (bpf-sockops run of it shows the failing call)' : ' (WARNING: bpf-sockops run of it does not show the failing call)')
    : (c.verified ? ' (bpf-sockops run of it fails)' : ' (WARNING: bpf-sockops run of it does not fail)');
  io.out(`  written to ${c.out}${replay}\n`);
}
