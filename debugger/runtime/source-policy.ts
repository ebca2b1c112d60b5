// Which source files the debugger reads and shows. The object's line info (BTF, DWARF) names its
// sources, and the object is not the user: it could name /etc/shadow, a device or a file of
// another project. A source is read (inlined functions, why a breakpoint moved) and shown (a
// stack frame's Source path, which the editor opens) only when, after following symlinks, it is a
// regular file under a folder the user chose: the launch configuration's "cwd" (the workspace),
// the program's folder, the scenario's folder, or a folder of the launch attribute
// "sourceRoots". Any other is named where it is, with why it is not shown, once in the console.
import { realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { isUnder, realRoot } from '../../io/files';

/** A folder sources may be read from, and why (for messages). */
export interface SourceRoot {
  dir: string;
  /** 'the launch configuration\'s "cwd"', 'the program\'s folder', '"sourceRoots"' */
  why: string;
}

/** Where a line-info file name is: a readable source, one that is not shown (and why), or nowhere. */
export type SourceLookup = { path: string } | { refused: string; why: string } | null;

export class SourcePolicy {
  private readonly real: { dir: string; why: string }[];
  private readonly told = new Set<string>();

  constructor(readonly roots: readonly SourceRoot[]) {
    this.real = roots.map((r) => ({ dir: realRoot(r.dir), why: r.why }));
  }

  /** The roots' folders (for io/files' `within`). */
  get dirs(): string[] {
    return this.roots.map((r) => r.dir);
  }

  /** Whether a real (symlink-free) path lies under a root. */
  private inside(real: string): boolean {
    return this.real.some((r) => isUnder(r.dir, real));
  }

  /** The folders, for messages: 'the launch configuration's "cwd" (/w), the program's folder (/w/x)'. */
  rootsText(): string {
    return this.roots.map((r) => `${r.why} (${r.dir})`).join(', ') || 'none';
  }

  /**
   * Find line-info file name `file` in `searchDirs` (an absolute name first, then each folder with
   * the name and with its base name): the first regular file under a root; else the first one
   * found that is not shown, with why; else null.
   */
  find(file: string, searchDirs: readonly string[]): SourceLookup {
    const cands = isAbsolute(file) ? [file] : [];
    for (const d of searchDirs) cands.push(resolve(d, file), resolve(d, basename(file)));
    let refused: { refused: string; why: string } | null = null;
    for (const c of cands) {
      let real: string;
      try { real = realpathSync(c); } catch { continue; }
      if (!this.inside(real)) {
        refused ??= { refused: c, why: `${real === c ? 'it' : `it resolves to ${real}, which`} is outside the folders sources are read from: ${this.rootsText()}` };
        continue;
      }
      let regular = false;
      try { regular = statSync(real).isFile(); } catch { /* vanished: not regular */ }
      if (!regular) { refused ??= { refused: c, why: 'it is not a regular file' }; continue; }
      return { path: c };
    }
    return refused;
  }

  /** The console line for a source not shown, the first time it is met (null after). */
  noteOnce(r: { refused: string; why: string }): string | null {
    if (this.told.has(r.refused)) return null;
    this.told.add(r.refused);
    const fix = r.why.startsWith('it is not a regular file') ? '' : '; add its folder to "sourceRoots" in the launch configuration to see it';
    return `bpf-sockops: the object names the source ${r.refused}, which is neither read nor shown: ${r.why}. Its frames name it without its text${fix}`;
  }
}
