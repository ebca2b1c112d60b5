// Which ops reach each statement of a function: a forward walk over the syntax tree that narrows
// the op set through `switch` on the op, `if`/`else` guards (==, !=, <, <=, >, >=, &&, ||, !),
// early return/goto/break, local copies of the op, and records the events the rules check
// (helper/kfunc calls, ctx field reads/writes, calls into functions of the file).
// Where the walk cannot tell, it keeps every op it had: never a false certainty.
import type { Syn } from './parser';
import { field } from './parser';
import type { Constants } from './consts';
import { OpState, type Admit } from './opset';

export interface FuncDef {
  name: string;
  syn: Syn;
  nameNode: Syn;
  body: Syn;
  params: { name: string; type: string }[];
  isStatic: boolean;
  section?: string;
}

export interface CallEvent {
  name: string;
  node: Syn;
  nameNode: Syn;
  args: Syn[];
  state: OpState;
}

export interface CtxEvent {
  field: string;
  /** The `skops->field` expression. */
  node: Syn;
  fieldNode: Syn;
  write: boolean;
  read: boolean;
  /** `skops->args[i] = ...`: the index expression. */
  index?: Syn;
  state: OpState;
}

export interface CallSite {
  callee: string;
  node: Syn;
  state: OpState;
  argKinds: ArgKind[];
  /** How the callee is reached when not by a direct call: `callback` (passed to a helper that
   *  calls it back, `helper` names it), or `reference` (its name used as a value elsewhere:
   *  the analysis cannot tell where it is called, so every parameter is 'other'). */
  kind?: 'callback' | 'reference';
  helper?: string;
  /** The callback runs later (bpf_timer_set_callback): not at the ops reaching this point. */
  async?: boolean;
}

/** What a caller passes: the ctx, a copy of the op, a pointer to a struct whose fields `carrier`
 *  hold the ctx (`struct walk w = { .skops = skops }; bpf_loop(n, cb, &w, 0)`), or else. */
export type ArgKind = 'ctx' | 'op' | 'other' | { readonly carrier: readonly string[] };

export function argKindKey(k: ArgKind | undefined): string {
  return k === undefined ? '' : typeof k === 'string' ? k : `{${k.carrier.join(',')}}`;
}

/** The meet of two callers' argument kinds: a carrier field holds the ctx only if it does at
 *  every call site. */
export function mergeArgKind(old: ArgKind | undefined, k: ArgKind): ArgKind {
  if (old === undefined) return k;
  if (typeof old === 'string' || typeof k === 'string') return old === k ? old : 'other';
  const both = old.carrier.filter((f) => k.carrier.includes(f));
  return both.length === old.carrier.length ? old : both.length ? { carrier: both } : 'other';
}

/** An op named by a `case` label or an ==/!= guard: the code handles that op on purpose. */
export interface HandleEvent {
  op: number;
  admit: Admit;
}

export interface Assign {
  op: string; // '=', '|=', 'init', '?' (unknown: ++, address taken...)
  value?: Syn;
}

export interface FlowResult {
  calls: CallEvent[];
  ctx: CtxEvent[];
  callSites: CallSite[];
  handles: HandleEvent[];
  /** Statement ranges with the ops reaching them (for completion at a cursor). */
  stmts: { start: number; end: number; type: string; state: OpState }[];
  /** Assignments to local names (for the cb-flag analysis). */
  assigns: Map<string, Assign[]>;
  /** Names whose address is passed to a call: `&flags` (the callee may write them). */
  addrTaken: Map<string, Syn[]>;
  /** An `x->op` / `x.op` read the walk could not tie to the ctx (e.g. the ctx reached through
   *  a pointer it cannot follow): an op test there may narrow the ops without the walk knowing. */
  unknownOp?: Syn;
}

const STATEMENTS = new Set([
  'compound_statement', 'expression_statement', 'declaration', 'if_statement', 'switch_statement',
  'case_statement', 'while_statement', 'do_statement', 'for_statement', 'return_statement',
  'break_statement', 'continue_statement', 'goto_statement', 'labeled_statement', 'attributed_statement',
]);

interface Jump { loop: boolean; brk: OpState; cont: OpState }

export interface FlowEnv {
  consts: Constants;
  isUserFunction(name: string): boolean;
  isTableFunction(name: string): boolean;
  /** The callback shape of a helper that calls a function back (./callbacks.ts). */
  callbackOf?(name: string): { fnArg: number; ctxArg?: number; cbParam?: number; async: boolean } | undefined;
  /** Field names, in order, of a `struct name` defined in the file (positional initialisers). */
  structFields?(name: string): string[] | undefined;
  text: string;
}

export class FlowWalker {
  private ctxVars = new Set<string>();
  private opVars = new Set<string>();
  /** Local structs whose listed fields hold the ctx (`struct walk w = { .skops = skops }`). */
  private ctxStructs = new Map<string, Set<string>>();
  /** Pointers to such structs (the callback's `void *data`, `struct walk *w = data`). */
  private carrierPtrs = new Map<string, Set<string>>();
  /** Parameters and declared locals: they shadow functions of the same name. */
  private locals = new Set<string>();
  private jumps: Jump[] = [];
  /** Ops arriving at each label through the gotos seen so far, and where each label's gotos are. */
  private gotoStates = new Map<string, OpState>();
  private gotoAt = new Map<string, number[]>();
  readonly out: FlowResult = { calls: [], ctx: [], callSites: [], handles: [], stmts: [], assigns: new Map(), addrTaken: new Map() };
  private budget = 2_000_000; // node visits: a guard against pathological inputs

  constructor(private env: FlowEnv, private fn: FuncDef, private entry: OpState, paramKinds: ArgKind[]) {
    fn.params.forEach((p, i) => {
      this.locals.add(p.name);
      const k = paramKinds[i];
      if (k === 'ctx') this.ctxVars.add(p.name);
      else if (k === 'op') this.opVars.add(p.name);
      else if (k && typeof k === 'object') this.carrierPtrs.set(p.name, new Set(k.carrier));
    });
  }

  run(): FlowResult {
    collectGotos(this.fn.body, this.gotoAt);
    this.stmt(this.fn.body, this.entry);
    return this.out;
  }

  // ------------------------------------------------------------------ statements

  private stmt(n: Syn, S: OpState): OpState {
    if (--this.budget < 0) return S;
    const none = S.u.none;
    if (n.type === 'labeled_statement') {
      // A goto target: the ops of the gotos above it; any op if a goto comes from below.
      const label = field(n, 'label')?.text ?? '';
      const at = this.gotoAt.get(label) ?? [];
      S = at.every((g) => g < n.start) ? S.union(this.gotoStates.get(label) ?? S.u.none) : S.union(this.entry);
    }
    this.out.stmts.push({ start: n.start, end: n.end, type: n.type, state: S });
    if (S.empty && n.type !== 'compound_statement' && n.type !== 'labeled_statement') return S;
    switch (n.type) {
      case 'compound_statement': {
        for (const c of n.children) S = this.stmtOrExpr(c, S);
        return S;
      }
      case 'labeled_statement': {
        for (const c of n.children) if (c.field !== 'label') S = this.stmtOrExpr(c, S);
        return S;
      }
      case 'attributed_statement': {
        for (const c of n.children) if (STATEMENTS.has(c.type)) S = this.stmt(c, S);
        return S;
      }
      case 'expression_statement': {
        for (const c of n.children) this.expr(c, S);
        return S;
      }
      case 'declaration': {
        this.declaration(n, S);
        return S;
      }
      case 'if_statement': {
        const c = field(n, 'condition');
        const [T, F] = c ? this.cond(c, S) : [S, S];
        const thenS = field(n, 'consequence');
        const A = thenS ? this.stmt(thenS, T) : T;
        const alt = field(n, 'alternative');
        let B = F;
        if (alt) for (const k of alt.children) B = this.stmtOrExpr(k, B);
        return A.union(B);
      }
      case 'switch_statement': return this.switchStmt(n, S);
      case 'while_statement': {
        const c = field(n, 'condition');
        const [T, F] = c ? this.cond(c, S) : [S, none];
        const j = this.push(true, S);
        const body = field(n, 'body');
        if (body) this.stmt(body, T);
        this.jumps.pop();
        return F.union(j.brk);
      }
      case 'for_statement': {
        const init = field(n, 'initializer');
        if (init) {
          if (init.type === 'declaration') this.declaration(init, S);
          else this.expr(init, S);
        }
        const c = field(n, 'condition');
        const [T, F] = c ? this.cond(c, S) : [S, none];
        const j = this.push(true, S);
        const body = field(n, 'body');
        if (body) this.stmt(body, T);
        this.jumps.pop();
        const upd = field(n, 'update');
        if (upd) this.expr(upd, T);
        return F.union(j.brk);
      }
      case 'do_statement': {
        const j = this.push(true, S);
        const body = field(n, 'body');
        const end = body ? this.stmt(body, S) : S;
        this.jumps.pop();
        const c = field(n, 'condition');
        const [, F] = c ? this.cond(c, end.union(j.cont)) : [end, end];
        return F.union(j.brk);
      }
      case 'return_statement': {
        for (const c of n.children) this.expr(c, S);
        return none;
      }
      case 'break_statement': {
        const j = this.jumps[this.jumps.length - 1];
        if (j) j.brk = j.brk.union(S);
        return none;
      }
      case 'continue_statement': {
        for (let i = this.jumps.length - 1; i >= 0; i--) {
          const j = this.jumps[i]!;
          if (j.loop) { j.cont = j.cont.union(S); break; }
        }
        return none;
      }
      case 'goto_statement': {
        const label = field(n, 'label')?.text ?? '';
        this.gotoStates.set(label, (this.gotoStates.get(label) ?? none).union(S));
        return none;
      }
      case 'case_statement': {
        // A case label outside a switch we walk (malformed input): its statements see S.
        for (const c of n.children) if (c.field !== 'value') S = this.stmtOrExpr(c, S);
        return S;
      }
      default: {
        // ERROR and anything else: walk what is inside, keep the set.
        for (const c of n.children) S = this.stmtOrExpr(c, S);
        return S;
      }
    }
  }

  private stmtOrExpr(n: Syn, S: OpState): OpState {
    if (STATEMENTS.has(n.type) || n.type === 'ERROR') return this.stmt(n, S);
    this.expr(n, S);
    return S;
  }

  private push(loop: boolean, S: OpState): Jump {
    const j: Jump = { loop, brk: S.u.none, cont: S.u.none };
    this.jumps.push(j);
    return j;
  }

  private switchStmt(n: Syn, S: OpState): OpState {
    const none = S.u.none;
    const c = field(n, 'condition');
    const subject = c ? unparen(c) : undefined;
    if (subject) this.expr(subject, S);
    const isOp = !!subject && this.isOpExpr(subject);
    const body = field(n, 'body');
    if (!body) return S;
    const cases = body.children.filter((k) => k.type === 'case_statement');
    const known = new Set<number>();
    let hasDefault = false;
    for (const k of cases) {
      const v = field(k, 'value');
      if (!v) hasDefault = true;
      else if (isOp) {
        const r = this.caseRange(k, v);
        if (r) for (const op of S.u.values) if (op >= r[0] && op <= r[1]) known.add(op);
      }
    }
    const j = this.push(false, S);
    let cur = none;
    for (const k of body.children) {
      if (k.type !== 'case_statement') { cur = this.stmtOrExpr(k, cur); continue; }
      const v = field(k, 'value');
      let set = S;
      if (isOp) {
        const colon = this.env.text.indexOf(':', v ? v.end : k.start);
        const labelEnd = colon >= 0 ? colon + 1 : k.start + 8;
        const admit: Admit = { start: k.start, end: Math.min(labelEnd, k.end), label: v ? `case ${this.src(v)}` : 'default' };
        if (!v) set = S.filter((op) => !known.has(op), admit);
        else {
          const r = this.caseRange(k, v);
          if (r) {
            set = S.filter((op) => op >= r[0] && op <= r[1], admit);
            if (r[0] === r[1] && S.has(r[0])) this.out.handles.push({ op: r[0], admit });
          }
        }
      }
      cur = cur.union(set);
      this.out.stmts.push({ start: k.start, end: k.end, type: k.type, state: cur });
      for (const s of k.children) if (s.field !== 'value') cur = this.stmtOrExpr(s, cur);
    }
    this.jumps.pop();
    let exit = j.brk.union(cur);
    if (!hasDefault) exit = exit.union(isOp ? S.filter((op) => !known.has(op)) : S);
    return exit;
  }

  /** The values a `case` label matches: `case X:` or GNU `case LO ... HI:`; undefined when
   *  the label cannot be evaluated (then the case admits every op it is given). */
  private caseRange(k: Syn, v: Syn): [number, number] | undefined {
    const text = this.env.text;
    const colon = text.indexOf(':', v.end);
    if (colon < 0) return undefined;
    const label = text.slice(k.start + 4, colon);
    if (label.includes('...')) {
      const [a, b] = label.split('...');
      const lo = this.env.consts.text(a ?? '');
      const hi = this.env.consts.text(b ?? '');
      return lo === undefined || hi === undefined ? undefined : [lo, hi];
    }
    if (k.children.some((c) => c.type === 'ERROR' && c.start < colon)) return undefined;
    const x = this.env.consts.eval(v);
    return x === undefined ? undefined : [x, x];
  }

  private declaration(n: Syn, S: OpState): void {
    for (const d of n.children) {
      if (d.field !== 'declarator') continue;
      if (d.type === 'init_declarator') {
        const name = declName(field(d, 'declarator'));
        const value = field(d, 'value');
        if (value) this.expr(value, S);
        if (name) {
          this.locals.add(name);
          this.track(name, value);
          this.assign(name, { op: 'init', value });
          if (value?.type === 'initializer_list') {
            const fields = this.ctxFieldsOfInit(n, value);
            if (fields.size) this.ctxStructs.set(name, fields);
          }
        }
      } else {
        const name = declName(d);
        if (name) { this.locals.add(name); this.track(name, undefined); }
      }
    }
  }

  /** Keeps the alias sets right after `name = value` (value undefined: not an alias any more). */
  private track(name: string, value: Syn | undefined): void {
    this.opVars.delete(name);
    this.ctxVars.delete(name);
    this.ctxStructs.delete(name);
    this.carrierPtrs.delete(name);
    if (!value) return;
    if (this.isOpExpr(value)) this.opVars.add(name);
    else if (this.isCtxExpr(value)) this.ctxVars.add(name);
    else {
      const c = this.carrierOf(value);
      if (c) this.carrierPtrs.set(name, c);
    }
  }

  /** The fields of a struct initialiser that get the ctx: `.skops = skops`, or by position
   *  when the struct is defined in the file. */
  private ctxFieldsOfInit(decl: Syn, init: Syn): Set<string> {
    const out = new Set<string>();
    let order: string[] | undefined;
    const ty = field(decl, 'type');
    if (ty?.type === 'struct_specifier') {
      const tn = field(ty, 'name')?.text;
      order = tn ? this.env.structFields?.(tn) : undefined;
    }
    let pos = 0;
    for (const c of init.children) {
      if (c.type === 'initializer_pair') {
        const ds = c.children.filter((k) => k.field === 'designator');
        const v = field(c, 'value');
        const f = ds.length === 1 && ds[0]!.type === 'field_designator' ? ds[0]!.children[0]?.text : undefined;
        if (f && v && this.isCtxExpr(v)) out.add(f);
        pos = f && order ? order.indexOf(f) + 1 : NaN;
        continue;
      }
      const f = order?.[pos];
      if (f && this.isCtxExpr(c)) out.add(f);
      pos++;
    }
    return out;
  }

  /** The ctx-holding fields of the struct `n` points to (`&w`, `data`, `(struct walk *)data`). */
  private carrierOf(n: Syn): Set<string> | undefined {
    const u = unparen(n);
    if (u.type === 'identifier' && u.text) return this.carrierPtrs.get(u.text);
    if (u.type === 'pointer_expression' && u.op === '&') {
      const t = unparen(field(u, 'argument') ?? u);
      if (t.type === 'identifier' && t.text) return this.ctxStructs.get(t.text);
    }
    return undefined;
  }

  /** `w.f = value` on a local struct: keeps its ctx-holding fields right. */
  private trackField(l: Syn, op: string | undefined, value: Syn | undefined): void {
    if (l.type !== 'field_expression' || l.op !== '.') return;
    const a = unparen(field(l, 'argument') ?? l);
    const f = field(l, 'field')?.text;
    if (a.type !== 'identifier' || !a.text || !f || !this.locals.has(a.text)) return;
    let s = this.ctxStructs.get(a.text);
    if (op === '=' && value && this.isCtxExpr(value)) {
      if (!s) this.ctxStructs.set(a.text, (s = new Set()));
      s.add(f);
    } else s?.delete(f);
  }

  private assign(name: string, a: Assign): void {
    let l = this.out.assigns.get(name);
    if (!l) this.out.assigns.set(name, (l = []));
    l.push(a);
  }

  // ------------------------------------------------------------------ conditions

  /** The ops for which `n` is true, and those for which it is false; visits events. */
  private cond(n: Syn, S: OpState): [OpState, OpState] {
    if (--this.budget < 0) return [S, S];
    switch (n.type) {
      case 'parenthesized_expression':
        if (n.children.length === 1) return this.cond(n.children[0]!, S);
        break;
      case 'unary_expression':
        if (n.op === '!') {
          const a = field(n, 'argument');
          if (a) { const [t, f] = this.cond(a, S); return [f, t]; }
        }
        break;
      case 'binary_expression': {
        const l = field(n, 'left');
        const r = field(n, 'right');
        if (!l || !r) break;
        if (n.op === '&&') {
          const [ta, fa] = this.cond(l, S);
          const [tb, fb] = this.cond(r, ta);
          return [tb, fa.union(fb)];
        }
        if (n.op === '||') {
          const [ta, fa] = this.cond(l, S);
          const [tb, fb] = this.cond(r, fa);
          return [ta.union(tb), fb];
        }
        const rel = n.op ?? '';
        if (['==', '!=', '<', '<=', '>', '>='].includes(rel)) {
          let opSide: Syn | undefined;
          let value: number | undefined;
          let relOp = rel;
          if (this.isOpExpr(l)) { opSide = l; value = this.env.consts.eval(r); }
          else if (this.isOpExpr(r)) { opSide = r; value = this.env.consts.eval(l); relOp = mirror(rel); }
          this.expr(l, S);
          this.expr(r, S);
          if (opSide && value !== undefined) {
            const v = value;
            const pred = (op: number) => compare(relOp, op, v);
            const admit: Admit = { start: n.start, end: n.end, label: `guard \`${this.src(n)}\`` };
            if ((rel === '==' || rel === '!=') && S.has(v)) this.out.handles.push({ op: v, admit });
            return [S.filter(pred, admit), S.filter((op) => !pred(op), admit)];
          }
          return [S, S];
        }
        break;
      }
    }
    this.expr(n, S);
    if (this.isOpExpr(n)) {
      const admit: Admit = { start: n.start, end: n.end, label: `guard \`${this.src(n)}\`` };
      return [S.filter((op) => op !== 0, admit), S.filter((op) => op === 0, admit)];
    }
    return [S, S];
  }

  // ------------------------------------------------------------------ expressions

  private expr(n: Syn, S: OpState): void {
    if (--this.budget < 0) return;
    switch (n.type) {
      case 'call_expression': {
        const f = field(n, 'function');
        const argList = field(n, 'arguments');
        const args = argList ? argList.children : [];
        let cbArg: Syn | undefined;
        if (f && f.type === 'identifier' && f.text) {
          const name = f.text;
          if (this.env.isUserFunction(name) && !this.locals.has(name)) {
            this.out.callSites.push({ callee: name, node: n, state: S, argKinds: args.map((a) => this.argKind(a)) });
          } else if (this.env.isTableFunction(name)) {
            this.out.calls.push({ name, node: n, nameNode: f, args, state: S });
            const cb = this.env.callbackOf?.(name);
            const target = cb ? this.funcRef(args[cb.fnArg]) : undefined;
            if (cb && target) {
              // The helper calls `target` back: a callee of this statement (kernel/bpf/verifier.c
              // push_callback_call(); the callback gets the caller's context argument).
              cbArg = args[cb.fnArg];
              const argKinds: ArgKind[] = [];
              const ctxArg = cb.ctxArg !== undefined ? args[cb.ctxArg] : undefined;
              if (!cb.async && cb.cbParam !== undefined && ctxArg) {
                for (let i = 0; i < cb.cbParam; i++) argKinds.push('other');
                argKinds.push(this.argKind(ctxArg));
              }
              this.out.callSites.push({ callee: target, node: n, state: S, argKinds, kind: 'callback', helper: name, async: cb.async });
            }
          }
        } else if (f) this.expr(f, S);
        for (const a of args) {
          if (a === cbArg) continue;
          const u = unparen(a);
          if (u.type === 'pointer_expression' && u.op === '&') {
            const t = unparen(field(u, 'argument') ?? u);
            if (t.type === 'identifier' && t.text) {
              let l = this.out.addrTaken.get(t.text);
              if (!l) this.out.addrTaken.set(t.text, (l = []));
              l.push(n);
            }
          }
          this.expr(a, S);
        }
        return;
      }
      case 'identifier': {
        // A function of the file used as a value (`cb = walk_step`, `&walk_step` passed on):
        // called from somewhere the walk cannot see.
        const name = n.text;
        if (name && !this.locals.has(name) && this.env.isUserFunction(name)) {
          this.out.callSites.push({ callee: name, node: n, state: S, argKinds: [], kind: 'reference' });
        }
        return;
      }
      case 'field_expression': {
        const ev = this.ctxAccess(n, S);
        if (ev) { ev.read = true; this.out.ctx.push(ev); }
        else if (field(n, 'field')?.text === 'op' && !this.out.unknownOp) this.out.unknownOp = n;
        const a = field(n, 'argument');
        if (a && !ev) this.expr(a, S);
        return;
      }
      case 'assignment_expression': {
        const l = field(n, 'left');
        const r = field(n, 'right');
        if (r) this.expr(r, S);
        if (!l) return;
        const target = l.type === 'subscript_expression' ? field(l, 'argument') : l;
        const ev = target && target.type === 'field_expression' ? this.ctxAccess(target, S) : undefined;
        if (ev) {
          ev.write = true;
          ev.read = n.op !== '=';
          this.out.ctx.push(ev);
          if (l.type === 'subscript_expression') { const i = field(l, 'index'); if (i) { ev.index = i; this.expr(i, S); } }
          return;
        }
        const u = unparen(l);
        if (u.type === 'identifier' && u.text) {
          this.track(u.text, n.op === '=' ? r : undefined);
          this.assign(u.text, { op: n.op ?? '?', value: r });
          return;
        }
        this.trackField(u, n.op, r);
        // A store target is no op test: walk what is inside it (`r->op = ...` is not a read of op).
        if (u.type === 'field_expression') { for (const c of u.children) if (c.field !== 'field') this.expr(c, S); }
        else this.expr(l, S);
        return;
      }
      case 'update_expression': {
        const a = field(n, 'argument');
        if (!a) return;
        const target = a.type === 'subscript_expression' ? field(a, 'argument') : a;
        const ev = target && target.type === 'field_expression' ? this.ctxAccess(target, S) : undefined;
        if (ev) {
          ev.write = true;
          ev.read = true;
          if (a.type === 'subscript_expression') ev.index = field(a, 'index');
          this.out.ctx.push(ev);
          return;
        }
        const u = unparen(a);
        if (u.type === 'identifier' && u.text) { this.track(u.text, undefined); this.assign(u.text, { op: '?' }); return; }
        this.expr(a, S);
        return;
      }
      case 'conditional_expression': {
        const c = field(n, 'condition');
        const [T, F] = c ? this.cond(c, S) : [S, S];
        const a = field(n, 'consequence');
        const b = field(n, 'alternative');
        if (a) this.expr(a, T);
        if (b) this.expr(b, F);
        return;
      }
      case 'binary_expression':
        if (n.op === '&&' || n.op === '||') { this.cond(n, S); return; }
        break;
      case 'sizeof_expression':
      case 'alignof_expression':
      case 'offsetof_expression':
        return; // not evaluated at run time
    }
    for (const c of n.children) {
      if (STATEMENTS.has(c.type)) this.stmt(c, S); // statement expressions ({ ... })
      else this.expr(c, S);
    }
  }

  private ctxAccess(n: Syn, S: OpState): CtxEvent | undefined {
    if (n.op !== '->') return undefined;
    const a = field(n, 'argument');
    const f = field(n, 'field');
    if (!a || !f || !f.text || !this.isCtxExpr(a)) return undefined;
    return { field: f.text, node: n, fieldNode: f, write: false, read: false, state: S };
  }

  private argKind(a: Syn): ArgKind {
    if (this.isCtxExpr(a)) return 'ctx';
    if (this.isOpExpr(a)) return 'op';
    const c = this.carrierOf(a);
    if (c?.size) return { carrier: [...c].sort() };
    return 'other';
  }

  /** The function of the file an argument names: `fn` or `&fn`. */
  private funcRef(a: Syn | undefined): string | undefined {
    if (!a) return undefined;
    let u = unparen(a);
    if (u.type === 'pointer_expression' && u.op === '&') u = unparen(field(u, 'argument') ?? u);
    return u.type === 'identifier' && u.text && !this.locals.has(u.text) && this.env.isUserFunction(u.text) ? u.text : undefined;
  }

  isOpExpr(n: Syn): boolean {
    const u = unparen(n);
    if (u.type === 'identifier') return !!u.text && this.opVars.has(u.text);
    if (u.type === 'field_expression' && u.op === '->') {
      const f = field(u, 'field');
      const a = field(u, 'argument');
      return !!f && f.text === 'op' && !!a && this.isCtxExpr(a);
    }
    return false;
  }

  isCtxExpr(n: Syn): boolean {
    const u = unparen(n);
    if (u.type === 'identifier') return !!u.text && this.ctxVars.has(u.text);
    if (u.type === 'field_expression') {
      // The ctx carried in a struct: `w->skops` (w points to it) or `w.skops` (w is it).
      const f = field(u, 'field')?.text;
      const a = field(u, 'argument');
      if (!f || !a) return false;
      if (u.op === '->') return !!this.carrierOf(a)?.has(f);
      const x = unparen(a);
      return u.op === '.' && x.type === 'identifier' && !!x.text && !!this.ctxStructs.get(x.text)?.has(f);
    }
    return false;
  }

  private src(n: Syn): string {
    const t = this.env.text.slice(n.start, n.end).replace(/\s+/g, ' ');
    return t.length > 60 ? t.slice(0, 57) + '...' : t;
  }
}

function collectGotos(n: Syn, out: Map<string, number[]>): void {
  if (n.type === 'goto_statement') {
    const l = field(n, 'label')?.text ?? '';
    let a = out.get(l);
    if (!a) out.set(l, (a = []));
    a.push(n.start);
  }
  for (const c of n.children) collectGotos(c, out);
}

/** Strips parentheses and casts. */
export function unparen(n: Syn): Syn {
  for (;;) {
    if (n.type === 'parenthesized_expression' && n.children.length === 1) n = n.children[0]!;
    else if (n.type === 'cast_expression') { const v = field(n, 'value'); if (!v) return n; n = v; }
    else return n;
  }
}

export function declName(d: Syn | undefined): string | undefined {
  while (d) {
    if (d.type === 'identifier') return d.text;
    const inner = field(d, 'declarator') ?? d.children.find((c) => c.type.endsWith('declarator') || c.type === 'identifier');
    if (!inner || inner === d) return undefined;
    d = inner;
  }
  return undefined;
}

function mirror(rel: string): string {
  return rel === '<' ? '>' : rel === '>' ? '<' : rel === '<=' ? '>=' : rel === '>=' ? '<=' : rel;
}

function compare(rel: string, a: number, b: number): boolean {
  switch (rel) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
  }
  return true;
}
