// Program runs: faults reported (never thrown), the instruction hook for the debugger,
// determinism, and the accessors the debug adapter reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../../sockops';
import { inv, probes, results, TestSock, u32le } from './util';
import { makeSkb } from './sockmodel';

const RCVQ = table().op('RCVQ_CB')!.value;

test('an endless loop ends at the instruction budget with a fault at a C line', () => {
  const k = probes({ sockops: 'spin', budget: 20_000 });
  const out = k.sockOps(new TestSock(), inv(4))!;
  assert.equal(out.ret, -1);
  assert.equal(out.trace.insns, 20_000);
  assert.match(out.trace.fault!.message, /budget/);
  assert.match(out.trace.fault!.line!, /probes\.bpf\.c:\d+/);
  assert.equal(k.currentRun(), null);
});

test('a NULL sk dereference at a request-sock op is a fault, not a host exception', () => {
  const k = probes({ sockops: 'null_deref' });
  const out = k.sockOps(new TestSock(), inv(6))!;
  assert.equal(out.ret, -1);
  assert.ok(out.trace.fault);
  assert.match(out.trace.fault.line!, /probes\.bpf\.c:\d+/);
  // The same program at a full-socket op reads bpf_sock.family.
  const ok = k.sockOps(new TestSock(1, 'inet'), inv(4))!;
  assert.equal(ok.trace.fault, undefined);
  assert.equal(ok.trace.r0, 2n);
});

test('instruction hook: sees every pc with the current run; a throw abandons the simulation', () => {
  const k = probes({ sockops: 'rcvq_probe' });
  const pcs: number[] = [];
  let seen: { label: string; op?: number; ctx: bigint; kind: string } | undefined;
  k.setInsnHook(({ pc, run, program, vm }) => {
    pcs.push(pc);
    assert.equal(program.name, 'rcvq_probe');
    assert.equal(vm, run.vm);
    seen ??= { label: run.label, op: run.op, ctx: run.ctxBase, kind: run.kind };
    assert.equal(k.currentRun(), run);
  });
  const skb = makeSkb(1000, u32le(1, 2));
  const out = k.sockOps(new TestSock(), { op: RCVQ, args: [0, 0, 0, 0], skb, label: 'RCVQ_CB enqueue seq 1000..1008' })!;
  assert.equal(pcs.length, out.trace.insns);
  assert.equal(pcs[0], 0);
  assert.equal(seen!.label, 'RCVQ_CB enqueue seq 1000..1008');
  assert.equal(seen!.op, RCVQ);
  assert.equal(seen!.kind, 'sockops');
  assert.equal(out.trace.fault, undefined);
  assert.equal(out.trace.r0, 1n);
  k.setInsnHook(({ pc }) => {
    if (pc === 10) throw new Error('stop here');
  });
  assert.throws(() => k.sockOps(new TestSock(), inv(RCVQ, skb)), /stop here/);
  assert.equal(k.currentRun(), null, 'no run left active');
  k.setInsnHook(null);
  const again = k.sockOps(new TestSock(), inv(RCVQ, skb))!;
  assert.equal(again.trace.fault, undefined, 'the kernel is usable after an abandoned run');
});

test('deterministic: the same inputs give the same trace and results', () => {
  const once = () => {
    const k = probes({ sockops: 'maps_probe', seed: 7 });
    const out = k.sockOps(new TestSock(), inv(5))!;
    return JSON.stringify({ t: out.trace, r: results(k) }, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  };
  assert.equal(once(), once());
});

test('maps() exposes definitions and decoded entries; .rodata stays read-only', () => {
  const k = probes({ sockops: 'rcvq_probe' });
  const names = k.maps().map((m) => m.def.name);
  for (const n of ['flows', 'counters', 'conn', '.data', '.bss']) assert.ok(names.includes(n), n);
  const data = k.maps().find((m) => m.def.name === '.data')!.entries()[0]!.value;
  assert.equal(new DataView(data.buffer, data.byteOffset).getInt32(0, true), 258, 'want_lowat initial value');
});

test('an exception inside the socket model ends the run as a fault naming the helper', () => {
  // Break the socket model: the fault must name the call, and the host must not crash.
  const s = new TestSock();
  s.setCbFlags = () => {
    throw new Error('model exploded');
  };
  const k2 = probes({ sockops: 'sockopt_probe' });
  const out = k2.sockOps(s, inv(5))!;
  assert.match(out.trace.fault!.message, /internal error in bpf_setsockopt: model exploded/);
  assert.equal(out.ret, -1);
  assert.equal(k2.sockOps(new TestSock(), inv(5))!.trace.fault, undefined, 'the next run is fine');
});
