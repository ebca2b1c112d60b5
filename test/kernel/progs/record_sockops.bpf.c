// Recording sock_ops program for test:kernel part 3: at every op it calls the helpers whose
// per-op rules the sockops/ table states, and records their results and which ctx fields read
// as 0. The same object runs attached to a live cgroup and in our simulator.
// Build: clang-19 -target bpf -mcpu=v3 -O2 -g -c record_sockops.bpf.c -o record_sockops.bpf.o
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_TCP 6
#define TCP_BPF_SOCK_OPS_CB_FLAGS 1008
#define ALL_CB_FLAGS 0x7f /* BPF_SOCK_OPS_ALL_CB_FLAGS of the running kernel (no RCVQ_CB) */
#define MAX_RECS 512

struct rec {
	__u32 op, is_fullsock, state, family;
	__u32 local_port, remote_port;
	__u32 args[4];
	__s32 r_cb_flags_set, r_setsockopt, r_getsockopt, r_load_hdr_opt, r_reserve_hdr_opt;
	__u32 cookie_nonzero, has_sk;
	__u32 zero_mask; /* bit i: field i of FIELDS (see sockops-live.ts) read as 0 */
	__u32 getsockopt_val;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RECS);
	__type(key, __u32);
	__type(value, struct rec);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} count SEC(".maps");

#define Z(i, expr) do { if ((expr) == 0) zm |= 1u << (i); } while (0)

SEC("sockops")
int record(struct bpf_sock_ops *skops)
{
	__u32 zero = 0, *n, idx;
	struct rec *r;
	__u32 zm = 0;
	int val = 0;
	char opt[8] = { 8 /* TCPOPT_TIMESTAMP */, 0 };

	n = bpf_map_lookup_elem(&count, &zero);
	if (!n)
		return 1;
	idx = __sync_fetch_and_add(n, 1);
	if (idx >= MAX_RECS)
		return 1;
	r = bpf_map_lookup_elem(&recs, &idx);
	if (!r)
		return 1;
	r->op = skops->op;
	r->is_fullsock = skops->is_fullsock;
	r->state = skops->state;
	r->family = skops->family;
	r->local_port = skops->local_port;
	r->remote_port = skops->remote_port;
	r->args[0] = skops->args[0];
	r->args[1] = skops->args[1];
	r->args[2] = skops->args[2];
	r->args[3] = skops->args[3];
	Z(0, skops->snd_cwnd);
	Z(1, skops->srtt_us);
	Z(2, skops->bpf_sock_ops_cb_flags);
	Z(3, skops->rcv_nxt);
	Z(4, skops->snd_nxt);
	Z(5, skops->snd_una);
	Z(6, skops->mss_cache);
	Z(7, skops->segs_in);
	Z(8, skops->segs_out);
	Z(9, skops->bytes_received);
	Z(10, skops->bytes_acked);
	Z(11, skops->skb_len);
	Z(12, skops->skb_tcp_flags);
	Z(13, skops->rtt_min);
	Z(14, skops->local_ip4);
	Z(15, skops->remote_ip4);
	Z(16, skops->local_port);
	Z(17, skops->remote_port);
	Z(18, skops->state);
	Z(19, skops->family);
	r->zero_mask = zm;
	r->has_sk = skops->sk != 0;
	r->cookie_nonzero = bpf_get_socket_cookie(skops) != 0;
	r->r_getsockopt = bpf_getsockopt(skops, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &val, sizeof(val));
	r->getsockopt_val = val;
	val = ALL_CB_FLAGS;
	r->r_setsockopt = bpf_setsockopt(skops, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &val, sizeof(val));
	r->r_cb_flags_set = bpf_sock_ops_cb_flags_set(skops, ALL_CB_FLAGS);
	r->r_load_hdr_opt = bpf_load_hdr_opt(skops, opt, sizeof(opt), 0);
	r->r_reserve_hdr_opt = bpf_reserve_hdr_opt(skops, 4, 0);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
