// SPDX-License-Identifier: GPL-2.0
/*
 * autolowat.bpf.c - an AutoLOWAT hook for a simple RPC framing, written for bpf-sockops.
 *
 * The peer sends frames, each an 8-byte descriptor followed by a header and a payload:
 *
 *     u32 header_len (little endian) | u32 payload_len (little endian) | header | payload
 *
 * The sock_ops program runs at BPF_SOCK_OPS_RCVQ_CB: once for every skb the stack queues on
 * the receive queue (ctx->skb is that skb) and once after every recvmsg() that copied data
 * (ctx->skb is NULL). It follows the frames through the byte stream and sets sk_rcvlowat so that
 * epoll reports the socket readable only when a whole frame can be read:
 *   - some complete frames are unread: rcvlowat covers them all (wake up and read them);
 *   - otherwise, the frame being received: its end if its descriptor is complete, else the end
 *     of its descriptor.
 * rcvlowat counts from copied_seq (the next byte the application reads).
 *
 * The cgroup/setsockopt program turns the hook on for a socket when the application calls
 * setsockopt(fd, 0xdeadbeef, 0x8badf00d, &(int){1}, sizeof(int)) (and off with 0); the option is
 * consumed, the kernel never sees it. The kernel refuses to turn RCVQ_CB on while data is queued
 * (-EUCLEAN): then the application's setsockopt fails with that errno (bpf_set_retval) and
 * nothing changes.
 *
 * On nonsense (a frame longer than AUTOLOWAT_MAX_FRAME, a gap in the stream, a failed load) the
 * program gives up: it turns RCVQ_CB off and sets rcvlowat back to 1.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bpf_sockops_autolowat.h"

/* The pseudo socket option that enables the hook (the seed selftest's values). */
#define SOL_AUTOLOWAT		0xdeadbeef
#define AUTOLOWAT_ENABLE	0x8badf00d

/* include/uapi/linux/bpf.h (Linux >= 6.10): TCP_BPF_SOCK_OPS_CB_FLAGS = 1008; older
 * /usr/include/linux/bpf.h lacks it. */
#define AUTOLOWAT_TCP_BPF_SOCK_OPS_CB_FLAGS 1008

#define DESC_LEN		8
#define AUTOLOWAT_MAX_FRAME	(64u << 20)	/* larger frames are nonsense: give up */
#define MAX_FRAMES_PER_SKB	64		/* bounded loop; more frames in one skb: give up */

/* The kernel objects read here, with CO-RE relocations (no vmlinux.h needed). */
struct tcp_sock {
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

struct bpf_sock_ops_kern {
	struct sock *sk;
	struct sk_buff *skb;
} __attribute__((preserve_access_index));

/* Per-socket parser state. Sequence numbers are absolute (u32, wrapping). */
struct autolowat_state {
	__u32 started;		/* frame_seq/next_seq are valid */
	__u32 gave_up;		/* stopped on nonsense: rcvlowat stays 1 */
	__u32 fin;		/* the peer sent FIN: nothing more will come */
	__u32 next_seq;		/* every byte before it has been parsed */
	__u32 frame_seq;	/* first byte of the frame being received (its descriptor) */
	__u32 frame_end;	/* one past its last byte, when desc_have == DESC_LEN */
	__u32 complete_end;	/* one past the last complete frame seen */
	__u32 desc_have;	/* descriptor bytes collected so far */
	__u8 desc[DESC_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct autolowat_state);
} autolowat_state SEC(".maps");

static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline __u32 le32(const __u8 *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((__u32)p[3] << 24);
}

/* Turn the hook off for this socket and let every byte wake the reader again. */
static void give_up(struct bpf_sock_ops *skops, struct bpf_sock_ops_kern *kctx,
		    struct autolowat_state *st, const char *why)
{
	bpf_printk("autolowat: giving up: %s", why);
	st->gave_up = 1;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_RCVQ_CB_FLAG);
	bpf_sock_ops_tcp_set_rcvlowat(kctx, 1);
}

/* rcvlowat from the parser state and copied_seq (see the top of the file). */
static __u32 wanted_rcvlowat(const struct autolowat_state *st, __u32 copied_seq)
{
	__u32 target;

	if (st->fin || st->gave_up)
		return 1;
	if (seq_before(copied_seq, st->complete_end))
		target = st->complete_end;		/* unread complete frames */
	else if (st->desc_have == DESC_LEN)
		target = st->frame_end;			/* the rest of this frame */
	else
		target = st->frame_seq + DESC_LEN;	/* the rest of its descriptor */
	if (!seq_before(copied_seq, target))
		return 1;
	return target - copied_seq;
}

/* Parse the bytes [from, end) of the arriving skb; skb_seq is the seq of its first byte. */
static int parse_skb(struct bpf_sock_ops *skops, struct autolowat_state *st,
		     __u32 skb_seq, __u32 end)
{
	__u32 pos = st->next_seq;
	int i, j;

	if (seq_before(pos, skb_seq))
		return -1;			/* a hole: this skb starts after what we parsed */

	for (i = 0; i < MAX_FRAMES_PER_SKB; i++) {
		if (!seq_before(pos, end))
			break;
		if (st->desc_have < DESC_LEN) {
			if (st->desc_have == 0 && (__s32)(end - pos) >= DESC_LEN) {
				/* the whole descriptor is in this skb: one load */
				if (bpf_skb_load_bytes(skops, pos - skb_seq, st->desc, DESC_LEN))
					return -2;
				st->desc_have = DESC_LEN;
				pos += DESC_LEN;
			} else {
				/* it spans skbs: collect it one byte at a time */
				for (j = 0; j < DESC_LEN; j++) {
					__u32 k = st->desc_have;
					__u8 b;

					if (k >= DESC_LEN || !seq_before(pos, end))
						break;
					if (bpf_skb_load_bytes(skops, pos - skb_seq, &b, 1))
						return -2;
					/* clang drops the mask (k < DESC_LEN already) and checks k in a copy: without
					 * the barrier the verifier sees an unbounded index into the map value */
					barrier_var(k);
					st->desc[k & (DESC_LEN - 1)] = b;
					st->desc_have = k + 1;
					pos++;
				}
			}
			if (st->desc_have == DESC_LEN) {
				__u64 len = (__u64)le32(&st->desc[0]) + le32(&st->desc[4]);

				if (len > AUTOLOWAT_MAX_FRAME)
					return -3;
				st->frame_end = st->frame_seq + DESC_LEN + (__u32)len;
				bpf_printk("autolowat: frame at %u: header %u payload %u",
					   st->frame_seq, le32(&st->desc[0]), le32(&st->desc[4]));
			}
			continue;
		}
		/* skip the header and payload */
		if (seq_before(st->frame_end, end)) {
			pos = st->frame_end;
		} else {
			pos = end;
		}
		if (pos == st->frame_end) {
			st->complete_end = st->frame_end;
			st->frame_seq = st->frame_end;
			st->desc_have = 0;
		}
	}
	if (seq_before(pos, end))
		return -4;			/* too many frames in one skb */
	st->next_seq = pos;
	return 0;
}

SEC("sockops")
int tcp_autolowat(struct bpf_sock_ops *skops)
{
	struct bpf_sock_ops_kern *kctx;
	struct autolowat_state *st;
	struct tcp_sock *tp;
	struct sk_buff *skb;
	struct bpf_sock *sk;
	__u32 lowat;

	if (skops->op != BPF_SOCK_OPS_RCVQ_CB)
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 1;
	st = bpf_sk_storage_get(&autolowat_state, sk, 0, 0);
	if (!st)
		return 1;	/* not enabled through our setsockopt */
	kctx = bpf_cast_to_kern_ctx(skops);

	if (!st->started) {
		/* the receive queue was empty when the hook was enabled (else -EUCLEAN) */
		st->started = 1;
		st->next_seq = tp->copied_seq;
		st->frame_seq = st->next_seq;
		st->complete_end = st->next_seq;
	}

	skb = kctx->skb;
	if (skb) {
		struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb[0];
		__u32 seq = cb->seq, end = cb->end_seq;
		int err;

		if (cb->tcp_flags & TCPHDR_FIN) {
			end--;	/* the FIN takes a sequence number but carries no byte */
			st->fin = 1;
		}
		if (!st->gave_up && !st->fin) {
			err = parse_skb(skops, st, seq, end);
			if (err) {
				give_up(skops, kctx, st, err == -1 ? "hole in the stream" :
					err == -3 ? "frame too long" : err == -4 ? "too many frames in one skb" :
					"cannot read the skb");
				return 1;
			}
		}
	}
	/* else: recvmsg() just copied data; copied_seq moved */

	lowat = wanted_rcvlowat(st, tp->copied_seq);
	bpf_sock_ops_tcp_set_rcvlowat(kctx, lowat);
	return 1;
}

SEC("cgroup/setsockopt")
int tcp_autolowat_setsockopt(struct bpf_sockopt *ctx)
{
	struct autolowat_state *st;
	int *optval = ctx->optval;
	int flags = 0, one = 1, err;

	if (ctx->level != (int)SOL_AUTOLOWAT || ctx->optname != (int)AUTOLOWAT_ENABLE)
		return 1;	/* not ours: the kernel handles it */
	if (ctx->optlen != sizeof(int) || (void *)(optval + 1) > ctx->optval_end)
		return 0;	/* -EPERM */

	if (bpf_getsockopt(ctx->sk, SOL_TCP, AUTOLOWAT_TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags)))
		return 0;
	if (*optval) {
		st = bpf_sk_storage_get(&autolowat_state, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!st)
			return 0;
		flags |= BPF_SOCK_OPS_RCVQ_CB_FLAG;
		err = bpf_setsockopt(ctx->sk, SOL_TCP, AUTOLOWAT_TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
		if (err) {
			bpf_printk("autolowat: cannot enable RCVQ_CB: %d", err);
			bpf_sk_storage_delete(&autolowat_state, ctx->sk);
			/* fail the application's setsockopt with the kernel's errno (e.g. -EUCLEAN), not -EPERM */
			bpf_set_retval(err);
			return 0;
		}
		__builtin_memset(st, 0, sizeof(*st));
	} else {
		flags &= ~BPF_SOCK_OPS_RCVQ_CB_FLAG;
		bpf_setsockopt(ctx->sk, SOL_TCP, AUTOLOWAT_TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
		bpf_setsockopt(ctx->sk, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
		bpf_sk_storage_delete(&autolowat_state, ctx->sk);
	}
	ctx->optlen = -1;	/* consumed: the kernel does not see this option */
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
