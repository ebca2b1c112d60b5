// `bpf-sockops dap`: the debug adapter on stdin/stdout (what the VS Code extension runs).
import { runAdapterOnStdio } from '../debugger/adapter/index';

export async function dapCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stderr.write('usage: bpf-sockops dap\n  Speaks the Debug Adapter Protocol on stdin/stdout (launch type "bpf-sockops").\n');
    return 0;
  }
  // stdout carries the protocol: anything else printed there would corrupt it
  console.log = console.error;
  console.info = console.error;
  const code = await runAdapterOnStdio();
  process.stdin.destroy();
  return code;
}

// Also runnable directly from the sources: node --import tsx cli/dap.ts (tests). The check is on the
// script path, not require.main, because inside the dist/cli.js bundle every module is the main one.
if (/[\\/]cli[\\/]dap\.ts$/.test(process.argv[1] ?? '')) {
  dapCommand(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => {
    process.stderr.write(`bpf-sockops dap: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 70;
  });
}
