// The DAP-free debug runtime. It pauses inside a program run without turning the kernel model
// into coroutines: every stop is reached by replaying the deterministic simulation, from the
// nearest checkpoint (./checkpoints.ts: snapshots of the whole simulation at step boundaries),
// with an instruction hook that counts positions and throws a private Pause at the target. A
// position is either an instruction about to execute or the boundary before a scenario step; the
// state after the throw (socket, maps, a copy of the VM's registers and memory) is the state at
// that position. Step back and reverse continue are replays to an earlier position; user edits
// (setVariable) are replayed at their positions. Breakpoints live in ./breakpoints.ts, source
// lines and inlined functions in ./sources.ts, copied guest memory in ./regions.ts.
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import type { BpfProgram } from '../object/types';
import type { Frame, Region, VmApi } from '../vm/api';
import type { ProgramRunTrace, SockModel } from '../kernel/types';
import type { Profile } from '../../sockops/types';
import type { DebugSim, InsnInfo, SimFactory } from './port';
import { funcAt } from './lines';
import { type ExprEnv, interpolateWith } from '../expr/index';
import { evaluateC, evaluateCInt } from '../expr/c';
import { stripType } from '../expr/ctypes';
import { tryReadDwarf } from '../object/dwarf/index';
import { DebugInfo, frameRegs } from './locals';
import { cEnv, formatValue, regionsView, valueNode, globalsOf, type ViewCtx } from './cview';
import { frameViewAt, stepName, stepNumber, type VarNode } from './inspect';
import { makeEnv } from './env';
import { type InlineFrame, InlineTracker, type ProgInline, SourceFuncs } from './inline';
import { History } from './history';
import { CAP, type Checkpoint, CheckpointStore } from './checkpoints';
import { Breakpoints, type BreakpointResult, type DataWatch, type FunctionBreakpointSpec, type InstructionBreakpointSpec, safeHit, shownWatch, type SourceBreakpointSpec } from './breakpoints';
import { Sources } from './sources';
import type { SourcePolicy } from './source-policy';
import { hex, readRegions } from './regions';

export { EXCEPTION_FILTERS, hitMatches, type BreakpointResult, type DataWatch, type FunctionBreakpointSpec, type InstructionBreakpointSpec, type SourceBreakpointSpec } from './breakpoints';
export { hex, readRegions, regionOf } from './regions';

/** Checkpoint spacing while replaying: every this many hooked instructions or positions. */
const CP_INSNS = 4_096;
const CP_POSITIONS = 4_096;

export type StopReason =
  | 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint'
  | 'data breakpoint' | 'exception' | 'goto' | 'pause';

export interface Stop {
  reason: StopReason;
  description?: string;
  text?: string;
  hitBreakpointIds?: number[];
  /** A stop after a helper or kfunc call that failed: the call's pc (the stack shows its line). */
  callPc?: number;
}

export interface RunRec {
  index: number; // order of the run within the simulation
  program: BpfProgram;
  label: string;
  ctxBase?: bigint;
  op?: number;
  step: number; // scenario step it belongs to
  firstPos: number;
  lastPos: number;
  key: object;
  vm: VmApi;
  trace?: ProgramRunTrace;
}

/** Where the simulation stands when paused. */
export interface Paused {
  pos: number;
  kind: 'insn' | 'boundary' | 'end';
  step: number; // insn: the step in progress; boundary: the step about to run; end: steps.length
  run: RunRec | null;
  pc: number;
  depth: number;
  regs: bigint[];
  frames: Frame[];
  regions: Region[]; // copies taken at the stop
  sim: DebugSim;
  stop: Stop;
}

interface Cursor {
  pos: number;
  kind: 'insn' | 'boundary' | 'end';
  step: number;
  run: RunRec | null;
  pc: number;
  depth: number;
  info: InsnInfo | null;
}

class Pause {
  constructor(readonly pos: number) {}
}

/** A user edit (setVariable), replayed at its position while that position is the instruction it was made at. */
interface Edit {
  run: number; // run index, -1 at a step boundary
  pc: number;
  depth: number;
  where: string;
  apply: (c: Cursor, sim: DebugSim) => void;
}

type Observe = (c: Cursor) => Stop | null;

const CALL = 0x85;
const EXIT = 0x95;

export interface RuntimeEvents {
  output: (text: string, category: 'console' | 'stdout' | 'stderr') => void;
}

export class DebugRuntime extends EventEmitter {
  private edits = new Map<number, Edit[]>();
  /** Why an edit was dropped during the last replay (refresh reports it to the caller). */
  private editDropped: string | null = null;
  private knownFaults = new Map<number, string>();
  /** The step in progress of the last replay, position by position (./history.ts). */
  private history = new History();
  /** Runs of that step; run i is runs[i - runsBase]. */
  private runs: RunRec[] = [];
  private runsBase = 0;
  private checkpoints = new CheckpointStore();
  /** Data breakpoints: the watched values at the previous position of the replay in progress. */
  private watchPrev = new Map<number, string>();
  /** The hook of the replay in progress (the live simulation calls it). */
  private hookFn: ((info: InsnInfo) => void) | null = null;
  /** Where the last replay started (a checkpoint's position, 0 for the start). */
  private lastStart = 0;
  private emittedPrintk = 0;
  private emittedSteps = 0;
  private maxLogPos = -1;
  /** Asked during long forward runs: true stops the run where it is, with reason 'pause'. */
  interrupt: (() => boolean) | null = null;
  /** Total instructions hooked over the life of the runtime (for benchmarks). */
  hookedInsns = 0;
  replays = 0;
  paused: Paused | null = null;
  /** The simulation of the replay in progress (or of the last stop). */
  private live: DebugSim | null = null;
  readonly programs: BpfProgram[];
  readonly profile: Profile | null;
  readonly paramName: string;
  private readonly src: Sources;
  private readonly breaks: Breakpoints;
  private inlineCache: { pos: number; replay: number; frames: InlineFrame[] } | null = null;

  /** `sourceDirs`: where line_info file names are looked for (then the scenario's folder and cwd);
   *  `sourcePolicy`: which of them may be read and shown (./source-policy.ts; default: all of them). */
  constructor(private readonly factory: SimFactory, opts: { sourceDirs?: string[]; sourcePolicy?: SourcePolicy } = {}) {
    super();
    const sourceDirs = [...(opts.sourceDirs ?? []), dirname(factory.scenarioPath), process.cwd()];
    this.profile = factory.profile;
    // Open once to learn the object; this also proves the scenario loads.
    const probe = factory.open(() => {});
    this.programs = probe.object.programs;
    const entry = this.programs[0];
    const btf = probe.object.btf;
    let pname = 'skops';
    if (entry && btf) {
      const fid = entry.funcs[0]?.btfTypeId ?? 0;
      const fn = fid ? btf.types[fid] : undefined;
      const proto = fn?.type !== undefined ? btf.types[fn.type] : undefined;
      const p0 = proto?.params?.[0]?.name;
      if (p0) pname = p0;
    }
    this.paramName = pname;
    this.probe = probe;
    this.src = new Sources(probe.object, factory.objectBytes, sourceDirs, (t) => this.out(t, 'console'), opts.sourcePolicy);
    this.breaks = new Breakpoints({
      programs: this.programs, objectFile: probe.object.file, callName: (p, pc) => this.callName(p, pc),
      isType: (n) => !!this.debugInfo()?.typeByName(n), movedWhy: (path, from, to, score) => this.src.movedWhy(path, from, to, score),
    });
  }
  private probe: DebugSim;

  get object() { return this.probe.object; }
  get steps() { return this.probe.steps; }
  get scenarioPath() { return this.factory.scenarioPath; }

  private out(text: string, category: 'console' | 'stdout' | 'stderr' = 'console') {
    this.emit('output', text, category);
  }

  /** Per-pc lines (0 = none): BTF line_info, with the DWARF line-0 ranges cleared (./sources.ts). */
  lineTableOf(prog: BpfProgram): Int32Array { return this.src.lineTableOf(prog); }
  /** C functions per pc of a program, from its sources (inlined functions; see ./inline.ts). */
  inlineOf(prog: BpfProgram): ProgInline { return this.src.inlineOf(prog); }
  get sourceFuncs(): SourceFuncs | null { return this.src.sourceFuncs; }

  private dbg: DebugInfo | null | undefined;
  private dbgError: string | null = null;
  /** The object's DWARF (locals, C types), read once; null without -g (debugInfoError says why). */
  debugInfo(): DebugInfo | null {
    if (this.dbg === undefined) {
      this.dbg = null;
      const bytes = this.factory.objectBytes;
      const d = bytes ? tryReadDwarf(bytes, this.object.file) : { error: `${this.object.file}: the object's bytes are not available` };
      if ('error' in d) {
        this.dbgError = `no C variables: ${d.error}`;
        this.out(`bpf-sockops: ${this.dbgError}\n`, 'console');
      } else this.dbg = new DebugInfo(d, this.object);
    }
    return this.dbg;
  }
  debugInfoError(): string | null { return this.dbgError; }

  /** The inline chains of the BPF frames at a stop (outermost first), replayed from the history of its run. */
  inlineAt(at: Paused): InlineFrame[] {
    if (at.kind !== 'insn' || !at.run) return [];
    const c = this.inlineCache;
    if (c && c.pos === at.pos && c.replay === this.replays) return c.frames;
    const t = this.trackTo(at.run, at.pos);
    const frames = t.snapshot();
    this.inlineCache = { pos: at.pos, replay: this.replays, frames };
    return frames;
  }

  /** A tracker fed with the positions of `run` up to `pos` (from the last replay's history). */
  private trackTo(run: RunRec, pos: number, each?: (q: number, t: InlineTracker) => void): InlineTracker {
    const t = new InlineTracker(this.inlineOf(run.program));
    const h = this.history;
    for (let q = Math.max(run.firstPos, h.first); q <= pos; q++) {
      if (h.runAt(q) !== run.index) continue;
      t.visit(h.depthAt(q), h.pcAt(q));
      each?.(q, t);
    }
    return t;
  }

  // ---------------------------------------------------------------- breakpoints (./breakpoints.ts)

  setSourceBreakpoints(path: string, specs: SourceBreakpointSpec[]): BreakpointResult[] { return this.breaks.setSource(path, specs); }
  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): BreakpointResult[] { return this.breaks.setFunction(specs); }
  setInstructionBreakpoints(specs: InstructionBreakpointSpec[]): BreakpointResult[] { return this.breaks.setInstruction(specs); }
  setExceptionFilters(filters: string[]): void { this.breaks.exceptionFilters = new Set(filters); }
  setDataBreakpoints(specs: { watch: DataWatch; condition?: string; hitCondition?: string }[]): BreakpointResult[] { return this.breaks.setData(specs); }

  /** Name of the helper/kfunc/function a call instruction calls. */
  callName(p: BpfProgram, pc: number): string | undefined {
    const insn = p.insns[pc];
    if (!insn || insn.code !== CALL) return undefined;
    if (insn.src === 2) return this.object.kfuncs[insn.imm];
    if (insn.src === 1) return funcAt(p, pc + 1 + insn.imm)?.name;
    return this.profile?.helpers.find((h) => h.id === insn.imm)?.name ?? `helper #${insn.imm}`;
  }

  // ---------------------------------------------------------------- replay engine

  private funcStarts = new Map<BpfProgram, Uint8Array>();
  /** 1 at each function's first pc. */
  private funcStart(p: BpfProgram): Uint8Array {
    let m = this.funcStarts.get(p);
    if (!m) {
      m = new Uint8Array(p.insns.length);
      for (const f of p.funcs) if (f.startPc < m.length) m[f.startPc] = 1;
      this.funcStarts.set(p, m);
    }
    return m;
  }

  /** The run with absolute index i, if it belongs to the step the history holds. */
  private runAt(i: number): RunRec | undefined {
    return this.runs[i - this.runsBase];
  }

  /** The simulation replays run in: kept between replays and moved by restoring checkpoints. */
  private liveSim(): DebugSim {
    if (!this.live) this.live = this.factory.open((info) => this.hookFn?.(info));
    return this.live;
  }

  /** Where a replay may start: the latest usable checkpoint at or before `limit`, else the start (null). */
  private startAt(limit: number): Checkpoint | null {
    // hit counts of another breakpoint configuration only matter when a hit condition reads them
    const counted = this.breaks.counted();
    for (let c = this.checkpoints.before(limit, counted ? this.breaks.version : undefined); c; c = this.checkpoints.before(c.pos - 1, counted ? this.breaks.version : undefined)) {
      try {
        this.liveSim();
        this.live!.restore?.(c.sim);
        if (!this.live!.restore) break;
        return c;
      } catch {
        continue;
      }
    }
    // from the start: a fresh simulation
    this.live = null;
    this.liveSim();
    return null;
  }

  /**
   * Run the simulation from the nearest checkpoint at or before where the answer can be (the
   * target, or the position a forward search starts from). Stops at `target` if given, else at
   * the first position where `observe` returns a stop (when stopOnHit), else at the end. `record`
   * sees every observed hit (reverse search). Checkpoints are taken at step boundaries on the way.
   */
  private replay(opts: { target?: number; observe?: Observe; stopOnHit: boolean; record?: (pos: number, s: Stop) => void; from?: number; interruptible?: boolean; startLimit?: number }): Paused {
    this.replays++;
    const { target, observe, stopOnHit, record } = opts;
    const limit = Math.min(opts.startLimit ?? Infinity, target ?? Infinity, (opts.from ?? -1) >= 0 ? opts.from! : Infinity);
    const cp = this.startAt(Number.isFinite(limit) ? limit : (this.paused?.pos ?? 0));
    this.lastStart = cp?.pos ?? 0;
    // boundaries before where the request starts get a checkpoint each (none for a search from the start)
    const denseUntil = Number.isFinite(limit) ? limit : -1;
    const sim = this.live!;
    this.watchPrev = new Map(cp?.watchPrev ?? []);
    for (const bp of this.breaks.bps.values()) bp.hits = cp?.hits.get(bp.id) ?? 0;
    for (const w of this.breaks.watches) w.hits = cp?.watchHits.get(w.id) ?? 0;
    let runs: RunRec[] = [];
    this.runs = runs;
    let runCount = cp?.runs ?? 0;
    this.runsBase = runCount;
    let pos = (cp?.pos ?? 0) - 1;
    this.history.reset(pos + 1);
    let cur: RunRec | null = null;
    let lastInsns = -1;
    let lastPc = -1;
    const insnCursor: Cursor = { pos: 0, kind: 'insn', step: 0, run: null, pc: 0, depth: 0, info: null };
    let lastRun: RunRec | null = null;
    let depth = 0;
    let stepIdx = sim.nextStep;
    let sinceCp = 0;
    let found: { stop: Stop; cursor: Cursor } | null = null;
    let faultStop: { pos: number; stop: Stop } | null = null;
    const edits = this.edits;
    const interruptible = !!opts.interruptible && !!this.interrupt;

    // A run ended: if it faulted, its last position is the faulting instruction. A forward search
    // that passed it stops there (by one more replay); a reverse search records it.
    const runEnded = (r: RunRec | null): boolean => {
      const f = r?.trace?.fault;
      if (!r || !f) return false;
      const msg = faultText(f);
      this.knownFaults.set(r.lastPos, msg);
      if (!observe || !this.breaks.exceptionFilters.has('fault')) return false;
      const stop: Stop = { reason: 'exception', description: `guest fault: ${msg}`, text: msg };
      if (stopOnHit && r.lastPos > (opts.from ?? -1)) { faultStop = { pos: r.lastPos, stop }; return true; }
      if (!stopOnHit && target !== undefined && r.lastPos < target) record?.(r.lastPos, stop);
      return false;
    };

    // Taken inside the hook, before the Pause unwinds the kernel (which unmaps the run's ctx).
    let foundSnap: { regs: bigint[]; frames: Frame[]; regions: Region[] } | null = null;
    const snapshot = (c: Cursor) => {
      const vm = c.info?.vm;
      return {
        regs: vm ? Array.from({ length: 11 }, (_, i) => vm.reg(i)) : [],
        frames: vm ? vm.frames().map((f) => ({ ...f })) : [],
        regions: vm ? vm.memory.regions().map((r) => ({ ...r, bytes: r.bytes.slice() })) : [],
      };
    };
    const anyEdits = edits.size > 0;
    const visit = (c: Cursor): boolean => {
      if (anyEdits) {
        const ed = edits.get(c.pos);
        if (ed) this.applyEdits(c, sim, ed);
      }
      if (target !== undefined && c.pos === target) {
        found = { stop: { reason: 'goto' }, cursor: { ...c } };
        foundSnap = snapshot(c);
        return true;
      }
      if (observe) {
        const s = observe(c);
        if (s) {
          if (stopOnHit) { found = { stop: s, cursor: { ...c } }; foundSnap = snapshot(c); return true; }
          record?.(c.pos, s);
        }
      }
      return false;
    };

    // per run: its program's function starts (a Map lookup per run, not per instruction)
    let starts: Uint8Array | null = null;
    this.hookFn = (info: InsnInfo) => {
      pos++;
      this.hookedInsns++;
      sinceCp++;
      const vm = info.vm;
      const n = vm.insnCount;
      if (cur === null || cur.key !== info.run || cur.vm !== vm || n < lastInsns) {
        if (runEnded(cur)) throw new Pause(pos);
        cur = { index: runCount++, program: info.program, label: info.label, ctxBase: info.ctxBase, op: info.op, step: stepIdx, firstPos: pos, lastPos: pos, key: info.run, vm, trace: info.trace };
        runs.push(cur);
        starts = this.funcStart(info.program);
      }
      lastInsns = n;
      cur.lastPos = pos;
      // the frame depth changes only after a call or an exit, or at a function's first
      // instruction (a callback a helper calls): asked for only then
      const prog = info.program;
      const prev = lastPc >= 0 && lastRun === cur ? prog.insns[lastPc]?.code : undefined;
      if (prev === undefined || prev === CALL || prev === EXIT || starts![info.pc]) depth = frameCount(vm);
      lastPc = info.pc;
      lastRun = cur;
      this.history.record(pos, cur.index, info.pc, depth);
      // one cursor refilled per instruction (a stop keeps a copy)
      const cursor = insnCursor;
      cursor.pos = pos; cursor.step = stepIdx; cursor.run = cur; cursor.pc = info.pc; cursor.depth = depth; cursor.info = info;
      if (visit(cursor)) throw new Pause(pos);
      // a pause request, looked for every 65,536 instructions of a forward run (./port.ts has none: the adapter's)
      if (interruptible && (this.hookedInsns & 0xffff) === 0 && pos > (opts.from ?? -1) && this.interrupt?.()) {
        const s: Stop = { reason: 'pause', description: `paused by request at instruction ${pos - cur.firstPos + 1} of this run` };
        found = { stop: s, cursor: { ...cursor } };
        foundSnap = snapshot(cursor);
        throw new Pause(pos);
      }
    };

    const boundary = (kind: 'boundary' | 'end'): boolean => {
      if (runEnded(cur)) return true;
      pos++;
      // a new step: the history, the runs and the printk lines start over
      this.history.reset(pos);
      this.history.record(pos, -1, stepIdx, 0);
      runs = [];
      this.runs = runs;
      this.runsBase = runCount;
      this.flushOutput(sim, []);
      cur = null;
      // a checkpoint every CP_INSNS instructions or CP_POSITIONS positions of replay, and at every
      // boundary on the way to where this replay was asked to start (the stop being stepped from,
      // the target stepped back to): the next request from there replays one step at most
      if (sim.checkpoint && (sinceCp >= CP_INSNS || pos <= denseUntil || (pos - (this.checkpoints.before(pos)?.pos ?? -1)) >= CP_POSITIONS || this.checkpoints.size === 0)) {
        if (!this.checkpoints.has(pos, this.breaks.version)) {
          this.checkpoints.add({
            pos, step: stepIdx, runs: runCount, sim: sim.checkpoint(),
            hits: new Map([...this.breaks.bps.values()].map((b) => [b.id, b.hits])), watchHits: new Map(this.breaks.watches.map((w) => [w.id, w.hits])),
            watchPrev: new Map(this.watchPrev), version: this.breaks.version,
          });
          if (this.checkpoints.size > 2 * CAP) this.checkpoints.thin(pos);
        }
        sinceCp = 0;
      }
      return visit({ pos, kind, step: stepIdx, run: null, pc: -1, depth: 0, info: null });
    };

    const finish = (c: Cursor, stop: Stop): Paused => {
      const snap = c === (found as { cursor: Cursor } | null)?.cursor && foundSnap ? foundSnap : snapshot(c);
      const p: Paused = { pos: c.pos, kind: c.kind, step: c.step, run: c.run, pc: c.pc, depth: c.depth, ...snap, sim, stop };
      this.flushOutput(sim, runs);
      this.paused = p;
      this.checkpoints.thin(c.pos);
      return p;
    };

    try {
      for (;;) {
        stepIdx = sim.nextStep;
        const last = stepIdx >= sim.steps.length;
        // a boundary that stops has set `found` (a target or a hit) or `faultStop` (a run before it faulted)
        if (boundary(last ? 'end' : 'boundary')) throw new Pause(pos);
        if (last) return finish({ pos, kind: 'end', step: stepIdx, run: null, pc: -1, depth: 0, info: null }, { reason: 'pause', description: this.endText(sim) });
        const runsBefore = runs.length;
        const outcome = sim.stepOnce();
        this.noteStep(outcome.text, stepIdx);
        this.noteFaults(outcome.runs, runs.slice(runsBefore));
      }
    } catch (e) {
      if (!(e instanceof Pause)) throw e;
      const fs = faultStop as { pos: number; stop: Stop } | null;
      if (fs) return this.stopAs(this.replay({ target: fs.pos, stopOnHit: false }), fs.stop);
      const c = found as unknown as { stop: Stop; cursor: Cursor };
      return finish(c.cursor, c.stop);
    } finally {
      this.hookFn = null;
    }
  }

  /** 'scenario finished: 3 passed, 0 failed' (what `bpf-sockops run` ends with), and a fault if any. */
  endText(sim: DebugSim): string {
    const r = sim.results?.();
    if (!r) return 'scenario finished';
    return `scenario finished: ${r.passed} passed, ${r.failed} failed${r.faulted ? ', a program faulted' : ''}`;
  }

  private noteFaults(traces: ProgramRunTrace[], runs: RunRec[]) {
    const faulted = traces.filter((t) => t.fault);
    if (!faulted.length) return;
    // match traces to hooked runs in order, by program name
    let j = 0;
    for (const t of traces) {
      while (j < runs.length && runs[j]!.program.name !== t.program) j++;
      const r = runs[j++];
      if (r && t.fault) this.knownFaults.set(r.lastPos, faultText(t.fault));
    }
  }

  private noteStep(text: string, step: number) {
    if (step < this.emittedSteps) return;
    this.emittedSteps = step + 1;
    this.out(`${text}\n`, 'console');
  }

  /** bpf_printk lines not shown yet: those of completed steps, then those of the step in progress (its runs' traces). */
  private flushOutput(sim: DebugSim, stepRuns: RunRec[]) {
    const log = sim.printk();
    const emit = (l: string) => { this.out(l.replace(/\n?$/, '\n'), 'stdout'); this.emittedPrintk++; };
    while (this.emittedPrintk < log.length) emit(log[this.emittedPrintk]!);
    let idx = log.length;
    for (const r of stepRuns) for (const l of r.trace?.printk ?? []) { if (idx === this.emittedPrintk) emit(l); idx++; }
  }

  // ---------------------------------------------------------------- stop conditions

  /** The C expression environment at a cursor of a replay (conditions, logpoints): the live VM's innermost C frame. */
  private envAt(c: Cursor, sim: DebugSim | null) {
    const vm = c.info?.vm;
    const legacy = this.legacyEnvAt(c, sim);
    const info = this.debugInfo();
    if (!vm || !c.run) return cEnv(null, legacy, null, { read: () => { throw new Error('no program is running here'); } });
    const fr = vm.frames();
    const regs = frameRegs(fr, fr.length - 1, (i) => vm.reg(i));
    const mem = { read: (a: bigint, n: number) => vm.memory.readBytes(a, n) };
    const cfs = info ? info.cframes(c.run.program, c.pc) : [];
    const view = info ? { info, prog: c.run.program, pc: c.pc, regs, cframe: cfs[cfs.length - 1] ?? null, globals: globalsOf(() => vm.memory.regions(), () => sim?.maps() ?? []), mem } : null;
    return cEnv(view, legacy, regs, mem);
  }

  private liveView(c: Cursor): ViewCtx | null {
    const vm = c.info?.vm;
    if (!vm) return null;
    return { ...regionsView(() => vm.memory.regions(), (a, n) => vm.memory.readBytes(a, n)), liveRegs: false };
  }

  private legacyEnvAt(c: Cursor, sim: DebugSim | null): ExprEnv {
    const vm = c.info?.vm;
    return makeEnv({
      profile: this.profile,
      paramName: this.paramName,
      reg: vm ? (i) => vm.reg(i) : undefined,
      read: vm ? (a, n) => vm.memory.readBytes(a, n) : undefined,
      ctxBase: c.run?.ctxBase,
      sock: sim?.socket() ?? null,
      step: stepNumber(this.probe, c.step),
    });
  }

  /** Breakpoints, data breakpoints and exceptions at a cursor (null when none triggers). */
  private checks(from: number, simRef: () => DebugSim | null): Observe {
    // the breakpoints and, per program, a mask of the pcs any of them is at (most instructions
    // are rejected by one byte read)
    const bps = [...this.breaks.bps.values()];
    const masks = new Map<BpfProgram, Uint8Array>();
    for (const bp of bps) for (const [p, pcs] of bp.at) {
      let m = masks.get(p);
      if (!m) { m = new Uint8Array(p.insns.length); masks.set(p, m); }
      for (const pc of pcs) m[pc] = 1;
    }
    // what a request asks for does not change while it runs: looked up once, not per instruction
    const watches = this.breaks.watches;
    const helperErrors = this.breaks.exceptionFilters.has('helper-error');
    const faults = this.breaks.exceptionFilters.has('fault');
    let maskOf: BpfProgram | null = null;
    let mask: Uint8Array | undefined;
    return (c) => {
      let stop: Stop | null = null;
      const sim = simRef();
      // data breakpoints: compare with the value at the previous position
      for (let k = 0; k < watches.length; k++) {
        const w = watches[k]!;
        const watchPrev = this.watchPrev;
        const v = this.watchValue(w.watch, c, sim);
        const prev = watchPrev.get(w.id);
        watchPrev.set(w.id, v);
        if (prev === undefined || prev === v) continue;
        // a ctx is per run: the kernel fills a new one for each op, which is not a program's store
        if (w.watch.kind === 'ctx' && (!c.run || prev.split(':')[0] !== String(c.run.index))) continue;
        if (w.condition && !this.condTrue(w.condition, c, sim)) continue;
        // counted from the start of the scenario (the replay starts there), as line breakpoints are
        w.hits++;
        if (w.hitCondition && !safeHit(w.hitCondition, w.hits)) continue;
        if (c.pos <= from) continue;
        stop ??= { reason: 'data breakpoint', description: `${this.watchName(w.watch)} changed: ${shownWatch(w.watch, prev)} -> ${shownWatch(w.watch, v)}`, hitBreakpointIds: [] };
        stop.hitBreakpointIds!.push(w.id);
      }
      if (c.kind === 'insn' && c.run) {
        if (c.run.program !== maskOf) { maskOf = c.run.program; mask = masks.get(maskOf); }
        if (mask?.[c.pc]) for (const bp of bps) {
          const pcs = bp.at.get(c.run.program);
          if (!pcs || !pcs.includes(c.pc)) continue;
          if (bp.condition && !this.condTrue(bp.condition, c, sim)) continue;
          bp.hits++;
          if (bp.hitCondition && !safeHit(bp.hitCondition, bp.hits)) continue;
          if (bp.logMessage) {
            if (c.pos > this.maxLogPos) {
              this.maxLogPos = c.pos;
              const env = this.envAt(c, sim);
              const cx = this.liveView(c);
              this.out(`${interpolateWith(bp.logMessage, (e) => (cx ? formatValue(evaluateC(e, env), cx) : String(evaluateCInt(e, env))))}\n`, 'console');
            }
            continue;
          }
          if (c.pos <= from) continue;
          stop ??= { reason: bp.reason, hitBreakpointIds: [] };
          stop.hitBreakpointIds!.push(bp.id);
        }
        if (c.pos > from && helperErrors) {
          const e = this.helperError(c);
          if (e) stop ??= { reason: 'exception', description: e, text: e, callPc: c.pc - 1 };
        }
      }
      if (c.pos > from && faults) {
        const f = this.knownFaults.get(c.pos);
        if (f !== undefined) stop = { reason: 'exception', description: `guest fault: ${f}`, text: f };
      }
      return stop;
    };
  }

  /** Conditions whose failure was reported (each is reported once per session). */
  private condFailed = new Set<string>();
  private condTrue(cond: string, c: Cursor, sim: DebugSim | null): boolean {
    try {
      return evaluateCInt(cond, this.envAt(c, sim)) !== 0n;
    } catch (e) {
      // a condition that cannot be evaluated does not stop: it says why, once
      const msg = `condition '${cond}' cannot be evaluated at ${this.placeOf(c)}: ${(e as Error).message}; the breakpoint does not stop there`;
      if (!this.condFailed.has(cond)) { this.condFailed.add(cond); this.out(`${msg}\n`, 'stderr'); }
      return false;
    }
  }

  private placeOf(c: Cursor): string {
    if (!c.run) return `the boundary before ${stepName(this.probe, c.step)}`;
    const li = this.lineTableOf(c.run.program)[c.pc];
    return li ? `line ${li}` : `${c.run.program.name} pc ${c.pc}`;
  }

  /** After a helper/kfunc call: r0 as a negative errno, described. */
  private helperError(c: Cursor): string | null {
    const prev = c.pos - 1;
    const hist = this.history;
    if (prev < 0 || !c.run || hist.runAt(prev) !== c.run.index || hist.depthAt(prev) !== c.depth) return null;
    const ppc = hist.pcAt(prev);
    const insn = c.run.program.insns[ppc];
    if (!insn || insn.code !== CALL || insn.src === 1 || ppc + 1 !== c.pc) return null;
    const r0 = c.info!.vm.reg(0);
    const name = this.callName(c.run.program, ppc) ?? 'call';
    const h = insn.src === 0 ? this.profile?.helpers.find((x) => x.id === insn.imm) : undefined;
    // pointers, u64 counters and u32 values never carry an errno
    if (h && !/^(long|int|s64|__s64|s32|__s32)$/.test(h.ret.trim())) return null;
    const k = insn.src === 2 ? this.profile?.kfuncs.find((x) => x.name === name) : undefined;
    if (k && !/^(long|int|s64|__s64|s32|__s32)$/.test(k.ret.trim())) return null;
    const isInt = (h?.ret ?? k?.ret ?? 'long').includes('int') || (h?.ret ?? k?.ret ?? '').includes('32');
    let v = BigInt.asIntN(64, r0);
    if (isInt) v = BigInt.asIntN(32, r0);
    if (v >= 0n || v < -4095n) return null;
    const errno = this.profile?.errnos.find((e) => e.value === Number(-v))?.name;
    return `${name} returned ${v}${errno ? ` (-${errno})` : ''}`;
  }

  private watchName(w: DataWatch): string {
    return w.kind === 'sock' ? w.field : w.name;
  }

  private watchValue(w: DataWatch, c: Cursor, sim: DebugSim | null): string {
    if (w.kind === 'sock') {
      const s = sim?.socket() as unknown as Record<string, unknown> | null;
      return s ? String(s[w.field]) : '';
    }
    if (w.kind === 'ctx') {
      if (c.kind !== 'insn' || c.run?.ctxBase === undefined || !c.info) return `run ${c.run?.index ?? -1}`;
      try {
        return `${c.run.index}:` + hex(c.info.vm.memory.readBytes(c.run.ctxBase + BigInt(w.offset), w.size));
      } catch { return `${c.run.index}:?`; }
    }
    const m = sim?.maps().find((x) => x.def.name === w.map);
    const e = m?.entries().find((x) => hex(x.key) === w.keyHex);
    return e ? hex(e.value.subarray(w.offset, w.offset + w.size)) : '(absent)';
  }

  // ---------------------------------------------------------------- execution requests

  private here(): number { return this.paused?.pos ?? -1; }

  /** Launch: stop at entry, or run to the first stop. */
  start(stopOnEntry: boolean): Paused {
    if (stopOnEntry) return this.stopAs(this.replay({ target: 0, stopOnHit: false }), { reason: 'entry' });
    return this.continue();
  }

  continue(): Paused {
    return this.replayForward(this.here(), () => null);
  }

  private replayForward(from: number, step: Observe): Paused {
    const checks = this.checks(from, () => this.live);
    const observe: Observe = (c) => {
      const s = checks(c);
      if (s) return s;
      if (c.pos <= from) return null;
      return step(c);
    };
    return this.replay({ observe, stopOnHit: true, from, interruptible: true });
  }

  private stopAs(p: Paused, stop: Stop): Paused {
    p.stop = stop;
    return p;
  }

  /** Step in/over/out by line (via line_info) or by instruction. */
  step(kind: 'in' | 'over' | 'out', granularity: 'line' | 'instruction' = 'line'): Paused {
    const at = this.paused;
    if (!at || at.kind === 'end') return this.continue();
    const from = at.pos;
    const runIdx = at.run?.index ?? -1;
    const d = at.depth;
    const prog = at.run?.program;
    const table = prog ? this.lineTableOf(prog) : null;
    const L = table && at.pc >= 0 ? table[at.pc]! : 0;
    const stepStop: Stop = { reason: 'step' };
    // Inlined C functions: the chain of the current BPF frame at the stop, then followed forward.
    // Over: stop on a line whose chain is this one (another line) or a prefix of it (the inlined
    // function returned); lines of functions inlined deeper are run through. Out: stop on the
    // first line of a caller once the current C function (inlined or real) is left.
    const tracker = at.run ? this.trackTo(at.run, from) : null;
    let chain0 = tracker?.frames[d - 1]?.chain.slice() ?? [];
    // from code of no known C function (line 0, no source), the stack shows no inlined frame: nor does stepping
    if (prog && chain0.length > 1) {
      const inl = this.inlineOf(prog);
      if (!inl.line[at.pc] || inl.cfunc[at.pc]! < 0) chain0 = chain0.slice(0, 1);
    }
    const k = Math.max(1, chain0.length);
    let level = k; // the shallowest chain level returned to so far
    const inlineLevel = (): { len: number; common: number } => {
      const ch = tracker!.frames[d - 1]?.chain ?? chain0;
      let m = 0;
      while (m < ch.length && m < chain0.length && ch[m] === chain0[m]) m++;
      return { len: Math.max(1, ch.length), common: Math.max(m, chain0.length ? 0 : 1) };
    };
    const pred: Observe = (c) => {
      if (c.kind !== 'insn' || !c.run) return stepStop;
      if (c.run.index !== runIdx) return stepStop;
      tracker?.visit(c.depth, c.pc);
      if (granularity === 'instruction') {
        if (kind === 'out') return c.depth < d ? stepStop : null;
        if (kind === 'in') return stepStop;
        return c.depth <= d ? stepStop : null;
      }
      if (c.depth < d) return stepStop;
      if (kind !== 'in' && c.depth > d) return null;
      const line = this.lineTableOf(c.run.program)[c.pc]!;
      if (line === 0) return null;
      if (kind === 'in') return c.depth !== d || line !== L ? stepStop : null;
      const { len, common } = inlineLevel();
      if (common < level) level = common;
      if (kind === 'out') return k > 1 && level < k && len <= level ? stepStop : null;
      if (len > level) return null; // inside a function inlined here
      if (len < k) return stepStop; // back in a caller of the inlined function
      return line !== L ? stepStop : null;
    };
    return this.replayForward(from, pred);
  }

  /** Reverse of 'over': back to the start of the previous line (or instruction) of this frame. */
  stepBack(granularity: 'line' | 'instruction' = 'line'): Paused {
    const at = this.paused;
    if (!at) return this.start(true);
    const target = this.backTarget(at, granularity);
    return this.stopAs(this.replay({ target, stopOnHit: false }), { reason: 'step' });
  }

  private backTarget(at: Paused, granularity: 'line' | 'instruction'): number {
    const cur = at.pos;
    if (cur <= 0) return 0;
    const h = this.history;
    const run = (q: number) => h.runAt(q), depth = (q: number) => h.depthAt(q), pcs = (q: number) => h.pcAt(q);
    const ri = run(cur);
    const d = at.kind === 'insn' ? at.depth : 0;
    let p = cur - 1;
    if (at.kind !== 'insn' || ri < 0) return p;
    if (granularity === 'instruction') {
      while (p > 0 && run(p) === ri && depth(p) > d) p--;
      return p;
    }
    const lineOf = (q: number) => { const r = this.runAt(run(q)); return r ? this.lineTableOf(r.program)[pcs(q)]! : 0; };
    // a level per position: the BPF frame depth, then the length of its chain of inlined C
    // functions, so that the lines of an inlined callee count as deeper, like a real call
    const r = this.runAt(ri)!;
    const lv = new Int32Array(cur - r.firstPos + 1);
    this.trackTo(r, cur, (q, t) => { lv[q - r.firstPos] = depth(q) * 4096 + Math.min(4095, t.len(depth(q))); });
    const lvl = (q: number) => (q >= r.firstPos ? lv[q - r.firstPos]! : depth(q) * 4096);
    const L = lineOf(cur);
    // from code of no known C function, as from the BPF function itself (what the stack shows)
    const inl = this.inlineOf(r.program);
    const lc = inl.line[pcs(cur)] && inl.cfunc[pcs(cur)]! >= 0 ? lvl(cur) : depth(cur) * 4096 + 1;
    while (p >= 0 && run(p) === ri && (lvl(p) > lc || (lvl(p) === lc && (lineOf(p) === L || lineOf(p) === 0)))) p--;
    if (p < 0) return 0;
    if (run(p) !== ri) return p;
    const lp = lvl(p);
    const M = lineOf(p);
    let best = p;
    let q = p - 1;
    while (q >= 0 && run(q) === ri && (lvl(q) > lp || (lvl(q) === lp && (lineOf(q) === M || lineOf(q) === 0)))) {
      if (lvl(q) === lp && lineOf(q) === M) best = q; // the line's first instruction, not shared code before it
      q--;
    }
    return best;
  }

  /** Back to the last position before this one where a breakpoint, watch or exception triggers; else the start.
   *  Searched a checkpoint segment at a time, latest first. */
  reverseContinue(): Paused {
    const at = this.paused;
    let end = at?.pos ?? 0;
    for (;;) {
      let last = -1;
      let lastStop: Stop | null = null;
      const checks = this.checks(-1, () => this.live);
      const until = end;
      const observe: Observe = (c) => (c.pos < until ? checks(c) : null);
      // from a checkpoint strictly before `end`, so each round searches an earlier segment
      this.replay({ target: end, observe, stopOnHit: false, record: (pos, st) => { last = pos; lastStop = st; }, startLimit: end - 1 });
      if (last >= 0) return this.stopAs(this.replay({ target: last, stopOnHit: false }), lastStop ?? { reason: 'breakpoint' });
      if (this.lastStart <= 0 || this.lastStart >= end) break;
      end = this.lastStart;
    }
    return this.stopAs(this.replay({ target: 0, stopOnHit: false }), { reason: 'entry', description: 'start of the scenario' });
  }

  /** Re-run to the current position (after an edit). Throws, once there, when an edit was dropped on the way. */
  refresh(): Paused {
    const at = this.paused;
    const stop = at?.stop ?? { reason: 'step' as const };
    this.editDropped = null;
    const p = this.stopAs(this.replay({ target: at?.pos ?? 0, stopOnHit: false }), stop);
    if (this.editDropped) throw new Error(this.editDropped);
    return p;
  }

  /** Replayed at the current position on every re-run: the edit survives step back and forth. */
  addEdit(fn: (vm: VmApi | null, sim: DebugSim) => void): void {
    const at = this.paused;
    if (!at) throw new Error('not paused');
    const list = this.edits.get(at.pos) ?? [];
    const where = at.kind === 'insn' && at.run ? `instruction ${at.pos - at.run.firstPos + 1} of run #${at.run.index} (${at.run.program.name} pc ${at.pc})` : `before ${stepName(at.sim, at.step)}`;
    list.push({ run: at.run?.index ?? -1, pc: at.pc, depth: at.depth, where, apply: (c, sim) => fn(c.info?.vm ?? null, sim) });
    this.edits.set(at.pos, list);
    this.knownFaults.clear();
    this.checkpoints.dropAfter(at.pos);
  }

  /**
   * The edits of a position. An edit made later in the scenario than an edit made since may find
   * another instruction at its position (the earlier edit changed the path): it is dropped, as is
   * an edit that fails, with a note, rather than written into the wrong place or ending the session.
   */
  private applyEdits(c: Cursor, sim: DebugSim, list: Edit[]): void {
    for (const e of [...list]) {
      let why: string | null = null;
      if (e.run !== (c.run?.index ?? -1) || e.pc !== c.pc || e.depth !== c.depth) why = 'an edit made before it changed the path the program takes to it';
      else try { e.apply(c, sim); } catch (err) { why = (err as Error).message; }
      if (why === null) continue;
      list.splice(list.indexOf(e), 1);
      if (!list.length) this.edits.delete(c.pos);
      this.editDropped = `the edit made at ${e.where} was dropped: ${why}`;
      this.out(`bpf-sockops: ${this.editDropped}\n`, 'stderr');
    }
  }

  /** Evaluate an expression at the stop to an integer (setVariable values), in frame `frame` of the stack view. */
  evaluate(expr: string, frame = 0): bigint {
    const at = this.paused;
    if (!at) throw new Error('not paused');
    return evaluateCInt(expr, this.pausedEnv(at, frame));
  }

  /** Evaluate a C expression at the stop as the Variables view shows a value (expandable). */
  evaluateNode(expr: string, frame = 0): VarNode {
    const at = this.paused;
    if (!at) throw new Error('not paused');
    const v = evaluateC(expr, this.pausedEnv(at, frame));
    const cx: ViewCtx = { ...regionsView(() => at.regions, (a, n) => readRegions(at.regions, a, n)), liveRegs: false };
    const node = valueNode(expr, v, cx, expr);
    // an integer result also in hex, as the console always showed it
    const s = stripType(v.type);
    if (s.kind === 'base' && !s.bool && !s.char && /^-?\d+$/.test(node.value) && (node.value.startsWith('-') || BigInt(node.value) > 9n)) {
      node.value = `${node.value} (0x${BigInt.asUintN(64, BigInt(node.value)).toString(16)})`;
    }
    return node;
  }

  pausedEnv(at: Paused, frame = 0) {
    const legacy = this.legacyPausedEnv(at);
    const f = frameViewAt(this, at, frame);
    const regs = f?.regs ?? (at.kind === 'insn' && at.frames.length ? frameRegs(at.frames, at.frames.length - 1, (i) => at.regs[i] ?? 0n) : null);
    return cEnv(f, legacy, regs, { read: (a, n) => readRegions(at.regions, a, n) });
  }

  private legacyPausedEnv(at: Paused): ExprEnv {
    return makeEnv({
      profile: this.profile,
      paramName: this.paramName,
      reg: at.kind === 'insn' ? (i) => at.regs[i] ?? 0n : undefined,
      read: at.kind === 'insn' ? (a, n) => readRegions(at.regions, a, n) : undefined,
      ctxBase: at.run?.ctxBase,
      sock: at.sim.socket(),
      step: stepNumber(at.sim, at.step),
    });
  }

  sock(): SockModel | null { return this.paused?.sim.socket() ?? null; }
}

/** How many BPF frames the VM has: its depth counter when it keeps one (./vm/interp.ts does),
 *  else the length of frames(), which copies every frame's registers. */
function frameCount(vm: VmApi): number {
  const d = (vm as { depth?: unknown }).depth;
  return typeof d === 'number' ? d + 1 : vm.frames().length;
}

/** A fault as stops describe it: 'load of 4 bytes at 0xdead is outside any region at frames.bpf.c:52'. */
function faultText(f: NonNullable<ProgramRunTrace['fault']>): string {
  return `${f.message}${f.line ? ` at ${f.line}` : ''}`;
}

