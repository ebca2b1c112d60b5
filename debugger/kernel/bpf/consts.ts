// UAPI and kernel constants the BPF side needs beyond the sockops table. Per-op facts never
// live here: they come from the table (sockops/). Values from the Linux 7.1.5 tree.
import { getProfile } from '../../../sockops/index';

// The errnos and the UAPI names users write (SOL_*, SO_*, TCP_*, TCP_BPF_*) come from the
// table's baseline profile (sockops/profiles/linux-7.1.5.ts), which cites each one: they are
// looked up here, never re-declared. Every profile keeps these values.
const BASE = getProfile('linux-7.1.5');
const errnoOf = (name: string): number => {
  const e = BASE.errnos.find((x) => x.name === name);
  if (!e) throw new Error(`sockops profile ${BASE.name} has no errno ${name}`);
  return e.value;
};
const uapi = (name: string): number => {
  const c = BASE.constants.find((x) => x.name === name);
  if (!c) throw new Error(`sockops profile ${BASE.name} has no constant ${name}`);
  return c.value;
};

/** Positive errno values (include/uapi/asm-generic/errno-base.h, errno.h), from the table. */
export const EPERM = errnoOf('EPERM');
export const ENOENT = errnoOf('ENOENT');
export const ENOMEM = errnoOf('ENOMEM');
export const EFAULT = errnoOf('EFAULT');
export const EBUSY = errnoOf('EBUSY');
export const EEXIST = errnoOf('EEXIST');
export const ENODEV = errnoOf('ENODEV');
export const EINVAL = errnoOf('EINVAL');
export const E2BIG = errnoOf('E2BIG');
export const ENOSPC = errnoOf('ENOSPC');
export const ENOMSG = errnoOf('ENOMSG');
export const ENOPROTOOPT = errnoOf('ENOPROTOOPT');
export const EOPNOTSUPP = errnoOf('EOPNOTSUPP');
export const ENOTSUPP = errnoOf('ENOTSUPP');
export const EUCLEAN = errnoOf('EUCLEAN');

/** include/linux/limits.h */
export const INT_MAX = 0x7fffffff;

export const AF_INET = uapi('AF_INET');
export const AF_INET6 = uapi('AF_INET6');
/** include/linux/net.h SOCK_STREAM, include/uapi/linux/in.h IPPROTO_TCP (not in the table). */
export const SOCK_STREAM = 1;
export const IPPROTO_TCP = 6;
export const SOL_SOCKET = uapi('SOL_SOCKET');
export const SOL_IP = uapi('SOL_IP');
export const SOL_IPV6 = uapi('SOL_IPV6');
export const SOL_TCP = uapi('SOL_TCP');
export const SO_REUSEADDR = uapi('SO_REUSEADDR');
export const SO_SNDBUF = uapi('SO_SNDBUF');
export const SO_RCVBUF = uapi('SO_RCVBUF');
export const SO_KEEPALIVE = uapi('SO_KEEPALIVE');
export const SO_PRIORITY = uapi('SO_PRIORITY');
export const SO_REUSEPORT = uapi('SO_REUSEPORT');
export const SO_RCVLOWAT = uapi('SO_RCVLOWAT');
export const SO_BINDTODEVICE = uapi('SO_BINDTODEVICE');
export const SO_MARK = uapi('SO_MARK');
export const SO_MAX_PACING_RATE = uapi('SO_MAX_PACING_RATE');
export const SO_BINDTOIFINDEX = uapi('SO_BINDTOIFINDEX');
export const SO_TXREHASH = uapi('SO_TXREHASH');
export const TCP_NODELAY = uapi('TCP_NODELAY');
export const TCP_MAXSEG = uapi('TCP_MAXSEG');
export const TCP_KEEPIDLE = uapi('TCP_KEEPIDLE');
export const TCP_KEEPINTVL = uapi('TCP_KEEPINTVL');
export const TCP_KEEPCNT = uapi('TCP_KEEPCNT');
export const TCP_SYNCNT = uapi('TCP_SYNCNT');
export const TCP_WINDOW_CLAMP = uapi('TCP_WINDOW_CLAMP');
export const TCP_CONGESTION = uapi('TCP_CONGESTION');
export const TCP_USER_TIMEOUT = uapi('TCP_USER_TIMEOUT');
export const TCP_NOTSENT_LOWAT = uapi('TCP_NOTSENT_LOWAT');
export const TCP_SAVE_SYN = uapi('TCP_SAVE_SYN');
export const TCP_SAVED_SYN = uapi('TCP_SAVED_SYN');
export const IP_TOS = uapi('IP_TOS');
export const IPV6_TCLASS = uapi('IPV6_TCLASS');
/** include/uapi/linux/tcp.h and in6.h: options bpf_setsockopt accepts that the table does not
 *  list (users rarely write them; the table's clang check runs against the host's older headers,
 *  which lack TCP_RTO_MAX_MS). */
export const TCP_THIN_LINEAR_TIMEOUTS = 16;
export const TCP_RTO_MAX_MS = 44;
export const IPV6_AUTOFLOWLABEL = 70;
/** include/uapi/linux/bpf.h: TCP_BPF_* (bpf_setsockopt/bpf_getsockopt only). */
export const TCP_BPF_IW = uapi('TCP_BPF_IW');
export const TCP_BPF_SNDCWND_CLAMP = uapi('TCP_BPF_SNDCWND_CLAMP');
export const TCP_BPF_DELACK_MAX = uapi('TCP_BPF_DELACK_MAX');
export const TCP_BPF_RTO_MIN = uapi('TCP_BPF_RTO_MIN');
export const TCP_BPF_SYN = uapi('TCP_BPF_SYN');
export const TCP_BPF_SYN_IP = uapi('TCP_BPF_SYN_IP');
export const TCP_BPF_SYN_MAC = uapi('TCP_BPF_SYN_MAC');
export const TCP_BPF_SOCK_OPS_CB_FLAGS = uapi('TCP_BPF_SOCK_OPS_CB_FLAGS');
export const SK_BPF_CB_FLAGS = uapi('SK_BPF_CB_FLAGS');
export const SK_BPF_CB_MASK = uapi('SK_BPF_CB_MASK');
/** enum BPF_TCP_* states the option handlers look at. */
export const BPF_TCP_CLOSE = uapi('BPF_TCP_CLOSE');
export const BPF_TCP_LISTEN = uapi('BPF_TCP_LISTEN');
export const BPF_TCP_NEW_SYN_RECV = uapi('BPF_TCP_NEW_SYN_RECV');

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

/** include/linux/license.h license_is_gpl_compatible(). */
export function licenseIsGplCompatible(license: string): boolean {
  return ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'].includes(license);
}


/** Kernel names of errnos, for traces when the table does not know one (from the baseline profile). */
export const ERRNO_NAMES: Record<number, string> = Object.fromEntries(BASE.errnos.map((e) => [e.value, e.name]));
