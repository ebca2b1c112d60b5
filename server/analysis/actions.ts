// Quick fixes, built on request from a finding's FixData (offsets and plain text; server/main.ts
// turns them into LSP). Every fix writes code that compiles with `clang -Wall -Werror` where the
// hook did (test/unit/server/quickfix-compile.test.ts applies each and compiles it): declarations
// go with the function's leading declarations, never right after a `case` label.
import type { Analysis, FuncAnalysis } from './engine';
import type { Syn } from './parser';
import { field } from './parser';
import { opList, type Finding, type FixData } from './rules';

export interface TextEdit { start: number; end: number; newText: string }
export interface QuickFix { title: string; code: string; finding: Finding; edits: TextEdit[] }

function innermostStmt(a: Analysis, node: { start: number; end: number }, types: string[]): { start: number; end: number; type: string } | undefined {
  let best: { start: number; end: number; type: string } | undefined;
  for (const f of a.funcs.values()) {
    for (const s of f.flow.stmts) {
      if (!types.includes(s.type) || s.start > node.start || s.end < node.end) continue;
      if (!best || s.end - s.start < best.end - best.start) best = s;
    }
  }
  return best;
}

function indentOf(text: string, offset: number): string {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(ls))![0];
}

function funcAt(a: Analysis, offset: number): FuncAnalysis | undefined {
  for (const f of a.funcs.values()) if (f.def.syn.start <= offset && offset < f.def.syn.end) return f;
  return undefined;
}

/** Where new declarations go in a function body: after its leading declarations (C89 style,
 *  so no warning in any mode), with their indentation. */
function declInsertion(a: Analysis, body: Syn): { at: number; ind: string } {
  let last: Syn | undefined;
  for (const c of body.children) {
    if (c.type !== 'declaration') break;
    last = c;
  }
  const first = body.children[0];
  const ind = first ? indentOf(a.text, first.start) : '\t';
  if (last) return { at: last.end, ind };
  return { at: body.start + 1, ind };
}

/** A name not yet used as a word in `text`: `base`, else `base_2`, ... */
function freshName(text: string, base: string): string {
  for (let i = 1; ; i++) {
    const n = i === 1 ? base : `${base}_${i}`;
    if (!new RegExp(`\\b${n}\\b`).test(text)) return n;
  }
}

/** Whether the file (or a local header it includes) already declares `name`. */
function declares(a: Analysis, name: string): boolean {
  const re = new RegExp(`\\b${name}\\s*\\(`);
  const decl = (text: string) => text.split('\n').some((l) => re.test(l) && /\b(extern|__ksym)\b/.test(l));
  if (decl(a.text)) return true;
  if (/#\s*include\s*[<"]([^>"]*\/)?bpf_sockops_autolowat\.h[>"]/.test(a.text)) return true;
  return (a.includes ?? []).some((i) => decl(i.text) || /bpf_sockops_autolowat\.h$/.test(i.path));
}

/** Offset after the last top-level `#include` line (where file-scope declarations go). */
function afterIncludes(a: Analysis): number {
  let at = 0;
  const re = /^[ \t]*#[ \t]*include[^\n]*\n?/gm;
  let m: RegExpExecArray | null;
  const firstFn = (a.top ?? []).find((t) => t.syn.type === 'function_definition')?.syn.start ?? a.text.length;
  while ((m = re.exec(a.text)) && m.index < firstFn) at = m.index + m[0].length;
  return at;
}

export function quickFixes(a: Analysis, start: number, end: number): QuickFix[] {
  const out: QuickFix[] = [];
  for (const f of a.findings) {
    if (!f.fix || f.end < start || f.start > end) continue;
    const q = build(a, f, f.fix);
    if (q) out.push(q);
  }
  return out;
}

function build(a: Analysis, f: Finding, fix: FixData): QuickFix | undefined {
  switch (fix.kind) {
    case 'guard': return guard(a, f, fix);
    case 'enable-flag': return enableFlag(a, f, fix);
    case 'load-bytes': return loadBytes(a, f, fix);
    case 'rcvlowat-kfunc': return rcvlowat(a, f, fix);
  }
}

// ---------------------------------------------------------------------------------------------

function guard(a: Analysis, f: Finding, fix: Extract<FixData, { kind: 'guard' }>): QuickFix | undefined {
  const t = a.table;
  const stmt = innermostStmt(a, f, ['expression_statement']);
  if (!stmt) return undefined;
  const name = (o: number) => t.op(o)?.name ?? String(o);
  const cond = fix.okOps.length <= fix.failOps.length
    ? fix.okOps.map((o) => `${fix.ctx}->op == ${name(o)}`).join(' || ')
    : fix.failOps.map((o) => `${fix.ctx}->op != ${name(o)}`).join(' && ');
  const ind = indentOf(a.text, stmt.start);
  const body = a.text.slice(stmt.start, stmt.end);
  return { title: `Guard ${fix.call}() with the ops where it works (${opList(t, fix.okOps)})`, code: f.code, finding: f,
    edits: [{ start: stmt.start, end: stmt.end, newText: `if (${cond})\n${ind}\t${body}` }] };
}

/** The first `switch` on the op in a program body (`switch (ctx->op)` or a local copy). */
function opSwitch(a: Analysis, body: Syn, ctx: string): Syn | undefined {
  let found: Syn | undefined;
  const opLocals = new Set<string>();
  for (const m of a.text.slice(body.start, body.end).matchAll(new RegExp(`\\b(\\w+)\\s*=\\s*${ctx}\\s*->\\s*op\\b`, 'g'))) opLocals.add(m[1]!);
  const visit = (n: Syn) => {
    if (found) return;
    if (n.type === 'switch_statement') {
      const cond = field(n, 'condition');
      const text = cond ? a.text.slice(cond.start, cond.end).replace(/[()\s]/g, '') : '';
      if (text === `${ctx}->op` || opLocals.has(text)) { found = n; return; }
    }
    if (n.type === 'function_definition') return;
    for (const c of n.children) visit(c);
  };
  for (const c of body.children) visit(c);
  return found;
}

function enableFlag(a: Analysis, f: Finding, fix: Extract<FixData, { kind: 'enable-flag' }>): QuickFix | undefined {
  const t = a.table;
  const func = [...a.funcs.values()].find((x) => x.def.name === fix.func);
  const target = func && func.def.section === 'sockops' ? func : [...a.funcs.values()].find((x) => x.def.section === 'sockops');
  if (!target) return undefined;
  const ctx = target.def.params[0]?.name ?? fix.ctx;
  const act = t.op('BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB')?.name ?? 'BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB';
  const pas = t.op('BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB')?.name ?? 'BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB';
  const call = `bpf_sock_ops_cb_flags_set(${ctx}, ${ctx}->bpf_sock_ops_cb_flags | ${fix.flag});`;
  const why = `/* Enable ${fix.flag} once the connection is established (the receive queue is still empty). */`;
  const sw = opSwitch(a, target.def.body, ctx);
  const swBody = sw ? field(sw, 'body') : undefined;
  if (sw && swBody) {
    const cases = swBody.children.filter((c) => c.type === 'case_statement');
    const est = cases.filter((c) => { const v = field(c, 'value'); return !!v && [act, pas].includes(a.text.slice(v.start, v.end).trim()); });
    if (est.length) {
      // Into each existing ESTABLISHED case, as its first statement.
      const edits = est.map((c) => {
        const v = field(c, 'value')!;
        const colon = a.text.indexOf(':', v.end);
        const ind = `${indentOf(a.text, c.start)}\t`;
        return { start: colon + 1, end: colon + 1, newText: `\n${ind}${call}` };
      });
      const names = est.map((c) => { const v = field(c, 'value')!; return t.op(a.text.slice(v.start, v.end).trim())?.short ?? ''; });
      return { title: `Enable ${fix.flag} in case ${names.join(' and ')}`, code: f.code, finding: f, edits };
    }
    if (!cases.some((c) => c.op === 'default')) {
      // A new case at the top of the switch: the ESTABLISHED ops went past the switch before, so
      // they still do after their `break`.
      const ind = cases[0] ? indentOf(a.text, cases[0].start) : indentOf(a.text, sw.start);
      const text = `\n${ind}case ${act}:\n${ind}case ${pas}:\n${ind}\t${why}\n${ind}\t${call}\n${ind}\tbreak;`;
      return { title: `Enable ${fix.flag} in a new case ACTIVE_ESTABLISHED_CB/PASSIVE_ESTABLISHED_CB`, code: f.code, finding: f,
        edits: [{ start: swBody.start + 1, end: swBody.start + 1, newText: text }] };
    }
    // The switch has a default the ESTABLISHED ops run: enable before the switch.
    const ind = indentOf(a.text, sw.start);
    return { title: `Enable ${fix.flag} at ACTIVE/PASSIVE_ESTABLISHED_CB`, code: f.code, finding: f,
      edits: [{ start: sw.start, end: sw.start, newText: `${why}\n${ind}if (${ctx}->op == ${act} || ${ctx}->op == ${pas})\n${ind}\t${call}\n${ind}` }] };
  }
  const { at, ind } = declInsertion(a, target.def.body);
  const text = `\n${ind}${why}\n${ind}if (${ctx}->op == ${act} || ${ctx}->op == ${pas})\n${ind}\t${call}`;
  return { title: `Enable ${fix.flag} at ACTIVE/PASSIVE_ESTABLISHED_CB`, code: f.code, finding: f, edits: [{ start: at, end: at, newText: text }] };
}

/** The outermost cast chain around a node (`(void *)(long)skops->skb_data`), or the node. */
function castChain(a: Analysis, f: FuncAnalysis, node: Syn): { outer: Syn; type?: string } {
  let outer = node;
  let type: string | undefined;
  const parents = new Map<Syn, Syn>();
  const index = (n: Syn) => { for (const c of n.children) { parents.set(c, n); index(c); } };
  index(f.def.body);
  for (let p = parents.get(outer); p && (p.type === 'cast_expression' || p.type === 'parenthesized_expression'); p = parents.get(p)) {
    outer = p;
    if (p.type === 'cast_expression') { const ty = field(p, 'type'); if (ty) type = a.text.slice(ty.start, ty.end); }
  }
  return { outer, type };
}

function loadBytes(a: Analysis, f: Finding, fix: Extract<FixData, { kind: 'load-bytes' }>): QuickFix | undefined {
  const func = funcAt(a, f.start);
  if (!func) return undefined;
  // Both packet-window reads of this function (skb_data and skb_data_end) move to the buffer.
  const reads = func.flow.ctx.filter((c) => c.read && (c.field === 'skb_data' || c.field === 'skb_data_end') &&
    a.findings.some((g) => g.fix?.kind === 'load-bytes' && g.start === c.fieldNode.start));
  const first = reads.find((c) => c.field === 'skb_data') ?? reads[0];
  if (!first) return undefined;
  const stmt = innermostStmt(a, first.node, ['declaration', 'expression_statement']);
  if (!stmt) return undefined;
  const fnText = a.text.slice(func.def.syn.start, func.def.syn.end);
  const buf = freshName(fnText, 'buf');
  const off = freshName(fnText, 'off');
  // The size the code checks against data_end (`data + 8 > data_end`), else 8.
  const size = /\+\s*(\d+|[A-Z_][A-Z0-9_]*)\s*>\s*\w+/.exec(fnText)?.[1] ?? '8';
  const isVoid = /^\s*(static\s+)?(__always_inline\s+|inline\s+)*void\b/.test(a.text.slice(func.def.syn.start, func.def.body.start)) &&
    !/\*/.test(a.text.slice(func.def.syn.start, func.def.nameNode.start));
  const ret = isVoid ? 'return;' : 'return 1;';
  const { at, ind: dind } = declInsertion(a, func.def.body);
  const edits = [{ start: at, end: at, newText:
    `\n${dind}__u8 ${buf}[${size}]; /* payload bytes copied by bpf_skb_load_bytes(): ${fix.ctx}->skb_data is an empty window at RCVQ_CB */` +
    `\n${dind}__u32 ${off} = 0; /* TODO: offset of the wanted bytes from this skb's first payload byte (stream position - TCP_SKB_CB(skb)->seq) */` }];
  const ind = indentOf(a.text, stmt.start);
  edits.push({ start: stmt.start, end: stmt.start, newText:
    `if (bpf_skb_load_bytes(${fix.ctx}, ${off}, ${buf}, sizeof(${buf})) < 0)\n${ind}\t${ret} /* fewer bytes than asked, or no skb (the recvmsg run) */\n${ind}` });
  for (const r of reads) {
    const { outer, type } = castChain(a, func, r.node);
    const ptr = r.field === 'skb_data' ? buf : `(${buf} + sizeof(${buf}))`;
    edits.push({ start: outer.start, end: outer.end, newText: type ? `(${type})${ptr}` : ptr });
  }
  edits.sort((x, y) => x.start - y.start);
  return { title: `Read the payload with bpf_skb_load_bytes() into a ${size}-byte buffer instead of ${reads.map((r) => r.field).join('/')}`, code: f.code, finding: f, edits };
}

function rcvlowat(a: Analysis, f: Finding, fix: Extract<FixData, { kind: 'rcvlowat-kfunc' }>): QuickFix | undefined {
  let call: Syn | undefined;
  for (const g of a.funcs.values()) for (const c of g.flow.calls) if (c.nameNode.start === f.start) call = c.node;
  if (!call) return undefined;
  const edits: TextEdit[] = [];
  const decls: string[] = [];
  if (!declares(a, 'bpf_cast_to_kern_ctx')) decls.push('extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;');
  if (!declares(a, fix.kfunc)) decls.push('struct bpf_sock_ops_kern;', `extern int ${fix.kfunc}(struct bpf_sock_ops_kern *skops, int val) __ksym __weak;`);
  if (decls.length) {
    const at = afterIncludes(a);
    edits.push({ start: at, end: at, newText: `${at > 0 ? '\n' : ''}/* The AutoLOWAT kfunc: sets sk_rcvlowat from BPF_SOCK_OPS_RCVQ_CB. */\n${decls.join('\n')}\n${at > 0 ? '' : '\n'}` });
  }
  const value = fix.value;
  edits.push({ start: call.start, end: call.end, newText: `${fix.kfunc}(bpf_cast_to_kern_ctx(${fix.ctx}), ${value})` });
  return { title: `Call ${fix.kfunc}(bpf_cast_to_kern_ctx(${fix.ctx}), ${value}) instead of bpf_setsockopt(SO_RCVLOWAT)`, code: f.code, finding: f, edits };
}
