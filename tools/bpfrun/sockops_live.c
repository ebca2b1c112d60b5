// sockops_live: attaches a sock_ops program of an object to a cgroup v2 made for the run, makes
// one loopback TCP connection from a child process inside that cgroup and inside a fresh network
// namespace (unshare(CLONE_NEWNET); V6=1 in the environment: IPv6), then prints what the program
// recorded as JSON lines and cleans up: detach, rmdir of the cgroup -- also on SIGINT/SIGTERM
// and on any failure after setup (the namespace dies with the child). Two modes:
//
//   sockops_live OBJ.o CGROUP2_MOUNT PORT PAYLOAD_BYTES
//     test:kernel part 3 (test/kernel/sockops-live.ts): program `record` of
//     test/kernel/progs/record_sockops.bpf.o; one {"i":..,"op":..,...} line per record, {"done":N}.
//   sockops_live --rows OBJ.o CGROUP2_MOUNT PORT PAYLOAD_BYTES < ROWS
//     the live witness of test/unit/kernel/sockopt.test.ts (test/unit/kernel/sockopt-rows.ts
//     --live): program `sockopt_rows` of test/unit/kernel/fixtures/sockopt_rows.bpf.o, its
//     `rows` filled from stdin (one "level optname good bad" per line) before the connection;
//     one {"level":..,"optname":..,"set":..,...} line per row, then {"ran":N}.
// Output on a setup failure: one {"setup":...,"errno":..,"error":...} line, exit 3.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct rec {
  __u32 op, is_fullsock, state, family;
  __u32 local_port, remote_port;
  __u32 args[4];
  __s32 r_cb_flags_set, r_setsockopt, r_getsockopt, r_load_hdr_opt, r_reserve_hdr_opt;
  __u32 cookie_nonzero, has_sk;
  __u32 zero_mask;
  __u32 getsockopt_val;
};

static char cg_path[512];
static int cg_fd = -1, prog_fd = -1, attached = 0;

static void cleanup(void) {
  if (attached) { bpf_prog_detach2(prog_fd, cg_fd, BPF_CGROUP_SOCK_OPS); attached = 0; }
  if (cg_fd >= 0) { close(cg_fd); cg_fd = -1; }
  if (cg_path[0]) { rmdir(cg_path); cg_path[0] = 0; }
}
static void on_signal(int sig) { cleanup(); signal(sig, SIG_DFL); raise(sig); }

static void fail(const char *what, int err) {
  printf("{\"setup\":\"%s\",\"errno\":%d,\"error\":\"%s\"}\n", what, err, strerror(err));
  fflush(stdout);
  cleanup();
  exit(3);
}

static int lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return -1;
  ifr.ifr_flags |= IFF_UP;
  int r = ioctl(s, SIOCSIFFLAGS, &ifr);
  close(s);
  return r;
}

// The child: join the cgroup, make a netns, one connection: connect, send, recv, close both ends.
static int child(int port, int payload) {
  char buf[4096];
  FILE *f;
  snprintf(buf, sizeof(buf), "%s/cgroup.procs", cg_path);
  if (!(f = fopen(buf, "w")) || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) return 10;
  if (unshare(CLONE_NEWNET) < 0) return 11;
  if (lo_up() < 0) return 12;
  int fam = getenv("V6") ? AF_INET6 : AF_INET;
  int ls = socket(fam, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  struct sockaddr *sa = fam == AF_INET ? (struct sockaddr *)&a : (struct sockaddr *)&a6;
  socklen_t sl = fam == AF_INET ? sizeof(a) : sizeof(a6);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(ls, sa, sl) < 0 || listen(ls, 1) < 0) return 13;
  int cs = socket(fam, SOCK_STREAM, 0);
  if (connect(cs, sa, sl) < 0) return 14;
  int ss = accept(ls, NULL, NULL);
  if (ss < 0) return 15;
  memset(buf, 'x', sizeof(buf));
  if (send(cs, buf, payload, 0) != payload) return 16;
  int got = 0;
  while (got < payload) { int r = recv(ss, buf, sizeof(buf), 0); if (r <= 0) return 17; got += r; }
  close(cs); // active close by the client: the server sees the FIN
  if (recv(ss, buf, sizeof(buf), 0) != 0) return 18;
  close(ss);
  close(ls);
  usleep(100 * 1000); // let the last ACKs and timers fire
  return 0;
}

// ---- mode `record` (record_sockops.bpf.o) ----

static void print_records(struct bpf_object *obj) {
  int recs_fd = bpf_object__find_map_fd_by_name(obj, "recs");
  int cnt_fd = bpf_object__find_map_fd_by_name(obj, "count");
  __u32 zero = 0, n = 0;
  if (bpf_map_lookup_elem(cnt_fd, &zero, &n)) fail("read count", errno);
  for (__u32 i = 0; i < n && i < 512; i++) {
    struct rec r;
    if (bpf_map_lookup_elem(recs_fd, &i, &r)) continue;
    printf("{\"i\":%u,\"op\":%u,\"is_fullsock\":%u,\"state\":%u,\"family\":%u,\"local_port\":%u,\"remote_port\":%u,"
           "\"args\":[%u,%u,%u,%u],\"cb_flags_set\":%d,\"setsockopt\":%d,\"getsockopt\":%d,\"load_hdr_opt\":%d,"
           "\"reserve_hdr_opt\":%d,\"cookie_nonzero\":%u,\"has_sk\":%u,\"zero_mask\":%u,\"getsockopt_val\":%u}\n",
           i, r.op, r.is_fullsock, r.state, r.family, r.local_port, ntohs((__u16)(r.remote_port >> 16)), r.args[0], r.args[1], r.args[2],
           r.args[3], r.r_cb_flags_set, r.r_setsockopt, r.r_getsockopt, r.r_load_hdr_opt, r.r_reserve_hdr_opt, r.cookie_nonzero,
           r.has_sk, r.zero_mask, r.getsockopt_val);
  }
  printf("{\"done\":%u}\n", n);
}

// ---- mode `--rows` (sockopt_rows.bpf.o) ----
// Its .bss, as sockopt_rows.bpf.c lays it out: struct row rows[32] (4 ints each) at 0, struct
// res out[32] (8 ints each) at 0x200, int ran at 0x600.
#define ROWS_N 32
#define ROWS_BSS_SIZE 0x608
#define ROWS_OUT_OFF 0x200
#define ROWS_RAN_OFF 0x600

static int is_bss(const struct bpf_map *m) {
  const char *n = bpf_map__name(m);
  size_t l = strlen(n);
  return l >= 4 && !strcmp(n + l - 4, ".bss");
}

static void fill_rows(struct bpf_object *obj) {
  struct bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    if (!is_bss(m)) continue;
    int v[ROWS_BSS_SIZE / 4]; __u32 z = 0;
    memset(v, 0, sizeof(v));
    for (int i = 0; i < ROWS_N && scanf("%d %d %d %d", &v[4 * i], &v[4 * i + 1], &v[4 * i + 2], &v[4 * i + 3]) == 4; i++) {}
    if (bpf_map_update_elem(bpf_map__fd(m), &z, v, 0)) fail("write rows", errno);
  }
}

static void print_rows(struct bpf_object *obj) {
  struct bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    if (!is_bss(m)) continue;
    int v[ROWS_BSS_SIZE / 4]; __u32 z = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(m), &z, v)) fail("read bss", errno);
    int *rows = v, *out = v + ROWS_OUT_OFF / 4;
    for (int i = 0; i < ROWS_N && (rows[4 * i] || rows[4 * i + 1]); i++) {
      int *o = out + 8 * i;
      printf("{\"level\":%d,\"optname\":%d,\"set\":%d,\"get\":%d,\"val\":%d,\"short_set\":%d,\"bad_set\":%d,\"get8\":%d,\"after_bad\":%d}\n",
             rows[4 * i], rows[4 * i + 1], o[0], o[1], o[2], o[3], o[4], o[5], o[6]);
    }
    printf("{\"ran\":%d}\n", v[ROWS_RAN_OFF / 4]);
  }
}

int main(int argc, char **argv) {
  int rows_mode = argc > 1 && !strcmp(argv[1], "--rows");
  if (rows_mode) { argv++; argc--; }
  if (argc != 5) { fprintf(stderr, "usage: sockops_live [--rows] OBJ.o CGROUP2_MOUNT PORT PAYLOAD_BYTES\n"); return 2; }
  int port = atoi(argv[3]), payload = atoi(argv[4]);
  if (payload < 1 || payload > 4096) { fprintf(stderr, "payload must be 1..4096\n"); return 2; }
  const char *prog_name = rows_mode ? "sockopt_rows" : "record";
  libbpf_set_print(NULL);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  snprintf(cg_path, sizeof(cg_path), "%s/bpf-sockops-oracle-%d", argv[2], getpid());
  if (mkdir(cg_path, 0755) < 0) { int e = errno; cg_path[0] = 0; fail("mkdir cgroup", e); }
  cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY);
  if (cg_fd < 0) fail("open cgroup", errno);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) fail("open object", errno);
  if (bpf_object__load(obj)) fail("load object", errno);
  if (rows_mode) fill_rows(obj);
  struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
  if (!prog) fail(rows_mode ? "find program sockopt_rows" : "find program record", ENOENT);
  prog_fd = bpf_program__fd(prog);
  if (bpf_prog_attach(prog_fd, cg_fd, BPF_CGROUP_SOCK_OPS, 0)) fail("attach to cgroup", errno);
  attached = 1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) fail("fork", errno);
  if (pid == 0) _exit(child(port, payload));
  int st = 0;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    printf("{\"setup\":\"connection in the test cgroup and netns\",\"errno\":0,\"error\":\"child step %d failed\"}\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    cleanup();
    return 3;
  }
  if (rows_mode) print_rows(obj);
  else print_records(obj);
  cleanup();
  bpf_object__close(obj);
  return 0;
}
