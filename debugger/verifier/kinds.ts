// The pointer-kind pass (types in ./types.ts): a forward dataflow over every path of a loaded
// program, in every call context (a subprogram is analysed once per call site chain, as
// kernel/bpf/verifier.c does_check walks it in its caller's state; a helper callback once per
// helper call). At each pc it joins the states of the paths reaching it; the lattice is finite
// (a scalar's constant -> unknown, a pointer's offset -> variable, a slot's kind -> CONFLICT), so
// the worklist ends. Transfer functions follow the kernel:
// - ctx loads: the field's reg_type (sock_ops: the table's regType rows, from
//   net/core/filter.c sock_ops_is_valid_access; bpf_sockopt: kernel/bpf/cgroup.c
//   cg_sockopt_is_valid_access); anything else a scalar;
// - loads through PTR_TO_BTF_ID: the member's type (kernel/bpf/btf.c btf_struct_access): a
//   pointer to a struct becomes PTR_TO_BTF_ID of that struct, untrusted (check_ptr_to_btf_access
//   marks walked pointers PTR_UNTRUSTED unless in its trusted lists, which nothing here needs);
//   anything else a scalar;
// - helper/kfunc results: the proto's ret_type (HELPER_RET / KFUNC_RET below), r1-r5 clobbered;
// - `if rX == 0` / `!= 0` on a _or_null pointer: NULL on one side, non-NULL on the other, for
//   every register and slot with the same id (mark_ptr_or_null_regs);
// - 8-byte spills of any register to an aligned stack slot keep its state; other stack stores
//   make the slot a scalar (save_register_state / check_stack_write_fixed_off).
import type { BpfObject, BpfProgram, Btf } from '../object/types';
import type { Insn } from '../vm/api';
import type { ProgType } from '../../sockops/types';
import { table as sockopsTable } from '../../sockops';
import { opInfo } from '../vm/opcodes';
import type { AccessInfo, KindsAtPc, KindsOptions, KindsResult, RegState, RegType } from './types';

const MAX_FRAMES = 8; // MAX_CALL_FRAMES
/** The may_goto opcode (BPF_JMP | BPF_JCOND): both ways, no refinement. */
const MAY_GOTO = 0xe5;

// ---- register states ----

export const notInit = (): RegState => ({ type: 'NOT_INIT', off: 0, varOff: false, maybeNull: false, id: 0 });
export const scalar = (value?: bigint): RegState => {
  const r: RegState = { type: 'SCALAR_VALUE', off: 0, varOff: false, maybeNull: false, id: 0 };
  if (value !== undefined) r.value = BigInt.asUintN(64, value);
  return r;
};
export const ptr = (type: RegType, extra: Partial<RegState> = {}): RegState => ({ type, off: 0, varOff: false, maybeNull: false, id: 0, ...extra });

/** The two states describe the same thing (every field equal). */
export function sameReg(a: RegState, b: RegState): boolean {
  return a.type === b.type && a.off === b.off && a.varOff === b.varOff && a.maybeNull === b.maybeNull && a.trusted === b.trusted
    && a.btfId === b.btfId && a.mapIndex === b.mapIndex && a.memSize === b.memSize && a.frameNo === b.frameNo
    && a.funcPc === b.funcPc && a.value === b.value && a.id === b.id
    && (a.conflictOf ?? []).join() === (b.conflictOf ?? []).join();
}

/** The least state covering both (paths meeting at a pc). */
export function joinReg(a: RegState, b: RegState): RegState {
  if (sameReg(a, b)) return a;
  if (a.type === 'NOT_INIT') return b.type === 'NOT_INIT' ? a : b.type === 'SCALAR_VALUE' ? scalar() : conflict(a, b);
  if (b.type === 'NOT_INIT') return a.type === 'SCALAR_VALUE' ? scalar() : conflict(a, b);
  // a pointer on one path, NULL (the scalar 0 a NULL test leaves) on the other: the pointer or
  // NULL, as the kernel's per-path states would see it after a later test against 0
  if (isNullScalar(a) && isPtr(b)) return b.maybeNull ? b : { ...b, maybeNull: true };
  if (isNullScalar(b) && isPtr(a)) return a.maybeNull ? a : { ...a, maybeNull: true };
  if (a.type !== b.type) return conflict(a, b);
  if (a.type === 'SCALAR_VALUE') return scalar(a.value === b.value ? a.value : undefined);
  if (a.type === 'CONFLICT') return conflict(a, b);
  if (a.btfId !== b.btfId || a.mapIndex !== b.mapIndex || a.frameNo !== b.frameNo || a.funcPc !== b.funcPc) return conflict(a, b);
  const r: RegState = { ...a };
  r.maybeNull = a.maybeNull || b.maybeNull;
  r.varOff = a.varOff || b.varOff || a.off !== b.off;
  if (a.off !== b.off) r.off = Math.min(a.off, b.off);
  if (a.trusted !== b.trusted) r.trusted = false;
  if (a.memSize !== b.memSize) delete r.memSize;
  if (a.id !== b.id) r.id = 0;
  return r;
}
/** CONFLICT with the kinds that met (conflictOf, sorted, for messages). */
function conflict(a: RegState, b: RegState): RegState {
  const kinds = new Set<RegType>([...(a.conflictOf ?? (a.type === 'CONFLICT' ? [] : [a.type])), ...(b.conflictOf ?? (b.type === 'CONFLICT' ? [] : [b.type]))]);
  return { type: 'CONFLICT', off: 0, varOff: false, maybeNull: false, id: 0, conflictOf: [...kinds].sort() };
}

const isNullScalar = (r: RegState) => r.type === 'SCALAR_VALUE' && r.value === 0n;
const isPtr = (r: RegState) => r.type !== 'SCALAR_VALUE' && r.type !== 'NOT_INIT' && r.type !== 'CONFLICT';

// ---- frames and states ----

interface FrameState {
  regs: RegState[]; // r0..r10
  stack: Map<number, RegState>; // fp-relative offset of an 8-byte slot -> spilled state
  /** Where the caller resumes (-1 for the entry frame); callback frames end the path. */
  returnPc: number;
  callback: boolean;
}

interface State { frames: FrameState[] }

function cloneState(s: State): State {
  return { frames: s.frames.map((f) => ({ regs: f.regs.slice(), stack: new Map(f.stack), returnPc: f.returnPc, callback: f.callback })) };
}

/** Join `b` into `a`; true when `a` changed. Frames match (same call context). */
function joinInto(a: State, b: State): boolean {
  let changed = false;
  for (let i = 0; i < a.frames.length; i++) {
    const fa = a.frames[i]!;
    const fb = b.frames[i]!;
    for (let r = 0; r < 11; r++) {
      const j = joinReg(fa.regs[r]!, fb.regs[r]!);
      if (j !== fa.regs[r] && !sameReg(j, fa.regs[r]!)) { fa.regs[r] = j; changed = true; }
    }
    for (const [off, v] of fa.stack) {
      const w = fb.stack.get(off);
      const j = w ? joinReg(v, w) : scalar();
      if (!sameReg(j, v)) {
        if (j.type === 'SCALAR_VALUE' && j.value === undefined) fa.stack.delete(off);
        else fa.stack.set(off, j);
        changed = true;
      }
    }
  }
  return changed;
}

// ---- program facts ----

/** net/core/filter.c / kernel/bpf protos: what r0 holds after a helper (by kernel name). */
type RetRule = (s: FrameState, btf: BtfIndex) => RegState;
const mapValueOrNull: RetRule = (s) => ptr('PTR_TO_MAP_VALUE', { maybeNull: true, mapIndex: s.regs[1]!.mapIndex ?? -1 });
const btfOrNull = (struct: string): RetRule => (_s, b) => ptr('PTR_TO_BTF_ID', { maybeNull: true, trusted: true, btfId: b.struct(struct) });
const HELPER_RET: Record<string, RetRule> = {
  bpf_map_lookup_elem: mapValueOrNull, // RET_PTR_TO_MAP_VALUE_OR_NULL
  bpf_sk_storage_get: mapValueOrNull,
  bpf_cgrp_storage_get: mapValueOrNull,
  bpf_task_storage_get: mapValueOrNull,
  bpf_inode_storage_get: mapValueOrNull,
  bpf_tcp_sock: () => ptr('PTR_TO_TCP_SOCK', { maybeNull: true }), // RET_PTR_TO_TCP_SOCK_OR_NULL
  bpf_sk_fullsock: () => ptr('PTR_TO_SOCKET', { maybeNull: true }), // RET_PTR_TO_SOCKET_OR_NULL
  bpf_get_listener_sock: () => ptr('PTR_TO_SOCKET', { maybeNull: true }),
  bpf_sk_lookup_tcp: () => ptr('PTR_TO_SOCKET', { maybeNull: true }),
  bpf_sk_lookup_udp: () => ptr('PTR_TO_SOCKET', { maybeNull: true }),
  bpf_skc_lookup_tcp: () => ptr('PTR_TO_SOCK_COMMON', { maybeNull: true }),
  // RET_PTR_TO_BTF_ID_OR_NULL with ret_btf_id (net/core/filter.c bpf_skc_to_*_proto)
  bpf_skc_to_tcp_sock: btfOrNull('tcp_sock'),
  bpf_skc_to_tcp6_sock: btfOrNull('tcp6_sock'),
  bpf_skc_to_tcp_timewait_sock: btfOrNull('tcp_timewait_sock'),
  bpf_skc_to_tcp_request_sock: btfOrNull('tcp_request_sock'),
  bpf_skc_to_udp6_sock: btfOrNull('udp6_sock'),
  bpf_skc_to_unix_sock: btfOrNull('unix_sock'),
  bpf_skc_to_mptcp_sock: btfOrNull('mptcp_sock'),
  bpf_get_current_task_btf: (_s, b) => ptr('PTR_TO_BTF_ID', { trusted: true, btfId: b.struct('task_struct') }),
  bpf_ringbuf_reserve: (s) => memOrNull(s.regs[2]!),
};
function memOrNull(size: RegState): RegState {
  const r = ptr('PTR_TO_MEM', { maybeNull: true });
  if (size.value !== undefined) r.memSize = Number(size.value);
  return r;
}

/** What a kfunc returns (kernel/bpf/helpers.c bpf_cast_to_kern_ctx, bpf_rdonly_cast; the
 *  verifier's special cases in check_kfunc_call). */
function kfuncRet(name: string, s: FrameState, b: BtfIndex, progType: ProgType): RegState {
  if (name === 'bpf_cast_to_kern_ctx') {
    // the prog type's kernel ctx (bpf_sock_ops_kern, bpf_sockopt_kern): trusted, never NULL
    return ptr('PTR_TO_BTF_ID', { trusted: true, btfId: b.struct(progType === 'sock_ops' ? 'bpf_sock_ops_kern' : 'bpf_sockopt_kern') });
  }
  if (name === 'bpf_rdonly_cast') {
    // r2 is a BTF type id (bpf_core_type_id_kernel); a struct gives PTR_TO_BTF_ID | PTR_UNTRUSTED,
    // void gives PTR_TO_MEM | MEM_RDONLY | PTR_UNTRUSTED
    const id = s.regs[2]!.value;
    const t = id !== undefined && b.btf ? b.btf.types[Number(id)] : undefined;
    const st = t ? b.btf!.resolve(t.id) : undefined;
    if (st && (st.kind === 'struct' || st.kind === 'union')) return ptr('PTR_TO_BTF_ID', { trusted: false, btfId: st.id });
    return ptr('PTR_TO_MEM', { trusted: false });
  }
  return scalar();
}

/** bpf_sockopt pointer fields (kernel/bpf/cgroup.c cg_sockopt_is_valid_access). */
const SOCKOPT_CTX_TYPES: Record<number, RegType> = { 0: 'PTR_TO_SOCKET', 8: 'PTR_TO_PACKET', 16: 'PTR_TO_PACKET_END' };

/** Program BTF lookups used by the transfer functions, memoized. */
class BtfIndex {
  private readonly structs = new Map<string, number>();
  constructor(readonly btf: Btf | null) {}
  struct(name: string): number {
    let id = this.structs.get(name);
    if (id === undefined) {
      id = this.btf?.find(name, 'struct')?.id ?? this.btf?.find(name, 'union')?.id ?? 0;
      this.structs.set(name, id);
    }
    return id;
  }
  /** What a load of `size` bytes at byte `off` of struct `id` gives (btf_struct_access). */
  load(id: number, off: number, size: number): RegState {
    const btf = this.btf;
    if (!btf || !id) return scalar();
    const m = memberAt(btf, id, off, size);
    if (!m || size !== 8) return scalar();
    const t = btf.resolve(m);
    if (t.kind !== 'ptr') return scalar();
    const to = btf.resolve(t.type ?? 0);
    if (to.kind !== 'struct' && to.kind !== 'union') return scalar(); // kernel: a pointer to a non-struct reads as a scalar
    return ptr('PTR_TO_BTF_ID', { trusted: false, btfId: to.id });
  }
}

/** The type id of the innermost member holding [off, off+size) of struct/union `id`. */
export function memberAt(btf: Btf, id: number, off: number, size: number): number | undefined {
  let t = btf.resolve(id);
  for (let depth = 0; depth < 32; depth++) {
    if (t.kind === 'array' && t.array) {
      const esz = btf.sizeof(t.array.type);
      if (!esz) return undefined;
      off %= esz;
      t = btf.resolve(t.array.type);
      continue;
    }
    if ((t.kind !== 'struct' && t.kind !== 'union') || !t.members) return off === 0 ? t.id : undefined;
    let next: { type: number; at: number } | undefined;
    for (const m of t.members) {
      if (m.bitSize && m.bitSize % 8) continue; // bitfields: the load reads a scalar
      const at = m.bitOffset / 8;
      const msz = btf.sizeof(m.type);
      if (off >= at && off + size <= at + msz) { next = { type: m.type, at }; break; }
    }
    if (!next) return undefined;
    off -= next.at;
    const nt = btf.resolve(next.type);
    if (nt.kind !== 'struct' && nt.kind !== 'union' && nt.kind !== 'array') return off === 0 ? nt.id : undefined;
    t = nt;
  }
  return undefined;
}

// ---- the pass ----

/** Results per program object: a loaded program never changes, and `bpf-sockops explore` loads
 *  the same object into a fresh simulated kernel for every delivery (the pass costs ~10 ms). */
const memo = new WeakMap<BpfProgram, { obj: BpfObject; byKey: Map<string, KindsResult> }>();

export function analyzeKinds(prog: BpfProgram, progType: ProgType, obj: BpfObject, opts: KindsOptions = {}): KindsResult {
  const key = `${progType}|${opts.profile ?? ''}`;
  let m = memo.get(prog);
  if (m?.obj !== obj) memo.set(prog, (m = { obj, byKey: new Map() }));
  let r = m.byKey.get(key);
  if (!r) m.byKey.set(key, (r = analyzeKindsOnce(prog, progType, obj, opts)));
  return r;
}

function analyzeKindsOnce(prog: BpfProgram, progType: ProgType, obj: BpfObject, opts: KindsOptions): KindsResult {
  const insns = prog.insns;
  const n = insns.length;
  const btf = new BtfIndex(obj.btf);
  const tbl = sockopsTable(opts.profile);
  const notes: { pc: number; message: string }[] = [];
  const note = (pc: number, message: string) => {
    if (notes.length < 100 && !notes.some((x) => x.pc === pc && x.message === message)) notes.push({ pc, message });
  };
  const kfuncName = (idx: number) => obj.kfuncs[idx] ?? '';
  const helperName = (id: number) => tbl.helper(id)?.name ?? '';

  // ctx field kinds
  const ctxLoad = (off: number, size: number): RegState => {
    if (progType === 'sock_ops') {
      const f = tbl.profile.ctxFields.find((x) => off >= x.offset && off < x.offset + x.size);
      if (f?.regType && size === 8 && off === f.offset) {
        const nullable = f.regType.endsWith('_OR_NULL');
        return ptr(f.regType.replace(/_OR_NULL$/, '') as RegType, nullable ? { maybeNull: true, id: -1 } : {});
      }
      return scalar();
    }
    const t = SOCKOPT_CTX_TYPES[off];
    return t && size === 8 ? ptr(t) : scalar();
  };

  // per-context states at each pc; keyed "ctx@pc"
  const states = new Map<string, State>();
  const work: { key: string; ctx: string; pc: number }[] = [];
  const merged: (KindsAtPc | undefined)[] = new Array(n);
  const accesses = new Map<number, AccessInfo>();

  const push = (ctx: string, pc: number, s: State) => {
    if (pc < 0 || pc >= n) {
      note(pc, `jump to pc ${pc} outside the program`);
      return;
    }
    const key = `${ctx}@${pc}`;
    const old = states.get(key);
    if (!old) {
      states.set(key, s);
      work.push({ key, ctx, pc });
    } else if (joinInto(old, s)) work.push({ key, ctx, pc });
  };

  const entry: FrameState = { regs: Array.from({ length: 11 }, notInit), stack: new Map(), returnPc: -1, callback: false };
  entry.regs[1] = ptr('PTR_TO_CTX');
  entry.regs[10] = ptr('PTR_TO_STACK', { frameNo: 0 });
  push('', 0, { frames: [entry] });

  let nextId = 1;
  const idOf = new Map<string, number>(); // deterministic ids per (ctx, pc) of a _or_null producer

  let steps = 0;
  while (work.length) {
    const w = work.pop()!;
    if (++steps > 2_000_000) {
      note(w.pc, 'the pass gave up after 2,000,000 steps');
      break;
    }
    const s0 = states.get(w.key)!;
    const s = cloneState(s0);
    const pc = w.pc;
    const ctx = w.ctx;
    const f = s.frames[s.frames.length - 1]!;
    const R = f.regs;
    const insn = insns[pc]!;
    recordPc(pc, f);
    const freshId = (): number => {
      const k = `${ctx}@${pc}`;
      let id = idOf.get(k);
      if (id === undefined) idOf.set(k, (id = nextId++));
      return id;
    };

    if (insn.code === MAY_GOTO) {
      push(ctx, pc + 1, s);
      push(ctx, pc + 1 + insn.off, cloneState(s));
      continue;
    }
    const op = opInfo(insn.code);
    if (!op) {
      note(pc, `unknown opcode 0x${insn.code.toString(16)}`);
      continue;
    }
    if (insn.dst > 10 || insn.src > 10) {
      // the VM's validation refuses the program; the pass only stops this path
      note(pc, `invalid register r${Math.max(insn.dst, insn.src)}`);
      continue;
    }
    switch (op.kind) {
      case 'alu': case 'neg': case 'end':
        R[insn.dst] = alu(insn, op.name, op.is64, op.srcReg, R[insn.dst]!, op.srcReg ? R[insn.src]! : scalar(BigInt(insn.imm)));
        push(ctx, pc + 1, s);
        break;
      case 'lddw': {
        const next = insns[pc + 1];
        const lo = BigInt(insn.imm >>> 0);
        const hi = BigInt((next?.imm ?? 0) >>> 0);
        if (insn.src === 0) R[insn.dst] = scalar((hi << 32n) | lo);
        else if (insn.src === 1) R[insn.dst] = ptr('CONST_PTR_TO_MAP', { mapIndex: insn.imm });
        else if (insn.src === 2) {
          R[insn.dst] = ptr('PTR_TO_MAP_VALUE', { mapIndex: insn.imm, off: (next?.imm ?? 0) >>> 0 });
        } else if (insn.src === 4) R[insn.dst] = ptr('PTR_TO_FUNC', { funcPc: pc + 1 + insn.imm });
        else R[insn.dst] = scalar(); // __ksym/__kconfig externs: not modelled by the loader
        push(ctx, pc + 2, s);
        break;
      }
      case 'ldx': {
        const base = R[insn.src]!;
        record(pc, base, insn.off, op.size, false, insn.src);
        R[insn.dst] = load(base, insn.off, op.size, s, ctxLoad, btf, freshId);
        push(ctx, pc + 1, s);
        break;
      }
      case 'st': case 'stx': case 'atomic': {
        const base = R[insn.dst]!;
        record(pc, base, insn.off, op.size, true, insn.dst);
        if (base.type === 'PTR_TO_STACK' && !base.varOff) {
          const fr = s.frames[base.frameNo ?? 0];
          const off = base.off + insn.off;
          if (fr) {
            const slot = Math.floor(off / 8) * 8;
            if (op.kind === 'stx' && op.size === 8 && off % 8 === 0) fr.stack.set(slot, R[insn.src]!);
            else if (op.kind === 'st' && op.size === 8 && off % 8 === 0) fr.stack.set(slot, scalar(BigInt(insn.imm)));
            else {
              fr.stack.delete(slot);
              const endSlot = Math.floor((off + op.size - 1) / 8) * 8;
              if (endSlot !== slot) fr.stack.delete(endSlot);
            }
          }
        }
        if (op.kind === 'atomic') {
          // BPF_FETCH forms load into src (cmpxchg into r0)
          if (insn.imm === 0xf1) R[0] = scalar();
          else if (insn.imm & 1) R[insn.src] = scalar();
        }
        push(ctx, pc + 1, s);
        break;
      }
      case 'ja':
        push(ctx, pc + 1 + (op.is64 ? insn.off : insn.imm), s);
        break;
      case 'jcond': {
        // is_branch_taken: a known outcome follows one side only (the other path is dead)
        const known = branchTaken(op.name, op.is64, R[insn.dst]!, op.srcReg ? R[insn.src]! : scalar(BigInt(insn.imm)));
        const taken = cloneState(s);
        const fall = s;
        // mark_ptr_or_null_regs: 64-bit jeq/jne against 0 of a _or_null pointer
        if (op.is64 && (op.name === 'jeq' || op.name === 'jne')) {
          const d = R[insn.dst]!;
          const zero = op.srcReg ? R[insn.src]!.type === 'SCALAR_VALUE' && R[insn.src]!.value === 0n : insn.imm === 0;
          if (zero && d.maybeNull && isPtr(d)) {
            const nullSide = op.name === 'jeq' ? taken : fall;
            const liveSide = op.name === 'jeq' ? fall : taken;
            markNull(nullSide, d, insn.dst, true);
            markNull(liveSide, d, insn.dst, false);
          }
        }
        if (known !== true) push(ctx, pc + 1, fall);
        if (known !== false) push(ctx, pc + 1 + insn.off, taken);
        break;
      }
      case 'call': {
        if (insn.src === 1) {
          // bpf-to-bpf call: a new frame with r1-r5, in the context of this call site
          if (s.frames.length >= MAX_FRAMES) { note(pc, 'call depth past 8 frames'); break; }
          const callee: FrameState = { regs: Array.from({ length: 11 }, notInit), stack: new Map(), returnPc: pc + 1, callback: false };
          for (let i = 1; i <= 5; i++) callee.regs[i] = R[i]!;
          callee.regs[10] = ptr('PTR_TO_STACK', { frameNo: s.frames.length });
          s.frames.push(callee);
          push(`${ctx}/${pc}`, pc + 1 + insn.imm, s);
          break;
        }
        const name = insn.src === 2 ? kfuncName(insn.imm) : helperName(insn.imm);
        // callbacks: analysed in a frame of their own, once per call site
        const cb = callbackArgs(name, R);
        if (cb && s.frames.length < MAX_FRAMES) {
          const fn = R[cb.fnReg]!;
          if (fn.type === 'PTR_TO_FUNC' && fn.funcPc !== undefined) {
            const cs = cloneState(s);
            const callee: FrameState = { regs: Array.from({ length: 11 }, notInit), stack: new Map(), returnPc: -1, callback: true };
            cb.args.forEach((a, i) => { callee.regs[i + 1] = a; });
            callee.regs[10] = ptr('PTR_TO_STACK', { frameNo: cs.frames.length });
            cs.frames.push(callee);
            push(`${ctx}/cb${pc}`, fn.funcPc, cs);
          }
        }
        const ret = insn.src === 2 ? kfuncRet(name, f, btf, progType) : (HELPER_RET[name]?.(f, btf) ?? scalar());
        if (ret.maybeNull) ret.id = freshId();
        for (let i = 1; i <= 5; i++) R[i] = notInit();
        R[0] = ret;
        push(ctx, pc + 1, s);
        break;
      }
      case 'exit': {
        if (s.frames.length === 1) break;
        const done = s.frames.pop()!;
        if (done.callback) break; // the helper's own path continues after its call
        const caller = s.frames[s.frames.length - 1]!;
        caller.regs[0] = done.regs[0]!;
        for (let i = 1; i <= 5; i++) caller.regs[i] = notInit();
        const parent = ctx.slice(0, ctx.lastIndexOf('/'));
        push(parent, done.returnPc, s);
        break;
      }
    }
  }

  function recordPc(pc: number, f: FrameState): void {
    const m = merged[pc];
    if (!m) {
      merged[pc] = { regs: f.regs.slice(), stack: new Map(f.stack) };
      return;
    }
    const regs = m.regs as RegState[];
    for (let r = 0; r < 11; r++) regs[r] = joinReg(regs[r]!, f.regs[r]!);
    const st = m.stack as Map<number, RegState>;
    for (const [off, v] of st) {
      const w = f.stack.get(off);
      const j = w ? joinReg(v, w) : scalar();
      if (j.type === 'SCALAR_VALUE' && j.value === undefined) st.delete(off);
      else st.set(off, j);
    }
  }

  function record(pc: number, base: RegState, insnOff: number, size: number, write: boolean, reg: number): void {
    const prev = accesses.get(pc);
    const b = prev ? joinReg(prev.base, base) : base;
    const off = b.varOff || b.type === 'CONFLICT' ? undefined : b.off + insnOff;
    accesses.set(pc, { base: b, off, size, write, reg });
  }

  const unreachable: number[] = [];
  for (let pc = 0; pc < n; pc++) {
    if (merged[pc]) continue;
    // the second slot of an ld_imm64 is never an instruction of its own
    if (pc > 0 && insns[pc - 1]!.code === 0x18 && merged[pc - 1]) continue;
    unreachable.push(pc);
  }
  return {
    accessAt: (pc) => accesses.get(pc),
    kindsAt: (pc) => merged[pc],
    unreachable,
    notes,
  };
}

/** The callback a helper runs and the registers it gets (kernel/bpf/verifier.c
 *  set_loop_callback_state, set_map_elem_callback_state). */
function callbackArgs(name: string, R: RegState[]): { fnReg: number; args: RegState[] } | null {
  if (name === 'bpf_loop') return { fnReg: 2, args: [scalar(), R[3]!] };
  if (name === 'bpf_for_each_map_elem') {
    const m = R[1]!.mapIndex;
    return { fnReg: 2, args: [R[1]!, ptr('PTR_TO_MAP_KEY', { mapIndex: m }), ptr('PTR_TO_MAP_VALUE', { mapIndex: m }), R[3]!] };
  }
  return null;
}

/** The outcome of a conditional jump when the kinds decide it (kernel/bpf/verifier.c
 *  is_branch_taken): two known scalars, or a non-NULL pointer against 0; else undefined. */
function branchTaken(name: string, is64: boolean, a: RegState, b: RegState): boolean | undefined {
  if (isPtr(a) && !a.maybeNull && b.type === 'SCALAR_VALUE' && b.value === 0n && is64) {
    if (name === 'jeq') return false;
    if (name === 'jne') return true;
    return undefined;
  }
  if (a.type !== 'SCALAR_VALUE' || b.type !== 'SCALAR_VALUE' || a.value === undefined || b.value === undefined) return undefined;
  const bits = is64 ? 64 : 32;
  const x = BigInt.asUintN(bits, a.value);
  const y = BigInt.asUintN(bits, b.value);
  const sx = BigInt.asIntN(bits, a.value);
  const sy = BigInt.asIntN(bits, b.value);
  switch (name) {
    case 'jeq': return x === y;
    case 'jne': return x !== y;
    case 'jgt': return x > y;
    case 'jge': return x >= y;
    case 'jlt': return x < y;
    case 'jle': return x <= y;
    case 'jsgt': return sx > sy;
    case 'jsge': return sx >= sy;
    case 'jslt': return sx < sy;
    case 'jsle': return sx <= sy;
    case 'jset': return (x & y) !== 0n;
    default: return undefined;
  }
}

/** NULL test outcome for every copy of `d` (same id), or just register `reg` without an id. */
function markNull(s: State, d: RegState, reg: number, isNull: boolean): void {
  const fix = (r: RegState): RegState => {
    if (isNull) return scalar(0n);
    const x = { ...r, maybeNull: false };
    return x;
  };
  const f = s.frames[s.frames.length - 1]!;
  if (d.id === 0) {
    f.regs[reg] = fix(f.regs[reg]!);
    return;
  }
  for (const fr of s.frames) {
    for (let i = 0; i < 11; i++) if (fr.regs[i]!.id === d.id && fr.regs[i]!.maybeNull) fr.regs[i] = fix(fr.regs[i]!);
    for (const [off, v] of fr.stack) if (v.id === d.id && v.maybeNull) fr.stack.set(off, fix(v));
  }
}

/** A load's result (check_mem_access). */
function load(base: RegState, insnOff: number, size: number, s: State, ctxLoad: (off: number, size: number) => RegState,
  btf: BtfIndex, freshId: () => number): RegState {
  const off = base.off + insnOff;
  switch (base.type) {
    case 'PTR_TO_CTX': {
      if (base.varOff) return scalar();
      const r = ctxLoad(off, size);
      if (r.id === -1) r.id = freshId();
      return r;
    }
    case 'PTR_TO_STACK': {
      if (base.varOff) return scalar();
      const fr = s.frames[base.frameNo ?? 0];
      if (size === 8 && off % 8 === 0) {
        const v = fr?.stack.get(off);
        if (v) return v;
      }
      return scalar();
    }
    case 'PTR_TO_BTF_ID':
      return base.varOff ? scalar() : btf.load(base.btfId ?? 0, off, size);
    default:
      return scalar();
  }
}

const M64 = (1n << 64n) - 1n;

/** ALU on kinds: pointer +/- scalar moves the offset (a known constant) or makes it variable;
 *  anything else gives a scalar, constant-folded where both sides are known. */
function alu(insn: Insn, name: string, is64: boolean, srcReg: boolean, d: RegState, src: RegState): RegState {
  if (name === 'mov') {
    if (!is64) {
      // mov32 (and movsx) of a pointer leaks it as a scalar
      if (src.type !== 'SCALAR_VALUE') return scalar();
      return src.value !== undefined && insn.off === 0 ? scalar(src.value & 0xffffffffn) : scalar();
    }
    if (insn.off !== 0) return scalar(); // movsx
    return srcReg ? src : scalar(BigInt(insn.imm));
  }
  if (is64 && (name === 'add' || name === 'sub')) {
    if (isPtr(d) && src.type === 'SCALAR_VALUE') return movePtr(d, src, name === 'sub');
    if (name === 'add' && d.type === 'SCALAR_VALUE' && isPtr(src)) return movePtr(src, d, false);
    if (isPtr(d) && isPtr(src)) return scalar(); // pointer difference (packet_end - packet...)
  }
  if (d.type !== 'SCALAR_VALUE' || src.type !== 'SCALAR_VALUE' || d.value === undefined || src.value === undefined) {
    return scalar();
  }
  if (insn.off !== 0 && (name === 'div' || name === 'mod')) return scalar(); // sdiv/smod: no folding
  const bits = is64 ? 64n : 32n;
  const mask = is64 ? M64 : 0xffffffffn;
  const a = d.value & mask;
  const b = src.value & mask;
  let v: bigint | undefined;
  switch (name) {
    case 'add': v = a + b; break;
    case 'sub': v = a - b; break;
    case 'mul': v = a * b; break;
    case 'div': v = b === 0n ? 0n : a / b; break;
    case 'mod': v = b === 0n ? a : a % b; break;
    case 'or': v = a | b; break;
    case 'and': v = a & b; break;
    case 'xor': v = a ^ b; break;
    case 'lsh': v = a << (b & (bits - 1n)); break;
    case 'rsh': v = a >> (b & (bits - 1n)); break;
    case 'arsh': v = BigInt.asIntN(Number(bits), a) >> (b & (bits - 1n)); break;
    case 'neg': v = -a; break;
    default: v = undefined; // le/be/bswap
  }
  return v === undefined ? scalar() : scalar(v & mask);
}

function movePtr(p: RegState, by: RegState, sub: boolean): RegState {
  const r = { ...p };
  if (by.value !== undefined && !p.varOff) {
    const delta = Number(BigInt.asIntN(64, by.value));
    if (Math.abs(delta) < 1 << 29) {
      r.off = p.off + (sub ? -delta : delta);
      return r;
    }
  }
  r.varOff = true;
  return r;
}
