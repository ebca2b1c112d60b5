// .debug_line (DWARF 2-5): the line table's sequences, one per code section, with each row's
// address (a byte offset in the section its DW_LNE_set_address relocation names) and line.
import type { ElfFile } from '../elf';

class Bad extends Error {}

class Reader {
  constructor(readonly b: Uint8Array, public off: number, readonly end: number) {}
  need(n: number) { if (this.off + n > this.end) throw new Bad(`runs past the end at 0x${this.off.toString(16)}`); }
  u8() { this.need(1); return this.b[this.off++]!; }
  u16() { this.need(2); const v = this.b[this.off]! | (this.b[this.off + 1]! << 8); this.off += 2; return v; }
  u32() { this.need(4); const v = (this.b[this.off]! | (this.b[this.off + 1]! << 8) | (this.b[this.off + 2]! << 16)) + this.b[this.off + 3]! * 0x1000000; this.off += 4; return v; }
  uN(n: number) { let v = 0; for (let i = 0; i < n; i++) v += this.u8() * 2 ** (8 * i); return v; }
  uleb() {
    let v = 0, mul = 1;
    for (let i = 0; i < 10; i++) { const x = this.u8(); v += (x & 0x7f) * mul; mul *= 128; if (!(x & 0x80)) return v; }
    throw new Bad('LEB128 number too long');
  }
  sleb() {
    let v = 0, mul = 1, x = 0;
    for (let i = 0; i < 10; i++) { x = this.u8(); v += (x & 0x7f) * mul; mul *= 128; if (!(x & 0x80)) break; }
    if (x & 0x40) v -= mul;
    return v;
  }
}

/** Rows of one sequence: byte addresses in one code section and their lines. */
export interface LineSeq { section: string; addr: number[]; line: number[] }

/** Every sequence of the line table, or an error message (then nothing is taken from DWARF). */
export function readDebugLine(elf: ElfFile): LineSeq[] | string {
  const sec = elf.sections.find((s) => s.name === '.debug_line');
  if (!sec) return 'no .debug_line (built without -g?)';
  // its REL table (the ELF reader keeps only those of code and data): offset -> symbol index
  const rels = new Map<number, number>();
  for (const rs of elf.sections) {
    if (rs.type !== 9 /* SHT_REL */ || rs.info !== sec.index) continue;
    const d = new DataView(rs.data.buffer, rs.data.byteOffset, rs.data.byteLength);
    for (let o = 0; o + 16 <= rs.data.length; o += 16) {
      const sym = d.getUint32(o + 12, true);
      if (sym < elf.symbols.length) rels.set(Number(d.getBigUint64(o, true)), sym);
    }
  }
  const b = sec.data;
  const out: LineSeq[] = [];
  let unit = 0;
  try {
    while (unit < b.length) {
      const r = new Reader(b, unit, b.length);
      let len = r.u32();
      let offSize = 4;
      if (len === 0xffffffff) { len = r.uN(8); offSize = 8; }
      const end = r.off + len;
      if (end > b.length) throw new Bad(`unit at 0x${unit.toString(16)} is longer than the section`);
      const u = new Reader(b, r.off, end);
      const version = u.u16();
      if (version < 2 || version > 5) throw new Bad(`unit at 0x${unit.toString(16)}: version ${version}`);
      if (version >= 5) { u.u8(); u.u8(); } // address_size, segment_selector_size
      const hlen = u.uN(offSize);
      const prog = u.off + hlen;
      const minInst = u.u8();
      if (version >= 4) u.u8(); // maximum_operations_per_instruction (1 for BPF)
      const defaultStmt = u.u8();
      void defaultStmt;
      const lineBase = (u.u8() << 24) >> 24;
      const lineRange = u.u8();
      const opcodeBase = u.u8();
      if (!lineRange) throw new Bad('line_range 0');
      const stdLens: number[] = [];
      for (let i = 1; i < opcodeBase; i++) stdLens.push(u.u8());
      u.off = prog;
      let addr = 0, line = 1, section = '';
      let seq: LineSeq | null = null;
      const row = () => {
        if (!seq || seq.section !== section) { seq = { section, addr: [], line: [] }; out.push(seq); }
        seq.addr.push(addr); seq.line.push(line);
      };
      while (u.off < end) {
        const op = u.u8();
        if (op >= opcodeBase) {
          const adj = op - opcodeBase;
          addr += Math.floor(adj / lineRange) * minInst;
          line += lineBase + (adj % lineRange);
          row();
          continue;
        }
        switch (op) {
          case 0: {
            const n = u.uleb();
            const start = u.off;
            if (n === 0) break;
            const sub = u.u8();
            if (sub === 1) { row(); seq = null; addr = 0; line = 1; section = ''; }
            else if (sub === 2) {
              const at = u.off;
              const v = u.uN(n - 1);
              const sym = rels.get(at);
              const s = sym !== undefined ? elf.symbols[sym] : undefined;
              const target = s ? elf.sections[s.shndx] : undefined;
              section = target?.name ?? '';
              addr = v + (s && s.type !== 3 ? s.value : 0); // REL: the addend is in place; STT_SECTION has value 0
            }
            u.off = start + n;
            break;
          }
          case 1: row(); break;
          case 2: addr += u.uleb() * minInst; break;
          case 3: line += u.sleb(); break;
          case 4: case 5: case 12: u.uleb(); break;
          case 6: case 7: case 10: case 11: break;
          case 8: addr += Math.floor((255 - opcodeBase) / lineRange) * minInst; break;
          case 9: addr += u.u16(); break;
          default: for (let i = 0; i < (stdLens[op - 1] ?? 0); i++) u.uleb();
        }
      }
      unit = end;
    }
  } catch (e) {
    if (e instanceof Bad) return `.debug_line: ${e.message}`;
    throw e;
  }
  return out;
}

