// The `bpf-sockops` command for extension users: a small launcher script that runs the CLI bundled
// in the extension (dist/cli.js) with Node.js, or with VS Code's own runtime when no `node` is on
// PATH. Plain TypeScript (no vscode): test/unit/extension/cliShim.test.ts runs a written shim.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Shim { file: string; text: string; mode: number }

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The launcher for this platform. `node`: a Node.js executable, else `runtime` (VS Code's
 *  executable, run as Node through ELECTRON_RUN_AS_NODE). */
export function shimFor(cliJs: string, opts: { node?: string; runtime: string; platform?: NodeJS.Platform; home?: string }): Shim {
  const platform = opts.platform ?? process.platform;
  const home = opts.home ?? os.homedir();
  if (platform === 'win32') {
    const exe = opts.node ?? opts.runtime;
    const env = opts.node ? '' : 'set ELECTRON_RUN_AS_NODE=1\r\n';
    return { file: path.join(home, 'AppData', 'Local', 'bpf-sockops', 'bpf-sockops.cmd'), mode: 0o644,
      text: `@echo off\r\n${env}"${exe}" "${cliJs}" %*\r\n` };
  }
  const run = opts.node ? `exec ${sh(opts.node)} ${sh(cliJs)} "$@"` : `ELECTRON_RUN_AS_NODE=1 exec ${sh(opts.runtime)} ${sh(cliJs)} "$@"`;
  return { file: path.join(home, '.local', 'bin', 'bpf-sockops'), mode: 0o755,
    text: `#!/bin/sh\n# bpf-sockops: the CLI of the VS Code extension (written by "BPF sock_ops: Install Command Line").\n${run}\n` };
}

export function writeShim(s: Shim): void {
  fs.mkdirSync(path.dirname(s.file), { recursive: true });
  fs.writeFileSync(s.file, s.text, { mode: s.mode });
  fs.chmodSync(s.file, s.mode);
}

/** Whether `dir` is on PATH (so `bpf-sockops` works in a new terminal). */
export function onPath(dir: string, pathVar = process.env.PATH ?? ''): boolean {
  return pathVar.split(path.delimiter).some((d) => d && path.resolve(d) === path.resolve(dir));
}
