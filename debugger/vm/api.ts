// The public contract of the eBPF VM. Implementations live beside this file; users (the loader,
// the simulated kernel, the debug adapter, the CLI, the kernel-oracle tests) import only what is
// declared or re-exported by ./index.ts. Values cross this boundary as bigint (exact, unsigned
// 64-bit, 0 <= v < 2^64); the interpreter may keep registers differently inside.

/** One 8-byte instruction slot, as in the object file. ld_imm64 takes two slots. */
export interface Insn {
  code: number; // opcode byte
  dst: number; // 0..15 (validated to 0..10)
  src: number; // 0..15
  off: number; // signed 16-bit
  imm: number; // signed 32-bit
}

export type FaultKind =
  | 'bad-access' // load/store outside every region, or a store into a read-only region
  | 'bad-insn' // unknown opcode or reserved field in use (found at validation)
  | 'stack-overflow' // more than 8 nested frames
  | 'budget' // instruction budget exhausted
  | 'helper' // unknown helper/kfunc, or a helper implementation reported a fault
  | 'ctx-access'; // an access to the program context that the verifier would reject

/** A fault the guest caused. Never a host exception: every entry point catches and returns these. */
export interface Fault {
  kind: FaultKind;
  pc: number; // instruction index (slot index) where it happened
  message: string; // says what and where, e.g. "load of 4 bytes at 0x... is outside any region"
  addr?: bigint;
}

/** A guest memory region: stack frame, context, map value, global data, kernel object, packet. */
export interface RegionSpec {
  name: string; // "ctx", "stack", "map rcvq_state value #3", "tcp_sock", ".rodata"
  kind: 'stack' | 'ctx' | 'map' | 'global' | 'kernel' | 'packet' | 'other';
  bytes: Uint8Array; // backing store; the VM reads and writes it in place (little-endian)
  writable: boolean;
  /** Optional access check, called for every load/store into this region (ctx rules, read-only
   *  fields, watchpoints). Return null to allow, or a message that becomes a 'ctx-access' fault.
   *  Regions without it take the fast path. */
  check?: (offset: number, size: number, write: boolean) => string | null;
  /** Optional notification after a store (data breakpoints, write-back of ctx fields). */
  onWrite?: (offset: number, size: number) => void;
}

export interface Region extends RegionSpec {
  base: bigint; // guest address of bytes[0]
}

export interface MemoryApi {
  /** Map a region; returns its guest base address. Bases are stable for the region's life. */
  map(spec: RegionSpec): bigint;
  unmap(base: bigint): void;
  /** The region and offset holding [addr, addr+len), or null. */
  find(addr: bigint, len: number): { region: Region; offset: number } | null;
  regions(): Region[];
  /** Host-side accessors (for helpers and the debugger). They throw GuestFaultError on a bad address. */
  read(addr: bigint, size: 1 | 2 | 4 | 8): bigint;
  write(addr: bigint, size: 1 | 2 | 4 | 8, value: bigint): void;
  readBytes(addr: bigint, len: number): Uint8Array;
  writeBytes(addr: bigint, data: Uint8Array): void;
  /** NUL-terminated string of at most max bytes. */
  readCString(addr: bigint, max: number): string;
}

/** The view a helper or kfunc implementation gets of the running VM. */
export interface HelperContext {
  readonly memory: MemoryApi;
  reg(i: number): bigint; // r0..r10
  /** pc of the call instruction. */
  pc: number;
  /** Throw this (or return via fault()) to end the run with a 'helper' fault. */
  fault(message: string): never;
  /** The start pc of the function a callback value names (what an ld_imm64 src=4,
   *  BPF_PSEUDO_FUNC, loads), or null when `v` is not one. Provided by the VM. */
  callbackTarget?(v: bigint): number | null;
}

/** A call of a guest function made by a helper (bpf_loop, bpf_for_each_map_elem): `fn` is a
 *  callback value (ld_imm64 src=4), `args` go to r1..r5 (missing ones are 0). */
export interface GuestCall {
  fn: bigint;
  args: readonly bigint[];
}

/** A helper that calls back into the guest returns this instead of r0: a generator that yields
 *  one GuestCall per callback and gets the callback's r0 back as the value of the `yield`; what
 *  it returns is the helper's r0. The VM runs each callback in a new frame (512-byte stack,
 *  counted against the 8-frame limit, r6-r9 preserved) within the same run: the same budget,
 *  the hook sees its instructions, pause/step work inside it, frames() shows it (Frame.callbackOf),
 *  and a fault inside it ends the run at the callback's pc, as kernel/bpf/verifier.c models
 *  callbacks (push_callback_call). Throwing from the generator works as from a HelperFn. */
export type HelperCoroutine = Generator<GuestCall, bigint, bigint>;

/** Returns r0 (bigint, taken mod 2^64), or a HelperCoroutine for a helper with callbacks. */
export type HelperFn = (ctx: HelperContext, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint) => bigint | HelperCoroutine;

export interface CallTable {
  /** BPF helper by id (call insn with src=0). */
  helper(id: number): HelperFn | undefined;
  /** kfunc by index (call insn with src=2, imm = index into the program's kfunc list). */
  kfunc(index: number): HelperFn | undefined;
  /** Names for messages: "unknown helper #26 (bpf_skb_load_bytes)". */
  helperName?(id: number): string;
  kfuncName?(index: number): string;
}

/** A program ready to run: instruction slots plus how ld_imm64 pseudo forms resolve. */
export interface ExecutableSpec {
  insns: Insn[];
  /** Resolve an ld_imm64 whose src is non-zero (1 = map by index, 2 = map value at offset,
   *  the loader's encoding) to the 64-bit value to load. Called once, at prepare time.
   *  src=4 (BPF_PSEUDO_FUNC, target = pc + 1 + imm) is resolved by the VM itself to a callback
   *  value that only helpers accept (a load through it faults). */
  resolveLdImm64?: (pc: number, src: number, imm: number, nextImm: number) => bigint;
  /** Start pcs of functions (entry first): bpf-to-bpf call targets, for frames and the debugger. */
  funcStarts?: number[];
  /** pcs of loads the kernel runs as BPF_PROBE_MEM (loads through PTR_TO_BTF_ID pointers): one
   *  outside every region reads 0 instead of faulting, as the kernel's exception table makes a
   *  failed probe read, and onProbeFault is told. Other faults (ctx checks) are unchanged. */
  probeLoads?: ReadonlySet<number>;
  onProbeFault?: (pc: number, addr: bigint, size: number) => void;
}

export interface Frame {
  funcStart: number; // pc of the function's first instruction
  returnPc: number; // pc to resume in the caller (-1 for the entry frame)
  fp: bigint; // r10 of this frame
  stackBase: bigint; // guest address of the frame's 512-byte stack
  /** A callback frame: the pc of the helper call (bpf_loop...) that called it; returnPc is that
   *  pc + 1, where the caller resumes once the helper returns. Absent for other frames. */
  callbackOf?: number;
  /** r6-r9 of the caller as saved at the call (restored at exit); absent for the entry frame.
   *  The debugger reads a caller's callee-saved registers from here. */
  callerRegs?: bigint[];
}

export interface RunOptions {
  /** Instruction budget for this run (default 1_000_000). */
  budget?: number;
  /** Called before each instruction when set; return true to pause (run() then returns
   *  {status:'paused'}). Costs nothing when absent. */
  hook?: (pc: number) => boolean | void;
}

export type RunStatus =
  | { status: 'exit'; r0: bigint; insns: number }
  | { status: 'fault'; fault: Fault; insns: number }
  | { status: 'paused'; pc: number; insns: number };

export interface VmApi {
  readonly memory: MemoryApi;
  /** Start a run: fresh registers, r1 = arg1 (ctx address), r10 = top of a fresh frame. */
  start(r1: bigint, opts?: RunOptions): void;
  /** Continue the current run (after start or a pause). */
  resume(opts?: RunOptions): RunStatus;
  /** Execute exactly one instruction of the current run (for stepping). */
  step(): RunStatus;
  /** start + resume. */
  run(r1: bigint, opts?: RunOptions): RunStatus;
  readonly pc: number;
  readonly insnCount: number; // instructions executed in the current run
  reg(i: number): bigint;
  setReg(i: number, v: bigint): void;
  frames(): Frame[]; // innermost last
}
