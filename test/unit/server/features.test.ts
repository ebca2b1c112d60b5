// Hover, completion, signature help and quick fixes on the engine; each quick fix, applied,
// makes its diagnostic go away (and adds none of the same family).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText, type Analysis } from '../../../server/analysis/engine';
import { complete, hover, quickFixes, signature, stateAt, type TextEdit } from '../../../server/analysis/features';

const HOOK = `#include "vmlinux.h"
SEC("sockops")
int hook(struct bpf_sock_ops *skops)
{
	int one = 1;

	switch (skops->op) {
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RCVQ_CB_FLAG);
		/* fall through */
	case BPF_SOCK_OPS_RCVQ_CB:
		bpf_setsockopt(skops, 6, 1, &one, sizeof(one));
		break;
	}
	if (skops->op == BPF_SOCK_OPS_RCVQ_CB) {
		void *data = (void *)(long)skops->skb_data;
		return data != 0;
	}
	return 1;
}
`;

const at = (text: string, needle: string, delta = 0) => text.indexOf(needle) + delta;

function apply(text: string, edits: TextEdit[]): string {
  for (const e of [...edits].sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.newText + text.slice(e.end);
  return text;
}

test('stateAt: the ops reaching a statement', async () => {
  const a = await analyzeText(HOOK);
  const ops = stateAt(a, at(HOOK, 'bpf_setsockopt')).state!.ops();
  assert.deepEqual(ops, [5, 21]);
  assert.deepEqual(stateAt(a, at(HOOK, 'void *data')).state!.ops(), [21]);
});

test('hover: helper prototype, per-op table, reaching ops, source and confidence', async () => {
  const a = await analyzeText(HOOK);
  const h = hover(a, at(HOOK, 'bpf_setsockopt', 3))!;
  assert.equal(HOOK.slice(h.start, h.end), 'bpf_setsockopt');
  assert.match(h.markdown, /bpf_setsockopt\(/);
  assert.match(h.markdown, /\| ops \| result \|/);
  assert.match(h.markdown, /-EOPNOTSUPP \(-95\).*reaches here: RCVQ_CB/);
  assert.match(h.markdown, /confidence \*\*(kernel-7\.1\.5|seed|assumed)\*\*/);
});

test('hover: ctx field offset, size, access rules and when it reads 0', async () => {
  const a = await analyzeText(HOOK);
  const h = hover(a, at(HOOK, 'skb_data', 2))!;
  assert.match(h.markdown, /offset 192, 8 bytes/);
  assert.match(h.markdown, /read-only/);
  assert.match(h.markdown, /RCVQ_CB: an empty packet window/);
  assert.doesNotMatch(h.markdown, /VOID/, 'VOID never fires: not listed');
  // One line per reason: the ops with no skb share one line.
  const lines = h.markdown.split('\n').filter((l) => l.startsWith('- '));
  assert.equal(lines.filter((l) => /the op has no skb/.test(l)).length, 1, lines.join('\n'));
  assert.match(lines.find((l) => /the op has no skb/.test(l))!, /TIMEOUT_INIT, RWND_INIT, .*RTT_CB:/);
  assert.equal(new Set(lines.map((l) => l.slice(l.indexOf(':')))).size, lines.length);
  assert.doesNotMatch(h.markdown, /the series/);
  assert.match(h.markdown, /Ops reaching here: RCVQ_CB — 0\/NULL at RCVQ_CB/);
});

test('hover: op constant says when it fires, and the flag that enables it', async () => {
  const a = await analyzeText(HOOK);
  const h = hover(a, at(HOOK, 'BPF_SOCK_OPS_RCVQ_CB:', 5))!;
  assert.match(h.markdown, /\*\*BPF_SOCK_OPS_RCVQ_CB\*\* = 21/);
  assert.match(h.markdown, /Fires: /);
  assert.match(h.markdown, /BPF_SOCK_OPS_RCVQ_CB_FLAG/);
  const f = hover(a, at(HOOK, 'BPF_SOCK_OPS_RCVQ_CB_FLAG', 3))!;
  assert.match(f.markdown, /= `0x80`/);
});

test('completion: ctx fields after skops->, helpers ranked by the ops reaching the cursor', async () => {
  const text = HOOK.replace('\t\tbreak;\n\t}', '\t\tskops->\n\t\tbpf_\n\t\tbreak;\n\t}');
  const a = await analyzeText(text);
  const fields = complete(a, at(text, 'skops->\n', 7));
  assert.ok(fields.find((f) => f.label === 'snd_cwnd'));
  assert.ok(fields.every((f) => f.kind === 'field'));
  const skb = fields.find((f) => f.label === 'skb_data')!;
  assert.match(skb.detail, /0\/NULL at RCVQ_CB/);
  const items = complete(a, at(text, 'bpf_\n', 4));
  const rank = (n: string) => items.find((i) => i.label === n)!.sortText;
  assert.ok(rank('bpf_sk_storage_get') < rank('bpf_setsockopt'), 'helpers that work at every reaching op come first');
  assert.match(items.find((i) => i.label === 'bpf_setsockopt')!.detail, /fails at RCVQ_CB \(-EOPNOTSUPP \(-95\)\)/);
  assert.ok(items.find((i) => i.label === 'BPF_SOCK_OPS_RCVQ_CB' && i.kind === 'enumMember'));
  assert.ok(items.find((i) => i.label === 'bpf_sock_ops_tcp_set_rcvlowat'), 'kfuncs are offered');
});

test('signature help: prototype, active parameter, failure at the reaching ops', async () => {
  const a = await analyzeText(HOOK);
  const s = signature(a, at(HOOK, '&one', 1))!;
  assert.match(s.label, /^long bpf_setsockopt\(/);
  assert.equal(s.activeParameter, 3);
  assert.match(s.documentation, /RCVQ_CB → -EOPNOTSUPP/);
  assert.equal(signature(a, at(HOOK, 'int one')), undefined);
});

async function fixAndRecheck(text: string, code: string, title: RegExp): Promise<{ before: Analysis; after: Analysis; fixed: string }> {
  const before = await analyzeText(text);
  const f = before.findings.find((x) => x.code === code);
  assert.ok(f, `${code} present`);
  const fixes = quickFixes(before, f!.start, f!.end).filter((q) => q.code === code);
  const q = fixes.find((x) => title.test(x.title));
  assert.ok(q, `quick fix ${title} offered; got ${fixes.map((x) => x.title).join(' | ')}`);
  const fixed = apply(text, q!.edits);
  return { before, after: await analyzeText(fixed), fixed };
}

test('quick fix: wrap the call in an op guard', async () => {
  const { after, fixed } = await fixAndRecheck(HOOK, 'SOCKOPS003', /^Guard bpf_setsockopt/);
  assert.match(fixed, /if \(skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB\)\n\t\t\tbpf_setsockopt/);
  assert.deepEqual(after.findings.filter((f) => f.code.startsWith('SOCKOPS00') && f.code !== 'SOCKOPS005').map((f) => f.code), []);
});

test('quick fix: enable the flag in the switch\'s PASSIVE_ESTABLISHED_CB case', async () => {
  const text = HOOK.replace('bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RCVQ_CB_FLAG);', 'one = 2;');
  const { before, after, fixed } = await fixAndRecheck(text, 'SOCKOPS006', /^Enable BPF_SOCK_OPS_RCVQ_CB_FLAG in case PASSIVE_ESTABLISHED_CB/);
  assert.ok(before.findings.some((f) => f.code === 'SOCKOPS006'));
  assert.match(fixed, /case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:\n\t\tbpf_sock_ops_cb_flags_set\(skops, skops->bpf_sock_ops_cb_flags \| BPF_SOCK_OPS_RCVQ_CB_FLAG\);\n\t\tone = 2;/);
  assert.equal(after.findings.filter((f) => f.code === 'SOCKOPS006').length, 0);
});

test('quick fix: replace a skb_data read at RCVQ_CB with a bpf_skb_load_bytes skeleton', async () => {
  const { after, fixed } = await fixAndRecheck(HOOK, 'SOCKOPS005', /bpf_skb_load_bytes/);
  assert.match(fixed, /if \(bpf_skb_load_bytes\(skops, off, buf, sizeof\(buf\)\) < 0\)\n\t\t\treturn 1;[^\n]*\n\t\tvoid \*data = \(void \*\)buf;/);
  assert.match(fixed, /int one = 1;\n\t__u8 buf\[8\];/);
  assert.equal(after.findings.filter((f) => f.code === 'SOCKOPS005').length, 0);
  assert.equal(after.findings.filter((f) => /bpf_skb_load_bytes/.test(f.message)).length, 0, 'the helper works at RCVQ_CB');
});
