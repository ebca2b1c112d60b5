// Checks of the values of a scenario file, with errors that name the file, the JSON path and its
// line; and the small conversions (hex bytes, durations) the parser and the step compiler share.
import type { Pos } from './json';
import { ScenarioError } from './types';

export type Obj = Record<string, unknown>;

/** `where` finds a path's position (the document's, or a step's when it is read again). */
export class Checks {
  constructor(readonly file: string, public where: (path: string) => Pos | undefined, readonly constant?: (name: string) => number | undefined) {}

  readonly err = (path: string, detail: string): never => {
    const p = this.where(path);
    throw new ScenarioError(this.file, path, p?.line, detail, p?.col);
  };
  readonly str = (path: string, v: unknown, what: string): string => {
    if (typeof v !== 'string' || v === '') this.err(path, `${what} must be a non-empty string`);
    return v as string;
  };
  readonly int = (path: string, v: unknown, what: string, min = 0, max = 0xffffffff): number => {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.err(path, `${what} must be an integer, got ${shown(v)}`);
    const n = v as number;
    if (n < min || n > max) this.err(path, `${what} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
  readonly intOrName = (path: string, v: unknown, what: string): number => {
    if (typeof v === 'string') {
      const n = this.constant?.(v);
      if (n === undefined) this.err(path, `unknown constant name "${v}" for ${what}; write a number or a name such as SOL_SOCKET, SO_RCVLOWAT, SOL_TCP`);
      return n as number;
    }
    return this.int(path, v, what, -0x80000000, 0xffffffff) | 0;
  };
  readonly bool = (path: string, v: unknown, what: string): boolean => {
    if (typeof v !== 'boolean') this.err(path, `${what} must be true or false`);
    return v as boolean;
  };
}

/** A value as an error message shows it: short, and saying when a number overflowed. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing (the property is missing)';
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (the number is too large)`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  return JSON.stringify(v) ?? String(v);
}

const HEX_DIGIT = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let k = 0; k < 16; k++) t['0123456789abcdef'.charCodeAt(k)] = k;
  for (let k = 10; k < 16; k++) t['ABCDEF'.charCodeAt(k - 10)] = k;
  return t;
})();

/** Hex digits in pairs, white space anywhere ignored -> bytes; or why not (a loop: no regular
 *  expression, whose backtracking overflowed the stack on a 10 MB string). */
export function hexBytes(h: string): Uint8Array | string {
  const out = new Uint8Array(h.length >>> 1);
  let n = 0;
  let hi = -1;
  for (let k = 0; k < h.length; k++) {
    const c = h.charCodeAt(k);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    const d = c < 128 ? HEX_DIGIT[c]! : -1;
    if (d < 0) return `character ${k + 1} is ${JSON.stringify(h[k])}`;
    if (hi < 0) hi = d; else { out[n++] = (hi << 4) | d; hi = -1; }
  }
  if (hi >= 0) return 'an odd number of digits';
  return out.subarray(0, n);
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 1500, "10ms", "250us", "2s", "100ns" -> nanoseconds. */
export function parseDuration(v: unknown): bigint | null {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+)\s*(ns|us|ms|s)\s*$/.exec(v);
  if (!m) return null;
  const mult = { ns: 1n, us: 1000n, ms: 1000000n, s: 1000000000n }[m[2] as 'ns' | 'us' | 'ms' | 's'];
  return BigInt(m[1]!) * mult;
}
