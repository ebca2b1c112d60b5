// --jobs N: the parts of a shard run in worker threads, each with its own simulated kernel
// (the scenario is prepared again in each). The first part to find a counterexample stops the
// others (a shared flag). In a bundle (dist/cli.js) the worker loads the bundle and calls its
// exploreWorkerMain(); from sources (tsx) it registers tsx and loads this file.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Simulation, type SimOptions } from '../sim';
import { searchPart, type PartResult, type PartSpec } from './search';
import { makeTarget } from './target';
import { SEARCH_YOUNG_GENERATION_MB } from './heap';

interface WorkerInput {
  file: string;
  sim: SimOptions;
  part: PartSpec;
  stop: SharedArrayBuffer;
}

/** The code a worker runs first: load the module that exports exploreWorkerMain. */
function workerBootstrap(): string | null {
  const self = __filename;
  if (self.endsWith('.ts')) {
    let api: string;
    try { api = require.resolve('tsx/cjs/api'); } catch { return null; }
    return `require(${JSON.stringify(api)}).register(); require(${JSON.stringify(self)}).exploreWorkerMain();`;
  }
  // bundled: this code is inside the bundle, which must export exploreWorkerMain
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (typeof (require(self) as { exploreWorkerMain?: unknown }).exploreWorkerMain !== 'function') return null;
  } catch { return null; }
  return `require(${JSON.stringify(self)}).exploreWorkerMain();`;
}

/** In a worker thread: run the part in workerData, post the PartResult. */
export function exploreWorkerMain(): void {
  if (isMainThread || !parentPort) return;
  const input = workerData as WorkerInput;
  const flag = new Int32Array(input.stop);
  try {
    const t = makeTarget(Simulation.prepare(input.file, input.sim));
    const r = searchPart(t, input.part, () => Atomics.load(flag, 0) !== 0);
    if (r.failing) Atomics.store(flag, 0, 1);
    parentPort.postMessage({ ok: true, result: r });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: (e as Error).message });
  }
}

/** Runs the parts, in worker threads when there is more than one and workers can start;
 *  else one after the other here. */
export async function runParts(file: string, sim: SimOptions, parts: PartSpec[], inThread: (p: PartSpec, stop: () => boolean) => Promise<PartResult>, signal?: AbortSignal): Promise<PartResult[]> {
  const boot = parts.length > 1 ? workerBootstrap() : null;
  if (!boot) {
    const out: PartResult[] = [];
    let found = false;
    for (const p of parts) {
      const r = await inThread(p, () => found);
      if (r.failing) found = true;
      out.push(r);
    }
    return out;
  }
  const stop = new SharedArrayBuffer(4);
  signal?.addEventListener('abort', () => Atomics.store(new Int32Array(stop), 0, 1), { once: true });
  return Promise.all(parts.map((part) => new Promise<PartResult>((resolve, reject) => {
    const w = new Worker(boot, { eval: true, workerData: { file, sim, part, stop } satisfies WorkerInput, resourceLimits: { maxYoungGenerationSizeMb: SEARCH_YOUNG_GENERATION_MB } });
    let done = false;
    w.on('message', (m: { ok: boolean; result?: PartResult; error?: string }) => {
      done = true;
      void w.terminate();
      if (m.ok) resolve(m.result!);
      else reject(new Error(m.error));
    });
    w.on('error', (e) => { if (!done) { done = true; reject(e); } });
    w.on('exit', (code) => { if (!done) reject(new Error(`an explore worker exited with code ${code}`)); });
  })));
}
