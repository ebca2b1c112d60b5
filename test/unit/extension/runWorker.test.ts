// Scenario runs in a worker thread that loads the built extension bundle (dist/extension.js): the
// same results as a run in this thread, and a run that overstays its time is stopped with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { workerBackend } from '../../../extension/runWorker';
import { runScenarioDirect } from '../../../extension/simBackend';

const BUNDLE = path.resolve('dist/extension.js');
const skip = fs.existsSync(BUNDLE) ? false : 'dist/extension.js not built (npm run build)';
const SCENARIO = path.resolve('examples/autolowat/case3-next-descriptor.scenario.json');

test('a worker run gives the same steps as a run in this thread', { skip }, async () => {
  const inWorker = await workerBackend(BUNDLE)(SCENARIO, {});
  const direct = await runScenarioDirect(SCENARIO, {});
  assert.equal(inWorker.error, undefined, inWorker.error?.message);
  assert.deepEqual(inWorker, direct);
});

test('a worker error comes back as the run error, not an exception', { skip }, async () => {
  const r = await workerBackend(BUNDLE)(path.resolve('examples/autolowat/no-such.scenario.json'), {});
  assert.equal(r.steps.length, 0);
  assert.match(r.error!.message, /no-such\.scenario\.json/);
});

test('a run past its time limit is stopped and says so', { skip }, async () => {
  const r = await workerBackend(BUNDLE, 1)(SCENARIO, {});
  assert.match(r.error!.message, /did not finish within 0\.001 s and was stopped/);
});
