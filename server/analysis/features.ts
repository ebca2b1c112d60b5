// Editor features over an Analysis, in offsets and plain data (server/main.ts turns them into
// LSP): hover, completion, signature help and quick fixes. Every fact comes from the table.
import type { CtxFieldInfo, HelperInfo, KfuncInfo, OpInfo, ProgType, Source } from '../../sockops/types';
import type { Analysis, FuncAnalysis } from './engine';
import type { OpState } from './opset';
import { bareReason, errnoText, opList, userText } from './rules';
import type { SockopsTable } from './table';

export interface HoverResult { markdown: string; start: number; end: number }

export type ItemKind = 'field' | 'function' | 'enumMember' | 'constant';
export interface CompletionResult { label: string; kind: ItemKind; detail: string; documentation: string; sortText: string }

export interface SignatureResult {
  label: string;
  documentation: string;
  parameters: { label: string; documentation?: string }[];
  activeParameter: number;
}


// ---------------------------------------------------------------------------------------------
// Where the cursor is

function wordAt(text: string, offset: number): { word: string; start: number; end: number } | undefined {
  let s = offset;
  let e = offset;
  while (s > 0 && /\w/.test(text[s - 1]!)) s--;
  while (e < text.length && /\w/.test(text[e]!)) e++;
  if (s === e || !/^[A-Za-z_]/.test(text.slice(s, e))) return undefined;
  return { word: text.slice(s, e), start: s, end: e };
}

/** The function containing `offset` and the ops reaching the innermost statement there. */
export function stateAt(a: Analysis, offset: number): { func?: FuncAnalysis; state?: OpState } {
  for (const f of a.funcs.values()) {
    if (offset < f.def.syn.start || offset > f.def.syn.end) continue;
    let best: { start: number; end: number; state: OpState } | undefined;
    for (const s of f.flow.stmts) {
      if (s.start <= offset && offset <= s.end && (!best || s.end - s.start <= best.end - best.start)) best = s;
    }
    return { func: f, state: f.progs.has('sock_ops') ? best?.state : undefined };
  }
  return {};
}

function sourceLine(s: Source): string {
  return `Source: \`${s.file}\` \`${s.func}\` — confidence **${s.confidence}**${s.note ? ` (${s.note})` : ''}`;
}

function fnOf(t: SockopsTable, name: string): HelperInfo | KfuncInfo | undefined {
  return t.helper(name) ?? t.kfunc(name);
}

export function prototype(fn: HelperInfo | KfuncInfo): string {
  return `${fn.ret} ${fn.name}(${fn.params.map((p) => paramLabel(p.ctype, p.name)).join(', ') || 'void'})`;
}

function paramLabel(ctype: string, name: string): string {
  if (name === '...') return '...';
  return /\*$/.test(ctype) ? `${ctype}${name}` : `${ctype} ${name}`;
}

// ---------------------------------------------------------------------------------------------
// Hover

export function hover(a: Analysis, offset: number): HoverResult | undefined {
  const h = hoverRaw(a, offset);
  return h && { ...h, markdown: userText(h.markdown) };
}

function hoverRaw(a: Analysis, offset: number): HoverResult | undefined {
  const t = a.table;
  const w = wordAt(a.text, offset);
  if (!w) return undefined;
  const { func, state } = stateAt(a, offset);
  // ctx field: only where the analysis saw `ctx->field` on the sock_ops context.
  for (const f of a.funcs.values()) {
    for (const c of f.flow.ctx) {
      if (c.fieldNode.start <= offset && offset <= c.fieldNode.end) {
        const info = t.ctxField(c.field);
        if (info) return { markdown: ctxFieldHover(t, info, f.progs.has('sock_ops') ? c.state : undefined), start: c.fieldNode.start, end: c.fieldNode.end };
      }
    }
  }
  const user = a.funcs.get(w.word);
  if (user && user.progs.has('sock_ops') && !fnOf(t, w.word)) return { markdown: functionHover(a, user), start: w.start, end: w.end };
  const fn = fnOf(t, w.word);
  if (fn) {
    let st = state;
    for (const f of a.funcs.values()) for (const c of f.flow.calls) if (c.nameNode.start === w.start && f.progs.has('sock_ops')) st = c.state;
    return { markdown: helperHover(t, fn, st, func), start: w.start, end: w.end };
  }
  const op = t.op(w.word);
  if (op) return { markdown: opHover(t, op), start: w.start, end: w.end };
  const flag = t.cbFlag(w.word);
  if (flag) {
    const md = [`**${flag.name}** = \`0x${flag.value.toString(16)}\` — sock_ops callback flag`, '',
      `Turns on: ${flag.ops.map((o) => t.op(o)?.name ?? String(o)).join(', ')}.`,
      'Set with `bpf_sock_ops_cb_flags_set(skops, flags)` (sock_ops, masks unknown bits) or `bpf_setsockopt(ctx, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, 4)` (all or nothing).',
      '', sourceLine(flag.source)];
    return { markdown: md.join('\n'), start: w.start, end: w.end };
  }
  const value = t.constant(w.word);
  if (value !== undefined && !a.consts.hasDefine(w.word)) {
    const row = t.profile.constants.find((c) => c.name === w.word);
    return { markdown: [`**${w.word}** = \`${value}\``, '', row ? sourceLine(row.source) : ''].join('\n'), start: w.start, end: w.end };
  }
  return undefined;
}

/** A function of the file reached by sock_ops code: who runs it (calls, helper callbacks) and
 *  the ops reaching its entry, which it inherits from them. */
function functionHover(a: Analysis, f: FuncAnalysis): string {
  const t = a.table;
  const line = (off: number) => a.text.slice(0, off).split('\n').length;
  const md = [`**${f.def.name}()** — ${f.def.section !== undefined ? `program, SEC("${f.def.section}")` : 'function of this file'}`, ''];
  const runs: string[] = [];
  for (const g of a.funcs.values()) {
    for (const cs of g.flow.callSites) {
      if (cs.callee !== f.def.name || cs.state.empty || !g.progs.has('sock_ops')) continue;
      const how = cs.kind === 'callback' ? `runs as the ${cs.helper}() callback${cs.async ? ' (later, from a timer: at no op we know)' : ''}`
        : cs.kind === 'reference' ? 'its name is taken (called from where the analysis cannot see)' : 'called';
      runs.push(`- ${how} in ${g.def.name}() at line ${line(cs.node.start)}, at ${opList(t, cs.async ? f.entry.ops() : cs.state.ops())}`);
    }
  }
  if (runs.length) md.push(...runs, '');
  md.push(`Ops reaching its entry: ${opList(t, f.entry.ops()) || 'none'}.`);
  if (f.opUnsure && f.unsureWhy === 'syntax') md.push('', `The code at line ${line(f.opUnsure.start)} does not parse (a missing brace or parenthesis?): no op rule is reported in this function until it does.`);
  else if (f.opUnsure) md.push('', `Some of them may never get here: an op test at line ${line(f.opUnsure.start)} goes through a pointer the analysis cannot follow, so no op rule is reported in this function.`);
  return md.join('\n');
}

function groupedRows(t: SockopsTable, fn: HelperInfo | KfuncInfo, reaching: Set<number> | undefined): string[] {
  const rows: { ops: number[]; text: string }[] = [];
  for (const op of t.allOps()) {
    const r = t.callAt(fn, op);
    const text = r.result === 'ok' ? 'ok' : `${errnoText(t, r.result)}${r.conditional && r.rule.when ? ` when ${r.rule.when.map((x) => x.name).join(' and ')}` : ''} — ${r.rule.why} _(${r.rule.source.confidence})_`;
    const last = rows[rows.length - 1];
    if (last && last.text === text) last.ops.push(op);
    else rows.push({ ops: [op], text });
  }
  const out = ['| ops | result |', '|---|---|'];
  for (const r of rows) {
    const here = reaching ? r.ops.filter((o) => reaching.has(o)) : [];
    const mark = here.length ? ` **◀ reaches here: ${opList(t, here)}**` : '';
    out.push(`| ${opRange(t, r.ops)} | ${r.text.replace(/\|/g, '\\|')}${mark} |`);
  }
  return out;
}

function opRange(t: SockopsTable, ops: number[]): string {
  if (ops.length > 2 && ops[ops.length - 1]! - ops[0]! === ops.length - 1) return `${ops[0]}–${ops[ops.length - 1]} (${t.op(ops[0]!)?.short ?? ops[0]} … ${t.op(ops[ops.length - 1]!)?.short ?? ''})`;
  return ops.map((o) => `${o} ${t.op(o)?.short ?? ''}`.trim()).join(', ');
}

/** Set by the server: clangd runs beside us and shows C prototypes, so our hovers do not. */
let clangdBeside: () => boolean = () => false;
export function setClangdBeside(get: () => boolean): void { clangdBeside = get; }

function helperHover(t: SockopsTable, fn: HelperInfo | KfuncInfo, state: OpState | undefined, func: FuncAnalysis | undefined): string {
  const isHelper = 'id' in fn;
  const md: string[] = [];
  if (!clangdBeside()) md.push('```c', prototype(fn), '```');
  md.push(`${isHelper ? `helper #${(fn as HelperInfo).id}` : 'kfunc'}${fn.addedByProfile ? ` — added by profile ${t.profile.name}` : ''}`, '');
  md.push(fn.doc, '');
  const progs = func ? [...func.progs] : [];
  for (const p of progs) {
    const v = t.availableAtLoad(fn, p as ProgType);
    md.push(v.ok ? `Available to ${p}${v.needs ? ` (needs ${v.needs})` : ''}.` : `**Not available to ${p}**: ${v.why}.`);
  }
  const reaching = state ? new Set(state.ops()) : undefined;
  if (reaching) md.push('', `Ops reaching this point: ${opList(t, [...reaching]) || 'none'}.`);
  md.push('', '**Per op (sock_ops)**', '', ...groupedRows(t, fn, reaching));
  if (fn.errors?.length) {
    md.push('', '**Other errors**', '');
    for (const e of fn.errors) md.push(`- ${errnoText(t, e.errno)}: ${e.when}`);
  }
  md.push('', sourceLine(fn.source));
  return md.join('\n');
}

function ctxFieldHover(t: SockopsTable, f: CtxFieldInfo, state: OpState | undefined): string {
  const md: string[] = [];
  md.push('```c', `${paramLabel(f.ctype, f.name)}${f.elemSize && f.size > f.elemSize ? `[${f.size / f.elemSize}]` : ''}; /* struct bpf_sock_ops, offset ${f.offset}, ${f.size} bytes */`, '```');
  md.push(f.doc, '');
  md.push(`Reads: ${f.readSizes.length ? f.readSizes.map((s) => `${s}-byte`).join(', ') + ' loads' : 'not readable'}. ` +
    `Writes: ${f.writeSize ? `${f.writeSize}-byte stores` : 'read-only (the verifier rejects stores)'}.` +
    (f.regType ? ` Loads as ${f.regType}.` : ''));
  const gate: Record<string, string> = {
    none: 'valid at every op',
    locked_tcp_sock: 'reads 0 unless the op runs with is_locked_tcp_sock',
    fullsock: 'NULL unless the op runs on a full socket (is_fullsock)',
    skb: 'reads 0 when the op has no skb',
  };
  md.push(`Gate: ${gate[f.gate] ?? f.gate}.`);
  // One line per reason, naming the ops it covers (not one line per op).
  const groups = new Map<string, number[]>();
  for (const op of t.firingOps()) {
    const r = t.ctxReadAt(f, op);
    if (r.kind === 'value') continue;
    const key = `${r.kind === 'null' ? 'NULL' : r.kind === 'empty' ? 'an empty packet window' : '0'} — ${bareReason(r.why)}${r.hint ? ` (${r.hint})` : ''}`;
    const l = groups.get(key);
    if (l) l.push(op); else groups.set(key, [op]);
  }
  const zero = [...groups].map(([text, ops]) => `- ${opList(t, ops)}: ${text}`);
  if (zero.length) md.push('', '**Reads as 0/NULL (or gives no packet bytes) at**', '', ...zero);
  if (state) {
    const bad = state.ops().filter((op) => t.ctxReadAt(f, op).kind !== 'value');
    md.push('', `Ops reaching here: ${opList(t, state.ops()) || 'none'}${bad.length ? ` — 0/NULL at ${opList(t, bad)}` : ''}.`);
  }
  md.push('', sourceLine(f.source));
  return md.join('\n');
}

function opHover(t: SockopsTable, op: OpInfo): string {
  const md: string[] = [];
  md.push(`**${op.name}** = ${op.value}${op.addedByProfile ? ` — added by profile ${t.profile.name}` : ''}`, '');
  md.push(`Fires: ${op.fires}.`);
  if (op.enabledBy) md.push(`Only when enabled by **${op.enabledBy}**.`);
  const args = op.args.map((x, i) => (x ? `- args[${i}]: ${x}` : '')).filter(Boolean);
  if (args.length) md.push('', '**Arguments**', '', ...args);
  if (op.reply) md.push('', `Reply: ${op.reply}`);
  const yn = (v: boolean | 'varies') => (v === 'varies' ? 'varies' : v ? 'yes' : 'no');
  md.push('', `Full socket: ${yn(op.isFullsock)} · locked tcp_sock: ${yn(op.isLockedTcpSock)} · skb: ${yn(op.hasSkb)}`);
  md.push('', sourceLine(op.source));
  return md.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Completion

export function complete(a: Analysis, offset: number): CompletionResult[] {
  const t = a.table;
  const lineStart = a.text.lastIndexOf('\n', offset - 1) + 1;
  const before = a.text.slice(lineStart, offset);
  const { func, state } = stateAt(a, offset);
  const arrow = /(\w+)\s*->\s*\w*$/.exec(before);
  if (arrow) {
    if (!isCtxName(a, func, arrow[1]!)) return [];
    const ops = state?.ops();
    return t.profile.ctxFields.map((f) => {
      const bad = ops ? ops.filter((op) => t.ctxReadAt(f, op).kind !== 'value') : [];
      const always = !!ops && ops.length > 0 && bad.length === ops.length;
      return {
        label: f.name,
        kind: 'field' as const,
        detail: `${f.ctype} @${f.offset}${f.writeSize ? ' (writable)' : ''}${always ? ` — always 0/NULL at ${opList(t, ops)}` : bad.length ? ` — 0/NULL at ${opList(t, bad)}` : ''}`,
        documentation: f.doc,
        sortText: `${always ? 1 : 0}_${String(f.offset).padStart(4, '0')}`,
      };
    });
  }
  const items: CompletionResult[] = [];
  const reaching = state?.ops();
  for (const op of t.profile.ops) {
    items.push({ label: op.name, kind: 'enumMember', detail: `= ${op.value}${op.enabledBy ? ` (needs ${op.enabledBy})` : ''}`, documentation: `Fires: ${op.fires}`, sortText: `3_${String(op.value).padStart(3, '0')}` });
  }
  for (const f of t.profile.cbFlags) {
    items.push({ label: f.name, kind: 'constant', detail: `= 0x${f.value.toString(16)}`, documentation: `Enables ${f.ops.map((o) => t.op(o)?.name ?? o).join(', ')}`, sortText: `4_${f.name}` });
  }
  const progs = func ? [...func.progs] : [];
  const fns: (HelperInfo | KfuncInfo)[] = [...t.profile.helpers, ...t.profile.kfuncs];
  for (const fn of fns) {
    const notLoad = progs.map((p) => ({ p, v: t.availableAtLoad(fn, p) })).find((x) => !x.v.ok);
    let rank = 0;
    let detail = prototype(fn);
    if (notLoad) { rank = 2; detail = `not available to ${notLoad.p} — ${detail}`; }
    else if (reaching && reaching.length && (!progs.length || progs.includes('sock_ops'))) {
      const fails = t.failingOps(fn, reaching);
      const failOps = new Set(fails.flatMap((g) => g.ops));
      if (failOps.size === reaching.length) { rank = 2; detail = `fails at every op here (${fails.map((g) => `${opList(t, g.ops)}: ${errnoText(t, g.errno)}`).join('; ')}) — ${detail}`; }
      else if (failOps.size) { rank = 1; detail = `fails at ${fails.map((g) => `${opList(t, g.ops)} (${errnoText(t, g.errno)})`).join(', ')} — ${detail}`; }
    } else if (!progs.length) {
      // A function no program reaches (yet), or outside any function: rank for the program
      // types of the file's programs (sock_ops when it has none).
      const fileProgs = new Set<ProgType>([...a.funcs.values()].flatMap((f) => [...f.progs]));
      if (!fileProgs.size) fileProgs.add('sock_ops');
      const bad = [...fileProgs].map((p) => ({ p, v: t.availableAtLoad(fn, p) })).filter((x) => !x.v.ok);
      if (bad.length === fileProgs.size) { rank = 2; detail = `not available to ${bad.map((x) => x.p).join(', ')} — ${detail}`; }
    }
    items.push({ label: fn.name, kind: 'function', detail, documentation: fn.doc, sortText: `${rank}_${fn.name}` });
  }
  return items;
}

function isCtxName(a: Analysis, func: FuncAnalysis | undefined, name: string): boolean {
  if (func) {
    const i = func.def.params.findIndex((p) => p.name === name);
    if (i >= 0) return func.paramKinds[i] === 'ctx' || /\bbpf_sock_ops\s*\*/.test(func.def.params[i]!.type);
  }
  return new RegExp(`\\bstruct\\s+bpf_sock_ops\\s*\\*\\s*${name}\\b`).test(a.text);
}

// ---------------------------------------------------------------------------------------------
// Signature help

export function signature(a: Analysis, offset: number): SignatureResult | undefined {
  const text = a.text;
  let depth = 0;
  let commas = 0;
  for (let i = offset - 1; i >= 0 && offset - i < 4000; i--) {
    const c = text[i]!;
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) {
        if (c !== '(') return undefined;
        const w = /(\w+)\s*$/.exec(text.slice(Math.max(0, i - 80), i));
        if (!w) return undefined;
        const fn = fnOf(a.table, w[1]!);
        if (!fn) return undefined;
        const { state } = stateAt(a, offset);
        let doc = fn.doc;
        if (state) {
          const fails = a.table.failingOps(fn, state.ops());
          if (fails.length) doc += `\n\nAt the ops reaching here: ${fails.map((g) => `${opList(a.table, g.ops)} → ${errnoText(a.table, g.errno)}`).join('; ')}.`;
        }
        return {
          label: prototype(fn),
          documentation: doc,
          parameters: fn.params.map((p) => ({ label: paramLabel(p.ctype, p.name), documentation: p.doc })),
          activeParameter: Math.min(commas, Math.max(0, fn.params.length - 1)),
        };
      }
      depth--;
    } else if (c === ',' && depth === 0) commas++;
    else if (c === ';' && depth === 0) return undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Quick fixes: ./actions.ts

export { quickFixes, type QuickFix, type TextEdit } from './actions';
