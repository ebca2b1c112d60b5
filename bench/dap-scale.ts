// The scenario the debugger's scaling figures use (issue 12): the example hook with N frames, each
// an 8-byte descriptor (header 100, payload 150) and 250 bytes, sent as 100 + 158 bytes and then
// read (3 steps and 3 RCVQ_CB runs per frame). Written to a temporary folder.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

export function framesScenario(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-bench-'));
  const stream: unknown[] = [];
  const steps: unknown[] = [{ setsockopt: { level: 3735928559, optname: 2343432205, int: 1 } }, { expect: { ret: 0, cbFlags: 128 } }];
  for (let i = 0; i < n; i++) {
    stream.push({ u32le: [100, 150] }, { zeros: 250 });
    steps.push({ send: 100 }, { send: 158 }, { recv: 258 });
  }
  steps.push({ expect: { readable: 0, rcvlowat: 8 } });
  const file = join(dir, `frames-${n}.scenario.json`);
  writeFileSync(file, JSON.stringify({
    program: join(ROOT, 'examples/autolowat/autolowat.bpf.o'), sockops: 'tcp_autolowat', setsockopt: 'tcp_autolowat_setsockopt',
    socket: { family: 'inet6' }, stream, steps,
  }));
  return file;
}

// `node --import tsx bench/dap-scale.ts N`: the plain run of that scenario in this process (for its peak RSS)
if (/dap-scale\.ts$/.test(process.argv[1] ?? '') && process.argv[2]) {
  void (async () => {
    const { runCommand } = await import('../cli/run');
    const file = framesScenario(Number(process.argv[2]));
    const t0 = performance.now();
    const code = await runCommand([file], { out: () => {}, err: (s) => process.stderr.write(s) });
    process.stdout.write(JSON.stringify({ code, ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
  })();
}
