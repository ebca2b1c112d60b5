// Local includes: `#include "x.h"` found next to the including file (or in the configured include
// paths), read, parsed and analysed once per file version. The checker uses what they define
// (#defines, enum constants) and which cb flags their functions may set (kernel selftests enable
// the cb flags in a shared header, e.g. test_tcp_hdr_options.h); navigation uses their symbols.
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ParsedDocument } from './parser';
import type { SockopsTable } from './table';
import type { Analysis } from './engine';
import { cbBits } from './rules';

export interface IncludeInfo {
  /** Absolute path of the header. */
  path: string;
  /** The `#include` line that brought it in (offsets in the including file; for nested headers,
   *  in their includer's text), and that includer's path. */
  from: { path: string; start: number; end: number };
  text: string;
  /** The header's own analysis (its functions walked at every op; no findings kept). */
  analysis: Analysis;
  /** cb-flag bits its functions may set (every bit where a value cannot be followed). */
  cbBits: number;
  /** Identifiers its text names (for `enabledBy` names that are not cb flags). */
  names: Set<string>;
}

/** Headers bigger than this, and `vmlinux.h`, are not followed: they define no hook logic and
 *  would cost a keystroke's budget to parse. */
export const MAX_HEADER_BYTES = 256 * 1024;
const MAX_HEADERS = 32;
const MAX_DEPTH = 8;
const SKIP = new Set(['vmlinux.h']);

/** `#include "x"` directives of a text, with their offsets. */
export function quotedIncludes(text: string): { name: string; start: number; end: number }[] {
  const out: { name: string; start: number; end: number }[] = [];
  // `#` first, then the line's start: a regex anchored at every line start (`^...`/m) took
  // ~30 ms on a 200,000-line file, the search for `#include` a few.
  const re = /#[ \t]*include[ \t]*"([^"\n]+)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    let s = m.index;
    while (s > 0 && (text.charCodeAt(s - 1) === 32 || text.charCodeAt(s - 1) === 9)) s--;
    const before = s > 0 ? text.charCodeAt(s - 1) : 10;
    if (before !== 10 && before !== 13 && before !== 0x2028 && before !== 0x2029) continue; // as `^` with the m flag
    out.push({ name: m[1]!, start: s, end: m.index + m[0].length });
  }
  return out;
}

/** Where `#include "name"` from a file in `dir` resolves: the file's own folder first (as the C
 *  preprocessor does for quoted includes), then the include paths. */
export function resolveInclude(name: string, dir: string, includePaths: readonly string[]): string | undefined {
  for (const d of [dir, ...includePaths]) {
    const p = path.resolve(d, name);
    try { if (statSync(p).isFile()) return p; } catch { /* not there */ }
  }
  return undefined;
}

interface Cached { key: string; info: Omit<IncludeInfo, 'from'> }
const cache = new Map<string, Cached>();

type Analyze = (doc: ParsedDocument, table: SockopsTable) => Analysis;

/** The local headers `text` (at `file`) includes, transitively, each read and analysed at most
 *  once per (size, mtime, profile). Unreadable or oversized headers are skipped silently: the
 *  compiler, not the checker, reports a missing header. */
export function localIncludes(text: string, file: string, table: SockopsTable, includePaths: readonly string[], analyze: Analyze): IncludeInfo[] {
  const out: IncludeInfo[] = [];
  const seen = new Set<string>([path.resolve(file)]);
  const visit = (src: string, srcPath: string, depth: number) => {
    if (depth > MAX_DEPTH) return;
    for (const inc of quotedIncludes(src)) {
      if (out.length >= MAX_HEADERS) return;
      if (SKIP.has(path.basename(inc.name))) continue;
      const p = resolveInclude(inc.name, path.dirname(srcPath), includePaths);
      if (!p || seen.has(p)) continue;
      seen.add(p);
      const info = load(p, table, analyze);
      if (!info) continue;
      out.push({ ...info, from: { path: srcPath, start: inc.start, end: inc.end } });
      visit(info.text, p, depth + 1);
    }
  };
  visit(text, path.resolve(file), 0);
  return out;
}

function load(p: string, table: SockopsTable, analyze: Analyze): Omit<IncludeInfo, 'from'> | undefined {
  let key: string;
  try {
    const st = statSync(p);
    if (st.size > MAX_HEADER_BYTES) return undefined;
    key = `${st.size}:${st.mtimeMs}:${table.profile.name}`;
  } catch { return undefined; }
  const hit = cache.get(p);
  if (hit && hit.key === key) return hit.info;
  let text: string;
  try { text = readFileSync(p, 'utf8'); } catch { return undefined; }
  const doc = ParsedDocument.createSync();
  if (!doc) return undefined;
  try {
    doc.update(text);
    const analysis = analyze(doc, table);
    const info = { path: p, text, analysis, cbBits: cbBits(analysis), names: new Set(text.match(/\b[A-Za-z_]\w*\b/g) ?? []) };
    cache.set(p, { key, info });
    return info;
  } finally {
    doc.dispose();
  }
}
