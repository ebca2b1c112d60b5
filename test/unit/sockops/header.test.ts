// include/bpf_sockops_autolowat.h compiles with clang-19 against the UAPI <linux/bpf.h> and against a
// vmlinux.h generated from the running kernel, and its values equal the table's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { table } from '../../../sockops/index';
import { HOST_ASM_INCLUDE, which } from './kernel-src';

const INCLUDE = resolve(import.meta.dirname, '../../../include');
const HEADER = join(INCLUDE, 'bpf_sockops_autolowat.h');
const haveClang = which('clang-19');
const haveBpftool = which('bpftool') && existsSync('/sys/kernel/btf/vmlinux');

function program(base: 'uapi' | 'vmlinux', extra = ''): string {
  const t = table();
  return `${base === 'uapi' ? '#include <linux/bpf.h>' : '#include "vmlinux.h"'}
${extra}
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "bpf_sockops_autolowat.h"
char LICENSE[] SEC("license") = "GPL";
_Static_assert(BPF_SOCK_OPS_RCVQ_CB == ${t.constant('BPF_SOCK_OPS_RCVQ_CB')}, "op");
_Static_assert(BPF_SOCK_OPS_RCVQ_CB_FLAG == ${t.constant('BPF_SOCK_OPS_RCVQ_CB_FLAG')}, "flag");
_Static_assert(BPF_SOCK_OPS_ALL_CB_FLAGS == ${t.constant('BPF_SOCK_OPS_ALL_CB_FLAGS')}, "all");
_Static_assert(SOL_SOCKET == ${t.constant('SOL_SOCKET')} && SOL_TCP == ${t.constant('SOL_TCP')} && SO_RCVLOWAT == ${t.constant('SO_RCVLOWAT')}, "sockopt");
_Static_assert(TCP_NODELAY == ${t.constant('TCP_NODELAY')} && SO_RCVBUF == ${t.constant('SO_RCVBUF')}, "sockopt2");
SEC("sockops")
int hook(struct bpf_sock_ops *skops)
{
	struct bpf_sock_ops_kern *k;
	char buf[8];
	int one = 1;

	if (skops->op != BPF_SOCK_OPS_RCVQ_CB) {
		bpf_setsockopt(skops, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
		return 1;
	}
	k = bpf_cast_to_kern_ctx(skops);
	if (bpf_skb_load_bytes(skops, 0, buf, sizeof(buf)) == 0)
		bpf_sock_ops_tcp_set_rcvlowat(k, buf[0]);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags & ~BPF_SOCK_OPS_RCVQ_CB_FLAG);
	return 1;
}
`;
}

function compile(dir: string, src: string, defines: string[] = []): { status: number | null; stderr: string; obj: string } {
  const c = join(dir, `p${Math.random().toString(36).slice(2)}.c`);
  const o = c.replace(/\.c$/, '.o');
  writeFileSync(c, src);
  const r = spawnSync('clang-19', ['-O2', '-g', '-target', 'bpf', `-I${INCLUDE}`, `-I${dir}`, `-I${HOST_ASM_INCLUDE}`, ...defines, '-c', c, '-o', o], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, obj: o };
}

test('the header documents its feature macros and mirrors the table values', () => {
  const h = readFileSync(HEADER, 'utf8');
  assert.match(h, /BPF_SOCKOPS_AUTOLOWAT_HAVE_UAPI/);
  assert.match(h, /BPF_SOCKOPS_AUTOLOWAT_NO_KFUNCS/);
  assert.match(h, new RegExp(`BPF_SOCK_OPS_RCVQ_CB = ${table().constant('BPF_SOCK_OPS_RCVQ_CB')},`));
  for (const k of table().profile.kfuncs) assert.ok(h.includes(` ${k.name}(`), `kfunc ${k.name} declared`);
});

test('compiles against /usr/include/linux/bpf.h', { skip: !haveClang && 'clang-19 missing' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockops-hdr-'));
  try {
    const r = compile(dir, program('uapi'));
    assert.equal(r.status, 0, r.stderr);
    const relocs = spawnSync('llvm-readelf-19', ['-s', r.obj], { encoding: 'utf8' });
    if (relocs.status === 0) assert.match(relocs.stdout, /bpf_sock_ops_tcp_set_rcvlowat/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compiles against a vmlinux.h of the running kernel; a patched header wins with the feature macro', { skip: (!haveClang && 'clang-19 missing') || (!haveBpftool && 'bpftool or /sys/kernel/btf/vmlinux missing') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockops-vmlinux-'));
  try {
    const dump = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(dump.status, 0, dump.stderr);
    writeFileSync(join(dir, 'vmlinux.h'), dump.stdout);
    const r = compile(dir, program('vmlinux'));
    assert.equal(r.status, 0, r.stderr);
    // A kernel that already has the constants (simulated): without the macro the compiler stops loudly ...
    const patched = 'enum { BPF_SOCK_OPS_RCVQ_CB = 21 }; enum { BPF_SOCK_OPS_RCVQ_CB_FLAG = 128 };';
    const forgot = compile(dir, program('vmlinux', patched).replace(/_Static_assert\(BPF_SOCK_OPS_ALL_CB_FLAGS[^\n]*\n/, ''));
    assert.notEqual(forgot.status, 0);
    assert.match(forgot.stderr, /redefinition of enumerator 'BPF_SOCK_OPS_RCVQ_CB'/);
    // ... and with it the kernel's own definitions win.
    const ok = compile(dir, program('vmlinux', patched).replace(/_Static_assert\(BPF_SOCK_OPS_ALL_CB_FLAGS[^\n]*\n/, ''), ['-DBPF_SOCKOPS_AUTOLOWAT_HAVE_UAPI']);
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
