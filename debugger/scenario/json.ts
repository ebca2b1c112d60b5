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
  positions: Map<string, Pos>;
}

/** Arrays and objects nest at most this deep (the reader recurses; a scenario needs about 5). */
export const MAX_JSON_DEPTH = 512;

export function parseJsonLocated(text: string): Located {
  const positions = new Map<string, Pos>();
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
  const fail = (msg: string, off = i): never => { throw new JsonSyntaxError(posAt(off), msg); };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++; else break;
    }
  };
  const describe = (off: number) => off >= text.length ? 'end of file' : `'${text[off]}'`;
  const str = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text[i]!;
      if (c === '"') { i++; return out; }
      if (c === '\\') {
        const e = text[i + 1];
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e === 'u') {
          const h = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape in string');
          out += String.fromCharCode(parseInt(h, 16));
          i += 6;
        } else if (e !== undefined && map[e] !== undefined) { out += map[e]; i += 2; }
        else fail('bad escape in string');
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail('control character in string (write \\n, \\t...)');
      out += c;
      i++;
    }
  };
  const value = (path: string): unknown => {
    ws();
    positions.set(path, posAt(i));
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
      ws();
      if (text[i] === ']') { i++; depth--; return arr; }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`));
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
