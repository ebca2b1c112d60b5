// The verifier's public surface: verifyObject() gives, per program of an object, the predicted
// verdict of the kernel's verifier with the rejecting instruction, its C location (line_info)
// and the kernel's message plus a plain sentence. The CLI, the language server and the debug
// adapter read these facts; the walk itself is ./check.ts.
import type { BpfObject, BpfProgram, LineInfo } from '../object/types';
import type { ProgType } from '../../sockops/types';
import { checkProgram, type ErrorKind } from './check';
import { explain } from './messages';

export { checkProgram, VerifierReject, COMPLEXITY_LIMIT, type CheckOptions, type CheckResult, type ErrorKind } from './check';

/** Program type of a SEC() name (libbpf's names), or undefined for other sections. */
export function progTypeOfSection(section: string): ProgType | undefined {
  if (section === 'sockops' || section.startsWith('sockops/')) return 'sock_ops';
  if (section === 'cgroup/setsockopt') return 'cgroup_setsockopt';
  if (section === 'cgroup/getsockopt') return 'cgroup_getsockopt';
  return undefined;
}

export interface VerifyOptions {
  profile?: string;
  /** Loader has CAP_PERFMON (default true). */
  perfmon?: boolean;
  /** Collect the kernel-style log. */
  log?: boolean;
  /** Processed-instruction limit (default the kernel's 1,000,000; tests use less). */
  limit?: number;
}

export interface ProgramVerdict {
  program: string;
  section: string;
  progType: ProgType | undefined;
  verdict: 'accepted' | 'rejected' | 'skipped';
  /** Instructions the walk processed (the kernel's "processed N insns"). */
  processed: number;
  /** Rejecting instruction (slot index in the loaded program). */
  insn?: number;
  file?: string;
  line?: number;
  column?: number;
  /** The kernel's wording. */
  kernelMessage?: string;
  /** One plain sentence with the fix. */
  explanation?: string;
  kind?: ErrorKind;
  log: string[];
}

export function lineAt(prog: BpfProgram, pc: number): LineInfo | undefined {
  let best: LineInfo | undefined;
  for (const l of prog.lineInfo) {
    if (l.pc > pc) break;
    best = l;
  }
  return best;
}

export function verifyProgram(obj: BpfObject, prog: BpfProgram, opts: VerifyOptions = {}): ProgramVerdict {
  const progType = progTypeOfSection(prog.section);
  if (!progType) return { program: prog.name, section: prog.section, progType, verdict: 'skipped', processed: 0, log: [] };
  const r = checkProgram(obj, prog, progType, { profile: opts.profile, perfmon: opts.perfmon, log: opts.log, ...(opts.limit ? { limit: opts.limit } : {}) });
  const out: ProgramVerdict = { program: prog.name, section: prog.section, progType, verdict: r.accepted ? 'accepted' : 'rejected', processed: r.processed, log: r.log };
  if (r.error) {
    const e = r.error;
    const li = lineAt(prog, e.pc);
    out.insn = e.pc;
    if (li) { out.file = li.file; out.line = li.line; out.column = li.col; }
    out.kernelMessage = e.kernelMessage.split('\n').pop();
    out.kind = e.kind;
    out.explanation = explain(e, { file: li?.file, line: li?.line, column: li?.col, text: li?.text });
  }
  return out;
}

/** Every program of the object (sections we do not verify come back as 'skipped'). */
export function verifyObject(obj: BpfObject, opts: VerifyOptions = {}): ProgramVerdict[] {
  return obj.programs.map((p) => verifyProgram(obj, p, opts));
}
