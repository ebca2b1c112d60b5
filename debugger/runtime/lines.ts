// Source-line lookups over BTF line_info: pc -> file:line, line -> pcs, function of a pc.
import type { BpfProgram, FuncInfo, LineInfo } from '../object/types';

export function funcAt(prog: BpfProgram, pc: number): FuncInfo | undefined {
  for (const f of prog.funcs) if (pc >= f.startPc && pc < f.endPc) return f;
  return undefined;
}

/** The line_info entry that covers pc: the last one at or before pc inside pc's function. */
export function lineAt(prog: BpfProgram, pc: number): LineInfo | undefined {
  const li = prog.lineInfo;
  let lo = 0, hi = li.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (li[mid]!.pc <= pc) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  if (best < 0) return undefined;
  const f = funcAt(prog, pc);
  const e = li[best]!;
  if (f && e.pc < f.startPc) return undefined;
  return e.line > 0 ? e : undefined;
}

/** Per-pc line numbers (0 = unknown), for the hot stepping loop. */
export function lineTable(prog: BpfProgram): Int32Array {
  const t = new Int32Array(prog.insns.length);
  for (let pc = 0; pc < t.length; pc++) t[pc] = lineAt(prog, pc)?.line ?? 0;
  return t;
}

function norm(p: string): string {
  return p.replace(/\\/g, '/').replace(/\/\.\//g, '/');
}

/** How well a line_info file name matches a source path the editor sent: 2 exact or suffix, 1 same basename, 0 no. */
export function fileMatch(lineFile: string, path: string): number {
  const a = norm(lineFile), b = norm(path);
  if (a === b || b.endsWith('/' + a) || a.endsWith('/' + b)) return 2;
  const base = (s: string) => s.slice(s.lastIndexOf('/') + 1);
  return base(a) === base(b) ? 1 : 0;
}
