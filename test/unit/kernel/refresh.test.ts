// The kernel objects are rewritten only after the helpers that can change the socket: pin that a
// read after such a helper sees the change, that a ctx store followed by a helper that changes
// nothing still reaches the objects, and that every example and fixture scenario gives the very
// same trace as rewriting every object after every helper call (the first cut's behaviour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../../debugger/object';
import { BpfKernel } from '../../../debugger/kernel/bpf';
import { Simulation } from '../../../debugger/sim';
import { toJson } from '../../../cli/run';
import { table } from '../../../sockops';
import { inv, results, signed, TestSock } from './util';

const HERE = import.meta.dirname;
const obj = loadObject(new Uint8Array(readFileSync(join(HERE, 'fixtures/after_helpers.bpf.o'))), 'test/unit/kernel/fixtures/after_helpers.bpf.o');
const HDR_OPT_LEN_CB = table().constant('BPF_SOCK_OPS_HDR_OPT_LEN_CB')!;

function afterHelpers(refreshAfterEveryHelper: boolean) {
  const k = BpfKernel.load(obj, { sockops: 'after_helpers', refreshAfterEveryHelper });
  const s = new TestSock();
  const out = k.sockOps(s, inv(HDR_OPT_LEN_CB))!;
  assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
  return { r: results(k).map(signed), out, s };
}

test('a read after a helper that changes the socket sees the change', () => {
  const { r, s } = afterHelpers(false);
  assert.equal(r[0], 1, 'sk_rcvlowat before');
  assert.equal(r[1], 0, 'bpf_setsockopt(SO_RCVLOWAT, 300)');
  assert.equal(r[2], 300, 'tcp_sock.sk_rcvlowat right after bpf_setsockopt');
  assert.equal(r[3], 0);
  assert.equal(r[4], 0, 'bpf_sock_ops_cb_flags_set returns the bits it could not set');
  assert.equal(r[5], 4, 'skops->bpf_sock_ops_cb_flags after the call');
  assert.equal(r[6], 4, 'tcp_sock.bpf_sock_ops_cb_flags after the call');
  assert.equal(r[8], 0xabcd, 'a ctx store to sk_txhash reaches tcp_sock.sk_txhash by the next helper call');
  assert.equal(s.sk_txhash, 0xabcd);
  assert.equal(r[9], 40, 'remaining_opt_len at HDR_OPT_LEN_CB');
  assert.equal(r[10], 0);
  assert.equal(r[11], 32, 'bpf_sock_ops_kern.remaining_opt_len after bpf_reserve_hdr_opt(8)');
});

test('rtt_min: ~0U before any RTT sample (tcp_init_sock), 0 on a request sock (assumed, as the live kernel reads)', () => {
  const k = BpfKernel.load(obj, { sockops: 'after_helpers' });
  const s = new TestSock();
  s.rtt_min = 0xffffffff;
  k.sockOps(s, inv(HDR_OPT_LEN_CB));
  assert.equal(results(k)[12], 0xffffffffn);
  k.sockOps(s, { ...inv(HDR_OPT_LEN_CB), fullsock: false });
  assert.equal(results(k)[12], 0n);
});

test('the same results and trace as rewriting every object after every helper call', () => {
  const a = afterHelpers(false);
  const b = afterHelpers(true);
  assert.deepEqual(a.r, b.r);
  assert.deepEqual(a.out, b.out);
});

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

function scenarioFiles(): string[] {
  const dirs = [join(HERE, '../../../examples/autolowat'), join(HERE, '../../fixtures/hooks'), join(HERE, '../../fixtures/dap')];
  return dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.scenario.json')).sort().map((f) => join(d, f)));
}

test('every example and fixture scenario: identical JSON trace with either refresh', () => {
  const files = scenarioFiles();
  assert.ok(files.length >= 17, `${files.length} scenarios`);
  for (const f of files) {
    const prepared = Simulation.prepare(f);
    const run = (refreshAfterEveryHelper: boolean) => {
      const sim = new Simulation(prepared, { refreshAfterEveryHelper });
      return JSON.stringify(toJson(sim, sim.runAll().results), big);
    };
    const selective = run(false);
    assert.equal(selective, run(true), f);
    assert.ok(selective.length > 100);
  }
});

test('a run after an abandoned one reuses the regions soundly; a re-entrant run is refused, not corrupted', () => {
  const k = BpfKernel.load(obj, { sockops: 'after_helpers' });
  k.setInsnHook(({ pc }) => {
    if (pc === 5) throw new Error('abandon');
  });
  assert.throws(() => k.sockOps(new TestSock(), inv(HDR_OPT_LEN_CB)), /abandon/);
  k.setInsnHook(null);
  const again = k.sockOps(new TestSock(), inv(HDR_OPT_LEN_CB))!;
  assert.equal(again.trace.fault, undefined);
  assert.equal(signed(results(k)[2]!), 300);
  // The program's VM holds one run: a run of the same program from inside one of its helper
  // calls ends the outer run with a helper fault naming the call.
  const s = new TestSock();
  s.setCbFlags = () => k.sockOps(new TestSock(2), inv(5))!.ret;
  const outer = k.sockOps(s, inv(HDR_OPT_LEN_CB))!;
  assert.match(outer.trace.fault!.message, /internal error in bpf_sock_ops_cb_flags_set: after_helpers is already running/);
  assert.equal(k.currentRun(), null);
  assert.equal(k.sockOps(new TestSock(), inv(HDR_OPT_LEN_CB))!.trace.fault, undefined, 'and the next run is fine');
});
