// Facts of the long jobs (./hookJobs) and how the editor words them: clang's diagnostics parsed
// with their locations, a rejection's text and place, the verifier log. Plain TypeScript (no
// vscode) and no heavy imports (loaded at activation); ./verifyOnSave and ./debug present them.
import { basename, resolve } from 'node:path';
import type { ProgramVerdict } from '../debugger/verifier';
import { refusalText } from '../debugger/verifier/gate';
import type { EDITOR_CODES } from '../server/codes';

/** The code of a verifier rejection in Problems (same source as the language server's; listed
 *  with the server's codes in server/codes.ts). */
export const VERIFIER_CODE: keyof typeof EDITOR_CODES = 'SOCKOPS007';
export const VERIFIER_HEADLINE = "the kernel's verifier will reject this program";
/** The code of a clang error in Problems. */
export const CLANG_SOURCE = 'clang';

export interface ExploreTaskOptions {
  program?: string;
  compiler?: string;
  compilerArgs?: string[];
  profile?: string;
  budget?: number;
  out?: string;
}

/** One clang diagnostic: `FILE:LINE:COL: error: MESSAGE` (1-based line and column). */
export interface ClangDiagnostic { file: string; line: number; column: number; severity: 'error' | 'warning' | 'note'; message: string }

/** clang's stderr into diagnostics; the notes and code excerpts that follow one are left to the
 *  log. Relative file names are resolved against `cwd`. */
export function parseClangOutput(text: string, cwd = process.cwd()): ClangDiagnostic[] {
  const out: ClangDiagnostic[] = [];
  for (const line of text.split('\n')) {
    const m = /^(.+?):(\d+):(\d+): (fatal error|error|warning|note): (.*)$/.exec(line.trimEnd());
    if (!m) continue;
    const sev = m[4] === 'fatal error' ? 'error' : (m[4] as ClangDiagnostic['severity']);
    out.push({ file: resolve(cwd, m[1]!), line: +m[2]!, column: +m[3]!, severity: sev, message: m[5]! });
  }
  return out;
}

export interface HookVerdicts {
  /** The file compiled or read. */
  file: string;
  /** Programs the verifier judged (skipped sections left out), with the kernel-style log. */
  verdicts: ProgramVerdict[];
  /** The compile failed: clang's diagnostics (may be empty when clang printed none) and its text. */
  compile?: { diagnostics: ClangDiagnostic[]; text: string };
  /** Any other failure (no such file, not an object). */
  error?: string;
}

export interface VerifyTaskOptions { compiler?: string; compilerArgs?: string[]; profile?: string; perfmon?: boolean }

/** The Problems message of a rejection: the verifier's words, then the plain sentence. */
export function rejectionText(v: ProgramVerdict): string {
  return `${VERIFIER_HEADLINE}: ${v.kernelMessage ?? 'rejected'} (${v.program}, insn ${v.insn ?? '?'}): ${v.explanation ?? ''}`.trim();
}

/** One line for the log, a dialog and the debugger (debugger/verifier/gate: the adapter's words). */
export const rejectionLine = refusalText;

/** A rejection's place in the C source: 0-based line and column for an editor range (the start
 *  of the line when line_info has no column). `file` is the line_info file resolved against the
 *  compiled file's folder. */
export function rejectionRange(v: ProgramVerdict, compiledFile: string): { file: string; line: number; column: number } | undefined {
  if (!v.file || !v.line) return undefined;
  return { file: resolve(compiledFile, '..', v.file), line: v.line - 1, column: Math.max(0, (v.column ?? 1) - 1) };
}

/** The verifier log of every program, as the kernel prints it with `-v`, for the log document. */
export function verifierLogText(h: HookVerdicts): string {
  const parts: string[] = [];
  for (const v of h.verdicts) {
    parts.push(`# ${v.program} (SEC("${v.section}")): ${v.verdict}${v.verdict === 'rejected' ? ` at insn ${v.insn}` : ` (${v.processed} insns processed)`}`);
    parts.push(...v.log);
    if (v.verdict === 'rejected') parts.push('', rejectionLine(v));
    parts.push('');
  }
  return parts.join('\n');
}

/** Whether the debugger should refuse a launch, and the dialog's words (the adapter's, see
 *  debugger/verifier/gate). A compile failure is left to the launch, which reports it. */
export function launchRefusal(h: HookVerdicts): { message: string; detail: string } | undefined {
  const rejected = h.verdicts.filter((v) => v.verdict === 'rejected');
  if (!rejected.length) return undefined;
  return {
    message: `Not debugging ${basename(h.file)}: ${rejected.length === 1 ? `the kernel's verifier will reject ${rejected[0]!.program}` : `the kernel's verifier will reject ${rejected.map((v) => v.program).join(', ')}`}.`,
    detail: `${rejected.map(refusalText).join('\n\n')}\n\nDebug Anyway runs it in the emulator, which does not refuse it (the kernel would); the first stop says so.`,
  };
}
