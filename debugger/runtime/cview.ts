// C values as the Variables view, Watch, hover and the Debug Console show them: a tree of VarNodes
// (structs and arrays expand, pointers are followed into the guest region they point at), and the
// expression environment of one C frame (its locals, the globals, the frame's registers).
import type { BpfProgram } from '../object/types';
import type { Region } from '../vm/api';
import type { VmApi } from '../vm/api';
import { type CEnv } from '../expr/c';
import { contents, type CType, type CValue, fromInt, intShape, isInteger, type Mem, scalar, sizeOf, stripType, typeName, U64 } from '../expr/ctypes';
import type { ExprEnv } from '../expr/index';
import type { CFrame, DebugInfo, FrameRegs, GlobalResolver, Located } from './locals';
import type { VarNode } from './inspect';
import { targetOf } from './assign';

const MAX_CHILDREN = 256;

export interface ViewCtx {
  mem: Mem;
  /** 'ctx+8', 'stack of tcp_autolowat+504' for an address, or '' when unmapped. */
  where: (addr: bigint) => string;
  /** The program's stack at `addr` (`size` bytes), where edits are made by address; else why
   *  not, for the message. Map values and global data are set in the Maps scope, by map, key
   *  and offset: their guest addresses are not the same from one replay to the next. */
  writable: (addr: bigint, size: number) => true | string;
  /** Replays `fn` at this stop on every re-run (absent: read-only). */
  edit?: (fn: (vm: VmApi | null) => void) => void;
  /** The registers are the live ones of the innermost frame (they can be set). */
  liveRegs: boolean;
}

function hexOf(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** One line for a value: '42', "65 'A'", 'BPF_SOCK_OPS_RCVQ_CB (21)', '0x1f000 (ctx+0)', '{started=1, …}'. */
export function formatValue(v: CValue, cx: ViewCtx, depth = 0): string {
  const t = stripType(v.type);
  try {
    switch (t.kind) {
      case 'base': {
        if (t.float) return hexOf(scalar({ ...v, type: { ...t, float: false, signed: false } }, cx.mem));
        const n = scalar(v, cx.mem);
        if (t.bool) return n ? 'true' : 'false';
        if (t.char && n >= 32n && n < 127n) return `${n} '${String.fromCharCode(Number(n))}'`;
        return `${n}`;
      }
      case 'enum': {
        const n = scalar(v, cx.mem);
        const e = t.values.find((x) => x.value === n);
        return e ? `${e.name} (${n})` : `${n}`;
      }
      case 'pointer': {
        const n = scalar(v, cx.mem);
        if (n === 0n) return 'NULL';
        const w = cx.where(n);
        const to = stripType(t.to);
        if (to.kind === 'base' && to.char && /^(signed )?char$/.test(to.name) && w) {
          const s = cString(cx.mem, n, 64);
          if (s !== null) return `${hexOf(n)} ${JSON.stringify(s)}`;
        }
        return w ? `${hexOf(n)} (${w})` : `${hexOf(n)} (not guest memory)`;
      }
      case 'array': {
        const et = stripType(t.elem);
        if (et.kind === 'base' && et.char) {
          const b = contents(v, cx.mem);
          const nul = b.indexOf(0);
          const s = Buffer.from(b.subarray(0, nul < 0 ? b.length : nul)).toString('latin1');
          if (/^[\x20-\x7e]*$/.test(s)) return JSON.stringify(s);
        }
        if (depth > 0 || t.count < 0) return `[${t.count < 0 ? '' : t.count}]`;
        const n = Math.min(t.count, 8);
        const items = Array.from({ length: n }, (_, i) => formatValue(element(v, i), cx, depth + 1));
        return `[${items.join(', ')}${t.count > n ? ', …' : ''}]`;
      }
      case 'struct': case 'union': {
        if (depth > 0) return '{…}';
        const parts: string[] = [];
        for (const m of t.members.slice(0, 4)) {
          if (!isInteger(m.type) && stripType(m.type).kind !== 'pointer') continue;
          parts.push(`${m.name}=${formatValue(memberOf(v, m), cx, depth + 1)}`);
        }
        return `{${parts.join(', ')}${t.members.length > parts.length ? ', …' : ''}}`;
      }
      case 'void': return 'void';
      default: return '?';
    }
  } catch (e) {
    return `<${(e as Error).message}>`;
  }
}

function cString(mem: Mem, addr: bigint, max: number): string | null {
  let s = '';
  for (let i = 0; i < max; i++) {
    let b: number;
    try { b = mem.read(addr + BigInt(i), 1)[0]!; } catch { return s.length ? s : null; }
    if (b === 0) return s;
    if (b < 32 || b > 126) return null;
    s += String.fromCharCode(b);
  }
  return s + '…';
}

function element(v: CValue, i: number): CValue {
  const t = stripType(v.type) as Extract<CType, { kind: 'array' }>;
  const es = sizeOf(t.elem);
  if (v.addr !== undefined) return { type: t.elem, addr: v.addr + BigInt(i * es) };
  return { type: t.elem, bytes: v.bytes!.subarray(i * es, (i + 1) * es) };
}

function memberOf(v: CValue, m: { type: CType; offset: number; bitSize?: number; bitOffset?: number }): CValue {
  const out: CValue = { type: m.type };
  const span = Math.max(sizeOf(m.type), Math.ceil(((m.bitOffset ?? 0) + (m.bitSize ?? 0)) / 8));
  if (v.addr !== undefined) out.addr = v.addr + BigInt(m.offset);
  else out.bytes = (v.bytes ?? new Uint8Array(0)).subarray(m.offset, m.offset + span);
  if (m.bitSize !== undefined) { out.bitSize = m.bitSize; out.bitOffset = m.bitOffset ?? 0; }
  return out;
}

/** A value as a tree node: expandable, settable where it lives in a register or a stack slot. */
export function valueNode(name: string, loc: Located, cx: ViewCtx, evaluateName?: string): VarNode {
  if ('unavailable' in loc) return { name, value: `<${loc.unavailable.replace(/^is /, '')}>`, evaluateName, readOnly: `it ${/^is /.test(loc.unavailable) ? loc.unavailable : `is ${loc.unavailable}`}` };
  const v = loc;
  const node: VarNode = { name, value: formatValue(v, cx), type: typeName(v.type), evaluateName };
  const t = stripType(v.type);
  // '$' is this value's expression, parenthesized unless it is a plain name or member path
  const path = (s: string) => (evaluateName ? s.replace('$', /^[\w.>\[\]-]+$/.test(evaluateName) && !evaluateName.startsWith('*') ? evaluateName : `(${evaluateName})`) : undefined);
  if (t.kind === 'struct' || t.kind === 'union') {
    node.children = () => t.members.slice(0, MAX_CHILDREN).map((m, i) => valueNode(m.name || `<anon ${i}>`, memberOf(v, m), cx, m.name ? path(`$.${m.name}`) : undefined));
  } else if (t.kind === 'array' && t.count > 0) {
    node.children = () => Array.from({ length: Math.min(t.count, MAX_CHILDREN) }, (_, i) => valueNode(`[${i}]`, element(v, i), cx, path(`$[${i}]`)));
  } else if (t.kind === 'pointer') {
    let p: bigint | null = null;
    try { p = scalar(v, cx.mem); } catch { p = null; }
    const to = stripType(t.to);
    if (p && cx.where(p) && to.kind !== 'void' && to.kind !== 'func') {
      node.memoryReference = hexOf(p);
      const target: CValue = { type: t.to, addr: p };
      if (to.kind === 'struct' || to.kind === 'union') {
        node.children = () => to.members.slice(0, MAX_CHILDREN).map((m, i) => valueNode(m.name || `<anon ${i}>`, memberOf(target, m), cx, m.name ? path(`$->${m.name}`) : undefined));
      } else node.children = () => [valueNode(`*${name}`, target, cx, path('*$'))];
    }
  }
  if (isInteger(v.type) || t.kind === 'pointer') setter(node, v, cx);
  else node.readOnly = `it is ${t.kind === 'struct' || t.kind === 'union' ? 'a struct or union' : t.kind === 'array' ? 'an array' : `of type ${typeName(v.type)}`}: set its members or elements one at a time`;
  return node;
}

function setter(node: VarNode, v: CValue, cx: ViewCtx) {
  const edit = cx.edit;
  if (!edit) { node.readOnly = 'it is the value of an expression, not a place'; return; }
  if (v.bitSize !== undefined) { node.readOnly = 'it is a bit field, which the debugger does not set'; return; }
  const { size } = intShape(v.type);
  if (v.reg !== undefined && cx.liveRegs) {
    const r = v.reg;
    node.set = { target: targetOf(v.type), write: (x) => edit((vm) => {
      if (!vm) return;
      // a narrower variable in a 64-bit register: the other bits as they were
      const mask = size >= 8 ? (1n << 64n) - 1n : (1n << BigInt(size * 8)) - 1n;
      vm.setReg(r, (vm.reg(r) & ~mask) | (BigInt.asUintN(size * 8, x)));
    }) };
  } else if (v.reg !== undefined) {
    node.readOnly = 'it is held in a register of a caller frame: set it while stopped in the innermost frame';
  } else if (v.addr !== undefined && [1, 2, 4, 8].includes(size)) {
    const a = v.addr;
    const ok = cx.writable(a, size);
    if (ok === true) node.set = { target: targetOf(v.type), write: (x) => edit((vm) => vm?.memory.write(a, size as 1 | 2 | 4 | 8, BigInt.asUintN(size * 8, x))) };
    else node.readOnly = ok;
  } else {
    node.readOnly = 'the debug info gives its value but no place that holds it (a constant or a computed value)';
  }
}

/** Where a stop's memory is: a reader over copied or live regions, and region names. */
export function regionsView(regions: () => Region[], read: (a: bigint, n: number) => Uint8Array): Pick<ViewCtx, 'mem' | 'where' | 'writable'> {
  const find = (a: bigint) => regions().find((r) => a >= r.base && a < r.base + BigInt(r.bytes.length));
  return {
    mem: { read },
    where: (a) => { const r = find(a); return r ? `${r.name}+${Number(a - r.base)}` : ''; },
    writable: (a, n) => {
      const r = find(a);
      if (!r) return 'it is not in guest memory';
      const inside = a + BigInt(n) <= r.base + BigInt(r.bytes.length);
      if (!inside) return `it runs past the end of ${r.name}`;
      if (r.kind === 'stack' && r.writable) return true;
      if ((r.kind === 'map' || r.kind === 'global') && r.writable) return `it is in ${r.name}: set it in the Maps scope`;
      return `it is in ${r.name}, which the program cannot write`;
    },
  };
}

/** Global data: the region of its section when the run mapped it, else the map's bytes. */
export function globalsOf(regions: () => Region[], maps: () => { def: { name: string }; entries(): { value: Uint8Array }[] }[]): GlobalResolver {
  return (section, off) => {
    const r = regions().find((x) => x.kind === 'global' && x.name === section);
    if (r) return { addr: r.base + BigInt(off) };
    const m = maps().find((x) => x.def.name === section);
    const e = m?.entries()[0];
    return e ? { bytes: e.value.subarray(off) } : null;
  };
}

export interface FrameView {
  info: DebugInfo;
  prog: BpfProgram;
  pc: number;
  regs: FrameRegs;
  cframe: CFrame | null;
  globals: GlobalResolver;
  mem: Mem;
}

/** The expression environment of one C frame: its variables, the object's globals, the frame's registers, then the debugger's names. */
export function cEnv(f: FrameView | null, legacy: ExprEnv, regs: FrameRegs | null, mem: Mem): CEnv {
  return {
    mem,
    variable(name) {
      if (f?.cframe) {
        const v = f.info.visible(f.cframe).find((x) => x.name === name);
        if (v) return f.info.locate(v, f.prog, f.pc, f.regs, mem, f.globals);
      }
      if (f) {
        const g = f.info.dwarf.model.globals.find((x) => x.name === name);
        if (g) {
          const secName = f.info.dwarf.elf.sections[g.addr.sec]?.name ?? '';
          const r = f.globals(secName, g.addr.off);
          if (!r) return { unavailable: `is in ${secName}, which is not mapped at this stop` };
          return 'addr' in r ? { type: g.type, addr: r.addr } : { type: g.type, bytes: r.bytes.subarray(0, sizeOf(g.type)) };
        }
      }
      const m = /^r(\d+)$/.exec(name);
      if (m && Number(m[1]) <= 10 && regs) {
        const v = regs.reg(Number(m[1]));
        if (v === undefined) return { unavailable: 'is not available in a caller frame (r0-r5 do not survive the call)' };
        return { ...fromInt(U64, v), reg: Number(m[1]) };
      }
      return undefined;
    },
    type: (name) => f?.info.typeByName(name),
    legacy: (path, text) => legacy.lookup(path, text),
    hint: () => `${f?.cframe ? `a C variable (${f.info.visible(f.cframe).map((v) => v.name).join(', ') || 'none here'}), ` : ''}${legacy.hint?.() ?? ''}`,
  };
}
