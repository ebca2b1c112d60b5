// Runs a scenario file in the emulator (in the extension host, no external process unless the
// program is a .c, which needs the compiler and so a trusted workspace) and returns what the
// timeline and the Testing view show: per step, the socket after the step and the expect result.

/** One mismatch of an expect step: the emulator's line ('rcvlowat is 8, expected 258'), split
 *  into its parts when it has that shape. */
export interface ExpectFailure { text: string; key?: string; expected?: string; actual?: string }

export interface StepOutcome {
  /** Index in the scenario's `steps` array; -1 for the passive open that precedes them. */
  index: number;
  kind: string;
  /** What happened (`send 258`, `recv 100`). */
  label: string;
  readable: number;
  rcvlowat: number;
  /** Cumulative sk_data_ready() wakeups after this step. */
  wakeups: number;
  epoll: boolean;
  /** Program runs during this step, one line each (`tcp_autolowat RCVQ_CB r0=1 57 insns`). */
  programs: string[];
  expect?: { ok: boolean; failures: ExpectFailure[] };
  /** What an expect step asked for (plotted beside the actual values). */
  expected?: { rcvlowat?: number; readable?: number; epoll?: 0 | 1 };
  fault?: string;
}

export interface ScenarioRun {
  scenario: string;
  steps: StepOutcome[];
  passed: number;
  failed: number;
  /** A fault or error that stopped the run (program fault, compile error, bad scenario). */
  error?: { message: string; step?: number };
}

export interface RunOptions {
  /** Run this program instead of the scenario's own (e.g. the hook being edited). */
  program?: string;
  /** Compiler for a `.c` program; undefined means "do not compile" (Restricted Mode). */
  compiler?: { path: string; args: string[] };
  /** Why there is no compiler (shown if the program is a .c). */
  noCompilerReason?: string;
  kernelProfile?: string;
  /** Restricted Mode: the workspace folders; the scenario and its .o are read only from inside
   *  them (after following symlinks). */
  restrictTo?: string[];
}

export type ScenarioBackend = (scenarioFile: string, opts: RunOptions) => Promise<ScenarioRun>;

let backend: ScenarioBackend | undefined;
/** The emulator side registers itself here (see ./simBackend). */
export function setScenarioBackend(b: ScenarioBackend): void { backend = b; }

export async function runScenario(scenarioFile: string, opts: RunOptions): Promise<ScenarioRun> {
  if (!backend) throw new Error('the scenario emulator is not part of this build');
  return backend(scenarioFile, opts);
}

/** Text lines like `bpf-sockops run` prints, for the output channel. */
export function formatRun(r: ScenarioRun): string[] {
  const lines = r.steps.map((s) => {
    const ex = s.expect ? (s.expect.ok ? '  ok' : `  FAIL ${s.expect.failures.map((f) => f.text).join('; ')}`) : '';
    return `${s.index < 0 ? 'open   ' : `step ${String(s.index).padStart(2)}`}  ${s.label.padEnd(24)} rcvlowat=${s.rcvlowat} readable=${s.readable} epoll=${s.epoll ? 1 : 0} wakeups=${s.wakeups}${ex}${s.fault ? `  FAULT ${s.fault}` : ''}`;
  });
  if (r.error) lines.push(`error${r.error.step !== undefined ? ` at step ${r.error.step}` : ''}: ${r.error.message}`);
  lines.push(`${r.passed} passed, ${r.failed} failed`);
  return lines;
}
