// bpf_loop programs for the kernel oracle (test/kernel/loop-oracle.ts): socket filters run with
// BPF_PROG_TEST_RUN in the live kernel and in our VM; each leaves its results in out[] and
// returns a checksum. kernel/bpf/bpf_iter.c bpf_loop, kernel/bpf/fixups.c inline_bpf_loop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_LOOPS (8 * 1024 * 1024) /* BPF_MAX_LOOPS, include/linux/bpf.h */

__u64 out[8];
/* a zero the verifier cannot see (a global it must assume anything of) */
volatile __u64 hidden_zero;

struct acc {
	__u64 sum;
	__u64 calls;
	__u64 stop_at;
};

static long add_index(__u64 i, struct acc *a)
{
	a->sum += i;
	a->calls++;
	return a->stop_at && i + 1 == a->stop_at;
}

SEC("socket")
int loop_count(struct __sk_buff *skb)
{
	struct acc a = {};

	out[0] = bpf_loop(10, add_index, &a, 0);
	out[1] = a.sum;
	out[2] = a.calls;
	out[3] = bpf_loop(0, add_index, &a, 0);
	out[4] = bpf_loop(100000, add_index, &a, 0);
	out[5] = a.sum;
	return (int)out[0];
}

SEC("socket")
int loop_early_stop(struct __sk_buff *skb)
{
	struct acc a = { .stop_at = 5 };

	out[0] = bpf_loop(100, add_index, &a, 0);
	out[1] = a.sum;
	a.stop_at = 1;
	out[2] = bpf_loop(MAX_LOOPS, add_index, &a, 0);
	out[3] = a.calls;
	return (int)out[0];
}

struct nest {
	__u64 total;
	__u64 inner_ret;
	__u64 outer_i;
};

static long inner(__u64 i, struct nest *n)
{
	n->total += n->outer_i * 10 + i + 1;
	return 0;
}

static long outer(__u64 i, struct nest **pn)
{
	struct nest *n = *pn;

	n->outer_i = i;
	n->inner_ret += bpf_loop(4, inner, n, 0);
	return 0;
}

SEC("socket")
int loop_nested(struct __sk_buff *skb)
{
	struct nest n = {};
	struct nest *pn = &n;

	out[0] = bpf_loop(3, outer, &pn, 0);
	out[1] = n.total;
	out[2] = n.inner_ret;
	return (int)n.total;
}

SEC("socket")
int loop_bad_flags(struct __sk_buff *skb)
{
	struct acc a = {};

	out[0] = bpf_loop(5, add_index, &a, 1);
	out[1] = a.calls;
	out[2] = bpf_loop(5, add_index, &a, 1ULL << 32);
	out[3] = bpf_loop(MAX_LOOPS + 1, add_index, &a, 2);
	return (int)out[0];
}

SEC("socket")
int loop_too_big(struct __sk_buff *skb)
{
	struct acc a = {};

	out[0] = bpf_loop(MAX_LOOPS + 1, add_index, &a, 0);
	out[1] = a.calls;
	out[2] = bpf_loop(0xffffffffu, add_index, &a, 0);
	out[3] = (long)bpf_loop(MAX_LOOPS + 1, add_index, &a, 0) == -7; /* -E2BIG */
	return (int)out[0];
}

SEC("socket")
int loop_hidden_flags(struct __sk_buff *skb)
{
	struct acc a = {};

	/* flags 0 at run time, unknown to the verifier: the helper runs, not the inlined loop */
	out[0] = bpf_loop(7, add_index, &a, hidden_zero);
	out[1] = a.sum;
	out[2] = bpf_loop(MAX_LOOPS + 1, add_index, &a, hidden_zero);
	return (int)out[0];
}

char LICENSE[] SEC("license") = "GPL";
