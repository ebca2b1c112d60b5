// ALU and ALU64 classes (RFC 9669 §4.1; kernel include/uapi/linux/bpf_common.h, bpf.h).
// One row per operation; the opcode is op | source bit | class.

export const ALU_OPS = [
  // op nibble, name (conformance assembler mnemonic), llvm-objdump operator
  { op: 0x00, name: 'add', sym: '+=' },
  { op: 0x10, name: 'sub', sym: '-=' },
  { op: 0x20, name: 'mul', sym: '*=' },
  { op: 0x30, name: 'div', sym: '/=' }, // off=1: sdiv 's/='
  { op: 0x40, name: 'or', sym: '|=' },
  { op: 0x50, name: 'and', sym: '&=' },
  { op: 0x60, name: 'lsh', sym: '<<=' },
  { op: 0x70, name: 'rsh', sym: '>>=' },
  { op: 0x80, name: 'neg', sym: '= -' }, // BPF_K only, no operand
  { op: 0x90, name: 'mod', sym: '%=' }, // off=1: smod 's%='
  { op: 0xa0, name: 'xor', sym: '^=' },
  { op: 0xb0, name: 'mov', sym: '=' }, // off=8/16/32: movsx
  { op: 0xc0, name: 'arsh', sym: 's>>=' },
  { op: 0xd0, name: 'end', sym: '' }, // byte swaps: le/be (ALU), bswap (ALU64 | TO_LE)
] as const;

export type AluName = (typeof ALU_OPS)[number]['name'];

/** Signed variants selected by the off field (RFC 9669 §4.1: "offset = 1"). */
export const SIGNED_ALU = { div: { name: 'sdiv', sym: 's/=' }, mod: { name: 'smod', sym: 's%=' } } as const;
/** MOVSX widths allowed by the off field: 8/16/32 for ALU64, 8/16 for ALU (RFC 9669 §4.1.1). */
export const MOVSX_OFFS_64 = [8, 16, 32] as const;
export const MOVSX_OFFS_32 = [8, 16] as const;
/** Byte swap widths (imm) for END. */
export const END_WIDTHS = [16, 32, 64] as const;
