// First findings of a large file before its whole analysis (issue 16): the functions of its first
// lines, analysed exactly as the whole file would analyse them, from only the pieces of the file
// that can change their findings. The file is cut lexically at its top-level items
// (./partition.ts); the pieces parsed are
//  - the functions that start in the first `seedLines` lines;
//  - every function that names a parsed function (a caller, a callback user, a reference), again
//    and again: the op sets, parameter kinds and program types reaching a function come from its
//    callers only, so this upward-closed set gets the whole file's answers;
//  - every piece that may define a #define, an enum or a named struct (the constants and struct
//    layouts are the file's, first or last definition as the whole analysis takes them);
//  - every piece the cut cannot read as one named function;
//  - when the cb flags set by the parsed functions do not already enable every op that needs one,
//    every function naming bpf_sock_ops_cb_flags_set or bpf_setsockopt (and their callers).
// The names of all other functions come from the cut (`name(...) {`), checked against the tree
// wherever a piece is parsed. The findings are then exactly the whole analysis's findings inside
// the parsed functions (`covered`); anything the method cannot vouch for (a syntax error in a
// parsed piece, a struct_ops profile, whose checks read the whole text, a name the tree reads
// differently) gives no preview, only the whole analysis.
import { pieceParser, parsePiece, lineStarts, type TopLevel, type ParsedPiece, type PieceCache } from './parser';
import { splitTopLevel, pieceIndexAt, type Piece } from './partition';
import { analyze, functionDef, type Analysis, type Finding } from './engine';
import { enabledFlags } from './rules';
import type { IncludeInfo } from './includes';
import type { SockopsTable } from './table';
import type { StructOpsProfile } from '../../sockops';

/** When the language server publishes a preview first, and how much of the file it covers. */
export const PREVIEW = {
  /** Files with fewer lines are analysed whole at once (a few hundred ms at most). */
  minLines: 20_000,
  /** The functions that start in these first lines are previewed (and whatever they need). */
  seedLines: 2_000,
};

export interface Preview {
  /** The analysis of the parsed pieces; its findings are final inside `covered`. */
  analysis: Analysis;
  /** The function definitions previewed, as [start, end) offsets. */
  covered: { start: number; end: number }[];
  /** Pieces of the file and how many were parsed. */
  pieces: number;
  parsed: number;
}

/** Items that set #defines at most (a piece of only these counts by its last copy). */
const PREPROC_ONLY = new Set(['preproc_def', 'preproc_function_def', 'preproc_include', 'preproc_call']);
/** Items outside functions that set struct layouts at most (by their first copy). */
const DECLARATIONS = new Set(['declaration', 'struct_specifier', 'union_specifier', 'type_definition']);
const CB_SETTERS = /\b(?:bpf_sock_ops_cb_flags_set|bpf_setsockopt)\b/g;
/** Where a constant or a struct layout may be defined (a superset: matches in comments too). */
const GLOBALS = /\benum\b|#[ \t]*define\b|\b(?:struct|union)\b(?!\s*\{)[^;{}]*\{/g;

/** The preview of `text`, or why there is none. */
export function previewAnalysis(text: string, table: SockopsTable, includes: IncludeInfo[] | undefined,
  opts: { seedLines?: number; minLines?: number } = {}): Preview | { why: string } {
  const starts = lineStarts(text);
  if (starts.length < (opts.minLines ?? PREVIEW.minLines)) return { why: 'a small file is analysed whole at once' };
  if ((table.profile as Partial<StructOpsProfile>).structOps) return { why: 'struct_ops profiles are checked on the whole text' };
  const parser = pieceParser();
  if (!parser) return { why: 'the C grammar is not loaded yet' };
  try {
    const pieces = splitTopLevel(text);
    if (!pieces) return { why: 'the file does not cut into top-level items (unbalanced braces, parentheses or #if blocks)' };
    return new PreviewBuilder(text, pieces, table, includes, parser).run(starts, opts.seedLines ?? PREVIEW.seedLines);
  } finally {
    parser.delete();
  }
}

class PreviewBuilder {
  private parsed = new Map<number, ParsedPiece>();
  private want = new Set<number>();
  private searched = new Set<string>();
  private known = new Set<string>();
  private cache: PieceCache = new Map();

  constructor(private text: string, private pieces: Piece[], private table: SockopsTable,
    private includes: IncludeInfo[] | undefined, private parser: NonNullable<ReturnType<typeof pieceParser>>) {
    for (const p of pieces) if (p.name) this.known.add(p.name);
  }

  run(starts: number[], seedLines: number): Preview | { why: string } {
    const seedEnd = seedLines < starts.length ? starts[seedLines]! : this.text.length;
    this.pieces.forEach((p, i) => {
      if (p.kind === 'mixed' || (p.kind === 'function' && p.start < seedEnd)) this.want.add(i);
    });
    const globals: number[] = [];
    for (const i of this.matches(GLOBALS)) {
      if (this.pieces[i]!.kind === 'other') globals.push(i);
      else if (this.pieces[i]!.kind === 'mixed') this.want.add(i);
    }
    this.addGlobals(globals);
    let a = this.close(starts);
    if (typeof a === 'string') return { why: a };
    if (!this.cbFlagsSettled(a)) {
      for (const i of this.matches(CB_SETTERS)) if (this.pieces[i]!.kind !== 'other') this.want.add(i);
      a = this.close(starts);
      if (typeof a === 'string') return { why: a };
    }
    const covered: { start: number; end: number }[] = [];
    for (const f of a.funcs.values()) covered.push({ start: f.def.syn.start, end: f.def.syn.end });
    // Duplicate definitions (the first is analysed) are covered too: findings are never in them.
    covered.sort((x, y) => x.start - y.start);
    return { analysis: a, covered, pieces: this.pieces.length, parsed: this.parsed.size };
  }

  /** The pieces (without function bodies) that may define constants or struct layouts, in file
   *  order. A text repeated verbatim (a header pasted into each part of a generated file) is
   *  parsed once and, when the file has no enum (whose values are computed in file order, from
   *  the #defines above them), only its occurrence that decides is kept: the last of a piece of
   *  #defines (the last #define of a name wins), the first of a piece of declarations (the
   *  first layout of a struct name wins). */
  private addGlobals(indices: number[]): void {
    const dedupe = !/\benum\b/.test(this.text);
    const byText = new Map<string, number[]>();
    for (const i of indices) {
      const p = this.pieces[i]!;
      const key = this.text.slice(p.start, p.end);
      const l = byText.get(key);
      if (l) l.push(i); else byText.set(key, [i]);
    }
    for (const [key, list] of byText) {
      if (!dedupe || list.length === 1) { for (const i of list) this.want.add(i); continue; }
      const first = list[0]!;
      const pp = parsePiece(this.parser, key, this.pieces[first]!.start, this.cache);
      const types = new Set(pp.items.map((it) => it.syn.type));
      const defines = [...types].every((t) => PREPROC_ONLY.has(t));
      const decls = [...types].every((t) => DECLARATIONS.has(t));
      if (defines) {
        const last = list[list.length - 1]!;
        this.parsed.set(last, parsePiece(this.parser, key, this.pieces[last]!.start, this.cache));
      } else if (decls) {
        this.parsed.set(first, pp);
      } else {
        this.parsed.set(first, pp);
        for (const i of list.slice(1)) this.want.add(i);
      }
    }
  }

  /** Parses the wanted pieces and the callers of every function parsed, until none is new; then
   *  analyses what was parsed. A string: why there is no preview. */
  private close(starts: number[]): Analysis | string {
    for (;;) {
      const names: string[] = [];
      for (const i of [...this.want].sort((x, y) => x - y)) {
        if (this.parsed.has(i)) continue;
        const p = this.pieces[i]!;
        const pp = parsePiece(this.parser, this.text.slice(p.start, p.end), p.start, this.cache);
        this.parsed.set(i, pp);
        const defined: string[] = [];
        for (const it of pp.items) {
          if (it.syn.type !== 'function_definition') continue;
          const def = functionDef(it.syn, this.text);
          if (def) defined.push(def.name);
        }
        if (p.kind === 'function' && (defined.length !== 1 || defined[0] !== p.name)) {
          return `the cut reads the function at offset ${p.start} as ${p.name}(), the parser as ${defined.join(', ') || 'none'}`;
        }
        for (const d of defined) {
          this.known.add(d);
          if (!this.searched.has(d)) { this.searched.add(d); names.push(d); }
        }
      }
      if (!names.length) break;
      // Every piece that names one of them (callers, callback users, references; a superset).
      for (let k = 0; k < names.length; k += 200) {
        const re = new RegExp(`\\b(?:${names.slice(k, k + 200).map((x) => x.replace(/[$]/g, '\\$')).join('|')})\\b`, 'g');
        for (const i of this.matches(re)) if (this.pieces[i]!.kind !== 'other') this.want.add(i);
      }
    }
    const order = [...this.parsed.keys()].sort((x, y) => x - y);
    const items: TopLevel[] = [];
    const parts: string[] = [];
    let at = 0;
    for (const i of order) {
      const p = this.pieces[i]!;
      const pp = this.parsed.get(i)!;
      items.push(...pp.items);
      parts.push(this.text.slice(at, p.start), pp.masked);
      at = p.end;
    }
    parts.push(this.text.slice(at));
    const view = { text: this.text, masked: parts.join(''), starts, topLevel: () => items };
    return analyze(view, this.table, this.includes, { knownFunctions: this.known, functionCount: this.known.size });
  }

  /** Every cb flag some op waits for is already set by the parsed functions: the functions not
   *  parsed can enable nothing more. */
  private cbFlagsSettled(a: Analysis): boolean {
    const t = this.table;
    const on = enabledFlags(a);
    for (const op of a.universe.values) {
      const e = t.op(op)?.enabledBy;
      if (e && t.cbFlag(e) && !on.has(e)) return false;
    }
    return true;
  }

  /** Indexes of the pieces where `re` (global) matches. */
  private matches(re: RegExp): Set<number> {
    const out = new Set<number>();
    re.lastIndex = 0;
    for (let m = re.exec(this.text); m; m = re.exec(this.text)) {
      const i = pieceIndexAt(this.pieces, m.index);
      out.add(i);
      // On from the end of this piece (one match per piece is enough; a match that ran on into
      // later pieces must not hide theirs).
      re.lastIndex = this.pieces[i]!.end;
    }
    return out;
  }
}

/** Where a preview and the whole analysis of the same text disagree inside the preview's
 *  functions (undefined: they agree, as they must). */
export function previewMismatch(p: Preview, whole: Analysis): string | undefined {
  const inside = (x: number) => {
    let lo = 0;
    let hi = p.covered.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = p.covered[mid]!;
      if (x < r.start) hi = mid - 1;
      else if (x >= r.end) lo = mid + 1;
      else return true;
    }
    return false;
  };
  const key = (f: Finding) => JSON.stringify([f.start, f.end, f.code, f.severity, f.message, f.related, f.fix ?? null]);
  const want = whole.findings.filter((f) => inside(f.start)).map(key);
  const got = p.analysis.findings.map(key);
  if (want.length !== got.length) return `${got.length} findings previewed, ${want.length} in the whole analysis`;
  const i = want.findIndex((k, j) => k !== got[j]);
  return i < 0 ? undefined : `first difference: ${got[i]} previewed, ${want[i]} in the whole analysis`;
}
