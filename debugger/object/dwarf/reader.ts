// Byte access to the DWARF sections of a relocatable BPF object. The object is not linked, so
// every address in the debug sections is an offset inside some code or data section, given by an
// ELF relocation (R_BPF_64_ABS64 / R_BPF_64_ABS32 against a section or symbol, the addend in place).
// The sections are read relocated: string and section offsets get their symbol's value added, and
// addresses keep the ELF section they are in (Addr).
import type { ElfFile } from '../elf';

export class DwarfError extends Error {
  constructor(readonly section: string, readonly offset: number, readonly detail: string) {
    super(`${section}, offset 0x${offset.toString(16)}: ${detail}`);
    this.name = 'DwarfError';
  }
}

/** An address in an unlinked object: a byte offset inside ELF section `sec` (-1: not relocated). */
export interface Addr { sec: number; off: number }

const R_BPF_64_ABS64 = 2;
const R_BPF_64_ABS32 = 3;
const R_BPF_64_NODYLD32 = 4;
const STT_SECTION = 3;

/** One debug section, relocated, with the section each relocated word points into. */
export class DebugSection {
  readonly targets = new Map<number, number>();
  constructor(readonly name: string, readonly data: Uint8Array) {}
  cursor(off = 0, end = this.data.length): Cursor {
    return new Cursor(this, off, end);
  }
}

export class Cursor {
  constructor(readonly sec: DebugSection, public off: number, public end: number) {
    if (off < 0 || end > sec.data.length || off > end) throw new DwarfError(sec.name, off, `range 0x${off.toString(16)}..0x${end.toString(16)} lies outside the section (${sec.data.length} bytes)`);
  }
  fail(detail: string, at = this.off): never {
    throw new DwarfError(this.sec.name, at, detail);
  }
  private need(n: number) {
    if (this.off + n > this.end) this.fail(`needs ${n} more bytes but the ${this.end === this.sec.data.length ? 'section' : 'unit'} ends at 0x${this.end.toString(16)} (truncated or corrupt debug info: rebuild the object)`);
  }
  get done(): boolean { return this.off >= this.end; }
  u8(): number { this.need(1); return this.sec.data[this.off++]!; }
  i8(): number { return (this.u8() << 24) >> 24; }
  u16(): number { this.need(2); const d = this.sec.data; const v = d[this.off]! | (d[this.off + 1]! << 8); this.off += 2; return v; }
  u24(): number { const lo = this.u16(); return lo + this.u8() * 0x10000; }
  u32(): number { this.need(4); const d = this.sec.data; const o = this.off; this.off += 4; return (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16)) + d[o + 3]! * 0x1000000; }
  u64(): bigint { const lo = this.u32(); const hi = this.u32(); return (BigInt(hi) << 32n) | BigInt(lo); }
  /** An unsigned integer of n bytes as a JS number (offsets and lengths; more than 2^53 is refused). */
  uN(n: number): number {
    if (n === 1) return this.u8();
    if (n === 2) return this.u16();
    if (n === 4) return this.u32();
    const at = this.off;
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`value 0x${v.toString(16)} is too large for an offset`, at);
    return Number(v);
  }
  /** An address word: its value and, when relocated, the section it points into. */
  addr(size: number): Addr {
    const at = this.off;
    const off = this.uN(size);
    return { sec: this.sec.targets.get(at) ?? -1, off };
  }
  /** An address word, or null for the all-ones word of a DWARF 4 base address selection entry. */
  addrOrBase(size: number): Addr | null {
    const at = this.off;
    const v = size === 8 ? this.u64() : BigInt(this.u32());
    if (v === (size === 8 ? 0xffffffffffffffffn : 0xffffffffn)) return null;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`address 0x${v.toString(16)} is too large`, at);
    return { sec: this.sec.targets.get(at) ?? -1, off: Number(v) };
  }
  uleb(): number {
    let v = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      const x = this.u8();
      v += (x & 0x7f) * mul;
      mul *= 128;
      if (!(x & 0x80)) {
        if (v > Number.MAX_SAFE_INTEGER) this.fail('LEB128 value too large');
        return v;
      }
    }
    return this.fail('LEB128 number longer than 10 bytes');
  }
  /** Unsigned LEB128 as a bigint (constants in expressions). */
  ulebBig(): bigint {
    let v = 0n, shift = 0n;
    for (let i = 0; i < 10; i++) {
      const x = this.u8();
      v |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if (!(x & 0x80)) return BigInt.asUintN(64, v);
    }
    return this.fail('LEB128 number longer than 10 bytes');
  }
  slebBig(): bigint {
    let v = 0n, shift = 0n, x = 0;
    for (let i = 0; i < 10; i++) {
      x = this.u8();
      v |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if (!(x & 0x80)) break;
      if (i === 9) this.fail('LEB128 number longer than 10 bytes');
    }
    if (x & 0x40) v -= 1n << shift;
    return BigInt.asIntN(64, v);
  }
  sleb(): number {
    const v = this.slebBig();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail('LEB128 value too large');
    return Number(v);
  }
  bytes(n: number): Uint8Array { this.need(n); const b = this.sec.data.subarray(this.off, this.off + n); this.off += n; return b; }
  cstr(): string {
    const d = this.sec.data;
    let e = this.off;
    while (e < this.end && d[e] !== 0) e++;
    if (e >= this.end) this.fail('string without its terminating NUL');
    const s = Buffer.from(d.subarray(this.off, e)).toString('utf8');
    this.off = e + 1;
    return s;
  }
  /** The unit header's length: 32-bit DWARF, or 64-bit after 0xffffffff. Returns [length, offset size]. */
  initialLength(): [number, 4 | 8] {
    const l = this.u32();
    if (l === 0xffffffff) return [this.uN(8), 8];
    if (l >= 0xfffffff0) this.fail(`reserved unit length 0x${l.toString(16)}`);
    return [l, 4];
  }
}

/** The debug sections of an object, relocated. Missing sections are null. */
export class DebugSections {
  private cache = new Map<string, DebugSection | null>();
  constructor(readonly elf: ElfFile) {}

  get(name: string): DebugSection | null {
    if (this.cache.has(name)) return this.cache.get(name)!;
    const s = this.elf.sections.find((x) => x.name === name);
    const out = s ? this.relocate(s.index, name, s.data) : null;
    this.cache.set(name, out);
    return out;
  }

  need(name: string): DebugSection {
    const s = this.get(name);
    if (!s) throw new DwarfError(name, 0, `the object has no ${name} section (build with clang -g; -gdwarf-4 or -gdwarf-5)`);
    return s;
  }

  /** Apply the REL table of section `index` to a copy of its bytes (ELF parsing skips these for the loader). */
  private relocate(index: number, name: string, data: Uint8Array): DebugSection {
    const sec = new DebugSection(name, data.slice());
    const elf = this.elf;
    const d = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
    for (const rs of elf.sections) {
      if (rs.type !== 9 /* SHT_REL */ || rs.info !== index) continue;
      const rv = new DataView(rs.data.buffer, rs.data.byteOffset, rs.data.byteLength);
      for (let o = 0; o + 16 <= rs.data.length; o += 16) {
        const at = Number(rv.getBigUint64(o, true));
        const type = rv.getUint32(o + 8, true);
        const symIdx = rv.getUint32(o + 12, true);
        const sym = elf.symbols[symIdx];
        if (!sym) throw new DwarfError(rs.name, o, `relocation names symbol #${symIdx}, beyond the ${elf.symbols.length} symbols`);
        const S = sym.type === STT_SECTION ? 0 : sym.value;
        if (type === R_BPF_64_ABS64) {
          if (at + 8 > sec.data.length) throw new DwarfError(rs.name, o, `relocation at 0x${at.toString(16)} lies past the end of ${name}`);
          d.setBigUint64(at, BigInt.asUintN(64, d.getBigUint64(at, true) + BigInt(S)), true);
        } else if (type === R_BPF_64_ABS32 || type === R_BPF_64_NODYLD32) {
          if (at + 4 > sec.data.length) throw new DwarfError(rs.name, o, `relocation at 0x${at.toString(16)} lies past the end of ${name}`);
          d.setUint32(at, (d.getUint32(at, true) + S) >>> 0, true);
        } else continue;
        sec.targets.set(at, sym.shndx);
      }
    }
    return sec;
  }
}
