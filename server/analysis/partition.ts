// A cheap lexical cut of a C file into top-level pieces (./preview.ts): a piece ends after a `;`
// or a function body's `}` at brace and parenthesis depth 0 outside any #if block, or after a
// preprocessor line there, at the end of its line (the rest of the line blank or comments). It
// skips comments, strings, character literals and preprocessor lines as the masking in
// ./parser.ts does, so each piece starts at a line start and masks and parses on its own as it
// does inside the file. No tree is built: this reads each character once.

import { preprocEnd, skipQuoted } from './lexical';

export type PieceKind = 'function' | 'other' | 'mixed';

export interface Piece {
  start: number;
  end: number;
  /** 'function': one function definition (with comments around it); 'other': declarations,
   *  preprocessor lines, no function body; 'mixed': anything else that holds a function body
   *  (an #if block, two items on one line, a name the scan cannot read). */
  kind: PieceKind;
  /** For 'function': the defined name, when the definition reads plainly as `name(...) {`. */
  name?: string;
  /** The last piece, left open at the end of the text (a brace, parenthesis or #if not closed:
   *  a file cut short, or a missing `}` that nests everything after it): 'mixed'. */
  open?: true;
}

/** Paren groups before a function body whose word is not the function's name. */
const NOT_NAMES = new Set(['SEC', '__attribute__', '__attribute', '__declspec', '__contains', '__aligned', '__section', '__attribute_const__']);
/** Words that cannot name a function (a declarator the scan does not read). */
const KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'typeof', '__typeof__', 'int', 'char', 'void', 'long',
  'short', 'unsigned', 'signed', 'float', 'double', 'struct', 'union', 'enum', 'const', 'volatile', 'static', 'extern', 'inline',
  '_Bool', 'bool', 'asm', '__asm__', 'do', 'else', 'case', 'default', 'goto', 'break', 'continue', 'typedef', 'register', 'auto']);

function isIdChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}

/** The pieces of `text`, in order, covering it exactly; undefined when the text does not cut
 *  cleanly (a `}`, `)` or #endif closing nothing, an unterminated comment, a preprocessor line
 *  inside an unfinished declaration): the caller then uses the whole file. */
export function splitTopLevel(text: string): Piece[] | undefined {
  // Plain locals only, no closure over them: the loop reads every character of the file.
  const n = text.length;
  const pieces: Piece[] = [];
  let brace = 0, paren = 0, cond = 0;
  let pieceStart = 0;
  let lineStart = true;
  /** A terminator at depth 0 was the last significant character: cut at the next newline. */
  let pending = false;
  /** Code (not comments or preprocessor lines) since the piece started. */
  let code = false;
  let lastSig = -1;
  let bodies = 0, semis = 0, preproc = false;
  let fnBody = false;
  /** Opening parens at brace and paren depth 0 of the current piece, and those before the body. */
  let groups: number[] = [];
  let nameGroups: number[] | undefined;
  let cutAt = -1;

  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = true;
      if (pending && brace === 0 && paren === 0 && cond === 0) cutAt = i + 1;
      else continue;
    } else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
      continue;
    } else if (c === 47 && (text.charCodeAt(i + 1) === 47 || text.charCodeAt(i + 1) === 42)) {
      lineStart = false; // as maskBpfMacros: a `#` after a comment opens no preprocessor line
      if (text.charCodeAt(i + 1) === 47) {
        const e = text.indexOf('\n', i);
        const end = e < 0 ? n : e;
        // A line comment continued by a backslash: tree-sitter and the masking disagree there.
        if (text.charCodeAt(end - 1) === 92) return undefined;
        i = end - 1;
      } else {
        const e = text.indexOf('*/', i + 2);
        if (e < 0) return undefined;
        i = e + 1;
      }
      continue;
    } else if (c === 35 && lineStart) {
      // A preprocessor line, with its continuations (as maskBpfMacros reads it).
      const j = preprocEnd(text, i);
      if (brace !== 0 || paren !== 0) { i = j - 1; continue; } // the newline is read next
      if (code && cond === 0) return undefined;
      const m = /^#[ \t]*(\w+)/.exec(text.slice(i, Math.min(j, i + 40)));
      const word = m?.[1] ?? '';
      if (word === 'if' || word === 'ifdef' || word === 'ifndef') cond++;
      else if (word === 'endif' && --cond < 0) return undefined;
      preproc = true;
      i = j;
      if (cond !== 0) { i = j - 1; continue; }
      cutAt = Math.min(j + 1, n);
    } else {
      lineStart = false;
      pending = false;
      code = true;
      if (c === 34 || c === 39) {
        let j = skipQuoted(text, i);
        if (j < n && text.charCodeAt(j) === 10) j--; // an unterminated literal ends at the line end
        i = j;
      } else if (c === 123) { // {
        if (brace === 0) {
          fnBody = paren === 0 && lastSig === 41;
          if (fnBody) nameGroups = groups.slice();
        }
        brace++;
      } else if (c === 125) { // }
        if (--brace < 0) return undefined;
        if (brace === 0 && fnBody) {
          bodies++;
          fnBody = false;
          if (paren === 0 && cond === 0) pending = true;
        }
      } else if (c === 40) { // (
        if (brace === 0 && paren === 0) groups.push(i);
        paren++;
      } else if (c === 41) { // )
        if (--paren < 0) return undefined;
      } else if (c === 59) { // ;
        if (brace === 0 && paren === 0) {
          semis++;
          if (cond === 0) pending = true;
        }
      }
      lastSig = c;
      continue;
    }
    // Cut the piece [pieceStart, cutAt).
    if (cutAt > pieceStart) {
      pieces.push(piece(text, pieceStart, cutAt, bodies, semis, preproc, nameGroups));
      pieceStart = cutAt;
    }
    code = false; bodies = 0; semis = 0; preproc = false; groups = []; nameGroups = undefined; pending = false;
  }
  if (brace !== 0 || paren !== 0 || cond !== 0) {
    if (pieceStart < n) pieces.push({ start: pieceStart, end: n, kind: 'mixed', open: true });
    return pieces;
  }
  if (pieceStart < n) pieces.push(piece(text, pieceStart, n, bodies, semis, preproc, nameGroups));
  return pieces;
}

function piece(text: string, start: number, end: number, bodies: number, semis: number, preproc: boolean, nameGroups: number[] | undefined): Piece {
  if (bodies === 0) return { start, end, kind: 'other' };
  const name = bodies === 1 && semis === 0 && !preproc ? nameOf(text, nameGroups ?? []) : undefined;
  return name ? { start, end, kind: 'function', name } : { start, end, kind: 'mixed' };
}

/** The function name of a definition whose parenthesised groups before the body open at
 *  `groups`: the word before the one group that is not SEC(...) or an attribute, if that is
 *  all there is. */
function nameOf(text: string, groups: number[]): string | undefined {
  let name: string | undefined;
  for (const g of groups) {
    let e = g;
    while (e > 0 && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9)) e--;
    let s = e;
    while (s > 0 && isIdChar(text.charCodeAt(s - 1))) s--;
    if (s === e) return undefined;
    const c0 = text.charCodeAt(s);
    if (c0 >= 48 && c0 <= 57) return undefined;
    const word = text.slice(s, e);
    if (NOT_NAMES.has(word)) continue;
    if (name !== undefined || KEYWORDS.has(word)) return undefined;
    name = word;
  }
  return name;
}

/** Index of the piece holding `offset` (pieces sorted and contiguous). */
export function pieceIndexAt(pieces: readonly Piece[], offset: number): number {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pieces[mid]!.start <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
