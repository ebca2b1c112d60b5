// LD (ld_imm64 only), LDX, ST, STX classes with their size and mode fields (RFC 9669 §5).

export const SIZES = [
  { size: 0x00, bytes: 4, name: 'w', c: 'u32', s: 's32' },
  { size: 0x08, bytes: 2, name: 'h', c: 'u16', s: 's16' },
  { size: 0x10, bytes: 1, name: 'b', c: 'u8', s: 's8' },
  { size: 0x18, bytes: 8, name: 'dw', c: 'u64', s: 's64' },
] as const;

export const MODE_IMM = 0x00; // ld_imm64 (LD | DW | IMM = 0x18)
export const MODE_ABS = 0x20; // legacy packet access, not for sock_ops
export const MODE_IND = 0x40;
export const MODE_MEM = 0x60;
export const MODE_MEMSX = 0x80; // LDX only: sign-extending loads (cpu v4)
export const MODE_ATOMIC = 0xc0; // STX only, W and DW

/** ld_imm64 src values (kernel uapi bpf.h BPF_PSEUDO_*). */
/** ld_imm64 src=4 (BPF_PSEUDO_FUNC): the address of the function at pc + 1 + imm (a callback). */
export const LDIMM64_FUNC = 4;

export const LDIMM64_SRC_NAMES: Record<number, string> = {
  0: 'imm64',
  1: 'map fd',
  2: 'map value',
  3: 'btf id',
  4: 'func',
  5: 'map idx',
  6: 'map idx value',
};

/** Atomic operations (imm field of STX | ATOMIC). BPF_FETCH = 0x01. */
export const ATOMIC_OPS = [
  { imm: 0x00, name: 'add', sym: '+=', fetch: false },
  { imm: 0x40, name: 'or', sym: '|=', fetch: false },
  { imm: 0x50, name: 'and', sym: '&=', fetch: false },
  { imm: 0xa0, name: 'xor', sym: '^=', fetch: false },
  { imm: 0x01, name: 'fetch add', sym: 'atomic_fetch_add', fetch: true },
  { imm: 0x41, name: 'fetch or', sym: 'atomic_fetch_or', fetch: true },
  { imm: 0x51, name: 'fetch and', sym: 'atomic_fetch_and', fetch: true },
  { imm: 0xa1, name: 'fetch xor', sym: 'atomic_fetch_xor', fetch: true },
  { imm: 0xe1, name: 'xchg', sym: 'xchg', fetch: true },
  { imm: 0xf1, name: 'cmpxchg', sym: 'cmpxchg', fetch: true },
] as const;

export const ATOMIC_XCHG = 0xe1;
export const ATOMIC_CMPXCHG = 0xf1;
