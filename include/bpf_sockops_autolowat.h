/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * bpf_sockops_autolowat.h - the AutoLOWAT sock_ops ABI (profile autolowat-sockops-v3 of bpf-sockops)
 * for BPF programs built against a kernel whose headers do not have it yet.
 *
 * Include it AFTER vmlinux.h (or after <linux/bpf.h> and <bpf/bpf_helpers.h>):
 *
 *     #include "vmlinux.h"
 *     #include <bpf/bpf_helpers.h>
 *     #include "bpf_sockops_autolowat.h"
 *
 * What it provides (values as in bpf-sockops' sockops/ table; RCVQ_CB = 21 and the flag bit 0x80 are
 * our assumption: the next free op and cb-flag bit of Linux 7.1.5, not confirmed by the series):
 *   - BPF_SOCK_OPS_RCVQ_CB (21), BPF_SOCK_OPS_RCVQ_CB_FLAG (0x80), BPF_SOCK_OPS_ALL_CB_FLAGS (0xFF);
 *   - the kfunc declarations bpf_cast_to_kern_ctx(), bpf_rdonly_cast(), bpf_sock_ops_enable_tx_tstamp()
 *     and bpf_sock_ops_tcp_set_rcvlowat() (extern __ksym __weak);
 *   - the socket-option macros a hook writes (SOL_SOCKET, SOL_TCP, SO_RCVLOWAT, TCP_NODELAY, ...), which
 *     vmlinux.h never has because they are #defines; each is guarded by #ifndef.
 *
 * Enum constants cannot be tested with #ifdef, so this header uses feature macros you define yourself:
 *
 *   BPF_SOCKOPS_AUTOLOWAT_HAVE_UAPI
 *       Define it (before including this file) when your vmlinux.h / <linux/bpf.h> comes from a kernel
 *       with the AutoLOWAT series: the kernel's own BPF_SOCK_OPS_RCVQ_CB, BPF_SOCK_OPS_RCVQ_CB_FLAG and
 *       BPF_SOCK_OPS_ALL_CB_FLAGS then win and this header defines none of them. If you forget, the
 *       compiler stops with "redefinition of enumerator 'BPF_SOCK_OPS_RCVQ_CB'", never a silent mismatch.
 *   BPF_SOCKOPS_AUTOLOWAT_NO_KFUNCS
 *       Define it when something else (e.g. a vmlinux.h with kfunc prototypes) already declares the kfuncs
 *       with different parameter types.
 *
 * Without BPF_SOCKOPS_AUTOLOWAT_HAVE_UAPI, BPF_SOCK_OPS_ALL_CB_FLAGS is re-#defined to 0xFF: an unpatched
 * header says 0x7F. That is why this file must come after the header defining the enum.
 */
#ifndef BPF_SOCKOPS_AUTOLOWAT_H
#define BPF_SOCKOPS_AUTOLOWAT_H

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

#ifndef BPF_SOCKOPS_AUTOLOWAT_HAVE_UAPI
/* Real enumerators, so they show up in BTF and in the debugger by name. */
enum bpf_sockops_autolowat_op {
	BPF_SOCK_OPS_RCVQ_CB = 21,		/* skb queued on sk_receive_queue, or recvmsg() done */
};
enum bpf_sockops_autolowat_cb_flag {
	BPF_SOCK_OPS_RCVQ_CB_FLAG = (1 << 7),	/* enables BPF_SOCK_OPS_RCVQ_CB */
};
#ifdef BPF_SOCK_OPS_ALL_CB_FLAGS
#undef BPF_SOCK_OPS_ALL_CB_FLAGS
#endif
#define BPF_SOCK_OPS_ALL_CB_FLAGS 0xFF
#endif /* !BPF_SOCKOPS_AUTOLOWAT_HAVE_UAPI */

/* Socket options (include/uapi/asm-generic/socket.h, include/linux/socket.h, include/uapi/linux/tcp.h). */
#ifndef SOL_IP
#define SOL_IP 0
#endif
#ifndef SOL_SOCKET
#define SOL_SOCKET 1
#endif
#ifndef SOL_TCP
#define SOL_TCP 6
#endif
#ifndef SOL_IPV6
#define SOL_IPV6 41
#endif
#ifndef SO_SNDBUF
#define SO_SNDBUF 7
#endif
#ifndef SO_RCVBUF
#define SO_RCVBUF 8
#endif
#ifndef SO_RCVLOWAT
#define SO_RCVLOWAT 18
#endif
#ifndef SO_MARK
#define SO_MARK 36
#endif
#ifndef TCP_NODELAY
#define TCP_NODELAY 1
#endif
#ifndef TCP_MAXSEG
#define TCP_MAXSEG 2
#endif
#ifndef TCP_CONGESTION
#define TCP_CONGESTION 13
#endif
#ifndef TCP_NOTSENT_LOWAT
#define TCP_NOTSENT_LOWAT 25
#endif
#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif
/* TCP header flag bits as seen in skb_tcp_flags / TCP_SKB_CB(skb)->tcp_flags. */
#ifndef TCPHDR_FIN
#define TCPHDR_FIN 0x01
#endif
#ifndef TCPHDR_SYN
#define TCPHDR_SYN 0x02
#endif
#ifndef TCPHDR_PSH
#define TCPHDR_PSH 0x08
#endif

#ifndef BPF_SOCKOPS_AUTOLOWAT_NO_KFUNCS
struct bpf_sock_ops_kern;

/* The struct bpf_sock_ops_kern behind a sock_ops ctx (sk, args, skb, op, ...). */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;
/* Read-only view of any pointer as BTF type btf_id (what bpf_core_cast() uses). */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;
/* BPF TX timestamping for this sendmsg; only at BPF_SOCK_OPS_TSTAMP_SENDMSG_CB, flags must be 0. */
extern int bpf_sock_ops_enable_tx_tstamp(struct bpf_sock_ops_kern *skops, __u64 flags) __ksym __weak;
/* Set sk_rcvlowat from BPF_SOCK_OPS_RCVQ_CB; negative val means INT_MAX; -EOPNOTSUPP at other ops. */
extern int bpf_sock_ops_tcp_set_rcvlowat(struct bpf_sock_ops_kern *skops, int val) __ksym __weak;
#endif /* !BPF_SOCKOPS_AUTOLOWAT_NO_KFUNCS */

#endif /* BPF_SOCKOPS_AUTOLOWAT_H */
