// JMP and JMP32 classes (RFC 9669 §4.3). Conditional jumps compare dst with src or imm.

export const JMP_OPS = [
  { op: 0x00, name: 'ja', sym: '' }, // JMP: off is the target; JMP32: imm is the target (gotol)
  { op: 0x10, name: 'jeq', sym: '==' },
  { op: 0x20, name: 'jgt', sym: '>' },
  { op: 0x30, name: 'jge', sym: '>=' },
  { op: 0x40, name: 'jset', sym: '&' },
  { op: 0x50, name: 'jne', sym: '!=' },
  { op: 0x60, name: 'jsgt', sym: 's>' },
  { op: 0x70, name: 'jsge', sym: 's>=' },
  { op: 0x80, name: 'call', sym: '' }, // JMP only
  { op: 0x90, name: 'exit', sym: '' }, // JMP only
  { op: 0xa0, name: 'jlt', sym: '<' },
  { op: 0xb0, name: 'jle', sym: '<=' },
  { op: 0xc0, name: 'jslt', sym: 's<' },
  { op: 0xd0, name: 'jsle', sym: 's<=' },
] as const;

export type JmpName = (typeof JMP_OPS)[number]['name'];

/** BPF_JCOND (JMP class only, 0xe5): conditional pseudo jumps (include/uapi/linux/bpf.h). The
 *  only form is may_goto (src = BPF_MAY_GOTO = 0; dst and imm 0; kernel/bpf/verifier.c
 *  check_jmp_op: "invalid may_goto imm %d"). */
export const JCOND = 0xe0;
export const MAY_GOTO = 0xe5; // BPF_JMP | BPF_JCOND
/** The per-frame may_goto budget: BPF_MAX_LOOPS (include/linux/bpf.h), the value the subprogram
 *  prologue stores into the hidden stack slot (kernel/bpf/fixups.c, the BPF_ST_MEM(..., BPF_MAX_LOOPS)
 *  patch when the JIT has no timed may_goto). */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;
