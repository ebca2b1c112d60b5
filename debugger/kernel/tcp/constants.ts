// Kernel constants of the TCP receive path that are not part of the sock_ops ABI table
// (sockops/): TCP header flags, sysctl defaults, memory accounting sizes. Each cites where it is
// defined in Linux 7.1.5; sizes that depend on the build are marked as our assumption.

/** include/net/tcp.h: TCPHDR_FIN / SYN / RST / PSH / ACK / ECE / CWR. */
export const TCPHDR_FIN = 0x01;
export const TCPHDR_SYN = 0x02;
export const TCPHDR_RST = 0x04;
export const TCPHDR_PSH = 0x08;
export const TCPHDR_ACK = 0x10;
export const TCPHDR_ECE = 0x40;
export const TCPHDR_CWR = 0x80;

/** include/linux/limits.h INT_MAX: one definition, with the UAPI names (../bpf/consts.ts). */
export { INT_MAX } from '../bpf/consts';

/** net/ipv4/tcp.c tcp_init(): sysctl_tcp_rmem = {4096, 131072, max(131072, max_rshare)} with
 *  max_rshare = min(32 MiB, free buffer pages / 128): 32 MiB on a machine with >= 4 GiB
 *  (assumed; override with scenario socket.tcpRmemMax). The 6 MiB of older kernels is gone. */
export const TCP_RMEM_DEFAULT = 131072;
export const TCP_RMEM_MAX_DEFAULT = 32 * 1024 * 1024;

/** net/core/sock.c: `__u32 sysctl_rmem_max __read_mostly = 4 << 20;` (7.1.5 line 286; older
 *  kernels had SK_RMEM_MAX, 212992). SO_RCVBUF is clamped to it before doubling. */
export const SYSCTL_RMEM_MAX = 4 << 20;
/** net/core/sock.c: `__u32 sysctl_wmem_max __read_mostly = 4 << 20;` (7.1.5 line 284).
 *  SO_SNDBUF is clamped to it before doubling. */
export const SYSCTL_WMEM_MAX = 4 << 20;
/** net/ipv4/tcp.c tcp_init(): sysctl_tcp_wmem[1] = 16384, the initial sk_sndbuf (tcp_init_sock).
 *  tcp_sndbuf_expand() at the end of the handshake is not modelled (assumed). */
export const TCP_WMEM_DEFAULT = 16384;
/** include/net/sock.h SOCK_MIN_SNDBUF = TCP_SKB_MIN_TRUESIZE * 2. */
export const SOCK_MIN_SNDBUF = 2 * (2048 + 256);

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

/** CONFIG_HZ (assumed 1000, x86_64 defconfig; the timers below are in jiffies). */
export const HZ = 1000;
/** include/net/tcp.h: TCP_RTO_MIN = TCP_DELACK_MAX = HZ/5, TCP_TIMEOUT_MIN = 2 jiffies,
 *  TCP_RTO_MAX = TCP_RTO_MAX_SEC (120) * HZ. */
export const TCP_RTO_MIN = HZ / 5;
export const TCP_DELACK_MAX = HZ / 5;
export const TCP_TIMEOUT_MIN = 2;
export const TCP_RTO_MAX_SEC = 120;
export const TCP_RTO_MAX = TCP_RTO_MAX_SEC * HZ;
/** include/net/tcp.h: keepalive defaults (sysctl_tcp_keepalive_time/intvl/probes) and limits. */
export const TCP_KEEPALIVE_TIME = 120 * 60 * HZ;
export const TCP_KEEPALIVE_INTVL = 75 * HZ;
export const TCP_KEEPALIVE_PROBES = 9;
export const MAX_TCP_KEEPIDLE = 32767;
export const MAX_TCP_KEEPINTVL = 32767;
export const MAX_TCP_KEEPCNT = 127;
/** include/net/tcp.h: TCP_SYN_RETRIES (sysctl_tcp_syn_retries default), MAX_TCP_SYNCNT. */
export const TCP_SYN_RETRIES = 6;
export const MAX_TCP_SYNCNT = 127;
/** include/net/tcp.h: TCP_MIN_MSS, MAX_TCP_WINDOW (TCP_MAXSEG bounds). */
export const TCP_MIN_MSS = 88;
export const MAX_TCP_WINDOW = 32767;
/** include/net/tcp.h TCP_CA_NAME_MAX. */
export const TCP_CA_NAME_MAX = 16;
/** Congestion controls the simulated kernel has registered (tcp_ca_find): cubic is the default
 *  (CONFIG_DEFAULT_TCP_CONG), reno is always built in; no modules are loaded (assumed config). */
export const TCP_CONGESTION_CONTROLS = ['cubic', 'reno'];
/** net/core/net_namespace.c: sysctl_txrehash = SOCK_TXREHASH_ENABLED (1); include/uapi/linux/socket.h
 *  SOCK_TXREHASH_DEFAULT = 255. */
export const SOCK_TXREHASH_ENABLED = 1;
export const SOCK_TXREHASH_DEFAULT = 255;
/** The simulated network namespace's devices: loopback only, ifindex 1 (assumed). */
export const NET_DEVICES: Record<string, number> = { lo: 1 };
