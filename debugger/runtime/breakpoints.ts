// Breakpoints of every kind as the runtime keeps them: source lines (moved to the next line with
// code, saying why), functions and helper/kfunc calls, instructions, data watches, exception
// filters; hit-count syntax; the configuration version checkpoints' hit counts belong to.
import type { BpfProgram } from '../object/types';
import { ExprError } from '../expr/index';
import { parseC } from '../expr/c';
import { BUILTIN_TYPES } from '../expr/ctypes';
import { fileMatch, lineAt } from './lines';
import type { StopReason } from './runtime';

const CALL = 0x85;

export interface SourceBreakpointSpec { line: number; condition?: string; hitCondition?: string; logMessage?: string }
export interface BreakpointResult { id: number; verified: boolean; line?: number; message?: string }
export interface FunctionBreakpointSpec { name: string; condition?: string; hitCondition?: string }
export interface InstructionBreakpointSpec { program: string; pc: number; condition?: string; hitCondition?: string }
export type DataWatch =
  | { kind: 'sock'; field: string }
  | { kind: 'ctx'; offset: number; size: number; name: string }
  | { kind: 'map'; map: string; keyHex: string; offset: number; size: number; name: string };

export const EXCEPTION_FILTERS = [
  { filter: 'fault', label: 'Guest fault', description: 'Stop at the instruction that faults (bad memory access, budget, ...).', default: true },
  { filter: 'helper-error', label: 'Helper returned an error', description: 'Stop after a helper or kfunc call that returned a negative errno.', default: false },
];

export interface Bp {
  id: number;
  kind: 'line' | 'function' | 'instruction';
  reason: StopReason;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  hits: number;
  /** program -> pcs where this breakpoint triggers */
  at: Map<BpfProgram, number[]>;
}

/** Hit-condition syntax: 'N' (the Nth hit), '>= N', '> N', '== N', '< N', '<= N', '% N' (every Nth). */
export function hitMatches(cond: string, hits: number): boolean {
  const m = /^\s*(>=|<=|==|>|<|%)?\s*(\d+)\s*$/.exec(cond);
  if (!m) throw new Error(`hit count '${cond}' is not understood: write N, >= N, > N, == N, < N, <= N or % N`);
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=': return hits >= n;
    case '<=': return hits <= n;
    case '>': return hits > n;
    case '<': return hits < n;
    case '%': return n > 0 && hits % n === 0;
    default: return hits === n;
  }
}

export function safeHit(cond: string, hits: number): boolean {
  try { return hitMatches(cond, hits); } catch { return true; }
}

/** A watched value as the stop says it: ctx and map bytes as a little-endian number (and hex). */
export function shownWatch(w: DataWatch, v: string): string {
  if (w.kind === 'sock') return v;
  const h = w.kind === 'ctx' ? v.slice(v.indexOf(':') + 1) : v;
  if (!/^([0-9a-f]{2}){1,8}$/.test(h)) return h;
  let n = 0n;
  for (let i = h.length - 2; i >= 0; i -= 2) n = (n << 8n) | BigInt(parseInt(h.slice(i, i + 2), 16));
  return n < 10n ? `${n}` : `${n} (0x${n.toString(16)})`;
}

/** What the breakpoint table needs to know of the object and its sources. */
export interface BreakpointContext {
  programs: BpfProgram[];
  objectFile: string;
  callName(p: BpfProgram, pc: number): string | undefined;
  isType(name: string): boolean;
  movedWhy(path: string, from: number, to: number, score: number): string;
}

export interface Watch { id: number; watch: DataWatch; condition?: string; hitCondition?: string; hits: number }

export class Breakpoints {
  readonly bps = new Map<number, Bp>();
  private sourceBps = new Map<string, number[]>(); // source path -> bp ids
  private functionBps: number[] = [];
  private instructionBps: number[] = [];
  private nextId = 1;
  exceptionFilters = new Set<string>(['fault']);
  watches: Watch[] = [];
  /** Bumped at every change: hit counts belong to one configuration. */
  version = 0;

  constructor(private readonly cx: BreakpointContext) {}

  /** Whether a hit condition reads the counts (only then do counts of another configuration matter). */
  counted(): boolean {
    return [...this.bps.values()].some((b) => b.hitCondition) || this.watches.some((w) => w.hitCondition);
  }

  setSource(path: string, specs: SourceBreakpointSpec[]): BreakpointResult[] {
    this.version++;
    for (const id of this.sourceBps.get(path) ?? []) this.bps.delete(id);
    const ids: number[] = [];
    const results = specs.map((s) => {
      const id = this.nextId++;
      ids.push(id);
      // best-matching file name among line_info entries
      let bestScore = 0;
      for (const p of this.cx.programs) for (const li of p.lineInfo) bestScore = Math.max(bestScore, fileMatch(li.file, path));
      if (bestScore === 0) return { id, verified: false, message: `no code from ${path} in ${this.cx.objectFile} (line info names ${[...new Set(this.cx.programs.flatMap((p) => p.lineInfo.map((l) => l.file)))].join(', ') || 'no files: build with -g'})` };
      const linesWithCode = new Set<number>();
      for (const p of this.cx.programs) for (const li of p.lineInfo) if (fileMatch(li.file, path) === bestScore) linesWithCode.add(li.line);
      let line = s.line;
      if (!linesWithCode.has(line)) {
        const sorted = [...linesWithCode].sort((a, b) => a - b);
        line = sorted.find((l) => l > s.line) ?? sorted[sorted.length - 1] ?? s.line;
      }
      const at = new Map<BpfProgram, number[]>();
      for (const p of this.cx.programs) {
        const pcs: number[] = [];
        let prevLine = -1;
        for (const li of p.lineInfo) {
          // one stop per entry into the line: skip consecutive entries of the same line
          if (fileMatch(li.file, path) === bestScore && li.line === line && prevLine !== line) pcs.push(li.pc);
          prevLine = li.line;
        }
        if (pcs.length) at.set(p, pcs);
      }
      this.bps.set(id, { id, kind: 'line', reason: 'breakpoint', condition: s.condition, hitCondition: s.hitCondition, logMessage: s.logMessage, hits: 0, at });
      const err = this.checkCondition(s.condition) ?? this.checkHit(s.hitCondition);
      if (err) return { id, verified: false, line, message: err };
      return { id, verified: true, line, message: line !== s.line ? this.cx.movedWhy(path, s.line, line, bestScore) : undefined };
    });
    this.sourceBps.set(path, ids);
    return results;
  }

  checkCondition(cond?: string): string | undefined {
    if (!cond) return undefined;
    try { parseC(cond, (n) => n in BUILTIN_TYPES || this.cx.isType(n)); } catch (e) { if (e instanceof ExprError) return `condition: ${e.message}`; }
    return undefined;
  }
  checkHit(h?: string): string | undefined {
    if (!h) return undefined;
    try { hitMatches(h, 0); } catch (e) { return (e as Error).message; }
    return undefined;
  }

  /** Names a function breakpoint accepts: BPF functions, and helper/kfunc names (stop before the call). */
  setFunction(specs: FunctionBreakpointSpec[]): BreakpointResult[] {
    this.version++;
    for (const id of this.functionBps) this.bps.delete(id);
    this.functionBps = [];
    return specs.map((s) => {
      const id = this.nextId++;
      this.functionBps.push(id);
      const at = new Map<BpfProgram, number[]>();
      for (const p of this.cx.programs) {
        const pcs: number[] = [];
        for (const f of p.funcs) if (f.name === s.name) pcs.push(f.startPc);
        for (let pc = 0; pc < p.insns.length; pc++) {
          const insn = p.insns[pc]!;
          // helper and kfunc calls: stop before the call (a BPF function stops at its entry)
          if (insn.code !== CALL || insn.src === 1) continue;
          if (this.cx.callName(p, pc) === s.name) pcs.push(pc);
        }
        if (pcs.length) at.set(p, [...new Set(pcs)]);
      }
      this.bps.set(id, { id, kind: 'function', reason: 'function breakpoint', condition: s.condition, hitCondition: s.hitCondition, hits: 0, at });
      if (at.size === 0) return { id, verified: false, message: `'${s.name}' is neither a function of ${this.cx.objectFile} nor a helper/kfunc it calls` };
      return { id, verified: true, message: this.checkCondition(s.condition) ?? this.checkHit(s.hitCondition) };
    });
  }

  setInstruction(specs: InstructionBreakpointSpec[]): BreakpointResult[] {
    this.version++;
    for (const id of this.instructionBps) this.bps.delete(id);
    this.instructionBps = [];
    return specs.map((s) => {
      const id = this.nextId++;
      this.instructionBps.push(id);
      const p = this.cx.programs.find((x) => x.name === s.program);
      if (!p || s.pc < 0 || s.pc >= p.insns.length) return { id, verified: false, message: `no instruction ${s.pc} in program ${s.program}` };
      this.bps.set(id, { id, kind: 'instruction', reason: 'instruction breakpoint', condition: s.condition, hitCondition: s.hitCondition, hits: 0, at: new Map([[p, [s.pc]]]) });
      return { id, verified: true, line: lineAt(p, s.pc)?.line };
    });
  }

  setData(specs: { watch: DataWatch; condition?: string; hitCondition?: string }[]): BreakpointResult[] {
    this.version++;
    this.watches = specs.map((s) => ({ id: this.nextId++, watch: s.watch, condition: s.condition, hitCondition: s.hitCondition, hits: 0 }));
    return this.watches.map((w) => ({ id: w.id, verified: true, message: this.checkCondition(w.condition) ?? this.checkHit(w.hitCondition) }));
  }
}
