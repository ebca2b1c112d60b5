// Long jobs (explore, compile + verify) off the extension host's thread, as ./runWorker does for
// runs: a worker loads this same bundle (with an empty stand-in for `vscode`) and calls its
// `hookTask(kind, args, signal)`. Cancel posts a message that aborts the job's signal (explore
// stops at its next yield and reports what it explored); `stop()` ends the worker at once.
// Without a bundle (unit tests under tsx) the job runs in this thread.
import { Worker } from 'node:worker_threads';
import type { ExploreTaskOptions, HookVerdicts, VerifyTaskOptions } from './hookTasks';
import type { ExploreReport } from '../debugger/explore/index';

export interface TaskKinds {
  explore: { args: [file: string, opts: ExploreTaskOptions]; result: { report?: ExploreReport; error?: string } };
  verify: { args: [file: string, opts: VerifyTaskOptions]; result: HookVerdicts };
}
export type TaskKind = keyof TaskKinds;

/** The bundle's entry for the worker (exported by ./main). */
export async function hookTask(kind: TaskKind, args: unknown[], signal?: AbortSignal): Promise<unknown> {
  const jobs = await import('./hookJobs'); // the emulator, verifier and search load on first use
  if (kind === 'explore') return jobs.exploreTask(args[0] as string, args[1] as ExploreTaskOptions, signal);
  if (kind === 'verify') return jobs.verifyHookTask(args[0] as string, args[1] as VerifyTaskOptions);
  throw new Error(`unknown task ${String(kind)}`);
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? {} : load.call(this, request, ...rest); };
const ac = new AbortController();
parentPort.on('message', (m) => { if (m === 'cancel') ac.abort(); });
Promise.resolve().then(() => require(workerData.bundle).hookTask(workerData.kind, workerData.args, ac.signal)).then(
  (result) => { parentPort.postMessage({ result }); parentPort.close(); },
  (e) => { parentPort.postMessage({ error: String((e && e.message) || e) }); parentPort.close(); });
`;

export interface RunningTask<T> {
  result: Promise<T>;
  /** Ask the job to stop (explore reports what it explored so far). */
  cancel(): void;
  /** End the job now; its promise rejects with 'stopped'. */
  stop(): void;
}

export class TaskStopped extends Error { override name = 'TaskStopped'; }

/** Start `kind` in a worker of `bundle` (or here without one). */
export function startTask<K extends TaskKind>(bundle: string | undefined, kind: K, ...args: TaskKinds[K]['args']): RunningTask<TaskKinds[K]['result']> {
  if (!bundle) {
    const ac = new AbortController();
    let stopped = false;
    const result = hookTask(kind, args, ac.signal).then((r) => { if (stopped) throw new TaskStopped('stopped'); return r as TaskKinds[K]['result']; });
    return { result, cancel: () => ac.abort(), stop: () => { stopped = true; ac.abort(); } };
  }
  const w = new Worker(WORKER, { eval: true, workerData: { bundle, kind, args } });
  let settle: { ok: (v: TaskKinds[K]['result']) => void; fail: (e: Error) => void } | undefined;
  const result = new Promise<TaskKinds[K]['result']>((ok, fail) => { settle = { ok, fail }; });
  const finish = (f: () => void) => { if (!settle) return; f(); settle = undefined; void w.terminate(); };
  w.on('message', (m: { result?: TaskKinds[K]['result']; error?: string }) => finish(() => ('error' in m && m.error !== undefined ? settle!.fail(new Error(m.error)) : settle!.ok(m.result!))));
  w.on('error', (e) => finish(() => settle!.fail(new Error(`the ${kind} worker failed: ${e.message}`))));
  w.on('exit', (code) => finish(() => settle!.fail(new Error(`the ${kind} worker exited (code ${code})`))));
  return {
    result,
    cancel: () => { if (settle) w.postMessage('cancel'); },
    stop: () => finish(() => settle!.fail(new TaskStopped('stopped'))),
  };
}
