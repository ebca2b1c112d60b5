// The debugger's own names (registers, ctx fields, socket fields, ABI constants) as the C
// expression evaluator (./c.ts, the only parser) falls back to them, and logpoint messages.
// Without a C program at hand, evaluate() is C evaluation over these names alone:
//   ctx.op  skops->args[1]  sk_rcvlowat  rcv_nxt  r0..r10  BPF_SOCK_OPS_RCVQ_CB
import { type CEnv, evaluateCInt, ExprError, MAX_NESTING } from './c';

export { ExprError, MAX_NESTING };

/** Resolves a name path (['ctx','op'], ['skops','args','1'], ['sk_rcvlowat'], ['r1']) to a value,
 *  or undefined when the name is unknown. `text` is the path as written ('skops->args[1]'). */
export interface ExprEnv {
  lookup(path: string[], text: string): bigint | undefined;
  /** Names offered in the error message for an unknown name. */
  hint?(): string;
}

/** A C environment that has only the debugger's names: no variables, types or memory. */
export function namesOnly(env: ExprEnv): CEnv {
  return {
    variable: () => undefined,
    type: () => undefined,
    mem: { read: (a) => { throw new Error(`no memory to read at 0x${a.toString(16)}: no program is running here`); } },
    legacy: (path, text) => env.lookup(path, text),
    hint: env.hint ? () => env.hint!() : undefined,
  };
}

/** Parse and evaluate as C over the debugger's names. Throws ExprError with the column on bad input. */
export function evaluate(src: string, env: ExprEnv): bigint {
  return evaluateCInt(src, namesOnly(env));
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
