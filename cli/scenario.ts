// `bpf-sockops scenario from-pcap FILE.pcap|.pcapng [--flow PEER:PORT-US:PORT|N] [--out FILE]
// [--program FILE.o] [--sockops NAME] [--setsockopt NAME] [--enable LEVEL:OPTNAME]` (issue 14):
// the peer-to-us direction of one TCP connection of a capture as a scenario (JSON on stdout or
// in --out). Exit 0, or 2 on bad input (the message lists the connections to choose from).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { CaptureError, scenarioFromCapture, type FromPcapOptions } from '../debugger/pcap/scenario';
import { custom, parseCommand, text } from './args';

export interface CliIo { out: (s: string) => void; err: (s: string) => void }

const USAGE = `usage: bpf-sockops scenario from-pcap FILE.pcap|FILE.pcapng [--flow PEER:PORT-US:PORT|N] [--out FILE]
         [--program FILE.o|FILE.c] [--sockops NAME] [--setsockopt NAME] [--enable LEVEL:OPTNAME]`;

const SPEC = {
  flow: text('--flow', 'PEER:PORT-US:PORT or a connection number'),
  out: text('--out', 'a file name'),
  program: text('--program', 'a file'),
  sockops: text('--sockops', 'a function name'),
  setsockopt: text('--setsockopt', 'a function name'),
  enable: custom('--enable', 'LEVEL:OPTNAME (numbers, e.g. 0xdeadbeef:0x8badf00d)', (v) => {
    const m = /^(0x[0-9a-f]+|\d+):(0x[0-9a-f]+|\d+)$/i.exec(v);
    return m ? { level: Number(m[1]), optname: Number(m[2]) } : null;
  }),
};

export async function scenarioCommand(args: string[], io: CliIo): Promise<number> {
  const bad = (msg: string): number => { io.err(`bpf-sockops scenario: ${msg}\n${USAGE}\n`); return 2; };
  if (args[0] === '-h' || args[0] === '--help') { io.out(USAGE + '\n'); return 0; }
  if (args[0] !== 'from-pcap') return bad(args[0] ? `unknown subcommand ${JSON.stringify(args[0])}` : 'give a subcommand');
  const p = parseCommand('scenario', USAGE, args.slice(1), SPEC, io, { max: 1, noun: 'capture', missing: 'give the capture file' });
  if (typeof p === 'number') return p;
  const file = p.positional[0]!;
  const { out, program, flow, sockops, setsockopt, enable } = p.opts;
  const opts: FromPcapOptions = {};
  if (flow !== undefined) opts.flow = flow;
  if (sockops !== undefined) opts.sockops = sockops;
  if (setsockopt !== undefined) opts.setsockopt = setsockopt;
  if (enable !== undefined) opts.enable = enable;
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(file)); } catch (e) {
    io.err(`bpf-sockops scenario: ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path\n`);
    return 2;
  }
  // "program" is relative to the scenario file, as `run` reads it
  if (program !== undefined) opts.program = out ? relative(dirname(resolve(out)), resolve(program)) || program : program;
  let res;
  try { res = scenarioFromCapture(bytes, file, opts); } catch (e) {
    if (e instanceof CaptureError) { io.err(`bpf-sockops scenario: ${e.message}\n`); return 2; }
    throw e;
  }
  for (const n of res.notes) io.err(`note: ${n}\n`);
  if (program === undefined) io.err('note: "program" is hook.bpf.o: set it (or pass --program) to the hook to replay this traffic through\n');
  const text = JSON.stringify(res.scenario, null, 2) + '\n';
  if (out) { writeFileSync(out, text); io.err(`wrote ${out}\n`); } else io.out(text);
  return 0;
}
