// A bpf_conformance plugin (the upstream runner's protocol): the program as hex bytes on stdin,
// the memory as hex in argv[1], r0 printed in hex on stdout; on error a message on stderr and a
// non-zero exit. Run: node --import tsx test/conformance/plugin.ts [MEMHEX] < program.hex
import { conformancePlugin } from '../../debugger/vm/index';

const chunks: Buffer[] = [];
process.stdin.on('data', (c: Buffer) => chunks.push(c));
process.stdin.on('end', () => {
  const r = conformancePlugin(Buffer.concat(chunks).toString('utf8'), process.argv[2] ?? '');
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.code;
});
