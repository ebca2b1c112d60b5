// SPDX-License-Identifier: GPL-2.0
/*
 * AutoLOWAT as struct_ops (profile autolowat-tcp-ops-v5 of bpf-sockops): keep SO_RCVLOWAT at the end
 * of the RPC frame being received, so epoll reports the socket readable once a whole frame is there.
 *
 * A frame is an 8-byte descriptor {u32 header_len, u32 payload_len} (little endian) followed by
 * header_len + payload_len bytes. enqueue_rcvq parses descriptors out of each skb queued in order
 * (read through an skb dynptr); dequeue_rcvq, after each recv() that copied data, sets rcvlowat to
 * what is still missing of the current frame (or of its descriptor).
 *
 * The cgroup/setsockopt program turns the hooks on for a socket when the application calls
 * setsockopt(fd, 0xdeadbeef, 0x8badf00d, &(int){1}, sizeof(int)); the option never reaches the
 * kernel. When the data makes no sense the hooks give up: the flag goes off and rcvlowat back to 1.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_tcp_ops_autolowat.h"

#define SOL_AUTOLOWAT		0xdeadbeef
#define AUTOLOWAT_ENABLE	0x8badf00d
#define DESC_LEN		8
#define MAX_FRAME		(64u << 20)
#define MAX_FRAMES_PER_SKB	64
#define TCPHDR_FIN		0x01

struct sock {
	int sk_rcvlowat;
} __attribute__((preserve_access_index));

/* A tcp_sock starts with its struct sock (inet_conn.icsk_inet.sk): declared so here too, so that
 * both views of the one socket object agree on where each field is. */
struct tcp_sock {
	struct sock sk;
	__u32 rcv_nxt;
	__u32 copied_seq;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	char cb[48];
} __attribute__((preserve_access_index));

struct tcp_skb_cb {
	__u32 seq;
	__u32 end_seq;
	__u32 tcp_tw_isn;
	__u8 tcp_flags;
} __attribute__((preserve_access_index));

/* Parser state per socket; sequence numbers absolute (u32, wrapping). */
struct frame_state {
	__u32 frame_seq;	/* first byte of the current frame (its descriptor) */
	__u32 frame_end;	/* one past its last byte, once the descriptor is complete */
	__u32 have;		/* descriptor bytes collected */
	__u8 desc[DESC_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct frame_state);
} frames SEC(".maps");

static __always_inline int seq_lt(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static void stop(struct sock *sk)
{
	bpf_tcp_ops_set_flags((struct tcp_sock *)sk, 0, BPF_TCP_OPS_FLAG_RCVQ);
	bpf_tcp_ops_set_rcvlowat(sk, 1);
}

/* rcvlowat = bytes from copied_seq to the end of what we wait for. */
static void update_lowat(struct frame_state *st, struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u32 copied = tp->copied_seq, want;

	if (seq_lt(copied, st->frame_seq))
		want = st->frame_seq - copied;		/* the previous frame is not read yet */
	else if (st->have < DESC_LEN)
		want = st->frame_seq + DESC_LEN - copied;
	else
		want = st->frame_end - copied;
	if (want == 0)
		want = 1;
	if ((int)want != sk->sk_rcvlowat)
		bpf_tcp_ops_set_rcvlowat(sk, want);
}

SEC("struct_ops/enqueue_rcvq")
void BPF_PROG(frames_enqueue, struct sock *sk, struct sk_buff *skb)
{
	struct frame_state *st = bpf_sk_storage_get(&frames, sk, 0, 0);
	struct tcp_skb_cb *cb;
	struct bpf_dynptr d;
	__u32 seq, end;
	int i;

	if (!st)
		return;
	cb = (struct tcp_skb_cb *)skb->cb;
	seq = cb->seq;
	end = cb->end_seq - ((cb->tcp_flags & TCPHDR_FIN) ? 1 : 0);
	if (bpf_dynptr_from_skb((struct __sk_buff *)skb, 0, &d)) {
		stop(sk);
		return;
	}
	for (i = 0; i < MAX_FRAMES_PER_SKB; i++) {
		__u32 have = st->have, from, n;
		__u64 len;

		if (have >= DESC_LEN) {
			/* descriptor known: does the frame end inside this skb? */
			if (seq_lt(end, st->frame_end))
				break;
			st->frame_seq = st->frame_end;
			st->have = 0;
			if (st->frame_seq == end)
				break;
			continue;
		}
		from = st->frame_seq + have;
		if (!seq_lt(from, end))
			break;
		n = DESC_LEN - have;
		if (end - from < n)
			n = end - from;
		if (n == 0 || n > DESC_LEN || have + n > DESC_LEN)
			break;
		if (bpf_dynptr_read(&st->desc[have & (DESC_LEN - 1)], n, &d, from - seq, 0)) {
			stop(sk);
			return;
		}
		st->have = have + n;
		if (st->have < DESC_LEN)
			break;
		len = (__u64)DESC_LEN + *(__u32 *)&st->desc[0] + *(__u32 *)&st->desc[4];
		if (len > MAX_FRAME) {
			stop(sk);
			return;
		}
		st->frame_end = st->frame_seq + (__u32)len;
	}
	if (i == MAX_FRAMES_PER_SKB) {
		stop(sk);
		return;
	}
	update_lowat(st, sk);
}

SEC("struct_ops/dequeue_rcvq")
void BPF_PROG(frames_dequeue, struct sock *sk)
{
	struct frame_state *st = bpf_sk_storage_get(&frames, sk, 0, 0);

	if (st)
		update_lowat(st, sk);
}

SEC(".struct_ops.link")
struct bpf_tcp_ops frames_ops = {
	.enqueue_rcvq = (void *)frames_enqueue,
	.dequeue_rcvq = (void *)frames_dequeue,
};

SEC("cgroup/setsockopt")
int frames_setsockopt(struct bpf_sockopt *ctx)
{
	int *optval = ctx->optval;
	struct bpf_tcp_sock *btp;
	struct frame_state *st;

	if (ctx->level != (int)SOL_AUTOLOWAT || ctx->optname != (int)AUTOLOWAT_ENABLE)
		return 1;
	if ((void *)(optval + 1) > ctx->optval_end)
		return 0;
	btp = bpf_tcp_sock(ctx->sk);
	if (!btp)
		return 1;
	ctx->optlen = -1;	/* ours: the kernel never sees it */
	if (!*optval)
		return 1;
	st = bpf_sk_storage_get(&frames, btp, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	/* the flag cannot go on while bytes wait (-EUCLEAN), so rcv_nxt == copied_seq here */
	st->frame_seq = btp->rcv_nxt;
	st->have = 0;
	if (bpf_tcp_ops_set_flags((struct tcp_sock *)btp, BPF_TCP_OPS_FLAG_RCVQ, 0))
		return 0;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
