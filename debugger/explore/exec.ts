// Running one delivery: the scenario's setup steps, then the delivery's events as scenario steps
// (segments, reads, the steps kept in between), the oracle after each, the trailing expects at
// the end. The steps actually run are the counterexample when something fails: a Simulation
// runs them, so `bpf-sockops run` of the written file replays the same thing.
import { Simulation, type BriefStepResult, type SimCheckpoint, type SimStep } from '../sim';
import type { ScenarioStep, Step } from '../scenario/index';
import { checkFrames, frameView, type Finding } from './oracle';
import type { Target } from './target';

/** One event of a delivery. Reads are "the rest of the next frame + delta" (mode 'frame'), the
 *  same only when epoll reports the socket readable (mode 'epoll': what an event loop does), or a
 *  byte count; they resolve at run time and never take more than the original read in all. */
export type Ev =
  | { k: 'seg'; off: number; len: number; fin: boolean }
  | { k: 'recv'; mode: 'frame' | 'epoll' | 'bytes'; n: number }
  /** The end of phase i: the reads catch up, then the original's step in between runs. */
  | { k: 'mid'; i: number };

export interface Outcome {
  finding: Finding | null;
  /** The steps run after the setup (concrete: reads as byte counts), up to the failing one. */
  steps: ScenarioStep[];
  /** Events as run (concrete), for shrinking. */
  concrete: Ev[];
  /** RCVQ_CB program runs (the benchmark's unit) and all program runs. */
  rcvqRuns: number;
  runs: number;
  /** Coverage features seen (hashed ints). */
  features: number[];
  /** Every event ran: the failure (if any) is in the catch-up read or the trailing expects. */
  reachedEnd: boolean;
}

export interface ExecOptions {
  /** Collect coverage features: program paths and (rcvlowat - readable) states; with
   *  'branches' also each conditional jump's outcome (an instruction hook: the slower interpreter). */
  coverage?: boolean | 'branches';
  /** Build a new Simulation even when a checkpointed one could be rewound (differential tests). */
  fresh?: boolean;
}

const STEP_PATH = 'steps[explore]';

function mkStep(step: Step, json: unknown, label: string): ScenarioStep {
  return { step, index: -1, path: STEP_PATH, json, label };
}

export function segStep(off: number, len: number, fin: boolean): ScenarioStep {
  const json: Record<string, unknown> = { segment: fin ? { offset: off, len, fin: true } : { offset: off, len } };
  return mkStep({ kind: 'segment', offset: off, len, fin }, json, `segment ${off}..${off + len}${fin ? ' + FIN' : ''}`);
}

export function recvStep(n: number): ScenarioStep {
  return mkStep({ kind: 'recv', len: n, peek: false }, { recv: n }, `recv ${n}`);
}

/** A Simulation past its setup steps, rewound there (Simulation.checkpoint/restore) for each
 *  delivery: the object is loaded and the setup run once per target. */
interface Session {
  sim: Simulation;
  cp: SimCheckpoint | null;
  base: number;
  setupFault: boolean;
}

const sessions = new WeakMap<Target, Session>();

/** Runs the passive open and the setup steps. */
function setUp(t: Target): Session {
  const sim = new Simulation({ ...t.prepared, scenario: { ...t.prepared.scenario, steps: t.setup } });
  sim.keepTrace = false;
  // what a delivery reads of a run's helper calls: pc and r0's low byte (coverage), the calls
  // that returned an errno (ignored errors): no object per call
  sim.kernel.traceLevel = 'brief';
  let setupFault = false;
  while (!sim.done) {
    if (sim.stepOnce().fault) { setupFault = true; break; }
  }
  return { sim, cp: setupFault ? null : sim.checkpoint(), base: sim.steps.length, setupFault };
}

/** The simulation at the end of the setup, ready for a delivery (`rebuild`: a new one). */
function fresh(t: Target, rebuild = false): Session {
  if (rebuild) return setUp(t);
  let s = sessions.get(t);
  if (!s) sessions.set(t, (s = setUp(t)));
  else if (s.cp) {
    s.sim.restore(s.cp);
    s.sim.steps.length = s.base;
  }
  return s;
}

export function runDelivery(t: Target, evs: readonly Ev[], opts: ExecOptions = {}): Outcome {
  const session = fresh(t, opts.fresh);
  const sim = session.sim;
  const rcvqFlag = sim.model.sock.rcvqFlag();
  const rcvqOp = t.prepared.table.op('RCVQ_CB')?.value ?? -1;
  const out: Outcome = { finding: null, steps: [], concrete: [], rcvqRuns: 0, runs: 0, features: [], reachedEnd: false };
  const feats = opts.coverage ? new Set<number>() : null;
  if (session.setupFault) return out;
  // branch coverage: each conditional jump's outcome (taken / not), per program
  let prevPc = -1;
  let prevProg = '';
  let prevHash = 0;
  let jumps: Uint8Array | undefined;
  if (feats && opts.coverage === 'branches') {
    sim.kernel.setInsnHook((info) => {
      const pc = info.pc;
      if (info.program.name !== prevProg) { prevProg = info.program.name; prevHash = hashName(prevProg); jumps = condJumps(info.program); prevPc = -1; }
      if (prevPc >= 0 && jumps![prevPc]) feats.add(Math.imul(prevPc * 2 + (pc === prevPc + 1 ? 0 : 1), 0x9e3779b1) ^ prevHash);
      prevPc = pc;
    });
  } // the setup itself faults: `run` shows it; nothing to explore
  let phase = 0;
  let read = 0;
  const sock = sim.model.sock;

  function count(r: BriefStepResult): void {
    for (const tr of r.runs) {
      out.runs++;
      if (tr.op === rcvqOp) out.rcvqRuns++;
      if (feats) {
        let h = (tr.insns * 31 + (tr.op ?? 99)) | 0;
        const calls = tr.calls;
        if (calls) for (let i = 0; i < calls.length; i++) h = (Math.imul(h, 33) + (calls[i]! >>> 8) * 7 + (calls[i]! & 0xff)) | 0;
        else for (const c of tr.helpers) h = (Math.imul(h, 33) + c.pc * 7 + Number(c.ret & 0xffn)) | 0;
        feats.add(h);
      }
    }
  }

  /** Runs one step and the oracle; returns false when something failed (out.finding set). */
  function run(s: ScenarioStep): boolean {
    sim.steps.push({ index: sim.steps.length, scenarioStep: s, label: s.label, path: s.path, json: s.json } as SimStep);
    const r = sim.stepBrief();
    out.steps.push(s);
    count(r);
    if (r.expect && !r.expect.ok) {
      out.finding = { kind: 'expect', message: `expect failed: ${r.expect.failures.join('; ')}`, expect: (s.step as Extract<Step, { kind: 'expect' }>).expect };
      return false;
    }
    for (const tr of r.runs) {
      if (tr.fault) {
        out.finding = { kind: 'fault', message: `${tr.program} faulted: ${tr.fault.message}${tr.fault.line ? ' at ' + tr.fault.line : ''} (pc ${tr.fault.pc})` };
        return false;
      }
      const dead = t.ignoredRet.get(tr.program);
      for (const c of tr.helpers) { // at trace level 'brief': only the calls with a negative r0
        if (c.ret < 0n || c.ret >= 0x8000000000000000n) {
          if (dead?.has(c.pc)) {
            const ret = BigInt.asIntN(64, c.ret);
            out.finding = { kind: 'helper-error', message: `${tr.program} ignores the error of ${c.name} (pc ${c.pc}): it returned ${ret}${c.errno ? ' (' + c.errno + ')' : ''}`, pc: c.pc };
            return false;
          }
        }
      }
    }
    const f = checkFrames(sock, t.seq0, t.frameEnds, rcvqFlag);
    if (f) { out.finding = f; return false; }
    for (const a of t.always) {
      const e = sim.checkExpect(a.expect);
      if (!e.ok) {
        out.finding = { kind: 'expect', message: `the "always" expect at ${a.step.path}${a.step.line ? ' (line ' + a.step.line + ')' : ''} failed: ${e.failures.join('; ')}`, expect: a.expect };
        return false;
      }
    }
    if (feats) feats.add(0x40000000 ^ ((sock.sk_rcvlowat - sock.readable()) * 4 + (sock.epollIn() ? 1 : 0) + ((sock.bpf_sock_ops_cb_flags & rcvqFlag) ? 2 : 0)));
    return true;
  }

  /** Reads (clamped to what the current phase reads in all). */
  function recv(want: number): boolean {
    const v = frameView(sock, t.seq0, t.frameEnds);
    const n = Math.min(want, t.phases[phase]!.readTo - read);
    if (n <= 0 || (v.received - v.copied <= 0 && !sock.rcvShutdown)) return true;
    out.concrete.push({ k: 'recv', mode: 'bytes', n });
    const ok = run(recvStep(n));
    read = Math.min(t.readTotal, (Math.min((sock.copied_seq - t.seq0) >>> 0, t.total)));
    return ok;
  }

  /** The end of a phase: the reads catch up with the original's, then its step runs. */
  function endPhase(i: number): boolean {
    const ph = t.phases[i]!;
    if (read < ph.readTo && !recv(ph.readTo - read)) return false;
    if (!ph.step) return true;
    out.concrete.push({ k: 'mid', i });
    phase = Math.min(i + 1, t.phases.length - 1);
    return run(ph.step);
  }

  const finish = (): Outcome => {
    if (feats) out.features = [...feats];
    if (opts.coverage === 'branches') sim.kernel.setInsnHook(null);
    return out;
  };
  for (const e of evs) {
    if (e.k === 'seg') {
      out.concrete.push(e);
      if (!run(segStep(e.off, e.len, e.fin))) return finish();
    } else if (e.k === 'mid') {
      if (e.i !== phase || !endPhase(e.i)) return finish();
    } else {
      let want = e.n;
      if (e.mode === 'epoll' && !sock.epollIn()) continue;
      if (e.mode !== 'bytes') {
        const v = frameView(sock, t.seq0, t.frameEnds);
        want = (v.need || 1 + (v.received - v.copied)) + e.n;
      }
      if (want >= 1 && !recv(want)) return finish();
    }
  }
  if (phase !== t.phases.length - 1 || t.phases[phase]!.step) return finish(); // a marker is missing (shrinking tries that): not a whole delivery
  out.reachedEnd = true;
  if (!endPhase(phase)) return finish();
  if (t.readFin && sock.rcvShutdown && sock.copied_seq !== sock.rcv_nxt) {
    out.concrete.push({ k: 'recv', mode: 'bytes', n: 1 });
    if (!run(recvStep(1))) return finish(); // the original read the FIN (end of stream) too
  }
  if (t.eofRead && sock.rcvShutdown && sock.copied_seq === sock.rcv_nxt) {
    out.concrete.push({ k: 'recv', mode: 'bytes', n: 1 });
    if (!run(recvStep(1))) return finish(); // and read once more: 0, end of stream
  }
  for (const f of t.final) if (!run(f)) return finish();
  return finish();
}

const jumpTables = new WeakMap<object, Uint8Array>();

/** 1 at the pcs of conditional jumps (JMP/JMP32 classes but ja, call, exit). */
function condJumps(prog: { insns: readonly { code: number }[] }): Uint8Array {
  let j = jumpTables.get(prog);
  if (!j) {
    j = new Uint8Array(prog.insns.length);
    prog.insns.forEach((i, pc) => {
      const cls = i.code & 7, op = i.code & 0xf0;
      if ((cls === 5 || cls === 6) && op !== 0x00 && op !== 0x80 && op !== 0x90) j![pc] = 1;
    });
    jumpTables.set(prog, j);
  }
  return j;
}

function hashName(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}
