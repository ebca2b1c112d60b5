// The struct_ops profile autolowat-tcp-ops-v5 (issue 15): its ABI choices and citations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getProfile, profileNames, table } from '../../../sockops';
import type { StructOpsProfile } from '../../../sockops';

test('autolowat-tcp-ops-v5 is listed and has the ABI choices of docs/abi.md §5', () => {
  assert.ok(profileNames().includes('autolowat-tcp-ops-v5'));
  const p = getProfile('autolowat-tcp-ops-v5') as StructOpsProfile;
  assert.equal(p.baseline, 'linux-7.1.5');
  assert.equal(p.structOps.struct, 'bpf_tcp_ops');
  assert.deepEqual(p.structOps.members.map((m) => m.name), ['enqueue_rcvq', 'dequeue_rcvq']);
  assert.deepEqual(p.structOps.members[0]!.args.map((a) => a.name), ['sk', 'skb']);
  assert.deepEqual(p.structOps.members[1]!.args.map((a) => a.name), ['sk']);
  const t = table('autolowat-tcp-ops-v5');
  assert.equal(t.constant('BPF_TCP_OPS_FLAG_RCVQ'), 1);
  assert.equal(t.op('BPF_SOCK_OPS_RCVQ_CB'), undefined, 'no receive-queue sock_ops op in the struct_ops revision');
  assert.deepEqual(t.kfunc('bpf_tcp_ops_set_flags')!.params.map((x) => x.ctype), ['struct tcp_sock *', 'u32', 'u32']);
  assert.deepEqual(t.kfunc('bpf_tcp_ops_set_rcvlowat')!.params.map((x) => x.ctype), ['struct sock *', 'int']);
  assert.equal(t.kfunc('bpf_sock_ops_tcp_set_rcvlowat'), undefined);
  // only enqueue_rcvq has an skb to make a dynptr from
  assert.ok(p.structOps.members[0]!.kfuncs.includes('bpf_dynptr_from_skb'));
  assert.ok(!p.structOps.members[1]!.kfuncs.includes('bpf_dynptr_from_skb'));
});

test('every row the profile adds is seed, kernel or cites docs/abi.md §5', () => {
  const p = getProfile('autolowat-tcp-ops-v5') as StructOpsProfile;
  const sources = [p.structOps.source, p.structOps.enabledBy.source, ...p.structOps.members.map((m) => m.source),
    ...p.kfuncs.filter((k) => k.addedByProfile).flatMap((k) => [k.source, ...k.sockOpsRules.map((r) => r.source)]),
    ...p.constants.filter((c) => c.addedByProfile).map((c) => c.source)];
  assert.ok(sources.length >= 10);
  for (const s of sources) {
    if (s.confidence === 'assumed') assert.match(s.file, /^docs\/abi\.md §5\.\d+$/, `${s.func}: ${s.file}`);
    else assert.ok(s.confidence === 'seed' || s.confidence === 'kernel-7.1.5', s.func);
  }
});
