// Timing harness for uBPF's interpreter and JIT, built by scripts/ubpf-bench.sh against uBPF's
// own sources (never committed here). Usage: ubpf-bench PROGRAM.bin MEM.bin|- MIN_MS [jit]
// Runs the raw bytecode (8-byte slots) with r1 = a copy of MEM (or a 64-byte zero buffer) until
// MIN_MS of CPU time have passed, and prints "runs=N ns=T r0=0xV" (T: CPU time) on one line.
// With "jit": the program compiled by ubpf_compile (x86-64 or arm64) instead of ubpf_exec.
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ubpf.h"

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(n > 0 ? (size_t)n : 1);
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* CPU time of this process: on a shared machine it counts only the time the program ran */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "jit"))) { fprintf(stderr, "usage: %s PROGRAM.bin MEM.bin|- MIN_MS [jit]\n", argv[0]); return 2; }
	size_t code_len, mem_len = 64;
	void *code = slurp(argv[1], &code_len);
	void *mem = strcmp(argv[2], "-") ? slurp(argv[2], &mem_len) : calloc(1, mem_len);
	double min_ms = atof(argv[3]);
	struct ubpf_vm *vm = ubpf_create();
	if (!vm) { fprintf(stderr, "ubpf_create failed\n"); return 1; }
	ubpf_set_instruction_limit(vm, 0, NULL);
	char *err = NULL;
	if (ubpf_load(vm, code, (uint32_t)code_len, &err) < 0) { fprintf(stderr, "ubpf_load: %s\n", err ? err : "?"); return 1; }
	uint64_t r0 = 0;
	ubpf_jit_fn jit = NULL;
	if (argc == 5) {
		jit = ubpf_compile(vm, &err);
		if (!jit) { fprintf(stderr, "ubpf_compile: %s\n", err ? err : "?"); return 1; }
	}
#define RUN_ONCE() do { \
		if (jit) r0 = jit(mem, mem_len); \
		else if (ubpf_exec(vm, mem, mem_len, &r0) < 0) { fprintf(stderr, "ubpf_exec failed\n"); return 1; } \
	} while (0)
	for (int i = 0; i < 2; i++) /* warm up */
		RUN_ONCE();
	uint64_t runs = 0, t0 = now_ns(), t;
	do {
		RUN_ONCE();
		runs++;
		t = now_ns();
	} while ((double)(t - t0) < min_ms * 1e6 || runs < 3);
	printf("runs=%llu ns=%llu r0=0x%llx\n", (unsigned long long)runs, (unsigned long long)(t - t0), (unsigned long long)r0);
	ubpf_destroy(vm);
	return 0;
}
