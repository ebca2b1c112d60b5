// Inlined C functions inside a BPF function. BTF line_info maps each instruction to a source line
// and nothing more; the C function extents of the source (./cfuncs.ts) say which function a line
// belongs to. A line of function F executed inside the BPF function B (F != B) is code of F inlined
// into B. The chain of inlined calls is followed while the program runs (InlineTracker): a line
// of a function already on the chain returns to it; a line of a new function enters it, through
// the static call graph when that names a single path. Nothing is shown where the extents are
// silent: lines without a known function (line 0, another file, no source) keep the chain as is.
import { readTextBounded } from '../../io/files';
import type { SourcePolicy } from './source-policy';
import type { BpfProgram } from '../object/types';
import { type CFunc, funcOfLine, scanCFunctions } from './cfuncs';
import { funcAt, lineAt } from './lines';

/** A C function of some source file, numbered across files. */
export interface CFuncRef extends CFunc {
  id: number;
  file: string; // the line_info file name
}

/** What a runtime knows of the sources of its object: functions by id, and per program a table. */
export class SourceFuncs {
  readonly funcs: CFuncRef[] = [];
  private byFile = new Map<string, CFuncRef[] | null>();
  readonly notes: string[] = [];
  /** Static caller -> callees by id (a name resolves in the caller's file first), built on demand. */
  private callees = new Map<number, Set<number>>();

  private calleesOf(id: number): Set<number> {
    let s = this.callees.get(id);
    if (!s) {
      const f = this.funcs[id]!;
      s = new Set();
      for (const c of f.calls) {
        const same = this.funcs.find((x) => x.name === c.name && x.file === f.file);
        const any = same ?? this.funcs.find((x) => x.name === c.name);
        if (any && any.id !== id) s.add(any.id);
      }
      this.callees.set(id, s);
    }
    return s;
  }

  constructor(private readonly read: (file: string) => SourceRead) {}

  /** The functions of a line_info file (null when the source cannot be read or does not match). */
  fileFuncs(file: string, lineTexts: Map<number, string>): CFuncRef[] | null {
    if (this.byFile.has(file)) return this.byFile.get(file)!;
    let list: CFuncRef[] | null = null;
    const src = this.read(file);
    if (!src) {
      this.notes.push(`bpf-sockops: ${file} not found: inlined functions are not shown and step over follows lines only`);
    } else if ('note' in src) {
      // not read by the source policy: said once, with what follows from it
      if (src.note) this.notes.push(`${src.note}. Inlined functions of it are not shown and step over follows lines only`);
    } else {
      const lines = src.text.split('\n');
      // the object's line_info carries each line's text: a source edited since the build is not used
      let bad = 0, firstBad = 0;
      for (const [ln, t] of lineTexts) {
        if (!t) continue;
        if ((lines[ln - 1] ?? '').trim() !== t.trim()) { if (!bad) firstBad = ln; bad++; }
      }
      if (bad) {
        this.notes.push(`bpf-sockops: ${src.path} differs from the object's line info (line ${firstBad} and ${bad - 1} more): rebuild it; until then inlined functions are not shown and step over follows lines only`);
      } else {
        const base = this.funcs.length;
        list = scanCFunctions(src.text).map((f, i) => ({ ...f, id: base + i, file }));
        this.funcs.push(...list);
        this.callees.clear(); // calls may now resolve to this file's functions
      }
    }
    this.byFile.set(file, list);
    return list;
  }

  /**
   * The functions entered on the way from `from` to `to` (to included, from excluded) when the
   * static call graph has exactly one shortest path avoiding `avoid` (real BPF functions);
   * [to] when there are several (the intermediates are unknown), null when there is none.
   */
  callPath(from: number, to: number, avoid: ReadonlySet<number>): number[] | null {
    const prev = new Map<number, number>([[from, -1]]);
    const count = new Map<number, number>([[from, 1]]);
    let layer = [from];
    while (layer.length && !prev.has(to)) {
      const next: number[] = [];
      for (const u of layer) {
        for (const v of this.calleesOf(u)) {
          if (v !== to && avoid.has(v)) continue;
          if (!prev.has(v)) { prev.set(v, u); count.set(v, count.get(u)!); next.push(v); } else if (next.includes(v)) count.set(v, count.get(v)! + count.get(u)!);
        }
      }
      layer = next;
    }
    if (!prev.has(to)) return null;
    if (count.get(to)! > 1) return [to];
    const path: number[] = [];
    for (let v = to; v !== from; v = prev.get(v)!) path.unshift(v);
    return path;
  }

  /** The line of the single call from `caller` to `callee`, if there is exactly one. */
  callLine(caller: number, callee: number): number | undefined {
    const name = this.funcs[callee]?.name;
    const sites = this.funcs[caller]?.calls.filter((c) => c.name === name) ?? [];
    return sites.length === 1 ? sites[0]!.line : undefined;
  }
}

/** Per program: the C function of each pc (-1 unknown) and of each BPF function's entry. */
export interface ProgInline {
  prog: BpfProgram;
  line: Int32Array;
  cfunc: Int32Array;
  /** cfunc id of the BPF function that contains pc (-1 unknown). */
  base: (pc: number) => number;
  /** cfunc ids of the program's real BPF functions. */
  real: Set<number>;
  src: SourceFuncs;
}

export function progInline(prog: BpfProgram, src: SourceFuncs, line: Int32Array): ProgInline {
  const cfunc = new Int32Array(prog.insns.length).fill(-1);
  const texts = new Map<string, Map<number, string>>();
  for (const li of prog.lineInfo) {
    let m = texts.get(li.file);
    if (!m) { m = new Map(); texts.set(li.file, m); }
    if (li.text && !m.has(li.line)) m.set(li.line, li.text);
  }
  for (let pc = 0; pc < cfunc.length; pc++) {
    if (!line[pc]) continue;
    const li = lineAt(prog, pc);
    if (!li) continue;
    const list = src.fileFuncs(li.file, texts.get(li.file)!);
    if (!list) continue;
    const i = funcOfLine(list, li.line);
    if (i >= 0) cfunc[pc] = list[i]!.id;
  }
  // a BPF function's C definition: by name in the files of its lines, else the function of its first line
  const baseOf = new Map<number, number>();
  const real = new Set<number>();
  for (const f of prog.funcs) {
    let id = -1;
    for (let pc = f.startPc; pc < f.endPc && id < 0; pc++) {
      const c = cfunc[pc]!;
      if (c >= 0) {
        const file = src.funcs[c]!.file;
        id = src.funcs.find((x) => x.file === file && x.name === f.name)?.id ?? -1;
      }
    }
    if (id < 0) for (let pc = f.startPc; pc < f.endPc && id < 0; pc++) if (cfunc[pc]! >= 0) id = cfunc[pc]!;
    baseOf.set(f.startPc, id);
    if (id >= 0) real.add(id);
  }
  return { prog, line, cfunc, real, src, base: (pc) => { const f = funcAt(prog, pc); return f ? baseOf.get(f.startPc) ?? -1 : -1; } };
}

/** One BPF frame's chain of C functions: chain[0] the BPF function, then the inlined ones. */
export interface InlineFrame {
  chain: number[];
  /** Last line executed at each level (0: none yet), parallel to chain. */
  lines: number[];
}

/** Follows the inline chains of every BPF frame of one program run, one instruction at a time. */
export class InlineTracker {
  frames: InlineFrame[] = [];
  constructor(readonly info: ProgInline) {}

  visit(depth: number, pc: number): void {
    const fr = this.frames;
    while (fr.length > depth) fr.pop();
    while (fr.length < depth) fr.push({ chain: [this.info.base(pc)], lines: [0] });
    const line = this.info.line[pc]!;
    if (!line) return;
    const f = fr[depth - 1]!;
    const id = this.info.cfunc[pc]!;
    if (id < 0) return;
    const { chain, lines } = f;
    const top = chain.length - 1;
    if (chain[top] === id) { lines[top] = line; return; }
    const at = chain.lastIndexOf(id);
    if (at >= 0) {
      chain.length = at + 1; lines.length = at + 1;
      lines[at] = line;
      return;
    }
    // a new function: entered from the deepest level that calls it
    for (let j = top; j >= 0; j--) {
      const from = chain[j]!;
      if (from < 0) continue;
      const path = this.info.src.callPath(from, id, this.info.real);
      if (!path) continue;
      chain.length = j + 1; lines.length = j + 1;
      for (const p of path) { chain.push(p); lines.push(0); }
      lines[lines.length - 1] = line;
      return;
    }
    // no static call reaches it (a call through a macro?): shown on top of the current chain
    chain.push(id); lines.push(line);
  }

  /** Length of the inline chain of the BPF frame at `depth` (1 when nothing is inlined). */
  len(depth: number): number {
    return this.frames[depth - 1]?.chain.length ?? 1;
  }

  snapshot(): InlineFrame[] {
    return this.frames.map((f) => ({ chain: f.chain.slice(), lines: f.lines.slice() }));
  }
}

/** What a source reader answers: the text, a source not shown (with the console line, the first time), or nothing found. */
export type SourceRead = { path: string; text: string } | { note: string | null } | null;

/** Reads a line_info file name from the first of `dirs` where it (or its base name) exists, when
 *  `policy` allows it (./source-policy.ts: only under the folders the user chose). */
export function sourceReader(dirs: () => string[], policy: () => SourcePolicy): (file: string) => SourceRead {
  return (file) => {
    const at = policy().find(file, dirs());
    if (!at) return null;
    if ('refused' in at) return { note: policy().noteOnce(at) };
    // a FIFO, a device or a huge file is never read (io/files); `within` checks again at the open
    try { return { path: at.path, text: readTextBounded(at.path, 'source', { within: policy().dirs }).text }; } catch { return null; }
  };
}
