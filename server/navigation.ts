// LSP navigation: document symbols (outline), go to definition and references, over the
// analysis of ./analysis/symbols.ts. A helper, kfunc, op or cb flag goes to its declaration in
// the user's headers when one is found, else to a read-only header generated from the table:
// served as `bpf-sockops-table:` documents to clients that asked for them (the VS Code
// extension), written read-only under the temp folder for any other editor.
import type { Connection, TextDocuments, DocumentSymbol, Location, Range } from 'vscode-languageserver/node';
import { SymbolKind, ResponseError, ErrorCodes } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Analysis } from './analysis/engine';
import { lineStarts, positionAt } from './analysis/parser';
import { definitionAt, documentSymbols, occurrences, referencesAt, wordAt, type Place, type Sym, type SymKind } from './analysis/symbols';
import { tableDoc } from './analysis/tabledoc';
import { setClangdBeside } from './analysis/features';
import { sockopsTable } from './analysis/table';

export const TABLE_SCHEME = 'bpf-sockops-table';
export const TABLE_DOCUMENT_REQUEST = 'bpfSockops/tableDocument';

export interface NavSettings {
  profile?: string;
  includePaths?: string[];
  /** The client shows `bpf-sockops-table:` documents (asks for their text with TABLE_DOCUMENT_REQUEST). */
  tableDocuments?: boolean;
  /** clangd runs beside us in the client: leave the file's own symbols to it (no duplicate
   *  outline, definitions or references); table names still go to the table. */
  clangd?: boolean;
}

export const NAV_CAPABILITIES = { documentSymbolProvider: true, definitionProvider: true, referencesProvider: true, renameProvider: { prepareProvider: true } } as const;

const KINDS: Record<SymKind, SymbolKind> = {
  function: SymbolKind.Function, program: SymbolKind.Event, prototype: SymbolKind.Function, variable: SymbolKind.Variable,
  map: SymbolKind.Object, struct: SymbolKind.Struct, union: SymbolKind.Struct, enum: SymbolKind.Enum,
  enumMember: SymbolKind.EnumMember, typedef: SymbolKind.TypeParameter, macro: SymbolKind.Constant, field: SymbolKind.Field,
};

function range(starts: number[], s: number, e: number): Range {
  return { start: positionAt(starts, s), end: positionAt(starts, e) };
}

export function toDocumentSymbols(a: Analysis): DocumentSymbol[] {
  const conv = (s: Sym): DocumentSymbol => ({
    name: s.name, kind: KINDS[s.kind], detail: s.detail,
    range: range(a.starts, s.start, s.end), selectionRange: range(a.starts, s.nameStart, s.nameEnd),
    children: s.children?.map(conv),
  });
  return documentSymbols(a).map(conv);
}

/** Where a header place is, as an LSP location (line starts of the header's text). */
function locate(a: Analysis, uri: string, p: Place): Location {
  if (!p.file) return { uri, range: range(a.starts, p.start, p.end) };
  const inc = a.includes?.find((i) => i.path === p.file);
  const starts = inc ? lineStarts(inc.text) : [0];
  return { uri: pathToFileURL(p.file).href, range: range(starts, p.start, p.end) };
}

// ---------------------------------------------------------------------------------------------
// Declarations of table names in the user's headers

const SYSTEM_DIRS = ['/usr/include', '/usr/local/include'];
const MAX_SYSTEM_HEADER = 4 * 1024 * 1024;
const headerTexts = new Map<string, { key: string; text: string }>();

function readHeader(p: string): string | undefined {
  try {
    const st = statSync(p);
    if (!st.isFile() || st.size > MAX_SYSTEM_HEADER) return undefined;
    const key = `${st.size}:${st.mtimeMs}`;
    const hit = headerTexts.get(p);
    if (hit?.key === key) return hit.text;
    const text = readFileSync(p, 'utf8');
    headerTexts.set(p, { key, text });
    return text;
  } catch { return undefined; }
}

/** Headers the file includes (`"x"` and `<x>`, then the quoted includes of those), resolved in
 *  the file's folder, the include paths and the system folders; vmlinux.h is left out (its
 *  size, and it declares kfuncs only in some builds). */
function userHeaders(a: Analysis, includePaths: readonly string[]): string[] {
  if (!a.file) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (text: string, dir: string, depth: number) => {
    const re = /^[ \t]*#[ \t]*include[ \t]*[<"]([^">\n]+)[">]/gm;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      if (/(^|\/)vmlinux\.h$/.test(m[1]!)) continue;
      for (const d of [dir, ...includePaths, ...SYSTEM_DIRS]) {
        const p = path.resolve(d, m[1]!);
        if (seen.has(p)) break;
        if (!existsSync(p)) continue;
        seen.add(p);
        out.push(p);
        const t = readHeader(p);
        if (t && depth < 2) visit(t, path.dirname(p), depth + 1);
        break;
      }
    }
  };
  visit(a.text, path.dirname(a.file), 0);
  return out;
}

/** A declaration of `name` in a header text: `name(` (kfunc, prototype) or `(* const name)(`
 *  (libbpf's helper definitions), not in comments. */
export function findDeclaration(text: string, name: string): number | undefined {
  for (const o of occurrences(text, name)) {
    const after = text.slice(o + name.length, o + name.length + 8);
    if (/^\s*\(/.test(after) || /^\s*\)\s*\(/.test(after)) return o;
  }
  return undefined;
}

function tableLocation(a: Analysis, name: string, s: NavSettings): Location | undefined {
  for (const p of [...(a.includes ?? []).map((i) => i.path), ...userHeaders(a, s.includePaths ?? [])]) {
    const text = readHeader(p);
    if (!text) continue;
    const at = findDeclaration(text, name);
    if (at !== undefined) { const st = lineStarts(text); return { uri: pathToFileURL(p).href, range: range(st, at, at + name.length) }; }
  }
  const doc = tableDoc(a.table, name);
  if (!doc) return undefined;
  const st = lineStarts(doc.text);
  const r = range(st, doc.start, doc.end);
  if (s.tableDocuments) return { uri: `${TABLE_SCHEME}:/${a.table.profile.name}/${doc.name}`, range: r };
  // Any other editor: a read-only file under the temp folder.
  const dir = path.join(tmpdir(), 'bpf-sockops-table', a.table.profile.name);
  const file = path.join(dir, doc.name);
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(file) || readFileSync(file, 'utf8') !== doc.text) {
      if (existsSync(file)) chmodSync(file, 0o644);
      writeFileSync(file, doc.text);
      chmodSync(file, 0o444);
    }
  } catch { return undefined; }
  return { uri: pathToFileURL(file).href, range: r };
}

// ---------------------------------------------------------------------------------------------

export function registerNavigation(connection: Connection, documents: TextDocuments<TextDocument>,
  current: (uri: string) => Promise<Analysis | undefined>, settings: () => NavSettings): void {
  setClangdBeside(() => !!settings().clangd);
  connection.onDocumentSymbol(async (p) => {
    if (settings().clangd) return null;
    const a = await current(p.textDocument.uri);
    return a ? toDocumentSymbols(a) : null;
  });
  connection.onDefinition(async (p) => {
    const doc = documents.get(p.textDocument.uri);
    const a = await current(p.textDocument.uri);
    if (!doc || !a) return null;
    const d = definitionAt(a, doc.offsetAt(p.position));
    if (!d) return null;
    if (d.kind === 'table') return tableLocation(a, d.name, settings()) ?? null;
    if (settings().clangd) return null;
    return locate(a, doc.uri, d.place);
  });
  connection.onReferences(async (p) => {
    if (settings().clangd) return null;
    const doc = documents.get(p.textDocument.uri);
    const a = await current(p.textDocument.uri);
    if (!doc || !a) return null;
    return referencesAt(a, doc.offsetAt(p.position), p.context.includeDeclaration).map((r) => locate(a, doc.uri, r));
  });
  // Rename: a name the file (or a local header) defines, everywhere references finds it; never a
  // kernel name (helpers, kfuncs, ops, flags come from the kernel's headers).
  const renamable = (a: Analysis, offset: number) => {
    const w = wordAt(a.text, offset);
    const d = w && definitionAt(a, offset);
    return w && d?.kind === 'place' && !a.table.helper(w.word) && !a.table.kfunc(w.word) ? w : undefined;
  };
  connection.onPrepareRename(async (p) => {
    if (settings().clangd) return null;
    const doc = documents.get(p.textDocument.uri);
    const a = await current(p.textDocument.uri);
    const w = doc && a ? renamable(a, doc.offsetAt(p.position)) : undefined;
    return w && doc ? { range: { start: doc.positionAt(w.start), end: doc.positionAt(w.end) }, placeholder: w.word } : null;
  });
  connection.onRenameRequest(async (p) => {
    if (settings().clangd) return null;
    const doc = documents.get(p.textDocument.uri);
    const a = await current(p.textDocument.uri);
    if (!doc || !a || !renamable(a, doc.offsetAt(p.position))) return null;
    if (!/^[A-Za-z_]\w*$/.test(p.newName)) throw new ResponseError(ErrorCodes.InvalidParams, `"${p.newName}" is not a C identifier`);
    const changes: Record<string, { range: Range; newText: string }[]> = {};
    for (const r of referencesAt(a, doc.offsetAt(p.position), true)) {
      const loc = locate(a, doc.uri, r);
      (changes[loc.uri] ??= []).push({ range: loc.range, newText: p.newName });
    }
    return { changes };
  });
  connection.onRequest(TABLE_DOCUMENT_REQUEST, (p: { uri: string }) => {
    const m = new RegExp(`^${TABLE_SCHEME}:/+([^/]+)/([^/]+)\\.h$`).exec(p?.uri ?? '');
    if (!m) return null;
    try { return tableDoc(sockopsTable(m[1]), m[2]!)?.text ?? null; } catch { return null; }
  });
}
