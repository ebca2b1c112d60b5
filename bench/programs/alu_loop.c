// Benchmark: a pure ALU loop (64-bit mul/add/xor/shift, 32-bit ops, compare and branch).
// Built with: clang-19 -target bpf -O2 -mcpu=v3 -c alu_loop.c -o alu_loop.o
#define SEC(n) __attribute__((section(n), used))

SEC("sockops")
int alu_loop(void *ctx)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL, acc = 0;
	unsigned int h = 2166136261u;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 0x2545f491u;
		h = (h ^ (unsigned int)x) * 16777619u;
		acc ^= h;
	}
	return (int)(acc ^ (acc >> 32));
}

char _license[] SEC("license") = "GPL";
