// Sizes an object declares, checked at load the way the kernel checks them (and, where the kernel
// would allocate whatever it is told, against the emulator's own memory bound), so that a size
// taken from the object never becomes a host allocation: a load error names the map or type, the
// size, the limit and where the limit comes from.
//
// Kernel facts (Linux 7.1.5; x86_64 figures, which depend on the page size and the config):
// - KMALLOC_MAX_SIZE = 1 << (MAX_PAGE_ORDER + PAGE_SHIFT) = 1 << (10 + 12) = 4 MiB
//   (include/linux/slab.h, include/linux/mmzone.h MAX_PAGE_ORDER 10).
// - MAX_BPF_STACK = 512 (include/linux/filter.h); PCPU_MIN_UNIT_SIZE = 32 KiB (include/linux/percpu.h).
// - sizeof(struct htab_elem) = 48 and sizeof(struct bpf_local_storage_elem) = 128 (read from the
//   running 6.18 kernel's BTF; assumed unchanged in 7.1.5).
// - BTF_MAX_SIZE = 16 MiB (kernel/bpf/btf.c): a larger .BTF is -E2BIG at BPF_BTF_LOAD.
import type { ParsedBtf } from './btf';
import type { MapDef } from './types';

const KMALLOC_MAX_SIZE = 4 << 20;
const MAX_BPF_STACK = 512;
const PCPU_MIN_UNIT_SIZE = 32 << 10;
const INT_MAX = 0x7fffffff;
const HTAB_ELEM_SIZE = 48;
const LOCAL_STORAGE_ELEM_SIZE = 128;
/** include/linux/bpf_local_storage.h BPF_LOCAL_STORAGE_MAX_VALUE_SIZE: min(KMALLOC_MAX_SIZE -
 *  MAX_BPF_STACK - elem, U16_MAX - elem). */
export const BPF_LOCAL_STORAGE_MAX_VALUE_SIZE = Math.min(KMALLOC_MAX_SIZE - MAX_BPF_STACK - LOCAL_STORAGE_ELEM_SIZE, 0xffff - LOCAL_STORAGE_ELEM_SIZE);
export const BTF_MAX_SIZE = 16 << 20;

/** The emulator's bound on the memory of one array map (values are allocated as the kernel's
 *  array_map_alloc does, max_entries * round_up(value_size, 8)); the kernel's bound is the
 *  machine's memory. Ours, assumed: 256 MiB. */
export const EMULATOR_MAX_ARRAY_BYTES = 256 << 20;
/** Kernel structs the emulator lays out from the program's BTF (tcp_sock and the structs it
 *  starts with, sk_buff, tcp_skb_cb, bpf_sock_ops_kern, request socks). On the running 6.18
 *  kernel the largest, struct tcp_sock, is 2304 bytes; a declaration beyond 64 KiB cannot
 *  describe the kernel's struct (assumed bound, 28 times tcp_sock). */
export const KERNEL_STRUCTS = ['sock_common', 'sock', 'inet_sock', 'inet_connection_sock', 'tcp_sock', 'request_sock', 'inet_request_sock', 'tcp_request_sock', 'sk_buff', 'tcp_skb_cb', 'bpf_sock_ops_kern'];
export const MAX_KERNEL_STRUCT_SIZE = 64 << 10;

const HASH_TYPES = new Set(['HASH', 'PERCPU_HASH', 'LRU_HASH', 'LRU_PERCPU_HASH', 'HASH_OF_MAPS']);
const ARRAY_TYPES = new Set(['ARRAY', 'PERCPU_ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'CGROUP_ARRAY', 'ARRAY_OF_MAPS']);
const STORAGE_TYPES = new Set(['SK_STORAGE', 'INODE_STORAGE', 'TASK_STORAGE', 'CGRP_STORAGE']);
const roundUp8 = (n: number) => Math.ceil(n / 8) * 8;

/** Why the kernel (or the emulator's memory bound) refuses the map, or null. */
export function mapSizeProblem(def: MapDef): string | null {
  const short = def.typeName.replace(/^BPF_MAP_TYPE_/, '');
  const { keySize: k, valueSize: v, maxEntries: n } = def;
  const percpu = short.startsWith('PERCPU') || short === 'LRU_PERCPU_HASH';
  if (!Number.isSafeInteger(k) || !Number.isSafeInteger(v) || k > 0xffffffff || v > 0xffffffff) {
    return `key or value type of ${k > 0xffffffff || !Number.isSafeInteger(k) ? k : v} bytes does not fit the u32 of bpf_attr (kernel/bpf/btf.c: "Array size overflows U32_MAX"): -E2BIG`;
  }
  if (HASH_TYPES.has(short)) {
    if (n === 0 || k === 0 || v === 0) return `max_entries ${n}, key_size ${k}, value_size ${v}: none may be 0: -EINVAL (kernel/bpf/hashtab.c htab_map_alloc_check)`;
    if (k + v >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) return `key_size ${k} + value_size ${v} is at least KMALLOC_MAX_SIZE (4 MiB) - sizeof(struct htab_elem): -E2BIG (kernel/bpf/hashtab.c htab_map_alloc_check)`;
  } else if (ARRAY_TYPES.has(short)) {
    if (short !== 'PERF_EVENT_ARRAY' && short !== 'PROG_ARRAY' && short !== 'CGROUP_ARRAY' && short !== 'ARRAY_OF_MAPS' && (n === 0 || k !== 4 || v === 0)) return `max_entries ${n}, key_size ${k}, value_size ${v}: an array needs max_entries > 0, key_size 4 and value_size > 0: -EINVAL (kernel/bpf/arraymap.c array_map_alloc_check)`;
    if (v > INT_MAX) return `value_size ${v} is over INT_MAX: -E2BIG (kernel/bpf/arraymap.c array_map_alloc_check)`;
  } else if (STORAGE_TYPES.has(short)) {
    if (k !== 4 || v === 0) return `key_size ${k}, value_size ${v}: local storage needs key_size 4 and value_size > 0: -EINVAL (kernel/bpf/bpf_local_storage.c bpf_local_storage_map_alloc_check)`;
    if (v > BPF_LOCAL_STORAGE_MAX_VALUE_SIZE) return `value_size ${v} is over BPF_LOCAL_STORAGE_MAX_VALUE_SIZE (${BPF_LOCAL_STORAGE_MAX_VALUE_SIZE}): -E2BIG (kernel/bpf/bpf_local_storage.c bpf_local_storage_map_alloc_check)`;
  } else if (short === 'SOCKMAP' || short === 'SOCKHASH') {
    if (v !== 4 && v !== 8) return `value_size ${v} is neither 4 nor 8 (a socket fd or cookie): -EINVAL (net/core/sock_map.c ${short === 'SOCKMAP' ? 'sock_map_alloc' : 'sock_hash_alloc'})`;
    if (short === 'SOCKHASH' && k > MAX_BPF_STACK) return `key_size ${k} is over MAX_BPF_STACK (512): -E2BIG (net/core/sock_map.c sock_hash_alloc)`;
  } else if (v > KMALLOC_MAX_SIZE) {
    // other types are not modelled; their values must still never become a host allocation
    return `value_size ${v} is over KMALLOC_MAX_SIZE (4 MiB); the emulator does not model ${def.typeName} and refuses values larger than the kernel can kmalloc (assumed bound)`;
  }
  if (percpu && roundUp8(v) > PCPU_MIN_UNIT_SIZE) return `a per-CPU value of ${v} bytes is over PCPU_MIN_UNIT_SIZE (32 KiB): -E2BIG (kernel/bpf/${short.includes('HASH') ? 'hashtab.c htab_map_alloc_check' : 'arraymap.c array_map_alloc_check'})`;
  if (ARRAY_TYPES.has(short) && short !== 'PROG_ARRAY' && short !== 'ARRAY_OF_MAPS' && n * roundUp8(v) > EMULATOR_MAX_ARRAY_BYTES) {
    return `max_entries ${n} * value_size ${v} (rounded up to 8) is ${n * roundUp8(v)} bytes, over the emulator's ${EMULATOR_MAX_ARRAY_BYTES >> 20} MiB per array map (the kernel allocates it whole in array_map_alloc; our bound is assumed)`;
  }
  return null;
}

/** Bytes of global data (one array map per .data/.rodata/.bss section) the emulator accepts. */
export function globalDataProblem(size: number): string | null {
  if (size > EMULATOR_MAX_ARRAY_BYTES) return `global data of ${size} bytes is over the emulator's ${EMULATOR_MAX_ARRAY_BYTES >> 20} MiB per array map (libbpf makes an array map of it; the kernel allocates it whole; our bound is assumed)`;
  return null;
}

/** A kernel struct the emulator lays out declared larger than any kernel's: the type and why. */
export function kernelStructProblem(btf: ParsedBtf): { name: string; detail: string } | null {
  const names = new Set(KERNEL_STRUCTS);
  for (const t of btf.types) {
    if ((t.kind !== 'struct' && t.kind !== 'union') || !names.has(t.name.replace(/___.*$/, ''))) continue;
    const size = t.size ?? 0;
    if (size > MAX_KERNEL_STRUCT_SIZE) {
      return { name: t.name, detail: `${t.kind} ${t.name} is declared ${size} bytes; the kernel's is a few KiB (struct tcp_sock, the largest, is 2304 bytes on x86_64 6.18) and the emulator lays out at most ${MAX_KERNEL_STRUCT_SIZE >> 10} KiB (assumed bound). Use the kernel's definition (vmlinux.h) or a CO-RE subset of its fields` };
    }
  }
  return null;
}
