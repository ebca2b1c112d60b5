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

/** An array the reader checked but did not build (JsonDocument.parse's `skim`): where each
 *  element starts, to be read one at a time with JsonDocument.parseAt. A 100,000-step scenario
 *  is then one string and a few typed arrays, not 300,000 objects with a path string each. */
export class SkimmedArray {
  constructor(readonly path: string, readonly starts: Uint32Array) {}
  get length(): number {
    return this.starts.length;
  }
}

/** Where values start, kept small: object members by path, array elements as one list of
 *  offsets per array (a 16 MiB file of numbers is 8M elements: no path string or object each).
 *  Plain lists, looked through only when an error asks (a step read again records two or three). */
class Positions {
  private readonly memberPaths: string[] = [];
  private readonly memberOffs: number[] = [];
  private readonly arrayPaths: string[] = [];
  private readonly arrayOffs: ArrayLike<number>[] = [];
  constructor(private readonly doc: JsonDocument) {}
  member(path: string, off: number): void {
    this.memberPaths.push(path);
    this.memberOffs.push(off);
  }
  elements(path: string, offs: ArrayLike<number>): void {
    this.arrayPaths.push(path);
    this.arrayOffs.push(offs);
  }
  get(path: string): Pos | undefined {
    const k = this.memberPaths.indexOf(path);
    if (k >= 0) return this.doc.posAt(this.memberOffs[k]!);
    const m = /\[(\d+)\]$/.exec(path);
    if (!m) return undefined;
    const a = this.arrayPaths.indexOf(path.slice(0, m.index));
    const el = a >= 0 ? this.arrayOffs[a]![Number(m[1])] : undefined;
    return el === undefined ? undefined : this.doc.posAt(el);
  }
}

/** Arrays and objects nest at most this deep (the reader recurses; a scenario needs about 5). */
export const MAX_JSON_DEPTH = 512;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A JSON text read with positions: the whole document (parse), or one value of it again later
 *  (parseAt, for the elements of a skimmed array). Line starts are found once. */
export class JsonDocument {
  private readonly lineStarts: Uint32Array;
  constructor(readonly text: string) {
    let n = 1;
    for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) n++;
    const ls = new Uint32Array(n);
    n = 1;
    for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) ls[n++] = k + 1;
    this.lineStarts = ls;
  }

  /** 1-based line and column of a character offset. */
  posAt(off: number): Pos {
    const ls = this.lineStarts;
    let lo = 0, hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid]! <= off) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: off - ls[lo]! + 1 };
  }

  /** The whole document. Arrays at a path in `skim` are checked as the rest is (the same errors)
   *  but come back as a SkimmedArray; positions inside their elements are not kept. */
  parse(opts: { skim?: readonly string[] } = {}): Located {
    const r = this.read(0, '', 0, opts.skim ?? []);
    if (r.end < this.text.length) throw new JsonSyntaxError(this.posAt(r.end), `unexpected ${this.describe(r.end)} after the end of the document`);
    return { value: r.value, positions: r.positions };
  }

  /** The value starting at offset `start` (an element of a skimmed array), its positions named
   *  under `path` ('steps[3]'). `depth`: how deep it sits in the document. */
  parseAt(start: number, path: string, depth = 0): Located {
    const r = this.read(start, path, depth, []);
    return { value: r.value, positions: r.positions };
  }

  private describe(off: number): string {
    return off >= this.text.length ? 'end of file' : `'${this.text[off]}'`;
  }

  private read(start: number, rootPath: string, depth: number, skim: readonly string[]): { value: unknown; end: number; positions: Positions } {
    const r = new Reader(this, start, depth, skim);
    const value = r.value(rootPath);
    r.ws();
    return { value, end: r.i, positions: r.positions };
  }
}

const enum C { TAB = 9, LF = 10, CR = 13, SPACE = 32, QUOTE = 34, PLUS = 43, MINUS = 45, DOT = 46, ZERO = 48, NINE = 57, E = 69, BACKSLASH = 92, e = 101 }

/** One read of a value of a JsonDocument (a class, not closures: a long scenario reads each of
 *  its 300,000 steps this way). */
class Reader {
  i: number;
  readonly positions: Positions;
  /** false inside a skimmed array: values are checked, nothing about them is kept */
  private keep = true;
  private readonly text: string;
  constructor(private readonly doc: JsonDocument, start: number, private depth: number, private readonly skim: readonly string[]) {
    this.text = doc.text;
    this.i = start;
    this.positions = new Positions(doc);
  }

  private fail(msg: string, off = this.i): never {
    throw new JsonSyntaxError(this.doc.posAt(off), msg);
  }

  private describe(off: number): string {
    return off >= this.text.length ? 'end of file' : `'${this.text[off]}'`;
  }

  ws(): void {
    const text = this.text;
    let i = this.i;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === C.SPACE || c === C.TAB || c === C.LF || c === C.CR) i++; else break;
    }
    this.i = i;
  }

  /** A string value: runs without escapes are sliced whole (a 16 MiB string is one slice, not a
   *  chain of one-character concatenations). */
  private str(): string {
    const text = this.text;
    const begin = this.i;
    let i = begin + 1; // after the opening quote
    let from = i;
    let parts: string[] | null = null;
    for (;;) {
      if (i >= text.length) this.fail('unterminated string', begin);
      const c = text.charCodeAt(i);
      if (c === C.QUOTE) {
        this.i = i + 1;
        if (!parts) return text.slice(from, i);
        parts.push(text.slice(from, i));
        return parts.join('');
      }
      if (c === C.BACKSLASH) {
        (parts ??= []).push(text.slice(from, i));
        const e = text[i + 1];
        if (e === 'u') {
          const h = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) { this.i = i; this.fail('bad \\u escape in string'); }
          parts.push(String.fromCharCode(parseInt(h, 16)));
          i += 6;
        } else if (e !== undefined && ESCAPES[e] !== undefined) { parts.push(ESCAPES[e]!); i += 2; }
        else { this.i = i; this.fail('bad escape in string'); }
        from = i;
        continue;
      }
      if (c < 0x20) { this.i = i; this.fail('control character in string (write \\n, \\t...)'); }
      i++;
    }
  }

  /** A number as RFC 8259 writes it, or -1 (none here): its end. */
  private numberEnd(): number {
    const text = this.text;
    let i = this.i;
    const digit = (k: number) => { const c = text.charCodeAt(k); return c >= C.ZERO && c <= C.NINE; };
    if (text.charCodeAt(i) === C.MINUS) i++;
    if (!digit(i)) return -1;
    if (text.charCodeAt(i) === C.ZERO) i++; else while (digit(i)) i++;
    if (text.charCodeAt(i) === C.DOT && digit(i + 1)) { i++; while (digit(i)) i++; }
    const e = text.charCodeAt(i);
    if (e === C.e || e === C.E) {
      let k = i + 1;
      const sign = text.charCodeAt(k);
      if (sign === C.PLUS || sign === C.MINUS) k++;
      if (digit(k)) { i = k; while (digit(i)) i++; }
    }
    return i;
  }

  /** `at`: where the caller keeps this value's start (a member path, or an array's offsets). */
  value(path: string, at?: number[]): unknown {
    this.ws();
    const text = this.text;
    if (this.keep) { if (at) at.push(this.i); else this.positions.member(path, this.i); }
    const c = text[this.i];
    if ((c === '{' || c === '[') && this.depth >= MAX_JSON_DEPTH) this.fail(`arrays and objects nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"') return this.str();
    const end = this.numberEnd();
    if (end >= 0) { const n = Number(text.slice(this.i, end)); this.i = end; return n; }
    for (const [w, v] of WORDS) {
      if (text.startsWith(w, this.i)) { this.i += w.length; return v; }
    }
    return this.fail(`unexpected ${this.describe(this.i)}: expected a value (object, array, string, number, true, false, null)`);
  }

  private object(path: string): Record<string, unknown> {
    const text = this.text;
    this.depth++;
    this.i++;
    const obj: Record<string, unknown> = {};
    this.ws();
    if (text[this.i] === '}') { this.i++; this.depth--; return obj; }
    for (;;) {
      this.ws();
      if (text[this.i] !== '"') this.fail(`expected a property name in double quotes, found ${this.describe(this.i)}`);
      const key = this.str();
      this.ws();
      if (text[this.i] !== ':') this.fail(`expected ':' after property name "${key}", found ${this.describe(this.i)}`);
      this.i++;
      const sub = this.keep ? (path ? `${path}.${key}` : key) : '';
      if (Object.prototype.hasOwnProperty.call(obj, key)) this.fail(`duplicate property "${key}"`);
      const v = this.value(sub);
      // an own property even for "__proto__" (plain assignment would set the prototype)
      if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[key] = v;
      this.ws();
      if (text[this.i] === ',') { this.i++; continue; }
      if (text[this.i] === '}') { this.i++; this.depth--; return obj; }
      this.fail(`expected ',' or '}' in object, found ${this.describe(this.i)}`);
    }
  }

  private array(path: string): unknown[] | SkimmedArray {
    const text = this.text;
    this.i++;
    this.depth++;
    if (this.keep && this.skim.includes(path)) return this.skimmed(path);
    const arr: unknown[] = [];
    const offsets: number[] = [];
    if (this.keep) this.positions.elements(path, offsets);
    this.ws();
    if (text[this.i] === ']') { this.i++; this.depth--; return arr; }
    for (;;) {
      arr.push(this.value(this.keep ? `${path}[${arr.length}]` : '', offsets));
      this.ws();
      if (text[this.i] === ',') { this.i++; continue; }
      if (text[this.i] === ']') { this.i++; this.depth--; return arr; }
      this.fail(`expected ',' or ']' in array, found ${this.describe(this.i)}`);
    }
  }

  /** The rest of an array at `path` (after its '['), each element read and dropped. */
  private skimmed(path: string): SkimmedArray {
    const text = this.text;
    let starts = new Uint32Array(64);
    let n = 0;
    this.keep = false;
    this.ws();
    if (text[this.i] === ']') { this.i++; this.depth--; this.keep = true; return new SkimmedArray(path, starts.subarray(0, 0)); }
    for (;;) {
      this.ws();
      if (n === starts.length) { const s = new Uint32Array(n * 2); s.set(starts); starts = s; }
      starts[n++] = this.i;
      this.value('');
      this.ws();
      if (text[this.i] === ',') { this.i++; continue; }
      if (text[this.i] === ']') { this.i++; this.depth--; break; }
      this.fail(`expected ',' or ']' in array, found ${this.describe(this.i)}`);
    }
    this.keep = true;
    const exact = starts.slice(0, n);
    this.positions.elements(path, exact);
    return new SkimmedArray(path, exact);
  }
}

const WORDS = [['true', true], ['false', false], ['null', null]] as const;

/** The whole text as one JSON document, with where each value starts. */
export function parseJsonLocated(text: string): Located {
  return new JsonDocument(text).parse();
}
