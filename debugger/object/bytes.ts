// Bounds-checked little-endian reads over the object file. Every failure is an ObjectError
// naming the file and the place, so hostile input never reaches a host exception.
import { ObjectError } from './types';

export class ByteView {
  private readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  fail(where: string, detail: string): never {
    throw new ObjectError(this.file, where, detail);
  }
  /** Checks [off, off+len) lies in the buffer; `where` names what was being read. */
  check(off: number, len: number, where: string): void {
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > this.bytes.length) {
      this.fail(where, `needs bytes 0x${hex(off)}..0x${hex(off + len)} but the file has ${this.bytes.length} bytes (truncated or corrupt object; rebuild it)`);
    }
  }
  u8(off: number, where: string): number {
    this.check(off, 1, where);
    return this.bytes[off];
  }
  u16(off: number, where: string): number {
    this.check(off, 2, where);
    return this.dv.getUint16(off, true);
  }
  u32(off: number, where: string): number {
    this.check(off, 4, where);
    return this.dv.getUint32(off, true);
  }
  i32(off: number, where: string): number {
    this.check(off, 4, where);
    return this.dv.getInt32(off, true);
  }
  i16(off: number, where: string): number {
    this.check(off, 2, where);
    return this.dv.getInt16(off, true);
  }
  /** A 64-bit field that must fit a JS number (offsets, sizes). */
  u64n(off: number, where: string): number {
    this.check(off, 8, where);
    const v = this.dv.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(where, `64-bit value 0x${v.toString(16)} is too large`);
    return Number(v);
  }
  u64(off: number, where: string): bigint {
    this.check(off, 8, where);
    return this.dv.getBigUint64(off, true);
  }
  slice(off: number, len: number, where: string): Uint8Array {
    this.check(off, len, where);
    return this.bytes.subarray(off, off + len);
  }
}

export function hex(n: number): string {
  return n.toString(16);
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** NUL-terminated string at `off` inside `table`; undefined when off is out of range or unterminated. */
export function cstring(table: Uint8Array, off: number): string | undefined {
  if (!Number.isInteger(off) || off < 0 || off >= table.length) return off === 0 && table.length === 0 ? '' : undefined;
  const end = table.indexOf(0, off);
  if (end < 0) return undefined;
  return decoder.decode(table.subarray(off, end));
}
