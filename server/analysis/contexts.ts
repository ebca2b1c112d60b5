// Calling contexts: the paths from a sock_ops program to each function of the file, with the ops
// that reach the function along them and the constant values its parameters get there.
//
// The kernel verifier walks every call in its caller's state (kernel/bpf/verifier.c
// check_func_call(): a new frame per call, the caller's registers copied into the callee's
// arguments), so a helper call in a static function is checked once per path, with the
// arguments that path passes. The engine's fixpoint (./engine.ts) gives each function the union
// of its callers' ops; that union is exact for op sets (every step of the op walk, ./flow.ts,
// keeps or drops each op on its own, so the ops reaching a point along one path are the union
// set intersected with that path's ops), but not for argument values: `load_option(skops, opt,
// true)` at HDR_OPT_LEN_CB and `load_option(skops, opt, false)` at PARSE_HDR_OPT_CB pass different
// flags to the same bpf_load_hdr_opt() call. A context keeps the ops and the parameter values of
// the paths that agree on those values, and for each op the first call chain that brought it.
import type { Analysis, FuncAnalysis } from './engine';
import type { Syn } from './parser';
import { field, positionAt } from './parser';
import type { CallSite } from './flow';
import type { OpState } from './opset';

/** One call on a path: `callee` called from `caller` at `node`, with the caller's ops there. */
export interface ChainLink {
  caller: string;
  callee: string;
  /** The call expression (for a helper callback: the helper call). */
  node: Syn;
  /** The ops reaching the call in the caller (with where each was let in). */
  state: OpState;
  kind?: CallSite['kind'];
  helper?: string;
}

export interface CallContext {
  /** Ops reaching the function's entry along these paths (a mask over the op universe). */
  mask: number;
  /** Constant value of each parameter on these paths; undefined where it is not known. */
  bindings: (number | undefined)[];
  /** For each op index of the universe: the chain of calls, from the program down, that first
   *  brought that op here (empty for the program itself). */
  via: (ChainLink[] | undefined)[];
}

/** Contexts per function beyond which new parameter values are merged into one context with
 *  unknown values (a recursive `f(n - 1)` would otherwise make one per value). */
export const MAX_CONTEXTS = 16;
/** Call chains longer than this pass no parameter values on. */
const MAX_DEPTH = 16;

const memo = new WeakMap<Analysis, Map<string, CallContext[]>>();

/** The calling contexts of every function reached from a sock_ops program (memoised per analysis). */
export function callContexts(a: Analysis): Map<string, CallContext[]> {
  let m = memo.get(a);
  if (!m) memo.set(a, (m = compute(a)));
  return m;
}

/** The contexts of `f`, covering every op of `state` (a point inside `f`): ops that no computed
 *  context brings (code the walk reached some other way) get a context of their own with
 *  unknown values and no chain. */
export function contextsAt(a: Analysis, f: FuncAnalysis, state: OpState): CallContext[] {
  // A program: every op at its entry and nothing known of its parameters (the ctx); callers,
  // if any, could add no op and no failure that this one context does not show already.
  if (f.def.section === 'sockops') return [{ mask: a.universe.all.mask, bindings: [], via: a.universe.values.map(() => []) }];
  const list = callContexts(a).get(f.def.name) ?? [];
  let covered = 0;
  for (const c of list) covered |= c.mask;
  const rest = (state.mask & ~covered) >>> 0;
  return rest ? [...list, { mask: rest, bindings: [], via: [] }] : list;
}

function compute(a: Analysis): Map<string, CallContext[]> {
  const out = new Map<string, CallContext[]>();
  const u = a.universe;
  const work: [FuncAnalysis, CallContext][] = [];
  const queued = new Set<CallContext>();
  const keys = new Map<CallContext, string>();
  const push = (f: FuncAnalysis, c: CallContext) => { if (!queued.has(c)) { queued.add(c); work.push([f, c]); } };
  for (const f of a.funcs.values()) {
    // SEC("sockops") programs (engine.ts progTypeOfSection): every op at their entry.
    if (f.def.section !== 'sockops') continue;
    const c: CallContext = { mask: u.all.mask, bindings: [], via: u.values.map(() => []) };
    out.set(f.def.name, [c]);
    keys.set(c, '');
    push(f, c);
  }
  let head = 0;
  const limit = 64 * (a.funcs.size + 1) * MAX_CONTEXTS;
  while (head < work.length && head < limit) {
    const [f, c] = work[head++]!;
    queued.delete(c);
    let depth = 0;
    for (const v of c.via) if (v && v.length > depth) depth = v.length;
    for (const cs of f.flow.callSites) {
      const g = a.funcs.get(cs.callee);
      if (!g) continue;
      // A timer callback runs later, at no op we know (as in the engine).
      const mask = (cs.async ? u.all.mask : c.mask & cs.state.mask) >>> 0;
      if (!mask) continue;
      const bindings = cs.kind || depth >= MAX_DEPTH ? [] : argsOf(cs.node).map((x) => valueIn(a, f, c.bindings, x));
      const link: ChainLink = { caller: f.def.name, callee: cs.callee, node: cs.node, state: cs.state, kind: cs.kind, helper: cs.helper };
      let list = out.get(g.def.name);
      if (!list) out.set(g.def.name, (list = []));
      let key = bindingKey(bindings);
      let target = list.find((x) => keys.get(x) === key);
      // Full: the merged context with unknown values takes the rest (it counts in the cap).
      if (!target && list.length >= MAX_CONTEXTS - (list.some((x) => keys.get(x) === '') ? 0 : 1)) {
        key = '';
        target = list.find((x) => keys.get(x) === '');
      }
      if (!target) {
        target = { mask: 0, bindings: key === '' ? [] : bindings, via: u.values.map(() => undefined) };
        keys.set(target, key);
        list.push(target);
      }
      const fresh = (mask & ~target.mask) >>> 0;
      if (!fresh) continue;
      target.mask = (target.mask | fresh) >>> 0;
      for (let i = 0; i < u.values.length; i++) if (fresh & (1 << i)) target.via[i] = [...(c.via[i] ?? []), link];
      push(g, target);
    }
  }
  return out;
}

function bindingKey(b: (number | undefined)[]): string {
  return b.every((v) => v === undefined) ? '' : b.map((v) => (v === undefined ? '?' : String(v))).join(',');
}

function argsOf(call: Syn): Syn[] {
  return field(call, 'arguments')?.children ?? [];
}

/** The value of expression `n` in function `f` when its parameters have `bindings`: constants,
 *  parameters never assigned in `f`, and locals assigned once (their initialiser or one `=`) whose
 *  address is never taken. Undefined when not known. */
export function valueIn(a: Analysis, f: FuncAnalysis, bindings: readonly (number | undefined)[], n: Syn): number | undefined {
  const params = f.def.params;
  const visiting = new Set<string>();
  const local = (id: string): number | null | undefined => {
    const assigns = f.flow.assigns.get(id);
    const taken = f.flow.addrTaken.has(id);
    const pi = params.findIndex((p) => p.name === id);
    if (pi >= 0) {
      if (assigns?.length || taken) return null;
      return bindings[pi] ?? null;
    }
    if (!assigns) return taken ? null : undefined; // else no variable of this function: a constant name, or a global
    const s = assigns[0]!;
    if (taken || assigns.length !== 1 || (s.op !== 'init' && s.op !== '=') || !s.value || visiting.has(id)) return null;
    visiting.add(id);
    const v = a.consts.eval(s.value, local);
    visiting.delete(id);
    return v ?? null;
  };
  return a.consts.eval(n, local);
}

/** How ops reach a call through the chains in `paths` (one per op, all through the same
 *  functions): `from case BPF_SOCK_OPS_X via f() at line N, g() at line M`; where the paths
 *  call a function from several lines, all are named (`f() at lines 3, 9`). */
export function chainText(a: Analysis, paths: readonly { op: number; chain: readonly ChainLink[] }[]): string {
  const first = paths[0];
  if (!first) return '';
  const admits = [...new Set(paths.map((p) => p.chain[0]?.state.admitOf(p.op)?.label))];
  const line = (n: Syn) => positionAt(a.starts, n.start).line + 1;
  const steps = first.chain.map((l, i) => {
    const lines = [...new Set(paths.map((p) => line(p.chain[i]!.node)))].sort((x, y) => x - y);
    const at = `at line${lines.length > 1 ? 's' : ''} ${lines.join(', ')}`;
    return l.kind === 'callback' ? `${l.callee}() as the ${l.helper}() callback ${at}`
      : l.kind === 'reference' ? `${l.callee}() (its name used ${at})` : `${l.callee}() ${at}`;
  });
  const from = admits.length === 1 && admits[0] ? `from ${admits[0]} ` : '';
  return `${from}via ${steps.join(', ')}`;
}

/** The functions a chain goes through, as a key (paths through the same ones read as one). */
export function chainKey(chain: readonly ChainLink[]): string {
  return chain.map((l) => `${l.kind ?? ''}${l.callee}`).join('>');
}
