// scenario from-pcap (issue 14 §4): captures written by our own writer, pcap and pcapng, IPv4
// and IPv6, with out-of-order and retransmitted (overlapping) segments and a FIN; the scenario
// replays them as captured and runs through the example hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tcpFrame, writePcap, writePcapng, type FrameToWrite, type TcpPacketSpec } from '../../../debugger/pcap/write';
import { readCapture } from '../../../debugger/pcap/read';
import { scenarioFromCapture } from '../../../debugger/pcap/scenario';
import { parseScenario } from '../../../debugger/scenario/index';
import { Simulation } from '../../../debugger/sim';
import { scenarioCommand } from '../../../cli/scenario';

const root = join(__dirname, '..', '..', '..');
const OBJ = join(root, 'examples/autolowat/autolowat.bpf.o');
const SYN = 0x02, ACK = 0x10, FIN = 0x01, PSH = 0x08;

/** Two 258-byte frames of the example framing. */
function frames(): Uint8Array {
  const b = new Uint8Array(516);
  const dv = new DataView(b.buffer);
  for (const at of [0, 258]) { dv.setUint32(at, 100, true); dv.setUint32(at + 4, 150, true); }
  for (let i = 8; i < 258; i++) { b[i] = i & 0xff; b[258 + i] = (i * 7) & 0xff; }
  return b;
}

/** A connection from the peer (client) to us: handshake, then the data in the given order. */
function capture(family: 'inet' | 'inet6', order: [number, number, boolean][], other = false): FrameToWrite[] {
  const data = frames();
  const peer = family === 'inet' ? '10.0.0.2' : 'fd00::2';
  const us = family === 'inet' ? '10.0.0.1' : 'fd00::1';
  const isn = 0xfffffff0; // the stream wraps past 2^32
  const myIsn = 5000;
  const out: FrameToWrite[] = [];
  let ts = 1_700_000_000_000_000_000n;
  const push = (p: TcpPacketSpec) => { out.push({ tsNs: ts, data: tcpFrame(p) }); ts += 1000n; };
  const c2s = { family, src: peer, dst: us, sport: 40000, dport: 8080 } as const;
  const s2c = { family, src: us, dst: peer, sport: 8080, dport: 40000 } as const;
  push({ ...c2s, seq: isn, ack: 0, flags: SYN, mss: 1400 });
  push({ ...s2c, seq: myIsn, ack: isn + 1, flags: SYN | ACK, mss: 1460 });
  push({ ...c2s, seq: isn + 1, ack: myIsn + 1, flags: ACK });
  if (other) push({ family, src: peer, dst: us, sport: 40001, dport: 9090, seq: 1, ack: 1, flags: ACK | PSH, payload: Uint8Array.of(1, 2, 3) });
  for (const [off, len, fin] of order) {
    push({ ...c2s, seq: (isn + 1 + off) >>> 0, ack: myIsn + 1, flags: ACK | PSH | (fin ? FIN : 0), payload: data.subarray(off, off + len) });
    push({ ...s2c, seq: myIsn + 1, ack: (isn + 1 + off + len) >>> 0, flags: ACK });
  }
  return out;
}

// out of order (200..300 before 100..200), an overlapping retransmit (50..150), FIN on the last
// data segment and the FIN retransmitted alone
const ORDER: [number, number, boolean][] = [[0, 100, false], [200, 100, false], [100, 100, false], [50, 100, false], [300, 216, true], [516, 0, true]];

function check(bytes: Uint8Array, file: string, family: 'inet' | 'inet6'): void {
  const r = scenarioFromCapture(bytes, file, { program: OBJ, sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt', enable: { level: 0xdeadbeef, optname: 0x8badf00d } });
  const sc = r.scenario as { socket: Record<string, unknown>; steps: Record<string, unknown>[] };
  assert.deepEqual(sc.socket, { family, localPort: 8080, remotePort: 40000, peerIsn: 0xfffffff0, mss: 1400 });
  const data = sc.steps.slice(2).map(({ comment, ...s }) => { assert.match(String(comment), /^frame \d+$/); return s; });
  assert.deepEqual(data, [
    { send: 100 },
    { segment: { offset: 200, len: 100 } },
    { send: 100 },
    { segment: { offset: 50, len: 100 } },
    { send: 216, fin: true },
    { segment: { offset: 516, len: 0, fin: true } },
  ]);
  // an ordinary scenario: it parses and runs through the example hook
  const parsed = parseScenario(JSON.stringify(sc), join(root, 'x.scenario.json'));
  assert.deepEqual([...parsed.stream], [...frames()]);
  const sim = new Simulation(Simulation.prepare(join(root, 'x.scenario.json'), { scenarioText: JSON.stringify(sc) }));
  const res = sim.runAll();
  assert.equal(res.faulted, false);
  assert.equal(res.failed, 0);
  const sk = sim.model.sock;
  assert.equal(sk.readable(), 517, 'every byte and the FIN arrived');
  assert.equal(sk.rcvShutdown, true);
  assert.ok(sim.printkLog.some((l) => l.includes('frame at')), 'the hook parsed the frames');
}

test('pcap (IPv4): out of order, overlapping retransmit, FIN, retransmitted FIN', () => {
  const bytes = writePcap(capture('inet', ORDER));
  assert.equal(readCapture(bytes, 'x.pcap').length, 3 + 2 * ORDER.length);
  check(bytes, 'x.pcap', 'inet');
});

test('pcapng (IPv6): the same traffic', () => {
  const bytes = writePcapng(capture('inet6', ORDER));
  const frames = readCapture(bytes, 'x.pcapng');
  assert.equal(frames.length, 3 + 2 * ORDER.length);
  assert.equal(frames[1]!.tsNs - frames[0]!.tsNs, 1000n, 'ns timestamps');
  check(bytes, 'x.pcapng', 'inet6');
});

test('CLI: two connections need --flow; the listing names them; bad files exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-'));
  try {
    const f = join(dir, 'two.pcapng');
    writeFileSync(f, writePcapng(capture('inet', ORDER, true)));
    const io = () => { const out: string[] = []; const err: string[] = []; return { out, err, io: { out: (s: string) => { out.push(s); }, err: (s: string) => { err.push(s); } } }; };
    const a = io();
    assert.equal(await scenarioCommand(['from-pcap', f], a.io), 2);
    assert.match(a.err.join(''), /2 TCP connections carry data; choose one with --flow/);
    assert.match(a.err.join(''), /--flow 10\.0\.0\.2:40000-10\.0\.0\.1:8080 {2}\(616 payload bytes in 8 segments\)/);
    const b = io();
    const out = join(dir, 'replay.scenario.json');
    assert.equal(await scenarioCommand(['from-pcap', f, '--flow', '10.0.0.2:40000-10.0.0.1:8080', '--out', out, '--program', OBJ], b.io), 0);
    const sc = JSON.parse(readFileSync(out, 'utf8')) as { program: string; steps: unknown[] };
    assert.equal(sc.program, relative(dir, OBJ));
    assert.equal(sc.steps.length, ORDER.length);
    assert.equal(Simulation.fromFile(out).runAll().faulted, false, 'program path relative to the written file');
    const c = io();
    assert.equal(await scenarioCommand(['from-pcap', f, '--flow', '2'], c.io), 0);
    assert.match(c.out.join(''), /"localPort": 9090/);
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, 'not a capture at all');
    const d = io();
    assert.equal(await scenarioCommand(['from-pcap', bad], d.io), 2);
    assert.match(d.err.join(''), /bad\.pcap: not a pcap or pcapng capture/);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, writePcap(capture('inet', ORDER)).subarray(0, 100));
    const e = io();
    assert.equal(await scenarioCommand(['from-pcap', cut], e.io), 2);
    assert.match(e.err.join(''), /cut\.pcap: record 2 at byte \d+: .*the capture ends early/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile captures: truncated or bit-flipped files give a CaptureError or a scenario, never a crash', () => {
  const good = [writePcap(capture('inet', ORDER)), writePcapng(capture('inet6', ORDER))];
  let seed = 12345;
  const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  let errors = 0, scenarios = 0;
  for (let i = 0; i < 400; i++) {
    const src = good[i & 1]!;
    let b = src.slice();
    if (i % 3 === 0) b = b.subarray(0, rnd(b.length));
    else for (let k = 1 + rnd(8); k > 0; k--) b[rnd(b.length)] = rnd(256);
    try {
      const r = scenarioFromCapture(b, `fuzz${i}.pcap`);
      parseScenario(JSON.stringify({ ...r.scenario, program: 'x.o' }), '/tmp/fuzz.scenario.json');
      scenarios++;
    } catch (e) {
      assert.equal((e as Error).name, 'CaptureError', `capture ${i}: ${(e as Error).stack}`);
      assert.match((e as Error).message, new RegExp(`^fuzz${i}\\.pcap: `));
      errors++;
    }
  }
  assert.ok(errors > 50 && scenarios > 50, `${errors} errors, ${scenarios} scenarios`);
});
