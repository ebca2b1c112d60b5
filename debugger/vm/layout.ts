// The interpreter's machine words: one Int32Array (Vm.m) holds the registers, the frame records
// and the pre-decoded program, so that the generated loop (./loop) indexes a single typed array
// (V8 checks its map, buffer and bounds once per instruction instead of once per array).
// Vm.lo, Vm.hi, Vm.mgLeft, ... are views of the same buffer, for the fast tier and the host.

export const STACK_SIZE = 512; // MAX_BPF_STACK per frame
export const MAX_FRAMES = 8; // MAX_CALL_FRAMES (include/linux/bpf_verifier.h)

/** Low words of r0-r10 at M_LO + r, high words at M_HI + r. */
export const M_LO = 0, M_HI = 16;
/** Per frame depth k (0..MAX_FRAMES-1): may_goto budget, return pc, function start, saved-flag
 *  (Vm.savedOk: 0 nothing saved, 1 the caller's r6-r9 saved, SOK_CALLBACK saved and the frame is
 *  a callback of a helper, see Vm.cbIter), high word of the frame's stack base. */
export const M_MG = 32;
export const M_RP = M_MG + MAX_FRAMES;
export const M_FS = M_RP + MAX_FRAMES;
export const M_SOK = M_FS + MAX_FRAMES;
export const SOK_CALLBACK = 2;
export const M_SHI = M_SOK + MAX_FRAMES;
/** The caller's r6-r9 saved by frame k: (lo, hi) pairs at M_SV + k * 8. */
export const M_SV = M_SHI + MAX_FRAMES;
/** The current frame depth (Vm.depth). */
export const M_DEPTH = M_SV + MAX_FRAMES * 8;
/** The stack frames, STACK_SIZE bytes each (frame k from word M_STACK + k * STACK_SIZE / 4): the
 *  Vm maps them as its regions "stack frame k" (consecutive high words from M[M_SHI]), and the
 *  interpreter reaches them through one DataView of the whole buffer (Vm.mdv). */
export const M_STACK = M_DEPTH + 8;
/** Instruction records: REC words per slot, from M_INSN + pc * REC. */
export const M_INSN = M_STACK + MAX_FRAMES * STACK_SIZE / 4;
export const REC_SHIFT = 3, REC = 1 << REC_SHIFT;
/** Fields of a record. DISP: the dispatch word (Vm.disp). IMM: imm. TGT: jump or call target.
 *  BLEN / BREM: Vm.blen / Vm.brem. OFF: off. FILL / W69: at a function start, Vm.fillFrom and
 *  Vm.writes69. The second slot of an ld_imm64 holds the constant's low word in IMM and its high
 *  word in TGT (the record of the ld_imm64 itself + REC). */
export const F_DISP = 0, F_IMM = 1, F_TGT = 2, F_BLEN = 3, F_OFF = 4, F_BREM = 5, F_FILL = 6, F_W69 = 7;
