// Issue 7 part 2: random verifier-accepted programs through BPF_PROG_TEST_RUN (XDP) and through
// our VM; identical retval and output bytes, or a minimised regression fixture.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConformanceData } from '../../debugger/vm';
import { emit, generate, opcodeKey, type Block, type GenProgram } from './isa-gen';
import { diff, runInVm, toHex, type RegressionFixture } from './isa-vm';
import { runBatch, runBatchSync, verdictLine, type Reply, type Request } from './native';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REGRESSION_DIR = resolve(HERE, '../fixtures/kernel-regressions');
import { conformanceDir, CONFORMANCE_HINT } from '../conformance/dir';

export interface IsaReport {
  seed: number;
  programs: number;
  agreed: number;
  rejected: { seed: number; why: string }[];
  disagreements: { seed: number; what: string; fixture: string }[];
  coverage: Map<string, number>;
  missing: { key: string; why: string }[];
  seconds: number;
}

const kernelReq = (p: GenProgram): Request => ({ kind: 'xdprun', insns: emit(p, { kind: 'kernel' }).insns, pkt: p.pkt });

/** Opcodes of the conformance suite the generator does not produce on purpose. */
const NOT_GENERATED: Record<string, string> = {
  '0x8d': 'callx: the kernel verifier rejects it (our VM too)',
  '0x85/src0': 'helper calls: no helper is part of the ISA differential (helpers are compared in part 1/3)',
};

function conformanceKeys(): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let files: string[] = [];
  const dir = conformanceDir();
  if (!dir) { console.log(`  opcode coverage vs the conformance suite: not checked, ${CONFORMANCE_HINT}`); return keys; }
  files = readdirSync(dir).filter((f) => f.endsWith('.data'));
  for (const f of files) {
    const c = parseConformanceData(readFileSync(join(dir, f), 'utf8'), f);
    for (const x of c.insns ?? []) {
      const k = opcodeKey(x);
      if (!k) continue;
      const l = keys.get(k) ?? [];
      if (l.length < 3) l.push(f);
      keys.set(k, l);
    }
  }
  return keys;
}

/** ddmin over the body blocks of main and callees, keeping "kernel and VM disagree". */
function minimise(bin: string, p: GenProgram): GenProgram {
  const disagrees = (q: GenProgram): boolean => {
    const [rep] = runBatchSync(bin, [kernelReq(q)]) as Extract<Reply, { kind: 'xdprun' }>[];
    if (rep.err !== 0) return false; // the verifier must still accept it
    return diff(rep, runInVm(q)) !== null;
  };
  // Removing block i: jumps to later blocks keep their index shifted; jumps to i land on i's successor.
  const without = (blocks: Block[], drop: Set<number>): Block[] => {
    const map: number[] = [];
    let k = 0;
    for (let i = 0; i <= blocks.length; i++) { map.push(k); if (!drop.has(i)) k++; }
    return blocks.filter((_, i) => !drop.has(i)).map((b) => (b.jumpTo === undefined ? b : { ...b, jumpTo: map[b.jumpTo] }));
  };
  let cur = p;
  const shrink = (get: (q: GenProgram) => Block[], set: (q: GenProgram, b: Block[]) => GenProgram) => {
    let n = 2;
    while (get(cur).length >= 1) {
      const blocks = get(cur);
      const chunk = Math.max(1, Math.ceil(blocks.length / n));
      let reduced = false;
      for (let s = 0; s < blocks.length; s += chunk) {
        const drop = new Set<number>();
        for (let i = s; i < Math.min(blocks.length, s + chunk); i++) drop.add(i);
        const cand = set(cur, without(blocks, drop));
        if (disagrees(cand)) { cur = cand; reduced = true; break; }
      }
      if (reduced) { n = Math.max(n - 1, 2); continue; }
      if (chunk === 1) break;
      n = Math.min(blocks.length, n * 2);
    }
  };
  shrink((q) => q.main, (q, b) => ({ ...q, main: b }));
  for (let c = 0; c < cur.callees.length; c++) shrink((q) => q.callees[c], (q, b) => ({ ...q, callees: q.callees.map((x, i) => (i === c ? b : x)) }));
  return cur;
}

export function saveFixture(p: GenProgram, kernel: { retval: number; out: Uint8Array }, what: string, fixtureName?: string, note?: string): string {
  mkdirSync(REGRESSION_DIR, { recursive: true });
  const name = fixtureName ?? `isa-seed-${p.seed}`;
  const ours = runInVm(p);
  const f: RegressionFixture = {
    name,
    note: note ?? `kernel and VM disagreed: ${what}`,
    seed: p.seed,
    main: p.main,
    callees: p.callees,
    pktHex: toHex(p.pkt),
    kernel: { retval: kernel.retval, outHex: toHex(kernel.out) },
    oursAtSave: ours.ok ? `retval 0x${ours.retval.toString(16)}` : ours.message,
    kernelRelease: release(),
  };
  const file = join(REGRESSION_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(f, null, 1) + '\n');
  return file;
}

export async function isaDifferential(bin: string, opts: { seed: number; count: number; batch?: number; log?: (s: string) => void }): Promise<IsaReport> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const batch = opts.batch ?? 2000;
  const rep: IsaReport = { seed: opts.seed, programs: 0, agreed: 0, rejected: [], disagreements: [], coverage: new Map(), missing: [], seconds: 0 };
  const seedOf = (i: number) => (opts.seed + Math.imul(i, 0x2545f491)) >>> 0;
  for (let start = 0; start < opts.count; start += batch) {
    const n = Math.min(batch, opts.count - start);
    const progs: GenProgram[] = [];
    for (let i = 0; i < n; i++) progs.push(generate(seedOf(start + i)));
    const kernelInsns = progs.map(kernelReq);
    const pending = runBatch(bin, kernelInsns);
    const ours = progs.map((p) => runInVm(p));
    const oursFast = progs.map((p) => runInVm(p, 'fast')); // both VM tiers must agree with the kernel
    const replies = (await pending) as Extract<Reply, { kind: 'xdprun' }>[];
    for (let i = 0; i < n; i++) {
      const p = progs[i], k = replies[i];
      rep.programs++;
      if (k.err !== 0) {
        rep.rejected.push({ seed: p.seed, why: k.stage === 'load' ? `verifier: ${verdictLine(k.log)} (errno ${k.err})` : `test_run errno ${k.err}` });
        continue;
      }
      for (const x of kernelInsns[i].insns) { const key = opcodeKey(x); if (key) rep.coverage.set(key, (rep.coverage.get(key) ?? 0) + 1); }
      const df = diff(k, oursFast[i]);
      const d = diff(k, ours[i]) ?? (df && `fast tier: ${df}`);
      if (d === null) { rep.agreed++; continue; }
      log(`  disagreement at seed ${p.seed}: ${d}; minimising...`);
      const small = minimise(bin, p);
      const [k2] = runBatchSync(bin, [kernelReq(small)]) as Extract<Reply, { kind: 'xdprun' }>[];
      const d2 = diff(k2, runInVm(small)) ?? d;
      const file = saveFixture(small, k2.err === 0 ? k2 : k, d2);
      rep.disagreements.push({ seed: p.seed, what: d2, fixture: file });
      log(`  saved ${file}: ${d2}`);
    }
    if ((start / batch) % 10 === 9) log(`  ${start + n} programs, ${rep.agreed} agreed, ${rep.disagreements.length} disagreements (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  for (const [k, files] of conformanceKeys()) {
    if (rep.coverage.has(k)) continue;
    rep.missing.push({ key: k, why: NOT_GENERATED[k] ?? `not generated (seen in conformance ${files.join(', ')})` });
  }
  rep.seconds = (Date.now() - t0) / 1000;
  return rep;
}

export function isExplainedMissing(m: { key: string }): boolean {
  return m.key in NOT_GENERATED;
}

/** Record the kernel's answer for hand-written corner programs (fixtures that pass today). */
export async function recordEdges(bin: string, log: (s: string) => void): Promise<number> {
  const { edgePrograms } = await import('./isa-edge');
  const edges = edgePrograms();
  const replies = (await runBatch(bin, edges.map((e) => kernelReq(e.prog)))) as Extract<Reply, { kind: 'xdprun' }>[];
  let bad = 0;
  edges.forEach((e, i) => {
    const k = replies[i];
    if (k.err !== 0) { log(`  ${e.name}: kernel refused it: ${verdictLine(k.log)}`); bad++; return; }
    const d = diff(k, runInVm(e.prog));
    const file = saveFixture(e.prog, k, d ?? 'agreed', e.name, `${e.note}${d ? ` -- DISAGREES: ${d}` : ' (kernel and VM agreed when recorded)'}`);
    log(`  recorded ${file}${d ? `: DISAGREES: ${d}` : ''}`);
    if (d) bad++;
  });
  return bad;
}
