// Issue 7 part 1: load-time availability. Minimal programs go through BPF_PROG_LOAD; the
// verifier's verdict on the helper call / ctx access is compared with the sockops/ table.
//   helper: `call id; r0 = 1; exit` with r1..r5 unset. check_helper_call (kernel/bpf/verifier.c)
//           looks the proto up first ("program of this type cannot use helper", "invalid func"),
//           then GPL, then might_sleep, and only then the arguments: any later message means
//           the helper is available.
//   ctx:    `r2 = *(uN *)(r1 + off)` or `*(uN *)(r1 + off) = r2` on struct bpf_sock_ops;
//           "invalid bpf_context access" (check_ctx_access -> sock_ops_is_valid_access) rejects.
import { table, type HelperInfo, type ProgType } from '../../sockops';
import type { Insn } from '../../debugger/vm';
import { ins } from './isa-gen';
import { runBatch, verdictLine, type Reply, type Request } from './native';

// UAPI enum values (include/uapi/linux/bpf.h: enum bpf_prog_type, enum bpf_attach_type)
const PROG: Record<ProgType, { type: number; attach: number }> = {
  sock_ops: { type: 13, attach: 3 }, // BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS
  cgroup_setsockopt: { type: 25, attach: 22 }, // BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT
  cgroup_getsockopt: { type: 25, attach: 21 }, // BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT
};
export const PROG_TYPES = Object.keys(PROG) as ProgType[];

type Avail = 'available' | 'unavailable' | 'sleepable-only';

const RET1_EXIT: Insn[] = [ins(0xb7, 0, 0, 0, 1), ins(0x95, 0, 0, 0, 0)];

export function kernelAvail(r: Reply): { avail: Avail; gplRejected: boolean; line: string } {
  const line = verdictLine(r.log);
  if (r.err === 0) return { avail: 'available', gplRejected: false, line: 'loaded' };
  if (/program of this type cannot use helper|invalid func|unknown func/.test(r.log)) return { avail: 'unavailable', gplRejected: false, line };
  if (/sleepable helper|might sleep/.test(r.log)) return { avail: 'sleepable-only', gplRejected: false, line };
  return { avail: 'available', gplRejected: /GPL-restricted/.test(r.log), line };
}

function tableAvail(h: HelperInfo | undefined, prog: ProgType): Avail {
  if (!h || !h.progTypes[prog]) return 'unavailable';
  return h.sleepableOnly ? 'sleepable-only' : 'available';
}

export interface Row { what: string; kernel: string; table: string; expected?: string }
export interface AvailabilityReport {
  helperPairs: number;
  helperAgree: number;
  gplChecked: number;
  ctxAccesses: number;
  ctxAgree: number;
  /** Baseline profile vs kernel, unexplained: these fail the test. */
  failures: Row[];
  /** Kernel 6.x vs table 7.1.5 rows that are version differences (with evidence). */
  versionDiffs: Row[];
  /** AutoLOWAT profile vs kernel: differences the profile makes on purpose. */
  expected: Row[];
}

/** Differences between the running kernel and the 7.1.5 table that are real version
 *  differences; each names its evidence. Filled from what the comparison finds. */
export const VERSION_DIFFS: Record<string, string> = {};

export async function availability(bin: string): Promise<AvailabilityReport> {
  const base = table('linux-7.1.5');
  const prof = table();
  const rep: AvailabilityReport = { helperPairs: 0, helperAgree: 0, gplChecked: 0, ctxAccesses: 0, ctxAgree: 0, failures: [], versionDiffs: [], expected: [] };
  const ids = [...new Set([...base.profile.helpers, ...prof.profile.helpers].map((h) => h.id))].filter((id) => id > 0).sort((a, b) => a - b);

  // helpers x program types, GPL license
  const reqs: Request[] = [];
  const keys: { id: number; prog: ProgType }[] = [];
  for (const id of ids) for (const prog of PROG_TYPES) {
    reqs.push({ kind: 'load', progType: PROG[prog].type, attachType: PROG[prog].attach, gpl: true, insns: [ins(0x85, 0, 0, 0, id), ...RET1_EXIT] });
    keys.push({ id, prog });
  }
  const replies = await runBatch(bin, reqs);
  const gplReqs: Request[] = [];
  const gplKeys: { id: number; prog: ProgType }[] = [];
  replies.forEach((r, i) => {
    const { id, prog } = keys[i];
    const k = kernelAvail(r);
    const hb = base.helper(id), hp = prof.helper(id);
    const name = hb?.name ?? hp?.name ?? `helper #${id}`;
    const row = (t: Avail, note?: string): Row => ({ what: `${name} (#${id}) in ${prog}`, kernel: `${k.avail} (${k.line})`, table: t, expected: note });
    rep.helperPairs++;
    const tb = tableAvail(hb, prog);
    if (tb === k.avail) rep.helperAgree++;
    else {
      const key = `helper:${name}:${prog}`;
      if (VERSION_DIFFS[key]) rep.versionDiffs.push(row(tb, VERSION_DIFFS[key]));
      else rep.failures.push(row(tb));
    }
    const tp = tableAvail(hp, prog);
    if (tp !== k.avail) {
      if (hp?.addedByProfile || (prog === 'sock_ops' && hp && !hb?.progTypes[prog])) rep.expected.push(row(tp, 'added by the AutoLOWAT profile on purpose (addedByProfile)'));
      else if (tp !== tb) rep.failures.push(row(tp, 'profile differs from the kernel without addedByProfile'));
    }
    if (k.avail === 'available') {
      gplReqs.push({ ...reqs[i], gpl: false } as Request);
      gplKeys.push({ id, prog });
    }
  });
  // the same available helpers from a non-GPL program: gpl_only protos are refused
  const gplReplies = await runBatch(bin, gplReqs);
  gplReplies.forEach((r, i) => {
    const { id, prog } = gplKeys[i];
    const hb = base.helper(id);
    const kernelGpl = /GPL-restricted/.test(r.log);
    rep.gplChecked++;
    if (!!hb?.gplOnly !== kernelGpl) {
      const key = `gpl:${hb?.name ?? id}`;
      const row: Row = { what: `${hb?.name ?? `#${id}`} (#${id}) gpl_only, loaded from ${prog}`, kernel: kernelGpl ? 'gpl_only (non-GPL load refused)' : `not gpl_only (${verdictLine(r.log)})`, table: hb?.gplOnly ? 'gplOnly' : 'not gplOnly' };
      if (VERSION_DIFFS[key]) rep.versionDiffs.push({ ...row, expected: VERSION_DIFFS[key] });
      else rep.failures.push(row);
    }
  });

  // ctx accesses on struct bpf_sock_ops: every aligned offset, sizes 1/2/4/8, read and write
  const ctxReqs: Request[] = [];
  const ctxKeys: { off: number; size: number; write: boolean }[] = [];
  const SZ: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
  for (const write of [false, true]) for (const size of [1, 2, 4, 8]) for (let off = 0; off < base.profile.ctxSize; off += size) {
    const acc = write
      ? [ins(0xb7, 2, 0, 0, 0), ins(0x63 | SZ[size], 1, 2, off, 0)]
      : [ins(0x61 | SZ[size], 2, 1, off, 0)];
    ctxReqs.push({ kind: 'load', progType: PROG.sock_ops.type, attachType: PROG.sock_ops.attach, gpl: true, insns: [...acc, ...RET1_EXIT] });
    ctxKeys.push({ off, size, write });
  }
  const ctxReplies = await runBatch(bin, ctxReqs);
  ctxReplies.forEach((r, i) => {
    const { off, size, write } = ctxKeys[i];
    rep.ctxAccesses++;
    const kOk = r.err === 0;
    if (!kOk && !/invalid bpf_context access/.test(r.log)) {
      rep.failures.push({ what: `ctx ${write ? 'write' : 'read'} off=${off} size=${size}`, kernel: `rejected for another reason: ${verdictLine(r.log)}`, table: 'n/a' });
      return;
    }
    const t = base.ctxAccessError(off, size, write);
    const tOk = t === null;
    const field = base.ctxFieldAt(off)?.name ?? '?';
    if (kOk === tOk) { rep.ctxAgree++; return; }
    const row: Row = { what: `ctx ${write ? 'write' : 'read'} bpf_sock_ops.${field} off=${off} size=${size}`, kernel: kOk ? 'accepted' : `rejected (${verdictLine(r.log)})`, table: tOk ? 'accepted' : `rejected: ${t}` };
    const key = `ctx:${write ? 'w' : 'r'}:${off}:${size}`;
    if (VERSION_DIFFS[key]) rep.versionDiffs.push({ ...row, expected: VERSION_DIFFS[key] });
    else rep.failures.push(row);
  });
  return rep;
}
