// The connection options (ISNs, RTT, ECN, the peer's extra options) and the close step: parsed,
// checked with errors that say what to do, and run (state, counters) by the simulation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { table } from '../../../sockops/index';
import { parseScenario, ScenarioError } from '../../../debugger/scenario/index';
import { Simulation, streamSeq } from '../../../debugger/sim';

const constant = (n: string) => table().constant(n);
const doc = (socket: Record<string, unknown>, steps: unknown[] = []) => JSON.stringify({ program: 'x.bpf.o', socket, stream: [{ zeros: 10 }], steps });

function err(text: string): string {
  try { parseScenario(text, '/tmp/s.scenario.json', { constant }); } catch (e) { assert.ok(e instanceof ScenarioError); return (e as Error).message; }
  return assert.fail('no error');
}

test('socket options parse; the stream starts at peerIsn + 1, or seq, or 0 by default', () => {
  const sc = parseScenario(doc({ peerIsn: 0x6b8b4567, isn: 7, rttUs: 120, synEcn: 'ect', peerOptions: '0101 0101' }, [{ close: true }]), '/tmp/s.scenario.json', { constant });
  assert.equal(streamSeq(sc.socket), 0x6b8b4568);
  assert.deepEqual([...sc.socket.peerOptions!], [1, 1, 1, 1]);
  assert.equal(sc.steps[0]!.step.kind, 'close');
  assert.equal(streamSeq(parseScenario(doc({ seq: 5 }), '/tmp/s.scenario.json', { constant }).socket), 5);
  assert.equal(streamSeq(parseScenario(doc({}), '/tmp/s.scenario.json', { constant }).socket), 0);
});

test('bad connection options name the property and what to write', () => {
  assert.match(err(doc({ seq: 10, peerIsn: 3 })), /socket\.peerIsn.*seq is peerIsn \+ 1/);
  assert.match(err(doc({ synEcn: 'yes' })), /socket\.synEcn.*"none", "ecn".*"ect"/);
  assert.match(err(doc({ peerOptions: '010101' })), /socket\.peerOptions.*0, 4 or 8 bytes/);
  assert.match(err(doc({}, [{ close: 1 }])), /steps\[0\]\.close.*takes true/);
});

test('close after the peer FIN: LAST_ACK, our FIN ACKed, CLOSE; recv then fails ENOTCONN', () => {
  const dir = mkdtempSync(join(tmpdir(), 'close-'));
  try {
    const f = join(dir, 's.scenario.json');
    const prog = resolve('test/kernel/progs/hdropt_rw.bpf.o');
    writeFileSync(f, JSON.stringify({ program: prog, profile: 'linux-7.1.5', socket: { family: 'inet', isn: 100 }, stream: [{ zeros: 10 }],
      steps: [{ send: 10 }, { recv: 10 }, { fin: true }, { close: true }, { expect: { state: 'CLOSE' } }, { recv: 10 }, { expect: { ret: -107 } }] }));
    const sim = Simulation.fromFile(f);
    const r = sim.runAll();
    assert.equal(r.failed, 0, r.results.map((x) => x.text).join('\n'));
    const s = sim.socket();
    assert.equal(s.snd_una, 102, 'isn + 1 + the FIN');
    assert.equal(s.bytes_acked, 1n);
    assert.ok(r.results[4]!.text.includes('FIN sent (state LAST_ACK)'), r.results[4]!.text);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
