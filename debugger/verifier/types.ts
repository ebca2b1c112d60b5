// The public contract of the static pass over a loaded program: what kind of value each register
// (and each spilled 8-byte stack slot) holds before each instruction, along every path, as
// kernel/bpf/verifier.c tracks it in struct bpf_reg_state (reg->type, reg->off, PTR_MAYBE_NULL,
// PTR_UNTRUSTED, reg->btf_id, reg->map_ptr, reg->id). The emulator asks it which view a load or a
// store goes through (ctx, a UAPI socket view, a BTF pointer...) so that it can convert the access
// as the kernel's convert_ctx_access functions do before the program runs.
//
// This pass tracks kinds only: scalars carry a known constant or nothing. Value bounds (tnum,
// min/max) are a separate layer that the full verifier adds beside it (debugger/verifier/ other
// files); RegState is open for that: extra fields may be added, and joinReg()/sameReg() in
// ./kinds.ts are the one place that compares states.
import type { BpfObject, BpfProgram } from '../object/types';
import type { ProgType } from '../../sockops/types';

/** enum bpf_reg_type (include/linux/bpf.h), the members our program types can meet. */
export type RegType =
  | 'NOT_INIT' // never written, or clobbered by a call (r1-r5)
  | 'SCALAR_VALUE'
  | 'PTR_TO_CTX' // struct bpf_sock_ops / struct bpf_sockopt
  | 'CONST_PTR_TO_MAP' // ld_imm64 of a map (BPF_PSEUDO_MAP_FD)
  | 'PTR_TO_MAP_VALUE'
  | 'PTR_TO_MAP_KEY' // bpf_for_each_map_elem callback key
  | 'PTR_TO_STACK'
  | 'PTR_TO_PACKET' // bpf_sock_ops.skb_data, bpf_sockopt.optval
  | 'PTR_TO_PACKET_END' // bpf_sock_ops.skb_data_end, bpf_sockopt.optval_end
  | 'PTR_TO_SOCKET' // struct bpf_sock view of a full socket
  | 'PTR_TO_SOCK_COMMON' // struct bpf_sock view of a sock_common (may be a request/timewait sock)
  | 'PTR_TO_TCP_SOCK' // struct bpf_tcp_sock view
  | 'PTR_TO_BTF_ID' // a kernel struct typed by BTF (btfId); loads are probe reads
  | 'PTR_TO_MEM' // helper-returned memory of memSize bytes
  | 'PTR_TO_FUNC' // ld_imm64 of a callback (BPF_PSEUDO_FUNC)
  | 'CONFLICT'; // paths reaching this point disagree on the kind (our own: the kernel keeps them apart)

/** One register (or spilled stack slot) before an instruction. */
export interface RegState {
  type: RegType;
  /** Fixed offset from the start of the object the pointer names (reg->off). */
  off: number;
  /** A variable amount was added to the pointer (reg->var_off not constant): no single offset. */
  varOff: boolean;
  /** PTR_MAYBE_NULL: the pointer may be NULL until a test against 0 (the _or_null kinds). */
  maybeNull: boolean;
  /** PTR_TO_BTF_ID: false for PTR_UNTRUSTED (bpf_rdonly_cast, pointers loaded from kernel
   *  structs), true for pointers the kernel hands over (bpf_cast_to_kern_ctx, ctx->sk). */
  trusted?: boolean;
  /** PTR_TO_BTF_ID: the struct's id in the program's BTF (0 when the program has no such type). */
  btfId?: number;
  /** CONST_PTR_TO_MAP, PTR_TO_MAP_VALUE, PTR_TO_MAP_KEY: index into BpfObject.maps. */
  mapIndex?: number;
  /** PTR_TO_MEM: size of the memory in bytes, when known. */
  memSize?: number;
  /** PTR_TO_STACK: the frame the pointer is into (0 = entry function). */
  frameNo?: number;
  /** PTR_TO_FUNC: start pc of the callback. */
  funcPc?: number;
  /** SCALAR_VALUE: the value when it is the same on every path (u64). */
  value?: bigint;
  /** reg->id: copies of one _or_null pointer share it, so a NULL test on one refines all. 0: none. */
  id: number;
  /** CONFLICT: the kinds the paths disagreed on (sorted). */
  conflictOf?: RegType[];
}

/** The base of one load or store, joined over every path and call context that reach its pc. */
export interface AccessInfo {
  /** The base register's state (for a CONFLICT, the paths disagreed). */
  base: RegState;
  /** base.off + insn.off: the byte offset inside the object, or undefined with a variable offset. */
  off: number | undefined;
  size: number;
  write: boolean;
  /** The register used as base (src for LDX, dst for ST/STX/atomic). */
  reg: number;
}

/** The registers and spilled stack slots of the innermost frame before an instruction. */
export interface KindsAtPc {
  regs: readonly RegState[]; // r0..r10
  /** Spilled 8-byte slots by fp-relative offset (-8, -16, ...). */
  stack: ReadonlyMap<number, RegState>;
}

export interface KindsResult {
  /** The base of the memory access at pc (LDX, ST, STX, atomic), or undefined when pc is not
   *  an access or no path reaches it. */
  accessAt(pc: number): AccessInfo | undefined;
  /** Register kinds before pc, joined over every path reaching it; undefined if none does. */
  kindsAt(pc: number): KindsAtPc | undefined;
  /** pcs no path reaches. */
  readonly unreachable: readonly number[];
  /** Things the pass could not follow (unknown opcode, call depth) with their pc: the result is
   *  still usable for the rest of the program. */
  readonly notes: readonly { pc: number; message: string }[];
}

export interface KindsOptions {
  /** sockops table profile whose ctx rows give the pointer kinds of bpf_sock_ops fields. */
  profile?: string;
}

/** The pass's signature (implemented by analyzeKinds in ./kinds.ts). */
export type AnalyzeKinds = (prog: BpfProgram, progType: ProgType, obj: BpfObject, opts?: KindsOptions) => KindsResult;
