// CALL (JMP | 0x80) source forms and EXIT (RFC 9669 §4.3.1; kernel uapi BPF_PSEUDO_CALL,
// BPF_PSEUDO_KFUNC_CALL).

export const CALL_HELPER = 0; // imm = helper id
export const CALL_LOCAL = 1; // BPF_PSEUDO_CALL: target = pc + 1 + imm
export const CALL_KFUNC = 2; // BPF_PSEUDO_KFUNC_CALL: imm = kfunc index (loader's encoding)

export const CALL_SRC_NAMES: Record<number, string> = {
  [CALL_HELPER]: 'helper',
  [CALL_LOCAL]: 'bpf-to-bpf',
  [CALL_KFUNC]: 'kfunc',
};

// Callback values: what an ld_imm64 src=4 (BPF_PSEUDO_FUNC) loads. The kernel loads the
// function's address (PTR_TO_FUNC, usable only as a helper's callback_fn argument); ours is a
// tagged value, high word CALLBACK_HI, low word the function's start pc. No memory region has
// that high word, so a load or store through it faults.
export const CALLBACK_HI = 0xcb000000;
const CALLBACK_TAG = BigInt(CALLBACK_HI) << 32n;

export function callbackValue(pc: number): bigint {
  return CALLBACK_TAG | BigInt(pc >>> 0);
}

/** The pc a callback value names, or null when v is not a callback value. */
export function callbackPc(v: bigint): number | null {
  if (v >> 32n !== BigInt(CALLBACK_HI)) return null;
  return Number(v & 0xffffffffn);
}
