// `bpf-sockops explore SCENARIO.json [--seed N] [--budget N] [--out FILE] [--format text|json]
// [--jobs N] [--shard K/N]` and `bpf-sockops explore merge REPORT.json...` (issue 14).
// Exit 1 with a minimized failing scenario written to --out when a counterexample is found, 0
// when the budget is exhausted without one, 2 on bad input.
import { readFileSync } from 'node:fs';
import { explore, mergeReports, TargetError, type ExploreOptions, type ExploreReport } from '../debugger/explore/index';
import { ScenarioError } from '../debugger/scenario/index';

export { exploreWorkerMain } from '../debugger/explore/index';

export interface CliIo { out: (s: string) => void; err: (s: string) => void }

const USAGE = `usage: bpf-sockops explore SCENARIO.json [--seed N] [--budget N] [--out FILE] [--format text|json] [--jobs N] [--shard K/N]
       bpf-sockops explore merge REPORT.json... [--format text|json]`;

export async function exploreCommand(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'merge') return mergeCommand(args.slice(1), io);
  const bad = (msg: string): number => { io.err(`bpf-sockops explore: ${msg}\n${USAGE}\n`); return 2; };
  let file: string | undefined;
  let format: 'text' | 'json' = 'text';
  const opts: ExploreOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : args[++i]);
    const int = (what: string, min: number, max: number): number | null => {
      const v = value();
      if (v === undefined || !/^\d+$/.test(v) || +v < min || +v > max) { bad(`${what} takes an integer from ${min} to ${max}${v === undefined ? '' : `, not ${JSON.stringify(v)}`}`); return null; }
      return +v;
    };
    switch (name) {
      case '--seed': { const n = int('--seed', 0, 0xffffffff); if (n === null) return 2; opts.seed = n; break; }
      case '--budget': { const n = int('--budget', 1, 1e9); if (n === null) return 2; opts.budget = n; break; }
      case '--jobs': { const n = int('--jobs', 1, 256); if (n === null) return 2; opts.jobs = n; break; }
      case '--out': { const v = value(); if (!v) return bad('--out needs a file name'); opts.out = v; break; }
      case '--format': {
        const v = value();
        if (v !== 'text' && v !== 'json') return bad(`--format must be text or json, not ${JSON.stringify(v)}`);
        format = v;
        break;
      }
      case '--shard': {
        const v = value() ?? '';
        const m = /^(\d+)\/(\d+)$/.exec(v);
        if (!m || +m[1]! < 1 || +m[1]! > +m[2]! || +m[2]! > 1e6) return bad(`--shard takes K/N with 1 <= K <= N (e.g. 2/8), not ${JSON.stringify(v)}`);
        opts.shard = { k: +m[1]!, n: +m[2]! };
        break;
      }
      case '--program': { const v = value(); if (!v) return bad('--program needs a file'); opts.program = v; break; }
      case '--profile': { const v = value(); if (!v) return bad('--profile needs a name'); opts.profile = v; break; }
      case '-h': case '--help': io.out(USAGE + '\n'); return 0;
      default:
        if (a.startsWith('-')) return bad(`unknown option ${a}`);
        if (file !== undefined) return bad(`one scenario at a time (got ${file} and ${a})`);
        file = a;
    }
  }
  if (!file) return bad('give the scenario to explore');
  let report: ExploreReport;
  try {
    report = await explore(file, opts);
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof TargetError || e instanceof Error) {
      io.err(`bpf-sockops explore: ${process.env.BPF_SOCKOPS_DEBUG ? (e.stack ?? e.message) : e.message}\n`);
      return 2;
    }
    throw e;
  }
  print(report, format, io);
  return report.counterexample ? 1 : 0;
}

async function mergeCommand(args: string[], io: CliIo): Promise<number> {
  let format: 'text' | 'json' = 'text';
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--format' || a.startsWith('--format=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v !== 'text' && v !== 'json') { io.err(`bpf-sockops explore merge: --format must be text or json\n${USAGE}\n`); return 2; }
      format = v;
    } else if (a.startsWith('-')) { io.err(`bpf-sockops explore merge: unknown option ${a}\n${USAGE}\n`); return 2; }
    else files.push(a);
  }
  if (!files.length) { io.err(`bpf-sockops explore merge: give the JSON reports of the shards\n${USAGE}\n`); return 2; }
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
  print(merged, format, io);
  return merged.counterexample ? 1 : 0;
}

function print(r: ExploreReport, format: 'text' | 'json', io: CliIo): void {
  if (format === 'json') { io.out(JSON.stringify(r, null, 2) + '\n'); return; }
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
