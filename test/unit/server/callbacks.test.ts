// Functions run by helpers (bpf_loop, bpf_for_each_map_elem) are callees of the helper call:
// they see the ops reaching it, the ctx carried in a struct on the caller's stack is the ctx
// inside them, and where the walk cannot follow an op test it reports nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeText, positioned, type Analysis } from '../../../server/analysis/engine';
import { complete, hover, stateAt } from '../../../server/analysis/features';
import { callbackHelper } from '../../../server/analysis/callbacks';
import { sockopsTable } from '../../../server/analysis/table';
import { FIXTURES, ROOT, read } from './helpers';

const FIX = read(path.join(FIXTURES, 'callbacks.bpf.c'));
const at = (text: string, needle: string, delta = 0) => {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return i + delta;
};
const short = (a: Analysis, ops: number[]) => ops.map((o) => a.table.op(o)!.short);
const entry = (a: Analysis, fn: string) => short(a, a.funcs.get(fn)!.entry.ops());

test('callback positions come from the table prototypes', () => {
  const t = sockopsTable();
  assert.deepEqual(callbackHelper(t, 'bpf_loop'), { fnArg: 1, ctxArg: 2, cbParam: 1, async: false });
  assert.deepEqual(callbackHelper(t, 'bpf_for_each_map_elem'), { fnArg: 1, ctxArg: 2, cbParam: 3, async: false });
  assert.equal(callbackHelper(t, 'bpf_setsockopt'), undefined);
  for (const name of ['bpf_loop', 'bpf_for_each_map_elem']) {
    const h = t.helper(name)!;
    const cb = callbackHelper(t, name)!;
    assert.equal(h.params[cb.fnArg]!.name, 'callback_fn');
    assert.equal(h.params[cb.ctxArg!]!.name, 'callback_ctx');
  }
});

test('a callback sees the union of the ops reaching the calls that pass it', async () => {
  const a = await analyzeText(FIX);
  assert.deepEqual(entry(a, 'rcvq_only_cb'), ['RCVQ_CB']);
  assert.deepEqual(entry(a, 'established_cb'), ['PASSIVE_ESTABLISHED_CB'], '&fn counts like fn');
  assert.deepEqual(entry(a, 'both_cb'), ['PASSIVE_ESTABLISHED_CB', 'RCVQ_CB']);
  assert.deepEqual(entry(a, 'count_elem'), ['RCVQ_CB'], 'bpf_for_each_map_elem');
  assert.deepEqual(entry(a, 'nest_a'), ['RCVQ_CB'], 'recursion through callbacks ends at the fixpoint');
  assert.deepEqual(entry(a, 'nest_b'), ['RCVQ_CB']);
  for (const fn of ['rcvq_only_cb', 'both_cb', 'count_elem', 'nest_b']) assert.ok(a.funcs.get(fn)!.progs.has('sock_ops'), fn);
  // The carried ctx: at the callback's callback_ctx parameter (bpf_loop: 2nd, for_each: 4th),
  // kept by both_cb although one caller fills the struct by position.
  assert.deepEqual(a.funcs.get('both_cb')!.paramKinds, ['other', { carrier: ['skops'] }]);
  assert.deepEqual(a.funcs.get('count_elem')!.paramKinds[3], { carrier: ['skops'] });
});

test('the SOCKOPS002 in a callback points at the case label and at the helper call that runs it', async () => {
  const a = positioned(await analyzeText(FIX));
  const lines = FIX.split('\n');
  const f = a.find((x) => x.code === 'SOCKOPS002' && lines[x.range.start.line]!.includes('&w->lowat') &&
    x.range.start.line < FIX.slice(0, FIX.indexOf('established_cb(')).split('\n').length)!;
  assert.ok(f);
  assert.match(f.message, /RCVQ_CB/);
  const rel = f.relatedRanges.map((r) => `${lines[r.range.start.line]!.trim()} | ${r.message}`);
  assert.ok(rel.some((r) => /^case BPF_SOCK_OPS_RCVQ_CB:/.test(r)), rel.join('\n'));
  assert.ok(rel.some((r) => /bpf_loop\(1, rcvq_only_cb/.test(r) && /rcvq_only_cb\(\) runs as the bpf_loop\(\) callback here, at RCVQ_CB/.test(r)), rel.join('\n'));
});

test('before: a callback had no caller and was never checked (now it is)', async () => {
  // Without the bpf_loop call the function is reached by no program: walked, not checked.
  const text = FIX.replace(/bpf_loop\(1, rcvq_only_cb, &w, 0\);/, '');
  const a = await analyzeText(text);
  assert.equal(a.funcs.get('rcvq_only_cb')!.progs.size, 0);
  const lines = text.split('\n');
  assert.ok(!positioned(a).some((f) => lines[f.range.start.line]!.includes('bpf_setsockopt(w->skops') &&
    f.range.start.line < text.slice(0, text.indexOf('established_cb(')).split('\n').length));
});

const HOOK = `#include "vmlinux.h"
struct walk { struct bpf_sock_ops *skops; int v; };
static long cb(__u64 i, void *data)
{
	struct walk *w = data;

	if (w->skops->op == BPF_SOCK_OPS_RCVQ_CB)
		return 1;
	bpf_setsockopt(w->skops, 1, 18, &w->v, 4);
	return 0;
}
SEC("sockops")
int hook(struct bpf_sock_ops *skops)
{
	struct walk w = { .skops = skops };
	struct walk o = { .v = 1 };

	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RCVQ_CB_FLAG);
	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || skops->op == BPF_SOCK_OPS_RCVQ_CB)
		bpf_loop(1, cb, &w, 0);
	return 1;
}
`;

test('an op test through the carried ctx narrows the ops inside the callback', async () => {
  const a = await analyzeText(HOOK);
  assert.deepEqual(a.findings.map((f) => f.code), []);
  assert.deepEqual(short(a, stateAt(a, at(HOOK, 'bpf_setsockopt')).state!.ops()), ['PASSIVE_ESTABLISHED_CB']);
  // The op test inverted: bpf_setsockopt now runs only at RCVQ_CB.
  const bad = HOOK.replace('->op == BPF_SOCK_OPS_RCVQ_CB)\n\t\treturn', '->op != BPF_SOCK_OPS_RCVQ_CB)\n\t\treturn');
  assert.deepEqual((await analyzeText(bad)).findings.map((f) => f.code), ['SOCKOPS002']);
});

test('where the ctx is not carried at every call, an op test inside is not followed: no verdict', async () => {
  // A second call passes a struct without the ctx: `w->skops->op` is no longer known to be the
  // op, the ops inside may be fewer than the walk sees, so no rule is reported there.
  const text = HOOK.replace('bpf_loop(1, cb, &w, 0);', 'bpf_loop(1, cb, &w, 0);\n\tbpf_loop(1, cb, &o, 0);');
  const a = await analyzeText(text);
  assert.deepEqual(a.funcs.get('cb')!.paramKinds, ['other', 'other']);
  assert.ok(a.funcs.get('cb')!.opUnsure);
  assert.deepEqual(a.findings.map((f) => f.code), []);
  // The same with the ctx overwritten before the call.
  const over = HOOK.replace('bpf_loop(1, cb, &w, 0);', '{ w.skops = 0; bpf_loop(1, cb, &w, 0); }');
  assert.deepEqual((await analyzeText(over)).funcs.get('cb')!.paramKinds, ['other', 'other']);
  // And assigned field by field: recognised.
  const later = HOOK.replace('struct walk w = { .skops = skops };', 'struct walk w = {};\n\tw.skops = skops;');
  assert.deepEqual((await analyzeText(later)).funcs.get('cb')!.paramKinds, ['other', { carrier: ['skops'] }]);
});

test('a function used as a value gets the ops where its name is taken, and unknown parameters', async () => {
  const text = `#include "vmlinux.h"
static long cb(__u64 i, void *data) { int one = 1; bpf_setsockopt(data, 1, 18, &one, 4); return 0; }
SEC("sockops")
int hook(struct bpf_sock_ops *skops)
{
	long (*f)(__u64, void *) = 0;
	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RCVQ_CB_FLAG);
	if (skops->op != BPF_SOCK_OPS_RCVQ_CB)
		return 1;
	f = cb;
	bpf_loop(1, f, &skops, 0);
	return 1;
}
`;
  const a = await analyzeText(text);
  assert.deepEqual(entry(a, 'cb'), ['RCVQ_CB']);
  assert.deepEqual(a.funcs.get('cb')!.paramKinds, ['other', 'other']);
  assert.deepEqual(a.findings.map((f) => f.code), ['SOCKOPS002']);
});

test('hover and completion inside a callback show the ops it inherits', async () => {
  const a = await analyzeText(FIX);
  const inRcvq = at(FIX, 'bpf_setsockopt(w->skops', 3);
  const h = hover(a, inRcvq)!;
  assert.match(h.markdown, /Ops reaching this point: RCVQ_CB\./);
  assert.match(h.markdown, /reaches here: RCVQ_CB/);
  const both = hover(a, at(FIX, 'bpf_setsockopt(ctx->skops', 3))!;
  assert.match(both.markdown, /Ops reaching this point: PASSIVE_ESTABLISHED_CB, RCVQ_CB\./);
  const items = complete(a, at(FIX, 'bpf_setsockopt(w->skops'));
  const set = items.find((i) => i.label === 'bpf_setsockopt')!;
  assert.match(set.detail, /^fails at every op here \(RCVQ_CB: -EOPNOTSUPP \(-95\)\)/);
  assert.ok(set.sortText.startsWith('2_'));
  const fields = complete(a, at(FIX, 'skb_data; // expect'));
  assert.match(fields.find((i) => i.label === 'skb_data')!.detail, /RCVQ_CB/);
  // The callback's name: where it runs and with which ops.
  const name = hover(a, at(FIX, 'rcvq_only_cb(', 2))!;
  assert.match(name.markdown, /bpf_loop\(\) callback/);
  assert.match(name.markdown, /RCVQ_CB/);
});

test('loop_frames.bpf.c: walk_step is checked at RCVQ_CB with the ctx carried in struct walk, and is clean', async () => {
  const text = read(path.join(ROOT, 'test/fixtures/kernel/loop_frames.bpf.c'));
  const a = await analyzeText(text);
  assert.deepEqual(entry(a, 'walk_step'), ['RCVQ_CB']);
  assert.deepEqual(a.funcs.get('walk_step')!.paramKinds, ['other', { carrier: ['skops'] }]);
  assert.deepEqual(a.findings, []);
  // Without the RCVQ_CB guard the callback runs at other ops, where bpf_skb_load_bytes() fails.
  const unguarded = text.replace('if (skops->op != BPF_SOCK_OPS_RCVQ_CB)\n\t\treturn 1;', '');
  assert.notEqual(unguarded, text);
  const b = await analyzeText(unguarded);
  assert.ok(b.funcs.get('walk_step')!.entry.ops().length > 1);
  const lines = unguarded.split('\n');
  const w = positioned(b).find((f) => lines[f.range.start.line]!.includes('bpf_skb_load_bytes(w->skops'));
  assert.equal(w?.code, 'SOCKOPS003');
  assert.match(w!.message, /It works at RCVQ_CB/);
});

test('a timer callback runs later, at no op the arming code knows: all ops, unknown parameters', async () => {
  const text = `#include "vmlinux.h"
struct elem { struct bpf_timer t; };
static int fire(void *map, int *key, struct elem *val) { return 0; }
SEC("sockops")
int hook(struct bpf_sock_ops *skops)
{
	struct elem *e = 0;
	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	bpf_timer_set_callback(&e->t, fire);
	return 1;
}
`;
  const a = await analyzeText(text);
  assert.deepEqual(a.funcs.get('fire')!.entry.ops(), a.universe.values);
  assert.deepEqual(a.funcs.get('fire')!.paramKinds, ['other', 'other', 'other']);
});
