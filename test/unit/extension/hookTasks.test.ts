// The editor's long jobs without the editor: compile + verify a hook (rejections at their C line,
// clang's errors at file:line:col, the log), explore a scenario (a counterexample to open, Cancel),
// in this thread and in the worker that loads the built bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchRefusal, parseClangOutput, rejectionLine, rejectionRange, rejectionText, verifierLogText, VERIFIER_CODE } from '../../../extension/hookTasks';
import { verifyHookTask } from '../../../extension/hookJobs';
import { startTask, TaskStopped } from '../../../extension/taskWorker';
import { summarizeExplore } from '../../../extension/exploreText';
import { findClang } from '../../../debugger/scenario/compile';

const root = path.resolve(__dirname, '..', '..', '..');
const clang = findClang();
const noClang = clang ? false : 'no clang';
const BUNDLE = path.join(root, 'dist/extension.js');
const noBundle = fs.existsSync(BUNDLE) ? false : 'dist/extension.js not built (npm run build)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-sockops-hooktasks-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const HOOK = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct st { __u32 seq; };
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct st);
} storage SEC(".maps");

SEC("sockops") int hook(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct st *st;

	if (!sk)
		return 1;
	st = bpf_sk_storage_get(&storage, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	st->seq++;
	return 1;
}
char _license[] SEC("license") = "GPL";
`;

test('clang output: errors and warnings with absolute file, 1-based line and column; notes kept apart', () => {
  const d = parseClangOutput([
    'clang-19 failed (exit 1):',
    'hook.bpf.c:12:5: error: use of undeclared identifier \'x\'',
    '   12 |     x = 1;',
    '      |     ^',
    '/abs/inc/a.h:3:1: warning: declaration does not declare anything [-Wmissing-declarations]',
    'hook.bpf.c:2:10: fatal error: \'nope.h\' file not found',
    'hook.bpf.c:4:2: note: previous definition is here',
    '2 errors generated.',
  ].join('\n'), '/w');
  assert.deepEqual(d.map((x) => [x.file, x.line, x.column, x.severity]), [
    ['/w/hook.bpf.c', 12, 5, 'error'], ['/abs/inc/a.h', 3, 1, 'warning'], ['/w/hook.bpf.c', 2, 10, 'error'], ['/w/hook.bpf.c', 4, 2, 'note'],
  ]);
  assert.equal(d[0]!.message, "use of undeclared identifier 'x'");
});

test('a hook the verifier rejects: the rejection at the C line of the dereference, in the verifier\'s words', { skip: noClang }, () => {
  const f = path.join(tmp, 'null.bpf.c');
  fs.writeFileSync(f, HOOK);
  const h = verifyHookTask(f, {});
  assert.equal(h.compile, undefined, h.compile?.text);
  assert.equal(h.verdicts.length, 1);
  const v = h.verdicts[0]!;
  assert.equal(v.verdict, 'rejected');
  const at = rejectionRange(v, f)!;
  assert.equal(at.file, f);
  assert.equal(at.line, HOOK.split('\n').findIndex((l) => l.includes('st->seq++')));
  assert.match(rejectionText(v), /^the kernel's verifier will reject this program: R\d invalid mem access 'map_value_or_null' \(hook, insn \d+\): .*may be NULL/);
  assert.match(rejectionLine(v), new RegExp(`^the kernel.s verifier will reject hook \\(SEC\\("sockops"\\)\\): ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: R\\d invalid mem access`));
  const log = verifierLogText(h);
  assert.match(log, /^# hook \(SEC\("sockops"\)\): rejected at insn \d+$/m);
  assert.match(log, /^\d+: \(\w\w\) /m, 'the kernel-style instruction log');
  assert.equal(VERIFIER_CODE, 'SOCKOPS007');
  const r = launchRefusal(h)!;
  assert.equal(r.message, "Not debugging null.bpf.c: the kernel's verifier will reject hook.");
  assert.ok(r.detail.startsWith(`the kernel's verifier will reject hook (SEC("sockops")): ${f}:`), r.detail);
  assert.match(r.detail, /Debug Anyway runs it in the emulator/);
});

test('the fixed hook is accepted; a compile error comes back as clang diagnostics with locations', { skip: noClang }, () => {
  const ok = path.join(tmp, 'ok.bpf.c');
  fs.writeFileSync(ok, HOOK.replace('\tst->seq++;', '\tif (st)\n\t\tst->seq++;'));
  const h = verifyHookTask(ok, {});
  assert.deepEqual(h.verdicts.map((v) => v.verdict), ['accepted']);
  assert.match(verifierLogText(h), /accepted \(\d+ insns processed\)/);
  assert.equal(launchRefusal(h), undefined, 'an accepted program is launched');
  const bad = path.join(tmp, 'bad.bpf.c');
  fs.writeFileSync(bad, HOOK.replace('\tst->seq++;', '\tst->nope++;'));
  const b = verifyHookTask(bad, {});
  assert.equal(b.verdicts.length, 0);
  const err = b.compile!.diagnostics.find((d) => d.severity === 'error')!;
  assert.deepEqual([err.file, err.line], [bad, HOOK.split('\n').findIndex((l) => l.includes('st->seq++')) + 1]);
  assert.match(err.message, /no member named 'nope'/);
});

test('a prebuilt object: every judged program, a missing file is an error naming it', () => {
  const h = verifyHookTask(path.join(root, 'test/fixtures/verifier/classes.bpf.o'), { profile: 'linux-7.1.5' });
  assert.ok(h.verdicts.some((v) => v.verdict === 'rejected' && v.program === 'bad_storage_null'));
  assert.ok(h.verdicts.some((v) => v.verdict === 'accepted' && v.program === 'good_storage_null'));
  // a struct bpf_tcp_ops object is judged against its own profile whatever the setting says
  const so = verifyHookTask(path.join(root, 'examples/autolowat-tcp-ops/autolowat.bpf.o'), { profile: 'autolowat-sockops-v3' });
  assert.ok(so.verdicts.length > 0 && so.verdicts.every((v) => v.verdict === 'accepted'), JSON.stringify(so.verdicts.map((v) => [v.program, v.verdict, v.kernelMessage])));
  const m = verifyHookTask(path.join(tmp, 'missing.bpf.o'));
  assert.match(m.error!, /missing\.bpf\.o/);
});

test('explore the planted-boundary scenario: a counterexample written where asked, the summary opens it', async () => {
  const out = path.join(tmp, 'planted.counterexample.scenario.json');
  const r = await startTask(undefined, 'explore', path.join(root, 'examples/autolowat/planted-boundary.scenario.json'), { out }).result;
  assert.equal(r.error, undefined);
  const s = summarizeExplore(r.report!);
  assert.equal(s.failed, true);
  assert.equal(s.open, out);
  assert.ok(fs.existsSync(out));
  assert.match(s.message, /^planted-boundary\.scenario\.json: counterexample found \(/);
  assert.ok(s.log.some((l) => /run fails on it too/.test(l)), s.log.join('\n'));
});

test('explore cancelled at once: no counterexample, the summary says how much was explored', async () => {
  const t = startTask(undefined, 'explore', path.join(root, 'examples/autolowat/case3-next-descriptor.scenario.json'), { out: path.join(tmp, 'c3.json') });
  t.cancel();
  const r = await t.result;
  assert.equal(r.report!.cancelled, true);
  assert.equal(r.report!.counterexample, null);
  assert.match(summarizeExplore(r.report!).message, /exploring cancelled after \d+ deliveries; no counterexample among them/);
  const bad = await startTask(undefined, 'explore', path.join(tmp, 'none.scenario.json'), {}).result;
  assert.match(bad.error!, /none\.scenario\.json/);
});

test('in the bundle\'s worker: verify and explore give the same facts; stop() ends a job', { skip: noBundle || noClang }, async () => {
  const f = path.join(tmp, 'null.bpf.c');
  fs.writeFileSync(f, HOOK);
  const h = await startTask(BUNDLE, 'verify', f, {}).result;
  assert.deepEqual(h.verdicts.map((v) => [v.verdict, v.insn, v.line]), verifyHookTask(f, {}).verdicts.map((v) => [v.verdict, v.insn, v.line]));
  const out = path.join(tmp, 'w.counterexample.scenario.json');
  const r = await startTask(BUNDLE, 'explore', path.join(root, 'examples/autolowat/planted-boundary.scenario.json'), { out }).result;
  assert.equal(r.report!.counterexample!.out, out);
  const c = startTask(BUNDLE, 'explore', path.join(root, 'examples/autolowat/case3-next-descriptor.scenario.json'), { out: path.join(tmp, 'w2.json'), budget: 1e6 });
  setTimeout(() => c.cancel(), 300);
  const rc = await c.result;
  assert.equal(rc.report!.cancelled, true);
  const s = startTask(BUNDLE, 'verify', f, {});
  s.stop();
  await assert.rejects(s.result, TaskStopped);
});
