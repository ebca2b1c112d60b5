// Test support: read files of the mirrored Linux 7.1.5 tree when it is present, and find clang.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const MIRROR = process.env.BPF_SOCKOPS_LINUX_MIRROR ?? '/work/.mirror/danayer+linux-7.1.5/repo';

/** The file at HEAD of the mirror, or undefined when the mirror is not on this machine. */
export function mirrorFile(path: string): string | undefined {
  if (!existsSync(MIRROR)) return undefined;
  try {
    return execFileSync('git', ['-C', MIRROR, 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch {
    return undefined;
  }
}

/** Body of a top-level C function (from the line starting with `name(` to the first `}` in column 0). */
export function cFunctionBody(text: string, name: string): string {
  // The definition, not a forward declaration: the parameter list is followed by `{` on its own line.
  const start = text.search(new RegExp(`^${name}\\([^;{]*\\)\\n\\{`, 'm'));
  if (start < 0) throw new Error(`function ${name} not found`);
  const end = text.indexOf('\n}', start);
  return text.slice(start, end);
}

export function funcCases(body: string): string[] {
  return [...body.matchAll(/case BPF_FUNC_(\w+):/g)].map((m) => m[1]);
}

export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export const HOST_ASM_INCLUDE = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
