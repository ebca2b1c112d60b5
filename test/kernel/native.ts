// The native helper tools/bpfrun: built with the machine's cc on first use (into the OS temp
// dir, keyed by a hash of its source), driven in batches through its binary protocol
// (described at the top of tools/bpfrun/bpfrun.c).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeInsns, type Insn } from '../../debugger/vm';

const HERE = dirname(fileURLToPath(import.meta.url));
export const BPFRUN_DIR = resolve(HERE, '../../tools/bpfrun');

/** Build tools/bpfrun/<name>.c (or <srcDir>/<name>.c) (cached); returns the binary path or throws
 *  with the compiler output. */
export function buildNative(name: string, extraArgs: string[] = [], srcDir = BPFRUN_DIR): string {
  const src = join(srcDir, `${name}.c`);
  const text = readFileSync(src);
  const h = createHash('sha256').update(text).update(extraArgs.join(' ')).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'bpf-sockops-bpfrun');
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `${name}-${h}`);
  if (existsSync(bin)) return bin;
  const tmp = `${bin}.${process.pid}`;
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', tmp, src, ...extraArgs], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run cc to build ${src}: ${r.error.message} (install build-essential)`);
  if (r.status !== 0) throw new Error(`cc failed to build ${src}:\n${r.stderr}`);
  spawnSync('mv', [tmp, bin]);
  return bin;
}

/** null if bpf() works here, else why not (printed when the kernel tests are skipped). */
export function probeBpf(bin: string): string | null {
  const r = spawnSync(bin, ['probe'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return (r.stdout + r.stderr).trim() || `bpfrun probe exited with ${r.status}`;
}

// ---- batch protocol ----
export type Request =
  | { kind: 'load'; progType: number; attachType: number; gpl: boolean; insns: Insn[] }
  | { kind: 'xdprun'; insns: Insn[]; pkt: Uint8Array };

export type Reply =
  | { kind: 'load'; err: number; log: string }
  | { kind: 'xdprun'; err: number; stage: 'load' | 'run'; retval: number; out: Uint8Array; log: string };

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

export function encodeRequests(reqs: Request[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of reqs) {
    const code = Buffer.from(encodeInsns(r.insns));
    if (r.kind === 'load') parts.push(u32(1), u32(r.progType), u32(r.attachType), u32(r.gpl ? 1 : 0), u32(r.insns.length), code);
    else parts.push(u32(2), u32(r.insns.length), u32(r.pkt.length), code, Buffer.from(r.pkt));
  }
  return Buffer.concat(parts);
}

export function decodeReplies(reqs: Request[], buf: Buffer): Reply[] {
  let o = 0;
  const need = (n: number) => { if (o + n > buf.length) throw new Error(`bpfrun reply truncated at byte ${o} (wanted ${n} more of ${buf.length})`); };
  const rd = () => { need(4); const v = buf.readUInt32LE(o); o += 4; return v; };
  const bytes = () => { const n = rd(); need(n); const b = buf.subarray(o, o + n); o += n; return b; };
  const out: Reply[] = [];
  for (const r of reqs) {
    const err = rd();
    if (r.kind === 'load') out.push({ kind: 'load', err, log: bytes().toString('utf8') });
    else {
      const stage = rd() === 0 ? 'load' : 'run';
      const retval = rd();
      const data = new Uint8Array(bytes());
      const log = bytes().toString('utf8');
      out.push({ kind: 'xdprun', err, stage, retval, out: data, log });
    }
  }
  return out;
}

/** Run a batch in one bpfrun process (async, so the caller can work meanwhile). */
export function runBatch(bin: string, reqs: Request[]): Promise<Reply[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, ['batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) { reject(new Error(`bpfrun batch exited with ${code}: ${err.trim()}`)); return; }
      try { resolvePromise(decodeReplies(reqs, Buffer.concat(chunks))); } catch (e) { reject(e); }
    });
    child.stdin.on('error', () => { /* reported through close */ });
    child.stdin.end(encodeRequests(reqs));
  });
}

/** Synchronous single batch (for the minimiser, which needs an answer per candidate). */
export function runBatchSync(bin: string, reqs: Request[]): Reply[] {
  const r = spawnSync(bin, ['batch'], { input: encodeRequests(reqs), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`bpfrun batch exited with ${r.status}: ${r.stderr.toString().trim()}`);
  return decodeReplies(reqs, r.stdout);
}

/** Last meaningful line of a verifier log. */
export function verdictLine(log: string): string {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l && !/^processed \d+ insns/.test(l) && !/^verification time/.test(l) && !/^stack depth/.test(l));
  return lines[lines.length - 1] ?? '';
}
