// C variables at a stop, from DWARF (../object/dwarf/): the C frames of a BPF frame (the function
// and the functions inlined into it at the pc), the parameters and variables in scope there, where
// each lives (a location list evaluated against the frame's registers and stack) and its value.
import type { BpfObject, BpfProgram } from '../object/types';
import { AT, attrNum, type DScope, type DVar, type Dwarf, OP, type Op, stripType, TAG } from '../object/dwarf/index';
import type { Addr } from '../object/dwarf/index';
import { type CType, type CValue, fromBtf, leBytes, leInt, type Mem } from '../expr/ctypes';
import { funcAt } from './lines';

/** The registers of one BPF frame as far as they are known at the stop (undefined: clobbered). */
export interface FrameRegs {
  reg(i: number): bigint | undefined;
  /** r10 of the frame. */
  fp: bigint;
  /** True for the innermost frame (its registers can be edited). */
  live: boolean;
}

/** One C function of a BPF frame: the subprogram, or a function inlined into it. */
export interface CFrame {
  name: string;
  inlined: boolean;
  /** Its scopes containing the pc: the function (or inlined instance) first, then lexical blocks. */
  scopes: DScope[];
}

export type Located = CValue | { unavailable: string };

/** Where global data lives at a stop: a guest address for section `name` (or its bytes), else null. */
export type GlobalResolver = (section: string, off: number) => { addr: bigint } | { bytes: Uint8Array } | null;

const CALL_CLOBBERED = 'is not available in a caller frame (r0-r5 do not survive the call)';

export class DebugInfo {
  private stack = new Map<string, number>();
  private secIndex = new Map<string, number>();
  readonly types = new Map<string, CType>();

  constructor(readonly dwarf: Dwarf, readonly object: BpfObject) {
    for (const s of dwarf.elf.sections) if (!this.secIndex.has(s.name)) this.secIndex.set(s.name, s.index);
    for (const [k, t] of dwarf.model.namedTypes) this.types.set(k, t);
  }

  /** A type by C name ('struct autolowat_state', '__u32'): the DWARF's, else the BTF's (types
   *  used only through CO-RE, kernel structs), for casts. */
  typeByName(name: string): CType | undefined {
    const got = this.types.get(name);
    if (got) return got;
    const btf = this.object.btf;
    if (!btf) return undefined;
    const m = /^(struct|union|enum) (\w+)$/.exec(name);
    const bt = m ? btf.types.find((x) => x?.name === m[2] && (x.kind === m[1] || (m[1] === 'enum' && x.kind === 'enum64'))) : btf.types.find((x) => x?.name === name && (x.kind === 'typedef' || x.kind === 'int'));
    if (!bt) return undefined;
    const t = fromBtf(btf, bt.id);
    this.types.set(name, t);
    return t;
  }

  /** The ELF section and byte offset of a program's pc (DWARF addresses are section offsets). */
  addrOf(prog: BpfProgram, pc: number): Addr | null {
    const f = funcAt(prog, pc);
    if (!f || f.secInsn === undefined) return null;
    const sec = this.secIndex.get(f.section);
    if (sec === undefined) return null;
    return { sec, off: (f.secInsn + pc - f.startPc) * 8 };
  }

  /**
   * The frame size of the BPF function at pc. LLVM's BPF target writes DWARF stack locations
   * (DW_OP_fbreg, DW_OP_breg10) relative to the bottom of the frame, r10 minus the frame size
   * (TargetFrameLowering::getFrameIndexReference adds the stack size to the frame-index offset,
   * while BPFRegisterInfo::eliminateFrameIndex addresses slots from r10 without it); the size is
   * not recorded anywhere, so it is taken as the deepest r10-relative slot the code uses,
   * rounded up to 8 (assumed: LLVM allocates no slot the function never touches).
   */
  stackSize(prog: BpfProgram, pc: number): number {
    const f = funcAt(prog, pc);
    const key = `${prog.name}:${f?.startPc ?? 0}`;
    let n = this.stack.get(key);
    if (n !== undefined) return n;
    n = 0;
    const lo = f?.startPc ?? 0, hi = f?.endPc ?? prog.insns.length;
    const fromR10 = new Map<number, number>(); // register -> offset from r10 it holds
    for (let i = lo; i < hi; i++) {
      const x = prog.insns[i]!;
      const cls = x.code & 7;
      if (cls === 1 && x.src === 10) n = Math.max(n, -x.off); // LDX
      if ((cls === 2 || cls === 3) && x.dst === 10) n = Math.max(n, -x.off); // ST, STX
      if ((cls === 2 || cls === 3) && fromR10.has(x.dst)) n = Math.max(n, -(fromR10.get(x.dst)! + x.off));
      if (cls === 1 && fromR10.has(x.src)) n = Math.max(n, -(fromR10.get(x.src)! + x.off));
      if (x.code === 0xbf && x.src === 10) { fromR10.set(x.dst, 0); continue; } // rX = r10
      if (x.code === 0x07 && fromR10.has(x.dst)) { const o = fromR10.get(x.dst)! + x.imm; fromR10.set(x.dst, o); n = Math.max(n, -o); continue; } // rX += imm
      if (cls === 4 || cls === 7 || cls === 1) fromR10.delete(x.dst);
      if (cls === 5 || cls === 6) fromR10.clear(); // jumps and calls end what we follow
    }
    n = Math.ceil(n / 8) * 8;
    this.stack.set(key, n);
    return n;
  }

  /** The C frames at a pc, outermost (the BPF function) first; [] when DWARF has no scope there. */
  cframes(prog: BpfProgram, pc: number): CFrame[] {
    const a = this.addrOf(prog, pc);
    if (!a) return [];
    const chain = this.dwarf.model.scopesAt(a.sec, a.off);
    const out: CFrame[] = [];
    for (const s of chain) {
      if (s.kind === 'lexical_block' && out.length) out[out.length - 1]!.scopes.push(s);
      else out.push({ name: s.name, inlined: s.kind === 'inlined_subroutine', scopes: [s] });
    }
    return out;
  }

  /** The variables of a C frame visible at the pc: inner blocks first hide outer names; parameters first. */
  visible(cf: CFrame): DVar[] {
    const seen = new Set<string>();
    const out: DVar[] = [];
    for (let i = cf.scopes.length - 1; i >= 0; i--) {
      for (const v of cf.scopes[i]!.vars) {
        if (seen.has(v.name)) continue;
        seen.add(v.name);
        out.push(v);
      }
    }
    const params = cf.scopes[0]!.vars.filter((v) => v.param).map((v) => v.name);
    out.sort((x, y) => (x.param === y.param ? (x.param ? params.indexOf(x.name) - params.indexOf(y.name) : 0) : x.param ? -1 : 1));
    return out;
  }

  /** The value of a variable at (prog, pc) in a frame with these registers. */
  locate(v: DVar, prog: BpfProgram, pc: number, regs: FrameRegs, mem: Mem, globals: GlobalResolver): Located {
    if (v.constValue !== undefined) return { type: v.type, bytes: leBytes(v.constValue, Math.max(1, sizeOfSafe(v.type))) };
    if (!v.locs.length) return { unavailable: 'is optimized out' };
    const a = this.addrOf(prog, pc);
    const loc = v.locs.find((l) => !l.range || (a && l.range.sec === a.sec && a.off >= l.range.lo && a.off < l.range.hi));
    if (!loc) return { unavailable: 'is optimized out here' };
    try {
      return this.evalLoc(loc.ops, v.type, regs, mem, this.stackSize(prog, pc), globals);
    } catch (e) {
      return { unavailable: `is not available: ${(e as Error).message}` };
    }
  }

  private evalLoc(ops: Op[], type: CType, regs: FrameRegs, mem: Mem, frame: number, globals: GlobalResolver): Located {
    const st: bigint[] = [];
    const pop = () => { const x = st.pop(); if (x === undefined) throw new Error('the DWARF expression pops an empty stack'); return x; };
    const reg = (i: number): bigint => {
      if (i === 10) return regs.fp - BigInt(frame); // frame-bottom relative (see stackSize)
      const r = regs.reg(i);
      if (r === undefined) throw new Error(`r${i} ${CALL_CLOBBERED}`);
      return r;
    };
    const size = Math.max(1, sizeOfSafe(type));
    const pieces: { bytes: Uint8Array | null }[] = [];
    let result: Located | null = null;
    let inReg: number | null = null;
    let isValue = false;
    const finishPiece = (n: number) => {
      let bytes: Uint8Array | null = null;
      if (inReg !== null) bytes = leBytes(reg(inReg), 8).subarray(0, n);
      else if (st.length) { const x = pop(); bytes = isValue ? leBytes(x, n) : mem.read(x, n); }
      pieces.push({ bytes });
      inReg = null; isValue = false; st.length = 0;
    };
    for (const { op, args } of ops) {
      const a0 = args[0] as bigint;
      if (op >= 0x50 && op <= 0x6f) { inReg = op - 0x50; continue; }
      if (op >= 0x70 && op <= 0x8f) { st.push(BigInt.asUintN(64, reg(op - 0x70) + a0)); continue; }
      if (op >= 0x30 && op <= 0x4f) { st.push(BigInt(op - 0x30)); continue; }
      switch (op) {
        case OP.fbreg: st.push(BigInt.asUintN(64, regs.fp - BigInt(frame) + a0)); break;
        case OP.regx: inReg = Number(a0); break;
        case OP.bregx: st.push(BigInt.asUintN(64, reg(Number(a0)) + (args[1] as bigint))); break;
        case OP.addr: case OP.addrx: case OP.constx: {
          const ad = (op === OP.addr ? args[0] : args[1]) as Addr;
          const secName = this.dwarf.elf.sections[ad.sec]?.name ?? '';
          const g = globals(secName, ad.off);
          if (!g) throw new Error(`${secName || 'its section'} is not mapped at this stop`);
          if ('bytes' in g) {
            if (ops.length === 1) return { type, bytes: g.bytes.subarray(0, size) };
            throw new Error(`${secName} is not in guest memory at this stop`);
          }
          st.push(g.addr);
          break;
        }
        case OP.const1u: case OP.const1s: case OP.const2u: case OP.const2s: case OP.const4u: case OP.const4s:
        case OP.const8u: case OP.const8s: case OP.constu: case OP.consts: st.push(BigInt.asUintN(64, a0)); break;
        case OP.implicit_value: st.push(a0); isValue = true; break;
        case OP.stack_value: isValue = true; break;
        case OP.dup: { const x = pop(); st.push(x, x); break; }
        case OP.drop: pop(); break;
        case OP.over: { if (st.length < 2) throw new Error('DW_OP_over on a short stack'); st.push(st[st.length - 2]!); break; }
        case OP.pick: { const i = st.length - 1 - Number(a0); if (i < 0) throw new Error('DW_OP_pick past the stack'); st.push(st[i]!); break; }
        case OP.swap: { const x = pop(), y = pop(); st.push(x, y); break; }
        case OP.rot: { const x = pop(), y = pop(), z = pop(); st.push(x, z, y); break; }
        case OP.deref: st.push(leInt(mem.read(pop(), 8))); break;
        case OP.deref_size: st.push(leInt(mem.read(pop(), Number(a0)))); break;
        case OP.abs: { const x = BigInt.asIntN(64, pop()); st.push(BigInt.asUintN(64, x < 0n ? -x : x)); break; }
        case OP.neg: st.push(BigInt.asUintN(64, -pop())); break;
        case OP.not: st.push(BigInt.asUintN(64, ~pop())); break;
        case OP.plus_uconst: st.push(BigInt.asUintN(64, pop() + a0)); break;
        case OP.convert: case OP.reinterpret: {
          if (a0 === 0n) break; // the generic type
          const d = this.dwarf.dies.get(Number(a0) + (this.dwarf.units[0]?.off ?? 0));
          if (d && d.tag === TAG.base_type) {
            const bits = attrNum(d, AT.bit_size!) ?? (attrNum(d, AT.byte_size!) ?? 8) * 8;
            const enc = attrNum(d, AT.encoding!);
            const x = pop();
            st.push(BigInt.asUintN(64, enc === 0x05 || enc === 0x06 ? BigInt.asIntN(bits, x) : BigInt.asUintN(bits, x)));
          }
          break;
        }
        case OP.piece: finishPiece(Number(a0)); break;
        case OP.nop: break;
        case OP.entry_value: case OP.GNU_entry_value: throw new Error('its value at function entry is not recorded');
        case OP.call_frame_cfa: case OP.implicit_pointer: throw new Error('the location needs the call frame information');
        default: {
          const b = pop(), x = pop();
          const sb = BigInt.asIntN(64, b), sx = BigInt.asIntN(64, x);
          const bin: Record<number, () => bigint> = {
            [OP.and!]: () => x & b, [OP.or!]: () => x | b, [OP.xor!]: () => x ^ b, [OP.plus!]: () => x + b, [OP.minus!]: () => x - b,
            [OP.mul!]: () => x * b, [OP.div!]: () => { if (!sb) throw new Error('division by zero'); return sx / sb; },
            [OP.mod!]: () => { if (!b) throw new Error('division by zero'); return x % b; },
            [OP.shl!]: () => x << (b & 63n), [OP.shr!]: () => x >> (b & 63n), [OP.shra!]: () => sx >> (b & 63n),
            [OP.eq!]: () => (sx === sb ? 1n : 0n), [OP.ne!]: () => (sx !== sb ? 1n : 0n), [OP.lt!]: () => (sx < sb ? 1n : 0n),
            [OP.le!]: () => (sx <= sb ? 1n : 0n), [OP.gt!]: () => (sx > sb ? 1n : 0n), [OP.ge!]: () => (sx >= sb ? 1n : 0n),
          };
          const f = bin[op];
          if (!f) throw new Error(`DWARF operation 0x${op.toString(16)} is not supported`);
          st.push(BigInt.asUintN(64, f()));
        }
      }
    }
    if (pieces.length) {
      if (inReg !== null || st.length) finishPiece(size - pieces.reduce((n, p) => n + (p.bytes?.length ?? 0), 0));
      const out = new Uint8Array(size);
      let o = 0;
      let missing = false;
      for (const p of pieces) { if (p.bytes) out.set(p.bytes.subarray(0, size - o), o); else missing = true; o += p.bytes?.length ?? 0; }
      if (missing && pieces.every((p) => !p.bytes)) return { unavailable: 'is optimized out here' };
      result = { type, bytes: out };
      return result;
    }
    if (inReg !== null) {
      const r = reg(inReg);
      return { type, reg: inReg, bytes: leBytes(r, 8).subarray(0, Math.min(8, size)) };
    }
    if (!st.length) return { unavailable: 'is optimized out here' };
    const top = st[st.length - 1]!;
    if (isValue) return { type, bytes: leBytes(top, Math.min(8, size)) };
    return { type, addr: top };
  }
}

function sizeOfSafe(t: CType): number {
  const s = stripType(t);
  if (s.kind === 'base' || s.kind === 'enum' || s.kind === 'struct' || s.kind === 'union') return s.size;
  if (s.kind === 'pointer') return 8;
  if (s.kind === 'array') return s.count < 0 ? 0 : s.count * sizeOfSafe(s.elem);
  return 0;
}

/** The registers of BPF frame `i` of a stop (0 = entry frame): all for the innermost, r6-r9 (saved at the call) and r10 for callers. */
export function frameRegs(frames: { fp: bigint; callerRegs?: bigint[] }[], i: number, regs: (k: number) => bigint): FrameRegs {
  const last = frames.length - 1;
  if (i === last) return { fp: frames[i]!.fp, live: true, reg: regs };
  const saved = frames[i + 1]?.callerRegs;
  return { fp: frames[i]!.fp, live: false, reg: (k) => (k === 10 ? frames[i]!.fp : k >= 6 && k <= 9 && saved ? saved[k - 6] : undefined) };
}
