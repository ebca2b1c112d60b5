// A small JSON reader that remembers where each value starts, so that scenario errors can name
// the line of `steps[3].send`. Accepts exactly JSON (RFC 8259); errors carry line and column.

export interface Pos { line: number; col: number } // 1-based

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(readonly pos: Pos, readonly detail: string) {
    super(`line ${pos.line}, column ${pos.col}: ${detail}`);
  }
}

export interface Located {
  value: unknown;
  /** Start of each value by path: '' (root), 'steps', 'steps[3]', 'steps[3].send'. */
  positions: { get(path: string): Pos | undefined };
}

/** Where values start, kept small: object members by path, array elements as one list of
 *  offsets per array (a 16 MiB file of numbers is 8M elements: no path string or object each). */
class Positions {
  readonly members = new Map<string, number>();
  readonly elements = new Map<string, number[]>();
  constructor(private readonly posAt: (off: number) => Pos) {}
  get(path: string): Pos | undefined {
    const off = this.members.get(path);
    if (off !== undefined) return this.posAt(off);
    const m = /\[(\d+)\]$/.exec(path);
    if (!m) return undefined;
    const el = this.elements.get(path.slice(0, m.index))?.[Number(m[1])];
    return el === undefined ? undefined : this.posAt(el);
  }
}

/** Arrays and objects nest at most this deep (the reader recurses; a scenario needs about 5). */
export const MAX_JSON_DEPTH = 512;

export function parseJsonLocated(text: string): Located {
  let i = 0;
  let depth = 0;
  const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  // line starts for position lookups
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) === 10) lineStarts.push(k + 1);
  const posAt = (off: number): Pos => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= off) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: off - lineStarts[lo]! + 1 };
  };
  const positions = new Positions(posAt);
  const fail = (msg: string, off = i): never => { throw new JsonSyntaxError(posAt(off), msg); };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++; else break;
    }
  };
  const describe = (off: number) => off >= text.length ? 'end of file' : `'${text[off]}'`;
  const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  /** A string value: runs without escapes are sliced whole (a 16 MiB string is one slice, not a
   *  chain of one-character concatenations). */
  const str = (): string => {
    const start = i;
    i++; // opening quote
    const parts: string[] = [];
    let from = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 34) { parts.push(text.slice(from, i)); i++; return parts.length === 1 ? parts[0]! : parts.join(''); }
      if (c === 92) {
        parts.push(text.slice(from, i));
        const e = text[i + 1];
        if (e === 'u') {
          const h = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape in string');
          parts.push(String.fromCharCode(parseInt(h, 16)));
          i += 6;
        } else if (e !== undefined && ESCAPES[e] !== undefined) { parts.push(ESCAPES[e]!); i += 2; }
        else fail('bad escape in string');
        from = i;
        continue;
      }
      if (c < 0x20) fail('control character in string (write \\n, \\t...)');
      i++;
    }
  };
  /** `at`: where the caller keeps this value's start (a member path, or an array's offsets). */
  const value = (path: string, at?: number[]): unknown => {
    ws();
    if (at) at.push(i); else positions.members.set(path, i);
    const c = text[i];
    if ((c === '{' || c === '[') && depth >= MAX_JSON_DEPTH) fail(`arrays and objects nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (c === '{') {
      depth++;
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') { i++; depth--; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe(i)}`);
        const key = str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after property name "${key}", found ${describe(i)}`);
        i++;
        const sub = path ? `${path}.${key}` : key;
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate property "${key}"`);
        // an own property even for "__proto__" (plain assignment would set the prototype)
        Object.defineProperty(obj, key, { value: value(sub), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; depth--; return obj; }
        fail(`expected ',' or '}' in object, found ${describe(i)}`);
      }
    }
    if (c === '[') {
      i++;
      depth++;
      const arr: unknown[] = [];
      const offsets: number[] = [];
      positions.elements.set(path, offsets);
      ws();
      if (text[i] === ']') { i++; depth--; return arr; }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`, offsets));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; depth--; return arr; }
        fail(`expected ',' or ']' in array, found ${describe(i)}`);
      }
    }
    if (c === '"') return str();
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) { i += m[0].length; return Number(m[0]); }
    for (const [w, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(w, i)) { i += w.length; return v; }
    }
    return fail(`unexpected ${describe(i)}: expected a value (object, array, string, number, true, false, null)`);
  };
  const v = value('');
  ws();
  if (i < text.length) fail(`unexpected ${describe(i)} after the end of the document`);
  return { value: v, positions };
}
