// UAPI and kernel constants the BPF side needs beyond the sockops table. Per-op facts never
// live here: they come from the table (sockops/). Values from the Linux 7.1.5 tree.

/** include/uapi/asm-generic/errno-base.h, errno.h */
export const EPERM = 1;
export const ENOENT = 2;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const E2BIG = 7;
export const ENOSPC = 28;
export const ENOMSG = 42;
export const EOPNOTSUPP = 95;

/** include/linux/limits.h */
export const INT_MAX = 0x7fffffff;

/** include/linux/socket.h, include/uapi/asm-generic/socket.h, include/uapi/linux/tcp.h */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const IPPROTO_TCP = 6;
export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_IPV6 = 41;
export const SOL_TCP = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_RCVLOWAT = 18;
export const TCP_NODELAY = 1;
/** include/uapi/linux/bpf.h: TCP_BPF_* (set/get through bpf_setsockopt only). */
export const TCP_BPF_IW = 1001;
export const TCP_BPF_SNDCWND_CLAMP = 1002;
export const TCP_BPF_DELACK_MAX = 1003;
export const TCP_BPF_RTO_MIN = 1004;
export const TCP_BPF_SYN = 1005;
export const TCP_BPF_SYN_IP = 1006;
export const TCP_BPF_SYN_MAC = 1007;
export const TCP_BPF_SOCK_OPS_CB_FLAGS = 1008;
export const SK_BPF_CB_FLAGS = 1009;

/** include/uapi/linux/bpf.h map update flags and sk_storage flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;
export const BPF_SK_STORAGE_GET_F_CREATE = 1;

/** enum bpf_map_type (include/uapi/linux/bpf.h). */
export const MapType = {
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  SOCKMAP: 15,
  SOCKHASH: 18,
  SK_STORAGE: 24,
  RINGBUF: 27,
} as const;

/** net/core/sock.c: sysctl_rmem_max default (4 MiB in 7.1.5). */
export const SYSCTL_RMEM_MAX = 4 << 20;
/** include/net/sock.h SOCK_MIN_RCVBUF = 2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff));
 *  sizeof(struct sk_buff) = 232 on x86_64 -> 256 aligned (assumed config). */
export const SOCK_MIN_RCVBUF = 2048 + 256;

/** include/linux/license.h license_is_gpl_compatible(). */
export function licenseIsGplCompatible(license: string): boolean {
  return ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'].includes(license);
}


/** Kernel names of errnos, for traces when the table does not know one. */
export const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST',
  22: 'EINVAL', 28: 'ENOSPC', 42: 'ENOMSG', 93: 'EPROTONOSUPPORT', 95: 'EOPNOTSUPP', 117: 'EUCLEAN', 524: 'ENOTSUPP',
};
