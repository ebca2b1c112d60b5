// Driver of test/kernel/native/verifyload.c: the running kernel's verdict on one program of an
// object (loaded by libbpf), in batches. See the protocol at the top of the C file.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './native';

const NATIVE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'native');

export interface KernelVerdict {
  /** 0 when loaded, else the errno of the load. */
  err: number;
  /** 'open': libbpf could not open the object; 'prep': failed before the verifier ran (maps,
   *  externs); 'verifier': the verifier ran (and decided). */
  stage: 'open' | 'prep' | 'verifier';
  /** Instructions libbpf passed to the kernel (the program with its subprograms appended). */
  insnCnt: number;
  log: string;
}

export function buildVerifyload(): string {
  return buildNative('verifyload', ['-lbpf'], NATIVE_DIR);
}

export interface LoadRequest { elf: Uint8Array; program: string }

function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }

export function kernelVerdicts(bin: string, reqs: LoadRequest[], opts: { noPerfmon?: boolean } = {}): Promise<KernelVerdict[]> {
  return new Promise((res, rej) => {
    const child = spawn(bin, [...(opts.noPerfmon ? ['--no-perfmon'] : []), 'batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('error', rej);
    child.on('close', (code) => {
      if (code !== 0) { rej(new Error(`verifyload exited with ${code}: ${err.trim()}`)); return; }
      const buf = Buffer.concat(chunks);
      const out: KernelVerdict[] = [];
      let o = 0;
      const rd = () => { if (o + 4 > buf.length) throw new Error('verifyload reply truncated'); const v = buf.readUInt32LE(o); o += 4; return v; };
      try {
        for (let i = 0; i < reqs.length; i++) {
          const e = rd(); const st = rd(); const n = rd(); const len = rd();
          const log = buf.subarray(o, o + len).toString('utf8'); o += len;
          out.push({ err: e, stage: st === 2 ? 'verifier' : st === 1 ? 'prep' : 'open', insnCnt: n, log });
        }
      } catch (e) { rej(e); return; }
      res(out);
    });
    child.stdin.on('error', () => { /* reported through close */ });
    const parts: Buffer[] = [];
    for (const r of reqs) { const name = Buffer.from(r.program); parts.push(u32(r.elf.length), Buffer.from(r.elf), u32(name.length), name); }
    child.stdin.end(Buffer.concat(parts));
  });
}

/** The instruction the kernel rejected at: the last "N: (" insn line of a level-1 log, or the
 *  insn a CFG message names (back-edge, unreachable, jump out of range). */
export function rejectingInsn(log: string): number | undefined {
  const cfg = /back-edge from insn (\d+)|unreachable insn (\d+)|jump out of range from insn (\d+)|infinite loop detected at insn (\d+)/.exec(log);
  if (cfg) return Number(cfg[1] ?? cfg[2] ?? cfg[3] ?? cfg[4]);
  let last: number | undefined;
  for (const m of log.matchAll(/^(\d+): \(/gm)) last = Number(m[1]);
  return last;
}

/** The verifier's error line (the last meaningful line of the log). */
export function kernelMessage(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l && !/^processed \d+ insns/.test(l) && !/^verification time/.test(l) && !/^stack depth/.test(l) && !/^-- END PROG LOAD LOG --/.test(l) && !/^libbpf:/.test(l));
  return lines[lines.length - 1] ?? '';
}

export function processedInsns(log: string): number | undefined {
  const m = /processed (\d+) insns/.exec(log);
  return m ? Number(m[1]) : undefined;
}
