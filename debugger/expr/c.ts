// C expressions at a stop or in a condition: locals, globals, registers, ctx fields, maps and the
// socket; `->` `.` `[]`, unary `*` `&` `-` `!` `~`, casts to C types from the program's DWARF or
// BTF, sizeof, arithmetic and comparison with C's integer promotions, `?:`, `&&`, `||`.
// Names the C program does not have fall back to the debugger's own (CEnv.legacy, fed by
// ./index.ts's ExprEnv: r0..r10, sk_rcvlowat, readable, step, BPF_SOCK_OPS_RCVQ_CB, skops->op and
// ctx.args[1] as ctx fields, ...). This is the debugger's only expression parser.
import type { CMember } from '../object/dwarf/index';
import {
  BUILTIN_TYPES, common, contents, type CType, type CValue, fromInt, INT, intShape, isInteger, isPointer, isScalar, LONG, leBytes,
  type Mem, pointerTo, promote, scalar, sizeOf, stripType, typeName, UINT, ULONG, VOID,
} from './ctypes';

export class ExprError extends Error {
  constructor(readonly column: number, readonly detail: string, readonly source: string) {
    super(`${detail} (column ${column + 1} of '${source}')`);
    this.name = 'ExprError';
  }
}

/** Deepest nesting of parentheses, unary operators and operands (a bound on the parser's and evaluator's recursion). */
export const MAX_NESTING = 256;

export interface CEnv {
  /** A C variable (innermost scope first), global or register by name: its value, a reason it has none, or undefined (unknown). */
  variable(name: string): CValue | { unavailable: string } | undefined;
  /** A type by name: 'struct autolowat_state', '__u32', 'foo_t' (undefined when unknown). */
  type(name: string): CType | undefined;
  mem: Mem;
  /** The debugger's own names as integer paths (['sk','rcv_nxt'], ['skops','args','1']). */
  legacy?(path: string[], text: string): bigint | undefined;
  hint?(): string;
}

type TypeSpec = { base: string; stars: number };
export type CExpr =
  | { kind: 'num'; value: bigint; type: CType; col: number }
  | { kind: 'name'; name: string; col: number }
  | { kind: 'member'; obj: CExpr; field: string; arrow: boolean; col: number }
  | { kind: 'index'; obj: CExpr; idx: CExpr; col: number }
  | { kind: 'unary'; op: string; arg: CExpr; col: number }
  | { kind: 'cast'; to: TypeSpec; arg: CExpr; col: number }
  | { kind: 'sizeof'; to?: TypeSpec; arg?: CExpr; col: number }
  | { kind: 'binary'; op: string; left: CExpr; right: CExpr; col: number }
  | { kind: 'cond'; test: CExpr; yes: CExpr; no: CExpr; col: number };

interface Tok { t: 'num' | 'id' | 'op' | 'char' | 'end'; v: string; col: number }
const OPS = ['->', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '!', '~', '-', '+', '*', '/', '%', '<', '>', '&', '^', '|', '(', ')', '.', '[', ']', '?', ':'];
const TYPE_WORDS = new Set(['struct', 'union', 'enum', 'const', 'volatile', 'unsigned', 'signed', 'int', 'char', 'short', 'long', '_Bool', 'void']);

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (/[0-9]/.test(c)) {
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0], col: i });
      i += m[0].length;
      if (/[0-9A-Za-z_.]/.test(src[i] ?? '')) throw new ExprError(i, `unexpected '${src[i]}' in a number`, src);
      continue;
    }
    if (c === "'") {
      const m = /^'(\\x[0-9a-fA-F]{1,2}|\\[0-7]{1,3}|\\[nrt0\\'"]|[^\\'])'/.exec(src.slice(i));
      if (!m) throw new ExprError(i, 'bad character constant', src);
      out.push({ t: 'char', v: m[1]!, col: i });
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

function charValue(v: string): bigint {
  if (!v.startsWith('\\')) return BigInt(v.charCodeAt(0));
  if (v[1] === 'x') return BigInt(parseInt(v.slice(2), 16));
  if (/^\\[0-7]/.test(v)) return BigInt(parseInt(v.slice(1), 8));
  return BigInt({ n: 10, r: 13, t: 9, '0': 0, '\\': 92, "'": 39, '"': 34 }[v[1]!] ?? 0);
}

/** The value of an integer literal's digits without its suffix: decimal, 0x, 0b, or 0 octal. */
export function literalDigits(digits: string): bigint {
  return /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
}

/** The type of an integer literal (C11 6.4.4.1, on LP64). */
function literal(text: string): { value: bigint; type: CType } {
  const m = /^(.*?)([uUlL]*)$/.exec(text)!;
  const digits = m[1]!;
  const value = literalDigits(digits);
  const u = /u/i.test(m[2]!), l = /l/i.test(m[2]!);
  const decimal = !/^0./.test(digits);
  let type: CType;
  if (!l && value <= (u ? 0xffffffffn : 0x7fffffffn)) type = u ? UINT : INT;
  else if (!l && !u && !decimal && value <= 0xffffffffn) type = UINT;
  else if (!u && value <= 0x7fffffffffffffffn) type = LONG;
  else type = ULONG;
  if (value > 0xffffffffffffffffn) throw new Error(`integer constant ${text} is too large`);
  return { value, type };
}

const LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

export function parseC(src: string, isType: (name: string) => boolean = () => false): CExpr {
  const toks = lex(src);
  let p = 0;
  const peek = (k = 0) => toks[p + k]!;
  const fail = (tok: Tok, what: string): never => {
    throw new ExprError(tok.col, tok.t === 'end' ? `expression ends early: ${what}` : `unexpected '${tok.v}': ${what}`, src);
  };
  const expect = (v: string, what: string) => { if (peek().v !== v || peek().t !== 'op') fail(peek(), what); p++; };
  let nesting = 0;
  const deeper = (tok: Tok) => { if (++nesting > MAX_NESTING) throw new ExprError(tok.col, `nested more than ${MAX_NESTING} deep`, src); };
  const startsType = (k: number) => { const t = peek(k); return t.t === 'id' && (TYPE_WORDS.has(t.v) || isType(t.v)); };
  const typeSpec = (): TypeSpec => {
    const words: string[] = [];
    while (peek().t === 'id' && (TYPE_WORDS.has(peek().v) || (words.every((w) => w === 'const' || w === 'volatile') && isType(peek().v)) || /^(struct|union|enum)$/.test(words[words.length - 1] ?? ''))) {
      words.push(peek().v);
      p++;
      if (/^(struct|union|enum)$/.test(words[words.length - 1]!) && peek().t !== 'id') fail(peek(), `expected a name after '${words[words.length - 1]}'`);
    }
    let stars = 0;
    for (;;) {
      if (peek().t === 'op' && peek().v === '*') { stars++; p++; continue; }
      if (peek().t === 'id' && (peek().v === 'const' || peek().v === 'volatile')) { p++; continue; }
      break;
    }
    const base = words.filter((w) => w !== 'const' && w !== 'volatile').join(' ');
    if (!base) fail(peek(), 'expected a type name');
    return { base, stars };
  };
  const cond = (): CExpr => {
    const test = binary(0);
    if (peek().t === 'op' && peek().v === '?') {
      const tok = peek();
      p++;
      deeper(tok);
      const yes = cond();
      expect(':', "expected ':' of '?:'");
      const no = cond();
      nesting--;
      return { kind: 'cond', test, yes, no, col: tok.col };
    }
    return test;
  };
  const binary = (level: number): CExpr => {
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
  const unary = (): CExpr => {
    const tok = peek();
    deeper(tok);
    try {
      if (tok.t === 'op' && ['!', '~', '-', '+', '*', '&'].includes(tok.v)) {
        p++;
        return { kind: 'unary', op: tok.v, arg: unary(), col: tok.col };
      }
      if (tok.t === 'op' && tok.v === '(' && startsType(1)) {
        p++;
        const to = typeSpec();
        expect(')', "expected ')' after the type of a cast");
        return { kind: 'cast', to, arg: unary(), col: tok.col };
      }
      if (tok.t === 'id' && tok.v === 'sizeof') {
        p++;
        if (peek().v === '(' && startsType(1)) {
          p++;
          const to = typeSpec();
          expect(')', "expected ')' after the type");
          return { kind: 'sizeof', to, col: tok.col };
        }
        return { kind: 'sizeof', arg: unary(), col: tok.col };
      }
      return postfix();
    } finally {
      nesting--;
    }
  };
  const postfix = (): CExpr => {
    let e = primary();
    for (;;) {
      const n = peek();
      if (n.t === 'op' && (n.v === '.' || n.v === '->')) {
        p++;
        const id = peek();
        if (id.t !== 'id') fail(id, `expected a field name after '${n.v}'`);
        p++;
        e = { kind: 'member', obj: e, field: id.v, arrow: n.v === '->', col: n.col };
      } else if (n.t === 'op' && n.v === '[') {
        p++;
        deeper(n);
        const idx = cond();
        nesting--;
        expect(']', "expected ']'");
        e = { kind: 'index', obj: e, idx, col: n.col };
      } else return e;
    }
  };
  const primary = (): CExpr => {
    const tok = peek();
    if (tok.t === 'num') {
      p++;
      try { return { kind: 'num', ...literal(tok.v), col: tok.col }; } catch (e) { throw new ExprError(tok.col, (e as Error).message, src); }
    }
    if (tok.t === 'char') { p++; return { kind: 'num', value: charValue(tok.v), type: INT, col: tok.col }; }
    if (tok.t === 'op' && tok.v === '(') {
      p++;
      const e = cond();
      expect(')', "expected ')'");
      return e;
    }
    if (tok.t === 'id') { p++; return { kind: 'name', name: tok.v, col: tok.col }; }
    return fail(tok, 'expected a number, a name or (');
  };
  const e = cond();
  if (peek().t !== 'end') fail(peek(), 'expected an operator or the end');
  return e;
}

/** A chain of names, fields and constant indexes as the debugger's own paths spell it
 *  (['skops','args','1'] and its text 'skops->args[1]'), or null. */
function legacyPath(e: CExpr): { path: string[]; text: string } | null {
  if (e.kind === 'name') return { path: [e.name], text: e.name };
  if (e.kind === 'member') { const p = legacyPath(e.obj); return p ? { path: [...p.path, e.field], text: `${p.text}${e.arrow ? '->' : '.'}${e.field}` } : null; }
  if (e.kind === 'index' && e.idx.kind === 'num') { const p = legacyPath(e.obj); return p ? { path: [...p.path, String(e.idx.value)], text: `${p.text}[${e.idx.value}]` } : null; }
  return null;
}

export function resolveType(env: CEnv, spec: TypeSpec): CType {
  const b = spec.base.replace(/\bsigned (char)\b/, 'signed char').replace(/\b(unsigned|signed) int\b/, '$1').replace(/^long int$/, 'long').replace(/^long long int$/, 'long long');
  let t = env.type(b) ?? BUILTIN_TYPES[b] ?? BUILTIN_TYPES[b === 'unsigned' ? 'unsigned int' : b];
  if (!t) throw new Error(`unknown type '${spec.base}': the program's DWARF and BTF do not name it`);
  for (let i = 0; i < spec.stars; i++) t = pointerTo(t);
  return t;
}

/** Evaluate to a C value. Errors are ExprError with the column. */
export function evalC(e: CExpr, env: CEnv, src = ''): CValue {
  const mem = env.mem;
  let depth = 0;
  const err = (x: CExpr, msg: string): never => { throw new ExprError(x.col, msg, src); };
  const wrap = <T>(x: CExpr, f: () => T): T => {
    try { return f(); } catch (e) { if (e instanceof ExprError) throw e; return err(x, (e as Error).message); }
  };
  const num = (x: CExpr, v: CValue) => wrap(x, () => scalar(v, mem));
  const go = (x: CExpr): CValue => {
    if (++depth > MAX_NESTING) err(x, `nested more than ${MAX_NESTING} deep`);
    try { return node(x); } finally { depth--; }
  };
  const unknown = (x: CExpr, text: string) => { const hint = env.hint?.(); return new ExprError(x.col, `unknown name '${text}'${hint ? `; try ${hint}` : ''}`, src); };
  // a name neither the program nor the debugger has: a path on it ('skops->nope') is unknown as a whole
  const unknownNames = new Set<CExpr>();
  const legacy = (x: CExpr, cErr: unknown): CValue => {
    const p = legacyPath(x);
    const v = p && env.legacy ? env.legacy(p.path, p.text) : undefined;
    if (v !== undefined) return fromInt(LONG, v);
    let root = x;
    while (root.kind === 'member' || root.kind === 'index') root = root.obj;
    if (p && p.path.length > 1 && unknownNames.has(root)) throw unknown(root, p.text);
    throw cErr;
  };
  const deref = (x: CExpr, v: CValue): CValue => {
    const t = stripType(v.type);
    if (t.kind === 'array') return { type: t.elem, addr: v.addr };
    if (t.kind !== 'pointer') err(x, `'*' needs a pointer, not ${typeName(v.type)}`);
    const to = (t as { to: CType }).to;
    if (stripType(to).kind === 'void') err(x, `cannot dereference a void pointer: cast it first, e.g. *(__u32 *)${src.slice(x.col).trim() || 'p'}`);
    const a = num(x, v);
    if (a === 0n) err(x, 'dereference of NULL');
    return { type: to, addr: a };
  };
  const member = (x: CExpr & { kind: 'member' }, v: CValue): CValue => {
    const s = stripType(v.type);
    if (s.kind !== 'struct' && s.kind !== 'union') err(x, `'${x.arrow ? '->' : '.'}${x.field}' needs a ${x.arrow ? 'pointer to a ' : ''}struct or union, not ${typeName(v.type)}`);
    const found = findMember(s as Extract<CType, { kind: 'struct' | 'union' }>, x.field);
    if (!found) err(x, `${typeName(v.type)} has no member '${x.field}'`);
    const { m, offset } = found!;
    const out: CValue = { type: m.type };
    if (v.addr !== undefined) out.addr = v.addr + BigInt(offset);
    else { const b = contents(v, mem); out.bytes = b.subarray(offset, offset + Math.max(sizeOf(m.type), Math.ceil(((m.bitOffset ?? 0) + (m.bitSize ?? 0)) / 8))); }
    if (m.bitSize !== undefined) { out.bitSize = m.bitSize; out.bitOffset = m.bitOffset ?? 0; }
    return out;
  };
  const arith = (x: CExpr, op: string, a: CValue, b: CValue): CValue => {
    const pa = isPointer(a.type) || stripType(a.type).kind === 'array', pb = isPointer(b.type) || stripType(b.type).kind === 'array';
    if (pa || pb) {
      const ptrOf = (v: CValue) => { const t = stripType(v.type); return t.kind === 'array' ? pointerTo(t.elem) : v.type; };
      const elemSize = (t: CType) => { const s = stripType(t) as { to: CType }; return BigInt(Math.max(1, sizeOf(s.to))); };
      if (op === '+' && pa !== pb) {
        const [p, i] = pa ? [a, b] : [b, a];
        const pt = ptrOf(p);
        return fromInt(pt, num(x, p) + num(x, i) * elemSize(pt));
      }
      if (op === '-' && pa && !pb) { const pt = ptrOf(a); return fromInt(pt, num(x, a) - num(x, b) * elemSize(pt)); }
      if (op === '-' && pa && pb) return fromInt(LONG, BigInt.asIntN(64, num(x, a) - num(x, b)) / elemSize(ptrOf(a)));
      if (['==', '!=', '<', '<=', '>', '>='].includes(op)) return fromInt(INT, compare(op, BigInt.asUintN(64, num(x, a)), BigInt.asUintN(64, num(x, b))) ? 1n : 0n);
      if (op === '&&' || op === '||') return fromInt(INT, 0n);
      err(x, `'${op}' does not apply to pointers`);
    }
    if (!isInteger(a.type) || !isInteger(b.type)) err(x, `'${op}' needs numbers, not ${typeName(isInteger(a.type) ? b.type : a.type)}`);
    if (op === '<<' || op === '>>') {
      const t = promote(a.type);
      const n = num(x, b);
      const w = BigInt(intShape(t).size * 8);
      if (n < 0n || n >= w) err(x, `shift by ${n} is undefined for ${typeName(t)} (0..${w - 1n})`);
      const v = num(x, a);
      return fromInt(t, op === '<<' ? v << n : v >> n);
    }
    const t = common(promote(a.type), promote(b.type));
    const { size, signed } = intShape(t);
    const conv = (v: bigint) => (signed ? BigInt.asIntN(size * 8, v) : BigInt.asUintN(size * 8, v));
    const va = conv(num(x, a)), vb = conv(num(x, b));
    if (['==', '!=', '<', '<=', '>', '>='].includes(op)) return fromInt(INT, compare(op, va, vb) ? 1n : 0n);
    switch (op) {
      case '+': return fromInt(t, va + vb);
      case '-': return fromInt(t, va - vb);
      case '*': return fromInt(t, va * vb);
      case '/': case '%':
        if (vb === 0n) err(x, 'division by zero');
        return fromInt(t, op === '/' ? va / vb : va % vb); // bigint division truncates toward zero, as C
      case '&': return fromInt(t, va & vb);
      case '|': return fromInt(t, va | vb);
      case '^': return fromInt(t, va ^ vb);
    }
    return err(x, `unknown operator '${op}'`);
  };
  const truth = (x: CExpr, v: CValue) => { if (!isScalar(v.type) && stripType(v.type).kind !== 'array') err(x, `${typeName(v.type)} is not a truth value`); return num(x, v) !== 0n; };
  const node = (x: CExpr): CValue => {
    switch (x.kind) {
      case 'num': return fromInt(x.type, x.value);
      case 'name': {
        const v = env.variable(x.name);
        if (v && 'unavailable' in v) {
          return legacy(x, new ExprError(x.col, `${x.name} ${v.unavailable}`, src));
        }
        if (v) return v;
        unknownNames.add(x);
        return legacy(x, unknown(x, x.name));
      }
      case 'member': {
        try {
          const o = go(x.obj);
          return member(x, x.arrow ? deref(x, o) : o);
        } catch (e) { return legacy(x, e); }
      }
      case 'index': {
        try {
          const o = go(x.obj), i = go(x.idx);
          const t = stripType(o.type);
          if (t.kind === 'array' && o.addr === undefined) {
            const n = num(x, i);
            const es = sizeOf(t.elem);
            if (n < 0n || (t.count >= 0 && n >= BigInt(t.count))) err(x, `index ${n} is outside ${typeName(o.type)}`);
            return { type: t.elem, bytes: contents(o, mem).subarray(Number(n) * es, Number(n + 1n) * es) };
          }
          if (t.kind === 'array' && t.count >= 0) { const n = num(x, i); if (n < 0n || n >= BigInt(t.count)) err(x, `index ${n} is outside ${typeName(o.type)}`); }
          return deref(x, arith(x, '+', o, i));
        } catch (e) { return legacy(x, e); }
      }
      case 'unary': {
        if (x.op === '&') {
          const v = go(x.arg);
          if (v.bitSize !== undefined) err(x, 'cannot take the address of a bit field');
          if (v.reg !== undefined) err(x, `${src.slice(x.arg.col).trim()} lives in register r${v.reg}: it has no address`);
          if (v.addr === undefined) err(x, "'&' needs a value in memory");
          return fromInt(pointerTo(v.type), v.addr!);
        }
        if (x.op === '*') return deref(x, go(x.arg));
        const v = go(x.arg);
        if (x.op === '!') return fromInt(INT, truth(x, v) ? 0n : 1n);
        if (!isInteger(v.type)) err(x, `'${x.op}' needs a number, not ${typeName(v.type)}`);
        const t = promote(v.type);
        const n = num(x, v);
        return fromInt(t, x.op === '-' ? -n : x.op === '~' ? ~n : n);
      }
      case 'cast': {
        const t = wrap(x, () => resolveType(env, x.to));
        const v = go(x.arg);
        const s = stripType(t);
        if (s.kind === 'void') return { type: VOID, bytes: new Uint8Array(0) };
        if (!isScalar(t)) err(x, `cannot cast to ${typeName(t)}: only to integer and pointer types`);
        if (s.kind === 'base' && s.bool) return fromInt(t, truth(x, v) ? 1n : 0n);
        return fromInt(t, num(x, v));
      }
      case 'sizeof': {
        const t = x.to ? wrap(x, () => resolveType(env, x.to!)) : go(x.arg!).type;
        return fromInt(ULONG, BigInt(sizeOf(t)));
      }
      case 'cond': return truth(x, go(x.test)) ? go(x.yes) : go(x.no);
      case 'binary': {
        if (x.op === '&&') return fromInt(INT, truth(x, go(x.left)) && truth(x, go(x.right)) ? 1n : 0n);
        if (x.op === '||') return fromInt(INT, truth(x, go(x.left)) || truth(x, go(x.right)) ? 1n : 0n);
        return arith(x, x.op, go(x.left), go(x.right));
      }
    }
  };
  return go(e);
}

function compare(op: string, a: bigint, b: bigint): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    default: return a >= b;
  }
}

/** A member by name, looking into anonymous structs and unions; its byte offset from the outer start. */
export function findMember(s: Extract<CType, { kind: 'struct' | 'union' }>, name: string): { m: CMember; offset: number } | null {
  for (const m of s.members) {
    if (m.name === name) return { m, offset: m.offset };
    if (!m.name) {
      const inner = stripType(m.type);
      if (inner.kind === 'struct' || inner.kind === 'union') {
        const r = findMember(inner, name);
        if (r) return { m: r.m, offset: m.offset + r.offset };
      }
    }
  }
  return null;
}

/** Parse and evaluate. */
export function evaluateC(src: string, env: CEnv): CValue {
  return evalC(parseC(src, (n) => env.type(n) !== undefined || n in BUILTIN_TYPES), env, src);
}

/** The integer value of an expression (conditions, hit counts, setVariable), pointers as addresses. */
export function evaluateCInt(src: string, env: CEnv): bigint {
  const v = evaluateC(src, env);
  if (!isScalar(v.type) && stripType(v.type).kind !== 'array') throw new ExprError(0, `${typeName(v.type)} is not a number: pick a member or an element`, src);
  return scalar(v, env.mem);
}

export { leBytes };
