// The simulator side of test:kernel part 3 without a kernel: the committed recording object
// loads, runs over the passive open, data, recv and FIN, and its records decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simRecords } from '../../kernel/sockops-live';
import { table } from '../../../sockops';

test('the recording sock_ops object runs in the simulator and records every op in order', () => {
  const { recs, steps } = simRecords();
  assert.equal(steps.length, 4, steps.join('\n'));
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
