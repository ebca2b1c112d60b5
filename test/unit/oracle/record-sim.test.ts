// The simulator side of test:kernel part 3 without a kernel: the committed recording object
// loads, runs over the passive open, data, recv and FIN, and its records decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIELDS, simRecords } from '../../kernel/sockops-live';
import { table } from '../../../sockops';

test('the recording sock_ops object runs in the simulator and records every op in order', () => {
  const { recs, steps } = simRecords();
  assert.equal(steps.length, 5, steps.join('\n'));
  const t = table('linux-7.1.5');
  const names = recs.map((r) => t.op(r.op)?.short);
  assert.deepEqual(names.slice(0, 3), ['TCP_LISTEN_CB', 'RWND_INIT', 'TIMEOUT_INIT']);
  assert.ok(names.includes('PASSIVE_ESTABLISHED_CB'), names.join(' '));
  const est = recs.find((r) => t.op(r.op)?.short === 'PASSIVE_ESTABLISHED_CB')!;
  assert.equal(est.is_fullsock, 1);
  assert.equal(est.cookie_nonzero, 1);
  assert.equal(est.cb_flags_set, 0); // 0x7f are all supported bits
  assert.equal(est.getsockopt_val, 0x7f); // set at TCP_LISTEN_CB, inherited by the child
});

test('the simulator runs the passive side\'s ops in the order a live 6.18 kernel ran them (test:kernel part 3 record)', () => {
  const { recs } = simRecords();
  const t = table('linux-7.1.5');
  const names = recs.map((r) => t.op(r.op)?.short).join(' ');
  // recorded on 6.18 (test:kernel part 3), minus the listener's close (the last STATE_CB)
  assert.equal(names, 'TCP_LISTEN_CB RWND_INIT TIMEOUT_INIT HDR_OPT_LEN_CB WRITE_HDR_OPT_CB NEEDS_ECN RTT_CB PASSIVE_ESTABLISHED_CB STATE_CB PARSE_HDR_OPT_CB HDR_OPT_LEN_CB WRITE_HDR_OPT_CB PARSE_HDR_OPT_CB STATE_CB STATE_CB HDR_OPT_LEN_CB HDR_OPT_LEN_CB WRITE_HDR_OPT_CB PARSE_HDR_OPT_CB RTT_CB STATE_CB');
  const est = recs.find((r) => t.op(r.op)?.short === 'PASSIVE_ESTABLISHED_CB')!;
  for (const f of ['rcv_nxt', 'snd_nxt', 'snd_una', 'srtt_us', 'skb_len', 'skb_tcp_flags', 'rtt_min']) {
    assert.equal((est.zero_mask >> FIELDS.indexOf(f)) & 1, 0, `${f} reads non-zero at PASSIVE_ESTABLISHED_CB`);
  }
  assert.equal(est.load_hdr_opt, -28, 'the ACK carries a 10-byte timestamp option: -ENOSPC into 8 bytes');
  const w = recs.filter((r) => t.op(r.op)?.short === 'WRITE_HDR_OPT_CB');
  assert.deepEqual(w.map((r) => r.load_hdr_opt), [-28, -28, -28]);
  const lens = recs.filter((r) => t.op(r.op)?.short === 'HDR_OPT_LEN_CB');
  assert.deepEqual(lens.map((r) => r.args[0]), [0, 0, 1, 0], 'tcp_current_mss() passes BPF_WRITE_HDR_TCP_CURRENT_MSS');
});
