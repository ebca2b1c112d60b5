// Compiling a hook's C source with clang for the BPF target, as the scenario runner and the
// debugger do for a `.c` program: `clang -target bpf -O2 -g -I<repo>/include -c FILE -o OUT`.
// The compiler is $BPF_SOCKOPS_CLANG, else clang-19, else clang, found on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { checkRegularFile, FileReadError, readFileBounded } from '../../io/files';

export class CompileError extends Error {
  override name = 'CompileError';
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** The repository's users' header directory (include/), found from this file's location both
 *  under tsx (debugger/scenario/) and in the bundle (dist/). */
export function repoIncludeDir(): string | null {
  let d = __dirname;
  for (let k = 0; k < 6; k++) {
    const inc = join(d, 'include');
    if (existsSync(join(inc, 'bpf_sockops_autolowat.h'))) return inc;
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return null;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The clang to use, or null with none found. */
export function findClang(explicit?: string): string | null {
  if (explicit) return explicit;
  const env = process.env.BPF_SOCKOPS_CLANG;
  if (env) return env;
  return onPath('clang-19') ?? onPath('clang');
}

export interface CompileOptions {
  compiler?: string;
  /** Extra arguments (e.g. -D, -I). */
  args?: string[];
  /** Seconds before the compiler is stopped (default 120). */
  timeoutSec?: number;
}

/** Compile `file` and return the object's bytes. Throws CompileError with clang's message. */
export function compileBpf(file: string, opts: CompileOptions = {}): Uint8Array {
  const src = resolve(file);
  if (!existsSync(src)) throw new CompileError(src, 'no such file; check "program" in the scenario or the launch configuration');
  // clang would block on a FIFO or read /dev/zero until it dies: only a regular file of bounded size
  try { checkRegularFile(src, 'source'); } catch (e) { if (e instanceof FileReadError) throw new CompileError(src, e.detail); throw e; }
  const clang = findClang(opts.compiler);
  if (!clang) throw new CompileError(src, 'no C compiler found: install clang (clang-19) or set BPF_SOCKOPS_CLANG to its path, or point "program" at a prebuilt .o');
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-cc-'));
  const out = join(dir, basename(src).replace(/\.c$/, '') + '.o');
  const inc = repoIncludeDir();
  // <linux/bpf.h> includes <asm/types.h>, which Debian/Ubuntu keep under the multiarch directory
  const multiarch = [`/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`].filter((d) => existsSync(d));
  const args = ['-target', 'bpf', '-O2', '-g', ...(inc ? ['-I', inc] : []), ...multiarch.flatMap((d) => ['-idirafter', d]), ...(opts.args ?? []), '-c', src, '-o', out];
  try {
    const r = spawnSync(clang, args, { encoding: 'utf8', timeout: (opts.timeoutSec ?? 120) * 1000, maxBuffer: 16 << 20 });
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CompileError(src, `cannot run the compiler ${clang} (not found); install clang-19 or set BPF_SOCKOPS_CLANG`);
      if (code === 'ETIMEDOUT') throw new CompileError(src, `${clang} did not finish within ${opts.timeoutSec ?? 120} s`);
      throw new CompileError(src, `cannot run ${clang}: ${r.error.message}`);
    }
    if (r.status !== 0) {
      const msg = (r.stderr || r.stdout || '').trim();
      throw new CompileError(src, `${basename(clang)} failed (exit ${r.status ?? r.signal}):\n${msg}`);
    }
    try { return new Uint8Array(readFileBounded(out, 'object').bytes); } catch (e) { if (e instanceof FileReadError) throw new CompileError(src, `the compiled object: ${e.detail}`); throw e; }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
