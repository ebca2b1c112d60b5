// `bpf-sockops`: the command line face of the same engines the editor uses.
// Contracts (design.md §5): check, run, disasm; plus dap (the debug adapter on stdio) and
// conformance-plugin (the bpf_conformance runner's plugin protocol).
import { checkCommand } from './check';
import { runCommand } from './run';
import { disasmCommand } from './disasm';
import { dapCommand } from './dap';
import { lspCommand } from './lsp';
import { conformancePluginCommand } from './conformance';
import { verifyCommand } from './verify';
import { exploreCommand } from './explore';
import { scenarioCommand } from './scenario';
export { exploreWorkerMain } from './explore';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** A promise while stdout is backed up (a slow pipe reader), for long outputs to wait on. */
  wait?: () => Promise<void> | null;
}

const USAGE = `usage: bpf-sockops <command> [args]

commands:
  check FILE... [--format text|json] [--profile NAME] [-I DIR]...
                                       op-aware checks of sock_ops hooks (exit 1 on any error);
                                       -I: folders for #include "x.h" after the file's own, as clang
  run SCENARIO.json [--format text|json]  run a scenario through the emulator (exit 0 iff all expects pass)
  disasm FILE.o                        disassemble a BPF object, C source lines interleaved
  verify FILE.o|FILE.c [--format text|json] [--profile P] [-v]  the kernel verifier's predicted verdict (exit 1 if any rejected)
  explore SCENARIO.json [--seed N] [--budget N] [--out FILE] [--format text|json] [--jobs N] [--shard K/N]
                                       search deliveries of the scenario's bytes for a failing one (exit 1, written to --out)
  explore merge REPORT.json...         combine the JSON reports of explore shards
  scenario from-pcap FILE.pcap|.pcapng [--flow PEER:PORT-US:PORT|N] [--out FILE]
                                       one TCP connection of a capture (peer to us) as a scenario
  dap                                  run the debug adapter on stdin/stdout
  lsp                                  run the language server on stdin/stdout (any LSP editor)
  conformance-plugin MEMHEX            bpf_conformance plugin: program hex on stdin, r0 hex on stdout
  help | --help, version | --version
`;

export async function main(argv: string[], io: Io = stdio()): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'check': return checkCommand(rest, io);
    case 'run': return runCommand(rest, io);
    case 'disasm': return disasmCommand(rest, io);
    case 'verify': return verifyCommand(rest, io);
    case 'explore': return exploreCommand(rest, io);
    case 'scenario': return scenarioCommand(rest, io);
    case 'dap': return dapCommand(rest);
    case 'lsp': return lspCommand(rest);
    case 'conformance-plugin': return conformancePluginCommand(rest, io);
    case 'version': case '--version': case '-V':
      io.out(`bpf-sockops ${VERSION}\n`);
      return 0;
    case undefined: case 'help': case '--help': case '-h':
      io.out(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      io.err(`bpf-sockops: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : 'dev';

function stdio(): Io {
  closedPipes();
  return { out: (s) => { process.stdout.write(s); }, err: (s) => { process.stderr.write(s); }, wait: stdoutDrained };
}

/** Resolves when stdout has room again (or is gone: the EPIPE handler below ends the command). */
function stdoutDrained(): Promise<void> | null {
  const s = process.stdout;
  if (!s.writableNeedDrain) return null;
  return new Promise((resolve) => {
    const done = () => { s.off('drain', done); s.off('close', done); resolve(); };
    s.on('drain', done);
    s.on('close', done);
  });
}

let pipesWatched = false;
/** A reader that stops early (`bpf-sockops run ... | head -c 10`) closes the pipe: EPIPE ends the
 *  command quietly with the status so far instead of an unhandled 'error' event. */
function closedPipes(): void {
  if (pipesWatched) return;
  pipesWatched = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      try { process.stderr.write(`bpf-sockops: cannot write the output: ${e.message}\n`); } catch { /* stderr gone too */ }
      process.exit(74);
    });
  }
}

// Run when executed directly (`node dist/cli.js dap`, as the extension does); bin/bpf-sockops.js
// requires the bundle and calls main() itself.
if (typeof require !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`bpf-sockops: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  });
}
