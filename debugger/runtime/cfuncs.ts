// C function extents from a source file, for inline-aware stepping and inline frames: BTF
// line_info says which source line an instruction belongs to but not which inlined function (clang
// -O2 inlines static functions), so the lines are mapped back to the function definitions that
// contain them. A scanner, not a parser: it skips comments, string and character literals and
// preprocessor lines, follows braces, and recognises a definition as `name ( ... ) [attributes] {`
// at file scope. Every call `ident (` inside a body is recorded, for the static call graph.

export interface CFunc {
  name: string;
  /** 1-based line of the name in the definition (where clang puts the prologue's line). */
  startLine: number;
  /** 1-based line of the closing brace. */
  endLine: number;
  /** Calls in the body, in order: callee name and the 1-based line of the call. */
  calls: { name: string; line: number }[];
}

type Tok = { t: 'id' | 'punct' | 'str' | 'num'; v: string; line: number };

const KEYWORDS = new Set([
  'if', 'else', 'for', 'while', 'do', 'switch', 'case', 'default', 'return', 'break', 'continue',
  'goto', 'sizeof', '_Alignof', 'alignof', '__alignof__', 'typeof', '__typeof__', '_Static_assert',
  'static_assert', '__builtin_offsetof', 'offsetof', '__attribute__', '__attribute', 'asm', '__asm__',
  '__asm', '_Generic', '__builtin_types_compatible_p', '__builtin_choose_expr', '__builtin_expect',
]);

/** Attribute-like words whose parenthesised argument is not a parameter list. */
function isAttribute(name: string): boolean {
  return name === '__attribute__' || name === '__attribute' || name === '__declspec' || name === 'SEC' ||
    name === '__section' || name === '__aligned' || name === '__contains' || name === 'asm' || name === '__asm__';
}

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  let lineStart = true; // only whitespace since the last newline: a '#' starts a directive
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; lineStart = true; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '/' && text[i + 1] === '/') {
      // a // comment runs to the end of the line (a backslash-newline continues it)
      while (i < n && text[i] !== '\n') { if (text[i] === '\\' && text[i + 1] === '\n') { line++; i++; } i++; }
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) { if (text[i] === '\n') line++; i++; }
      i += 2;
      continue;
    }
    if (c === '#' && lineStart) {
      // a preprocessor directive: to the end of the line, with continuations and comments inside
      while (i < n && text[i] !== '\n') {
        if (text[i] === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) { i += text[i + 1] === '\r' ? 3 : 2; line++; continue; }
        if (text[i] === '/' && text[i + 1] === '*') {
          i += 2;
          while (i < n && !(text[i] === '*' && text[i + 1] === '/')) { if (text[i] === '\n') line++; i++; }
          i += 2;
          continue;
        }
        if (text[i] === '/' && text[i + 1] === '/') { while (i < n && text[i] !== '\n') i++; break; }
        i++;
      }
      continue;
    }
    lineStart = false;
    if (c === '"' || c === '\'') {
      const start = line;
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') { if (text[j] === '\\') { if (text[j + 1] === '\n') line++; j++; } j++; }
      out.push({ t: 'str', v: c, line: start });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(text[j]!)) j++;
      out.push({ t: 'id', v: text.slice(i, j), line });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_.]/.test(text[j]!)) j++;
      out.push({ t: 'num', v: text.slice(i, j), line });
      i = j;
      continue;
    }
    if (c === '-' && text[i + 1] === '>') { out.push({ t: 'punct', v: '->', line }); i += 2; continue; }
    out.push({ t: 'punct', v: c, line });
    i++;
  }
  return out;
}

/** Index of the token that closes the bracket opened at `open`, or -1. */
function matching(toks: Tok[], open: number): number {
  const o = toks[open]!.v;
  const c = o === '(' ? ')' : o === '{' ? '}' : ']';
  let depth = 0;
  for (let k = open; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.t !== 'punct') continue;
    if (t.v === o) depth++;
    else if (t.v === c && --depth === 0) return k;
  }
  return -1;
}

/** The name of the function whose definition ends with toks[from..brace) (the declarator part), or null. */
function definitionName(toks: Tok[], from: number, brace: number): { name: string; line: number } | null {
  // walk back over trailing attribute groups to the parameter list `name ( ... )`
  let k = brace - 1;
  while (k >= from) {
    const t = toks[k]!;
    if (t.t === 'punct' && t.v === ')') {
      // find its opening parenthesis
      let depth = 0, open = -1;
      for (let q = k; q >= from; q--) {
        const u = toks[q]!;
        if (u.t !== 'punct') continue;
        if (u.v === ')') depth++;
        else if (u.v === '(' && --depth === 0) { open = q; break; }
      }
      if (open <= from) return null;
      const before = toks[open - 1]!;
      if (before.t === 'id' && isAttribute(before.v)) { k = open - 2; continue; }
      if (before.t !== 'id' || KEYWORDS.has(before.v)) return null;
      // an initialiser (`= {`) or a struct is not a function; `x = f(y) {` cannot happen in C
      for (let q = from; q < open; q++) if (toks[q]!.t === 'punct' && toks[q]!.v === '=') return null;
      // BPF_PROG(name, ...)-style wrappers: the function is named by the first argument
      if (/^BPF_[A-Z0-9_]+$/.test(before.v) && toks[open + 1]?.t === 'id') return { name: toks[open + 1]!.v, line: toks[open + 1]!.line };
      return { name: before.v, line: before.line };
    }
    if (t.t === 'id' && !KEYWORDS.has(t.v)) { k--; continue; } // `const`, `__weak`-like words after ')'
    return null;
  }
  return null;
}

/** Every function definition at file scope, in source order. */
export function scanCFunctions(text: string): CFunc[] {
  const toks = tokenize(text);
  const out: CFunc[] = [];
  let declStart = 0; // first token of the current file-scope declaration
  let k = 0;
  while (k < toks.length) {
    const t = toks[k]!;
    if (t.t === 'punct' && t.v === ';') { declStart = k + 1; k++; continue; }
    if (t.t === 'punct' && t.v === '(') {
      // parenthesised groups at file scope (parameter lists, attributes) are skipped whole
      const close = matching(toks, k);
      if (close < 0) break;
      k = close + 1;
      continue;
    }
    if (t.t === 'punct' && t.v === '{') {
      const close = matching(toks, k);
      const def = definitionName(toks, declStart, k);
      if (close < 0) {
        // an unterminated body (the file is being edited): it runs to the end of the file
        if (def) out.push({ name: def.name, startLine: def.line, endLine: toks[toks.length - 1]!.line, calls: callsIn(toks, k + 1, toks.length) });
        break;
      }
      if (def) {
        out.push({ name: def.name, startLine: def.line, endLine: toks[close]!.line, calls: callsIn(toks, k + 1, close) });
        declStart = close + 1;
      }
      // a struct/union/enum body or an initialiser: the declaration goes on to its ';'
      k = close + 1;
      continue;
    }
    k++;
  }
  return out;
}

function callsIn(toks: Tok[], from: number, to: number): { name: string; line: number }[] {
  const calls: { name: string; line: number }[] = [];
  for (let k = from; k + 1 < to; k++) {
    const t = toks[k]!, u = toks[k + 1]!;
    if (t.t === 'id' && u.t === 'punct' && u.v === '(' && !KEYWORDS.has(t.v)) {
      const prev = toks[k - 1];
      // `.field(`/`->field(` call through a pointer: not a named function
      if (prev && prev.t === 'punct' && (prev.v === '.' || prev.v === '->')) continue;
      calls.push({ name: t.v, line: t.line });
    }
  }
  return calls;
}

/** The function whose definition contains `line`, from a list sorted by startLine (innermost wins). */
export function funcOfLine(funcs: readonly CFunc[], line: number): number {
  let best = -1;
  for (let i = 0; i < funcs.length; i++) {
    const f = funcs[i]!;
    if (f.startLine > line) break;
    if (line <= f.endLine) best = i;
  }
  return best;
}
