// Settings, read fresh on each use, with workspace trust applied: in Restricted Mode no compiler is
// offered at all (VS Code already drops workspace values of the restricted settings; we also refuse to
// compile, so a user-level path is not run either on behalf of an untrusted workspace).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SECTION = 'bpfSockops';

export class Config {
  private get cfg() { return vscode.workspace.getConfiguration(SECTION); }

  get trusted(): boolean { return vscode.workspace.isTrusted; }
  get kernelProfile(): string { return this.cfg.get<string>('kernelProfile', 'autolowat-sockops-v3'); }
  get codeLens(): boolean { return this.cfg.get<boolean>('codeLens.enable', true); }
  get trace(): 'off' | 'messages' | 'verbose' { return this.cfg.get('server.trace', 'off'); }
  /** Compile and verify a hook on save (SOCKOPS007, clang's errors in Problems). */
  get verifierOnSave(): boolean { return this.cfg.get<boolean>('verifier.onSave', true); }
  /** Refuse to debug a program the verifier rejects unless the user says to run it anyway. */
  get verifierBeforeDebug(): boolean { return this.cfg.get<boolean>('verifier.checkBeforeDebug', true); }

  get includePaths(): string[] {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    return this.cfg.get<string[]>('includePaths', []).map((p) => p.replace(/\$\{workspaceFolder\}/g, folder));
  }

  /** The compiler to run, or undefined with the reason. Never a value in an untrusted workspace. */
  compiler(override?: string): { path: string; args: string[]; reason?: undefined; fallback?: string } | { path?: undefined; args?: undefined; reason: string; fallback?: undefined } {
    if (!this.trusted) return { reason: 'compiling needs a trusted workspace (Restricted Mode runs no compiler); trust the workspace or use a prebuilt .o' };
    const wanted = override || this.cfg.get<string>('clang.path', 'clang') || 'clang';
    const found = findExecutable(wanted) ?? (wanted === 'clang' ? ['clang-19', 'clang-18', 'clang-17'].map(findExecutable).find(Boolean) : undefined);
    if (!found) return { reason: `the C compiler "${wanted}" was not found; set bpfSockops.clang.path to clang with the BPF target (e.g. /usr/bin/clang-19)` };
    const inc = this.includePaths.flatMap((p) => ['-I', p]);
    const fallback = findExecutable(wanted) ? undefined : `bpfSockops.clang.path is "${wanted}", which is not in PATH: using ${found}`;
    return { path: found, args: [...inc, ...this.cfg.get<string[]>('clang.args', [])], fallback };
  }

  affects(e: vscode.ConfigurationChangeEvent, key?: string): boolean {
    return e.affectsConfiguration(key ? `${SECTION}.${key}` : SECTION);
  }
}

/** An absolute path if it is executable, or a bare name looked up in PATH. */
export function findExecutable(name: string): string | undefined {
  const ok = (p: string) => { try { fs.accessSync(p, fs.constants.X_OK); return fs.statSync(p).isFile(); } catch { return false; } };
  if (name.includes('/') || name.includes('\\')) return ok(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && ok(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}
