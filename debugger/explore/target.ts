// What `explore` keeps of a scenario and what it varies. It keeps the bytes, the setup steps
// (everything before the first send/segment/fin/recv: enabling the hook and its checks), the
// other steps in between (anchored at the in-order byte count they ran at), the expects marked
// "always": true and those at the end; it varies how the bytes arrive and are read.
import { Simulation, streamSeq, type PreparedScenario } from '../sim';
import type { Expectation, ScenarioStep } from '../scenario/index';
import { deadR0AfterCalls } from './liveness';

export interface MiddleStep {
  step: ScenarioStep;
  /** Stream bytes received in order (rcv_nxt - first seq) when the original ran it. */
  anchor: number;
}

export interface Target {
  prepared: PreparedScenario;
  /** Steps before the first data step, run as written. */
  setup: ScenarioStep[];
  middle: MiddleStep[];
  /** Checked after every event of every delivery. */
  always: { step: ScenarioStep; expect: Expectation }[];
  /** The trailing expects: checked once everything arrived and the reads caught up. */
  final: ScenarioStep[];
  /** Stream bytes the original delivers (a contiguous prefix [0, total)). */
  total: number;
  /** The original sends a FIN after the data. */
  fin: boolean;
  /** Bytes the original's reads returned in all (the reads of a delivery add up to it). */
  readTotal: number;
  /** The original's reads reached the end of stream (the FIN consumed). */
  readFin: boolean;
  /** The original's segment ends (stream offsets), candidate cuts. */
  sendCuts: number[];
  /** Frame ends (cumulative sums of "frames"), empty without frames. */
  frameEnds: number[];
  /** Frame starts (0 and every frame end but the last), for boundary-near cuts. */
  frameStarts: number[];
  seq0: number;
  /** Per program name: pcs of helper/kfunc calls whose r0 the program never reads. */
  ignoredRet: Map<string, Set<number>>;
  /** Findings of the original delivery itself (the scenario as written). */
  originalFailed: number;
}

const DATA_KINDS = new Set(['send', 'segment', 'fin', 'recv']);

export class TargetError extends Error {
  override name = 'TargetError';
}

export function makeTarget(prepared: PreparedScenario): Target {
  const sc = prepared.scenario;
  const steps = sc.steps;
  const firstData = steps.findIndex((s) => DATA_KINDS.has(s.step.kind));
  if (firstData < 0) throw new TargetError(`${sc.file}: the scenario sends nothing: explore varies how "send"/"segment" bytes arrive; add the data steps`);
  let lastAction = steps.length - 1;
  while (lastAction >= 0 && steps[lastAction]!.step.kind === 'expect') lastAction--;
  const setup = steps.slice(0, firstData);
  const final = steps.slice(lastAction + 1);
  const always: Target['always'] = [];
  for (const s of steps) if (s.step.kind === 'expect' && s.step.always) always.push({ step: s, expect: s.step.expect });

  // Run the original once: bytes read, anchors of the steps in between, the delivered prefix.
  const sim = new Simulation(prepared);
  const seq0 = streamSeq(sc.socket);
  const middle: MiddleStep[] = [];
  const sendCuts = new Set<number>();
  let readTotal = 0;
  let fin = false;
  let covered = 0;
  const ranges: [number, number][] = [];
  sim.stepOnce(); // the passive open
  for (const s of steps) {
    const st = s.step;
    const res = sim.stepOnce();
    if (s.index < firstData) continue;
    switch (st.kind) {
      case 'send': case 'segment':
        ranges.push([st.offset, st.offset + st.len]);
        sendCuts.add(st.offset); sendCuts.add(st.offset + st.len);
        if (st.fin) fin = true;
        break;
      case 'fin': fin = true; break;
      case 'recv': if (!st.peek && (res.ret ?? 0) > 0) readTotal += res.ret!; break;
      case 'expect': break;
      default:
        if (s.index <= lastAction) middle.push({ step: s, anchor: (sim.model.sock.rcv_nxt - seq0) >>> 0 });
    }
  }
  const sk = sim.model.sock;
  const readFin = sk.rcvShutdown && sk.copied_seq === sk.rcv_nxt;
  ranges.sort((a, b) => a[0] - b[0]);
  for (const [a, b] of ranges) if (a <= covered) covered = Math.max(covered, b);
  const total = covered;
  if (total === 0) throw new TargetError(`${sc.file}: no stream bytes arrive in order from offset 0; explore needs the bytes the peer sends`);
  readTotal = Math.min(readTotal, total);

  const frameEnds: number[] = [];
  const frameStarts: number[] = [0];
  if (sc.frames) {
    let at = 0;
    for (const f of sc.frames) { at += f; frameEnds.push(at); if (at < total) frameStarts.push(at); }
  }
  const ignoredRet = new Map<string, Set<number>>();
  for (const p of prepared.object.programs) ignoredRet.set(p.name, deadR0AfterCalls(p.insns));
  return {
    prepared, setup, middle, always, final, total, fin, readTotal, readFin,
    sendCuts: [...sendCuts].filter((c) => c > 0 && c < total).sort((a, b) => a - b),
    frameEnds, frameStarts, seq0, ignoredRet, originalFailed: sim.failed + (sim.faulted ? 1 : 0),
  };
}
