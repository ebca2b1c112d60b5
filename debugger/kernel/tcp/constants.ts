// Kernel constants of the TCP receive path that are not part of the sock_ops ABI table
// (sockops/): TCP header flags, sysctl defaults, memory accounting sizes. Each cites where it is
// defined in Linux 7.1.5; sizes that depend on the build are marked as our assumption.

/** include/net/tcp.h: TCPHDR_FIN / TCPHDR_SYN / TCPHDR_PSH / TCPHDR_ACK. */
export const TCPHDR_FIN = 0x01;
export const TCPHDR_SYN = 0x02;
export const TCPHDR_PSH = 0x08;
export const TCPHDR_ACK = 0x10;

/** include/linux/limits (INT_MAX): SO_RCVLOWAT and the kfunc map negative values to it. */
export const INT_MAX = 0x7fffffff;

/** net/ipv4/tcp.c tcp_init(): sysctl_tcp_rmem = {4096, 131072, max(131072, mem-based)}.
 *  rmem[2] depends on the machine's memory; 6 MiB is what a machine with >= 4 GiB gets
 *  (assumed; override with scenario socket.tcpRmemMax). */
export const TCP_RMEM_DEFAULT = 131072;
export const TCP_RMEM_MAX_DEFAULT = 6 * 1024 * 1024;

/** net/core/sock.c: sysctl_rmem_max default (SK_RMEM_MAX = 212992 on 64-bit, assumed build). */
export const SYSCTL_RMEM_MAX = 212992;

/** include/net/sock.h: SOCK_MIN_RCVBUF = TCP_SKB_MIN_TRUESIZE = 2048 + SKB_DATA_ALIGN(sizeof(struct sk_buff));
 *  sizeof(struct sk_buff) = 232 on x86-64, aligned to 256 (assumed build). */
export const SOCK_MIN_RCVBUF = 2048 + 256;

/** include/linux/skbuff.h SKB_TRUESIZE(X) = X + SKB_DATA_ALIGN(sizeof(struct sk_buff)) +
 *  SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): 256 + 320 on x86-64 (assumed build). */
export const SKB_TRUESIZE_OVERHEAD = 256 + 320;

/** include/net/tcp.h: TCP_RMEM_TO_WIN_SCALE (include/linux/tcp.h) = 8 and
 *  TCP_DEFAULT_SCALING_RATIO = 1 << 7: tcp_space_from_win(win) = win * 256 / ratio = 2 * win. */
export const TCP_RMEM_TO_WIN_SCALE = 8;
export const TCP_DEFAULT_SCALING_RATIO = 128;

/** include/net/tcp.h TCP_MSS_DEFAULT (536): the initial icsk_ack.rcv_mss bound
 *  (tcp_initialize_rcv_mss). */
export const TCP_MSS_DEFAULT = 536;

/** include/linux/skbuff.h MAX_SKB_FRAGS (17 by default): how many segments skb_try_coalesce can
 *  pile into one skb. We count one frag per coalesced segment (assumed; the real count depends
 *  on page layout). */
export const MAX_SKB_FRAGS = 17;

/** Initial advertised window before any scaling (tcp_select_initial_window caps the SYN-ACK
 *  window at 65535); assumed as the starting rcv_wnd. */
export const INITIAL_RCV_WND = 65535;

/** Generic errnos (include/uapi/asm-generic/errno-base.h, errno.h), used when the profile's
 *  errno list lacks one. Positive values. */
export const GENERIC_ERRNOS: Record<string, number> = {
  EPERM: 1, ENOENT: 2, EAGAIN: 11, ENOMEM: 12, EFAULT: 14, EBUSY: 16, EINVAL: 22,
  ENOPROTOOPT: 92, EOPNOTSUPP: 95, ENOTCONN: 107, EUCLEAN: 117,
};
