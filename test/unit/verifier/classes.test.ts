// One test per rejection class (test/fixtures/verifier/classes.bpf.c, whose kernel verdicts are
// recorded in kernel-verdicts.json and checked in agreement.test.ts): the kind of fact, the
// kernel's wording and the plain sentence; the accepted fixes; the 1M limit on a loop the walk
// cannot bound; the committed objects are what build.sh makes of the sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject, type BpfObject, type BpfProgram } from '../../../debugger/object';
import { verifyProgram, checkProgram } from '../../../debugger/verifier';
import { findClang } from '../../../debugger/scenario/compile';
import type { Insn } from '../../../debugger/vm/api';

const dir = join(__dirname, '..', '..', 'fixtures', 'verifier');
const obj = loadObject(readFileSync(join(dir, 'classes.bpf.o')), 'classes.bpf.o');
const v = (name: string, perfmon = true) => verifyProgram(obj, obj.programs.find((p) => p.name === name)!, { profile: 'linux-7.1.5', perfmon });

const CASES: [string, string, RegExp, RegExp][] = [
  ['bad_storage_null', 'null-deref', /^R0 invalid mem access 'map_value_or_null'$/, /bpf_sk_storage_get\(\) result may be NULL/],
  ['bad_lookup_null', 'null-deref', /^R0 invalid mem access 'map_value_or_null'$/, /may be NULL/],
  ['bad_tcp_sock_null', 'null-deref', /^R0 invalid mem access 'tcp_sock_or_null'$/, /bpf_tcp_sock\(\) result may be NULL/],
  ['bad_sk_null', 'helper-arg-null', /^R2 type=sock_or_null expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_$/, /may be NULL: check it/],
  ['bad_uninit_reg', 'uninit-reg', /^R7 !read_ok$/, /read before anything was written/],
  ['bad_ctx_write', 'ctx-access', /^invalid bpf_context access off=0 size=4$/, /only the writable fields|each field/],
  ['bad_ctx_narrow', 'ctx-access', /^invalid bpf_context access off=20 size=2$/, /2-byte load/],
  ['bad_ctx_modified', 'modified-ctx', /^dereference of modified ctx ptr R1 off=4 disallowed$/, /pointer arithmetic/],
  ['bad_pkt_bounds', 'pkt-bounds', /^R1 offset is outside of the packet$/, /skb_data_end/],
  ['bad_optval_bounds', 'pkt-bounds', /offset is outside of the packet$/, /optval_end/],
  ['bad_setsockopt_retval', 'ctx-access', /^invalid bpf_context access off=36 size=4$/, /context/],
  ['bad_helper_arg', 'helper-arg-null', /^R1 type=sock_or_null expected=ctx$/, /may be NULL/],
  ['bad_helper_size', 'helper-size', /^R5 invalid zero-sized read: u64=\[0,4294967295\]$/, /bounded, non-negative/],
  ['bad_retval', 'retval', /^At program exit the register R0 has smin=0 smax=4294967295 should have been in \[0, 1\]$/, /return 0 or 1/],
  ['bad_retval_neg', 'retval', /should have been in \[0, 1\]$/, /not an errno/],
  ['bad_ringbuf_leak', 'unreleased-ref', /^BPF_EXIT instruction in main prog would lead to reference leak$/, /submit\/discard/],
  ['bad_map_bounds', 'map-bounds', /^R0 max value is outside of the allowed memory range$/, /map value of table \(24 bytes\)/],
  ['bad_stack_misaligned', 'stack-misaligned', /^misaligned stack access off 0\+-6 size 4$/, /aligned/],
  ['bad_sock_arith', 'ptr-arith', /^R1 pointer arithmetic on sock prohibited$/, /arithmetic on a pointer/],
  ['bad_null_arith', 'null-deref', /^R0 pointer arithmetic on map_value_or_null prohibited, null-check it first$/, /may be NULL/],
  ['bad_infinite_loop', 'unreachable', /^unreachable insn 1$/, /no path reaches/],
];

for (const [name, kind, kmsg, plain] of CASES) {
  test(`rejection class ${kind}: ${name}`, () => {
    const r = v(name);
    assert.equal(r.verdict, 'rejected');
    assert.equal(r.kind, kind);
    assert.match(r.kernelMessage!, kmsg);
    assert.match(r.explanation!, plain);
    assert.equal(r.file, './classes.bpf.c');
    assert.ok((r.line ?? 0) > 0);
  });
}

test('the fixed versions are accepted', () => {
  for (const p of obj.programs.filter((x) => x.name.startsWith('good_'))) assert.equal(v(p.name).verdict, 'accepted', p.name);
});

test('uninitialised stack: allowed with CAP_PERFMON, refused without', () => {
  assert.equal(v('uninit_stack').verdict, 'accepted');
  const r = v('uninit_stack', false);
  assert.equal(r.kind, 'stack-uninit');
  assert.match(r.kernelMessage!, /^invalid read from stack R4 off -4\+0 size 4$/);
  assert.match(v('bad_map_bounds', false).kernelMessage!, /pointer arithmetic of map value goes out of range, prohibited for !root/);
});

function rawProgram(insns: Insn[]): { obj: BpfObject; prog: BpfProgram } {
  const prog: BpfProgram = { name: 'raw', section: 'sockops', insns, funcs: [{ name: 'raw', startPc: 0, endPc: insns.length, btfTypeId: 0, section: 'sockops' }], lineInfo: [], coreRelos: [], relocs: [] };
  return { obj: { file: 'raw', license: 'GPL', btf: null, programs: [prog], maps: [], kfuncs: [], warnings: [] }, prog };
}
const I = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

test('a loop with no provable bound runs into the complexity limit', () => {
  // r1 = ctx->args[0]; r2 = 0; loop: r2 += 1; if r2 != r1 goto loop; r0 = 1; exit
  const { obj: o, prog } = rawProgram([I(0x61, 1, 1, 4, 0), I(0xb7, 2, 0, 0, 0), I(0x07, 2, 0, 0, 1), I(0x5d, 2, 1, -2, 0), I(0xb7, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0)]);
  const r = checkProgram(o, prog, 'sock_ops', { profile: 'linux-7.1.5', limit: 20_000 });
  assert.equal(r.accepted, false);
  assert.equal(r.error!.kind, 'too-large');
  assert.match(r.error!.kernelMessage, /^BPF program is too large\. Processed 20001 insn$/);
  // the same loop bounded by a constant is walked to the end
  const b = rawProgram([I(0xb7, 2, 0, 0, 0), I(0x07, 2, 0, 0, 1), I(0x55, 2, 0, -2, 100), I(0xb7, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0)]);
  const rb = checkProgram(b.obj, b.prog, 'sock_ops', { profile: 'linux-7.1.5' });
  assert.equal(rb.accepted, true);
  assert.ok(rb.processed > 150, `processed ${rb.processed}`);
});

test('a loop whose state repeats exactly is an infinite loop', () => {
  const { obj: o, prog } = rawProgram([I(0xb7, 0, 0, 0, 1), I(0x61, 2, 1, 0, 0), I(0x55, 2, 0, -1, 5), I(0x95, 0, 0, 0, 0)]);
  const r = checkProgram(o, prog, 'sock_ops', { profile: 'linux-7.1.5' });
  assert.equal(r.error?.kind, 'infinite-loop', r.error?.kernelMessage);
});

test('committed objects are what build.sh makes of the sources', { skip: !findClang() && 'no clang' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'verifier-fixtures-'));
  try {
    const r = spawnSync('sh', [join(dir, 'build.sh'), out], { encoding: 'utf8', env: { ...process.env, CLANG: findClang()! } });
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['classes.bpf.o', 'hooks.bpf.o', 'autolowat-barrier.bpf.o']) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(dir, f))), `${f} is stale: run test/fixtures/verifier/build.sh`);
  } finally { rmSync(out, { recursive: true, force: true }); }
});
