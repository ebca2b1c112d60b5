// Integer constant expressions of the C source: literals, #defines of the file, enum constants
// of the file, and the names the sock_ops table knows (ops, cb flags, SOL_*, TCP_BPF_*...).
import type { Syn } from './parser';
import { field } from './parser';
import { foreignNames, type SockopsTable } from './table';

export function parseIntLiteral(text: string): number | undefined {
  const t = text.replace(/[uUlL]+$/, '');
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0[bB][01]+$/.test(t)) v = parseInt(t.slice(2), 2);
  else if (/^0[0-7]+$/.test(t)) v = parseInt(t.slice(1), 8);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else return undefined;
  return Number.isSafeInteger(v) ? v : undefined;
}

function binop(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '|': return Number(BigInt.asIntN(64, BigInt(a) | BigInt(b)));
    case '&': return Number(BigInt.asIntN(64, BigInt(a) & BigInt(b)));
    case '^': return Number(BigInt.asIntN(64, BigInt(a) ^ BigInt(b)));
    case '<<': return b >= 0 && b < 53 ? a * 2 ** b : undefined;
    case '>>': return b >= 0 && b < 64 ? Math.floor(a / 2 ** b) : undefined;
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b === 0 ? undefined : Math.trunc(a / b);
    case '%': return b === 0 ? undefined : a % b;
    case '==': return +(a === b);
    case '!=': return +(a !== b);
    case '<': return +(a < b);
    case '>': return +(a > b);
    case '<=': return +(a <= b);
    case '>=': return +(a >= b);
    case '&&': return +(!!a && !!b);
    case '||': return +(!!a || !!b);
  }
  return undefined;
}

/** Names with values: the file's #defines and enum constants, then the table's. */
export class Constants {
  private defines = new Map<string, string>();
  private enums = new Map<string, number>();
  private resolving = new Set<string>();
  private cacheDef = new Map<string, number | undefined>();

  constructor(private table: SockopsTable) {}

  addDefine(name: string, value: string): void { this.defines.set(name, value.trim()); this.cacheDef.clear(); }
  addEnum(name: string, value: number): void { this.enums.set(name, value); }
  /** Takes the #defines and enum constants of an included header (the file's own, added
   *  later, win). */
  absorb(o: Constants): void {
    for (const [k, v] of o.defines) this.defines.set(k, v);
    for (const [k, v] of o.enums) this.enums.set(k, v);
    this.cacheDef.clear();
  }
  hasDefine(name: string): boolean { return this.defines.has(name); }
  defineText(name: string): string | undefined { return this.defines.get(name); }

  /** Value of a name; the file's own definitions win over the table. */
  name(id: string): number | undefined {
    if (this.defines.has(id)) {
      if (this.cacheDef.has(id)) return this.cacheDef.get(id);
      if (this.resolving.has(id)) return undefined;
      this.resolving.add(id);
      const v = this.text(this.defines.get(id)!);
      this.resolving.delete(id);
      this.cacheDef.set(id, v);
      return v;
    }
    const e = this.enums.get(id);
    if (e !== undefined) return e;
    const op = this.table.op(id);
    if (op) return op.value;
    const flag = this.table.cbFlag(id);
    if (flag) return flag.value;
    const c = this.table.constant(id);
    if (c !== undefined) return c;
    // An op or flag of another profile (BPF_SOCK_OPS_RCVQ_CB under linux-7.1.5): its value there,
    // which no op of this profile has, so `case` and `==` on it admit no op.
    return foreignNames(this.table).get(id)?.value;
  }

  /** Evaluates a syntax node; undefined when not a constant. `local` gives the value of an
   *  identifier that is a variable or parameter in scope (null: one whose value is not known);
   *  undefined from it means the name is no variable, so a constant name is looked up. */
  eval(n: Syn | undefined, local?: (id: string) => number | null | undefined): number | undefined {
    if (!n) return undefined;
    switch (n.type) {
      case 'number_literal': return parseIntLiteral(n.text ?? '');
      case 'char_literal': {
        const m = /^'(.)'$/.exec(n.text ?? '');
        return m ? m[1]!.charCodeAt(0) : undefined;
      }
      case 'true': return 1;
      case 'false': return 0;
      case 'identifier': {
        const v = local?.(n.text ?? '');
        return v === null ? undefined : v ?? this.name(n.text ?? '');
      }
      case 'parenthesized_expression': return n.children.length === 1 ? this.eval(n.children[0], local) : undefined;
      case 'cast_expression': return this.eval(field(n, 'value'), local);
      case 'unary_expression': {
        const v = this.eval(field(n, 'argument'), local);
        if (v === undefined) return undefined;
        if (n.op === '-') return -v;
        if (n.op === '+') return v;
        if (n.op === '~') return Number(BigInt.asIntN(64, ~BigInt(v)));
        if (n.op === '!') return +!v;
        return undefined;
      }
      case 'binary_expression': {
        const a = this.eval(field(n, 'left'), local);
        const b = a === undefined ? undefined : this.eval(field(n, 'right'), local);
        return a === undefined || b === undefined ? undefined : binop(n.op ?? '', a, b);
      }
      case 'conditional_expression': {
        const c = this.eval(field(n, 'condition'), local);
        if (c === undefined) return undefined;
        return this.eval(field(n, c ? 'consequence' : 'alternative'), local);
      }
    }
    return undefined;
  }

  /** Evaluates the text of a #define body (a small C expression grammar). */
  text(src: string): number | undefined {
    const toks = src.match(/0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|<<|>>|[()~!|&^+\-*/%]|\S/g) ?? [];
    let i = 0;
    const prec: Record<string, number> = { '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };
    const unary = (): number | undefined => {
      const t = toks[i++];
      if (t === undefined) return undefined;
      if (t === '(') {
        // A cast such as `(int)` or `(__u32)`: skip it.
        if (/^[A-Za-z_]\w*$/.test(toks[i] ?? '') && toks[i + 1] === ')' && this.name(toks[i]!) === undefined) {
          i += 2;
          return unary();
        }
        const v = expr(0);
        if (toks[i++] !== ')') return undefined;
        return v;
      }
      if (t === '-' || t === '~' || t === '!' || t === '+') {
        const v = unary();
        if (v === undefined) return undefined;
        return t === '-' ? -v : t === '~' ? Number(BigInt.asIntN(64, ~BigInt(v))) : t === '!' ? +!v : v;
      }
      const lit = parseIntLiteral(t);
      if (lit !== undefined) return lit;
      if (/^[A-Za-z_]\w*$/.test(t)) return this.name(t);
      return undefined;
    };
    const expr = (min: number): number | undefined => {
      let a = unary();
      while (a !== undefined && i < toks.length && prec[toks[i]!] !== undefined && prec[toks[i]!]! > min) {
        const op = toks[i++]!;
        const b = expr(prec[op]!);
        if (b === undefined) return undefined;
        a = binop(op, a, b);
      }
      return a;
    };
    const v = expr(0);
    return i === toks.length ? v : undefined;
  }
}
