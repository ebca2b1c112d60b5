// What `explore` keeps of a scenario and what it varies. It keeps the bytes, the setup steps
// (everything before the first send/segment/fin/recv: enabling the hook and its checks), the
// other steps in between (each run once the bytes it saw in the original arrived and were read:
// the phases), the expects marked "always": true and those at the end; it varies how the bytes
// arrive and are read within each phase.
import { Simulation, streamSeq, type PreparedScenario } from '../sim';
import type { Expectation, ScenarioStep } from '../scenario/index';
import { deadR0AfterCalls } from './liveness';

/** The part of a delivery before one of the original's steps in between (or before the end):
 *  the step sees the bytes received and read as in the original, however they came. */
export interface Phase {
  /** Stream bytes [from, to) arrive in this phase (received in order when the original ran the step). */
  from: number;
  to: number;
  /** The reads of this phase bring the bytes read in all from readFrom to readTo. */
  readFrom: number;
  readTo: number;
  /** The original sent its FIN in this phase. */
  fin: boolean;
  /** The step at the end of the phase, null for the last one. */
  step: ScenarioStep | null;
}

export interface Target {
  prepared: PreparedScenario;
  /** Steps before the first data step, run as written. */
  setup: ScenarioStep[];
  phases: Phase[];
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
  /** The original's last read returned 0 (end of stream): a delivery ends with one too. */
  eofRead: boolean;
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

  // Run the original once: bytes read, the phases around the steps in between, the delivered prefix.
  const sim = new Simulation(prepared);
  const seq0 = streamSeq(sc.socket);
  const sk = sim.model.sock;
  const received = () => ((sk.rcv_nxt - seq0) >>> 0) - (sk.rcvShutdown ? 1 : 0);
  const copied = () => Math.min((sk.copied_seq - seq0) >>> 0, received());
  const phases: Phase[] = [];
  const sendCuts = new Set<number>();
  let fin = false;
  let phaseFin = false;
  let from = 0, readFrom = 0;
  let eofRead = false;
  const ranges: [number, number][] = [];
  sim.stepOnce(); // the passive open
  for (const s of steps) {
    const st = s.step;
    // bytes already in before the first data step (a TCP Fast Open SYN's) are not delivered again
    if (s.index === firstData) { from = received(); readFrom = copied(); }
    const res = sim.stepOnce();
    if (s.index < firstData) continue;
    if (st.kind === 'recv' && !st.peek) eofRead = res.ret === 0;
    switch (st.kind) {
      case 'send': case 'segment':
        ranges.push([st.offset, st.offset + st.len]);
        sendCuts.add(st.offset); sendCuts.add(st.offset + st.len);
        if (st.fin) { fin = true; phaseFin = true; }
        break;
      case 'fin': fin = true; phaseFin = true; break;
      case 'recv': case 'expect': break;
      default:
        if (s.index <= lastAction) {
          const to = Math.max(from, received()), readTo = Math.max(readFrom, copied());
          phases.push({ from, to, readFrom, readTo, fin: phaseFin, step: s });
          from = to; readFrom = readTo; phaseFin = false;
        }
    }
  }
  const readFin = sk.rcvShutdown && sk.copied_seq === sk.rcv_nxt;
  ranges.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  for (const [a, b] of ranges) if (a <= covered) covered = Math.max(covered, b);
  const total = Math.max(covered, from);
  if (total === 0) throw new TargetError(`${sc.file}: no stream bytes arrive in order from offset 0; explore needs the bytes the peer sends`);
  const readTotal = Math.min(Math.max(copied(), readFrom), total);
  phases.push({ from, to: total, readFrom, readTo: readTotal, fin: phaseFin, step: null });

  const frameEnds: number[] = [];
  const frameStarts: number[] = [0];
  if (sc.frames) {
    let at = 0;
    for (const f of sc.frames) { at += f; frameEnds.push(at); if (at < total) frameStarts.push(at); }
  }
  const ignoredRet = new Map<string, Set<number>>();
  for (const p of prepared.object.programs) ignoredRet.set(p.name, deadR0AfterCalls(p.insns));
  return {
    prepared, setup, phases, always, final, total, fin, readTotal, readFin, eofRead,
    sendCuts: [...sendCuts].filter((c) => c > 0 && c < total).sort((a, b) => a - b),
    frameEnds, frameStarts, seq0, ignoredRet, originalFailed: sim.failed + (sim.faulted ? 1 : 0),
  };
}
