// What a debugger needs from DWARF, built from the DIE trees: C types, and per code section the
// scopes (subprograms, lexical blocks, inlined subroutines with their call sites) with the
// parameters and variables declared in each and where they live (location lists), plus globals.
import { AT, ATE, TAG } from './consts';
import { attr, attrNum, attrRef, attrStr, type Die, flag } from './info';
import { decodeExpr, dieLocation, dieRanges, type Op, type Range } from './loc';
import type { Addr, DebugSections } from './reader';

export type CType =
  | { kind: 'void' }
  | { kind: 'base'; name: string; size: number; signed: boolean; bool: boolean; float: boolean; char: boolean }
  | { kind: 'pointer'; to: CType; size: number }
  | { kind: 'struct' | 'union'; name: string; size: number; members: CMember[]; incomplete: boolean }
  | { kind: 'array'; elem: CType; count: number } // count -1: unknown ([])
  | { kind: 'enum'; name: string; size: number; signed: boolean; values: { name: string; value: bigint }[] }
  | { kind: 'typedef'; name: string; to: CType }
  | { kind: 'qual'; qual: 'const' | 'volatile' | 'restrict' | 'atomic'; to: CType }
  | { kind: 'func'; ret: CType };

/** A struct or union member: byte offset, and for a bit field its size and offset in bits from the member's start. */
export interface CMember { name: string; type: CType; offset: number; bitSize?: number; bitOffset?: number }

/** A location expression and where it holds (null: everywhere the scope is). */
export interface VarLoc { range: Range | null; ops: Op[] }

export interface DVar {
  name: string;
  param: boolean;
  type: CType;
  /** [] when the variable has no location anywhere (optimized out). */
  locs: VarLoc[];
  constValue?: bigint;
  line?: number;
  /** .debug_info offset of the DIE (tests compare with llvm-dwarfdump). */
  off: number;
}

export interface DScope {
  kind: 'subprogram' | 'lexical_block' | 'inlined_subroutine';
  /** The function's name (inlined: of the function inlined). */
  name: string;
  ranges: Range[];
  vars: DVar[];
  children: DScope[];
  parent: DScope | null;
  /** An inlined subroutine: the line and column of the call in its caller. */
  callLine?: number;
  callColumn?: number;
  line?: number;
  off: number;
}

export interface DGlobal { name: string; type: CType; addr: Addr; line?: number; off: number }

/** Strip typedefs and qualifiers. */
export function stripType(t: CType): CType {
  let x = t;
  for (let i = 0; i < 64 && (x.kind === 'typedef' || x.kind === 'qual'); i++) x = x.to;
  return x;
}

export function sizeOf(t: CType): number {
  const s = stripType(t);
  switch (s.kind) {
    case 'base': case 'enum': case 'struct': case 'union': return s.size;
    case 'pointer': return s.size;
    case 'array': return s.count < 0 ? 0 : s.count * sizeOf(s.elem);
    default: return 0;
  }
}

/** C spelling: 'const struct autolowat_state *', '__u8[8]', 'char *const'. */
export function typeName(t: CType, decl = '', depth = 0): string {
  const join = (base: string) => (decl ? `${base}${decl.startsWith('[') ? '' : ' '}${decl}` : base);
  if (depth > 64) return '?';
  switch (t.kind) {
    case 'void': return join('void');
    case 'base': case 'typedef': return join(t.name);
    case 'struct': case 'union': return join(`${t.kind} ${t.name || '(anonymous)'}`);
    case 'enum': return join(`enum ${t.name || '(anonymous)'}`);
    case 'pointer': return typeName(t.to, `*${decl}`, depth + 1);
    case 'qual':
      // a qualifier of the pointer itself goes after its star: char *const
      if (t.to.kind === 'pointer') return typeName(t.to.to, `*${t.qual}${decl ? ` ${decl}` : ''}`, depth + 1);
      return `${t.qual} ${typeName(t.to, decl, depth + 1)}`;
    case 'array': {
      const d = decl.startsWith('*') ? `(${decl})` : decl;
      return typeName(t.elem, `${d}[${t.count < 0 ? '' : t.count}]`, depth + 1);
    }
    case 'func': return join(`${typeName(t.ret)} ()`);
  }
}

const SCOPE_TAGS = new Map<number, DScope['kind']>([[TAG.subprogram!, 'subprogram'], [TAG.lexical_block!, 'lexical_block'], [TAG.inlined_subroutine!, 'inlined_subroutine']]);

export class DwarfModel {
  private types = new Map<number, CType>();
  /** Top-level subprograms with code, per ELF section index. */
  readonly functions: DScope[] = [];
  readonly globals: DGlobal[] = [];
  /** Named types (struct/union/enum/typedef/base) for casts, first definition wins. */
  readonly namedTypes = new Map<string, CType>();

  constructor(private readonly s: DebugSections, private readonly dies: Map<number, Die>, roots: Die[]) {
    for (const root of roots) {
      for (const d of root.children) {
        if (d.tag === TAG.subprogram) {
          const sc = this.scope(d, null);
          if (sc && sc.ranges.length) this.functions.push(sc);
        } else if (d.tag === TAG.variable) {
          const g = this.global(d);
          if (g) this.globals.push(g);
        } else this.noteNamed(d);
      }
    }
  }

  private noteNamed(d: Die) {
    const name = attrStr(d, AT.name!);
    if (!name || flag(d, AT.declaration!)) return;
    const key = d.tag === TAG.structure_type ? `struct ${name}` : d.tag === TAG.union_type ? `union ${name}` : d.tag === TAG.enumeration_type ? `enum ${name}` : d.tag === TAG.typedef || d.tag === TAG.base_type ? name : null;
    if (key && !this.namedTypes.has(key)) this.namedTypes.set(key, this.type(d.off));
  }

  private origin(d: Die): Die {
    let x = d;
    for (let i = 0; i < 8; i++) {
      const r = attrRef(x, AT.abstract_origin!) ?? attrRef(x, AT.specification!);
      const o = r !== undefined ? this.dies.get(r) : undefined;
      if (!o) break;
      x = o;
    }
    return x;
  }

  private scope(d: Die, parent: DScope | null): DScope | null {
    const kind = SCOPE_TAGS.get(d.tag);
    if (!kind) return null;
    // an abstract instance (DW_AT_inline, no code) is reached only through its concrete ones
    const o = this.origin(d);
    const sc: DScope = {
      kind, name: attrStr(o, AT.name!) ?? '', ranges: dieRanges(this.s, d), vars: [], children: [], parent,
      line: attrNum(o, AT.decl_line!), off: d.off,
    };
    if (kind === 'inlined_subroutine') { sc.callLine = attrNum(d, AT.call_line!); sc.callColumn = attrNum(d, AT.call_column!); }
    if (kind === 'lexical_block' && parent) sc.name = parent.name;
    const seen = new Set<number>();
    for (const c of d.children) {
      if (c.tag === TAG.formal_parameter || c.tag === TAG.variable) {
        const v = this.variable(c, c.tag === TAG.formal_parameter);
        if (v) { sc.vars.push(v); const r = attrRef(c, AT.abstract_origin!); if (r !== undefined) seen.add(r); }
      } else if (SCOPE_TAGS.has(c.tag)) {
        const ch = this.scope(c, sc);
        if (ch) sc.children.push(ch);
      } else this.noteNamed(c);
    }
    // variables of the abstract instance with no concrete DIE here: optimized out
    if (o !== d) {
      for (const c of o.children) {
        if ((c.tag === TAG.formal_parameter || c.tag === TAG.variable) && !seen.has(c.off)) {
          const v = this.variable(c, c.tag === TAG.formal_parameter);
          if (v) { v.locs = []; sc.vars.push(v); }
        }
      }
    }
    return sc;
  }

  private variable(d: Die, param: boolean): DVar | null {
    const o = this.origin(d);
    const name = attrStr(o, AT.name!);
    if (!name) return null;
    const tref = attrRef(o, AT.type!);
    const v: DVar = { name, param, type: tref !== undefined ? this.type(tref) : { kind: 'void' }, locs: [], line: attrNum(o, AT.decl_line!), off: d.off };
    for (const e of dieLocation(this.s, d)) v.locs.push({ range: e.range, ops: decodeExpr(this.s, d.unit, e.expr) });
    const cv = attr(d, AT.const_value!);
    if (cv && (cv.k === 'num' || cv.k === 'sdata')) v.constValue = BigInt(cv.v);
    else if (cv?.k === 'big') v.constValue = cv.v;
    return v;
  }

  private global(d: Die): DGlobal | null {
    const o = this.origin(d);
    const name = attrStr(o, AT.name!);
    const loc = dieLocation(this.s, d);
    if (!name || loc.length !== 1) return null;
    const ops = decodeExpr(this.s, d.unit, loc[0]!.expr);
    const a = ops.length === 1 ? ops[0]!.args[ops[0]!.args.length - 1] : undefined;
    if (!a || typeof a === 'bigint' || a.sec < 0) return null;
    const tref = attrRef(o, AT.type!);
    return { name, type: tref !== undefined ? this.type(tref) : { kind: 'void' }, addr: a, line: attrNum(o, AT.decl_line!), off: d.off };
  }

  /** The C type of the DIE at `off` (built once; recursive types share their nodes). */
  type(off: number): CType {
    const got = this.types.get(off);
    if (got) return got;
    const d = this.dies.get(off);
    if (!d) return { kind: 'void' };
    const name = attrStr(d, AT.name!) ?? '';
    const size = attrNum(d, AT.byte_size!) ?? 0;
    const sub = () => { const r = attrRef(d, AT.type!); return r !== undefined ? this.type(r) : { kind: 'void' } as CType; };
    switch (d.tag) {
      case TAG.base_type: {
        const enc = attrNum(d, AT.encoding!) ?? ATE.unsigned;
        const t: CType = { kind: 'base', name, size, signed: enc === ATE.signed || enc === ATE.signed_char, bool: enc === ATE.boolean, float: enc === ATE.float, char: enc === ATE.signed_char || enc === ATE.unsigned_char };
        this.types.set(off, t);
        return t;
      }
      case TAG.pointer_type: {
        const t = { kind: 'pointer', to: { kind: 'void' }, size: size || 8 } as { kind: 'pointer'; to: CType; size: number };
        this.types.set(off, t);
        t.to = sub();
        return t;
      }
      case TAG.structure_type: case TAG.union_type: {
        const t = { kind: d.tag === TAG.structure_type ? 'struct' : 'union', name, size, members: [] as CMember[], incomplete: flag(d, AT.declaration!) } as Extract<CType, { kind: 'struct' | 'union' }>;
        this.types.set(off, t);
        for (const m of d.children) {
          if (m.tag !== TAG.member) continue;
          const mt = attrRef(m, AT.type!);
          const mem: CMember = { name: attrStr(m, AT.name!) ?? '', type: mt !== undefined ? this.type(mt) : { kind: 'void' }, offset: attrNum(m, AT.data_member_location!) ?? 0 };
          const bits = attrNum(m, AT.bit_size!);
          if (bits !== undefined) {
            const dbo = attrNum(m, AT.data_bit_offset!);
            if (dbo !== undefined) { mem.offset = Math.floor(dbo / 8); mem.bitOffset = dbo % 8; } else {
              // DWARF 2/3 bit_offset counts from the most significant bit of the storage unit
              const bo = attrNum(m, AT.bit_offset!) ?? 0;
              const unit = attrNum(m, AT.byte_size!) ?? sizeOf(mem.type);
              mem.bitOffset = unit * 8 - bo - bits;
            }
            mem.bitSize = bits;
          }
          t.members.push(mem);
        }
        return t;
      }
      case TAG.array_type: {
        const dims: number[] = [];
        for (const r of d.children) {
          if (r.tag !== TAG.subrange_type) continue;
          const count = attrNum(r, AT.count!);
          const ub = attrNum(r, AT.upper_bound!);
          const lb = attrNum(r, AT.lower_bound!) ?? 0;
          dims.push(count ?? (ub !== undefined ? ub - lb + 1 : -1));
        }
        let t: CType = sub();
        for (let i = dims.length - 1; i >= 0; i--) t = { kind: 'array', elem: t, count: dims[i]! };
        if (!dims.length) t = { kind: 'array', elem: t, count: -1 };
        this.types.set(off, t);
        return t;
      }
      case TAG.enumeration_type: {
        const values = d.children.filter((c) => c.tag === TAG.enumerator).map((c) => {
          const v = attr(c, AT.const_value!);
          return { name: attrStr(c, AT.name!) ?? '', value: v?.k === 'big' ? v.v : BigInt(v && (v.k === 'num' || v.k === 'sdata') ? v.v : 0) };
        });
        const under = attrRef(d, AT.type!);
        const signed = under !== undefined ? (() => { const u = stripType(this.type(under)); return u.kind === 'base' && u.signed; })() : values.some((v) => v.value < 0n);
        const t: CType = { kind: 'enum', name, size: size || 4, signed, values };
        this.types.set(off, t);
        return t;
      }
      case TAG.typedef: {
        const t = { kind: 'typedef', name, to: { kind: 'void' } } as { kind: 'typedef'; name: string; to: CType };
        this.types.set(off, t);
        t.to = sub();
        return t;
      }
      case TAG.const_type: case TAG.volatile_type: case TAG.restrict_type: case TAG.atomic_type: {
        const qual = d.tag === TAG.const_type ? 'const' : d.tag === TAG.volatile_type ? 'volatile' : d.tag === TAG.restrict_type ? 'restrict' : 'atomic';
        const t = { kind: 'qual', qual, to: { kind: 'void' } } as { kind: 'qual'; qual: 'const'; to: CType };
        this.types.set(off, t);
        t.to = sub();
        return t;
      }
      case TAG.subroutine_type: {
        const t = { kind: 'func', ret: { kind: 'void' } } as { kind: 'func'; ret: CType };
        this.types.set(off, t);
        t.ret = sub();
        return t;
      }
      default: {
        const t: CType = { kind: 'void' };
        this.types.set(off, t);
        return t;
      }
    }
  }

  /** The scopes containing byte offset `off` of section `sec`, outermost (the subprogram) first. */
  scopesAt(sec: number, off: number): DScope[] {
    const inR = (sc: DScope) => sc.ranges.some((r) => r.sec === sec && off >= r.lo && off < r.hi);
    const fn = this.functions.find(inR);
    if (!fn) return [];
    const out = [fn];
    for (let cur = fn; ;) {
      const next = cur.children.find(inR);
      if (!next) return out;
      out.push(next);
      cur = next;
    }
  }
}
