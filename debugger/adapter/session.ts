// The Debug Adapter Protocol session: a thin translator between DAP requests and the debug
// runtime (../runtime/), which knows nothing of DAP. Requests in, runtime calls out, events back.
import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import {
  Breakpoint, DebugSession, InitializedEvent, InvalidatedEvent, OutputEvent, Response, Scope as DapScope,
  Source, StackFrame, StoppedEvent, TerminatedEvent, Thread,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DebugRuntime, EXCEPTION_FILTERS, type DataWatch, type Paused } from '../runtime/runtime';
import { frames, scopes, type VarNode, whereText } from '../runtime/inspect';
import { assignValue } from '../runtime/assign';
import { openLaunch, type LaunchArgs } from '../runtime/launch';
import { disassemble, decodeInsnAddr, insnAddr } from '../runtime/disasm';
import { regionOf } from '../runtime/runtime';
import { requestArgumentProblem } from './validate';
import { type SourceLookup, SourcePolicy, type SourceRoot } from '../runtime/source-policy';

const THREAD_ID = 1;
/** Frame ids of a stop are FRAME_STRIDE * (stop number) + 1.., so an id from an earlier stop is never valid again. */
const FRAME_STRIDE = 1 << 16;
/** The most instructions one disassemble request may ask for (VS Code asks for a screenful). */
const MAX_DISASSEMBLE = 1 << 16;

/** A variables container: how to list it, and its path from the scope (to find it again after a re-run). */
interface Container { nodes: () => VarNode[]; cache?: VarNode[]; path: string[]; /** Its frame in the stack view (values typed into it are evaluated there). */ frame: number }

/** Variables references: never reused, so one from an earlier stop is refused instead of naming another container. */
class Refs {
  private map = new Map<number, Container>();
  private next = 1;
  /** The first reference of the current stop: lower ones were handed out at earlier stops. */
  private floor = 1;
  create(c: Container): number { this.map.set(this.next, c); return this.next++; }
  /** A reference handed out at an earlier stop (not one never given). */
  earlier(ref: number): boolean { return ref >= 1 && ref < this.floor && !this.map.has(ref); }
  get(ref: number): Container | undefined { return this.map.get(ref); }
  reset(): void { this.map.clear(); this.floor = this.next; }
}

export class BpfSockopsSession extends DebugSession {
  private rt: DebugRuntime | null = null;
  private launchArgs: LaunchArgs | null = null;
  private vars = new Refs();
  /** Counts the stops: the frame ids of the current one start at FRAME_STRIDE * stops + 1. */
  private stops = 0;
  /** Set when the launch ran a program the verifier rejects (ignoreVerifier): said at the first stop. */
  private refused: string | undefined;
  private configured = false;
  private launched = false;
  private started = false;
  private sourceDirs: string[] = [];
  /** Which sources the object names may be read and shown (../runtime/source-policy.ts). */
  private policy = new SourcePolicy([]);
  private sourceCache = new Map<string, SourceLookup>();

  /** `onEnd` runs when the client disconnects or the stream closes (instead of process.exit). */
  constructor(private readonly onEnd: () => void = () => {}) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  /** Requests without the arguments they need get an error that names the argument, never a TypeError. */
  protected override dispatchRequest(request: DebugProtocol.Request): void {
    const problem = requestArgumentProblem(request); // ./validate.ts: one table of what each request needs
    if (!problem) { super.dispatchRequest(request); return; }
    this.fail(new Response(request), 1011, problem);
  }

  /** An error response whose text is sent as is (`variables: {}` keeps '{_x}' in user text from being read as a placeholder). */
  private fail(response: DebugProtocol.Response, id: number, text: string, showUser = false): void {
    this.sendErrorResponse(response, { id, format: text, variables: {}, showUser });
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsFunctionBreakpoints: true,
      supportsInstructionBreakpoints: true,
      supportsDataBreakpoints: true,
      supportsStepBack: true,
      supportsSteppingGranularity: true,
      supportsDisassembleRequest: true,
      supportsReadMemoryRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsExceptionInfoRequest: true,
      supportsTerminateRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((f) => ({ ...f })),
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): Promise<void> {
    const a = args as LaunchArgs & { sourceRoots?: string[] } & DebugProtocol.LaunchRequestArguments;
    try {
      const cwd = resolve(a.cwd ?? process.cwd());
      const extra = (a.sourceRoots ?? []).map((d) => resolve(cwd, d));
      for (const d of extra) {
        let dir = false;
        try { dir = statSync(d).isDirectory(); } catch { /* missing */ }
        if (!dir) throw new Error(`"sourceRoots": ${d} is not a folder: list folders that hold the hook's sources (relative ones start at ${cwd})`);
      }
      const { factory, programPath, notes, refused } = await openLaunch(a);
      this.refused = refused;
      const roots: SourceRoot[] = [
        { dir: cwd, why: a.cwd !== undefined ? 'the launch configuration\'s "cwd"' : 'the debug adapter\'s folder (the launch configuration has no "cwd")' },
        { dir: dirname(programPath), why: 'the program\'s folder' },
        { dir: dirname(factory.scenarioPath), why: 'the scenario\'s folder' },
        ...extra.map((dir) => ({ dir, why: '"sourceRoots"' })),
      ];
      this.policy = new SourcePolicy(roots);
      this.sourceDirs = [dirname(programPath), dirname(factory.scenarioPath), cwd, ...extra];
      this.rt = new DebugRuntime(factory, { sourceDirs: this.sourceDirs, sourcePolicy: this.policy });
      this.rt.interrupt = () => this.pauseRequested();
      this.launchArgs = a;
      this.rt.on('output', (text: string, category: string) => this.sendEvent(new OutputEvent(text, category)));
      for (const n of notes) this.sendEvent(new OutputEvent(`${n}\n`, 'console'));
    } catch (e) {
      this.fail(response, 1001, `bpf-sockops launch failed: ${(e as Error).message}`, true);
      return;
    }
    this.launched = true;
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
    if (this.configured) this.begin();
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configured = true;
    this.sendResponse(response);
    if (this.launched) this.begin();
  }

  private begin() {
    if (this.started || !this.rt) return;
    this.started = true;
    this.exec(() => this.rt!.start(!!this.launchArgs?.stopOnEntry), true);
  }

  /**
   * Run a runtime call and report the stop (or the end) as events. A forward request that reaches
   * the end of the scenario stops there once (step back still works, Variables show the final
   * socket); a forward request from that stop ends the session. Without debugging (noDebug) the
   * end ends the session at once.
   */
  private exec(fn: () => Paused, forward: boolean) {
    if (forward && this.rt?.paused?.kind === 'end') {
      this.sendEvent(new TerminatedEvent());
      return;
    }
    let p: Paused;
    this.interrupted = false;
    try {
      p = fn();
    } catch (e) {
      this.sendEvent(new OutputEvent(`bpf-sockops: ${(e as Error).message}\n`, 'stderr'));
      this.sendEvent(new TerminatedEvent());
      return;
    }
    this.vars.reset();
    this.stops++;
    if (p.kind === 'end' && forward && (this.launchArgs as { noDebug?: boolean } | null)?.noDebug) {
      this.sendEvent(new TerminatedEvent());
      return;
    }
    const ev = new StoppedEvent(p.stop.reason, THREAD_ID, p.stop.text) as DebugProtocol.StoppedEvent;
    if (p.stop.description) ev.body.description = p.stop.description;
    if (this.refused && this.stops === 1) ev.body.description = `${this.refused}${ev.body.description ? `; ${ev.body.description}` : ''}`;
    if (p.stop.hitBreakpointIds?.length) ev.body.hitBreakpointIds = p.stop.hitBreakpointIds;
    ev.body.allThreadsStopped = true;
    this.sendEvent(ev);
  }

  private need(response: DebugProtocol.Response): DebugRuntime | null {
    if (!this.rt) { this.fail(response, 1002, 'no program is loaded: launch first'); return null; }
    return this.rt;
  }

  // ---- breakpoints

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const rt = this.need(response); if (!rt) return;
    const path = args.source.path ?? args.source.name ?? '';
    const res = rt.setSourceBreakpoints(path, (args.breakpoints ?? []).map((b) => ({ line: this.convertClientLineToDebugger(b.line), condition: b.condition, hitCondition: b.hitCondition, logMessage: b.logMessage })));
    response.body = {
      breakpoints: res.map((r) => {
        const bp = new Breakpoint(r.verified, r.line !== undefined ? this.convertDebuggerLineToClient(r.line) : undefined, undefined, new Source(basename(path), path)) as DebugProtocol.Breakpoint;
        bp.id = r.id;
        if (r.message) bp.message = r.message;
        return bp;
      }),
    };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    const rt = this.need(response); if (!rt) return;
    const res = rt.setFunctionBreakpoints(args.breakpoints.map((b) => ({ name: b.name, condition: b.condition, hitCondition: b.hitCondition })));
    response.body = { breakpoints: res.map((r) => ({ id: r.id, verified: r.verified, message: r.message })) };
    this.sendResponse(response);
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    const rt = this.need(response); if (!rt) return;
    const specs = args.breakpoints.map((b) => {
      const at = decodeInsnAddr(rt, b.instructionReference, b.offset ?? 0);
      return { program: at?.program.name ?? '?', pc: at?.pc ?? -1, condition: b.condition, hitCondition: b.hitCondition };
    });
    const res = rt.setInstructionBreakpoints(specs);
    response.body = {
      breakpoints: res.map((r, i) => {
        const ref = args.breakpoints[i]!.instructionReference;
        // a reference that names no program gets that said, not 'no instruction -1 in program ?'
        const message = specs[i]!.pc < 0 && specs[i]!.program === '?' ? `'${ref}' is not an instruction reference of this session (take one from a stack frame or the disassembly)` : r.message;
        return { id: r.id, verified: r.verified, message, line: r.line, instructionReference: ref };
      }),
    };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    const rt = this.need(response); if (!rt) return;
    const known = new Set(EXCEPTION_FILTERS.map((f) => f.filter));
    rt.setExceptionFilters(args.filters.filter((f) => known.has(f)));
    response.body = { breakpoints: args.filters.map((f) => ({ verified: known.has(f), message: known.has(f) ? undefined : `unknown exception filter '${f}'` })) };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    const rt = this.need(response); if (!rt) return;
    let watch: DataWatch | undefined;
    if (args.variablesReference) {
      const c = this.vars.get(args.variablesReference);
      watch = (c?.cache ?? c?.nodes())?.find((n) => n.name === args.name)?.watch;
    } else if (/^(sk_rcvlowat|rcv_nxt|copied_seq|wakeups|sk_rcvbuf|bpf_sock_ops_cb_flags|rcv_wnd|sk_rmem_alloc)$/.test(args.name)) {
      watch = { kind: 'sock', field: args.name };
    }
    response.body = watch
      ? { dataId: JSON.stringify(watch), description: watch.kind === 'sock' ? `socket ${watch.field}` : watch.name, accessTypes: ['write'], canPersist: true }
      : { dataId: null, description: `${args.name} cannot be watched: data breakpoints work on socket fields, ctx fields and map values` };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    const rt = this.need(response); if (!rt) return;
    const specs: { watch: DataWatch; condition?: string; hitCondition?: string }[] = [];
    const bad: number[] = [];
    args.breakpoints.forEach((b, i) => {
      try {
        // a persisted id (canPersist) may come from another version: only well-formed watches
        const w = JSON.parse(b.dataId) as DataWatch | null;
        const ok = !!w && typeof w === 'object' && (w.kind === 'sock' ? typeof w.field === 'string'
          : (w.kind === 'ctx' || (w.kind === 'map' && typeof w.map === 'string' && typeof w.keyHex === 'string'))
            && Number.isInteger(w.offset) && Number.isInteger(w.size) && w.size > 0 && typeof w.name === 'string');
        if (ok) specs.push({ watch: w, condition: b.condition, hitCondition: b.hitCondition }); else bad.push(i);
      } catch { bad.push(i); }
    });
    const res = rt.setDataBreakpoints(specs);
    let j = 0;
    response.body = { breakpoints: args.breakpoints.map((_, i) => (bad.includes(i) ? { verified: false, message: 'unknown data id' } : { id: res[j]!.id, verified: res[j]!.verified, message: res[j++]!.message })) };
    this.sendResponse(response);
  }

  // ---- execution

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: [new Thread(THREAD_ID, 'scenario')] };
    this.sendResponse(response);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    const rt = this.need(response); if (!rt) return;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    this.exec(() => rt.continue(), true);
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.stepping(response, 'over', args.granularity);
  }
  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.stepping(response, 'in', args.granularity);
  }
  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.stepping(response, 'out', args.granularity);
  }
  private stepping(response: DebugProtocol.Response, kind: 'in' | 'over' | 'out', g?: DebugProtocol.SteppingGranularity) {
    const rt = this.need(response); if (!rt) return;
    this.sendResponse(response);
    this.exec(() => rt.step(kind, g === 'instruction' ? 'instruction' : 'line'), true);
  }
  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    const rt = this.need(response); if (!rt) return;
    this.sendResponse(response);
    this.exec(() => rt.stepBack(args.granularity === 'instruction' ? 'instruction' : 'line'), false);
  }
  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    const rt = this.need(response); if (!rt) return;
    this.sendResponse(response);
    this.exec(() => rt.reverseContinue(), false);
  }
  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    // Runs are synchronous: a request is read when the run before it has stopped. During a long
    // forward run the adapter's input is polled (see `pauseSource`) and the run stops at the
    // instruction it is on, with its own stopped event; this is that request, answered after it.
    if (this.interrupted) {
      this.interrupted = false;
      this.sendResponse(response);
      return;
    }
    const at = this.rt?.paused;
    response.success = false;
    response.message = at
      ? `already stopped (${at.kind === 'end' ? 'end of the scenario' : whereText(at)}): the run had finished before this pause was read; runs are bounded by the instruction budget, and a long one stops at the next instruction when pause arrives while it runs`
      : 'nothing is running';
    this.sendResponse(response);
  }

  /** Set by the runtime's interrupt check when it saw a pause request in the input. */
  private interrupted = false;

  /**
   * Where pause requests can be seen while a run holds the thread: a function that returns the
   * bytes that have arrived since it was last called (and hands them on to the protocol reader
   * itself), or null. Without it, pause answers that runs finish first.
   */
  setPauseSource(poll: () => Uint8Array | null): void {
    this.pollInput = poll;
  }
  private pollInput: (() => Uint8Array | null) | null = null;
  private pending = '';

  private pauseRequested(): boolean {
    const poll = this.pollInput;
    if (!poll) return false;
    const b = poll();
    if (!b || !b.length) return false;
    this.pending = (this.pending + Buffer.from(b).toString('utf8')).slice(-8192);
    if (/"command"\s*:\s*"pause"/.test(this.pending)) {
      this.pending = '';
      this.interrupted = true;
      return true;
    }
    return false;
  }

  // ---- state

  /** The Source of a line-info file name: its path when the policy lets it be shown; else a
   *  deemphasized Source that names where it is and why it is not shown (said once in the console). */
  private resolveSource(file: string | undefined): Source | undefined {
    if (!file) return undefined;
    let at = this.sourceCache.get(file);
    if (!this.sourceCache.has(file)) {
      at = this.policy.find(file, this.sourceDirs);
      this.sourceCache.set(file, at ?? null);
    }
    if (!at) return new Source(basename(file), file); // found nowhere: the editor says it cannot open it
    if ('path' in at) return new Source(basename(at.path), at.path);
    const note = this.policy.noteOnce(at);
    if (note) this.sendEvent(new OutputEvent(`${note}\n`, 'console'));
    const src = new Source(`${at.refused} (not shown)`) as DebugProtocol.Source;
    src.presentationHint = 'deemphasize';
    src.origin = `not shown: ${at.why}`;
    return src as Source;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const rt = this.need(response); if (!rt) return;
    const at = rt.paused;
    if (!at) { response.body = { stackFrames: [], totalFrames: 0 }; this.sendResponse(response); return; }
    const base = this.stops * FRAME_STRIDE;
    const all = frames(rt, at).map((f, i) => {
      const sf = new StackFrame(base + i + 1, f.name, f.synthetic ? undefined : this.resolveSource(f.file), f.line ?? 0, f.col ?? 0) as DebugProtocol.StackFrame;
      // the event frame under real ones is a label; alone (a step boundary, the end) it is the
      // frame whose scopes the Variables view shows, so it must stay selectable
      if (f.synthetic && at.kind === 'insn') sf.presentationHint = 'label';
      if (f.program !== undefined && f.pc !== undefined) {
        const p = rt.programs.find((x) => x.name === f.program)!;
        sf.instructionPointerReference = insnAddr(rt, p, f.pc);
      }
      return sf;
    });
    const start = Math.max(0, args.startFrame ?? 0);
    const n = args.levels && args.levels > 0 ? args.levels : all.length;
    response.body = { stackFrames: all.slice(start, start + n), totalFrames: all.length };
    this.sendResponse(response);
  }

  /** Why `frameId` names no frame of the current stop, or null when it does. */
  private staleFrame(rt: DebugRuntime, at: Paused, frameId: number): string | null {
    const i = frameId - this.stops * FRAME_STRIDE - 1;
    if (i >= 0 && i < frames(rt, at).length) return null;
    return `frame ${frameId} is not a frame of this stop: frame ids last until the program moves (step, continue, step back); ask for the stack trace again`;
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const rt = this.need(response); if (!rt) return;
    const at = rt.paused;
    if (!at) { this.fail(response, 1012, 'not stopped: there are no frames'); return; }
    const stale = this.staleFrame(rt, at, args.frameId);
    // a frame of an earlier stop (the view asked before it saw the newer stop): no scopes, no error
    // text in the Variables view; it asks again for the new stop's frames
    if (stale && args.frameId >= 1 && args.frameId <= this.stops * FRAME_STRIDE) { response.body = { scopes: [] }; this.sendResponse(response); return; }
    if (stale) { this.fail(response, 1013, stale); return; }
    const frame = args.frameId - this.stops * FRAME_STRIDE - 1;
    const list = scopes(rt, at, (fn) => rt.addEdit(fn), frame);
    response.body = {
      scopes: list.map((s) => {
        const sc = new DapScope(s.name, this.vars.create({ nodes: s.nodes, path: [s.name], frame }), !!s.expensive) as DebugProtocol.Scope;
        if (s.presentationHint) sc.presentationHint = s.presentationHint;
        return sc;
      }),
    };
    this.sendResponse(response);
  }

  private toVariable(n: VarNode, c: Container): DebugProtocol.Variable {
    const v: DebugProtocol.Variable = { name: n.name, value: n.value, variablesReference: n.children ? this.vars.create({ nodes: n.children, path: [...c.path, n.name], frame: c.frame }) : 0 };
    if (n.type) v.type = n.type;
    if (n.memoryReference) v.memoryReference = n.memoryReference;
    if (n.evaluateName) v.evaluateName = n.evaluateName;
    if (!n.set) v.presentationHint = { attributes: ['readOnly'] };
    return v;
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const c = this.vars.get(args.variablesReference);
    if (!c && this.vars.earlier(args.variablesReference)) { response.body = { variables: [] }; this.sendResponse(response); return; }
    if (!c) { this.fail(response, 1014, this.staleRef(args.variablesReference)); return; }
    try {
      c.cache = c.nodes();
      let list = c.cache;
      if (args.start !== undefined || args.count) list = list.slice(args.start ?? 0, args.count ? (args.start ?? 0) + args.count : undefined);
      response.body = { variables: list.map((n) => this.toVariable(n, c)) };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, 1003, `cannot show these variables: ${(e as Error).message}`);
    }
  }

  private staleRef(ref: number): string {
    return `variablesReference ${ref} is not valid at this stop: references last until the program moves (step, continue, step back, setVariable); ask for the scopes again`;
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    const rt = this.need(response); if (!rt) return;
    const c = this.vars.get(args.variablesReference);
    if (!c) { this.fail(response, 1014, this.staleRef(args.variablesReference), true); return; }
    const node = (c.cache ?? c.nodes()).find((n) => n.name === args.name);
    if (!node) { this.fail(response, 1004, `no variable '${args.name}' here`, true); return; }
    const what = node.evaluateName ?? args.name;
    if (!node.set) { this.fail(response, 1005, `${what} is read-only: ${node.readOnly ?? 'the kernel does not let a program write it'}`, true); return; }
    try {
      // the one range check of every settable place (../runtime/assign.ts): refused, never truncated
      const v = assignValue(node.set.target, args.value, (text) => rt.evaluate(text, c.frame));
      node.set.write(v);
      rt.refresh();
      // re-read the same variable in the refreshed state, by its path from the scope
      const again = this.findAgain(rt, [...c.path, args.name], c.frame);
      this.vars.reset();
      response.body = { value: again?.value ?? String(v) };
      this.sendResponse(response);
      this.sendEvent(new InvalidatedEvent(['variables']));
    } catch (e) {
      this.fail(response, 1006, `cannot set ${what}: ${(e as Error).message}`, true);
    }
  }

  private findAgain(rt: DebugRuntime, path: string[], frame: number): VarNode | undefined {
    const at = rt.paused;
    if (!at) return undefined;
    const sc = scopes(rt, at, (fn) => rt.addEdit(fn), frame).find((x) => x.name === path[0]);
    let nodes = sc?.nodes();
    let node: VarNode | undefined;
    for (const name of path.slice(1)) {
      node = nodes?.find((n) => n.name === name);
      nodes = node?.children?.();
    }
    return node;
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    const rt = this.need(response); if (!rt) return;
    if (!rt.paused) { this.fail(response, 1007, 'not stopped'); return; }
    const stale = args.frameId !== undefined ? this.staleFrame(rt, rt.paused, args.frameId) : null;
    if (stale) { this.fail(response, 1013, stale, args.context === 'repl'); return; }
    try {
      const frame = args.frameId !== undefined ? args.frameId - this.stops * FRAME_STRIDE - 1 : 0;
      const n = rt.evaluateNode(args.expression, frame);
      response.body = { result: n.value, variablesReference: n.children ? this.vars.create({ nodes: n.children, path: ['(evaluate)', args.expression], frame }) : 0 };
      if (n.type) response.body.type = n.type;
      if (n.memoryReference) response.body.memoryReference = n.memoryReference;
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, 1008, (e as Error).message, args.context === 'repl');
    }
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): void {
    const rt = this.need(response); if (!rt) return;
    const at = rt.paused;
    const fault = at?.stop.description?.startsWith('guest fault');
    response.body = {
      exceptionId: fault ? 'fault' : 'helper-error',
      description: `${at?.stop.description ?? ''} at ${at ? whereText(at) : '?'}`,
      breakMode: 'always',
    };
    this.sendResponse(response);
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    const rt = this.need(response); if (!rt) return;
    if (args.instructionCount > MAX_DISASSEMBLE) { this.fail(response, 1015, `disassemble: ${args.instructionCount} instructions asked at once; ask for at most ${MAX_DISASSEMBLE} per request`); return; }
    try {
      response.body = { instructions: disassemble(rt, args.memoryReference, args.offset ?? 0, args.instructionOffset ?? 0, args.instructionCount, (f) => this.resolveSource(f)) };
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, 1009, (e as Error).message);
    }
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const rt = this.need(response); if (!rt) return;
    const regions = rt.paused?.regions ?? [];
    let base: bigint;
    try {
      if (!args.memoryReference.trim()) throw new Error('empty'); // BigInt('') is 0n
      base = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
    } catch { this.fail(response, 1010, `bad memory reference '${args.memoryReference}': write an address such as 0x1f000`); return; }
    if (base < 0n || base >= 1n << 64n) { this.fail(response, 1010, `address ${base} (${args.memoryReference} + ${args.offset ?? 0}) is outside the 64-bit address space`); return; }
    // the readable prefix, a region at a time (regions may abut); the rest is unreadable
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < args.count) {
      const r = regionOf(regions, base + BigInt(got));
      if (!r) break;
      const part = r.region.bytes.subarray(r.offset, r.offset + Math.min(args.count - got, r.region.bytes.length - r.offset));
      parts.push(part);
      got += part.length;
    }
    response.body = { address: '0x' + base.toString(16), data: Buffer.concat(parts).toString('base64') };
    if (got < args.count) response.body.unreadableBytes = args.count - got;
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  override shutdown(): void {
    this.onEnd();
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.rt = null;
    this.sendResponse(response);
  }
}
