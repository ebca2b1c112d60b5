// Navigation over an Analysis, in offsets and plain data (server/navigation.ts turns them into
// LSP): the file's symbols (functions, programs, globals, maps, structs, enums, typedefs, macros)
// for the outline, go to definition and references across the file and its local headers.
import type { Analysis } from './engine';
import type { Syn, TopLevel } from './parser';
import { field } from './parser';

export type SymKind = 'function' | 'program' | 'prototype' | 'variable' | 'map' | 'struct' | 'union' | 'enum' | 'enumMember' | 'typedef' | 'macro' | 'field';

export interface Sym {
  name: string;
  kind: SymKind;
  detail?: string;
  /** Whole item and the name itself (offsets in the file's text). */
  start: number; end: number;
  nameStart: number; nameEnd: number;
  children?: Sym[];
}

/** A place in the analysed file (`file` undefined) or in one of its local headers. */
export interface Place { file?: string; start: number; end: number }

// ---------------------------------------------------------------------------------------------
// Symbols

const symMemo = new WeakMap<TopLevel[], Sym[]>();

/** The outline of an analysed text: one entry per top-level definition or declaration. */
export function documentSymbols(a: Analysis): Sym[] {
  const top = a.top ?? [];
  const hit = symMemo.get(top);
  if (hit) return hit;
  const out: Sym[] = [];
  for (const item of top) out.push(...itemSymbols(item));
  symMemo.set(top, out);
  return out;
}

function nameDeclarator(d: Syn | undefined): Syn | undefined {
  while (d) {
    if (d.type === 'identifier' || d.type === 'type_identifier' || d.type === 'field_identifier') return d;
    const inner = field(d, 'declarator') ?? d.children.find((c) => c.type.endsWith('declarator') || c.type === 'identifier');
    if (!inner || inner === d) return undefined;
    d = inner;
  }
  return undefined;
}

function isFunctionDeclarator(d: Syn | undefined): boolean {
  while (d) {
    if (d.type === 'function_declarator') return true;
    if (d.type === 'identifier' || d.type === 'parenthesized_declarator') return false;
    d = field(d, 'declarator');
  }
  return false;
}

function sym(kind: SymKind, n: Syn, name: Syn, detail?: string, children?: Sym[]): Sym {
  return { name: name.text ?? '', kind, detail, start: n.start, end: n.end, nameStart: name.start, nameEnd: name.end, children };
}

function itemSymbols(item: TopLevel): Sym[] {
  const n = item.syn;
  const out: Sym[] = [];
  switch (n.type) {
    case 'function_definition': {
      const name = nameDeclarator(field(n, 'declarator'));
      if (name?.text) out.push(sym(item.section ? 'program' : 'function', n, name, item.section ? `SEC("${item.section.name}")` : undefined));
      break;
    }
    case 'preproc_def': case 'preproc_function_def': {
      const name = field(n, 'name');
      if (name?.text) out.push(sym('macro', n, name, field(n, 'value')?.text?.trim().slice(0, 60)));
      break;
    }
    case 'type_definition': {
      out.push(...typeSymbols(field(n, 'type')));
      for (const c of n.children) {
        if (c.field !== 'declarator') continue;
        const name = nameDeclarator(c);
        if (name?.text) out.push(sym('typedef', n, name));
      }
      break;
    }
    case 'declaration': {
      const type = field(n, 'type');
      out.push(...typeSymbols(type));
      const isExtern = n.children.some((c) => c.type === 'storage_class_specifier' && c.text === 'extern');
      for (const c of n.children) {
        if (c.field !== 'declarator') continue;
        const name = nameDeclarator(c);
        if (!name?.text) continue;
        if (isFunctionDeclarator(c)) out.push(sym('prototype', n, name, isExtern ? 'extern' : undefined));
        else if (item.section?.name === '.maps') out.push(sym('map', n, name, 'SEC(".maps")'));
        else out.push(sym('variable', n, name, item.section ? `SEC("${item.section.name}")` : undefined));
      }
      break;
    }
    default:
      out.push(...typeSymbols(n));
  }
  return out;
}

/** Named struct/union/enum definitions (with a body) inside a type. */
function typeSymbols(t: Syn | undefined): Sym[] {
  if (!t) return [];
  const body = field(t, 'body');
  const name = field(t, 'name');
  if (!body) return [];
  const kind: SymKind | undefined = t.type === 'struct_specifier' ? 'struct' : t.type === 'union_specifier' ? 'union' : t.type === 'enum_specifier' ? 'enum' : undefined;
  if (!kind) return [];
  const children: Sym[] = [];
  for (const c of body.children) {
    if (c.type === 'enumerator') {
      const en = field(c, 'name');
      if (en?.text) children.push(sym('enumMember', c, en));
    } else if (c.type === 'field_declaration') {
      for (const d of c.children) {
        if (d.field !== 'declarator') continue;
        const fn = nameDeclarator(d);
        if (fn?.text) children.push(sym('field', c, fn));
      }
    }
  }
  // An anonymous enum's constants are still global names: list them at the top level.
  if (!name?.text) return kind === 'enum' ? children : [];
  return [sym(kind, t, name, undefined, children)];
}

/** Every global name the outline defines (enum members included, fields not), first wins. */
function globalIndex(syms: Sym[]): Map<string, Sym> {
  const m = new Map<string, Sym>();
  const add = (s: Sym) => {
    const prev = m.get(s.name);
    // A definition wins over a prototype.
    if (!prev || (prev.kind === 'prototype' && s.kind !== 'prototype')) m.set(s.name, s);
  };
  for (const s of syms) {
    if (s.kind !== 'field') add(s);
    if (s.kind === 'enum') for (const c of s.children ?? []) add(c);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Words and tokens

export function wordAt(text: string, offset: number): { word: string; start: number; end: number } | undefined {
  let s = offset;
  let e = offset;
  while (s > 0 && /\w/.test(text[s - 1]!)) s--;
  while (e < text.length && /\w/.test(text[e]!)) e++;
  if (s === e || !/^[A-Za-z_]/.test(text.slice(s, e))) return undefined;
  return { word: text.slice(s, e), start: s, end: e };
}

/** Offsets of `name` as a whole word in code (not in comments, strings or `#include` lines). */
export function occurrences(text: string, name: string, from = 0, to = text.length): number[] {
  const out: number[] = [];
  const re = /\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|^[ \t]*#[ \t]*include[^\n]*|[A-Za-z_]\w*/gm;
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) && m.index < to) if (m[0] === name) out.push(m.index);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Definitions

/** A local (parameter or variable declared in the enclosing function) named `name` visible at
 *  `offset`: the innermost declaration before it whose block contains it. */
function localDefinition(a: Analysis, name: string, offset: number): { decl: Syn; fn: Syn } | undefined {
  for (const f of a.funcs.values()) {
    const fn = f.def.syn;
    if (offset < fn.start || offset > fn.end) continue;
    let best: Syn | undefined;
    const visit = (n: Syn, blockEnd: number) => {
      if (n.start > offset) return;
      if (n.type === 'parameter_declaration' || n.type === 'declaration') {
        for (const c of n.children) {
          if (c.field !== 'declarator') continue;
          const id = nameDeclarator(c);
          if (id?.text === name && id.start <= offset && offset <= blockEnd) best = id;
        }
      }
      const end = n.type === 'compound_statement' || n.type === 'for_statement' ? n.end : blockEnd;
      for (const c of n.children) visit(c, end);
    };
    const decl = field(f.def.syn, 'declarator');
    if (decl) visit(decl, fn.end);
    visit(f.def.body, fn.end);
    return best ? { decl: best, fn } : undefined;
  }
  return undefined;
}

export type Definition =
  | { kind: 'place'; place: Place; sym?: Sym }
  | { kind: 'table'; name: string };

/** Where the name at `offset` is defined: a local, a symbol of the file or of a local header,
 *  else (for helpers, kfuncs, ops and flags) the table. */
export function definitionAt(a: Analysis, offset: number): Definition | undefined {
  const w = wordAt(a.text, offset);
  if (!w) return undefined;
  const local = localDefinition(a, w.word, w.start);
  if (local) return { kind: 'place', place: { start: local.decl.start, end: local.decl.end } };
  const own = globalIndex(documentSymbols(a)).get(w.word);
  if (own && own.kind !== 'prototype') return { kind: 'place', place: { start: own.nameStart, end: own.nameEnd }, sym: own };
  for (const inc of a.includes ?? []) {
    const s = globalIndex(documentSymbols(inc.analysis)).get(w.word);
    if (s && s.kind !== 'prototype') return { kind: 'place', place: { file: inc.path, start: s.nameStart, end: s.nameEnd }, sym: s };
  }
  const t = a.table;
  if (t.helper(w.word) || t.kfunc(w.word) || t.op(w.word) || t.cbFlag(w.word)) return { kind: 'table', name: w.word };
  // A prototype of the file (an extern the table does not know) is the best we have.
  if (own) return { kind: 'place', place: { start: own.nameStart, end: own.nameEnd }, sym: own };
  for (const inc of a.includes ?? []) {
    const s = globalIndex(documentSymbols(inc.analysis)).get(w.word);
    if (s) return { kind: 'place', place: { file: inc.path, start: s.nameStart, end: s.nameEnd }, sym: s };
  }
  return undefined;
}

/** Every use of the name at `offset`: within its function for a local, else in the file and its
 *  local headers. The declaration itself is included when `withDeclaration`. */
export function referencesAt(a: Analysis, offset: number, withDeclaration: boolean): Place[] {
  const w = wordAt(a.text, offset);
  if (!w) return [];
  const local = localDefinition(a, w.word, w.start);
  const out: Place[] = [];
  const len = w.word.length;
  if (local) {
    for (const o of occurrences(a.text, w.word, local.fn.start, local.fn.end)) {
      if (!withDeclaration && o === local.decl.start) continue;
      // Only uses this declaration covers (not an inner one of the same name).
      const d = localDefinition(a, w.word, o);
      if (d && d.decl !== local.decl) continue;
      out.push({ start: o, end: o + len });
    }
    return out;
  }
  const def = definitionAt(a, offset);
  const declAt = def?.kind === 'place' ? def.place : undefined;
  const skip = (file: string | undefined, o: number) => !withDeclaration && declAt && declAt.file === file && declAt.start === o;
  for (const o of occurrences(a.text, w.word)) {
    if (skip(undefined, o)) continue;
    if (localDefinition(a, w.word, o)) continue; // shadowed by a local there
    out.push({ start: o, end: o + len });
  }
  for (const inc of a.includes ?? []) {
    for (const o of occurrences(inc.text, w.word)) {
      if (skip(inc.path, o)) continue;
      out.push({ file: inc.path, start: o, end: o + len });
    }
  }
  return out;
}
