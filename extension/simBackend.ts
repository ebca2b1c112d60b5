// Runs a scenario with the emulator (debugger/sim.ts) inside the extension host and turns its
// per-step results into ./run's model. Refuses a .c program when no compiler is allowed
// (Restricted Mode) before the simulation could look for one on its own.
import * as path from 'node:path';
import { FileReadError, checkRegularFile, readTextBounded } from '../io/files';
import type { Simulation, StepResult } from '../debugger/sim';
import { outlineScenario } from './scenarioDoc';
import { resolveProgram } from './scenarioMatch';
import { workerBackend } from './runWorker';
import { setScenarioBackend, type ExpectFailure, type RunOptions, type ScenarioRun, type StepOutcome } from './run';

/** In the editor: runs go to a worker that loads `bundle` (see ./runWorker). Without a bundle (unit
 *  tests under tsx): in this thread. */
export function registerSimBackend(bundle?: string): void {
  setScenarioBackend(bundle ? workerBackend(bundle) : runScenarioDirect);
}

/** 'rcvlowat is 8, expected 258' -> key/actual/expected. */
export function splitFailure(text: string): ExpectFailure {
  const m = /^(\w+) is (.*), expected (.*)$/.exec(text);
  return m ? { text, key: m[1], actual: m[2], expected: m[3] } : { text };
}

/** A register value as a kernel developer reads it: small signed numbers in decimal, pointers in hex. */
export function num(v: bigint): string {
  const s = BigInt.asIntN(64, v);
  return s >= -0x80000000n && s <= 0xffffffffn ? String(s) : '0x' + BigInt.asUintN(64, v).toString(16);
}

/** Runs of the same text collapse to one with a count: ['a', 'a', 'b'] -> ['a \u00d72', 'b']. */
export function squeeze(items: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length;) {
    let j = i;
    while (j < items.length && items[j] === items[i]) j++;
    out.push(j - i > 1 ? `${items[i]} \u00d7${j - i}` : items[i]!);
    i = j;
  }
  return out;
}

/** `opName` turns an op value into the kernel's short name (RCVQ_CB), from the run's ABI table. */
export function outcomeOf(r: StepResult, opName: (op: number) => string = (op) => `op ${op}`): StepOutcome {
  const o: StepOutcome = {
    index: r.step.scenarioStep ? r.step.scenarioStep.index : -1,
    kind: r.step.scenarioStep ? r.step.scenarioStep.step.kind : 'open',
    label: r.step.scenarioStep ? r.step.label : 'open',
    readable: r.sock.readable,
    rcvlowat: r.sock.sk_rcvlowat,
    wakeups: r.sock.wakeups,
    epoll: r.sock.epoll === 1,
    programs: r.runs.map((t) => `${t.program}${t.op !== undefined ? ` ${opName(t.op)}` : ''} r0=${num(t.r0)} ${t.insns} insns${t.helpers.length ? ` [${squeeze(t.helpers.map((h) => `${h.name}=${num(h.ret)}${h.errno ? ` ${h.errno}` : ''}`)).join(', ')}]` : ''}`),
  };
  if (r.expect) o.expect = { ok: r.expect.ok, failures: r.expect.failures.map(splitFailure) };
  const st = r.step.scenarioStep?.step;
  if (st?.kind === 'expect') {
    const e = st.expect;
    const want: NonNullable<StepOutcome['expected']> = {};
    if (e.rcvlowat !== undefined) want.rcvlowat = e.rcvlowat;
    if (e.readable !== undefined) want.readable = e.readable;
    if (e.epoll !== undefined) want.epoll = e.epoll;
    if (Object.keys(want).length) o.expected = want;
  }
  const fault = r.runs.find((t) => t.fault)?.fault;
  if (r.fault) o.fault = fault ? `pc ${fault.pc}${fault.line ? ` (${fault.line})` : ''}: ${fault.message}` : r.text;
  return o;
}

/** One scenario run in this thread. Exported from the bundle for the worker of ./runWorker. */
export async function runScenarioDirect(scenarioFile: string, opts: RunOptions): Promise<ScenarioRun> {
  const run: ScenarioRun = { scenario: scenarioFile, steps: [], passed: 0, failed: 0 };
  // The scenario is read once, here (a regular file, bounded; in Restricted Mode only from inside
  // the workspace), and its text handed to the simulation: no second read a rewrite could change.
  let scenarioText: string;
  const within = opts.restrictTo ? { within: opts.restrictTo } : {};
  try {
    scenarioText = readTextBounded(scenarioFile, 'scenario', within).text;
  } catch (e) {
    run.error = { message: e instanceof FileReadError ? e.message : String(e) };
    return run;
  }
  let program = opts.program;
  if (!program) {
    const p = outlineScenario(scenarioText).program?.value;
    if (p) program = resolveProgram(scenarioFile, p);
  }
  if (program && /\.c$/i.test(program) && !opts.compiler) {
    run.error = { message: `${path.basename(program)} is C source and ${opts.noCompilerReason ?? 'no compiler is allowed'}` };
    return run;
  }
  if (program && opts.restrictTo) {
    // Restricted Mode: the .o a scenario names is read only from inside the workspace, by its real path
    try {
      program = checkRegularFile(program, 'object', within);
    } catch (e) {
      run.error = { message: e instanceof FileReadError ? `${path.basename(scenarioFile)}: program: ${e.message}` : String(e) };
      return run;
    }
  }
  let sim: Simulation;
  try {
    // Loaded on first use: the emulator and the ABI tables would add ~10 ms to activation.
    const { Simulation } = await import('../debugger/sim');
    sim = Simulation.fromFile(scenarioFile, {
      scenarioText,
      ...(opts.program || (program && opts.restrictTo) ? { program } : {}),
      ...(opts.compiler ? { compiler: opts.compiler.path, compilerArgs: opts.compiler.args } : {}),
      ...(opts.kernelProfile ? { profile: opts.kernelProfile } : {}),
    });
  } catch (e) {
    run.error = { message: e instanceof Error ? e.message : String(e) };
    return run;
  }
  const table = sim.prepared.table;
  const opName = (op: number) => table.op(op)?.short ?? `op ${op}`;
  try {
    while (!sim.done) {
      const r = sim.stepOnce();
      run.steps.push(outcomeOf(r, opName));
    }
  } catch (e) {
    const at = sim.steps[sim.nextStep - 1]?.scenarioStep?.index;
    run.error = { message: `the simulation stopped: ${e instanceof Error ? e.message : String(e)}`, ...(at !== undefined ? { step: at } : {}) };
  }
  run.passed = sim.passed;
  run.failed = sim.failed;
  if (sim.faulted && !run.error) {
    const f = run.steps.find((s) => s.fault);
    run.error = { message: `a program faulted${f ? ` at ${f.index < 0 ? 'the open' : `step ${f.index}`}: ${f.fault}` : ''}`, ...(f && f.index >= 0 ? { step: f.index } : {}) };
  }
  return run;
}
