// Simulated RCVQ_CB events per second through the example AutoLOWAT hook
// (examples/autolowat/autolowat.bpf.o). Prints figures; asserts nothing.
//
// Two traffic shapes, each read back every 8 segments (one recvmsg RCVQ_CB per read):
//   - "frame per segment": one 258-byte frame per segment, as the example scenarios send: the
//     hook reads the 8-byte descriptor with one bpf_skb_load_bytes and prints one line;
//   - "MSS segments": 1448-byte segments carrying ~5.6 frames each (a descriptor that spans two
//     segments is read byte by byte), ~5.6 bpf_printk per event.
// and two layers:
//   - kernel: the TCP model driving the BPF side directly, events dropped after each segment
//     (what a fuzzer or a long scenario costs per event);
//   - scenario: Simulation.runAll() on the same stream as a scenario file, i.e. what
//     `bpf-sockops run` does, which also keeps every step's trace, socket snapshot and text.
// The first cut's figure (~450-1,300 events/s) was the scenario layer on MSS segments: the hook
// then read descriptors byte by byte (~50 helper calls per event) and every helper call
// rewrote every kernel object; `bpf-sockops run` of an example scenario only felt fast because
// those scenarios send one frame per segment (12 helper calls per event) and a handful of
// events. "full refresh" below rewrites every object after every helper call as the first cut
// did, with today's compiled writers: the cost of that rule alone.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Simulation } from '../debugger/sim';
import { loadObject } from '../debugger/object/index';
import { BpfKernel } from '../debugger/kernel/bpf/index';
import { TcpModel, abiFromTable } from '../debugger/kernel/tcp/index';
import { table } from '../sockops/index';

const OBJ = resolve(__dirname, '../examples/autolowat/autolowat.bpf.o');
const FRAME = 258;

/** The peer's byte stream: frames of header 100 + payload 150 after an 8-byte descriptor. */
function frames(bytes: number): Uint8Array {
  const n = Math.ceil(bytes / FRAME) + 1;
  const out = new Uint8Array(n * FRAME);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    dv.setUint32(i * FRAME, 100, true);
    dv.setUint32(i * FRAME + 4, 150, true);
  }
  return out;
}

interface Figures { events: number; enqueue: number; insns: number; helpers: number; ms: number; faulted: boolean }

function print(layer: string, shape: string, f: Figures): void {
  const secs = f.ms / 1000;
  console.log(
    `${layer.padEnd(8)} ${shape.padEnd(18)} ${String(Math.round(f.events / secs)).padStart(8)} events/s  ` +
    `${(f.ms * 1000 / f.events).toFixed(2).padStart(7)} us/event  ${(f.insns / secs / 1e6).toFixed(1).padStart(5)} M insns/s  ` +
    `(${f.events} events, ${f.enqueue} enqueue; ${(f.insns / f.events).toFixed(0)} insns and ${(f.helpers / f.events).toFixed(1)} helper calls/event${f.faulted ? '; FAULTED' : ''})`,
  );
}

/** The TCP model and the BPF side without the Simulation: enable, then `segments` segments. */
function kernelLoop(obj: ReturnType<typeof loadObject>, seg: number, segments: number, refreshAfterEveryHelper: boolean): Figures {
  const t = table();
  // trace level 'brief' (what explore runs with): calls counted, no object per helper call
  const kernel = BpfKernel.load(obj, { sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt', seed: 1, refreshAfterEveryHelper, printkLog: false, trace: 'brief' });
  const model = new TcpModel(abiFromTable(t), { family: 'inet6' }, kernel);
  model.passiveOpen({ seq: 0 });
  const one = new Uint8Array(4);
  one[0] = 1;
  model.setsockopt(0xdeadbeef, 0x8badf00d, one);
  model.takeEvents();
  const stream = frames(seg * segments);
  const f: Figures = { events: 0, enqueue: 0, insns: 0, helpers: 0, ms: 0, faulted: false };
  const t0 = performance.now();
  for (let i = 0, off = 0; i < segments; i++, off += seg) {
    model.segment(off, stream.subarray(off, off + seg));
    if (i % 8 === 7) model.recvmsg(8 * seg);
    for (const e of model.takeEvents()) {
      if (e.kind !== 'prog' || e.opName !== 'RCVQ_CB') continue;
      f.events++;
      if (e.label.includes('enqueue')) f.enqueue++;
      f.insns += e.trace.insns;
      f.helpers += e.trace.calls!.length;
      if (e.trace.fault) f.faulted = true;
    }
  }
  f.ms = performance.now() - t0;
  return f;
}

function scenarioRun(file: string): Figures {
  const prepared = Simulation.prepare(file);
  const sim = new Simulation(prepared);
  const t0 = performance.now();
  const res = sim.runAll();
  const ms = performance.now() - t0;
  const f: Figures = { events: 0, enqueue: 0, insns: 0, helpers: 0, ms, faulted: res.faulted };
  for (const r of res.results) {
    for (const e of r.events) {
      if (e.kind !== 'prog' || e.opName !== 'RCVQ_CB') continue;
      f.events++;
      if (e.label.includes('enqueue')) f.enqueue++;
      f.insns += e.trace.insns;
      f.helpers += e.trace.helpers.length;
    }
  }
  return f;
}

function scenarioFile(dir: string, seg: number, segments: number): string {
  const stream: unknown[] = [];
  for (let i = 0; i < Math.ceil((segments * seg) / FRAME) + 1; i++) stream.push({ u32le: [100, 150] }, { zeros: 250 });
  const steps: unknown[] = [{ setsockopt: { level: 0xdeadbeef, optname: 0x8badf00d, int: 1 } }];
  for (let i = 0; i < segments; i++) {
    steps.push({ send: seg });
    if (i % 8 === 7) steps.push({ recv: 8 * seg });
  }
  const file = join(dir, `bench-${seg}.scenario.json`);
  writeFileSync(file, JSON.stringify({ program: OBJ, sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt', stream, steps }));
  return file;
}

export async function benchKernel(): Promise<void> {
  const obj = loadObject(new Uint8Array(readFileSync(OBJ)), OBJ);
  const shapes: [string, number, number][] = [['frame per segment', FRAME, 40_000], ['MSS segments', 1448, 8_000]];
  console.log('kernel layer (TcpModel + BpfKernel), best of 3 after a warm-up:');
  for (const [name, seg, n] of shapes) {
    kernelLoop(obj, seg, n / 4, false);
    let best: Figures | null = null;
    for (let i = 0; i < 3; i++) {
      const f = kernelLoop(obj, seg, n, false);
      if (!best || f.ms < best.ms) best = f;
    }
    print('kernel', name, best!);
  }
  const old = kernelLoop(obj, 1448, 2000, true);
  print('kernel', 'MSS, full refresh', old);
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-bench-'));
  try {
    console.log('scenario layer (Simulation.runAll, what `bpf-sockops run` does):');
    for (const [name, seg, n] of shapes) {
      const file = scenarioFile(dir, seg, n / 4);
      scenarioRun(file);
      print('scenario', name, scenarioRun(file));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) benchKernel().catch((e) => { console.error(e); process.exitCode = 1; });
