// Restricted Mode (runOptions sets restrictTo to the workspace folders): a run reads its scenario
// once and the scenario's .o only from inside the workspace after following symlinks; a FIFO named
// as the program is refused without blocking the run (the worker could not be interrupted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerSimBackend } from '../../../extension/simBackend';
import { runScenario } from '../../../extension/run';

registerSimBackend();
const EXAMPLE_O = path.resolve('examples/autolowat/autolowat.bpf.o');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ext-restricted-'));
const ws = path.join(root, 'ws');
fs.mkdirSync(ws);
const outside = path.join(root, 'outside.bpf.o');
fs.copyFileSync(EXAMPLE_O, outside);
fs.copyFileSync(EXAMPLE_O, path.join(ws, 'hook.bpf.o'));
fs.symlinkSync(outside, path.join(ws, 'link.bpf.o'));
execFileSync('mkfifo', [path.join(ws, 'fifo.bpf.o')]);
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

const scenario = (name: string, program: string) => {
  const p = path.join(ws, name);
  fs.writeFileSync(p, JSON.stringify({ program, stream: [{ zeros: 8 }], steps: [{ send: 8 }, { expect: { readable: 8 } }] }));
  return p;
};
const restricted = { restrictTo: [ws], noCompilerReason: 'Restricted Mode' };

test('untrusted: a .o inside the workspace runs; ../, an absolute path and a symlink out of it are not read', async () => {
  const ok = await runScenario(scenario('ok.scenario.json', 'hook.bpf.o'), restricted);
  assert.equal(ok.error, undefined);
  assert.equal(ok.passed, 1);
  for (const [name, program] of [['up.scenario.json', '../outside.bpf.o'], ['abs.scenario.json', outside], ['link.scenario.json', 'link.bpf.o']] as const) {
    const r = await runScenario(scenario(name, program), restricted);
    assert.equal(r.steps.length, 0, name);
    assert.match(r.error!.message, /resolves to .*outside\.bpf\.o, outside the workspace/, name);
  }
  // trusted, the same scenario reads the .o where it points
  assert.equal((await runScenario(path.join(ws, 'link.scenario.json'), {})).passed, 1);
});

test('a FIFO named as the program is refused at once, trusted or not', async () => {
  for (const opts of [restricted, {}]) {
    const r = await runScenario(scenario('fifo.scenario.json', 'fifo.bpf.o'), opts);
    assert.match(r.error!.message, /fifo\.bpf\.o: is a FIFO \(named pipe\), not a regular file/);
  }
});

test('untrusted: a scenario that is a symlink out of the workspace is not read', async () => {
  const real = path.join(root, 'elsewhere.scenario.json');
  fs.writeFileSync(real, JSON.stringify({ program: EXAMPLE_O, stream: [{ zeros: 8 }], steps: [{ send: 8 }] }));
  const link = path.join(ws, 'elsewhere.scenario.json');
  fs.symlinkSync(real, link);
  const r = await runScenario(link, restricted);
  assert.match(r.error!.message, /elsewhere\.scenario\.json: resolves to .*, outside the workspace/);
});
