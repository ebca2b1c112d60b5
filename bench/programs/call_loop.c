// Benchmark: a loop dominated by bpf-to-bpf calls into __noinline functions (frames, r6-r9
// save/restore, stack use in callees).
// Built with: clang-19 -target bpf -O2 -mcpu=v3 -c call_loop.c -o call_loop.o
#define SEC(n) __attribute__((section(n), used))
#define __noinline __attribute__((noinline))

static __noinline unsigned int mix(unsigned int a, unsigned int b)
{
	volatile unsigned int tmp[2];

	tmp[0] = a * 31 + b;
	tmp[1] = a ^ (b << 3);
	return tmp[0] + tmp[1];
}

static __noinline unsigned int step(unsigned int s, unsigned int i)
{
	return mix(s, i) ^ mix(i, s >> 1);
}

SEC("sockops")
int call_loop(void *ctx)
{
	unsigned int s = 7;

#pragma clang loop unroll(disable)
	for (unsigned int i = 0; i < 50000; i++)
		s = step(s, i);
	return (int)s;
}

char _license[] SEC("license") = "GPL";
