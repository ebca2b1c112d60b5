// The analysis engine: document text -> tree -> hooks (SEC names) -> op sets per statement
// (across calls into the file's functions) -> findings. Plain TypeScript: the language server,
// the CLI and the tests all call this.
import { structOpsFindings } from './structops';
import { profileForSource } from '../../sockops/choose';
import type { ProgType } from '../../sockops/types';
import { ParsedDocument, field, positionAt, type Syn, type TopLevel } from './parser';
import { Constants } from './consts';
import { FlowWalker, argKindKey, declName, mergeArgKind, type ArgKind, type CallSite, type FlowResult, type FuncDef } from './flow';
import { callbackHelper } from './callbacks';
import { OpUniverse, OpState } from './opset';
import { sockopsTable, type SockopsTable } from './table';
import { checkRules, type Finding } from './rules';
import { localIncludes, type IncludeInfo } from './includes';
import { fileURLToPath } from 'node:url';
import { previewAnalysis, type Preview } from './preview';

export type { Finding } from './rules';

/** What libbpf does with a section name: tools/lib/bpf/libbpf.c section_defs[] has
 *  SEC_DEF("sockops"), SEC_DEF("cgroup/setsockopt"), SEC_DEF("cgroup/getsockopt") without a
 *  trailing `+` or `/`, so sec_def_matches() wants an exact strcmp() match. Others: left alone. */
export function progTypeOfSection(sec: string): ProgType | undefined {
  if (sec === 'sockops') return 'sock_ops';
  if (sec === 'cgroup/setsockopt') return 'cgroup_setsockopt';
  if (sec === 'cgroup/getsockopt') return 'cgroup_getsockopt';
  return undefined;
}

export interface FuncAnalysis {
  def: FuncDef;
  /** Program types whose programs reach this function (itself a program, or a callee). */
  progs: Set<ProgType>;
  /** Ops reaching the function entry (meaningful when progs has sock_ops). */
  entry: OpState;
  paramKinds: ArgKind[];
  flow: FlowResult;
  /** Calls into this function from sock_ops code that are not direct calls: the helper calls
   *  that call it back (`bpf_loop(n, fn, &w, 0)`) and uses of its name as a value. */
  indirect: { site: CallSite; caller: string }[];
  /** Set when some code reaching this function tests the op in a way the walk could not
   *  follow (FlowResult.unknownOp): its op sets may be too large, so no op rule is reported. */
  opUnsure?: Syn;
  /** Why opUnsure is set: an op test through a pointer, or a syntax error (a missing brace
   *  nests the next function in this one: its op sets are not those of the code as meant). */
  unsureWhy?: 'pointer' | 'syntax';
}

/** The first node tree-sitter could not parse or had to complete inside `n`, if any. */
export function firstSyntaxError(n: Syn): Syn | undefined {
  if (n.clean) return undefined;
  const memo = errorMemo.get(n);
  if (memo !== undefined) return memo ?? undefined;
  const e = searchMissing(n);
  errorMemo.set(n, e ?? null);
  return e;
}
/** Function trees are reused between edits while their text is unchanged: so is this answer
 *  (kept for the node asked about only, not for every node below it: one map entry per node of
 *  a 200,000-line file cost more than the search it saved). */
const errorMemo = new WeakMap<Syn, Syn | null>();
function searchMissing(n: Syn): Syn | undefined {
  if (n.missing) return n;
  for (const c of n.children) { const e = searchMissing(c); if (e) return e; }
  return undefined;
}

export interface Analysis {
  table: SockopsTable;
  universe: OpUniverse;
  consts: Constants;
  funcs: Map<string, FuncAnalysis>;
  findings: Finding[];
  text: string;
  starts: number[];
  /** The file analysed (absent for a text without a path) and its local headers. */
  file?: string;
  includes?: IncludeInfo[];
  /** The top-level items (valid until the document's next update). */
  top?: TopLevel[];
}

export interface EngineOptions {
  profile?: string;
  wasmDir?: string;
  /** Folders searched for `#include "x.h"` after the including file's own folder. */
  includePaths?: string[];
}

/** One open document: keeps the tree for incremental reparses. */
export class DocumentAnalyzer {
  private last: Analysis | undefined;
  /** Without an explicit profile the file chooses (sockops/choose.ts): a struct bpf_tcp_ops
   *  hook is checked against autolowat-tcp-ops-v5, as `run` loads it. */
  private explicitProfile = false;
  private readonly initialTable: SockopsTable;
  private constructor(private doc: ParsedDocument, public table: SockopsTable, private includePaths: string[]) {
    this.initialTable = table;
  }

  static async create(opts: EngineOptions = {}): Promise<DocumentAnalyzer> {
    const a = new DocumentAnalyzer(await ParsedDocument.create(opts.wasmDir), sockopsTable(opts.profile), opts.includePaths ?? []);
    a.explicitProfile = opts.profile !== undefined;
    return a;
  }

  /** Analyses `text` (reparsing incrementally from the previous text). `file`: its path or
   *  `file:` URI, to follow its local includes. Never throws on bad input: an internal failure
   *  becomes a finding so the editor shows something. */
  update(text: string, file?: string): Analysis {
    this.doc.update(text);
    this.chooseTable(text);
    try {
      const path = localPath(file);
      const includes = path ? localIncludes(text, path, this.table, this.includePaths, analyze) : undefined;
      this.last = analyze(this.doc, this.table, includes);
      this.last.file = path;
    } catch (e) {
      this.last = {
        table: this.table, universe: new OpUniverse(this.table.firingOps()), consts: new Constants(this.table),
        funcs: new Map(), text, starts: this.doc.starts,
        findings: [{ code: 'SOCKOPS000', severity: 'information', start: 0, end: 0, related: [],
          message: `bpf-sockops could not analyse this file (${(e as Error).message}); please report it with the file attached.` }],
      };
    }
    return this.last;
  }

  /** The findings of the first functions of `text` before update() (./preview.ts): exactly
   *  those update(text, file) gives inside `covered`. Undefined when the text has no preview (or
   *  it failed: update() then says why). Leaves the document as it was. */
  preview(text: string, file?: string, opts: { seedLines?: number; minLines?: number } = {}): Preview | undefined {
    this.chooseTable(text);
    try {
      const path = localPath(file);
      const includes = path ? localIncludes(text, path, this.table, this.includePaths, analyze) : undefined;
      const p = previewAnalysis(text, this.table, includes, opts);
      if ('why' in p) return undefined;
      p.analysis.file = path;
      return p;
    } catch {
      return undefined;
    }
  }

  private chooseTable(text: string): void {
    if (this.explicitProfile) return;
    const want = profileForSource(text);
    this.table = want ? sockopsTable(want) : this.initialTable;
  }

  get analysis(): Analysis | undefined { return this.last; }
  get document(): ParsedDocument { return this.doc; }

  dispose(): void { this.doc.dispose(); }
}

/** A path for a file name or `file:` URI (other URIs: none). */
function localPath(file: string | undefined): string | undefined {
  return file?.startsWith('file:') ? fileURLToPath(file) : file && !/^\w+:/.test(file) ? file : undefined;
}

export function functionDef(n: Syn, text: string): FuncDef | undefined {
  const body = field(n, 'body');
  let d = field(n, 'declarator');
  while (d && d.type !== 'function_declarator') d = field(d, 'declarator') ?? d.children.find((c) => c.type.endsWith('declarator'));
  if (!d || !body) return undefined;
  const nameNode = field(d, 'declarator');
  if (!nameNode || nameNode.type !== 'identifier' || !nameNode.text) return undefined;
  const params: { name: string; type: string }[] = [];
  const pl = field(d, 'parameters');
  for (const p of pl?.children ?? []) {
    if (p.type !== 'parameter_declaration') continue;
    const decl = field(p, 'declarator');
    params.push({ name: declName(decl) ?? '', type: text.slice(p.start, p.end).replace(/\s+/g, ' ') });
  }
  const isStatic = n.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'static');
  return { name: nameNode.text, syn: n, nameNode, body, params, isStatic };
}

function collectEnums(n: Syn, consts: Constants): void {
  if (n.type === 'enumerator_list') {
    let next = 0;
    for (const e of n.children) {
      if (e.type !== 'enumerator') continue;
      const name = field(e, 'name')?.text;
      const v = field(e, 'value');
      const val = v ? consts.eval(v) : next;
      if (name && val !== undefined) { consts.addEnum(name, val); next = val + 1; }
      else next = NaN;
    }
    return;
  }
  if (n.type === 'function_definition' || n.type === 'compound_statement') return;
  for (const c of n.children) collectEnums(c, consts);
}

/** What analyze() reads of a parsed text: a ParsedDocument, or some of a file's top-level items
 *  parsed piece by piece (./preview.ts). */
export interface SourceView {
  text: string;
  /** The text with BPF macros masked (at least over the items given). */
  masked: string;
  starts: number[];
  topLevel(): TopLevel[];
}

export interface AnalyzeOptions {
  /** Names of every function the whole file defines, when the view holds only some of them. */
  knownFunctions?: ReadonlySet<string>;
  /** How many functions the whole file defines (the fixpoint's step bound), likewise. */
  functionCount?: number;
}

export function analyze(doc: SourceView, table: SockopsTable, includes?: IncludeInfo[], opts: AnalyzeOptions = {}): Analysis {
  const text = doc.masked;
  const universe = new OpUniverse(table.firingOps()); // ops that never fire (BPF_SOCK_OPS_VOID: OpInfo.neverFires) are in no op set
  const consts = new Constants(table);
  for (const inc of includes ?? []) consts.absorb(inc.analysis.consts);
  const defs = new Map<string, FuncDef>();
  const programs: { def: FuncDef; prog: ProgType }[] = [];
  const structs = new Map<string, string[]>();
  for (const item of doc.topLevel()) {
    const n = item.syn;
    if (n.type === 'preproc_def') {
      const name = field(n, 'name')?.text;
      const value = field(n, 'value')?.text;
      if (name && value !== undefined) consts.addDefine(name, value);
    } else if (n.type === 'function_definition') {
      const def = functionDef(n, text);
      if (!def) continue;
      if (item.section) def.section = item.section.name;
      if (!defs.has(def.name)) defs.set(def.name, def);
      const prog = def.section !== undefined ? progTypeOfSection(def.section) : undefined;
      if (prog) programs.push({ def, prog });
    } else {
      collectEnums(n, consts);
      collectStructs(n, structs);
    }
  }

  const env = {
    consts,
    text: doc.text,
    isUserFunction: opts.knownFunctions ? (name: string) => defs.has(name) || opts.knownFunctions!.has(name) : (name: string) => defs.has(name),
    isTableFunction: (name: string) => !!table.helper(name) || !!table.kfunc(name),
    callbackOf: (name: string) => callbackHelper(table, name),
    structFields: (name: string) => structs.get(name),
  };

  // Interprocedural fixpoint: a callee sees the union of its sock_ops callers' op sets.
  const funcs = new Map<string, FuncAnalysis>();
  const get = (def: FuncDef): FuncAnalysis => {
    let f = funcs.get(def.name);
    if (!f) {
      f = { def, progs: new Set(), entry: universe.none, paramKinds: [], flow: emptyFlow(), indirect: [] };
      const err = firstSyntaxError(def.syn);
      if (err) { f.opUnsure = err; f.unsureWhy = 'syntax'; }
      funcs.set(def.name, f);
    }
    return f;
  };
  // A FIFO with a membership set: a file of thousands of hooks made `includes` on the queue
  // and `shift` quadratic.
  const work: FuncAnalysis[] = [];
  let head = 0;
  const queued = new Set<FuncAnalysis>();
  for (const p of programs) {
    const f = get(p.def);
    f.progs.add(p.prog);
    if (p.prog === 'sock_ops') {
      f.entry = universe.all;
      f.paramKinds[0] = 'ctx';
    }
    work.push(f);
    queued.add(f);
  }
  let steps = 0;
  const limit = 64 * (Math.max(defs.size, opts.functionCount ?? 0) + 1) * (universe.values.length + 2);
  while (head < work.length && steps++ < limit) {
    const f = work[head++]!;
    queued.delete(f);
    const sockops = f.progs.has('sock_ops');
    const entry = sockops ? f.entry : universe.all;
    f.flow = new FlowWalker(env, f.def, entry, f.paramKinds).run();
    const unsure = f.opUnsure ?? f.flow.unknownOp;
    for (const cs of f.flow.callSites) {
      const def = defs.get(cs.callee);
      if (!def || cs.state.empty) continue;
      const g = get(def);
      let changed = false;
      for (const p of f.progs) if (!g.progs.has(p)) { g.progs.add(p); changed = true; }
      if (sockops) {
        // A callback run later (a timer) or a function whose name escapes into code the walk
        // cannot follow: every parameter is unknown; a timer callback runs at no op we know.
        const state = cs.async ? universe.all : cs.state;
        const next = g.entry.union(state);
        if (!next.equals(g.entry)) changed = true;
        g.entry = next;
        if (cs.kind && !g.indirect.some((x) => x.site.node === cs.node)) g.indirect.push({ site: cs, caller: f.def.name });
        const kinds: ArgKind[] = cs.kind === undefined ? cs.argKinds
          : def.params.map((_, i) => (cs.kind === 'callback' ? cs.argKinds[i] ?? 'other' : 'other'));
        kinds.forEach((k, i) => {
          const old = g.paramKinds[i];
          const merged = mergeArgKind(old, k);
          if (argKindKey(merged) !== argKindKey(old)) { g.paramKinds[i] = merged; changed = true; }
        });
        if (unsure && !g.opUnsure) { g.opUnsure = unsure; g.unsureWhy = f.unsureWhy ?? 'pointer'; changed = true; }
      }
      if (changed && !queued.has(g)) { work.push(g); queued.add(g); }
    }
  }
  for (const f of funcs.values()) if (!f.opUnsure && f.flow.unknownOp && f.progs.has('sock_ops')) { f.opUnsure = f.flow.unknownOp; f.unsureWhy = 'pointer'; }
  // Functions no program reaches: walked once (all ops, no op rules) so that hovers,
  // completion and the cb-flag search see them too.
  for (const def of defs.values()) {
    if (funcs.has(def.name)) continue;
    const f = get(def);
    def.params.forEach((p, i) => { if (/\bbpf_sock_ops\s*\*/.test(p.type)) f.paramKinds[i] = 'ctx'; });
    f.flow = new FlowWalker(env, def, universe.all, f.paramKinds).run();
  }

  const analysis: Analysis = { table, universe, consts, funcs, findings: [], text: doc.text, starts: doc.starts, includes, top: doc.topLevel() };
  analysis.findings = checkRules(analysis);
  analysis.findings.push(...structOpsFindings(table, text, defs)); // struct_ops profiles (./structops.ts)
  return analysis;
}

/** Field names of `struct name { ... }` definitions, in order (for positional initialisers). */
function collectStructs(n: Syn, out: Map<string, string[]>): void {
  if (n.type === 'struct_specifier') {
    const name = field(n, 'name')?.text;
    const body = field(n, 'body');
    if (name && body && !out.has(name)) {
      const fields: string[] = [];
      for (const d of body.children) {
        if (d.type !== 'field_declaration') continue;
        for (const c of d.children) if (c.field === 'declarator') fields.push(fieldName(c) ?? '');
      }
      out.set(name, fields);
    }
  }
  if (n.type === 'function_definition' || n.type === 'compound_statement') return;
  for (const c of n.children) collectStructs(c, out);
}

function fieldName(d: Syn): string | undefined {
  if (d.type === 'field_identifier') return d.text;
  const inner = field(d, 'declarator');
  return inner ? fieldName(inner) : undefined;
}

function emptyFlow(): FlowResult {
  return { calls: [], ctx: [], callSites: [], handles: [], stmts: [], assigns: new Map(), addrTaken: new Map() };
}

// ---------------------------------------------------------------------------------------------
// Findings as 1-based or 0-based positions

export interface PositionedFinding extends Finding {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  relatedRanges: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; message: string }[];
}

export function positioned(a: Analysis): PositionedFinding[] {
  return a.findings.map((f) => ({
    ...f,
    range: { start: positionAt(a.starts, f.start), end: positionAt(a.starts, f.end) },
    relatedRanges: f.related.map((r) => ({ range: { start: positionAt(a.starts, r.start), end: positionAt(a.starts, r.end) }, message: r.message })),
  }));
}

/** One-shot analysis of a text (the CLI and tests). */
export async function analyzeText(text: string, opts: EngineOptions & { file?: string } = {}): Promise<Analysis> {
  const d = await DocumentAnalyzer.create(opts);
  try {
    return d.update(text, opts.file);
  } finally {
    d.dispose();
  }
}
