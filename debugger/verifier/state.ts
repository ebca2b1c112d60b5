// The verifier's per-path state, as struct bpf_verifier_state / bpf_func_state / bpf_reg_state of
// kernel/bpf/verifier.c: registers with their type, fixed offset, scalar bounds (for pointers: the
// variable part of the offset), NULL-ness and ids; stack slots byte by byte (STACK_INVALID,
// STACK_MISC, STACK_ZERO, spilled registers); acquired references. Type names are the pointer
// kinds of ./types.ts (the static kinds pass), extended here with bounds.
import type { RegType } from './types';
import { type Scalar, constScalar, scalarCovers, scalarEquals, scalarStr, unknownScalar, isConst } from './scalar';

export interface Reg {
  type: RegType;
  /** reg->off: fixed offset of a pointer. */
  off: number;
  /** SCALAR_VALUE: the value's bounds; pointers: the variable offset (const 0 when none). */
  s: Scalar;
  maybeNull: boolean;
  /** reg->id: shared by copies (NULL checks, packet ranges, linked scalars). */
  id: number;
  /** reg->ref_obj_id: the reference this pointer holds (0: none). */
  refObjId: number;
  /** PTR_TO_PACKET: bytes proven readable from the packet start + off (reg->range). */
  range: number;
  mapIndex?: number;
  memSize?: number;
  frameNo?: number;
  funcPc?: number;
  btfId?: number;
  /** PTR_TO_BTF_ID: PTR_TRUSTED vs PTR_UNTRUSTED. */
  trusted?: boolean;
  /** MEM_RINGBUF / MEM_RDONLY flags. */
  ringbuf?: boolean;
  rdonly?: boolean;
  /** Name of the struct behind PTR_TO_BTF_ID, for messages. */
  btfName?: string;
  /** SCALAR_VALUE in an explored state: some later instruction relied on its value
   *  (bpf_reg_state.precise, set by mark_chain_precision). */
  precise?: boolean;
}

const ZERO = constScalar(0n);

export const notInit = (): Reg => ({ type: 'NOT_INIT', off: 0, s: unknownScalar(), maybeNull: false, id: 0, refObjId: 0, range: 0 });
export const scalarReg = (s: Scalar): Reg => ({ type: 'SCALAR_VALUE', off: 0, s, maybeNull: false, id: 0, refObjId: 0, range: 0 });
export const ptrReg = (type: RegType, extra: Partial<Reg> = {}): Reg => ({ type, off: 0, s: ZERO, maybeNull: false, id: 0, refObjId: 0, range: 0, ...extra });
export const cloneReg = (r: Reg): Reg => ({ ...r });
export const isPtr = (r: Reg): boolean => r.type !== 'SCALAR_VALUE' && r.type !== 'NOT_INIT';

/** Byte states of a stack slot (STACK_INVALID / STACK_MISC / STACK_ZERO / STACK_SPILL). */
export type ByteKind = 'invalid' | 'misc' | 'zero' | 'spill';
export interface Slot {
  bytes: ByteKind[]; // 8, byte i = offset slotBase + i (slotBase is -8*(index+1))
  spill?: Reg; // the register when all 8 bytes are 'spill' (or a narrower scalar spill)
  /** Bytes of a narrower scalar spill at the slot's start (8 when absent). */
  spillSize?: number;
  /** Copy-on-write: the token of the one frame allowed to change this slot in place. */
  own?: object;
}
export const STACK_SIZE = 512; // MAX_BPF_STACK

export interface Frame {
  regs: Reg[]; // r0..r10
  /** slot index (0: fp-8..fp-1, 1: fp-16..fp-9, ...) -> state; absent: all invalid. */
  stack: Map<number, Slot>;
  /** Entry pc of this function (for the return-value and liveness rules). */
  funcStart: number;
  /** pc of the call insn in the caller (-1 for the entry frame). */
  callsite: number;
  /** Callback frames (bpf_loop & co): return range to enforce, and the helper's name. */
  callback?: { helper: string };
  /** Deepest stack byte this function touched (for the combined stack size). */
  depth: number;
  /** Copy-on-write token: slots whose `own` is this may be changed in place (see ownSlot). */
  tok?: object;
  /** callback_depth: calls of a callback (bpf_loop & co) made from this frame's current helper call. */
  cbDepth?: number;
}

export interface RefState { id: number; insn: number }

export interface VState {
  frames: Frame[];
  refs: RefState[];
  /** may_goto_depth: may_goto instructions taken on this path (the loop-convergence test). */
  mayGoto?: number;
  /** callback_unroll_depth: callback calls pushed on this path (states of different calls are no
   *  infinite loop). */
  cbUnroll?: number;
}

/** A copy sharing the (immutable) registers and the stack slots: both frames lose the right to
 *  change the shared slots in place, the first write copies a slot (ownSlot). */
export function cloneFrame(f: Frame): Frame {
  f.tok = {};
  const c: Frame = { regs: f.regs.slice(), stack: new Map(f.stack), funcStart: f.funcStart, callsite: f.callsite, depth: f.depth, tok: {} };
  if (f.cbDepth) c.cbDepth = f.cbDepth;
  if (f.callback) c.callback = f.callback;
  return c;
}

/** The slot at index k, writable in place by this frame (copied first when shared). */
export function ownSlot(f: Frame, k: number): Slot {
  if (!f.tok) f.tok = {};
  let s = f.stack.get(k);
  if (!s) s = { bytes: ['invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid', 'invalid'], own: f.tok };
  else if (s.own !== f.tok) {
    const c: Slot = { bytes: s.bytes.slice(), own: f.tok };
    if (s.spill) c.spill = s.spill;
    if (s.spillSize !== undefined) c.spillSize = s.spillSize;
    s = c;
  } else return s;
  f.stack.set(k, s);
  return s;
}
export const cloneState = (s: VState): VState => ({ frames: s.frames.map(cloneFrame), refs: s.refs.map((r) => ({ ...r })), mayGoto: s.mayGoto ?? 0, cbUnroll: s.cbUnroll ?? 0 });

// ---- pruning (kernel/bpf/states.c: states_equal / func_states_equal / regsafe / stacksafe) ----

/** regsafe(NOT_EXACT): old is at least as general as cur. A scalar of the explored state that no
 *  later instruction needed precisely (not `precise`, see mark_chain_precision in ./precision.ts)
 *  matches any scalar; `rangeWithin` (the kernel's RANGE_WITHIN, used where precision marks may
 *  not be final) compares every scalar's bounds regardless. */
export function regSafe(old: Reg, cur: Reg, rangeWithin = false): boolean {
  if (old.type === 'NOT_INIT' || old === cur) return true;
  // register types must match exactly, modifiers included (PTR_MAYBE_NULL, MEM_RDONLY, ...)
  if (cur.type !== old.type || old.maybeNull !== cur.maybeNull || old.trusted !== cur.trusted || old.rdonly !== cur.rdonly || old.ringbuf !== cur.ringbuf) return false;
  if (old.type === 'SCALAR_VALUE') return (!old.precise && !rangeWithin) || scalarCovers(old.s, cur.s);
  if (old.off !== cur.off) return false;
  if ((old.refObjId === 0) !== (cur.refObjId === 0)) return false;
  if (old.mapIndex !== cur.mapIndex || old.frameNo !== cur.frameNo || old.funcPc !== cur.funcPc || old.btfId !== cur.btfId || old.memSize !== cur.memSize) return false;
  if (old.type === 'PTR_TO_PACKET' && old.range > cur.range) return false;
  return scalarCovers(old.s, cur.s);
}

/** The kernel's slot_type index k (0: the byte at the slot's highest address) in our byte order. */
const kind = (s: Slot | undefined, k: number): ByteKind => (s ? s.bytes[7 - k]! : 'invalid');

/** An unknown scalar that is not precise: what a load from STACK_MISC bytes gives (unbound_reg). */
const UNBOUND: Reg = { type: 'SCALAR_VALUE', off: 0, s: unknownScalar(), maybeNull: false, id: 0, refObjId: 0, range: 0 };

/** scalar_reg_for_stack: the spilled scalar at kernel index k, or an unbound scalar when bytes
 *  k..7 are all misc (or uninitialised, readable with CAP_PERFMON), else none. */
function scalarRegForStack(s: Slot | undefined, k: number, perfmon: boolean): Reg | undefined {
  if (s?.spill && s.spill.type === 'SCALAR_VALUE' && kind(s, k) === 'spill') return s.spill;
  for (let i = k; i < 8; i++) {
    const b = kind(s, i);
    if (b === 'misc' || (b === 'invalid' && perfmon)) continue;
    return undefined;
  }
  return UNBOUND;
}

/** stacksafe(NOT_EXACT / RANGE_WITHIN), byte by byte over the explored state's slots. With
 *  CAP_PERFMON (allow_uninit_stack) old STACK_MISC bytes match anything. `liveSlot` (when
 *  given) says which slots a later instruction may read: dead ones were cleaned. */
export function stackSafe(old: Frame, cur: Frame, perfmon: boolean, rangeWithin = false, liveSlot?: (spi: number) => boolean): boolean {
  for (const [spi, os] of old.stack) {
    if (liveSlot && !liveSlot(spi)) continue;
    const cs = cur.stack.get(spi);
    if (cs === os) continue; // a shared slot (copy-on-write) is the same
    for (let k = 0; k < 8; k++) {
      const ot = kind(os, k);
      if (ot === 'invalid') continue;
      if (perfmon && ot === 'misc') continue;
      if (k === 0 || k === 4) {
        const o = scalarRegForStack(os, k, perfmon), c = scalarRegForStack(cs, k, perfmon);
        if (o && c) {
          if (!regSafe(o, c, rangeWithin)) return false;
          k += k === 0 ? 7 : 3;
          continue;
        }
      }
      const ct = kind(cs, k);
      if (ot === 'misc' && ct === 'zero') continue;
      if (ot !== ct) return false;
      if (k !== 7) continue;
      if (ot === 'spill' && !(os.spill && cs?.spill && regSafe(os.spill, cs.spill, rangeWithin))) return false;
    }
  }
  return true;
}

/** scalars_exact_for_widen: the same value knowledge (ids aside). */
function sameScalar(a: Reg, b: Reg): boolean {
  return a.type === b.type && a.off === b.off && scalarEquals(a.s, b.s);
}

/** widen_imprecise_scalars (kernel/bpf/verifier.c): at a may_goto, scalars of the next iteration
 *  that no instruction needed precisely and that changed since the previous iteration's state
 *  become unknown, so that the loop's states converge. Mutates `cur` (its own copy). */
export function widenImprecise(old: VState, cur: VState): void {
  const widen = (o: Reg | undefined, c: Reg | undefined): Reg | undefined => {
    if (!o || !c || o.type !== 'SCALAR_VALUE' || c.type !== 'SCALAR_VALUE') return undefined;
    if (o.precise || c.precise || sameScalar(o, c)) return undefined;
    return { type: 'SCALAR_VALUE', off: 0, s: unknownScalar(), maybeNull: false, id: 0, refObjId: 0, range: 0 };
  };
  for (let fr = Math.min(old.frames.length, cur.frames.length) - 1; fr >= 0; fr--) {
    const fo = old.frames[fr]!, fc = cur.frames[fr]!;
    for (let r = 0; r < 11; r++) { const w = widen(fo.regs[r], fc.regs[r]); if (w) fc.regs[r] = w; }
    for (const [spi, os] of fo.stack) {
      const cs = fc.stack.get(spi);
      if (!cs || os.bytes[0] !== 'spill' || cs.bytes[0] !== 'spill') continue;
      const w = widen(os.spill, cs.spill);
      if (w) fc.stack.set(spi, { ...cs, spill: w });
    }
  }
}

export interface Liveness {
  /** Registers (bit r) live before pc in the innermost frame. */
  regsAt(pc: number): number;
}

/** states_equal(NOT_EXACT or RANGE_WITHIN): every frame (callsites equal), the live registers of
 *  each (the innermost at pc, a caller's at its return site: r6-r9 only, r0-r5 are set or
 *  clobbered by the return), stacks, references. */
export function statesSafe(old: VState, cur: VState, pc: number, live: Liveness, perfmon: boolean, rangeWithin = false): boolean {
  if (old.frames.length !== cur.frames.length || old.refs.length !== cur.refs.length) return false;
  const n = old.frames.length;
  for (let i = 0; i < n; i++) {
    const o = old.frames[i]!, c = cur.frames[i]!;
    if (o.callsite !== c.callsite || (o.cbDepth ?? 0) > (c.cbDepth ?? 0)) return false;
    const mask = i === n - 1 ? live.regsAt(pc) : live.regsAt(old.frames[i + 1]!.callsite + 1) & ~0x3f;
    for (let r = 0; r < 10; r++) {
      if (((mask >> r) & 1) === 0) continue;
      if (!regSafe(o.regs[r]!, c.regs[r]!, rangeWithin)) return false;
    }
    if (!stackSafe(o, c, perfmon, rangeWithin)) return false;
  }
  return true;
}

/** Exactly the same state (the infinite-loop test; dead registers of the innermost frame, which
 *  the kernel cleans before comparing, are left out by `liveMask`). */
export function statesEqual(a: VState, b: VState, liveMask = 0x7ff): boolean {
  if (a.frames.length !== b.frames.length || (a.mayGoto ?? 0) !== (b.mayGoto ?? 0) || (a.cbUnroll ?? 0) !== (b.cbUnroll ?? 0)) return false;
  for (let i = a.frames.length - 1; i >= 0; i--) { // the innermost frame differs most often
    const x = a.frames[i]!, y = b.frames[i]!;
    for (let r = 0; r < 11; r++) {
      if (i === a.frames.length - 1 && ((liveMask >> r) & 1) === 0) continue;
      const p = x.regs[r]!, q = y.regs[r]!;
      if (p === q) continue; // registers are never changed in place: shared means equal
      if (p.type !== q.type) return false;
      // states_maybe_looping compares the innermost frame's registers raw, ids included
      if (i === a.frames.length - 1 && p.id !== q.id) return false;
      if (p.type === 'NOT_INIT') continue;
      if (p.off !== q.off || p.maybeNull !== q.maybeNull || p.range !== q.range || !scalarEquals(p.s, q.s)) return false;
    }
    if (x.stack.size !== y.stack.size) return false;
    for (const [k, s] of x.stack) {
      const t = y.stack.get(k);
      if (!t) return false;
      if (s === t) continue;
      for (let b = 0; b < 8; b++) if (s.bytes[b] !== t.bytes[b]) return false;
      if (s.spill && (!t.spill || s.spill.type !== t.spill.type || !scalarEquals(s.spill.s, t.spill.s) || s.spill.off !== t.spill.off)) return false;
    }
  }
  return true;
}

// ---- names, as reg_type_str() prints them ----
const BASE_NAMES: Record<RegType, string> = {
  NOT_INIT: '?', SCALAR_VALUE: 'scalar', PTR_TO_CTX: 'ctx', CONST_PTR_TO_MAP: 'map_ptr', PTR_TO_MAP_VALUE: 'map_value',
  PTR_TO_MAP_KEY: 'map_key', PTR_TO_STACK: 'fp', PTR_TO_PACKET: 'pkt', PTR_TO_PACKET_END: 'pkt_end', PTR_TO_SOCKET: 'sock',
  PTR_TO_SOCK_COMMON: 'sock_common', PTR_TO_TCP_SOCK: 'tcp_sock', PTR_TO_BTF_ID: 'ptr_', PTR_TO_MEM: 'mem', PTR_TO_FUNC: 'func',
  CONFLICT: '?',
};

/** reg_type_str: 'map_value_or_null', 'untrusted_ptr_', 'ringbuf_mem_or_null', 'sock'. */
export function regTypeStr(r: Pick<Reg, 'type' | 'maybeNull' | 'trusted' | 'ringbuf' | 'rdonly'>): string {
  let prefix = '';
  if (r.type === 'PTR_TO_BTF_ID') prefix = r.trusted ? 'trusted_' : r.trusted === false ? 'untrusted_' : '';
  if (r.type === 'PTR_TO_MEM') prefix = (r.rdonly ? 'rdonly_' : '') + (r.ringbuf ? 'ringbuf_' : '');
  return prefix + BASE_NAMES[r.type] + (r.maybeNull ? '_or_null' : '');
}

/** The log's spelling of a register ("ctx()", "fp-8", "map_value_or_null(id=1,map=st,ks=4,vs=16)", "scalar(...)"). */
export function regStr(r: Reg, mapName?: (i: number) => string): string {
  if (r.type === 'SCALAR_VALUE') return scalarStr(r.s);
  if (r.type === 'PTR_TO_STACK' && isConst(r.s)) return `fp${r.off + Number(BigInt.asIntN(64, r.s.varOff.value))}`;
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.refObjId) parts.push(`ref_obj_id=${r.refObjId}`);
  if (r.off) parts.push(`off=${r.off}`);
  if (r.type === 'PTR_TO_PACKET') parts.push(`r=${r.range}`);
  if (r.mapIndex !== undefined && mapName) parts.push(`map=${mapName(r.mapIndex)}`);
  if (r.memSize !== undefined) parts.push(`sz=${r.memSize}`);
  if (!isConst(r.s)) parts.push(scalarStr(r.s).replace(/^scalar\(|\)$/g, ''));
  return `${regTypeStr(r)}${r.btfName && r.type === 'PTR_TO_BTF_ID' ? r.btfName : ''}(${parts.join(',')})`;
}
