// Which scenario files exercise which hook. A scenario names its `program` (a .c or a .o) relative to
// the scenario file; a hook `x.bpf.c` matches a scenario whose program is `x.bpf.c` or `x.bpf.o` in the
// same directory. Plain TS (no vscode), on POSIX-style or native paths.
import * as path from 'node:path';

/** Absolute path of the scenario's program. */
export function resolveProgram(scenarioFile: string, program: string): string {
  return path.resolve(path.dirname(scenarioFile), program);
}

const stem = (p: string) => p.replace(/\.(c|o)$/i, '');

/** True when the scenario's program is the hook itself or the object compiled from it. */
export function scenarioTargetsHook(scenarioFile: string, program: string | undefined, hookFile: string): boolean {
  if (!program) return false;
  const prog = resolveProgram(scenarioFile, program);
  return path.resolve(prog) === path.resolve(hookFile) || stem(path.resolve(prog)) === stem(path.resolve(hookFile));
}

/** The launch configuration the debugger gets for a scenario (contract of the debug adapter). */
export interface LaunchConfig {
  type: 'bpf-sockops';
  request: 'launch';
  name: string;
  program: string;
  scenario: string;
  stopOnEntry: boolean;
  compiler?: string;
  compilerArgs?: string[];
  [key: string]: unknown;
}

/** Launch config for debugging `scenarioFile`; `program` overrides the scenario's own (e.g. the .c
 *  instead of the prebuilt .o, so breakpoints follow the edited source). */
export function launchConfigFor(scenarioFile: string, program: string, stopOnEntry = false): LaunchConfig {
  return {
    type: 'bpf-sockops', request: 'launch',
    name: `${path.basename(program)} \u25b8 ${path.basename(scenarioFile)}`,
    program, scenario: scenarioFile, stopOnEntry,
  };
}

/** Why no scenario runs a hook's function, in words, and the scenario to open to fix it (one
 *  that runs the file but names another "sockops"). `scenarios`: every scenario of the workspace. */
export function noScenarioReason(hookFile: string, func: string | undefined, scenarios: { file: string; program?: string; sockops?: string }[]): { message: string; open?: string } {
  const base = path.basename(hookFile);
  const forFile = scenarios.filter((s) => scenarioTargetsHook(s.file, s.program, hookFile));
  if (!forFile.length) {
    return { message: `No *.scenario.json in the workspace runs ${base}: a scenario's "program" must name ${base} or its .o (relative to the scenario file).` };
  }
  const other = forFile.filter((s) => s.sockops && func && s.sockops !== func);
  const names = [...new Set(other.map((s) => `"${s.sockops}"`))].join(', ');
  const which = other.map((s) => path.basename(s.file)).join(', ');
  return {
    message: `${which} run${other.length === 1 ? 's' : ''} ${base} but name${other.length === 1 ? 's' : ''} "sockops": ${names}; ${base}'s SEC("sockops") function is ${func}. Fix the name in the scenario (the editor marks it).`,
    open: other[0]?.file,
  };
}
