// Runs a generated scenario of many one-byte out-of-order segments through the simulation in a
// child process with a heap limit (volume.test.ts): `node --import tsx --max-old-space-size=N
// volume-worker.ts SCENARIO`; prints what the test checks as one JSON line.
import { Simulation } from '../../../debugger/sim';

const file = process.argv[2]!;
const sim = Simulation.fromFile(file);
let maxSnapshot = 0;
let results = 0;
let maxOfo = 0;
while (!sim.done) {
  const r = sim.stepOnce();
  results++;
  maxSnapshot = Math.max(maxSnapshot, JSON.stringify(r.sock).length);
  maxOfo = Math.max(maxOfo, r.sock.ofoQueueLen);
  sim.trace.length = 0; // the caller keeps no trace (as `run` streaming its output does)
}
const s = sim.socket();
process.stdout.write(JSON.stringify({
  results, maxSnapshot, maxOfo, passed: sim.passed, failed: sim.failed, faulted: sim.faulted,
  readable: s.readable(), ofo: s.ofoQueue.length, rq: s.receiveQueue.length, heapMb: process.memoryUsage().heapUsed / 2 ** 20,
}) + '\n');
