// The debugger's expression language: conditions, hit counts, logpoints, watch and the debug
// console. Integers only (64-bit two's complement, shown signed), names resolved by the caller:
//   ctx.op  skops->args[1]  sk_rcvlowat  rcv_nxt  r0..r10  BPF_SOCK_OPS_RCVQ_CB
// Operators, C precedence: ! ~ unary-  * / %  + -  << >>  < <= > >=  == !=  &  ^  |  &&  ||  ( )

export class ExprError extends Error {
  constructor(readonly column: number, readonly detail: string, readonly source: string) {
    super(`${detail} (column ${column + 1} of '${source}')`);
    this.name = 'ExprError';
  }
}

export type Expr =
  | { kind: 'num'; value: bigint; col: number }
  | { kind: 'name'; path: string[]; text: string; col: number }
  | { kind: 'unary'; op: '!' | '~' | '-'; arg: Expr; col: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; col: number };

/** Resolves a name path (['ctx','op'], ['skops','args','1'], ['sk_rcvlowat'], ['r1']) to a value,
 *  or undefined when the name is unknown. */
export interface ExprEnv {
  lookup(path: string[], text: string): bigint | undefined;
  /** Names offered in the error message for an unknown name. */
  hint?(): string;
}

interface Tok { t: 'num' | 'id' | 'op' | 'end'; v: string; col: number }

const OPS = ['->', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '!', '~', '-', '+', '*', '/', '%', '<', '>', '&', '^', '|', '(', ')', '.', '[', ']'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (/[0-9]/.test(c)) {
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)[uUlL]*/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[1]!, col: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0], col: i });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExprError(i, `unexpected character '${c}'`, src);
    out.push({ t: 'op', v: op, col: i });
    i += op.length;
  }
  out.push({ t: 'end', v: '', col: src.length });
  return out;
}

/** Deepest nesting of parentheses, unary operators and operands (a bound on the parser's and evaluator's recursion). */
export const MAX_NESTING = 256;

// Binary operators by precedence level, loosest first (C's table).
const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

export function parseExpr(src: string): Expr {
  const toks = lex(src);
  let p = 0;
  const peek = () => toks[p]!;
  const fail = (tok: Tok, what: string): never => {
    throw new ExprError(tok.col, tok.t === 'end' ? `expression ends early: ${what}` : `unexpected '${tok.v}': ${what}`, src);
  };
  let nesting = 0;
  const binary = (level: number): Expr => {
    if (level === LEVELS.length) return unary();
    let left = binary(level + 1);
    for (;;) {
      const tok = peek();
      if (tok.t !== 'op' || !LEVELS[level]!.includes(tok.v)) return left;
      p++;
      const right = binary(level + 1);
      left = { kind: 'binary', op: tok.v, left, right, col: tok.col };
    }
  };
  const unary = (): Expr => {
    const tok = peek();
    if (++nesting > MAX_NESTING) throw new ExprError(tok.col, `nested more than ${MAX_NESTING} deep`, src);
    try {
      if (tok.t === 'op' && (tok.v === '!' || tok.v === '~' || tok.v === '-' || tok.v === '+')) {
        p++;
        const arg = unary();
        return tok.v === '+' ? arg : { kind: 'unary', op: tok.v, arg, col: tok.col };
      }
      return primary();
    } finally {
      nesting--;
    }
  };
  const primary = (): Expr => {
    const tok = peek();
    if (tok.t === 'num') {
      p++;
      return { kind: 'num', value: BigInt(tok.v), col: tok.col };
    }
    if (tok.t === 'op' && tok.v === '(') {
      p++;
      const e = binary(0);
      if (peek().v !== ')') fail(peek(), "expected ')'");
      p++;
      return e;
    }
    if (tok.t === 'id') {
      p++;
      const path = [tok.v];
      let end = tok.col + tok.v.length;
      for (;;) {
        const n = peek();
        if (n.t === 'op' && (n.v === '.' || n.v === '->')) {
          p++;
          const id = peek();
          if (id.t !== 'id') fail(id, `expected a field name after '${n.v}'`);
          p++;
          path.push(id.v);
          end = id.col + id.v.length;
        } else if (n.t === 'op' && n.v === '[') {
          p++;
          const idx = peek();
          if (idx.t !== 'num') fail(idx, 'expected a constant index');
          p++;
          if (peek().v !== ']') fail(peek(), "expected ']'");
          end = peek().col + 1;
          p++;
          path.push(String(BigInt(idx.v)));
        } else break;
      }
      return { kind: 'name', path, text: src.slice(tok.col, end), col: tok.col };
    }
    return fail(tok, 'expected a number, a name or (');
  };
  const e = binary(0);
  if (peek().t !== 'end') fail(peek(), 'expected an operator or the end');
  return e;
}

const M64 = (1n << 64n) - 1n;
/** Two's complement signed view of a 64-bit value. */
export function s64(v: bigint): bigint {
  v &= M64;
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}

export function evalExpr(e: Expr, env: ExprEnv, src = ''): bigint {
  let depth = 0;
  const go = (x: Expr): bigint => {
    // a chain such as 1+1+...+1 parses flat but evaluates as deep as it is long
    if (++depth > MAX_NESTING) throw new ExprError(x.col, `nested more than ${MAX_NESTING} deep`, src);
    try { return node(x); } finally { depth--; }
  };
  const node = (x: Expr): bigint => {
    switch (x.kind) {
      case 'num': return s64(x.value);
      case 'name': {
        const v = env.lookup(x.path, x.text);
        if (v === undefined) {
          const hint = env.hint?.();
          throw new ExprError(x.col, `unknown name '${x.text}'${hint ? `; try ${hint}` : ''}`, src);
        }
        return s64(v);
      }
      case 'unary': {
        const a = go(x.arg);
        return x.op === '!' ? (a === 0n ? 1n : 0n) : x.op === '~' ? s64(~a) : s64(-a);
      }
      case 'binary': {
        if (x.op === '&&') return go(x.left) !== 0n && go(x.right) !== 0n ? 1n : 0n;
        if (x.op === '||') return go(x.left) !== 0n || go(x.right) !== 0n ? 1n : 0n;
        const a = go(x.left);
        const b = go(x.right);
        switch (x.op) {
          case '+': return s64(a + b);
          case '-': return s64(a - b);
          case '*': return s64(a * b);
          case '/':
          case '%':
            if (b === 0n) throw new ExprError(x.col, 'division by zero', src);
            return s64(x.op === '/' ? a / b : a % b);
          case '<<': return s64(a << (b & 63n));
          case '>>': return a >> (b & 63n); // arithmetic, as C on a signed long
          case '&': return s64(a & b);
          case '|': return s64(a | b);
          case '^': return s64(a ^ b);
          case '<': return a < b ? 1n : 0n;
          case '<=': return a <= b ? 1n : 0n;
          case '>': return a > b ? 1n : 0n;
          case '>=': return a >= b ? 1n : 0n;
          case '==': return a === b ? 1n : 0n;
          case '!=': return a !== b ? 1n : 0n;
        }
        throw new ExprError(x.col, `unknown operator '${x.op}'`, src);
      }
    }
  };
  return go(e);
}

/** Parse and evaluate in one call. Throws ExprError with the column on bad input. */
export function evaluate(src: string, env: ExprEnv): bigint {
  return evalExpr(parseExpr(src), env, src);
}

/** Logpoint message: text with {expr} parts evaluated ("rcvlowat={sk_rcvlowat}"). '{{' and '}}' are literal braces. */
export function interpolate(template: string, env: ExprEnv): string {
  return interpolateWith(template, (inner) => String(evaluate(inner, env)));
}

/** The same with each {expr} shown by `show` (C values as the Variables view shows them). */
export function interpolateWith(template: string, show: (expr: string) => string): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '{' && template[i + 1] === '{') { out += '{'; i++; continue; }
    if (c === '}' && template[i + 1] === '}') { out += '}'; i++; continue; }
    if (c !== '{') { out += c; continue; }
    const close = template.indexOf('}', i);
    if (close < 0) throw new ExprError(i, "unclosed '{'", template);
    const inner = template.slice(i + 1, close);
    try {
      out += show(inner);
    } catch (err) {
      out += `<${err instanceof Error ? err.message : String(err)}>`;
    }
    i = close;
  }
  return out;
}
