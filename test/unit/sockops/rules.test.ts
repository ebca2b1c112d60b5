// Per-op run-time rules (callAt / failingOps), ctx reads per op (ctxReadAt) and the verifier's
// ctx access check (ctxAccessError), on the cases the kernel and the seed define.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops/index';

const v3 = table('autolowat-sockops-v3');
const base = table('linux-7.1.5');
const EOPNOTSUPP = -95;
const EPERM = -1;
const SOL_TCP = 6;
const SOL_SOCKET = 1;
const TCP_NODELAY = 1;
const SO_RCVLOWAT = 18;

function errno(r: ReturnType<typeof v3.callAt>): number | 'ok' {
  return r.result;
}

test('setsockopt/getsockopt/load_hdr_opt: -EOPNOTSUPP above op 15, including RCVQ_CB (seed)', () => {
  for (const name of ['bpf_setsockopt', 'bpf_getsockopt', 'bpf_load_hdr_opt']) {
    const h = v3.helper(name)!;
    for (const op of [16, 17, 18, 19, 20, 21]) {
      const r = v3.callAt(h, op, [undefined, SOL_SOCKET, SO_RCVLOWAT, undefined, 4]);
      assert.equal(errno(r), EOPNOTSUPP, `${name} at ${op}`);
      assert.ok(r.result !== 'ok' && !r.conditional);
    }
    const at21 = v3.callAt(h, 21);
    assert.ok(at21.result !== 'ok' && at21.rule.source.confidence === 'seed' && at21.rule.addedByProfile);
    const at17 = v3.callAt(h, 17);
    assert.ok(at17.result !== 'ok' && at17.rule.source.confidence === 'kernel-7.1.5' && /is_locked_tcp_sock_ops/.test(at17.rule.why));
  }
  const set = v3.helper('bpf_setsockopt')!;
  for (const op of [3, 4, 5, 10, 11, 13]) assert.equal(errno(v3.callAt(set, op, [undefined, SOL_SOCKET, SO_RCVLOWAT])), 'ok', `op ${op}`);
  // The baseline profile has no op 21: nothing to say about it.
  assert.equal(errno(base.callAt(base.helper('bpf_setsockopt')!, 21)), 'ok');
});

test('setsockopt SOL_TCP/TCP_NODELAY at HDR_OPT_LEN_CB and WRITE_HDR_OPT_CB', () => {
  const h = v3.helper('bpf_setsockopt')!;
  for (const op of [14, 15]) {
    const known = v3.callAt(h, op, [undefined, SOL_TCP, TCP_NODELAY]);
    assert.ok(known.result === EOPNOTSUPP && !known.conditional, `op ${op} known args`);
    const unknown = v3.callAt(h, op, [undefined, SOL_TCP, undefined]);
    assert.ok(unknown.result === EOPNOTSUPP && unknown.conditional, `op ${op} unknown optname: may fail`);
    const noArgs = v3.callAt(h, op);
    assert.ok(noArgs.result === EOPNOTSUPP && noArgs.conditional);
    assert.equal(errno(v3.callAt(h, op, [undefined, SOL_SOCKET, TCP_NODELAY])), 'ok', 'SOL_SOCKET optname 1 is SO_DEBUG, fine');
    assert.equal(errno(v3.callAt(h, op, [undefined, SOL_TCP, 2])), 'ok');
  }
  assert.equal(errno(v3.callAt(h, 13, [undefined, SOL_TCP, TCP_NODELAY])), 'ok');
});

test('cb_flags_set: works at RCVQ_CB (seed), -EOPNOTSUPP at 16-20; baseline fails above 15', () => {
  const h = v3.helper('bpf_sock_ops_cb_flags_set')!;
  assert.equal(errno(v3.callAt(h, 21)), 'ok');
  for (const op of [16, 20]) assert.equal(errno(v3.callAt(h, op)), EOPNOTSUPP);
  for (const op of [0, 4, 5, 15]) assert.equal(errno(v3.callAt(h, op)), 'ok');
  assert.ok(h.errors!.some((e) => e.errno === -117), '-EUCLEAN documented');
  const failing = v3.failingOps(h, v3.allOps());
  assert.deepEqual(failing.map((g) => [g.errno, g.ops]), [[EOPNOTSUPP, [16, 17, 18, 19, 20]]]);
  const b = base.helper('bpf_sock_ops_cb_flags_set')!;
  assert.deepEqual(base.failingOps(b, base.allOps()).map((g) => g.ops), [[16, 17, 18, 19, 20]]);
});

test('store_hdr_opt only at 15, reserve_hdr_opt only at 14 (-EPERM)', () => {
  const store = v3.helper('bpf_store_hdr_opt')!;
  const reserve = v3.helper('bpf_reserve_hdr_opt')!;
  const all = v3.allOps();
  assert.deepEqual(v3.failingOps(store, all).map((g) => [g.errno, g.ops]), [[EPERM, all.filter((o) => o !== 15)]]);
  assert.deepEqual(v3.failingOps(reserve, all).map((g) => [g.errno, g.ops]), [[EPERM, all.filter((o) => o !== 14)]]);
  assert.equal(errno(v3.callAt(store, 15)), 'ok');
  assert.equal(errno(v3.callAt(reserve, 14)), 'ok');
  assert.equal(errno(v3.callAt(store, 21)), EPERM);
});

test('load_hdr_opt: -EPERM without an skb or at HDR_OPT_LEN_CB unless BPF_LOAD_HDR_OPT_TCP_SYN', () => {
  const h = v3.helper('bpf_load_hdr_opt')!;
  assert.equal(errno(v3.callAt(h, 14, [undefined, undefined, undefined, 0])), EPERM);
  assert.equal(errno(v3.callAt(h, 14, [undefined, undefined, undefined, 1])), 'ok');
  const maybe = v3.callAt(h, 3);
  assert.ok(maybe.result === EPERM && maybe.conditional);
  assert.equal(errno(v3.callAt(h, 13, [undefined, undefined, undefined, 0])), 'ok');
  assert.equal(errno(v3.callAt(h, 15, [undefined, undefined, undefined, 0])), 'ok');
});

test('sock_map_update / sock_hash_update only at 4, 5 and 11', () => {
  for (const n of ['bpf_sock_map_update', 'bpf_sock_hash_update']) {
    const h = v3.helper(n)!;
    const failing = v3.failingOps(h, v3.allOps());
    assert.equal(failing.length, 1);
    assert.equal(failing[0].errno, EOPNOTSUPP);
    assert.deepEqual(failing[0].ops, v3.allOps().filter((o) => ![4, 5, 11].includes(o)));
    assert.ok(failing[0].ops.includes(21));
  }
});

test('skb_load_bytes: only at RCVQ_CB (assumed), -EFAULT documented for a NULL skb', () => {
  const h = v3.helper('bpf_skb_load_bytes')!;
  assert.equal(errno(v3.callAt(h, 21)), 'ok');
  const r = v3.callAt(h, 4);
  assert.ok(r.result === EOPNOTSUPP && r.rule.source.confidence === 'assumed');
  assert.deepEqual(v3.failingOps(h, [4, 5, 21, 13]).map((g) => g.ops), [[4, 5, 13]]);
  assert.ok(h.errors!.some((e) => e.errno === -14 && /NULL/.test(e.when)));
  assert.ok(h.addedByProfile && h.source.confidence === 'seed');
});

test('kfuncs: enable_tx_tstamp only at 20, tcp_set_rcvlowat only at RCVQ_CB', () => {
  const tx = v3.kfunc('bpf_sock_ops_enable_tx_tstamp')!;
  assert.deepEqual(v3.failingOps(tx, v3.allOps()).map((g) => [g.errno, g.ops]), [[EOPNOTSUPP, v3.allOps().filter((o) => o !== 20)]]);
  const lowat = v3.kfunc('bpf_sock_ops_tcp_set_rcvlowat')!;
  assert.equal(errno(v3.callAt(lowat, 21)), 'ok');
  for (const op of [0, 4, 5, 15, 20]) assert.equal(errno(v3.callAt(lowat, op)), EOPNOTSUPP);
  assert.ok(lowat.addedByProfile && lowat.source.confidence === 'seed');
  const cast = v3.kfunc('bpf_cast_to_kern_ctx')!;
  assert.deepEqual(v3.failingOps(cast, v3.allOps()), []);
});

test('failingOps groups by errno and rule, ops sorted', () => {
  const h = v3.helper('bpf_setsockopt')!;
  const groups = v3.failingOps(h, [21, 14, 20, 3, 15, 16], [undefined, SOL_TCP, TCP_NODELAY]);
  assert.deepEqual(groups.map((g) => g.ops), [[14, 15], [16, 20], [21]]);
  assert.ok(groups.every((g) => g.errno === EOPNOTSUPP && !g.conditional));
  assert.deepEqual(v3.failingOps(h, [3, 4, 5]), []);
});

test('ctxReadAt: gates per op and zeroAt entries', () => {
  const f = (n: string) => v3.ctxField(n)!;
  assert.deepEqual(v3.ctxReadAt(f('snd_cwnd'), 4), { kind: 'value' });
  const tstamp = v3.ctxReadAt(f('snd_cwnd'), 18);
  assert.ok(tstamp.kind === 'zero' && /is_locked_tcp_sock = 0/.test(tstamp.why));
  assert.deepEqual(v3.ctxReadAt(f('bpf_sock_ops_cb_flags'), 21), { kind: 'value' }, 'the seed selftest reads cb flags at RCVQ_CB');
  assert.deepEqual(v3.ctxReadAt(f('sk'), 21), { kind: 'value' });
  const ecn = v3.ctxReadAt(f('sk'), 6);
  assert.ok(ecn.kind === 'null' && /request socket/.test(ecn.why));
  assert.deepEqual(v3.ctxReadAt(f('sk'), 1), { kind: 'value' }, 'varies: may be a full socket');
  const noSkb = v3.ctxReadAt(f('skb_len'), 10);
  assert.ok(noSkb.kind === 'zero' && /no skb/.test(noSkb.why));
  assert.deepEqual(v3.ctxReadAt(f('skb_len'), 21), { kind: 'value' });
  for (const name of ['skb_data', 'skb_data_end']) {
    const r = v3.ctxReadAt(f(name), 21);
    assert.ok(r.kind === 'empty' && r.source.confidence === 'seed' && /bpf_skb_load_bytes/.test(r.hint ?? ''), name);
    const tx = v3.ctxReadAt(f(name), 17);
    assert.ok(tx.kind === 'empty' && tx.source.confidence === 'kernel-7.1.5' && /end_offset 0/.test(tx.why), `${name} at 17`);
    assert.deepEqual(v3.ctxReadAt(f(name), 13), { kind: 'value' });
    const len = v3.ctxReadAt(f(name), 14);
    assert.ok(len.kind === 'empty' && len.source.func === 'bpf_skops_hdr_opt_len', `${name} at 14`);
  }
  assert.deepEqual(v3.ctxReadAt(f('state'), 6), { kind: 'value' });
  assert.deepEqual(base.ctxReadAt(base.ctxField('skb_data')!, 21), { kind: 'value' }, 'baseline has no rule for op 21');
});

test('ctxAccessError follows sock_ops_is_valid_access', () => {
  const t = v3;
  assert.equal(
    t.ctxAccessError(0, 4, true),
    'write to bpf_sock_ops.op (offset 0, 4 bytes) is rejected by the verifier: only reply/args[0] and sk_txhash are writable (net/core/filter.c sock_ops_is_valid_access)',
  );
  assert.equal(t.ctxAccessError(4, 4, true), null, 'reply');
  assert.equal(t.ctxAccessError(164, 4, true), null, 'sk_txhash');
  assert.match(t.ctxAccessError(8, 4, true)!, /args\[1\].*only reply\/args\[0\] and sk_txhash/);
  assert.match(t.ctxAccessError(4, 8, true)!, /not aligned/);
  assert.match(t.ctxAccessError(164, 2, true)!, /4-byte/);
  // Reads
  for (const [off, size] of [[0, 4], [4, 4], [16, 4], [36, 4], [64, 4], [168, 8], [176, 8], [184, 8], [192, 8], [200, 8], [208, 4], [212, 4], [212, 2], [212, 1], [216, 8]] as const) {
    assert.equal(t.ctxAccessError(off, size, false), null, `read ${off}/${size}`);
  }
  for (const [off, size, re] of [
    [0, 2, /op .*4-byte load/], [0, 8, /op/], [64, 2, /remote_port/], [172, 4, /bytes_received.*8-byte/], [188, 4, /sk .*8-byte/],
    [213, 1, /skb_tcp_flags.*first byte/], [214, 2, /skb_tcp_flags/], [212, 8, /not aligned|skb_tcp_flags/], [220, 4, /skb_hwtstamp/],
    [224, 4, /out of bounds/], [-4, 4, /out of bounds/], [2, 4, /not aligned/], [44, 4, null],
  ] as const) {
    const e = t.ctxAccessError(off, size, false);
    if (re === null) assert.equal(e, null, `${off}/${size}`);
    else assert.match(e ?? 'null', re, `${off}/${size}`);
  }
  assert.match(t.ctxAccessError(8, 2, false)!, /args\[1\]/);
  assert.match(t.ctxAccessError(40, 2, false)!, /remote_ip6\[2\]/);
  assert.match(t.ctxAccessError(0, 2, false)!, /invalid bpf_context access off=0 size=2/);
});

test('load_hdr_opt: the kernel checks its arguments before the -EPERM rules (bpf_sock_ops_load_hdr_opt)', () => {
  for (const t of [v3, base]) {
    const h = t.helper('bpf_load_hdr_opt')!;
    const eperm = h.sockOpsRules.filter((r) => r.result === EPERM);
    assert.equal(eperm.length, 2);
    for (const r of eperm) {
      assert.match(r.afterArgChecks ?? '', /len < 2.*-EINVAL/);
      assert.equal(r.source.func, 'bpf_sock_ops_load_hdr_opt');
    }
    // the op checks come first in the kernel and in the rows
    assert.equal(h.sockOpsRules[0]!.result, EOPNOTSUPP);
    // No skb: from the run when there is one, else from the op's row (varies: assume the skb).
    assert.equal(errno(t.callAt(h, 4, [0, 0, 4, 0], { skb: false })), EPERM);
    assert.equal(errno(t.callAt(h, 4, [0, 0, 4, 0], { skb: true })), 'ok');
    assert.equal(errno(t.callAt(h, 4, [0, 0, 4, 0])), 'ok');
    assert.equal(errno(t.callAt(h, 10, [0, 0, 4, 0])), EPERM);
    assert.equal(errno(t.callAt(h, 10, [0, 0, 4, 1])), 'ok', 'BPF_LOAD_HDR_OPT_TCP_SYN searches the saved SYN instead');
    assert.equal(errno(t.callAt(h, 14, [0, 0, 4, 0], { skb: true })), EPERM, 'HDR_OPT_LEN_CB: even with an skb');
  }
  const rcvq = v3.callAt(v3.helper('bpf_load_hdr_opt')!, 21, [0, 0, 4, 0], { skb: true });
  assert.ok(rcvq.result === EOPNOTSUPP && rcvq.rule === v3.helper('bpf_load_hdr_opt')!.sockOpsRules[1], 'RCVQ_CB refused right after the baseline op rule');
});

test('skb_load_bytes at another op zeroes its buffer (the rule says which argument)', () => {
  const h = v3.helper('bpf_skb_load_bytes')!;
  const r = v3.callAt(h, 4);
  assert.ok(r.result !== 'ok' && r.rule.zeroes && r.rule.zeroes.arg === 2 && r.rule.zeroes.lenArg === 3);
});

test('get_retval/set_retval: cgroup sockopt programs only, from cg_sockopt_func_proto -> cgroup_common_func_proto', () => {
  for (const n of ['bpf_get_retval', 'bpf_set_retval']) {
    const h = v3.helper(n)!;
    assert.deepEqual(v3.availableAtLoad(h, 'cgroup_setsockopt'), { ok: true });
    assert.deepEqual(v3.availableAtLoad(h, 'cgroup_getsockopt'), { ok: true });
    assert.equal(v3.availableAtLoad(h, 'sock_ops').ok, false);
    assert.equal(h.progSource?.cgroup_setsockopt?.func, 'cg_sockopt_func_proto');
    assert.equal(h.source.func, 'cgroup_common_func_proto');
  }
  assert.match(v3.helper('bpf_set_retval')!.doc, /-EPERM/);
});
