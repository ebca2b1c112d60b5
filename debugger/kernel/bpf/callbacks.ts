// Helpers that call back into the program: bpf_loop (kernel/bpf/bpf_iter.c, and its inlined form
// kernel/bpf/fixups.c inline_bpf_loop) and bpf_for_each_map_elem (kernel/bpf/arraymap.c
// bpf_for_each_array_elem, kernel/bpf/hashtab.c bpf_for_each_hash_elem). Each is a
// HelperCoroutine (debugger/vm/api.ts): it yields one GuestCall per callback and the VM runs the
// callback in a new frame of the same run. Plain TypeScript on the VM's HelperContext, so the
// kernel oracle (test/kernel/) can use them with a bare VM.
import type { GuestCall, HelperContext, HelperCoroutine, HelperFn, Insn } from '../../vm/api';
import { E2BIG, EINVAL } from './consts';

/** include/linux/bpf.h */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;

const r64 = (n: number | bigint) => BigInt.asUintN(64, BigInt(n));

/** The callback_fn argument: a function of this program, else a fault (the verifier wants
 *  PTR_TO_FUNC: an ld_imm64 src=4 of a static function, kernel/bpf/verifier.c check_ld_imm). */
export function callbackArg(hc: HelperContext, helper: string, fn: bigint): bigint {
  const pc = hc.callbackTarget ? hc.callbackTarget(fn) : null;
  if (pc === null) {
    return hc.fault(`callback_fn 0x${BigInt.asUintN(64, fn).toString(16)} is not the address of a static function of this program; the verifier refuses ${helper} without one (ARG_PTR_TO_FUNC)`);
  }
  return fn;
}

/** callback_ctx: ARG_PTR_TO_STACK_OR_NULL (bpf_loop_proto, bpf_for_each_map_elem_proto). */
export function callbackCtxArg(hc: HelperContext, helper: string, ctx: bigint): void {
  if (ctx === 0n) return;
  const hit = hc.memory.find(ctx, 0);
  if (!hit || hit.region.kind !== 'stack') {
    hc.fault(`callback_ctx 0x${ctx.toString(16)} is ${hit ? `in ${hit.region.name}` : 'not a valid pointer'}; the verifier wants a pointer to the stack or NULL (ARG_PTR_TO_STACK_OR_NULL): put what the callback needs in a struct on the stack and pass its address`);
  }
}

/** A callback's r0: the verifier keeps it in [0, 1] (set_loop_callback_state and
 *  set_map_elem_callback_state: callback_ret_range = retval_range(0, 1), checked in
 *  prepare_func_exit "At callback return"), so any other value is a program the kernel refuses. */
export function callbackRet(hc: HelperContext, helper: string, r0: bigint): bigint {
  if (r0 !== 0n && r0 !== 1n) {
    return hc.fault(`the callback returned ${BigInt.asIntN(64, r0)}; the verifier refuses a ${helper} callback that can return anything but 0 (go on) or 1 (stop): "At callback return the register R0 has ... should have been in [0, 1]"`);
  }
  return r0;
}

/**
 * bpf_loop(nr_loops, callback_fn, callback_ctx, flags): callback_fn(i, callback_ctx) for i = 0..
 * nr_loops-1, stopping after a callback that returns 1; returns the number of callbacks made.
 * Two forms, as in the kernel:
 *  - the helper (bpf_iter.c): flags != 0: -EINVAL; nr_loops is u32; > BPF_MAX_LOOPS: -E2BIG;
 *  - inlined by the verifier when it knows flags (R4) is 0 (fixups.c inline_bpf_loop): nr_loops
 *    is the whole 64-bit r1, and -E2BIG comes from a 32-bit mov: r0 = 0x00000000fffffff9, not -7
 *    sign-extended (both confirmed by test:kernel part 4).
 * `inlined`: whether the verifier would inline this call (see bpfLoopInlinedCalls); with flags
 * != 0 at run time the helper form applies whatever was predicted.
 */
export function* bpfLoop(hc: HelperContext, nrLoops: bigint, fn: bigint, ctx: bigint, flags: bigint, inlined = true): HelperCoroutine {
  if (flags !== 0n) return r64(-EINVAL);
  callbackArg(hc, 'bpf_loop', fn);
  callbackCtxArg(hc, 'bpf_loop', ctx);
  if (!inlined) nrLoops &= 0xffffffffn;
  if (nrLoops > BigInt(BPF_MAX_LOOPS)) return inlined ? BigInt((-E2BIG) >>> 0) : r64(-E2BIG);
  const n = Number(nrLoops);
  const call: GuestCall & { args: bigint[] } = { fn, args: [0n, ctx] };
  for (let i = 0; i < n; i++) {
    call.args[0] = BigInt(i);
    const r0 = yield call;
    if (callbackRet(hc, 'bpf_loop', r0) !== 0n) return BigInt(i + 1);
  }
  return BigInt(n);
}

/** bpf_loop as a HelperFn (helper id 181) for a bare VM; `insns`: the program, to tell which
 *  calls the verifier inlines (without it: all of them). */
export function bpfLoopHelperFor(insns?: readonly Insn[]): HelperFn {
  const inl = insns ? bpfLoopInlinedCalls(insns) : null;
  return (hc, r1, r2, r3, r4) => bpfLoop(hc, r1, r2, r3, r4, inl ? inl.has(hc.pc) : true);
}
export const bpfLoopHelper: HelperFn = bpfLoopHelperFor();

export const BPF_FUNC_loop = 181;

/**
 * The bpf_loop calls (their pcs) that the verifier inlines: where it knows R4 (flags) is 0
 * (kernel/bpf/verifier.c update_loop_inline_state, loop_flag_is_zero). We look back through the
 * call's basic block for what last set r4 (following register copies): a mov of 0 inlines; a
 * load (a value the verifier cannot know) or a mov of another constant does not. Anything else,
 * or no definition in the block, counts as inlined (assumed: the verifier tracks constants across
 * blocks and through arithmetic, which this does not).
 */
export function bpfLoopInlinedCalls(insns: readonly Insn[]): Set<number> {
  const n = insns.length;
  const starts = new Set<number>([0]); // basic block starts: jump targets and callees
  for (let pc = 0; pc < n; pc++) {
    const x = insns[pc]!;
    const cls = x.code & 7;
    if (x.code === 0x18) { if (x.src === 4) starts.add(pc + 1 + x.imm); pc++; continue; }
    if ((cls === 5 || cls === 6) && x.code !== 0x85 && x.code !== 0x95) {
      const off = x.code === 0x06 ? x.imm : x.off;
      starts.add(pc + 1 + off);
      starts.add(pc + 1);
    }
    if (x.code === 0x85 && x.src === 1) starts.add(pc + 1 + x.imm);
  }
  const isSecondSlot = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) if (insns[pc]!.code === 0x18) isSecondSlot[++pc] = 1;
  const out = new Set<number>();
  for (let pc = 0; pc < n; pc++) {
    const x = insns[pc]!;
    if (x.code !== 0x85 || x.src !== 0 || x.imm !== BPF_FUNC_loop) continue;
    let reg = 4;
    let verdict = true;
    for (let q = pc - 1; q >= 0 && !starts.has(q + 1); q--) {
      if (isSecondSlot[q]) continue;
      const y = insns[q]!;
      const cls = y.code & 7;
      if (cls === 5 || cls === 6) break; // a jump, call or exit ends the block
      if (cls === 2 || cls === 3) { // stores define no register, but an atomic fetch loads into src
        if (cls === 3 && (y.code & 0xe0) === 0xc0 && (y.imm & 1) && y.src === reg) { verdict = false; break; }
        continue;
      }
      if (y.dst !== reg) continue;
      if (y.code === 0xb7 || y.code === 0xb4) { verdict = y.imm === 0; break; } // mov imm
      if ((y.code === 0xbf || y.code === 0xbc) && y.off === 0) { reg = y.src; continue; } // a copy: follow its source
      if (cls === 1) { verdict = false; break; } // ldx: a value loaded from memory
      if (y.code === 0x18) { verdict = y.src === 0 && y.imm === 0 && insns[q + 1]!.imm === 0; break; }
      break; // other arithmetic: not followed (assumed inlined)
    }
    if (verdict) out.add(pc);
  }
  return out;
}

/** One element as bpf_for_each_map_elem hands it to the callback: guest addresses of the key
 *  (read-only) and of the value. */
export interface ElemPtrs { key: bigint; value: bigint }

/**
 * bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags) over `elems` (made lazily, so a
 * callback that deletes an element not yet visited is not called for it, as with
 * hlist_nulls_for_each_entry_safe): callback_fn(map, &key, value, callback_ctx) per element,
 * stopping after a callback that returns 1; returns the number of elements visited (the stopping
 * one included). flags != 0: -EINVAL (both map types check it first).
 */
export function* forEachMapElem(hc: HelperContext, map: bigint, fn: bigint, ctx: bigint, flags: bigint, elems: () => Iterable<ElemPtrs>): HelperCoroutine {
  if (flags !== 0n) return r64(-EINVAL);
  callbackArg(hc, 'bpf_for_each_map_elem', fn);
  callbackCtxArg(hc, 'bpf_for_each_map_elem', ctx);
  let visited = 0;
  for (const e of elems()) {
    visited++;
    const r0 = yield { fn, args: [map, e.key, e.value, ctx] };
    if (callbackRet(hc, 'bpf_for_each_map_elem', r0) !== 0n) break;
  }
  return BigInt(visited);
}
