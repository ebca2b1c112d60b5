// `bpf-sockops scenario from-pcap FILE.pcap|.pcapng [--flow PEER:PORT-US:PORT|N] [--out FILE]
// [--program FILE.o] [--sockops NAME] [--setsockopt NAME] [--enable LEVEL:OPTNAME]` (issue 14):
// the peer-to-us direction of one TCP connection of a capture as a scenario (JSON on stdout or
// in --out). Exit 0, or 2 on bad input (the message lists the connections to choose from).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { CaptureError, scenarioFromCapture, type FromPcapOptions } from '../debugger/pcap/scenario';

export interface CliIo { out: (s: string) => void; err: (s: string) => void }

const USAGE = `usage: bpf-sockops scenario from-pcap FILE.pcap|FILE.pcapng [--flow PEER:PORT-US:PORT|N] [--out FILE]
         [--program FILE.o|FILE.c] [--sockops NAME] [--setsockopt NAME] [--enable LEVEL:OPTNAME]`;

export async function scenarioCommand(args: string[], io: CliIo): Promise<number> {
  const bad = (msg: string): number => { io.err(`bpf-sockops scenario: ${msg}\n${USAGE}\n`); return 2; };
  if (args[0] === '-h' || args[0] === '--help') { io.out(USAGE + '\n'); return 0; }
  if (args[0] !== 'from-pcap') return bad(args[0] ? `unknown subcommand ${JSON.stringify(args[0])}` : 'give a subcommand');
  const opts: FromPcapOptions = {};
  let file: string | undefined;
  let out: string | undefined;
  let program: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string | undefined => (eq > 0 ? a.slice(eq + 1) : args[++i]);
    switch (name) {
      case '--flow': { const v = value(); if (!v) return bad('--flow needs PEER:PORT-US:PORT or a connection number'); opts.flow = v; break; }
      case '--out': { const v = value(); if (!v) return bad('--out needs a file name'); out = v; break; }
      case '--program': { const v = value(); if (!v) return bad('--program needs a file'); program = v; break; }
      case '--sockops': { const v = value(); if (!v) return bad('--sockops needs a function name'); opts.sockops = v; break; }
      case '--setsockopt': { const v = value(); if (!v) return bad('--setsockopt needs a function name'); opts.setsockopt = v; break; }
      case '--enable': {
        const v = value() ?? '';
        const m = /^(0x[0-9a-f]+|\d+):(0x[0-9a-f]+|\d+)$/i.exec(v);
        if (!m) return bad(`--enable takes LEVEL:OPTNAME (numbers, e.g. 0xdeadbeef:0x8badf00d), not ${JSON.stringify(v)}`);
        opts.enable = { level: Number(m[1]), optname: Number(m[2]) };
        break;
      }
      default:
        if (a.startsWith('-')) return bad(`unknown option ${a}`);
        if (file !== undefined) return bad(`one capture at a time (got ${file} and ${a})`);
        file = a;
    }
  }
  if (!file) return bad('give the capture file');
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
