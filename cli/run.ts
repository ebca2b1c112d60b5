// `bpf-sockops run SCENARIO.json [--format text|json]` (design.md §5): runs a scenario through the
// simulated kernel. Text: one line per step (step, what happened, rcvlowat, bytes readable, epoll,
// wakeups), then `N passed, M failed` counting the expect steps. Exit 0 iff no expect failed and
// no program faulted; 2 when the scenario cannot run (its message says why and what to do).
import { Simulation, type StepResult } from '../debugger/sim';
import type { ProgramRunTrace } from '../debugger/kernel/types';
import { format, parseCommand, profile, text } from './args';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** A promise when the output is backed up (a pipe read slower than we write): the run waits
   *  for it before the next step instead of queueing the rest of its output in memory. */
  wait?: () => Promise<void> | null;
}

const USAGE = 'usage: bpf-sockops run SCENARIO.json [--format text|json] [--program FILE.o|FILE.c] [--profile NAME]';

const SPEC = { format: format(), program: text('--program', 'a file'), profile: profile() };

export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand('run', USAGE, args, SPEC, io, { max: 1, noun: 'scenario', missing: 'give the scenario to run' });
  if (typeof p === 'number') return p;
  const file = p.positional[0]!;
  const fmt = p.opts.format ?? 'text';
  const { program, profile: profileName } = p.opts;

  let sim: Simulation;
  try {
    sim = Simulation.fromFile(file, { program, profile: profileName });
  } catch (e) {
    io.err(`bpf-sockops run: ${describeError(e)}\n`);
    return 2;
  }
  // Each step is printed as it ends (JSON too: one step at a time, never the whole trace in one
  // string), so output and memory do not grow with what earlier steps printed; nor are the steps
  // or the bpf_printk lines kept: memory stays O(1) in their number.
  sim.keepTrace = false;
  sim.keepPrintk = false;
  const out = new Batched(io);
  const json = fmt === 'json' ? jsonWriter(sim, out.write) : null;
  try {
    while (!sim.done) {
      const r = sim.stepOnce();
      if (json) json.step(r); else out.write(textLine(r) + '\n');
      const backedUp = out.full() ? out.flush() : null;
      if (backedUp) await backedUp;
    }
  } catch (e) {
    if (json) json.abort();
    out.flush();
    io.err(`bpf-sockops run: ${file}: the simulation stopped: ${describeError(e)}\n`);
    return 2;
  }
  if (json) json.end();
  else {
    if (sim.faulted) out.write('a program faulted (see above)\n');
    out.write(`${sim.passed} passed, ${sim.failed} failed\n`);
  }
  out.flush();
  return sim.failed === 0 && !sim.faulted ? 0 : 1;
}

/** Output gathered into pieces of about BATCH characters (one write per piece, not per line). */
const BATCH = 1 << 16;

class Batched {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly io: CliIo) {}
  readonly write = (s: string): void => {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= BATCH * 16) this.flush(); // a long piece (a big recv's hex) goes at once
  };
  full(): boolean {
    return this.size >= BATCH;
  }
  /** Writes what was gathered; returns the output's wait (null when it takes more now). */
  flush(): Promise<void> | null {
    if (this.size) {
      this.io.out(this.parts.length === 1 ? this.parts[0]! : this.parts.join(''));
      this.parts = [];
      this.size = 0;
    }
    return this.io.wait?.() ?? null;
  }
}

/** Longer hex than this is written in pieces (a 64 MiB MSG_PEEK read is 128 MiB of text). */
const HEX_PIECE = 1 << 20;

/** Writes what `JSON.stringify(toJson(sim, results), null, 2)` gives, a step at a time. */
function jsonWriter(sim: Simulation, out: (s: string) => void) {
  const head = toJson(sim, []);
  let first = true;
  const indent = (text: string) => text.replace(/\n/g, '\n    ');
  // stands for a long "data" in the step's text until the hex is written there in pieces
  const mark = `hex-of-recv-${process.pid}-${Date.now()}`;
  out(`{\n  "scenario": ${JSON.stringify(head.scenario)},\n  "program": ${JSON.stringify(head.program)},\n  "profile": ${JSON.stringify(head.profile)},\n  "steps": [`);
  return {
    step(r: StepResult): void {
      const data = r.data;
      const big = data !== undefined && data.length * 2 > HEX_PIECE;
      const obj = stepJson(r, !big);
      if (big) obj.data = mark;
      const text = indent(JSON.stringify(obj, null, 2));
      out(`${first ? '\n' : ',\n'}    `);
      first = false;
      if (!big) { out(text); return; }
      const at = text.indexOf(`"${mark}"`);
      out(text.slice(0, at + 1));
      for (let o = 0; o < data!.length; o += HEX_PIECE / 2) out(Buffer.from(data!.buffer, data!.byteOffset + o, Math.min(HEX_PIECE / 2, data!.length - o)).toString('hex'));
      out(text.slice(at + 1 + mark.length));
    },
    end(): void {
      out(`${first ? '' : '\n  '}],\n  "passed": ${sim.passed},\n  "failed": ${sim.failed},\n  "faulted": ${sim.faulted}\n}\n`);
    },
    /** Ends the document after a stop so what was printed stays valid JSON up to the error. */
    abort(): void {
      this.end();
    },
  };
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    if (process.env.BPF_SOCKOPS_DEBUG) return e.stack ?? e.message;
    return e.message;
  }
  return String(e);
}

export function textLine(r: StepResult): string {
  const where = r.step.scenarioStep ? `step ${r.step.scenarioStep.index}` : 'open';
  const s = r.sock;
  return `${where.padEnd(8)} ${r.step.label}: ${r.text} | rcvlowat ${s.sk_rcvlowat} | readable ${s.readable} | epoll ${s.epoll} | wakeups ${s.wakeups}`;
}

const big = (v: bigint): number | string => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : '0x' + BigInt.asUintN(64, v).toString(16));

function runJson(t: ProgramRunTrace, label: string | undefined, opName: string | undefined) {
  return {
    program: t.program,
    ...(t.op !== undefined ? { op: t.op, opName } : {}),
    ...(label ? { event: label } : {}),
    ret: big(BigInt.asIntN(64, t.r0)),
    insns: t.insns,
    helpers: t.helpers.map((h) => ({ pc: h.pc, name: h.name, args: h.args.map(big), ret: big(BigInt.asIntN(64, h.ret)), ...(h.errno ? { errno: h.errno } : {}) })),
    printk: t.printk,
    ...(t.fault ? { fault: t.fault } : {}),
  };
}

export function toJson(sim: Simulation, results: StepResult[]) {
  return {
    scenario: sim.scenario.file,
    program: sim.prepared.programFile,
    profile: sim.prepared.table.profile.name,
    steps: results.map((r) => stepJson(r)),
    passed: sim.passed,
    failed: sim.failed,
    faulted: sim.faulted,
  };
}

function stepJson(r: StepResult, dataHex = true) {
  return ({
      step: r.step.scenarioStep ? r.step.scenarioStep.index : null,
      path: r.step.path || null,
      line: r.step.line ?? null,
      label: r.step.label,
      event: r.step.json,
      happened: r.text,
      ...(r.ret !== undefined ? { ret: r.ret } : {}),
      ...(r.data !== undefined ? { data: dataHex ? Buffer.from(r.data).toString('hex') : '' } : {}),
      runs: r.events.flatMap((e) => e.kind === 'prog' ? [runJson(e.trace, e.label, e.opName)] : e.kind === 'setsockopt-prog' && e.trace ? [{ ...runJson(e.trace, 'cgroup/setsockopt', undefined), action: e.action }] : e.kind === 'getsockopt-prog' && e.trace ? [{ ...runJson(e.trace, 'cgroup/getsockopt', undefined), ret: e.ret }] : []),
      wakeupsThisStep: r.events.filter((e) => e.kind === 'wakeup').map((e) => (e as { where: string }).where),
      drops: r.events.filter((e) => e.kind === 'drop').map((e) => (e as { why: string }).why),
      ...(r.expect ? { expect: r.expect } : {}),
      fault: r.fault,
      rcvlowat: r.sock.sk_rcvlowat,
      readable: r.sock.readable,
      epoll: r.sock.epoll,
      wakeups: r.sock.wakeups,
      socket: { ...r.sock },
      timeNs: big(r.timeNs),
    });
}
