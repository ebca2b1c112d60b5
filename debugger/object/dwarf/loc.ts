// Address ranges (DW_AT_low_pc/high_pc, DW_AT_ranges: .debug_rnglists or .debug_ranges) and
// location descriptions (an expression, or a list in .debug_loclists or .debug_loc), plus the
// decoding of DWARF expressions into operations.
import { AT, OP, opName } from './consts';
import { attr, addrx, type Die, type Unit } from './info';
import { type Addr, Cursor, type DebugSections, DebugSection } from './reader';

/** [lo, hi) byte offsets inside ELF section `sec`. */
export interface Range { sec: number; lo: number; hi: number }

/** Where a location expression holds: a range, or everywhere (a plain expression, or a default entry). */
export interface LocEntry { range: Range | null; expr: Uint8Array }

/** The ranges of a DIE (subprogram, lexical block, inlined subroutine, unit); [] when it has none. */
export function dieRanges(s: DebugSections, d: Die): Range[] {
  const u = d.unit;
  const lo = attr(d, AT.low_pc!);
  const hi = attr(d, AT.high_pc!);
  if (lo?.k === 'addr' && hi) {
    if (hi.k === 'addr') return [{ sec: lo.v.sec, lo: lo.v.off, hi: hi.v.off }];
    if (hi.k === 'num') return [{ sec: lo.v.sec, lo: lo.v.off, hi: lo.v.off + hi.v }];
  }
  const r = attr(d, AT.ranges!);
  if (!r) return [];
  if (u.version >= 5) {
    const sec = s.need('.debug_rnglists');
    let off: number;
    if (r.k === 'rnglistx') off = listOffset(sec, u.rnglistsBase, r.v, u.offSize);
    else if (r.k === 'num') off = r.v;
    else return [];
    return rnglist(s, u, sec.cursor(off));
  }
  if (r.k !== 'num') return [];
  return rangesV4(s.need('.debug_ranges').cursor(r.v), u);
}

/** DW_FORM_rnglistx / DW_FORM_loclistx: the list's offset from the unit's offsets table at `base`
 *  (DWARF 5 §7.28-7.29: entries are relative to the table's base). */
function listOffset(sec: ReturnType<DebugSections['need']>, base: number, index: number, offSize: number): number {
  return base + sec.cursor(base + index * offSize).uN(offSize);
}

function rnglist(s: DebugSections, u: Unit, c: Cursor): Range[] {
  const out: Range[] = [];
  let base: Addr = u.base;
  for (let n = 0; n < 1 << 16; n++) {
    const kind = c.u8();
    switch (kind) {
      case 0: return out; // DW_RLE_end_of_list
      case 1: base = addrx(s, u, c.uleb()); break; // base_addressx
      case 2: { const a = addrx(s, u, c.uleb()); const b = addrx(s, u, c.uleb()); out.push({ sec: a.sec, lo: a.off, hi: b.off }); break; }
      case 3: { const a = addrx(s, u, c.uleb()); out.push({ sec: a.sec, lo: a.off, hi: a.off + c.uleb() }); break; }
      case 4: { const a = c.uleb(); const b = c.uleb(); out.push({ sec: base.sec, lo: base.off + a, hi: base.off + b }); break; }
      case 5: base = c.addr(u.addrSize); break;
      case 6: { const a = c.addr(u.addrSize); const b = c.addr(u.addrSize); out.push({ sec: a.sec, lo: a.off, hi: b.off }); break; }
      case 7: { const a = c.addr(u.addrSize); out.push({ sec: a.sec, lo: a.off, hi: a.off + c.uleb() }); break; }
      default: c.fail(`unknown range list entry kind ${kind}`);
    }
  }
  return c.fail('range list without its end');
}

function rangesV4(c: Cursor, u: Unit): Range[] {
  const out: Range[] = [];
  let base: Addr = u.base;
  for (let n = 0; n < 1 << 16; n++) {
    const a = c.addrOrBase(u.addrSize);
    const b = c.addr(u.addrSize);
    if (!a) { base = b; continue; }
    if (a.off === 0 && b.off === 0 && a.sec < 0 && b.sec < 0) return out;
    out.push(a.sec >= 0 ? { sec: a.sec, lo: a.off, hi: b.off } : { sec: base.sec, lo: base.off + a.off, hi: base.off + b.off });
  }
  return c.fail('range list without its end');
}

/** The location of a variable or parameter: entries by range, [] when it has none (optimized out). */
export function dieLocation(s: DebugSections, d: Die, at = AT.location!): LocEntry[] {
  const v = attr(d, at);
  if (!v) return [];
  const u = d.unit;
  if (v.k === 'block') return [{ range: null, expr: v.v }];
  if (u.version >= 5) {
    const sec = s.need('.debug_loclists');
    let off: number;
    if (v.k === 'loclistx') off = listOffset(sec, u.loclistsBase, v.v, u.offSize);
    else if (v.k === 'num') off = v.v;
    else return [];
    return loclist(s, u, sec.cursor(off));
  }
  if (v.k !== 'num') return [];
  return locV4(s.need('.debug_loc').cursor(v.v), u);
}

function loclist(s: DebugSections, u: Unit, c: Cursor): LocEntry[] {
  const out: LocEntry[] = [];
  let base: Addr = u.base;
  const expr = () => c.bytes(c.uleb());
  for (let n = 0; n < 1 << 16; n++) {
    const kind = c.u8();
    switch (kind) {
      case 0: return out; // DW_LLE_end_of_list
      case 1: base = addrx(s, u, c.uleb()); break;
      case 2: { const a = addrx(s, u, c.uleb()); const b = addrx(s, u, c.uleb()); out.push({ range: { sec: a.sec, lo: a.off, hi: b.off }, expr: expr() }); break; }
      case 3: { const a = addrx(s, u, c.uleb()); const len = c.uleb(); out.push({ range: { sec: a.sec, lo: a.off, hi: a.off + len }, expr: expr() }); break; }
      case 4: { const a = c.uleb(); const b = c.uleb(); out.push({ range: { sec: base.sec, lo: base.off + a, hi: base.off + b }, expr: expr() }); break; }
      case 5: out.push({ range: null, expr: expr() }); break; // default_location
      case 6: base = c.addr(u.addrSize); break;
      case 7: { const a = c.addr(u.addrSize); const b = c.addr(u.addrSize); out.push({ range: { sec: a.sec, lo: a.off, hi: b.off }, expr: expr() }); break; }
      case 8: { const a = c.addr(u.addrSize); const len = c.uleb(); out.push({ range: { sec: a.sec, lo: a.off, hi: a.off + len }, expr: expr() }); break; }
      default: c.fail(`unknown location list entry kind ${kind}`);
    }
  }
  return c.fail('location list without its end');
}

function locV4(c: Cursor, u: Unit): LocEntry[] {
  const out: LocEntry[] = [];
  let base: Addr = u.base;
  for (let n = 0; n < 1 << 16; n++) {
    const a = c.addrOrBase(u.addrSize);
    const b = c.addr(u.addrSize);
    if (!a) { base = b; continue; }
    if (a.off === 0 && b.off === 0 && a.sec < 0 && b.sec < 0) return out;
    const range = a.sec >= 0 ? { sec: a.sec, lo: a.off, hi: b.off } : { sec: base.sec, lo: base.off + a.off, hi: base.off + b.off };
    out.push({ range, expr: c.bytes(c.u16()) });
  }
  return c.fail('location list without its end');
}

/** One decoded DWARF operation: its opcode and operands (addresses keep their section). */
export interface Op { op: number; args: (bigint | Addr)[] }

/** Decode an expression; `u` resolves DW_OP_addrx/constx. */
export function decodeExpr(s: DebugSections, u: Unit, bytes: Uint8Array): Op[] {
  const sec = new DebugSection('DWARF expression', bytes);
  const c = new Cursor(sec, 0, bytes.length);
  const out: Op[] = [];
  const big = (n: number) => BigInt(n);
  while (!c.done) {
    const op = c.u8();
    const args: (bigint | Addr)[] = [];
    if (op >= 0x70 && op <= 0x8f) args.push(c.slebBig()); // bregN
    else switch (op) {
      case OP.addr: args.push(c.addr(u.addrSize)); break;
      case OP.const1u: args.push(big(c.u8())); break;
      case OP.const1s: args.push(big(c.i8())); break;
      case OP.const2u: args.push(big(c.u16())); break;
      case OP.const2s: args.push(big((c.u16() << 16) >> 16)); break;
      case OP.const4u: args.push(big(c.u32())); break;
      case OP.const4s: args.push(big(c.u32() | 0)); break;
      case OP.const8u: args.push(c.u64()); break;
      case OP.const8s: args.push(BigInt.asIntN(64, c.u64())); break;
      case OP.constu: case OP.plus_uconst: case OP.regx: case OP.piece: case OP.convert: case OP.reinterpret:
        args.push(c.ulebBig()); break;
      case OP.consts: case OP.fbreg: args.push(c.slebBig()); break;
      case OP.bregx: args.push(c.ulebBig(), c.slebBig()); break;
      case OP.bit_piece: args.push(c.ulebBig(), c.ulebBig()); break;
      case OP.pick: case OP.deref_size: args.push(big(c.u8())); break;
      case OP.skip: case OP.bra: args.push(big((c.u16() << 16) >> 16)); break;
      case OP.addrx: case OP.constx: { const i = c.uleb(); args.push(big(i), addrx(s, u, i)); break; }
      case OP.implicit_value: { const n = c.uleb(); const b = c.bytes(n); let v = 0n; for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | big(b[i]!); args.push(v, big(n)); break; }
      case OP.entry_value: case OP.GNU_entry_value: { const n = c.uleb(); c.bytes(n); args.push(big(n)); break; }
      case OP.regval_type: args.push(c.ulebBig(), c.ulebBig()); break;
      case OP.deref_type: args.push(big(c.u8()), c.ulebBig()); break;
      case OP.const_type: { args.push(c.ulebBig()); const n = c.u8(); c.bytes(n); break; }
      case OP.implicit_pointer: args.push(big(c.uN(u.offSize)), c.slebBig()); break;
      default:
        if (!((op >= 0x06 && op <= 0x2e && op !== OP.addr) || (op >= 0x30 && op <= 0x6f) || op === OP.nop || op === OP.stack_value || op === OP.call_frame_cfa)) {
          c.fail(`DWARF operation 0x${op.toString(16)} is not known`);
        }
    }
    out.push({ op, args });
  }
  return out;
}

/** An expression as llvm-dwarfdump prints it: 'DW_OP_breg10 W10+16', 'DW_OP_consts +0, DW_OP_stack_value'. */
export function exprText(ops: Op[]): string {
  const sgn = (v: bigint) => (v < 0n ? `${v}` : `+${v}`);
  return ops.map(({ op, args }) => {
    const name = opName(op);
    if (op >= 0x50 && op <= 0x6f) return `${name} W${op - 0x50}`;
    if (op >= 0x70 && op <= 0x8f) return `${name} W${op - 0x70}${sgn(args[0] as bigint)}`;
    if (op === OP.consts || op === OP.fbreg) return `${name} ${sgn(args[0] as bigint)}`;
    if (op === OP.constu || op === OP.plus_uconst || op === OP.piece) return `${name} 0x${(args[0] as bigint).toString(16)}`;
    if (op === OP.convert) return `${name} (0x${(args[0] as bigint).toString(16).padStart(8, '0')})`;
    if (op === OP.addrx || op === OP.constx) return `${name} 0x${(args[0] as bigint).toString(16)}`;
    if (op === OP.addr) return `${name} 0x${(args[0] as Addr).off.toString(16)}`;
    return args.length ? `${name} ${args.map((a) => (typeof a === 'bigint' ? `0x${a.toString(16)}` : `0x${a.off.toString(16)}`)).join(' ')}` : name;
  }).join(', ');
}

