// The rules: op-set events checked against the sock_ops table. Each finding has a stable code
// (server/codes.ts), says which ops and what the kernel does, and points at the `case` label or
// guard that lets each op in (related information).
import type { Analysis, FuncAnalysis } from './engine';
import type { Syn } from './parser';
import { field } from './parser';
import type { CallEvent, CtxEvent, HandleEvent } from './flow';
import { unparen } from './flow';
import type { OpState, Admit } from './opset';
import { foreignNames, type SockopsTable } from './table';
import type { CbFlagInfo } from '../../sockops/types';
import { CODES, type Code } from '../codes';
import { chainKey, chainText, contextsAt, valueIn, type ChainLink } from './contexts';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export interface Related { start: number; end: number; message: string }

/** What a quick fix needs; the edits are built on request (./actions.ts). */
export type FixData =
  | { kind: 'guard'; call: string; okOps: number[]; failOps: number[]; ctx: string }
  | { kind: 'enable-flag'; flag: string; func: string; ctx: string }
  | { kind: 'load-bytes'; ctx: string; field: string }
  /** bpf_setsockopt(SO_RCVLOWAT) where the AutoLOWAT kfunc works: call the kfunc instead. */
  | { kind: 'rcvlowat-kfunc'; ctx: string; value: string; kfunc: string; everywhere: boolean };

export interface Finding {
  code: Code | 'SOCKOPS000';
  severity: Severity;
  message: string;
  start: number;
  end: number;
  related: Related[];
  fix?: FixData;
}

const ALL_BITS = 0xffffffff;

export function opName(t: SockopsTable, op: number): string {
  return t.op(op)?.short ?? String(op);
}

export function opList(t: SockopsTable, ops: number[]): string {
  return ops.map((o) => opName(t, o)).join(', ');
}

export function errnoText(t: SockopsTable, errno: number): string {
  const name = t.errnoName(Math.abs(errno));
  return `${errno < 0 ? '-' : ''}${name} (${errno})`;
}

/** Related information: for each op, where it was let in. */
function admitsFor(t: SockopsTable, state: OpState, ops: number[], what: string): Related[] {
  const byAdmit = new Map<Admit, number[]>();
  for (const op of ops) {
    const a = state.admitOf(op);
    if (!a) continue;
    let l = byAdmit.get(a);
    if (!l) byAdmit.set(a, (l = []));
    l.push(op);
  }
  return [...byAdmit].map(([a, l]) => ({ start: a.start, end: a.end,
    message: `${opList(t, l)} ${l.length === 1 ? what.replace(/^reach/, 'reaches') : what} through ${a.label}` }));
}

/** Related information for a function run as a helper's callback: the helper calls that run it
 *  at some of `ops`. */
function callbackSites(a: Analysis, f: FuncAnalysis, ops: number[]): Related[] {
  const out: Related[] = [];
  for (const { site } of f.indirect) {
    if (site.kind !== 'callback' || site.async) continue;
    const here = ops.filter((o) => site.state.has(o));
    if (!here.length) continue;
    const fn = field(site.node, 'function') ?? site.node;
    out.push({ start: fn.start, end: fn.end,
      message: `${f.def.name}() runs as the ${site.helper}() callback here, at ${opList(a.table, here)}` });
  }
  return out;
}

export function checkRules(a: Analysis): Finding[] {
  const t = a.table;
  const out: Finding[] = [];
  const enabled = enabledFlags(a);
  const mayFire = (op: number) => {
    const info = t.op(op);
    if (!info?.enabledBy) return true;
    return enabled.has(info.enabledBy);
  };
  for (const f of a.funcs.values()) {
    const sockops = f.progs.has('sock_ops');
    for (const c of f.flow.calls) checkCall(a, f, c, sockops, mayFire, out);
    if (sockops) for (const c of f.flow.ctx) checkCtx(a, f, c, mayFire, out);
    if (sockops) for (const h of f.flow.handles) checkHandle(a, f, h, enabled, out);
  }
  checkForeign(a, out);
  for (const f of out) f.message = userText(f.message);
  out.sort((x, y) => x.start - y.start || x.code.localeCompare(y.code));
  return dedupe(out);
}

/** Table wording a user of the extension cannot place ("the series": the AutoLOWAT patches the
 *  default profile adds) in words that stand alone. */
export function userText(s: string): string {
  return s.replace(/\b([Tt])he series\b/g, (_, t: string) => `${t}he AutoLOWAT patch set (profile autolowat-sockops-v3)`);
}

/** A table reason without its own restatement of the field and op (`bpf_sock_ops.sk is NULL at
 *  BPF_SOCK_OPS_NEEDS_ECN (6): `, `at RCVQ_CB `): the message names both already. */
export function bareReason(why: string): string {
  return why.replace(/^bpf_sock_ops\.\w+ (?:is NULL |reads as 0 |is 0 )?at BPF_SOCK_OPS_\w+(?: \(\d+\))?: /, '').replace(/^at [A-Z_]+(?:, [A-Z_]+)* /, '');
}

function dedupe(l: Finding[]): Finding[] {
  const seen = new Set<string>();
  return l.filter((f) => {
    const k = `${f.start}:${f.end}:${f.code}:${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The ops worth checking at a point: those that may fire (their cb flag is set somewhere in
 *  the file); if none may fire, all of them (the code is still wrong when it does run). */
function effective(state: OpState, mayFire: (op: number) => boolean): number[] {
  const ops = state.ops();
  const firing = ops.filter(mayFire);
  return firing.length ? firing : ops;
}

function checkCall(a: Analysis, f: FuncAnalysis, c: CallEvent, sockops: boolean, mayFire: (op: number) => boolean, out: Finding[]): void {
  const t = a.table;
  const start = c.nameNode.start;
  const end = c.nameNode.end;
  const fn = t.helper(c.name) ?? t.kfunc(c.name);
  if (!fn) return;
  // The verifier checks every call of a loaded program, including code no op reaches at run
  // time (it does not know the op): load-time availability ignores the op state.
  const dead = c.state.empty;
  for (const p of f.progs) {
    const r = t.availableAtLoad(fn, p);
    if (!r.ok) {
      out.push({ code: 'SOCKOPS001', severity: 'error', start, end, related: [],
        message: `${c.name}() is not available to ${p} programs: ${r.why}. The verifier rejects the program at load time.` });
    }
  }
  if (dead || !sockops || (!f.progs.has('sock_ops'))) return;
  if (!t.availableAtLoad(fn, 'sock_ops').ok) return;
  if (f.opUnsure) return; // an op test the walk could not follow reaches here: no op verdict
  const ops = effective(c.state, mayFire);
  // Fast path: with unknown arguments a rule that may apply counts as failing, so no failure
  // here means none on any path.
  if (!t.failingOps(fn, ops, c.args.map((x) => a.consts.eval(x))).length) return;
  const v = judgeByContext(a, f, c, fn, ops);
  if (!v.fails.length) return;
  const failOps = ops.filter((o) => v.failing.has(o));
  const okOps = ops.filter((o) => !v.failing.has(o));
  const parts = v.fails.map((g) => {
    const cond = g.conditional && g.rule.when?.length ? ` when ${g.rule.when.map((w) => w.name).join(' and ')}` : '';
    const after = g.rule.afterArgChecks ? ` (after the argument checks: ${g.rule.afterArgChecks})` : '';
    return `at ${opList(t, g.ops)} it returns ${errnoText(t, g.errno)}${cond}: ${g.rule.why}${after}`;
  });
  const reached = reachedText(a, failOps, v.chains);
  const related = [...admitsFor(t, c.state, failOps, 'reach this call'), ...callbackSites(a, f, failOps), ...chainSites(a, failOps, v.chains)];
  const ctx = c.args[0] ? a.text.slice(c.args[0].start, c.args[0].end) : 'skops';
  const lowat = rcvlowatInstead(a, c, failOps, ops, ctx);
  const instead = lowat ? ` To set sk_rcvlowat at ${opList(t, failOps)}, call ${lowat.kfunc}(bpf_cast_to_kern_ctx(${ctx}), ${lowat.value}).` : '';
  if (!okOps.length && !v.conditional) {
    out.push({ code: 'SOCKOPS002', severity: 'error', start, end, related,
      message: `${c.name}() fails at every op reaching this call (${opList(t, ops)}): ${parts.join('; ')}.${reached}${instead}`, fix: lowat?.everywhere ? lowat : undefined });
  } else {
    out.push({ code: 'SOCKOPS003', severity: 'warning', start, end, related,
      message: `${c.name}() fails at ${opList(t, failOps)}${v.conditional ? ' (depending on its arguments)' : ''}: ${parts.join('; ')}.${reached}` +
        (okOps.length ? ` It works at ${opList(t, okOps)}.` : '') + instead,
      fix: okOps.length ? { kind: 'guard', call: c.name, okOps, failOps, ctx } : lowat?.everywhere ? lowat : undefined });
  }
}

type FailGroup = ReturnType<SockopsTable['failingOps']>[number];

interface ContextVerdict {
  /** Failing rules with the ops (over every context) at which each fails. */
  fails: FailGroup[];
  failing: Set<number>;
  /** Some failure depends on argument values: unknown ones, or ones that differ between the
   *  paths reaching the call at one op (it fails on one path and works on another). */
  conditional: boolean;
  /** For each failing op, the call chain of a path on which it fails (absent in a program). */
  chains: Map<number, ChainLink[]>;
}

/** The call judged once per calling context (./contexts.ts): the ops of the paths that reach it,
 *  with the argument values those paths pass, as the verifier checks each call in its caller's
 *  state. An op fails if it fails on some path. */
function judgeByContext(a: Analysis, f: FuncAnalysis, c: CallEvent, fn: Parameters<SockopsTable['failingOps']>[0], ops: number[]): ContextVerdict {
  const t = a.table;
  const groups = new Map<FailGroup['rule'], FailGroup>();
  const failing = new Set<number>();
  const chains = new Map<number, ChainLink[]>();
  let conditional = false;
  const okSomewhere = new Set<number>();
  for (const k of contextsAt(a, f, c.state)) {
    const here = ops.filter((o) => (k.mask & a.universe.bit(o)) !== 0);
    if (!here.length) continue;
    const args = c.args.map((x) => valueIn(a, f, k.bindings, x));
    const okHere = new Set(here);
    for (const g of t.failingOps(fn, here, args)) {
      let m = groups.get(g.rule);
      if (!m) groups.set(g.rule, (m = { ...g, ops: [] }));
      if (g.conditional) { m.conditional = true; conditional = true; }
      for (const o of g.ops) {
        okHere.delete(o);
        if (!m.ops.includes(o)) m.ops.push(o);
        failing.add(o);
        const chain = k.via[a.universe.indexOf(o)];
        if (chain?.length && !chains.has(o)) chains.set(o, chain);
      }
    }
    for (const o of okHere) okSomewhere.add(o);
  }
  const fails = [...groups.values()];
  for (const g of fails) g.ops.sort((x, y) => x - y);
  fails.sort((x, y) => x.errno - y.errno || x.ops[0]! - y.ops[0]!);
  if ([...failing].some((o) => okSomewhere.has(o))) conditional = true;
  return { fails, failing, conditional, chains };
}

/** ` FAIL_OP is reached from case X via f() at line N.` for the failing ops reached through calls. */
function reachedText(a: Analysis, failOps: number[], chains: Map<number, ChainLink[]>): string {
  const byPath = new Map<string, { op: number; chain: ChainLink[] }[]>();
  for (const op of failOps) {
    const chain = chains.get(op);
    if (!chain) continue;
    const key = chainKey(chain);
    let l = byPath.get(key);
    if (!l) byPath.set(key, (l = []));
    l.push({ op, chain });
  }
  return [...byPath.values()].map((l) =>
    ` ${opList(a.table, l.map((p) => p.op))} ${l.length === 1 ? 'is' : 'are'} reached ${chainText(a, l)}.`).join('');
}

/** Related information: the calls along the chains of the failing ops. */
function chainSites(a: Analysis, failOps: number[], chains: Map<number, ChainLink[]>): Related[] {
  const byNode = new Map<Syn, { link: ChainLink; ops: number[] }>();
  for (const op of failOps) {
    for (const link of chains.get(op) ?? []) {
      let e = byNode.get(link.node);
      if (!e) byNode.set(link.node, (e = { link, ops: [] }));
      if (!e.ops.includes(op)) e.ops.push(op);
    }
  }
  return [...byNode.values()].map(({ link, ops }) => {
    const fn = field(link.node, 'function') ?? link.node;
    return { start: fn.start, end: fn.end, message: `${link.caller}() calls ${link.callee}() here, at ${opList(a.table, ops)}` };
  });
}

/** A setsockopt-style attempt to move sk_rcvlowat (`bpf_setsockopt(ctx, SOL_SOCKET, SO_RCVLOWAT,
 *  &val, sizeof(val))`) at ops where the AutoLOWAT kfunc works: what to call instead. Only when
 *  the kfunc works at every failing op and the value can be named. */
function rcvlowatInstead(a: Analysis, c: CallEvent, failOps: number[], ops: number[], ctx: string): Extract<FixData, { kind: 'rcvlowat-kfunc' }> | undefined {
  const t = a.table;
  if (c.name !== 'bpf_setsockopt' || c.args.length < 4) return undefined;
  const so = t.constant('SO_RCVLOWAT');
  if (so === undefined || a.consts.eval(c.args[2]) !== so) return undefined;
  const kfunc = t.kfunc('bpf_sock_ops_tcp_set_rcvlowat');
  if (!kfunc || !failOps.length || failOps.some((op) => t.callAt(kfunc, op).result !== 'ok')) return undefined;
  const value = pointeeText(a, c.args[3]!);
  // Where the setsockopt works already (other ops), replacing the call would break it: the fix
  // is offered only when the kfunc works at every op reaching the call.
  return value ? { kind: 'rcvlowat-kfunc', ctx, value, kfunc: kfunc.name, everywhere: ops.every((op) => t.callAt(kfunc, op).result === 'ok') } : undefined;
}

/** C text of the int an optval argument points to: `&x` -> `x`, `&(int){N}` -> `N`, else
 *  `*(int *)(p)`. */
function pointeeText(a: Analysis, n: Syn): string | undefined {
  const u = unparen(n);
  if (u.type === 'pointer_expression' && u.op === '&') {
    const x = unparen(field(u, 'argument') ?? u);
    if (x.type === 'identifier') return x.text;
    if (x.type === 'compound_literal_expression') {
      const first = field(x, 'value')?.children[0];
      return first ? a.text.slice(first.start, first.end) : undefined;
    }
    return a.text.slice(x.start, x.end);
  }
  return `*(int *)(${a.text.slice(n.start, n.end)})`;
}

/** Names of another profile used in code (BPF_SOCK_OPS_RCVQ_CB, the AutoLOWAT kfunc under
 *  linux-7.1.5): what the kernel of this profile does with them, as the emulator does. */
function checkForeign(a: Analysis, out: Finding[]): void {
  const t = a.table;
  const foreign = foreignNames(t);
  if (!foreign.size) return;
  const re = new RegExp(`\\b(${[...foreign.keys()].join('|')})\\b`);
  if (!re.test(a.text)) return;
  const profile = t.profile.name;
  for (const f of a.funcs.values()) {
    const visit = (n: Syn, parent: Syn | undefined) => {
      if (n.type === 'identifier' && n.text && foreign.has(n.text)) {
        const x = foreign.get(n.text)!;
        const called = parent?.type === 'call_expression' && field(parent, 'function') === n;
        if ((x.kind === 'kfunc' || x.kind === 'helper') && called) {
          out.push({ code: 'SOCKOPS001', severity: 'error', start: n.start, end: n.end, related: [],
            message: `${x.name}() is not a kernel function of profile ${profile} (it comes with profile ${x.profile}): the kernel refuses to load the program. Check the name, or set bpfSockops.kernelProfile to ${x.profile} if your kernel has it.` });
        } else if (x.kind === 'op' && (f.progs.has('sock_ops') || f.paramKinds.includes('ctx'))) {
          out.push({ code: 'SOCKOPS006', severity: 'warning', start: n.start, end: n.end, related: [],
            message: `Profile ${profile} has no ${x.name} (it comes with profile ${x.profile}): the kernel never runs the program with it, so this code never runs for it.` });
        }
      }
      for (const c of n.children) visit(c, n);
    };
    visit(f.def.body, undefined);
  }
}

function checkCtx(a: Analysis, f: FuncAnalysis, c: CtxEvent, mayFire: (op: number) => boolean, out: Finding[]): void {
  const t = a.table;
  const info = t.ctxField(c.field);
  if (!info) return;
  const start = c.fieldNode.start;
  const end = c.fieldNode.end;
  const ctxName = (() => { const arg = field(c.node, 'argument'); return arg ? a.text.slice(arg.start, arg.end) : 'skops'; })();
  if (c.write) {
    const elem = info.elemSize ?? info.size;
    const i = c.index ? a.consts.eval(c.index) : 0;
    const detail = i === undefined
      ? (info.writeSize === undefined ? t.ctxAccessError(info.offset, elem, true) : null)
      : t.ctxAccessError(info.offset + i * (info.elemSize ?? 0), info.writeSize ?? Math.min(elem, 8), true);
    if (detail) {
      const idx = c.index ? `[${a.text.slice(c.index.start, c.index.end)}]` : '';
      out.push({ code: 'SOCKOPS004', severity: 'error', start, end, related: [],
        message: `${ctxName}->${c.field}${idx} is read-only in sock_ops programs: ${detail}.` });
    }
  }
  if (!c.read || c.state.empty || f.opUnsure) return;
  const ops = effective(c.state, mayFire);
  const reads = ops.map((op) => ({ op, r: t.ctxReadAt(info, op) }));
  if (reads.some((x) => x.r.kind === 'value')) return;
  const first = reads[0]?.r;
  if (!first || first.kind === 'value') return;
  const kinds = new Set(reads.map((x) => x.r.kind));
  const whys = [...new Set(reads.map((x) => (x.r.kind === 'value' ? '' : bareReason(x.r.why))))].filter(Boolean);
  const hint = reads.map((x) => (x.r.kind === 'value' ? undefined : x.r.hint)).find((h) => !!h);
  const loadBytes = t.helper('bpf_skb_load_bytes');
  // 'empty': a packet pointer whose window is empty (skb_data == skb_data_end), not a 0 value
  const what = kinds.size === 1 && kinds.has('null') ? 'is always NULL'
    : kinds.size === 1 && kinds.has('empty') ? 'gives an empty packet window (skb_data == skb_data_end)'
      : kinds.has('empty') ? 'is always 0 or an empty packet window' : 'is always 0';
  out.push({ code: 'SOCKOPS005', severity: 'warning', start, end,
    related: [...admitsFor(t, c.state, ops, 'reach this read'), ...callbackSites(a, f, ops)],
    message: `${ctxName}->${c.field} ${what} at ${opList(t, ops)}: ${whys.join('; ')}.${hint ? ` Instead: ${hint}.` : ''}`,
    fix: hint && loadBytes && /bpf_skb_load_bytes/.test(hint) && !t.failingOps(loadBytes, ops).some((g) => !g.conditional)
      ? { kind: 'load-bytes', ctx: ctxName, field: c.field } : undefined });
}

function checkHandle(a: Analysis, f: FuncAnalysis, h: HandleEvent, enabled: Set<string>, out: Finding[]): void {
  const t = a.table;
  const info = t.op(h.op);
  if (!info?.enabledBy || enabled.has(info.enabledBy)) return;
  if (f.unsureWhy === 'syntax') return; // the case labels may not be where the user meant them
  const flag = t.cbFlag(info.enabledBy);
  const others = flag ? enablers(t, flag).filter((g) => g !== flag).map((g) => g.name) : [];
  const how = flag
    ? `set it${others.length ? ` (or ${others.join(', ')})` : ''} with bpf_sock_ops_cb_flags_set() or bpf_setsockopt(SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS), e.g. at ACTIVE_ESTABLISHED_CB/PASSIVE_ESTABLISHED_CB`
    : `enable ${info.enabledBy} first`;
  const where = a.includes?.length ? 'this file or the local headers it includes' : 'this file';
  const ctx = f.def.params.find((_, i) => f.paramKinds[i] === 'ctx')?.name ?? 'skops';
  out.push({ code: 'SOCKOPS006', severity: 'warning', start: h.admit.start, end: h.admit.end, related: [],
    message: `This hook handles ${info.name} but nothing in ${where} enables ${info.enabledBy}: the kernel never runs the program with ${info.short}. To receive it, ${how}.`,
    fix: flag ? { kind: 'enable-flag', flag: flag.name, func: f.def.name, ctx } : undefined });
}

// ---------------------------------------------------------------------------------------------
// Which enabling flags (cb flags, or other `enabledBy` names) may be set somewhere in the file

/** Names of `enabledBy` values that some code of the file may turn on. Errs towards "enabled":
 *  a value the analysis cannot follow counts as setting every bit. */
export function enabledFlags(a: Analysis): Set<string> {
  const t = a.table;
  const names = new Set<string>();
  for (const op of a.universe.values) { const e = t.op(op)?.enabledBy; if (e) names.add(e); }
  let bits = cbBits(a);
  for (const inc of a.includes ?? []) bits |= inc.cbBits;
  const result = new Set<string>();
  for (const n of names) {
    const flag = t.cbFlag(n);
    // An op runs when any flag that lists it is on: PARSE_HDR_OPT_CB also runs with
    // BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG alone (net/ipv4/tcp_input.c bpf_skops_parse_hdr).
    if (flag) { if (enablers(t, flag).some((g) => (bits & g.value) !== 0)) result.add(n); continue; }
    // Not a cb flag (e.g. SK_BPF_CB_TX_TIMESTAMPING, set through SK_BPF_CB_FLAGS): enabled if
    // the file names it at all.
    if (new RegExp(`\\b${n}\\b`).test(a.text) || (a.includes ?? []).some((i) => i.names.has(n))) result.add(n);
  }
  return result;
}

/** The cb-flag bits the functions of an analysed text may set (bpf_sock_ops_cb_flags_set,
 *  bpf_setsockopt(TCP_BPF_SOCK_OPS_CB_FLAGS)); a value it cannot follow counts as every bit. */
export function cbBits(a: Analysis): number {
  const t = a.table;
  let bits = 0;
  const cbOptname = t.constant('TCP_BPF_SOCK_OPS_CB_FLAGS');
  for (const f of a.funcs.values()) {
    const m = new MayBits(a, f);
    for (const c of f.flow.calls) {
      if (c.name === 'bpf_sock_ops_cb_flags_set' && c.args[1]) bits |= m.of(c.args[1]);
      if (c.name === 'bpf_setsockopt' && c.args[2]) {
        const opt = a.consts.eval(c.args[2]);
        if (opt !== undefined && cbOptname !== undefined && opt !== cbOptname) continue;
        bits |= c.args[3] ? m.pointee(c.args[3], c.node) : ALL_BITS;
      }
    }
  }
  return bits >>> 0;
}

/** The cb flags that turn on some op `flag` turns on (itself included). */
export function enablers(t: SockopsTable, flag: CbFlagInfo): CbFlagInfo[] {
  return t.profile.cbFlags.filter((g) => g === flag || g.ops.some((o) => flag.ops.includes(o)));
}

/** The bits an int expression may have set, following local variables of one function. */
class MayBits {
  private visiting = new Set<string>();
  constructor(private a: Analysis, private f: FuncAnalysis) {}

  of(n: Syn): number {
    const c = this.a.consts.eval(n);
    if (c !== undefined) return c >>> 0;
    const u = unparen(n);
    switch (u.type) {
      case 'binary_expression': {
        const l = field(u, 'left');
        const r = field(u, 'right');
        if (!l || !r) return ALL_BITS;
        if (u.op === '|') return (this.of(l) | this.of(r)) >>> 0;
        if (u.op === '&') return (this.of(l) & this.of(r)) >>> 0;
        return ALL_BITS;
      }
      case 'unary_expression': {
        const x = field(u, 'argument');
        if (u.op === '~' && x) {
          const v = this.a.consts.eval(x);
          return v === undefined ? ALL_BITS : ~v >>> 0;
        }
        return ALL_BITS;
      }
      case 'conditional_expression': {
        const x = field(u, 'consequence');
        const y = field(u, 'alternative');
        return ((x ? this.of(x) : ALL_BITS) | (y ? this.of(y) : ALL_BITS)) >>> 0;
      }
      case 'field_expression':
        // The current flags can hold only what some other enabling call set.
        return field(u, 'field')?.text === 'bpf_sock_ops_cb_flags' ? 0 : ALL_BITS;
      case 'identifier':
        return this.variable(u.text ?? '', undefined);
    }
    return ALL_BITS;
  }

  /** Bits of the int an optval argument points to (`&flags`, `&(int){X}`). */
  pointee(n: Syn, call: Syn): number {
    const u = unparen(n);
    if (u.type === 'pointer_expression' && u.op === '&') {
      const x = unparen(field(u, 'argument') ?? u);
      if (x.type === 'identifier') return this.variable(x.text ?? '', call);
      if (x.type === 'compound_literal_expression') {
        const init = field(x, 'value');
        const first = init?.children[0];
        return first ? this.of(first) : ALL_BITS;
      }
    }
    return ALL_BITS;
  }

  private variable(name: string, okCall: Syn | undefined): number {
    if (this.visiting.has(name)) return ALL_BITS;
    const taken = this.f.flow.addrTaken.get(name) ?? [];
    if (taken.some((c) => c !== okCall)) return ALL_BITS;
    const assigns = this.f.flow.assigns.get(name);
    if (!assigns?.length) return ALL_BITS;
    this.visiting.add(name);
    let bits = 0;
    for (const s of assigns) {
      if (s.op === '&=' ) continue;
      if ((s.op === '=' || s.op === 'init' || s.op === '|=') && s.value) bits |= this.of(s.value);
      else if (s.op === 'init' && !s.value) continue;
      else bits = ALL_BITS;
    }
    this.visiting.delete(name);
    return bits >>> 0;
  }
}

export { CODES };
