// Calling contexts (server/analysis/contexts.ts): helper calls in called functions judged per
// path, with the path named in the message. The expect marks of test/fixtures/check/
// call_contexts.bpf.c are checked by fixtures.test.ts; this checks the words and the contexts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeText, positioned } from '../../../server/analysis/engine';
import { callContexts, MAX_CONTEXTS } from '../../../server/analysis/contexts';
import { FIXTURES, read } from './helpers';

const FILE = path.join(FIXTURES, 'call_contexts.bpf.c');

function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, needle);
  return i + 1;
}

test('the message names the failing op and the call chain that reaches it', async () => {
  const text = read(FILE);
  const a = positioned(await analyzeText(text, { file: FILE }));
  const inner = a.find((f) => f.range.start.line + 1 === lineOf(text, 'syn ? BPF_LOAD_HDR_OPT_TCP_SYN : 0); // expect'))!;
  assert.equal(inner.code, 'SOCKOPS003');
  const outerCall = lineOf(text, 'outer(skops, 0);');
  const innerCall = lineOf(text, 'return inner(skops, syn);');
  assert.match(inner.message, new RegExp(`HDR_OPT_LEN_CB is reached from case BPF_SOCK_OPS_HDR_OPT_LEN_CB via outer\\(\\) at line ${outerCall}, inner\\(\\) at line ${innerCall}\\.`));
  assert.match(inner.message, /It works at PARSE_HDR_OPT_CB\./);
  assert.doesNotMatch(inner.message, /depending on its arguments/, 'the HDR_OPT_LEN_CB path passes 0: a certain failure there');
  // Related information: the case label, then each call of the chain.
  const rel = inner.relatedRanges.map((r) => `${r.range.start.line + 1}: ${r.message}`);
  assert.ok(rel.some((r) => r.startsWith(`${outerCall}: contexts() calls outer() here, at HDR_OPT_LEN_CB`)), rel.join('\n'));
  assert.ok(rel.some((r) => r.startsWith(`${innerCall}: outer() calls inner() here, at HDR_OPT_LEN_CB`)), rel.join('\n'));

  const mixed = a.find((f) => f.range.start.line + 1 === lineOf(text, 'sizeof(one)); // expect'))!;
  assert.match(mixed.message, /fails at HDR_OPT_LEN_CB: .* HDR_OPT_LEN_CB is reached from case BPF_SOCK_OPS_HDR_OPT_LEN_CB via nodelay_mixed\(\) at line \d+\. It works at ACTIVE_ESTABLISHED_CB\./);
  // The quick fix still guards with the ops where it works.
  assert.deepEqual(mixed.fix && mixed.fix.kind === 'guard' ? mixed.fix.failOps : undefined, [14]);
});

test('contexts keep the parameter values of each path, one per distinct set of values', async () => {
  const text = read(FILE);
  const a = await analyzeText(text, { file: FILE });
  const ctx = callContexts(a);
  const u = a.universe;
  const ops = (mask: number) => u.ops(mask).map((o) => a.table.op(o)!.short).sort();
  const load = ctx.get('load_opt')!.map((c) => ({ syn: c.bindings[1], ops: ops(c.mask) }));
  assert.deepEqual(load.sort((x, y) => (x.syn ?? -1) - (y.syn ?? -1)), [
    { syn: 0, ops: ['PARSE_HDR_OPT_CB', 'PASSIVE_ESTABLISHED_CB'] },
    { syn: 1, ops: ['HDR_OPT_LEN_CB'] },
  ]);
  // inner() gets outer()'s parameter, bound to the literal each caller of outer() passes.
  const inner = ctx.get('inner_ok')!.map((c) => `${c.bindings[1]}:${ops(c.mask).join(',')}`).sort();
  assert.deepEqual(inner, ['0:PARSE_HDR_OPT_CB', '1:HDR_OPT_LEN_CB']);
});

test('a path whose argument is not known keeps the warning, depending on its arguments', async () => {
  const text = `#include "vmlinux.h"
static int load(struct bpf_sock_ops *s, int fl) { char b[4] = {}; return bpf_load_hdr_opt(s, b, 4, fl); }
SEC("sockops") int p(struct bpf_sock_ops *s) {
  if (s->op == BPF_SOCK_OPS_TCP_CONNECT_CB) bpf_sock_ops_cb_flags_set(s, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
  if (s->op == BPF_SOCK_OPS_HDR_OPT_LEN_CB) return load(s, s->args[0]);
  return 1;
}
`;
  const a = await analyzeText(text);
  assert.deepEqual(a.findings.map((f) => f.code), ['SOCKOPS003']);
  assert.match(a.findings[0]!.message, /fails at HDR_OPT_LEN_CB \(depending on its arguments\)/);
  assert.match(a.findings[0]!.message, /reached from guard `s->op == BPF_SOCK_OPS_HDR_OPT_LEN_CB` via load\(\) at line 5/);
});

test('recursion with a changing argument ends: contexts are capped and the rest merged as unknown', async () => {
  const text = `#include "vmlinux.h"
static int down(struct bpf_sock_ops *s, int n) { if (n > 0) return down(s, n - 1); return bpf_load_hdr_opt(s, 0, 4, n); }
SEC("sockops") int p(struct bpf_sock_ops *s) {
  if (s->op == BPF_SOCK_OPS_TCP_CONNECT_CB) bpf_sock_ops_cb_flags_set(s, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
  if (s->op == BPF_SOCK_OPS_HDR_OPT_LEN_CB) return down(s, 100);
  return 1;
}
`;
  const a = await analyzeText(text);
  const list = callContexts(a).get('down')!;
  assert.ok(list.length <= MAX_CONTEXTS, `${list.length} contexts`);
  assert.ok(list.some((c) => c.bindings.every((v) => v === undefined)), 'the merged context has unknown values');
  // n reaches 0 on some path the analysis cannot enumerate: the call may fail (flags 0), so it warns.
  assert.deepEqual(a.findings.map((f) => f.code), ['SOCKOPS003']);
});

test('a function whose local is assigned twice or whose address is taken is not taken as a constant', async () => {
  const text = `#include "vmlinux.h"
extern void touch(int *p);
static int load(struct bpf_sock_ops *s) { int fl = BPF_LOAD_HDR_OPT_TCP_SYN; touch(&fl); return bpf_load_hdr_opt(s, 0, 4, fl); }
static int load2(struct bpf_sock_ops *s) { int fl = BPF_LOAD_HDR_OPT_TCP_SYN; fl = s->args[0]; return bpf_load_hdr_opt(s, 0, 4, fl); }
static int load3(struct bpf_sock_ops *s) { int fl = BPF_LOAD_HDR_OPT_TCP_SYN; return bpf_load_hdr_opt(s, 0, 4, fl); }
SEC("sockops") int p(struct bpf_sock_ops *s) {
  if (s->op == BPF_SOCK_OPS_TCP_CONNECT_CB) bpf_sock_ops_cb_flags_set(s, BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
  if (s->op == BPF_SOCK_OPS_HDR_OPT_LEN_CB) return load(s) + load2(s) + load3(s);
  return 1;
}
`;
  const a = positioned(await analyzeText(text));
  assert.deepEqual(a.map((f) => `${f.range.start.line + 1}:${f.code}`), ['3:SOCKOPS003', '4:SOCKOPS003']);
});
