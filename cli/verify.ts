// `bpf-sockops verify FILE.o|FILE.c [--format text|json] [--profile P] [-v] [--no-perfmon]`
// (issue 11, design.md §5): the predicted verdict of the kernel's verifier for every sock_ops /
// cgroup sockopt program of the object. Text: one line per program,
//   NAME (SECTION): accepted (N insns processed)
//   NAME (SECTION): rejected: FILE:LINE:COL: MESSAGE
// (-v adds the kernel-style log before each line). JSON: an array of {program, section, verdict,
// insn, file, line, column, message}. Exit 0 iff every program is accepted, 1 if any is
// rejected, 2 for bad input (unreadable file, not an object, no program to verify, bad option).
import { FileReadError, readFileBounded } from '../io/files';
import { ObjectError, loadObject, type BpfObject } from '../debugger/object';
import { CompileError, compileBpf } from '../debugger/scenario/compile';
import { verifyObject, type ProgramVerdict } from '../debugger/verifier';
import { profileNames } from '../sockops';
import { profileForStructs } from '../sockops/choose';

export interface VerifyIo { out: (s: string) => void; err: (s: string) => void }

const USAGE = 'usage: bpf-sockops verify FILE.o|FILE.c [--format text|json] [--profile P] [-v] [--no-perfmon]';

export interface VerifyJson {
  program: string;
  section: string;
  verdict: 'accepted' | 'rejected';
  insn: number | null;
  file: string | null;
  line: number | null;
  column: number | null;
  message: string | null;
}

/** The MESSAGE of a rejection: the kernel's words, then the plain sentence. */
export function rejectionMessage(v: ProgramVerdict): string {
  return `${v.kernelMessage ?? 'rejected'} (insn ${v.insn}): ${v.explanation ?? ''}`.trim();
}

export function toVerifyJson(v: ProgramVerdict): VerifyJson {
  const rejected = v.verdict === 'rejected';
  return {
    program: v.program,
    section: v.section,
    verdict: rejected ? 'rejected' : 'accepted',
    insn: rejected ? v.insn ?? null : null,
    file: rejected ? v.file ?? null : null,
    line: rejected ? v.line ?? null : null,
    column: rejected ? v.column ?? null : null,
    message: rejected ? rejectionMessage(v) : null,
  };
}

export async function verifyCommand(args: string[], io: VerifyIo): Promise<number> {
  let format: 'text' | 'json' = 'text';
  let profile: string | undefined;
  let verbose = false;
  let perfmon = true;
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (name: string): string | undefined => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) io.err(`bpf-sockops verify: ${name} needs a value\n${USAGE}\n`);
      return v;
    };
    if (a === '--format' || a.startsWith('--format=')) {
      const v = value('--format');
      if (v === undefined) return 2;
      if (v !== 'text' && v !== 'json') { io.err(`bpf-sockops verify: --format must be text or json, not ${JSON.stringify(v)}\n`); return 2; }
      format = v;
    } else if (a === '--profile' || a.startsWith('--profile=')) {
      profile = value('--profile');
      if (profile === undefined) return 2;
      if (!profileNames().includes(profile)) { io.err(`bpf-sockops verify: unknown profile ${JSON.stringify(profile)}: known profiles are ${profileNames().join(', ')}\n`); return 2; }
    } else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '--no-perfmon') perfmon = false;
    else if (a === '-h' || a === '--help') { io.out(USAGE + '\n'); return 0; }
    else if (a.startsWith('-')) { io.err(`bpf-sockops verify: unknown option ${a}\n${USAGE}\n`); return 2; }
    else if (file === undefined) file = a;
    else { io.err(`bpf-sockops verify: one file at a time (got ${file} and ${a})\n`); return 2; }
  }
  if (!file) { io.err(USAGE + '\n'); return 2; }

  let obj: BpfObject;
  try {
    const bytes = file.endsWith('.c') ? compileBpf(file) : new Uint8Array(readFileBounded(file, 'object').bytes);
    obj = loadObject(bytes, file);
  } catch (e) {
    if (e instanceof CompileError || e instanceof ObjectError || e instanceof FileReadError) { io.err(`bpf-sockops verify: ${e.message}\n`); return 2; }
    throw e;
  }
  // no --profile: a struct bpf_tcp_ops object is verified against its profile (sockops/choose.ts)
  profile ??= profileForStructs((obj.structOps ?? []).map((m) => m.struct));
  const all = verifyObject(obj, { profile, perfmon, log: verbose });
  const verdicts = all.filter((v) => v.verdict !== 'skipped');
  for (const s of all.filter((v) => v.verdict === 'skipped')) io.err(`bpf-sockops verify: ${file}: ${s.program} (${s.section}) skipped: only SEC("sockops"), SEC("cgroup/setsockopt") and SEC("cgroup/getsockopt") programs are verified\n`);
  if (verdicts.length === 0) { io.err(`bpf-sockops verify: ${file}: no sock_ops or cgroup sockopt program to verify\n`); return 2; }
  if (format === 'json') io.out(JSON.stringify(verdicts.map(toVerifyJson), null, 2) + '\n');
  else {
    for (const v of verdicts) {
      if (verbose) for (const l of v.log) io.out(`  ${l}\n`);
      io.out(textLine(v) + '\n');
    }
  }
  return verdicts.some((v) => v.verdict === 'rejected') ? 1 : 0;
}

export function textLine(v: ProgramVerdict): string {
  if (v.verdict !== 'rejected') return `${v.program} (${v.section}): accepted (${v.processed} insns processed)`;
  return `${v.program} (${v.section}): rejected: ${v.file ?? '?'}:${v.line ?? 0}:${v.column ?? 0}: ${rejectionMessage(v)}`;
}
