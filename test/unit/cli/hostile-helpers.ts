// Runs the CLI bundle (built here with esbuild, so never a stale dist/) as a child process under
// an address-space cap of 2 GB (`prlimit --as`, with the wasm trap handler off so tree-sitter's
// wasm memory fits in it), and says whether what it printed holds host exception text.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';

export const ROOT = resolve(__dirname, '../../..');
export const EXAMPLE_O = join(ROOT, 'examples/autolowat/autolowat.bpf.o');
export const AS_LIMIT = 2_000_000_000;

let launcher: Promise<string> | undefined;
/** The bundled CLI and a launcher that calls main() with the arguments, as bin/bpf-sockops.js does. */
export function cliLauncher(): Promise<string> {
  launcher ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-hostile-'));
    await esbuild.build({ entryPoints: { cli: join(ROOT, 'cli/main.ts') }, bundle: true, platform: 'node', target: 'node20', format: 'cjs', outdir: dir, logLevel: 'silent' });
    const l = join(dir, 'launch.js');
    writeFileSync(l, "require('./cli.js').main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { process.stderr.write('internal error: ' + (e && e.stack || e) + '\\n'); process.exitCode = 70; });\n");
    return l;
  })();
  return launcher;
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** `bpf-sockops ARGS` under the memory cap; stdout may go to a file (fd) instead of memory. */
export async function cli(args: string[], opts: { stdout?: number } = {}): Promise<SpawnSyncReturns<string>> {
  const l = await cliLauncher();
  const node = [process.execPath, '--disable-wasm-trap-handler', l, ...args];
  const cmd = PRLIMIT ? [PRLIMIT, `--as=${AS_LIMIT}`, ...node] : node;
  return spawnSync(cmd[0]!, cmd.slice(1), {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000, // a hang guard, not a speed assertion
    stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
}

/** Text a user must never see: a host stack, a JS error class, an allocator failure. */
export const HOST_TEXT = /\n\s+at |TypeError|RangeError|ReferenceError|Cannot read propert|Invalid typed array|Array buffer allocation|Maximum call stack|bad_alloc|Invalid string length|internal error|Unhandled|heap out of memory/;
