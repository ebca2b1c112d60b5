// looprun: runs every program of a BPF object as a socket filter with BPF_PROG_TEST_RUN (through
// libbpf, which passes the BTF func_info the verifier wants for callbacks) and prints one JSON line
// per program: {"prog", "err", "retval", "bss"} where bss is the hex of the object's .bss after the
// run (zeroed before each run). Usage: looprun OBJ. Used by test/kernel/loop-oracle.ts.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level; (void)fmt; (void)ap;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: looprun OBJ\n"); return 2; }
  libbpf_set_print(quiet);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) { printf("{\"setup\":\"open\",\"error\":%d}\n", errno); return 1; }
  struct bpf_program *p;
  bpf_object__for_each_program(p, obj) bpf_program__set_type(p, BPF_PROG_TYPE_SOCKET_FILTER);
  int err = bpf_object__load(obj);
  if (err) { printf("{\"setup\":\"load\",\"error\":%d}\n", -err); return 1; }
  struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
  if (!bss) { printf("{\"setup\":\"no .bss\",\"error\":0}\n"); return 1; }
  size_t size = bpf_map__value_size(bss);
  unsigned char *zero = calloc(1, size), *val = calloc(1, size);
  unsigned char pkt[64] = {0};
  unsigned int key = 0;
  bpf_object__for_each_program(p, obj) {
    if (bpf_map__update_elem(bss, &key, sizeof(key), zero, size, 0)) { printf("{\"setup\":\"zero .bss\",\"error\":%d}\n", errno); return 1; }
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
    int e = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
    memset(val, 0, size);
    if (bpf_map__lookup_elem(bss, &key, sizeof(key), val, size, 0)) { printf("{\"setup\":\"read .bss\",\"error\":%d}\n", errno); return 1; }
    printf("{\"prog\":\"%s\",\"err\":%d,\"retval\":%u,\"bss\":\"", bpf_program__name(p), e ? -e : 0, o.retval);
    for (size_t i = 0; i < size; i++) printf("%02x", val[i]);
    printf("\"}\n");
  }
  bpf_object__close(obj);
  return 0;
}
