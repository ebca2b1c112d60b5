// Checks of struct_ops hooks (profile autolowat-tcp-ops-v5, docs/abi.md §5): the programs a
// SEC(".struct_ops[.link]") variable names as its members, and the functions they call, may only
// call the helpers and kfuncs the profile lists for that member (SOCKOPS001, as the verifier
// refuses the load); and a file with members but no bpf_tcp_ops_set_flags() call never turns them
// on (SOCKOPS006). Facts come from the profile's structOps rows; this file only matches names.
import type { SockopsTable, StructOpsProfile } from '../../sockops';
import type { FuncDef } from './flow';
import type { Finding } from './rules';

const CALL = /\b(bpf_\w+)\s*\(/g;

/** `.enqueue_rcvq = (void *)fn` pairs of the file's struct_ops initialisers. */
function memberAssignments(text: string): { member: string; fn: string; at: number }[] {
  const out: { member: string; fn: string; at: number }[] = [];
  const re = /\.(\w+)\s*=\s*(?:\(\s*void\s*\*\s*\))?\s*&?(\w+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ member: m[1]!, fn: m[2]!, at: m.index + 1 });
  return out;
}

/** Bodies of `BPF_PROG(name, ...)` definitions (the parser sees them all as functions named
 *  BPF_PROG): name -> [start, end) of the braces, in the masked text. */
function bpfProgBodies(text: string): Map<string, { start: number; end: number }> {
  const out = new Map<string, { start: number; end: number }>();
  for (const m of text.matchAll(/\bBPF_PROG\(\s*(\w+)/g)) {
    let i = m.index! + m[0].length;
    let depth = 1;
    while (i < text.length && depth > 0) { const c = text[i++]; if (c === '(') depth++; else if (c === ')') depth--; }
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (text[i] !== '{') continue; // a declaration
    const start = i;
    depth = 0;
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) break;
    }
    out.set(m[1]!, { start, end: i + 1 });
  }
  return out;
}

export function structOpsFindings(table: SockopsTable, text: string, defs: Map<string, FuncDef>): Finding[] {
  const so = (table.profile as Partial<StructOpsProfile>).structOps;
  if (!so) return [];
  const findings: Finding[] = [];
  const bodies = new Map<string, { start: number; end: number }>([...defs].map(([n, d]) => [n, { start: d.body.start, end: d.body.end }]));
  for (const [n, b] of bpfProgBodies(text)) bodies.set(n, b);
  bodies.delete('BPF_PROG');
  const members = memberAssignments(text).filter((a) => so.members.some((m) => m.name === a.member) && bodies.has(a.fn));
  for (const { member, fn } of members) {
    const info = so.members.find((m) => m.name === member)!;
    // the member's program and every function of the file it reaches
    const seen = new Set<string>([fn]);
    const work = [fn];
    while (work.length) {
      const dn = work.pop()!;
      const d = { name: dn, body: bodies.get(dn)! };
      const body = text.slice(d.body.start, d.body.end);
      for (const m of body.matchAll(/\b(\w+)\s*\(/g)) {
        const callee = m[1]!;
        if (bodies.has(callee) && !seen.has(callee)) { seen.add(callee); work.push(callee); }
      }
      for (const m of body.matchAll(CALL)) {
        const name = m[1]!;
        if (bodies.has(name)) continue;
        const helper = table.helper(name);
        const kfunc = table.kfunc(name);
        if (!helper && !kfunc) continue;
        const ok = helper ? info.helpers.includes(helper.name) : info.kfuncs.includes(name);
        if (ok) continue;
        const start = d.body.start + m.index!;
        findings.push({
          code: 'SOCKOPS001', severity: 'error', start, end: start + name.length, related: [],
          message: `${name} is not available to struct ${so.struct} member ${member} (${fn}${d.name !== fn ? ` via ${d.name}` : ''}) in profile ${table.profile.name}: the verifier refuses the load. It may call ${helper ? info.helpers.join(', ') : info.kfuncs.join(', ')} (assumed: docs/abi.md §5.4).`,
        });
      }
    }
  }
  if (members.length && !/\bbpf_tcp_ops_set_flags\s*\(/.test(text)) {
    const at = members[0]!.at;
    findings.push({
      code: 'SOCKOPS006', severity: 'warning', start: at, end: at + members[0]!.member.length, related: [],
      message: `nothing in this file calls bpf_tcp_ops_set_flags(tp, ${so.enabledBy.flag}, 0): the struct ${so.struct} members run only on sockets with ${so.enabledBy.flag} set, so they never run (docs/abi.md §5.3).`,
    });
  }
  return findings;
}
