// `bpf-sockops verify` (issue 11 contract): one text line per program, the JSON shape, the exit
// codes 0 / 1 / 2, -v's kernel-style log, a .c compiled as `run` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../../../cli/main';
import { findClang } from '../../../debugger/scenario/compile';

const root = join(__dirname, '..', '..', '..');
const classes = join(root, 'test/fixtures/verifier/classes.bpf.o');

async function run(args: string[]) {
  const out: string[] = [], err: string[] = [];
  const code = await main(['verify', ...args], { out: (s) => { out.push(s); }, err: (s) => { err.push(s); } });
  return { code, out: out.join(''), err: err.join('') };
}

test('text: accepted and rejected lines with the C location and the kernel message; exit 1', async () => {
  const r = await run([classes, '--profile', 'linux-7.1.5']);
  assert.equal(r.code, 1);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 31);
  assert.match(r.out, /^good_storage_null \(sockops\): accepted \(\d+ insns processed\)$/m);
  assert.match(r.out, /^bad_storage_null \(sockops\): rejected: \.\/classes\.bpf\.c:43:\d+: R0 invalid mem access 'map_value_or_null' \(insn 7\): .*may be NULL: test it .*line 43/m);
  assert.match(r.out, /^bad_optval_bounds \(cgroup\/getsockopt\): rejected: \.\/classes\.bpf\.c:\d+:\d+: R\d offset is outside of the packet/m);
  assert.match(r.out, /^bad_retval \(sockops\): rejected: .*At program exit the register R0 has smin=0 smax=4294967295 should have been in \[0, 1\]/m);
});

test('json: the contract fields, null location for accepted programs', async () => {
  const r = await run([classes, '--format', 'json', '--profile=linux-7.1.5']);
  assert.equal(r.code, 1);
  const arr = JSON.parse(r.out) as Record<string, unknown>[];
  assert.equal(arr.length, 31);
  for (const v of arr) assert.deepEqual(Object.keys(v), ['program', 'section', 'verdict', 'insn', 'file', 'line', 'column', 'message']);
  const bad = arr.find((v) => v.program === 'bad_sk_null')!;
  assert.equal(bad.verdict, 'rejected'); assert.equal(bad.insn, 5); assert.equal(bad.file, './classes.bpf.c');
  assert.equal(typeof bad.line, 'number'); assert.match(String(bad.message), /R2 type=sock_or_null expected=sock_common/);
  const good = arr.find((v) => v.program === 'good_ringbuf')!;
  assert.deepEqual([good.verdict, good.insn, good.file, good.line, good.column, good.message], ['accepted', null, null, null, null, null]);
});

test('exit 0 when every program is accepted; -v prints the kernel-style log', async () => {
  const r = await run([join(root, 'test/fixtures/objects/calls.bpf.o'), '-v']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^  0: \(\w\w\) /m);
  assert.match(r.out, /processed \d+ insns/);
  assert.match(r.out, /^calls_main \(sockops\): accepted \(\d+ insns processed\)$/m);
});

test('CAP_PERFMON: --no-perfmon refuses the uninitialised stack read', async () => {
  const r = await run([classes, '--profile', 'linux-7.1.5', '--no-perfmon', '--format', 'json']);
  const v = (JSON.parse(r.out) as { program: string; verdict: string; message: string }[]).find((x) => x.program === 'uninit_stack')!;
  assert.equal(v.verdict, 'rejected');
  assert.match(v.message, /invalid read from stack/);
  const w = (JSON.parse((await run([classes, '--profile', 'linux-7.1.5', '--format', 'json'])).out) as { program: string; verdict: string }[]).find((x) => x.program === 'uninit_stack')!;
  assert.equal(w.verdict, 'accepted');
});

test('bad input: exit 2 with a message naming the problem', async () => {
  const missing = await run([join(root, 'no/such.o')]);
  assert.equal(missing.code, 2); assert.match(missing.err, /no\/such\.o/);
  const notElf = await run([join(root, 'package.json')]);
  assert.equal(notElf.code, 2); assert.match(notElf.err, /package\.json/);
  assert.equal((await run([classes, '--format', 'xml'])).code, 2);
  const prof = await run([classes, '--profile', 'nope']);
  assert.equal(prof.code, 2); assert.match(prof.err, /known profiles are/);
  assert.equal((await run([classes, '--frobnicate'])).code, 2);
  assert.equal((await run([])).code, 2);
});

test('a .c file is compiled as `run` does', { skip: !findClang() && 'no clang' }, async () => {
  const r = await run([join(root, 'test/fixtures/verifier/classes.bpf.c'), '--profile', 'linux-7.1.5', '--format', 'json']);
  assert.equal(r.code, 1, r.err);
  assert.equal((JSON.parse(r.out) as unknown[]).length, 31);
});
