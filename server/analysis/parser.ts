// Tree-sitter C for BPF sources: wasm location, masking of BPF macros (same length, so every
// offset stays true), incremental reparse, and a conversion to a small JS tree (`Syn`) that the
// analysis walks without crossing into wasm for every node.
import type { Parser as ParserT, Language as LanguageT, Tree, Node, TreeCursor } from 'web-tree-sitter';
import type * as WebTreeSitter from 'web-tree-sitter';

// `require`, not `import`: bundlers then take the package's CommonJS build, which does not rely
// on import.meta.url (undefined in our CJS bundles); the wasm location is ours to give anyway.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Parser, Language, Edit } = require('web-tree-sitter') as typeof WebTreeSitter;
type Parser = ParserT;
type Language = LanguageT;
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { preprocEnd, skipQuoted } from './lexical';

// ---------------------------------------------------------------------------------------------
// Finding the wasm files

/** Where `web-tree-sitter.wasm` and `tree-sitter-c.wasm` are looked for, in order: the
 *  explicit directory, $BPF_SOCKOPS_WASM_DIR, next to this file or bundle (dist/ when packaged),
 *  then the packages under any node_modules above it or above the working directory. */
export function locateWasm(file: 'web-tree-sitter.wasm' | 'tree-sitter-c.wasm', dir?: string): string {
  const pkg = file === 'web-tree-sitter.wasm' ? 'web-tree-sitter' : 'tree-sitter-c';
  const tried: string[] = [];
  const roots = [dir, process.env.BPF_SOCKOPS_WASM_DIR].filter((d): d is string => !!d);
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = roots.map((r) => path.join(r, file));
  candidates.push(path.join(here, file));
  for (const start of [here, process.cwd()]) {
    let d = start;
    for (;;) {
      candidates.push(path.join(d, 'node_modules', pkg, file));
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  for (const c of candidates) {
    tried.push(c);
    if (existsSync(c)) return c;
  }
  throw new Error(`bpf-sockops: cannot find ${file}; looked in:\n  ${tried.join('\n  ')}\n` +
    `Set BPF_SOCKOPS_WASM_DIR to the folder holding ${file} (the extension ships it in dist/).`);
}

let language: Promise<Language> | undefined;
/** The C grammar once loadCLanguage() has finished (a second document parses synchronously). */
let loaded: Language | undefined;

/** Initialises web-tree-sitter once and loads the C grammar. */
export function loadCLanguage(wasmDir?: string): Promise<Language> {
  if (!language) {
    language = (async () => {
      const runtime = locateWasm('web-tree-sitter.wasm', wasmDir);
      await Parser.init({ locateFile: () => runtime });
      loaded = await Language.load(locateWasm('tree-sitter-c.wasm', wasmDir));
      return loaded;
    })();
    language.catch(() => { language = undefined; });
  }
  return language;
}

// ---------------------------------------------------------------------------------------------
// Masking BPF macros

export interface SectionMark {
  name: string; // the SEC("...") string
  start: number; // offset of `SEC`
  end: number; // offset after `)`
}

/** Attribute-like macros from bpf_helpers.h/bpf_misc.h that tree-sitter cannot parse: blanked. */
const BLANK_WORDS = new Set([
  '__ksym', '__kconfig', '__weak', '__noinline', '__always_inline', '__hidden', '__kptr',
  '__kptr_untrusted', '__percpu_kptr', '__arg_ctx', '__arg_nonnull', '__arg_nullable',
  '__arg_trusted', '__arg_untrusted', '__arg_arena', '__uptr', '__always_unused',
  '__maybe_unused', '__used', '__packed', '__bpf_kfunc', '__bpf_fastcall', '__naked', '__inline',
]);
/** Call-like attribute macros blanked with their arguments. */
const BLANK_CALLS = new Set(['__contains', '__aligned', '__section', '__attribute_const__']);
/** Map-definition macros `__uint(name, val)`: become `int    name          ` (a field). */
const FIELD_MACROS = new Set(['__uint', '__type', '__array', '__ulong']);

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isIdChar(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}

/** Index after the `)` matching the `(` at `open`, skipping strings and comments; -1 if none. */
function matchParen(t: string, open: number): number {
  let depth = 0;
  for (let i = open; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) { if (--depth === 0) return i + 1; }
    else if (c === 34 || c === 39) i = skipQuoted(t, i);
    else if (c === 47 && t.charCodeAt(i + 1) === 47) { const n = t.indexOf('\n', i); i = n < 0 ? t.length : n; }
    else if (c === 47 && t.charCodeAt(i + 1) === 42) { const n = t.indexOf('*/', i + 2); i = n < 0 ? t.length : n + 1; }
  }
  return -1;
}
function nextNonSpace(t: string, i: number): number {
  while (i < t.length && /\s/.test(t[i]!)) i++;
  return i;
}

/** Replaces BPF macros that tree-sitter-c cannot parse by spaces (newlines kept), so that all
 *  offsets, lines and columns of the masked text equal those of the original. */
export function maskBpfMacros(text: string): { masked: string; sections: SectionMark[] } {
  // UTF-16 code units, written in place (an array of one-character strings cost ~0.5 s on a
  // 200,000-line file); made on the first blank.
  let out: Uint16Array | undefined;
  const blank = (a: number, b: number) => {
    out ??= codeUnits(text);
    for (let k = a; k < b; k++) if (out[k] !== 10 && out[k] !== 13) out[k] = 32;
  };
  const sections: SectionMark[] = [];
  const n = text.length;
  let lineStart = true;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) { lineStart = true; continue; }
    if (c === 32 || c === 9 || c === 13) continue;
    if (c === 35 && lineStart) { // preprocessor line: leave alone (with continuations)
      i = preprocEnd(text, i) - 1;
      continue;
    }
    lineStart = false;
    if (c === 47 && text.charCodeAt(i + 1) === 47) { const e = text.indexOf('\n', i); i = (e < 0 ? n : e) - 1; continue; }
    if (c === 47 && text.charCodeAt(i + 1) === 42) { const e = text.indexOf('*/', i + 2); i = e < 0 ? n : e + 1; continue; }
    if (c === 34 || c === 39) { i = skipQuoted(text, i); continue; }
    if (!isIdStart(c) || (i > 0 && isIdChar(text.charCodeAt(i - 1)))) continue;
    let j = i + 1;
    while (j < n && isIdChar(text.charCodeAt(j))) j++;
    const word = text.slice(i, j);
    if (word === 'SEC') {
      const p = nextNonSpace(text, j);
      if (text[p] === '(') {
        const close = matchParen(text, p);
        if (close > 0) {
          const m = /^\(\s*"([^"\n]*)"\s*\)$/.exec(text.slice(p, close));
          if (m) sections.push({ name: m[1]!, start: i, end: close });
          blank(i, close);
          i = close - 1;
          continue;
        }
      }
    } else if (BLANK_WORDS.has(word)) {
      blank(i, j);
    } else if (BLANK_CALLS.has(word)) {
      const p = nextNonSpace(text, j);
      const close = text[p] === '(' ? matchParen(text, p) : -1;
      if (close > 0) { blank(i, close); i = close - 1; continue; }
    } else if (FIELD_MACROS.has(word)) {
      const p = nextNonSpace(text, j);
      const close = text[p] === '(' ? matchParen(text, p) : -1;
      if (close > 0) {
        // `__uint(` -> `int    `; keep the field name; blank `, value)`.
        blank(i, p + 1);
        out![i] = 105; out![i + 1] = 110; out![i + 2] = 116; // `int`
        const nameStart = nextNonSpace(text, p + 1);
        let nameEnd = nameStart;
        while (nameEnd < close && isIdChar(text.charCodeAt(nameEnd))) nameEnd++;
        blank(nameEnd, close);
        i = close - 1;
        continue;
      }
    } else if (word.startsWith('bpf_core_')) {
      // Type arguments of bpf_core_*(): `struct x`, `enum y`, `struct x *` -> plain identifiers.
      const p = nextNonSpace(text, j);
      const close = text[p] === '(' ? matchParen(text, p) : -1;
      if (close > 0) {
        const args = text.slice(p, close);
        const re = /\b(struct|union|enum)\b|\*(?=\s*[,)])/g;
        let m: RegExpExecArray | null;
        while ((m = re.exec(args))) blank(p + m.index, p + m.index + m[0].length);
      }
    }
    i = j - 1;
  }
  return { masked: out ? fromCodeUnits(out) : text, sections };
}

function codeUnits(text: string): Uint16Array {
  const a = new Uint16Array(text.length);
  for (let k = 0; k < text.length; k++) a[k] = text.charCodeAt(k);
  return a;
}
/** The string of these code units, exactly (lone surrogates kept, unlike a UTF-16 decoder). */
function fromCodeUnits(a: Uint16Array): string {
  const parts: string[] = [];
  for (let k = 0; k < a.length; k += 8192) parts.push(String.fromCharCode.apply(null, a.subarray(k, k + 8192) as unknown as number[]));
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// A small JS copy of the syntax tree

/** One syntax node, copied out of tree-sitter. Offsets are absolute in the document. */
export interface Syn {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  /** Field name in the parent (`condition`, `body`, `value`...). */
  field?: string;
  /** Operator token of binary/unary/assignment/update expressions. */
  op?: string;
  /** Source text of leaves (identifiers, numbers, ...). */
  text?: string;
  children: Syn[];
  /** True for nodes tree-sitter had to invent or could not parse. */
  error?: boolean;
  /** True where the braces do not balance: a token tree-sitter invented (a missing `}`) is a
   *  child of this node, or it is an unparsed span holding a brace. GNU case ranges and other
   *  unparsed spans the analysis handles are not marked. */
  missing?: boolean;
  /** Set on a top-level item tree-sitter parsed without any error: no node below is missing. */
  clean?: boolean;
}

const LEAF_TEXT = new Set([
  'identifier', 'field_identifier', 'type_identifier', 'primitive_type', 'number_literal',
  'statement_identifier', 'string_content', 'char_literal', 'storage_class_specifier', 'preproc_arg', 'sized_type_specifier', 'true', 'false', 'null',
]);

/** Offsets are stored relative to the top-level item and resolved through a shared base, so a
 *  function whose text did not change is reused after an edit above it by moving its base. */
interface Base { d: number }

class SynNode implements Syn {
  field?: string;
  op?: string;
  text?: string;
  error?: boolean;
  missing?: boolean;
  children: Syn[] = [];
  constructor(readonly type: string, private rs: number, private re: number, private base: Base) {}
  get start(): number { return this.rs + this.base.d; }
  get end(): number { return this.re + this.base.d; }
}

/** Nesting deeper than this is not copied (a `TOO_DEEP` leaf stands for it): the analysis
 *  recurses over the copy and must not exhaust the stack on hostile input. */
export const MAX_DEPTH = 400;

/** What convert() reads of the grammar: node type names, field names and which types are named,
 *  all by id, so that a node costs as few calls into wasm as possible (each call copies the
 *  cursor in and out of wasm memory; on a 200,000-line file they were most of the conversion). */
interface Grammar { types: string[]; fields: (string | null)[]; named: Map<number, boolean>; lang: Language }
const grammars = new WeakMap<Language, Grammar>();
function grammarOf(lang: Language): Grammar {
  let g = grammars.get(lang);
  if (!g) grammars.set(lang, g = { types: lang.types, fields: lang.fields, named: new Map(), lang });
  return g;
}
/** As TreeCursor.nodeType: the type's name, `ERROR` for ids without one. */
function typeName(g: Grammar, id: number): string { return g.types[id] || 'ERROR'; }
/** As TreeCursor.nodeIsNamed (a node's named flag is its type's: tree-sitter's
 *  ts_node_is_named reads the symbol metadata of its alias or of its subtree's symbol). */
function isNamed(g: Grammar, id: number): boolean {
  let v = g.named.get(id);
  if (v === undefined) g.named.set(id, v = g.lang.nodeTypeIsNamed(id));
  return v;
}

const OPERATOR_TOKENS = new Set(['!', '!=', '%', '%=', '&', '&&', '&=', '*', '*=', '+', '++', '+=', '-', '--', '-=', '->',
  '.', '/', '/=', '<', '<<', '<<=', '<=', '=', '==', '>', '>=', '>>', '>>=', '^', '^=', '|', '|=', '||', '~']);

/** `errs`: the top-level item has a syntax error somewhere (tree-sitter's hasError); only then
 *  are nodes asked whether they are missing (a call into wasm per node otherwise saved).
 *  `typeId`: the cursor's node type id (the caller has read it). */
function convert(cursor: TreeCursor, g: Grammar, typeId: number, text: string, base: Base, origin: number, depth = 0, errs = true): Syn {
  const start = cursor.startIndex;
  const end = cursor.endIndex;
  const node = new SynNode(typeName(g, typeId), start - origin, end - origin, base);
  if (LEAF_TEXT.has(node.type)) node.text = text.slice(start, end);
  if (errs) {
    const missing = cursor.nodeIsMissing;
    if (node.type === 'ERROR' || missing) node.error = true;
    if (missing || (node.type === 'ERROR' && /[{}]/.test(text.slice(start, end)))) node.missing = true;
  }
  if (depth >= MAX_DEPTH) return new SynNode('TOO_DEEP', start - origin, end - origin, base);
  if (cursor.gotoFirstChild()) {
    const mark = pending.length;
    do {
      const id = cursor.nodeTypeId;
      if (!isNamed(g, id)) {
        // A token tree-sitter had to invent (`}` of a missing brace): the node is not as written.
        if (errs && cursor.nodeIsMissing) node.missing = true;
        const type = typeName(g, id);
        // Only these tokens are ever an `operator` field (node-types.json of tree-sitter-c): the
        // field of the others (`(`, `;`, `,`...) is not asked, one call into wasm fewer each.
        if (OPERATOR_TOKENS.has(type) && g.fields[cursor.currentFieldId] === 'operator') node.op = type;
        else if (node.type === 'case_statement' && type === 'default') node.op = 'default';
        continue;
      }
      if (typeName(g, id) === 'comment') continue;
      const field = g.fields[cursor.currentFieldId];
      const child = convert(cursor, g, id, text, base, origin, depth + 1, errs);
      if (field) child.field = field;
      pending.push(child);
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
    if (pending.length > mark) node.children = pending.splice(mark);
  }
  return node;
}
/** Children being copied, a stack shared by all convert() calls: each node's list is then cut
 *  to its exact length (an array grown by push keeps room for ~16, most nodes have 1-3). */
const pending: Syn[] = [];

export function field(n: Syn, name: string): Syn | undefined {
  for (const c of n.children) if (c.field === name) return c;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// A parsed document, reparsed incrementally

export interface LineIndex {
  lineStarts: number[];
}

export function lineStarts(text: string): number[] {
  const r = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) r.push(i + 1);
  return r;
}

/** 0-based line and UTF-16 column of an offset. */
export function positionAt(starts: number[], offset: number): { line: number; character: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - starts[lo]! };
}

function pointOf(starts: number[], offset: number): { row: number; column: number } {
  const p = positionAt(starts, offset);
  return { row: p.line, column: p.character };
}

/** Top-level items copied out of the tree; function bodies are reused between edits when their
 *  text did not change (only offsets move). */
export interface TopLevel {
  syn: Syn;
  /** Offset of the SEC("...") mark that precedes this item, if any. */
  section?: SectionMark;
}

interface CacheEntry { base: Base; syn: Syn }

/** A parsed document. The `Syn` trees it hands out are valid until the next update (their
 *  offsets follow the latest text). */
export class ParsedDocument {
  text = '';
  masked = '';
  sections: SectionMark[] = [];
  starts: number[] = [0];
  tree: Tree | undefined;
  private top: TopLevel[] | undefined;
  /** Copies of top-level nodes keyed by their masked text, with offsets relative to the node. */
  private cache = new Map<string, CacheEntry>();

  constructor(private parser: Parser) {}

  static async create(wasmDir?: string): Promise<ParsedDocument> {
    const lang = await loadCLanguage(wasmDir);
    const p = new Parser();
    p.setLanguage(lang);
    return new ParsedDocument(p);
  }

  /** A document for a second text (a header), once the grammar is loaded; else undefined. */
  static createSync(): ParsedDocument | undefined {
    if (!loaded) return undefined;
    const p = new Parser();
    p.setLanguage(loaded);
    return new ParsedDocument(p);
  }

  /** Sets the full text; reparses incrementally from the previous text (the edit is the span
   *  that differs between the two masked texts, so any change, however made, stays exact). */
  update(text: string): void {
    const { masked, sections } = maskBpfMacros(text);
    const old = this.masked;
    const oldStarts = this.starts;
    this.text = text;
    this.masked = masked;
    this.sections = sections;
    this.starts = lineStarts(text);
    this.top = undefined;
    if (this.tree && old !== masked) {
      let a = 0;
      const min = Math.min(old.length, masked.length);
      while (a < min && old.charCodeAt(a) === masked.charCodeAt(a)) a++;
      let b = 0;
      while (b < min - a && old.charCodeAt(old.length - 1 - b) === masked.charCodeAt(masked.length - 1 - b)) b++;
      this.tree.edit(new Edit({
        startIndex: a,
        oldEndIndex: old.length - b,
        newEndIndex: masked.length - b,
        startPosition: pointOf(oldStarts, a),
        oldEndPosition: pointOf(oldStarts, old.length - b),
        newEndPosition: pointOf(this.starts, masked.length - b),
      }));
      const next = this.parser.parse(masked, this.tree);
      this.tree.delete();
      this.tree = next ?? undefined;
    } else if (!this.tree) {
      this.tree = this.parser.parse(masked) ?? undefined;
    }
  }

  /** The top-level items (function definitions, declarations, #defines), looking inside
   *  #if/#ifdef blocks. */
  topLevel(): TopLevel[] {
    if (this.top) return this.top;
    const items: TopLevel[] = [];
    if (!this.tree) return (this.top = items);
    const used = new Map<string, CacheEntry>();
    const walk = (n: Node) => {
      for (let i = 0; i < n.childCount; i++) {
        const c = n.child(i)!;
        const t = c.type;
        if (t === 'preproc_if' || t === 'preproc_ifdef' || t === 'preproc_else' || t === 'preproc_elif' ||
            t === 'preproc_elifdef' || t === 'linkage_specification' || t === 'declaration_list') { walk(c); continue; }
        if (!c.isNamed || t === 'comment') continue;
        items.push({ syn: this.copy(c, used) });
      }
    };
    walk(this.tree.rootNode);
    this.cache = used;
    // Attach each SEC mark to the first item that starts at or after it.
    let k = 0;
    for (const item of items) {
      while (k < this.sections.length && this.sections[k]!.end <= item.syn.start) {
        const s = this.sections[k]!;
        if (!this.inComment(s.start)) item.section = s;
        k++;
      }
      // A SEC inside the item (e.g. `char _license[] SEC("license") = ...`) belongs to it too.
      while (k < this.sections.length && this.sections[k]!.start < item.syn.end) {
        const s = this.sections[k]!;
        if (!item.section && !this.inComment(s.start)) item.section = s;
        k++;
      }
    }
    return (this.top = items);
  }

  private inComment(offset: number): boolean {
    const n = this.tree?.rootNode.descendantForIndex(offset);
    return !!n && (n.type === 'comment' || n.type === 'string_literal' || n.type === 'string_content');
  }

  private copy(n: Node, used: Map<string, CacheEntry>): Syn {
    const key = this.masked.slice(n.startIndex, n.endIndex);
    let e = this.cache.get(key);
    if (!e || used.has(key)) {
      // New text (or a second item with the same text this pass): convert it.
      const base: Base = { d: n.startIndex };
      const cursor = n.walk();
      const errs = n.hasError;
      pending.length = 0;
      e = { base, syn: convert(cursor, grammarOf(n.tree.language), cursor.nodeTypeId, this.masked, base, n.startIndex, 0, errs) };
      if (!errs) e.syn.clean = true; // (not a class field: one root per item has it)
      cursor.delete();
      if (used.has(key)) return e.syn;
    }
    e.base.d = n.startIndex;
    used.set(key, e);
    return e.syn;
  }

  /** Forgets the previous tree: the next update parses from scratch. */
  reset(): void {
    this.tree?.delete();
    this.tree = undefined;
    this.masked = '';
  }

  dispose(): void {
    this.tree?.delete();
    this.tree = undefined;
    this.parser.delete();
  }
}

// ---------------------------------------------------------------------------------------------
// One top-level piece of a file parsed on its own (./preview.ts)

/** A parser for pieces, once loadCLanguage() has finished; else undefined. */
export function pieceParser(): Parser | undefined {
  if (!loaded) return undefined;
  const p = new Parser();
  p.setLanguage(loaded);
  return p;
}

/** Parsed pieces by text. */
export type PieceCache = Map<string, PieceTemplate>;

export interface ParsedPiece {
  /** Top-level items, offsets in the whole file, SEC marks attached as ParsedDocument does. */
  items: TopLevel[];
  /** The piece's text with BPF macros masked (same length). */
  masked: string;
  /** tree-sitter found an error in the piece. */
  hasError: boolean;
}

/** A piece as parsed once (offsets relative to the piece until it is first placed: `moved`). */
export interface PieceTemplate { items: TopLevel[]; masked: string; hasError: boolean; moved?: number }

/** Parses `text` (a run of whole top-level items starting at a line start, as ./partition.ts
 *  cuts them) placed at `offset` of its file. `cache`: pieces by text, so that a piece repeated
 *  verbatim is parsed once (its later places get a copy of the tree). */
export function parsePiece(parser: Parser, text: string, offset: number, cache?: Map<string, PieceTemplate>): ParsedPiece {
  let t = cache?.get(text);
  if (!t) {
    t = parsePieceAt0(parser, text);
    cache?.set(text, t);
  }
  return place(t, offset);
}

function parsePieceAt0(parser: Parser, text: string): PieceTemplate {
  const { masked, sections } = maskBpfMacros(text);
  const tree = parser.parse(masked);
  if (!tree) return { items: [], masked, hasError: true };
  try {
    const items: TopLevel[] = [];
    const g = grammarOf(tree.language);
    const walk = (n: Node) => {
      for (let i = 0; i < n.childCount; i++) {
        const c = n.child(i)!;
        const t = c.type;
        if (t === 'preproc_if' || t === 'preproc_ifdef' || t === 'preproc_else' || t === 'preproc_elif' ||
            t === 'preproc_elifdef' || t === 'linkage_specification' || t === 'declaration_list') { walk(c); continue; }
        if (!c.isNamed || t === 'comment') continue;
        const base: Base = { d: c.startIndex };
        const cursor = c.walk();
        const errs = c.hasError;
        pending.length = 0;
        const syn = convert(cursor, g, cursor.nodeTypeId, masked, base, c.startIndex, 0, errs);
        if (!errs) syn.clean = true;
        cursor.delete();
        items.push({ syn });
      }
    };
    walk(tree.rootNode);
    const inComment = (offset: number) => {
      const n = tree.rootNode.descendantForIndex(offset);
      return !!n && (n.type === 'comment' || n.type === 'string_literal' || n.type === 'string_content');
    };
    attachSections(items, sections, inComment);
    return { items, masked, hasError: tree.rootNode.hasError };
  } finally {
    tree.delete();
  }
}

/** Attaches each SEC mark to the first item that starts at or after it (and a mark inside an
 *  item to that item), skipping marks in comments or strings. */
function attachSections(items: TopLevel[], sections: SectionMark[], inComment: (offset: number) => boolean): void {
  let k = 0;
  for (const item of items) {
    while (k < sections.length && sections[k]!.end <= item.syn.start) {
      const s = sections[k]!;
      if (!inComment(s.start)) item.section = s;
      k++;
    }
    while (k < sections.length && sections[k]!.start < item.syn.end) {
      const s = sections[k]!;
      if (!item.section && !inComment(s.start)) item.section = s;
      k++;
    }
  }
}

/** The template's items at `offset`: the template's own trees the first time, copies after. */
function place(t: PieceTemplate, offset: number): ParsedPiece {
  const first = t.moved === undefined;
  const moved = t.moved ?? 0;
  const items = t.items.map((it) => {
    let syn: Syn;
    if (first) {
      (it.syn as unknown as { base: Base }).base.d += offset;
      syn = it.syn;
    } else {
      syn = cloneSyn(it.syn, { d: it.syn.start - moved + offset }, it.syn.start);
    }
    const s = it.section;
    const section = s && { name: s.name, start: s.start - moved + offset, end: s.end - moved + offset };
    return section ? { syn, section } : { syn };
  });
  if (first) {
    t.moved = offset;
    for (const it of t.items) if (it.section) it.section = { ...it.section, start: it.section.start + offset, end: it.section.end + offset };
  }
  return { items, masked: t.masked, hasError: t.hasError };
}

/** A copy of an item's tree with its own base (`origin`: the item's start in the template). */
function cloneSyn(s: Syn, base: Base, origin: number): Syn {
  const n = new SynNode(s.type, s.start - origin, s.end - origin, base);
  if (s.field !== undefined) n.field = s.field;
  if (s.op !== undefined) n.op = s.op;
  if (s.text !== undefined) n.text = s.text;
  if (s.error) n.error = true;
  if (s.missing) n.missing = true;
  if (s.clean) (n as Syn).clean = true;
  if (s.children.length) n.children = s.children.map((c) => cloneSyn(c, base, origin));
  return n;
}
