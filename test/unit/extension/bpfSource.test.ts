import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findBpfPrograms, looksLikeBpfSource } from '../../../extension/bpfSource';

const HOOK = `#include "vmlinux.h"
// SEC("sockops") in a comment is not a program
/* SEC("sockops")
int commented(struct bpf_sock_ops *skops) { return 1; } */
SEC("sockops")
int tcp_autolowat(struct bpf_sock_ops *skops)
{
	return 1;
}

SEC("cgroup/setsockopt")
int tcp_autolowat_setsockopt(struct bpf_sockopt *ctx) { return 1; }

static __always_inline int helper(void) { return 0; }
`;

test('a C file is a BPF source when named *.bpf.c or when it has a known SEC()', () => {
  assert.equal(looksLikeBpfSource('/x/a.bpf.c', 'int main(void) { return 0; }'), true);
  assert.equal(looksLikeBpfSource('/x/a.c', HOOK), true);
  assert.equal(looksLikeBpfSource('/x/a.c', '#include <stdio.h>\nint main(void) { puts("SEC"); }'), false);
  assert.equal(looksLikeBpfSource('/x/a.c', 'SEC("xdp") int f(void *c) { return 2; }'), false, 'xdp is not a program type this extension checks');
  assert.equal(looksLikeBpfSource('/x/a.c', 'SEC ( "cgroup/getsockopt" ) int g(struct bpf_sockopt *c) { return 1; }'), true);
});

test('finds programs with their sections and lines, skipping commented ones', () => {
  const progs = findBpfPrograms(HOOK);
  assert.deepEqual(progs.map((p) => [p.name, p.section, p.line, p.nameLine]), [
    ['tcp_autolowat', 'sockops', 4, 5],
    ['tcp_autolowat_setsockopt', 'cgroup/setsockopt', 10, 11],
  ]);
});

test('a SEC annotation split from its function by a comment still counts', () => {
  const p = findBpfPrograms('SEC("sockops") /* main hook */\n// RCVQ_CB\nint h(struct bpf_sock_ops *s) { return 1; }\n');
  assert.deepEqual(p.map((x) => [x.name, x.line, x.nameLine]), [['h', 0, 2]]);
});
