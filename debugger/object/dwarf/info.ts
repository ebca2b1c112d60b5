// .debug_info and .debug_abbrev: compilation units and their trees of DIEs, with attribute values
// decoded (strings from .debug_str/.debug_line_str through .debug_str_offsets, addresses through
// .debug_addr, references made absolute). DWARF 4 and 5, 32- and 64-bit.
import { AT, FORM } from './consts';
import { type Addr, Cursor, type DebugSection, type DebugSections } from './reader';

export type AttrValue =
  | { k: 'num'; v: number } // unsigned constants, flags, offsets into other sections
  | { k: 'sdata'; v: number } // signed constants (sdata, implicit_const)
  | { k: 'big'; v: bigint } // an 8-byte constant beyond 2^53
  | { k: 'str'; v: string }
  | { k: 'ref'; v: number } // absolute offset in .debug_info
  | { k: 'addr'; v: Addr }
  | { k: 'block'; v: Uint8Array } // exprloc and blocks
  | { k: 'loclistx' | 'rnglistx'; v: number }
  | { k: 'strx' | 'addrx'; v: number }; // until the unit's bases are known

export interface Attr { at: number; form: number; value: AttrValue }

export interface Die {
  off: number;
  tag: number;
  attrs: Attr[];
  children: Die[];
  parent: Die | null;
  unit: Unit;
}

export interface Unit {
  off: number;
  version: number;
  offSize: 4 | 8;
  addrSize: number;
  root: Die;
  strOffsetsBase: number;
  addrBase: number;
  rnglistsBase: number;
  loclistsBase: number;
  /** Address the unit's lists and ranges are relative to (DW_AT_low_pc of the unit). */
  base: Addr;
}

interface Abbrev { tag: number; children: boolean; specs: { at: number; form: number; implicit?: number }[] }

function readAbbrevs(sec: DebugSection, off: number): Map<number, Abbrev> {
  const c = sec.cursor(off);
  const out = new Map<number, Abbrev>();
  for (;;) {
    const code = c.uleb();
    if (code === 0) return out;
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const specs: Abbrev['specs'] = [];
    for (;;) {
      const at = c.uleb();
      const form = c.uleb();
      if (at === 0 && form === 0) break;
      specs.push(form === FORM.implicit_const ? { at, form, implicit: c.sleb() } : { at, form });
    }
    out.set(code, { tag, children, specs });
  }
}

export function attr(d: Die, at: number): AttrValue | undefined {
  for (const a of d.attrs) if (a.at === at) return a.value;
  return undefined;
}
export function attrNum(d: Die, at: number): number | undefined {
  const v = attr(d, at);
  return v && (v.k === 'num' || v.k === 'sdata') ? v.v : undefined;
}
export function attrStr(d: Die, at: number): string | undefined {
  const v = attr(d, at);
  return v?.k === 'str' ? v.v : undefined;
}
export function attrRef(d: Die, at: number): number | undefined {
  const v = attr(d, at);
  return v?.k === 'ref' ? v.v : undefined;
}
export function flag(d: Die, at: number): boolean {
  const v = attr(d, at);
  return !!v && v.k === 'num' && v.v !== 0;
}

/** Every unit of .debug_info, with the DIE index by offset. */
export function readUnits(s: DebugSections): { units: Unit[]; dies: Map<number, Die> } {
  const info = s.need('.debug_info');
  const abbrevSec = s.need('.debug_abbrev');
  const units: Unit[] = [];
  const dies = new Map<number, Die>();
  const abbrevCache = new Map<number, Map<number, Abbrev>>();
  let uoff = 0;
  while (uoff < info.data.length) {
    const h = info.cursor(uoff);
    const [len, offSize] = h.initialLength();
    const end = h.off + len;
    if (end > info.data.length) h.fail(`unit length ${len} runs past the end of the section`, uoff);
    const c = info.cursor(h.off, end);
    const version = c.u16();
    if (version < 2 || version > 5) c.fail(`DWARF version ${version} is not supported (2..5)`);
    let abbrOff: number, addrSize: number;
    if (version >= 5) {
      const ut = c.u8();
      addrSize = c.u8();
      abbrOff = c.uN(offSize);
      if (ut === 2 || ut === 6) { c.bytes(8); c.uN(offSize); } else if (ut === 4 || ut === 5) c.bytes(8);
    } else {
      abbrOff = c.uN(offSize);
      addrSize = c.u8();
    }
    if (addrSize !== 8 && addrSize !== 4) c.fail(`address size ${addrSize}`);
    let abbrevs = abbrevCache.get(abbrOff);
    if (!abbrevs) { abbrevs = readAbbrevs(abbrevSec, abbrOff); abbrevCache.set(abbrOff, abbrevs); }
    const unit = { off: uoff, version, offSize, addrSize, strOffsetsBase: 8, addrBase: 8, rnglistsBase: 0, loclistsBase: 0, base: { sec: -1, off: 0 } } as Unit;
    const stack: Die[] = [];
    let root: Die | null = null;
    const unitDies: Die[] = [];
    while (c.off < end) {
      const doff = c.off;
      const code = c.uleb();
      if (code === 0) { stack.pop(); if (!stack.length && root) break; continue; }
      const ab = abbrevs.get(code);
      if (!ab) return c.fail(`abbreviation code ${code} is not in .debug_abbrev at 0x${abbrOff.toString(16)}`, doff);
      const die: Die = { off: doff, tag: ab.tag, attrs: [], children: [], parent: stack[stack.length - 1] ?? null, unit };
      for (const sp of ab.specs) die.attrs.push({ at: sp.at, form: sp.form, value: readForm(c, sp.form, sp.implicit, unit, uoff, s) });
      die.parent?.children.push(die);
      if (!root) root = die;
      dies.set(doff, die);
      unitDies.push(die);
      if (ab.children) stack.push(die);
      else if (!stack.length) break;
    }
    if (!root) return c.fail('unit without a DIE', uoff);
    unit.root = root;
    const num = (at: number) => attrNum(root, at);
    unit.strOffsetsBase = num(AT.str_offsets_base!) ?? 8;
    unit.addrBase = num(AT.addr_base!) ?? num(AT.GNU_addr_base!) ?? 8;
    unit.rnglistsBase = num(AT.rnglists_base!) ?? 0;
    unit.loclistsBase = num(AT.loclists_base!) ?? 0;
    for (const d of unitDies) for (const a of d.attrs) a.value = resolveIndexed(s, unit, a.value);
    const lo = attr(root, AT.low_pc!);
    if (lo?.k === 'addr') unit.base = lo.v;
    units.push(unit);
    uoff = end;
  }
  return { units, dies };
}

function readForm(c: Cursor, form: number, implicit: number | undefined, u: Unit, uoff: number, s: DebugSections): AttrValue {
  switch (form) {
    case FORM.addr: return { k: 'addr', v: c.addr(u.addrSize) };
    case FORM.data1: return { k: 'num', v: c.u8() };
    case FORM.data2: return { k: 'num', v: c.u16() };
    case FORM.data4: return { k: 'num', v: c.u32() };
    case FORM.data8: { const v = c.u64(); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? { k: 'num', v: Number(v) } : { k: 'big', v }; }
    case FORM.data16: return { k: 'block', v: c.bytes(16) };
    case FORM.sdata: { const v = c.slebBig(); return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? { k: 'sdata', v: Number(v) } : { k: 'big', v }; }
    case FORM.udata: { const v = c.ulebBig(); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? { k: 'num', v: Number(v) } : { k: 'big', v }; }
    case FORM.implicit_const: return { k: 'sdata', v: implicit ?? 0 };
    case FORM.flag: return { k: 'num', v: c.u8() };
    case FORM.flag_present: return { k: 'num', v: 1 };
    case FORM.string: return { k: 'str', v: c.cstr() };
    case FORM.strp: case FORM.line_strp: {
      const name = form === FORM.strp ? '.debug_str' : '.debug_line_str';
      return { k: 'str', v: strAt(s, c, name, c.uN(u.offSize)) };
    }
    case FORM.strx: return { k: 'strx', v: c.uleb() };
    case FORM.strx1: return { k: 'strx', v: c.u8() };
    case FORM.strx2: return { k: 'strx', v: c.u16() };
    case FORM.strx3: return { k: 'strx', v: c.u24() };
    case FORM.strx4: return { k: 'strx', v: c.u32() };
    case FORM.addrx: return { k: 'addrx', v: c.uleb() };
    case FORM.addrx1: return { k: 'addrx', v: c.u8() };
    case FORM.addrx2: return { k: 'addrx', v: c.u16() };
    case FORM.addrx3: return { k: 'addrx', v: c.u24() };
    case FORM.addrx4: return { k: 'addrx', v: c.u32() };
    case FORM.ref1: return { k: 'ref', v: uoff + c.u8() };
    case FORM.ref2: return { k: 'ref', v: uoff + c.u16() };
    case FORM.ref4: return { k: 'ref', v: uoff + c.u32() };
    case FORM.ref8: return { k: 'ref', v: uoff + c.uN(8) };
    case FORM.ref_udata: return { k: 'ref', v: uoff + c.uleb() };
    case FORM.ref_addr: return { k: 'ref', v: c.uN(u.version <= 2 ? u.addrSize : u.offSize) };
    case FORM.ref_sig8: c.bytes(8); return { k: 'num', v: 0 };
    case FORM.sec_offset: return { k: 'num', v: c.uN(u.offSize) };
    case FORM.exprloc: case FORM.block: return { k: 'block', v: c.bytes(c.uleb()) };
    case FORM.block1: return { k: 'block', v: c.bytes(c.u8()) };
    case FORM.block2: return { k: 'block', v: c.bytes(c.u16()) };
    case FORM.block4: return { k: 'block', v: c.bytes(c.u32()) };
    case FORM.loclistx: return { k: 'loclistx', v: c.uleb() };
    case FORM.rnglistx: return { k: 'rnglistx', v: c.uleb() };
    case FORM.indirect: return readForm(c, c.uleb(), implicit, u, uoff, s);
    case FORM.ref_sup4: return { k: 'num', v: c.u32() };
    case FORM.ref_sup8: case FORM.strp_sup: return { k: 'num', v: c.uN(u.offSize) };
    default: return c.fail(`attribute form 0x${form.toString(16)} is not known`);
  }
}

function strAt(s: DebugSections, c: Cursor, name: string, off: number): string {
  const sec = s.get(name);
  if (!sec) return c.fail(`a string in ${name}, which the object lacks`);
  const r = sec.cursor(off);
  return r.cstr();
}

function resolveIndexed(s: DebugSections, u: Unit, v: AttrValue): AttrValue {
  if (v.k === 'strx') {
    const so = s.need('.debug_str_offsets');
    const c = so.cursor(u.strOffsetsBase + v.v * u.offSize);
    const off = c.uN(u.offSize);
    return { k: 'str', v: s.need('.debug_str').cursor(off).cstr() };
  }
  if (v.k === 'addrx') return { k: 'addr', v: addrx(s, u, v.v) };
  return v;
}

/** Entry `i` of the unit's .debug_addr table. */
export function addrx(s: DebugSections, u: Unit, i: number): Addr {
  const sec = s.need('.debug_addr');
  return sec.cursor(u.addrBase + i * u.addrSize).addr(u.addrSize);
}

