// The debugger's gate (issue 11): the words the extension's launch dialog and the debug adapter
// use for a program the verifier rejects, so both say the same. Only a type import: the
// extension loads this at activation.
import type { ProgramVerdict } from './index';

/** `the kernel's verifier will reject NAME (SEC("S")): FILE:LINE:COL: WORDS (insn N): SENTENCE`. */
export function refusalText(v: ProgramVerdict): string {
  const where = v.file ? `${v.file}:${v.line ?? 0}:${v.column ?? 0}: ` : '';
  return `the kernel's verifier will reject ${v.program} (SEC("${v.section}")): ${where}${v.kernelMessage ?? 'rejected'} (insn ${v.insn ?? '?'}): ${v.explanation ?? ''}`.trim();
}

/** What to do about it, in the launch configuration's terms. */
export const IGNORE_HINT = 'set "ignoreVerifier": true in the launch configuration to run it in the emulator anyway';

/** The first stop's description when the user chose to run it anyway. */
export function ignoredNote(rejected: ProgramVerdict[]): string {
  return `the emulator runs ${rejected.map((v) => v.program).join(', ')}, which the kernel would refuse to load (ignoreVerifier)`;
}
