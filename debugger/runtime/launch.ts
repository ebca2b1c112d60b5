// The launch configuration of the debugger: validate it, prepare the scenario (compile a .c,
// load the object) once, and say clearly what is wrong when that fails.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SimPort } from './sim-port';
import { verifyObject } from '../verifier';
import { ignoredNote, refusalText } from '../verifier/gate';

export interface LaunchArgs {
  /** The hook: a .c (compiled with clang -target bpf -O2 -g) or a .o. Overrides the scenario's "program". */
  program?: string;
  /** The scenario file (*.scenario.json). */
  scenario?: string;
  stopOnEntry?: boolean;
  /** clang to use (default: $BPF_SOCKOPS_CLANG, clang-19 or clang on PATH). */
  compiler?: string;
  compilerArgs?: string[];
  /** Kernel profile (default: the scenario's, else autolowat-sockops-v3). */
  profile?: string;
  cwd?: string;
  /** Debug a program the verifier rejects (the emulator runs what the kernel would refuse). */
  ignoreVerifier?: boolean;
}

export class LaunchError extends Error {
  override name = 'LaunchError';
}

function fileArg(what: string, p: string, cwd: string): string {
  const abs = isAbsolute(p) ? p : resolve(cwd, p);
  if (!existsSync(abs)) throw new LaunchError(`${what} ${abs} does not exist: fix "${what}" in the launch configuration (relative paths start at ${cwd})`);
  if (!statSync(abs).isFile()) throw new LaunchError(`${what} ${abs} is not a file`);
  return abs;
}

export async function openLaunch(a: LaunchArgs): Promise<{ factory: SimPort; programPath: string; notes: string[]; refused?: string }> {
  const cwd = a.cwd ?? process.cwd();
  if (!a.scenario) throw new LaunchError('the launch configuration has no "scenario": give the path of a *.scenario.json file (its steps drive the hook)');
  const scenario = fileArg('scenario', a.scenario, cwd);
  const program = a.program ? fileArg('program', a.program, cwd) : undefined;
  if (program && !/\.(c|o)$/.test(program)) throw new LaunchError(`program ${program} is neither a .c nor a .o: point "program" at the hook's C source or its compiled object`);
  if (a.compilerArgs !== undefined && (!Array.isArray(a.compilerArgs) || a.compilerArgs.some((x) => typeof x !== 'string'))) {
    throw new LaunchError('"compilerArgs" must be an array of strings, e.g. ["-I", "include"]');
  }
  // compileBpf (debugger/scenario/compile.ts) adds the users' header and the multiarch include folder.
  const args = [...(a.compilerArgs ?? [])];
  const notes: string[] = [];
  const factory = SimPort.prepare(scenario, { program, compiler: a.compiler, compilerArgs: args, profile: a.profile });
  const programPath = factory.prepared.programFile;
  notes.push(`bpf-sockops: ${factory.prepared.scenario.file} with ${programPath} (${factory.prepared.object.programs.map((p) => `${p.name} in SEC("${p.section}")`).join(', ')}), profile ${factory.profile.name}`);
  // ignoreVerifier: the user chose to debug a program the verifier rejects (the extension asked
  // before launch): say so in the console and at the first stop. Without it nothing is checked
  // here, so DAP clients and tests that debug faulting programs on purpose are not refused.
  if (a.ignoreVerifier) {
    const rejected = verifyObject(factory.prepared.object, { profile: factory.profile.name }).filter((v) => v.verdict === 'rejected');
    if (rejected.length) {
      notes.push(...rejected.map((v) => `bpf-sockops: ${refusalText(v)}`), `bpf-sockops: ${ignoredNote(rejected)}`);
      return { factory, programPath, notes, refused: ignoredNote(rejected) };
    }
  }
  return { factory, programPath, notes };
}
