// The shape of the sock_ops ABI table. Data only: the rows live in profiles (see ./profiles/),
// lookups in ./index.ts. Both the language server and the simulated kernel read these rows, so
// a diagnostic and an emulated run can never disagree about what a helper does at an op.

/** Where a row comes from. `kernel-7.1.5`: read in the kernel tree; `seed`: stated by the
 *  AutoLOWAT v3 series (../shared/seed); `assumed`: our choice where no source speaks. */
export type Confidence = 'kernel-7.1.5' | 'seed' | 'assumed';

export interface Source {
  /** Kernel file, e.g. `net/core/filter.c`, or `seed: patch 5/11`. */
  file: string;
  /** Function or symbol, e.g. `bpf_sock_ops_setsockopt`. */
  func: string;
  confidence: Confidence;
  /** One line on what was read there, or why we assume. */
  note?: string;
}

export type ProgType = 'sock_ops' | 'cgroup_setsockopt' | 'cgroup_getsockopt';

export interface OpInfo {
  value: number;
  name: string; // BPF_SOCK_OPS_RCVQ_CB
  short: string; // RCVQ_CB
  /** Meaning of args[0..3] at this op ('' when unused). */
  args: [string, string, string, string];
  /** What the program's return / `reply` means at this op, if anything. */
  reply?: string;
  /** When the kernel runs the program with this op (call sites). */
  fires: string;
  /** Name of the cb flag that must be set for the op to fire (undefined: always fires). */
  enabledBy?: string;
  /** Values of bpf_sock_ops_kern flags at this op: decide which ctx fields read as 0. */
  isFullsock: boolean | 'varies';
  isLockedTcpSock: boolean | 'varies';
  /** Whether ctx->skb (bpf_sock_ops_kern.skb) is set. */
  hasSkb: boolean | 'varies';
  addedByProfile?: boolean;
  /** The kernel never runs a program with this op (no call site passes it): analyses leave it
   *  out of op sets and "fails at" lists. `why` cites where the absence was checked. */
  neverFires?: { why: string; source: Source };
  source: Source;
}

export interface CbFlagInfo {
  name: string; // BPF_SOCK_OPS_RCVQ_CB_FLAG
  value: number; // 0x80
  /** Ops this flag turns on. */
  ops: number[];
  doc?: string;
  addedByProfile?: boolean;
  source: Source;
}

export type CtxGate =
  | 'none' // read straight from the kern ctx or sk, valid at every op
  | 'locked_tcp_sock' // reads as 0 unless is_locked_tcp_sock
  | 'fullsock' // NULL unless is_fullsock
  | 'skb'; // 0 when skb == NULL

export interface CtxFieldInfo {
  name: string; // e.g. 'remote_ip6' ; array fields name the whole array
  offset: number;
  size: number; // bytes of the whole field (16 for args[4])
  /** Access sizes the verifier accepts for loads (e.g. [4], [8], [1,2,4]). Empty: not readable. */
  readSizes: number[];
  /** Access size the verifier accepts for stores; undefined: read-only. */
  writeSize?: number;
  /** Element size for array fields (args, remote_ip6, ...). */
  elemSize?: number;
  /** C type as the UAPI spells it, for hovers: '__u32', '__u64', 'struct bpf_sock *'. */
  ctype: string;
  /** What the verifier turns a load into (PTR_TO_SOCKET_OR_NULL, PTR_TO_PACKET, scalar). */
  regType?: string;
  gate: CtxGate;
  doc: string;
  /** Ops at which a read is meaningless/always 0 beyond the gate (e.g. skb_data at RCVQ_CB). */
  /** kind 'empty': the field holds a pointer but the packet window [skb_data, skb_data_end) is empty
   *  (end_offset 0), so nothing can be read directly; default 'zero'. */
  zeroAt?: { ops: number[]; why: string; hint?: string; kind?: 'zero' | 'empty'; source: Source };
  /** Further zeroAt entries, each with its own source (e.g. one from the kernel, one from the seed). */
  alsoZeroAt?: { ops: number[]; why: string; hint?: string; kind?: 'zero' | 'empty'; source: Source; addedByProfile?: boolean }[];
  source: Source;
}

/** What a helper/kfunc does at run time at a given op, before its own argument checks. */
export interface OpRule {
  /** Ops this rule covers. */
  ops: number[];
  /** Errno returned (negative, e.g. -95), or 'ok'. */
  result: number | 'ok';
  /** Only when the arguments match (e.g. 'level == SOL_TCP && optname == TCP_NODELAY').
   *  `arg` is the 0-based index of the C call's argument (0 = the ctx pointer). */
  when?: { arg: number; equals: number; name: string }[];
  why: string;
  source: Source;
  /** Set on rules a profile adds to a baseline row. */
  addedByProfile?: boolean;
  /** The kernel function runs its own argument checks before this rule, so a call that fails
   *  them gets their errno (e.g. -EINVAL) instead of `result`; the text says which checks. The
   *  emulator runs those checks first; the language server shows the text. */
  afterArgChecks?: string;
  /** Only when the op runs without an skb (bpf_sock_ops_kern.skb == NULL). Without a run to
   *  look at (the language server), it applies at ops whose hasSkb is false, not where it varies. */
  whenNoSkb?: boolean;
  /** When the rule applies the helper zeroes its output buffer first (an ARG_PTR_TO_UNINIT_MEM
   *  error path): the 0-based C argument index of the buffer and of its length. */
  zeroes?: { arg: number; lenArg: number };
}

export interface ParamInfo {
  name: string;
  ctype: string;
  doc?: string;
}

export interface HelperInfo {
  id: number; // BPF_FUNC_* value
  name: string; // bpf_setsockopt
  ret: string; // C return type
  params: ParamInfo[];
  doc: string;
  /** Load-time availability per program type; a string explains a rejection or a capability need. */
  progTypes: Partial<Record<ProgType, true | { needs: 'CAP_BPF' | 'CAP_PERFMON' | 'CAP_SYS_ADMIN' }>>;
  /** Per-op rules for sock_ops, checked in order; first match wins; no match means 'ok'. */
  sockOpsRules: OpRule[];
  /** Non-op errors worth knowing (for hovers): errno and when. */
  errors?: { errno: number; when: string }[];
  /** True if the AutoLOWAT profile adds this on purpose (absent in the baseline kernel). */
  addedByProfile?: boolean;
  /** The proto is gpl_only: a non-GPL program is rejected at load time. */
  gplOnly?: boolean;
  /** might_sleep proto: rejected in non-sleepable programs (sock_ops and cgroup sockopt are not sleepable). */
  sleepableOnly?: boolean;
  /** Program types outside ProgType where the helper exists (for "not allowed here, use it in ..." hints). */
  otherProgTypes?: string[];
  /** Load-time sources per program type where they differ from `source`. */
  progSource?: Partial<Record<ProgType, Source>>;
  source: Source;
}

export interface KfuncInfo {
  name: string;
  ret: string;
  params: ParamInfo[];
  doc: string;
  progTypes: ProgType[];
  sockOpsRules: OpRule[];
  errors?: { errno: number; when: string }[];
  addedByProfile?: boolean;
  /** KF_* flags of the kfunc's registration, e.g. ['KF_TRUSTED_ARGS'] (informative). */
  flags?: string[];
  source: Source;
}

export interface Profile {
  name: string; // autolowat-sockops-v3
  description: string;
  /** The profile this one extends (the baseline kernel), if any. */
  baseline?: string;
  ops: OpInfo[];
  cbFlags: CbFlagInfo[];
  allCbFlags: number; // BPF_SOCK_OPS_ALL_CB_FLAGS
  ctxSize: number; // sizeof(struct bpf_sock_ops)
  ctxFields: CtxFieldInfo[];
  helpers: HelperInfo[];
  kfuncs: KfuncInfo[];
  /** Named integer constants users write (SOL_SOCKET, SO_RCVLOWAT, TCP_BPF_SOCK_OPS_CB_FLAGS...). */
  constants: { name: string; value: number; source: Source; addedByProfile?: boolean }[];
  errnos: { name: string; value: number }[];
}

/** One function-pointer member of a struct_ops type (e.g. bpf_tcp_ops.enqueue_rcvq). */
export interface StructOpsMemberInfo {
  name: string; // enqueue_rcvq
  /** The BPF_PROG() arguments, in order: each is one u64 of the program's context array. */
  args: ParamInfo[];
  ret: string;
  /** When the kernel calls the member. */
  fires: string;
  /** Helpers (kernel names) and kfuncs a program implementing this member may call. */
  helpers: string[];
  kfuncs: string[];
  source: Source;
}

/** A struct_ops type a profile adds (the series' struct bpf_tcp_ops): matched by name in the
 *  program's own BTF, its members matched by name. */
export interface StructOpsInfo {
  struct: string; // bpf_tcp_ops
  members: StructOpsMemberInfo[];
  /** The per-socket flag that must be set for the members to run, with its kfunc. */
  enabledBy: { flag: string; value: number; kfunc: string; source: Source };
  source: Source;
}

/** Profiles whose hooks are struct_ops members instead of a sock_ops op (optional: the sock_ops
 *  profiles have none). Kept apart from Profile so the sock_ops rows stay as they are. */
export interface StructOpsProfile extends Profile {
  structOps: StructOpsInfo;
}
