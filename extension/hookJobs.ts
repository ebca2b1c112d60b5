// The long jobs the editor hands to a worker thread (./taskWorker): exploring a scenario, and
// compiling + verifying a hook. Plain TypeScript (no vscode); loaded on first use (the emulator,
// the verifier and the search are not needed at activation). Results are facts (./hookTasks).
import { basename, resolve } from 'node:path';
import { explore, type ExploreReport } from '../debugger/explore/index';
import { loadObject, ObjectError } from '../debugger/object';
import { CompileError, compileBpf } from '../debugger/scenario/compile';
import { verifyObject } from '../debugger/verifier';
import { FileReadError, readFileBounded } from '../io/files';
import { profileForStructs } from '../sockops/choose';
import { parseClangOutput, type ExploreTaskOptions, type HookVerdicts, type VerifyTaskOptions } from './hookTasks';

/** explore() with one job (workers inside the editor's worker are not needed: a search yields
 *  often, and Cancel aborts `signal`). Errors come back as `error` with the message. */
export async function exploreTask(file: string, o: ExploreTaskOptions, signal?: AbortSignal): Promise<{ report?: ExploreReport; error?: string }> {
  try {
    const report = await explore(file, { ...o, jobs: 1, ...(signal ? { signal } : {}) });
    return { report };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Compile a .c (or read a .o) and run the verifier with its log on every program. */
export function verifyHookTask(file: string, o: VerifyTaskOptions = {}): HookVerdicts {
  const abs = resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = /\.c$/i.test(abs) ? compileBpf(abs, { compiler: o.compiler, args: o.compilerArgs }) : new Uint8Array(readFileBounded(abs, 'object').bytes);
  } catch (e) {
    if (e instanceof CompileError) return { file: abs, verdicts: [], compile: { diagnostics: parseClangOutput(e.detail, resolve(abs, '..')), text: e.detail } };
    if (e instanceof FileReadError) return { file: abs, verdicts: [], error: e.message };
    throw e;
  }
  try {
    const obj = loadObject(bytes, abs);
    // a struct bpf_tcp_ops object is judged against its own profile (as `bpf-sockops verify` does)
    const profile = profileForStructs((obj.structOps ?? []).map((m) => m.struct)) ?? o.profile;
    const verdicts = verifyObject(obj, { log: true, ...(profile ? { profile } : {}), ...(o.perfmon === false ? { perfmon: false } : {}) });
    return { file: abs, verdicts: verdicts.filter((v) => v.verdict !== 'skipped') };
  } catch (e) {
    if (e instanceof ObjectError) return { file: abs, verdicts: [], error: e.message };
    return { file: abs, verdicts: [], error: `${basename(abs)}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

