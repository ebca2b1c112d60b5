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
import { profileForStructs } from '../sockops/choose';
import { flag, format, parseCommand, profile } from './args';

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

const SPEC = { format: format(), profile: profile(), verbose: flag('-v', '--verbose'), noPerfmon: flag('--no-perfmon') };

export async function verifyCommand(args: string[], io: VerifyIo): Promise<number> {
  const p = parseCommand('verify', USAGE, args, SPEC, io, { max: 1, noun: 'file', missing: 'give the object or C file to verify' });
  if (typeof p === 'number') return p;
  const file = p.positional[0]!;
  const fmt = p.opts.format ?? 'text';
  const verbose = p.opts.verbose;
  const perfmon = !p.opts.noPerfmon;
  let profile = p.opts.profile;

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
  if (fmt === 'json') io.out(JSON.stringify(verdicts.map(toVerifyJson), null, 2) + '\n');
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
