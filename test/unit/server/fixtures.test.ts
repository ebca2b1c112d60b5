// Every rule-family fixture through the engine: the diagnostics are exactly those marked
// beside the code; correct hooks (selftest styles, the example AutoLOWAT hook) get none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeText, positioned } from '../../../server/analysis/engine';
import { CODES } from '../../../server/codes';
import { fixtureFiles, correctHooks, expectations, read, profileOf } from './helpers';

for (const file of fixtureFiles()) {
  test(`fixture ${path.basename(file)}: diagnostics match the expect marks`, async () => {
    const text = read(file);
    const a = await analyzeText(text, { file, profile: profileOf(text) });
    const got = positioned(a).map((f) => `${f.range.start.line + 1}:${f.code}:${f.severity}`).sort();
    assert.deepEqual(got, expectations(text));
    for (const f of a.findings) {
      assert.ok(f.code in CODES, `${f.code} is documented in server/codes.ts`);
      assert.ok(f.end > f.start && f.end <= text.length);
    }
  });
}

test('each rule family has a fixture that triggers it', async () => {
  const seen = new Set<string>();
  for (const file of fixtureFiles()) for (const e of expectations(read(file))) seen.add(e.split(':')[1]!);
  assert.deepEqual([...seen].sort(), Object.keys(CODES).sort());
});

for (const file of correctHooks()) {
  test(`no false alarms on ${path.relative(process.cwd(), file)}`, async () => {
    const text = read(file);
    const a = await analyzeText(text, { file, profile: profileOf(text) });
    assert.deepEqual(a.findings.map((f) => `${f.code} ${f.message}`), []);
  });
}

test('messages name the ops, the errno name and number; related info points at the case label', async () => {
  const file = fixtureFiles().find((f) => f.endsWith('rcvq_cb_helpers.bpf.c'))!;
  const text = read(file);
  const lines = text.split('\n');
  const a = positioned(await analyzeText(text));
  const setsockopt = a.find((f) => f.code === 'SOCKOPS002' && lines[f.range.start.line]!.includes('bpf_setsockopt'))!;
  assert.match(setsockopt.message, /RCVQ_CB/);
  assert.match(setsockopt.message, /-EOPNOTSUPP \(-95\)/);
  assert.equal(setsockopt.relatedRanges.length, 1);
  const rel = setsockopt.relatedRanges[0]!;
  assert.match(lines[rel.range.start.line]!, /case BPF_SOCK_OPS_RCVQ_CB:/);
  assert.match(rel.message, /RCVQ_CB reaches this call through case BPF_SOCK_OPS_RCVQ_CB/);
  // The fall-through case: RCVQ_CB comes from the case above, ACTIVE_ESTABLISHED_CB from its own label.
  const warn = a.find((f) => f.code === 'SOCKOPS003' && lines[f.range.start.line]!.includes('bpf_skb_load_bytes'))!;
  assert.match(warn.message, /fails at ACTIVE_ESTABLISHED_CB/);
  assert.match(warn.message, /It works at RCVQ_CB/);
  assert.match(lines[warn.relatedRanges[0]!.range.start.line]!, /case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:/);
});

test('the diagnostic range covers the helper name', async () => {
  const text = 'SEC("sockops") int p(struct bpf_sock_ops *s) { if (s->op == BPF_SOCK_OPS_RCVQ_CB) bpf_getsockopt(s, 6, 1, 0, 4); return 1; }\n' +
    'SEC("cgroup/setsockopt") int e(struct bpf_sockopt *c) { int f = BPF_SOCK_OPS_RCVQ_CB_FLAG; bpf_setsockopt(c->sk, 6, TCP_BPF_SOCK_OPS_CB_FLAGS, &f, 4); return 1; }\n';
  const a = await analyzeText(text);
  assert.equal(a.findings.length, 1);
  assert.equal(text.slice(a.findings[0]!.start, a.findings[0]!.end), 'bpf_getsockopt');
});
