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
