// verifyload: the kernel's verifier verdict on one program of a BPF object, for the agreement
// measurement of our verifier (test/kernel/verifier-agree.ts). Loads through libbpf (maps, BTF,
// CO-RE, subprograms, func/line info as a real loader does), with every other program of the
// object set not to load. One process serves a batch read from stdin.
//
//   verifyload [--no-perfmon] batch
//
// --no-perfmon drops CAP_PERFMON and CAP_SYS_ADMIN from the effective set first (the loader
// "without CAP_PERFMON" of issue 11); CAP_BPF and CAP_NET_ADMIN stay.
// Request (little-endian u32s): elf_len, elf[elf_len], name_len, name[name_len]
// Reply: i32 err (0 = loaded, else the errno), u32 stage (0 open, 1 before the verifier ran,
//        2 verifier), u32 insn_cnt (the program as libbpf passed it), u32 log_len, log
// The log: the level-4 (stats) log of the first load; when it failed in the verifier, followed
// by the tail (last 16 KiB) of a level-1 log of a second load, which names the failing insn.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define STATS_LOG (1u << 16)
#define FULL_LOG (1u << 24)
#define TAIL (1u << 14)

static char stats_log[STATS_LOG];
static char *full_log;
static char libbpf_msgs[4096];
static size_t libbpf_len;

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level;
  if (libbpf_len < sizeof(libbpf_msgs) - 1) {
    int n = vsnprintf(libbpf_msgs + libbpf_len, sizeof(libbpf_msgs) - libbpf_len, fmt, ap);
    if (n > 0) libbpf_len += (size_t)n;
    if (libbpf_len > sizeof(libbpf_msgs) - 1) libbpf_len = sizeof(libbpf_msgs) - 1;
  }
  return 0;
}

static int read_full(void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t r = fread((char *)p + got, 1, n - got, stdin);
    if (r == 0) return got == 0 ? 0 : -1;
    got += r;
  }
  return 1;
}
static void put_u32(uint32_t v) { fwrite(&v, 4, 1, stdout); }

/* One load of `name`; returns the error (0 ok), sets *insns and whether the verifier wrote. */
static int load_one(const void *elf, size_t len, const char *name, int level, char *log, size_t logsz, uint32_t *insns, int *verifier_ran) {
  LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "verify");
  struct bpf_object *obj = bpf_object__open_mem(elf, len, &oo);
  *verifier_ran = 0;
  *insns = 0;
  if (!obj) return errno ? errno : EINVAL;
  struct bpf_program *p, *target = NULL;
  bpf_object__for_each_program(p, obj) {
    int me = strcmp(bpf_program__name(p), name) == 0;
    bpf_program__set_autoload(p, me);
    if (me) target = p;
  }
  if (!target) { bpf_object__close(obj); return ENOENT; }
  log[0] = 0;
  bpf_program__set_log_level(target, level);
  bpf_program__set_log_buf(target, log, logsz);
  int err = bpf_object__load(obj);
  *insns = (uint32_t)bpf_program__insn_cnt(target);
  *verifier_ran = log[0] != 0;
  bpf_object__close(obj);
  return err < 0 ? -err : err;
}

static int drop_perfmon(void) {
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d)) return -1;
  int drop[] = { CAP_PERFMON, CAP_SYS_ADMIN };
  for (unsigned i = 0; i < 2; i++) {
    int c = drop[i];
    d[c / 32].effective &= ~(1u << (c % 32));
    d[c / 32].permitted &= ~(1u << (c % 32));
  }
  return (int)syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv) {
  int argi = 1;
  if (argi < argc && strcmp(argv[argi], "--no-perfmon") == 0) {
    if (drop_perfmon()) { perror("verifyload: capset"); return 3; }
    argi++;
  }
  if (argi >= argc || strcmp(argv[argi], "batch") != 0) { fprintf(stderr, "usage: verifyload [--no-perfmon] batch\n"); return 2; }
  libbpf_set_print(capture);
  full_log = malloc(FULL_LOG);
  if (!full_log) return 3;
  for (;;) {
    uint32_t elf_len, name_len;
    int r = read_full(&elf_len, 4);
    if (r == 0) break;
    if (r < 0 || elf_len > (1u << 28)) { fprintf(stderr, "verifyload: bad request\n"); return 2; }
    char *elf = malloc(elf_len ? elf_len : 1);
    if (!elf || read_full(elf, elf_len) != 1 || read_full(&name_len, 4) != 1 || name_len > 4096) { fprintf(stderr, "verifyload: truncated request\n"); return 2; }
    char name[4097];
    if (name_len && read_full(name, name_len) != 1) { fprintf(stderr, "verifyload: truncated name\n"); return 2; }
    name[name_len] = 0;
    libbpf_len = 0;
    libbpf_msgs[0] = 0;
    uint32_t insns;
    int ran;
    int err = load_one(elf, elf_len, name, 4, stats_log, STATS_LOG, &insns, &ran);
    size_t slen = strnlen(stats_log, STATS_LOG);
    const char *tail = "";
    size_t tlen = 0;
    int stage = ran ? 2 : (insns ? 1 : 0);
    if (err && ran) {
      uint32_t i2;
      int ran2;
      load_one(elf, elf_len, name, 1, full_log, FULL_LOG, &i2, &ran2);
      size_t flen = strnlen(full_log, FULL_LOG);
      tail = flen > TAIL ? full_log + flen - TAIL : full_log;
      tlen = flen > TAIL ? TAIL : flen;
    } else if (err && !ran) {
      tail = libbpf_msgs;
      tlen = libbpf_len;
    }
    put_u32((uint32_t)err);
    put_u32((uint32_t)stage);
    put_u32(insns);
    put_u32((uint32_t)(slen + 1 + tlen));
    fwrite(stats_log, 1, slen, stdout);
    fputc('\n', stdout);
    fwrite(tail, 1, tlen, stdout);
    fflush(stdout);
    free(elf);
  }
  return 0;
}
