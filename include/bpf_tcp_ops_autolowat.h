/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * bpf_tcp_ops_autolowat.h - the struct_ops AutoLOWAT ABI (profile autolowat-tcp-ops-v5 of bpf-sockops)
 * for BPF programs built against a kernel whose headers do not have it yet.
 *
 * Include it after <linux/bpf.h> or vmlinux.h and <bpf/bpf_helpers.h>. It provides:
 *   - struct bpf_tcp_ops { enqueue_rcvq(sk, skb); dequeue_rcvq(sk); } (bpf-sockops matches the members
 *     by name in your object's BTF, so the order does not matter to it);
 *   - BPF_TCP_OPS_FLAG_RCVQ (1: our assumption, docs/abi.md §5.1);
 *   - the kfunc declarations bpf_tcp_ops_set_flags(), bpf_tcp_ops_set_rcvlowat(), bpf_dynptr_from_skb(),
 *     bpf_dynptr_slice(), bpf_dynptr_size(), bpf_rdonly_cast() (extern __ksym __weak).
 *
 * Feature macros:
 *   BPF_TCP_OPS_AUTOLOWAT_HAVE_UAPI  your vmlinux.h comes from a kernel with the series: its own
 *                                    struct bpf_tcp_ops and BPF_TCP_OPS_FLAG_RCVQ win.
 *   BPF_TCP_OPS_AUTOLOWAT_NO_KFUNCS  something else already declares the kfuncs.
 */
#ifndef BPF_TCP_OPS_AUTOLOWAT_H
#define BPF_TCP_OPS_AUTOLOWAT_H

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

struct sock;
struct sk_buff;
struct tcp_sock;
struct __sk_buff;
struct bpf_dynptr;

#ifndef BPF_TCP_OPS_AUTOLOWAT_HAVE_UAPI
struct bpf_tcp_ops {
	void (*enqueue_rcvq)(struct sock *sk, struct sk_buff *skb);	/* skb queued in order */
	void (*dequeue_rcvq)(struct sock *sk);				/* recvmsg() copied data */
};
enum bpf_tcp_ops_flags_autolowat {
	BPF_TCP_OPS_FLAG_RCVQ = (1 << 0),	/* run enqueue_rcvq/dequeue_rcvq on this socket */
};
#endif

#ifndef BPF_TCP_OPS_AUTOLOWAT_NO_KFUNCS
extern int bpf_tcp_ops_set_flags(struct tcp_sock *tp, __u32 set, __u32 clear) __ksym __weak;
extern int bpf_tcp_ops_set_rcvlowat(struct sock *sk, int val) __ksym __weak;
extern int bpf_dynptr_from_skb(struct __sk_buff *s, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym __weak;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u64 offset, void *buffer__nullable, __u64 buffer__szk) __ksym __weak;
extern __u64 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym __weak;
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;
#endif

#endif /* BPF_TCP_OPS_AUTOLOWAT_H */
