// The simulation: a scenario file + the loaded hook + the BPF side of the simulated kernel + the
// TCP receive model, run step by step. Used by `bpf-sockops run` (cli/run.ts) and by the debug
// adapter, which re-runs it deterministically from the start (same scenario, same trace).
//
// Step 0 is the passive open (the ops the kernel runs on that path); steps 1..N are the
// scenario's `steps[0..N-1]`. No program runs before the first stepOnce().
import { FileReadError, readFileBounded } from '../io/files';
import { resolve } from 'node:path';
import { loadObject } from './object/index';
import type { BpfObject } from './object/types';
import { BpfKernel, type BpfKernelOptions, type KernelCheckpoint } from './kernel/bpf/index';
import type { TcpCheckpoint } from './kernel/tcp/index';
import type { ProbeReadFact, ProgramRunTrace } from './kernel/types';
import {
  DEFAULT_PEER_ISN, TcpModel, abiFromTable, fmtOpt, type CloseOutcome, type DropReason, type ModelEvent, type SegmentOutcome,
  type SetsockoptOutcome, type SockSnapshot, type TcpAbi, type TcpSock,
} from './kernel/tcp/index';
import { compileBpf, parseScenario, readScenarioText, type Expectation, type Scenario, type ScenarioStep } from './scenario/index';
import { profileForStructs } from '../sockops/choose';
import { table, type SockopsTable } from '../sockops/index';

/** Sequence number of the first stream byte (rcv_nxt after the handshake): "seq", else
 *  "peerIsn" + 1, else DEFAULT_PEER_ISN + 1 (0, as scenarios always had it). */
export function streamSeq(socket: Scenario['socket']): number {
  if (socket.seqExplicit) return socket.seq >>> 0;
  if (socket.peerIsn !== undefined) return (socket.peerIsn + 1) >>> 0;
  return (DEFAULT_PEER_ISN + 1) >>> 0;
}

export interface SimOptions {
  /** Overrides the scenario's "program" (a .c or .o path). */
  program?: string;
  compiler?: string;
  compilerArgs?: string[];
  /** Overrides the scenario's kernel profile. */
  profile?: string;
  /** The scenario's text when the caller already read it (read once: never read the file again). */
  scenarioText?: string;
}

/** Everything a run needs that does not change between re-runs: parse and compile once. */
export interface PreparedScenario {
  scenario: Scenario;
  /** The program file actually used (.o or .c). */
  programFile: string;
  object: BpfObject;
  /** The object's bytes (read from the .o, or what clang made of the .c): the debugger reads its DWARF. */
  objectBytes: Uint8Array;
  table: SockopsTable;
  abi: TcpAbi;
}

/** The virtual clock behind bpf_ktime_get_ns(): starts 1 s after boot, moves 1 µs per step and
 *  by `advanceTime` steps (our choice: deterministic, never 0). */
export class VirtualClock {
  ns = 1_000_000_000n;
  nowNs(): bigint { return this.ns; }
  advance(ns: bigint): void { this.ns += ns; }
}

export interface SimStep {
  /** 0 for the passive open, k+1 for scenario steps[k]. */
  index: number;
  /** steps[k] of the scenario, null for the passive open. */
  scenarioStep: ScenarioStep | null;
  label: string;
  /** JSON path ('steps[3]') or '' for the open. */
  path: string;
  line?: number;
  json: unknown;
}

export interface ExpectResult {
  ok: boolean;
  /** One line per mismatch: 'rcvlowat is 8, expected 258'. */
  failures: string[];
}

export interface StepResult {
  index: number;
  step: SimStep;
  /** What happened, one line (without the socket figures). */
  text: string;
  /** Model events in order (program runs, wakeups, drops with the sentence saying why). */
  events: StepEvent[];
  /** Every program run of this step, in order. */
  runs: ProgramRunTrace[];
  /** Return value of a recv/setsockopt/op step. */
  ret?: number;
  /** Bytes a recv returned. */
  data?: Uint8Array;
  expect?: ExpectResult;
  /** A program faulted in this step. */
  fault: boolean;
  /** The socket after the step. */
  sock: SockSnapshot;
  /** Virtual time after the step. */
  timeNs: bigint;
}

/** steps[k] of the scenario as SimStep k + 1: its label, path, line and JSON read from it when
 *  asked (a long scenario's steps are read from its text again: ./scenario/steps.ts). */
class ScenarioSimStep implements SimStep {
  constructor(readonly index: number, readonly scenarioStep: ScenarioStep) {}
  get label(): string { return this.scenarioStep.label; }
  get path(): string { return this.scenarioStep.path; }
  get line(): number | undefined { return this.scenarioStep.line; }
  get json(): unknown { return this.scenarioStep.json; }
}

/** Simulation.stepBrief(): a step's program runs and outcome, without its presentation. */
export type BriefStepResult = Pick<StepResult, 'runs' | 'fault' | 'ret' | 'expect'>;

/** A model event as a step reports it: drops carry the sentence saying why. */
export type StepEvent = Exclude<ModelEvent, { kind: 'drop' }> | (Extract<ModelEvent, { kind: 'drop' }> & { why: string });

/** Simulation.checkpoint(). */
export interface SimCheckpoint {
  model: TcpCheckpoint;
  kernel: KernelCheckpoint;
  clock: bigint;
  nextStep: number;
  passed: number;
  failed: number;
  faulted: boolean;
  lastRet: number | undefined;
  lastData: Uint8Array | undefined;
  trace: number;
  printk: number;
  printkSeen: string[];
}

export interface RunSummary {
  results: StepResult[];
  passed: number;
  failed: number;
  faulted: boolean;
}

export class Simulation {
  readonly scenario: Scenario;
  readonly object: BpfObject;
  readonly kernel: BpfKernel;
  readonly model: TcpModel;
  readonly clock = new VirtualClock();
  /** The passive open, then the scenario's steps (made when first asked for: `run` never does). */
  private stepList: SimStep[] | null = null;
  private readonly open: SimStep;
  readonly trace: StepResult[] = [];
  /** bpf_printk output so far, in order. */
  readonly printkLog: string[] = [];
  nextStep = 0;
  passed = 0;
  failed = 0;
  faulted = false;
  /** False: stepOnce() results are not kept in `trace` (long runs stream them: O(1) memory). */
  keepTrace = true;
  /** False: bpf_printk lines are not kept in `printkLog` (each step's are in its result); an
   *  `expect` of "printk" is then answered from the substrings the scenario asks for, marked as
   *  lines contain them (the parser lists them: Scenario.printks). */
  keepPrintk = true;
  /** Those of the scenario's "printk" substrings some line contained so far (keepPrintk false). */
  private printkSeen = new Set<string>();
  private lastRet: number | undefined;
  private lastData: Uint8Array | undefined;

  /** Parse the scenario, compile (.c) and load the object. Throws ScenarioError, CompileError,
   *  ObjectError or Error with a message naming the file and what to do. */
  static prepare(path: string, opts: SimOptions = {}): PreparedScenario {
    let t = table(opts.profile);
    // read once (io/files: a regular file, bounded), parsed again only for another profile's names
    const src = opts.scenarioText !== undefined ? { path: resolve(path), text: opts.scenarioText } : readScenarioText(path);
    let scenario = parseScenario(src.text, src.path, { constant: (n) => t.constant(n) });
    if (scenario.profile && !opts.profile) {
      t = table(scenario.profile);
      scenario = parseScenario(src.text, src.path, { constant: (n) => t.constant(n) });
    }
    const programFile = opts.program ?? scenario.program;
    let bytes: Uint8Array;
    if (programFile.endsWith('.c')) {
      bytes = compileBpf(programFile, { compiler: opts.compiler, args: opts.compilerArgs });
    } else {
      try {
        bytes = readFileBounded(programFile, 'object').bytes;
      } catch (e) {
        if (!(e instanceof FileReadError)) throw e;
        const why = e.problem === 'missing' ? `cannot read ${programFile} (${/\((E[A-Z]+)\)/.exec(e.detail)?.[1] ?? 'ENOENT'})` : `${programFile}: ${e.detail}`;
        throw new Error(`${scenario.file}: program: ${why}; check "program" (paths are relative to the scenario file)`);
      }
    }
    const object = loadObject(bytes, programFile);
    // Nobody named a profile: a struct bpf_tcp_ops object runs against its profile (sockops/choose.ts,
    // the rule the editor and `check` follow).
    const auto = !opts.profile && !scenario.profile ? profileForStructs((object.structOps ?? []).map((m) => m.struct)) : undefined;
    if (auto && auto !== t.profile.name) {
      t = table(auto);
      scenario = parseScenario(src.text, src.path, { constant: (n) => t.constant(n) });
    }
    return { scenario, programFile, object, objectBytes: bytes, table: t, abi: abiFromTable(t) };
  }

  static fromFile(path: string, opts: SimOptions = {}): Simulation {
    return new Simulation(Simulation.prepare(path, opts));
  }

  /** `kernel`: options of the simulated kernel beyond the scenario's (equivalence tests, benchmarks). */
  constructor(readonly prepared: PreparedScenario, kernel: Pick<BpfKernelOptions, 'refreshAfterEveryHelper' | 'budget'> = {}) {
    const sc = prepared.scenario;
    this.scenario = sc;
    this.object = prepared.object;
    this.kernel = BpfKernel.load(prepared.object, {
      ...kernel,
      sockops: sc.sockops,
      setsockopt: sc.setsockopt,
      getsockopt: sc.getsockopt,
      structOps: sc.structOps,
      profile: prepared.table.profile.name,
      seed: sc.seed ?? 1,
      clock: this.clock,
      printkLog: false, // our own log (printkLog) comes from the runs' traces
    });
    this.model = new TcpModel(prepared.abi, {
      family: sc.socket.family,
      mss: sc.socket.mss,
      rcvbuf: sc.socket.rcvbuf,
      tcpRmemMax: sc.socket.tcpRmemMax,
      memoryPressure: sc.socket.memoryPressure,
      mptcp: sc.socket.mptcp,
      local: { port: sc.socket.localPort },
      remote: { port: sc.socket.remotePort },
    }, this.kernel);
    this.open = { index: 0, scenarioStep: null, label: `passive open (${sc.socket.family}${sc.socket.fastopen ? `, fastopen ${sc.socket.fastopen} bytes` : ''})`, path: '', json: { open: sc.socket }, line: undefined };
  }

  /** Every step, the passive open first (explore appends to it). A long scenario's list is made
   *  only for whoever reads it: stepping makes each SimStep as it runs and keeps none. */
  get steps(): SimStep[] {
    return (this.stepList ??= [this.open, ...this.scenario.steps.map((_, k) => this.simStep(k + 1))]);
  }

  private simStep(index: number): SimStep {
    return index === 0 ? this.open : new ScenarioSimStep(index, this.scenario.steps[index - 1]!);
  }

  /** Step `index` (0: the passive open), made for the caller when the list was not. */
  stepAt(index: number): SimStep | undefined {
    if (this.stepList) return this.stepList[index];
    return index <= this.scenario.steps.length ? this.simStep(index) : undefined;
  }

  /** Steps in all, the passive open included. */
  get stepCount(): number {
    return this.stepList ? this.stepList.length : this.scenario.steps.length + 1;
  }

  get done(): boolean {
    return this.nextStep >= this.stepCount;
  }

  socket(): TcpSock {
    return this.model.sock;
  }

  /** The whole simulation between steps (the debugger's time travel): the TCP model, the BPF
   *  side, the clock and the counters. Logs are kept by length: restore() goes back, not ahead. */
  checkpoint(): SimCheckpoint {
    return {
      model: this.model.checkpoint(), kernel: this.kernel.checkpoint(), clock: this.clock.ns,
      nextStep: this.nextStep, passed: this.passed, failed: this.failed, faulted: this.faulted,
      lastRet: this.lastRet, lastData: this.lastData, trace: this.trace.length, printk: this.printkLog.length,
      printkSeen: [...this.printkSeen],
    };
  }

  /** Put the simulation back to `cp` (taken from this simulation, not ahead of where it is). */
  restore(cp: SimCheckpoint): void {
    if (this.printkLog.length < cp.printk || this.trace.length < Math.min(cp.trace, this.keepTrace ? cp.trace : 0)) throw new Error('Simulation.restore(): the checkpoint is ahead of this simulation');
    this.kernel.restore(cp.kernel);
    this.model.restore(cp.model);
    this.clock.ns = cp.clock;
    this.nextStep = cp.nextStep;
    this.passed = cp.passed;
    this.failed = cp.failed;
    this.faulted = cp.faulted;
    this.lastRet = cp.lastRet;
    this.lastData = cp.lastData;
    this.trace.length = Math.min(this.trace.length, cp.trace);
    this.printkLog.length = cp.printk;
    this.printkSeen = new Set(cp.printkSeen);
  }

  /** A bpf_printk line of a completed run: logged, or (keepPrintk false) looked at once. */
  private notePrintk(line: string): void {
    const wanted = this.scenario.printks;
    if (this.keepPrintk || !wanted) { this.printkLog.push(line); return; }
    for (const w of wanted) if (!this.printkSeen.has(w) && line.includes(w)) this.printkSeen.add(w);
  }

  /** Run the next step. Exceptions thrown by an instruction hook propagate unchanged. */
  stepOnce(): StepResult {
    if (this.done) throw new Error('the scenario has no more steps');
    const step = this.stepAt(this.nextStep)!;
    this.nextStep++;
    if (step.index > 0) this.clock.advance(1000n);
    const res = this.runStep(step, false);
    if (this.keepTrace) this.trace.push(res);
    return res;
  }

  /** Run the next step as stepOnce() does (the same model, kernel, printk log and counters), but
   *  return only its program runs, fault, ret and expect: no sentence, events or socket snapshot
   *  are built, and nothing is kept in `trace` (explore: the oracle reads the socket itself). */
  stepBrief(): BriefStepResult {
    if (this.done) throw new Error('the scenario has no more steps');
    const step = this.stepAt(this.nextStep)!;
    this.nextStep++;
    if (step.index > 0) this.clock.advance(1000n);
    return this.runStep(step, true);
  }

  runAll(): RunSummary {
    while (!this.done) this.stepOnce();
    return { results: this.trace, passed: this.passed, failed: this.failed, faulted: this.faulted };
  }

  private runStep(step: SimStep, brief: true): BriefStepResult;
  private runStep(step: SimStep, brief: false): StepResult;
  private runStep(step: SimStep, brief: boolean): StepResult | BriefStepResult {
    const m = this.model;
    const sc = this.scenario;
    const seq0 = streamSeq(sc.socket);
    let text = '';
    let ret: number | undefined;
    let data: Uint8Array | undefined;
    let expect: ExpectResult | undefined;
    m.takeEvents();
    const s = step.scenarioStep?.step;
    if (!s) {
      const sk = sc.socket;
      m.passiveOpen({
        seq: seq0, fastopen: sk.fastopen ? sc.stream.subarray(0, sk.fastopen) : undefined,
        isn: sk.isn, rttUs: sk.rttUs, synEcn: sk.synEcn, peerOptions: sk.peerOptions,
      });
      text = `established (state ${m.stateName(m.sock.state)})`;
    } else {
      // Payloads are views of the stream: the model never writes into one (coalescing copies).
      switch (s.kind) {
        case 'send':
        case 'segment': {
          const o = m.segment((seq0 + s.offset) >>> 0, sc.stream.subarray(s.offset, s.offset + s.len), { fin: s.fin });
          if (!brief) text = segmentText(o);
          break;
        }
        case 'fin':
          text = segmentText(m.segment((seq0 + s.offset) >>> 0, new Uint8Array(0), { fin: true }));
          break;
        case 'recv': {
          const r = m.recvmsg(s.len, { peek: s.peek });
          ret = r.ret;
          data = r.data;
          this.lastData = r.data;
          if (!brief) text = r.ret > 0 ? `read ${r.ret} bytes${r.eof ? ' and the FIN (end of stream)' : ''}` : r.ret === 0 ? 'end of stream (0)' : `failed ${r.ret} (${this.prepared.abi.errnoName(r.ret)})`;
          break;
        }
        case 'setsockopt': {
          const r = m.setsockopt(s.level, s.optname, s.optval);
          ret = r.ret;
          text = `returned ${r.ret}${r.ret < 0 ? ' (' + this.prepared.abi.errnoName(r.ret) + ')' : ''}: ${setsockoptText(r, m.sock, this.prepared.abi)}`;
          break;
        }
        case 'getsockopt': {
          const r = m.getsockopt(s.level, s.optname, s.optlen);
          ret = r.ret;
          data = r.data;
          const abi = this.prepared.abi;
          const int = r.data.length === 4 ? ` (int ${new DataView(r.data.buffer, r.data.byteOffset, 4).getInt32(0, true)})` : '';
          text = r.ret < 0 ? `returned ${r.ret} (${abi.errnoName(r.ret)})` : `returned ${r.ret}, optlen ${r.data.length}: ${r.data.length ? hex(r.data) : '(no bytes)'}${int}`;
          break;
        }
        case 'rcvbuf': {
          const v = new Uint8Array(4);
          new DataView(v.buffer).setInt32(0, s.bytes, true);
          const r = m.setsockopt(this.prepared.abi.constant('SOL_SOCKET'), this.prepared.abi.constant('SO_RCVBUF'), v);
          ret = r.ret;
          text = `setsockopt(SOL_SOCKET, SO_RCVBUF, ${s.bytes}) returned ${r.ret}: ${setsockoptText(r, m.sock, this.prepared.abi)}`;
          break;
        }
        case 'op': {
          const op = typeof s.op === 'number' ? s.op : (this.prepared.table.constant(s.op) ?? this.prepared.table.constant('BPF_SOCK_OPS_' + s.op))!;
          const r = m.explicitOp(op, s.args);
          ret = r ?? undefined;
          text = r === null ? 'no sock_ops program attached' : `tcp_call_bpf returned ${r}`;
          break;
        }
        case 'advanceTime':
          this.clock.advance(s.ns);
          text = `time is now ${this.clock.ns} ns`;
          break;
        case 'window':
          m.sock.rcv_wup = m.sock.rcv_nxt;
          m.sock.rcv_wnd = s.bytes;
          text = `ACK advertises a window of ${s.bytes} bytes`;
          break;
        case 'memoryPressure':
          m.sock.memoryPressure = s.on;
          text = s.on ? 'TCP memory pressure on (tcp_under_memory_pressure)' : 'TCP memory pressure off';
          break;
        case 'sockmap': {
          const rcvq = m.sock.rcvqFlag();
          if (s.on && rcvq && (m.sock.bpf_sock_ops_cb_flags & rcvq)) {
            ret = this.prepared.abi.errno('EBUSY');
            text = `sock_map_update refused: RCVQ_CB is on (${ret}, EBUSY; assumed, design.md §4.6)`;
          } else {
            m.sock.in_sockmap = s.on;
            ret = 0;
            text = s.on ? 'the socket is now in a SOCKMAP' : 'the socket left the SOCKMAP';
          }
          break;
        }
        case 'close':
          text = closeText(m.close());
          break;
        case 'expect':
          expect = this.checkExpect(s.expect);
          if (expect.ok) this.passed++; else this.failed++;
          text = expect.ok ? 'PASS' : 'FAIL: ' + expect.failures.join('; ');
          break;
      }
    }
    if (ret !== undefined) this.lastRet = ret;
    if (brief) return this.briefResult(m.takeEvents(), ret, expect);
    const events: StepEvent[] = m.takeEvents().map((e) => (e.kind === 'drop' ? { ...e, why: dropWhy(e) } : e));
    const runs: ProgramRunTrace[] = [];
    let fault = false;
    const parts: string[] = [];
    for (const e of events) {
      if (e.kind === 'prog' || ((e.kind === 'setsockopt-prog' || e.kind === 'getsockopt-prog') && e.trace)) {
        const tr = e.trace!;
        runs.push(tr);
        for (const l of tr.printk) this.notePrintk(l);
        if (tr.probeRead) parts.push(probeReadText(tr.probeRead));
        if (tr.fault) {
          fault = true;
          parts.push(`FAULT in ${tr.program}: ${tr.fault.message}${tr.fault.line ? ' at ' + tr.fault.line : ''} (pc ${tr.fault.pc})`);
        } else if (e.kind === 'prog') {
          parts.push(`${e.label} -> ${tr.r0} (${tr.insns} insns)`);
        } else if (e.kind === 'getsockopt-prog') {
          parts.push(`cgroup/getsockopt -> ${e.ret}${e.ret < 0 ? ' (' + this.prepared.abi.errnoName(e.ret) + ')' : ''} (${tr.insns} insns)`);
        } else {
          const refused = e.action === 'eperm' && e.errno !== undefined ? ` ${e.errno} (${this.prepared.abi.errnoName(e.errno)})` : '';
          parts.push(`cgroup/setsockopt ${e.action}${refused} (${tr.insns} insns)`);
        }
      } else if (e.kind === 'wakeup') parts.push(`wakeup (${e.where})`);
      else if (e.kind === 'drop' && s && s.kind !== 'send' && s.kind !== 'segment' && s.kind !== 'fin') parts.push(`dropped: ${e.why}`);
      else if (e.kind === 'fastopen-no-wakeup') parts.push('fastopen data queued before accept(): no tcp_data_ready() (tcp_fastopen_add_skb)');
      else if (e.kind === 'hdr-opts-written') parts.push(`${e.segment} carries the program's header options ${hex(e.bytes)}`);
    }
    if (fault) this.faulted = true;
    if (parts.length) text += '; ' + parts.join('; ');
    const res: StepResult = { index: step.index, step, text, events, runs, fault, sock: m.sock.snapshot(), timeNs: this.clock.ns };
    if (ret !== undefined) res.ret = ret;
    if (data !== undefined) res.data = data;
    if (expect) res.expect = expect;
    return res;
  }

  /** stepBrief()'s result from the step's model events: the printk log and `faulted` as
   *  runStep keeps them. */
  private briefResult(events: ModelEvent[], ret: number | undefined, expect: ExpectResult | undefined): BriefStepResult {
    const runs: ProgramRunTrace[] = [];
    let fault = false;
    for (const e of events) {
      const tr = e.kind === 'prog' || e.kind === 'setsockopt-prog' || e.kind === 'getsockopt-prog' ? e.trace : null;
      if (!tr) continue;
      runs.push(tr);
      for (const l of tr.printk) this.notePrintk(l);
      if (tr.fault) fault = true;
    }
    if (fault) this.faulted = true;
    const res: BriefStepResult = { runs, fault };
    if (ret !== undefined) res.ret = ret;
    if (expect) res.expect = expect;
    return res;
  }

  /** Checks `e` against the socket now (also `explore`, for expects marked "always"). */
  checkExpect(e: Expectation): ExpectResult {
    const sk = this.model.sock;
    const f: string[] = [];
    const cmp = (name: string, actual: number | string | undefined, want: number | string | undefined) => {
      if (want === undefined) return;
      if (actual !== want) f.push(`${name} is ${actual === undefined ? 'unset' : actual}, expected ${want}`);
    };
    cmp('rcvlowat', sk.sk_rcvlowat, e.rcvlowat);
    cmp('epoll', sk.epollIn() ? 1 : 0, e.epoll);
    cmp('readable', sk.readable(), e.readable);
    cmp('wakeups', sk.wakeups, e.wakeups);
    cmp('ret', this.lastRet, e.ret);
    cmp('cbFlags', sk.bpf_sock_ops_cb_flags, e.cbFlags);
    cmp('rcvbuf', sk.sk_rcvbuf, e.rcvbuf);
    cmp('receiveQueue', sk.receiveQueue.length, e.receiveQueue);
    if (e.state !== undefined) cmp('state', this.model.stateName(sk.state), e.state.replace(/^(BPF_)?TCP_/, ''));
    if (e.data !== undefined) {
      const got = this.lastData ? new TextDecoder().decode(this.lastData) : undefined;
      if (got !== e.data) f.push(`data is ${JSON.stringify(got)}, expected ${JSON.stringify(e.data)}`);
    }
    if (e.printk !== undefined && !this.printkSeen.has(e.printk) && !this.printkLog.some((l) => l.includes(e.printk!))) {
      f.push(`no bpf_printk line contains ${JSON.stringify(e.printk)}`);
    }
    return { ok: f.length === 0, failures: f };
  }
}

// ---- the sentences: the TCP model returns facts, these say them ----

const nBytes = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** The run's failed probe read as a sentence (the fact comes from the BPF side of the kernel). */
export function probeReadText(p: ProbeReadFact): string {
  const more = p.count > 1 ? ` (and ${p.count - 1} more in this run)` : '';
  return `probe read at ${p.line ?? `pc ${p.pc}`} returned 0: address outside any kernel object (0x${p.addr.toString(16)}, ${p.size} bytes)${more}`;
}

/** Why the kernel dropped a segment, in words (with the kernel's SKB_DROP_REASON where it has one). */
export function dropWhy(d: DropReason): string {
  switch (d.reason) {
    case 'TCP_ZEROWINDOW': return 'zero receive window (SKB_DROP_REASON_TCP_ZEROWINDOW)';
    case 'TCP_OLD_DATA': return `old data, all below rcv_nxt ${d.rcvNxt} (retransmit, D-SACK)`;
    case 'TCP_OVERWINDOW': return `beyond the receive window (rcv_nxt ${d.rcvNxt} + window ${d.window})`;
    case 'PROTO_MEM': return `receive buffer full: sk_rmem_alloc ${d.rmemAlloc} > sk_rcvbuf ${d.rcvbuf} (SKB_DROP_REASON_PROTO_MEM)`;
    case 'TCP_OFO_DUP': return `already in the out-of-order queue (skb#${d.coveredBy} covers it)`;
    case 'TCP_OFO_DROP': return 'out-of-order skb already below rcv_nxt (SKB_DROP_REASON_TCP_OFO_DROP)';
    case 'AFTER_FIN': return `socket in state ${d.state}: the peer already sent FIN, data after it is ignored (tcp_rcv_state_process)`;
  }
}

/** What happened to a segment, one clause. */
export function segmentText(o: SegmentOutcome): string {
  if (o.kind === 'pure-ack') return 'empty segment (pure ACK): nothing queued';
  if (o.kind === 'fin-wait2-fin') return `FIN seq ${o.seq} in FIN_WAIT2: ACKed, TIME_WAIT (the socket is CLOSE)`;
  if (o.kind === 'dropped') return `dropped seq ${o.seq}..${o.endSeq}: ${dropWhy(o)}`;
  const desc = `seq ${o.seq}..${o.endSeq} (${nBytes(o.len)}${o.fin ? ' + FIN' : ''})`;
  if (o.kind === 'queued') {
    const how = o.overlap !== undefined ? `overlapping rcv_nxt ${o.overlap}` : 'in order';
    return `${desc} queued ${how}${o.moved ? `; ${o.moved} skb(s) moved from the out-of-order queue` : ''}`;
  }
  const where = o.placed === 'coalesced' ? `coalesced into skb#${o.skb}` : o.placed === 'inserted' ? 'inserted' : `${o.placed} skb#${o.skb}`;
  return `${desc} out of order (rcv_nxt ${o.rcvNxt}): ${where} in the out-of-order queue`;
}

/** What close() did. */
export function closeText(o: CloseOutcome): string {
  switch (o.kind) {
    case 'already-closed': return 'already closed';
    case 'closed': return 'closed';
    case 'reset': return `${o.unread} unread bytes: the connection is reset (tcp_send_active_reset), state CLOSE`;
    case 'closed-from': return `closed from state ${o.state}`;
    case 'fin': return `FIN sent (state ${o.state}); the peer ACKed it: ${o.acked === 'CLOSE' ? 'CLOSE (tcp_done)' : 'FIN_WAIT2'}`;
  }
}

/** What setsockopt(2) did, after "returned N: ". */
export function setsockoptText(r: SetsockoptOutcome, sock: TcpSock, abi: TcpAbi): string {
  const C = (n: string) => abi.constant(n);
  switch (r.by) {
    case 'cgroup-refused':
      return r.cgroupErrno === 'eperm' ? 'the cgroup/setsockopt program returned 0: -EPERM'
        : r.cgroupErrno === 'efault' ? 'the cgroup/setsockopt program set optlen out of bounds: -EFAULT'
        : `the cgroup/setsockopt program refused it with the errno it set (bpf_set_retval): ${abi.errnoName(r.ret)}`;
    case 'cgroup-consumed': return 'consumed by the cgroup/setsockopt program (optlen = -1)';
    case 'no-level': return `level ${fmtOpt(r.level)} is unknown to TCP (ip_setsockopt/ipv6_setsockopt: -ENOPROTOOPT)`;
    case 'not-modelled': return `level ${fmtOpt(r.level)} option ${fmtOpt(r.optname)} is not modelled by the simulator (ignored)`;
    case 'kernel': {
      const name = optionName(abi, r.level, r.optname);
      if (r.ret < 0) return `${name} refused by the kernel`;
      if (r.level === C('SOL_SOCKET') && r.optname === C('SO_RCVLOWAT')) return `SO_RCVLOWAT -> tcp_set_rcvlowat: sk_rcvlowat ${sock.sk_rcvlowat}`;
      if (r.level === C('SOL_SOCKET') && r.optname === C('SO_RCVBUF')) return `SO_RCVBUF: sk_rcvbuf ${sock.sk_rcvbuf} (doubled, locked), window_clamp ${sock.window_clamp}`;
      if (r.level === C('SOL_TCP') && r.optname === C('TCP_NODELAY')) return `TCP_NODELAY ${sock.tcp_nodelay ? 1 : 0}`;
      return `${name} set`;
    }
  }
}

/** 'SO_RCVBUF' for (SOL_SOCKET, 8): the table's name of an option at its level, else the numbers. */
function optionName(abi: TcpAbi, level: number, optname: number): string {
  const prefix = level === abi.constant('SOL_SOCKET') ? /^SO_/ : level === abi.constant('SOL_TCP') ? /^TCP_/ : level === abi.constant('SOL_IP') ? /^IP_/ : /^IPV6_/;
  for (const n of ['SO_REUSEADDR', 'SO_SNDBUF', 'SO_RCVBUF', 'SO_KEEPALIVE', 'SO_PRIORITY', 'SO_REUSEPORT', 'SO_RCVLOWAT', 'SO_BINDTODEVICE', 'SO_MARK',
    'SO_MAX_PACING_RATE', 'SO_BINDTOIFINDEX', 'SO_TXREHASH', 'TCP_NODELAY', 'TCP_MAXSEG', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_SYNCNT',
    'TCP_WINDOW_CLAMP', 'TCP_CONGESTION', 'TCP_USER_TIMEOUT', 'TCP_NOTSENT_LOWAT', 'TCP_SAVE_SYN', 'TCP_SAVED_SYN', 'IP_TOS', 'IPV6_TCLASS']) {
    if (prefix.test(n) && abi.constant(n) === optname) return n;
  }
  return `level ${fmtOpt(level)} option ${fmtOpt(optname)}`;
}
