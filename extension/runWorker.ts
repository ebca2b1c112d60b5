// Scenario runs off the extension host's thread: a worker loads this same bundle (with an empty
// stand-in for the `vscode` module, which only the editor process provides) and calls the emulator
// there. A .c program's compile (a synchronous clang call) or a long scenario then never freezes the
// editor, and a run that does not finish in time is stopped.
import { Worker } from 'node:worker_threads';
import type { RunOptions, ScenarioBackend, ScenarioRun } from './run';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? {} : load.call(this, request, ...rest); };
require(workerData.bundle).runScenarioDirect(workerData.scenario, workerData.opts).then(
  (run) => parentPort.postMessage({ run }),
  (e) => parentPort.postMessage({ error: String((e && e.message) || e) }));
`;

/** A backend that runs `runScenarioDirect` of `bundle` (dist/extension.js) in a worker thread. */
export function workerBackend(bundle: string, timeoutMs = 150_000): ScenarioBackend {
  return (scenario: string, opts: RunOptions) => new Promise<ScenarioRun>((resolve) => {
    const w = new Worker(WORKER, { eval: true, workerData: { bundle, scenario, opts } });
    let settled = false;
    const done = (r: ScenarioRun) => { if (settled) return; settled = true; clearTimeout(timer); void w.terminate(); resolve(r); };
    const fail = (message: string) => done({ scenario, steps: [], passed: 0, failed: 0, error: { message } });
    const timer = setTimeout(() => fail(`the run did not finish within ${timeoutMs / 1000} s and was stopped`), timeoutMs);
    w.on('message', (m: { run?: ScenarioRun; error?: string }) => (m.run ? done(m.run) : fail(m.error ?? 'the run failed')));
    w.on('error', (e) => fail(`the emulator worker failed: ${e.message}`));
    w.on('exit', (code) => fail(`the emulator worker exited (code ${code})`));
  });
}
