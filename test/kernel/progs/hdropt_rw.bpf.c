// Header options end to end in the simulator (test/unit/kernel/hdropt-model.test.ts): reserve
// at HDR_OPT_LEN_CB, store an experimental option at WRITE_HDR_OPT_CB and load it back, a
// duplicate store, the timestamp option of received segments at PARSE_HDR_OPT_CB.
// Build: clang-19 -target bpf -mcpu=v3 -O2 -g -I/usr/include/x86_64-linux-gnu -c hdropt_rw.bpf.c -o hdropt_rw.bpf.o
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define SOL_TCP 6
#define TCP_BPF_SOCK_OPS_CB_FLAGS 1008

/* results: [op*4 + i] for the ops below; i: 0 first helper, 1 second, 2 third, 3 runs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __s32);
} res SEC(".maps");

static __always_inline void put(__u32 k, __s32 v)
{
	bpf_map_update_elem(&res, &k, &v, BPF_ANY);
}

SEC("sockops")
int hdr(struct bpf_sock_ops *skops)
{
	__u8 opt[4] = { 0xfd, 4, 0xeb, 0x9f };
	__u8 back[4] = { 0xfd, 4, 0xeb, 0x9f };
	__u8 ts[12] = { 8, 0 };
	__u32 op = skops->op;
	int flags = BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG | BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG;

	switch (op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB:
		bpf_setsockopt(skops, SOL_TCP, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
		break;
	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		put(op * 4, bpf_reserve_hdr_opt(skops, 8, 0));
		put(op * 4 + 1, skops->args[0]);
		put(op * 4 + 2, skops->skb_len);
		break;
	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		put(op * 4, bpf_store_hdr_opt(skops, opt, sizeof(opt), 0));
		put(op * 4 + 1, bpf_load_hdr_opt(skops, back, sizeof(back), 0));
		put(op * 4 + 2, bpf_store_hdr_opt(skops, opt, sizeof(opt), 0));
		put(op * 4 + 3, (long)skops->skb_data_end - (long)skops->skb_data);
		break;
	case BPF_SOCK_OPS_PARSE_HDR_OPT_CB:
		put(op * 4, bpf_load_hdr_opt(skops, ts, sizeof(ts), 0));
		put(op * 4 + 1, ts[1] == 10 && ts[0] == 8);
		put(op * 4 + 2, skops->skb_len);
		put(op * 4 + 3, skops->skb_tcp_flags);
		break;
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		put(op * 4, skops->skb_len);
		put(op * 4 + 1, bpf_load_hdr_opt(skops, ts, sizeof(ts), 0));
		put(op * 4 + 2, skops->rcv_nxt != 0 && skops->snd_nxt != 0);
		put(op * 4 + 3, skops->srtt_us);
		break;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
