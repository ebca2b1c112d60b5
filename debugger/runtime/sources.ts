// What the runtime knows of the object's source lines: per-pc line tables (BTF line_info with
// DWARF's line-0 ranges cleared), the C functions inlined at each pc (./inline.ts) and why a line
// breakpoint had to move.
import type { BpfObject, BpfProgram } from '../object/types';
import { fileMatch, lineTable } from './lines';
import { lineZero } from './dwarfline';
import { type ProgInline, progInline, SourceFuncs, sourceReader } from './inline';
import { SourcePolicy } from './source-policy';

export class Sources {
  private lines = new Map<BpfProgram, Int32Array>();
  private sources: SourceFuncs | null = null;
  private inlines = new Map<BpfProgram, ProgInline>();

  /** Which sources may be read (./source-policy.ts); without one, those under `sourceDirs`. */
  readonly policy: SourcePolicy;

  constructor(private readonly object: BpfObject, private readonly objectBytes: Uint8Array | undefined, private readonly sourceDirs: string[], private readonly out: (text: string, category?: 'console') => void, policy?: SourcePolicy) {
    this.policy = policy ?? new SourcePolicy(sourceDirs.map((dir) => ({ dir, why: 'a source folder' })));
  }

  private reader() {
    return sourceReader(() => this.sourceDirs, () => this.policy);
  }

  private get programs(): BpfProgram[] { return this.object.programs; }

  /** Per-pc lines (0 = none): BTF line_info, with the DWARF line-0 ranges cleared (./dwarfline.ts). */
  lineTableOf(prog: BpfProgram): Int32Array {
    let t = this.lines.get(prog);
    if (!t) {
      t = lineTable(prog);
      const z = this.lineZeroOf(prog);
      if (z) for (let pc = 0; pc < t.length; pc++) if (z[pc]) t[pc] = 0;
      this.lines.set(prog, t);
    }
    return t;
  }

  private zeroMasks: Map<string, Uint8Array> | null | undefined;
  lineZeroOf(prog: BpfProgram): Uint8Array | undefined {
    if (this.zeroMasks === undefined) {
      this.zeroMasks = null;
      const bytes = this.objectBytes;
      if (bytes) {
        const r = lineZero(bytes, this.object);
        if ('error' in r) this.out(`bpf-sockops: ${this.object.file}: ${r.error}; code the compiler shared between statements shows the line before it\n`, 'console');
        else this.zeroMasks = r.masks;
      }
    }
    return this.zeroMasks?.get(prog.name);
  }

  /** C functions per pc of a program, from its sources (inlined functions; see ./inline.ts). */
  inlineOf(prog: BpfProgram): ProgInline {
    let p = this.inlines.get(prog);
    if (!p) {
      if (!this.sources) this.sources = new SourceFuncs(this.reader());
      const before = this.sources.notes.length;
      p = progInline(prog, this.sources, this.lineTableOf(prog));
      for (const n of this.sources.notes.slice(before)) this.out(`${n}\n`, 'console');
      this.inlines.set(prog, p);
    }
    return p;
  }

  get sourceFuncs(): SourceFuncs | null { return this.sources; }

  /** Why a line breakpoint moved, in the user's terms: the line has no instruction of its own. */
  movedWhy(path: string, from: number, to: number, score: number): string {
    const li = this.programs.flatMap((p) => p.lineInfo).find((l) => l.line === to && fileMatch(l.file, path) === score);
    const text = li?.text ? ` (\`${li.text.trim().slice(0, 60)}\`)` : '';
    // a statement whose code is not on its line, in an object with shared code (DWARF line 0):
    // clang merged it with the same code of other statements (a tail-merged call, a common return)
    const read = this.reader()(path);
    const src = read && 'text' in read ? read.text.split('\n')[from - 1] ?? '' : '';
    const statement = /[;)]\s*(\/\/.*|\/\*.*\*\/)?\s*$/.test(src) && /\w/.test(src);
    const shared = this.programs.some((p) => { const z = this.lineZeroOf(p); return !!z && z.includes(1); });
    const why = statement && shared
      ? `the compiler merged line ${from}'s code with the same code of other lines (shared code, which DWARF puts on line 0 and BTF on no line), so no instruction is its own`
      : `line ${from} has no instruction of its own (a declaration, a comment, or code the compiler removed or folded into another line)`;
    return `moved from line ${from} to line ${to}${text}, the next line with code: ${why}; it stops whenever line ${to} runs`;
  }
}
