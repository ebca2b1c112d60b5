// Ops the kernel never fires (OpInfo.neverFires: BPF_SOCK_OPS_VOID) stay out of op sets and
// "fails at" lists; a rule with afterArgChecks says so in the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText } from '../../../server/analysis/engine';
import { table } from '../../../sockops/index';

test('BPF_SOCK_OPS_VOID is marked neverFires and is not among the firing ops', () => {
  for (const p of ['linux-7.1.5', 'autolowat-sockops-v3']) {
    const t = table(p);
    assert.ok(t.op('BPF_SOCK_OPS_VOID')!.neverFires, p);
    assert.ok(t.allOps().includes(0));
    assert.ok(!t.firingOps().includes(0));
    assert.equal(t.firingOps().length, t.allOps().length - 1);
  }
});

test('an unguarded bpf_reserve_hdr_opt fails at the ops reaching it, VOID not listed (it was before neverFires)', async () => {
  const text = 'SEC("sockops") int p(struct bpf_sock_ops *s) { bpf_reserve_hdr_opt(s, 4, 0); return 1; }\n';
  const a = await analyzeText(text);
  const f = a.findings.find((x) => x.code === 'SOCKOPS002' || x.code === 'SOCKOPS003');
  assert.ok(f, a.findings.map((x) => x.message).join('\n'));
  assert.match(f!.message, /TIMEOUT_INIT/);
  assert.doesNotMatch(f!.message, /\bVOID\b/);
});

test('bpf_load_hdr_opt at an op without skb: the message carries the "after the argument checks" note', async () => {
  const text = 'SEC("sockops") int p(struct bpf_sock_ops *s) { char b[8] = {8}; if (s->op == BPF_SOCK_OPS_TCP_CONNECT_CB) bpf_load_hdr_opt(s, b, 8, 0); return 1; }\n';
  const a = await analyzeText(text);
  const f = a.findings.find((x) => /bpf_load_hdr_opt/.test(x.message));
  assert.ok(f, a.findings.map((x) => x.message).join('\n'));
  assert.match(f!.message, /after the argument checks: len < 2/);
});
