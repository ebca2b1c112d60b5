// `bpf-sockops conformance-plugin [MEMHEX]`: the bpf_conformance runner's plugin protocol
// (program hex on stdin, memory hex as argv[1], r0 in hex on stdout, error on stderr + non-zero exit).
import { conformancePlugin } from '../debugger/vm/index';
import type { Io } from './main';

export async function conformancePluginCommand(args: string[], io: Io): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const r = conformancePlugin(Buffer.concat(chunks).toString('utf8'), args[0] ?? '');
  io.out(r.stdout);
  io.err(r.stderr);
  return r.code;
}
