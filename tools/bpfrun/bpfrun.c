// bpfrun: the kernel side of the oracle tests (test/kernel/). One process serves a whole batch of
// requests read from stdin, so that 100,000 programs cost 100,000 bpf() loads, not 100,000 execs.
//
//   bpfrun probe            exit 0 if bpf(BPF_PROG_LOAD) works here, else print why and exit 3
//   bpfrun batch            binary requests on stdin, binary replies on stdout (see below)
//
// All integers are little-endian u32 unless said otherwise (the test host is x86-64 or arm64).
// Request:  kind, then
//   kind 1 LOAD   : prog_type, expected_attach_type, flags (bit0: GPL license), n_insns, insns[8*n]
//   kind 2 XDPRUN : n_insns, pkt_len, insns[8*n], pkt[pkt_len]
// Reply:    i32 err (0 = ok, else the errno), then
//   LOAD   : u32 log_len, log
//   XDPRUN : u32 stage (0 = load, 1 = test_run), u32 retval, u32 out_len, out, u32 log_len, log
// The verifier log is only collected when a load fails (a second load with log_level 1).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_SIZE (1u << 20)
#define MAX_INSNS 4096
#define MAX_PKT 4096

static char logbuf[LOG_SIZE];

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
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
static void put_bytes(const void *p, uint32_t n) { put_u32(n); if (n) fwrite(p, 1, n, stdout); }

static int load(uint32_t type, uint32_t attach, int gpl, const void *insns, uint32_t n, int with_log, int *err) {
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = type;
  a.expected_attach_type = attach;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = n;
  a.license = (uint64_t)(uintptr_t)(gpl ? "GPL" : "Proprietary");
  if (with_log) {
    logbuf[0] = 0;
    a.log_buf = (uint64_t)(uintptr_t)logbuf;
    a.log_size = LOG_SIZE;
    a.log_level = 1;
  }
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  *err = fd < 0 ? errno : 0;
  return fd;
}

// Only the tail of a log matters (the verifier's verdict is on its last lines).
static void put_log_tail(void) {
  size_t len = strnlen(logbuf, LOG_SIZE);
  size_t keep = len > 4000 ? 4000 : len;
  put_bytes(logbuf + len - keep, (uint32_t)keep);
}

static int do_load(void) {
  uint32_t h[4];
  static uint64_t insns[MAX_INSNS];
  if (read_full(h, sizeof(h)) != 1 || h[3] > MAX_INSNS) return -1;
  if (read_full(insns, 8u * h[3]) != 1 && h[3]) return -1;
  int err;
  int fd = load(h[0], h[1], h[2] & 1, insns, h[3], 1, &err);
  if (fd >= 0) close(fd);
  put_u32((uint32_t)err);
  if (err) put_log_tail(); else put_u32(0);
  return 0;
}

static int do_xdprun(void) {
  uint32_t h[2];
  static uint64_t insns[MAX_INSNS];
  static uint8_t pkt[MAX_PKT], out[MAX_PKT + 512];
  if (read_full(h, sizeof(h)) != 1 || h[0] > MAX_INSNS || h[1] > MAX_PKT) return -1;
  if (h[0] && read_full(insns, 8u * h[0]) != 1) return -1;
  if (h[1] && read_full(pkt, h[1]) != 1) return -1;
  int err;
  int fd = load(BPF_PROG_TYPE_XDP, 0, 1, insns, h[0], 0, &err);
  if (fd < 0) {
    int e2;
    int fd2 = load(BPF_PROG_TYPE_XDP, 0, 1, insns, h[0], 1, &e2);
    if (fd2 >= 0) close(fd2);
    put_u32((uint32_t)err); put_u32(0); put_u32(0); put_u32(0);
    put_log_tail();
    return 0;
  }
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.test.prog_fd = fd;
  a.test.data_in = (uint64_t)(uintptr_t)pkt;
  a.test.data_size_in = h[1];
  a.test.data_out = (uint64_t)(uintptr_t)out;
  a.test.data_size_out = sizeof(out);
  a.test.repeat = 1;
  long r = sys_bpf(BPF_PROG_TEST_RUN, &a);
  err = r < 0 ? errno : 0;
  close(fd);
  put_u32((uint32_t)err); put_u32(1); put_u32(a.test.retval);
  put_bytes(out, err ? 0 : (a.test.data_size_out > sizeof(out) ? sizeof(out) : a.test.data_size_out));
  put_u32(0);
  return 0;
}

static int probe(void) {
  // r0 = 0; exit  as a socket filter: the least privileged program there is.
  uint64_t insns[2];
  uint8_t *b = (uint8_t *)insns;
  memset(insns, 0, sizeof(insns));
  b[0] = 0xb7; // mov64 r0, 0
  b[8] = 0x95; // exit
  int err;
  int fd = load(BPF_PROG_TYPE_SOCKET_FILTER, 0, 1, insns, 2, 0, &err);
  if (fd < 0) {
    printf("bpf(BPF_PROG_LOAD) failed: %s (errno %d)\n", strerror(err), err);
    return 3;
  }
  close(fd);
  // XDP needs CAP_NET_ADMIN / CAP_BPF; check it too.
  fd = load(BPF_PROG_TYPE_XDP, 0, 1, insns, 2, 0, &err);
  if (fd < 0) {
    printf("bpf(BPF_PROG_LOAD) of an XDP program failed: %s (errno %d)\n", strerror(err), err);
    return 3;
  }
  close(fd);
  printf("ok\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "probe") == 0) return probe();
  if (argc >= 2 && strcmp(argv[1], "batch") == 0) {
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    for (;;) {
      uint32_t kind;
      int r = read_full(&kind, 4);
      if (r == 0) break;
      if (r < 0) { fprintf(stderr, "bpfrun: truncated request\n"); return 2; }
      int rc = kind == 1 ? do_load() : kind == 2 ? do_xdprun() : -1;
      if (rc < 0) { fprintf(stderr, "bpfrun: malformed request of kind %u\n", kind); return 2; }
    }
    fflush(stdout);
    return 0;
  }
  fprintf(stderr, "usage: bpfrun probe | bpfrun batch < requests > replies\n");
  return 2;
}
