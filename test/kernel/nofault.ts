// test:kernel part 6 (issue 10, "done when"): programs the kernel verifier accepts never fault in
// the emulator. test/kernel/nofault-gen.ts writes random sock_ops and cgroup/setsockopt programs
// (C, vmlinux.h of the running kernel), clang-19 compiles them in batches, the running kernel
// loads each (test/kernel/native/verifyload.c, libbpf: maps, kfunc BTF ids, CO-RE), and every
// accepted one runs in the emulator through a scenario (open, sends, recvs, setsockopts, FIN) so
// that every op it asks for runs. Any fault of an accepted program is a failure; it is written to
// test/fixtures/nofault/<name>/ (program.bpf.o, program.c, disasm.txt, scenario.json, fault.json)
// and test/unit/kernel/nofault.test.ts replays it without a kernel.
// Environment: NOFAULT_PROGRAMS (default 240), NOFAULT_SEED (default 1), NOFAULT_KEEP=1 (keep the
// generated C, objects and scenarios in the temp dir).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../../debugger/sim';
import { generate, NOFAULT_PRELUDE, type GeneratedProgram } from './nofault-gen';
import { buildVerifyload, kernelVerdicts, kernelMessage } from './verifyload';

const HERE = dirname(fileURLToPath(import.meta.url));
export const NOFAULT_FIXTURES = resolve(HERE, '../fixtures/nofault');
const PER_FILE = 40;

/** The scenario every accepted program runs in (both families: chosen by the seed). */
export function nofaultScenario(object: string, sockops: string, setsockopt: string | undefined, family: 'inet' | 'inet6'): string {
  return JSON.stringify({
    program: object,
    sockops,
    ...(setsockopt ? { setsockopt } : {}),
    socket: { family },
    stream: [{ zeros: 4000 }],
    steps: [
      { send: 100 }, { recv: 50 },
      { setsockopt: { level: 1, optname: 18, int: 10 } },
      { send: 1500 },
      { setsockopt: { level: 6, optname: 1, int: 1 } },
      { recv: 2000 }, { send: 200 }, { fin: true }, { recv: 4000 },
    ],
  }, null, 2);
}

export interface NofaultFault { program: string; message: string; line?: string; pc: number }

/** Run one scenario; the faults of its program runs (and, in `seen`, each program that ran with
 *  the sock_ops ops it ran at). */
export function runNofault(scenarioPath: string, scenarioText: string, seen?: Map<string, Set<number>>): NofaultFault[] {
  const sim = new Simulation(Simulation.prepare(scenarioPath, { scenarioText }), { budget: 2_000_000 });
  const out: NofaultFault[] = [];
  for (const step of sim.runAll().results) {
    for (const tr of step.runs) {
      if (seen) { let ops = seen.get(tr.program); if (!ops) seen.set(tr.program, ops = new Set()); if (tr.op !== undefined) ops.add(tr.op); }
      if (tr.fault) out.push({ program: tr.program, message: tr.fault.message, line: tr.fault.line, pc: tr.fault.pc });
    }
  }
  return out;
}

/** Faults by cause (the message without where it happened), for fixtures and the unit test. */
export const faultCause = (message: string): string => message.replace(/ at \S+:\d+$/, '').replace(/0x[0-9a-f]+/g, 'ADDR');

function vmlinuxH(work: string): string | null {
  const btf = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 1 << 28 });
  if (btf.status !== 0) return `bpftool cannot dump /sys/kernel/btf/vmlinux: ${btf.stderr}`;
  writeFileSync(join(work, 'vmlinux.h'), btf.stdout);
  return null;
}

function compile(work: string, src: string, out: string): string | null {
  const r = spawnSync('clang-19', ['-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-D__TARGET_ARCH_x86', `-I${work}`, '-idirafter', '/usr/include/x86_64-linux-gnu', '-c', src, '-o', out], { encoding: 'utf8' });
  if (r.error) return `cannot run clang-19: ${r.error.message}`;
  return r.status === 0 ? null : r.stderr.split('\n').filter((l) => /error/.test(l)).slice(0, 3).join('; ');
}

export async function nofault(opts: { log: (s: string) => void }): Promise<number> {
  const log = opts.log;
  const count = Number(process.env.NOFAULT_PROGRAMS ?? 240);
  const seed = Number(process.env.NOFAULT_SEED ?? 1) >>> 0;
  if (!Number.isFinite(count) || count < 0) throw new Error(`NOFAULT_PROGRAMS=${process.env.NOFAULT_PROGRAMS} is not a count`);
  log(`\n[6] accepted programs never fault in the emulator: ${count} generated programs, seed ${seed} (NOFAULT_PROGRAMS / NOFAULT_SEED to change)`);
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'nofault-'));
  const why = vmlinuxH(work);
  if (why) { log(`  skipped: ${why}`); return 0; }
  let bin: string;
  try { bin = buildVerifyload(); } catch (e) { log(`  skipped: cannot build test/kernel/native/verifyload.c: ${(e as Error).message.split('\n')[0]}`); return 0; }

  const progs: GeneratedProgram[] = [];
  for (let i = 0; i < count; i++) progs.push(generate(seed * 100_000 + i, i % 2 === 0 ? 'sockops' : 'setsockopt'));
  const accepted: { p: GeneratedProgram; obj: string }[] = [];
  const rejected: { p: GeneratedProgram; why: string }[] = [];
  let notCompiled = 0;
  for (let f = 0; f < progs.length; f += PER_FILE) {
    const batch = progs.slice(f, f + PER_FILE);
    const src = join(work, `batch${f}.c`), obj = join(work, `batch${f}.bpf.o`);
    writeFileSync(src, NOFAULT_PRELUDE + batch.map((p) => p.body).join('\n\n') + '\n');
    const err = compile(work, src, obj);
    if (err) { notCompiled += batch.length; log(`  not compiled: ${src}: ${err}`); continue; }
    const elf = new Uint8Array(readFileSync(obj));
    const kv = await kernelVerdicts(bin, batch.map((p) => ({ elf, program: p.name })));
    kv.forEach((k, i) => {
      const p = batch[i]!;
      if (k.err === 0) accepted.push({ p, obj });
      else rejected.push({ p, why: `${k.stage}: ${kernelMessage(k.log)}` });
    });
  }
  // Scenarios: each attaches one accepted sock_ops program and one accepted setsockopt program.
  const so = accepted.filter((a) => a.p.kind === 'sockops');
  const ss = accepted.filter((a) => a.p.kind === 'setsockopt');
  const runs = Math.max(so.length, ss.length);
  const faults: { p: GeneratedProgram; obj: string; scenario: string; fault: NofaultFault }[] = [];
  const ran = new Set<string>();
  const seen = new Map<string, Set<number>>();
  let hostErrors = 0;
  for (let k = 0; k < runs && so.length; k++) {
    const a = so[k % so.length]!;
    const b = ss.length ? ss[k % ss.length]! : undefined;
    const obj = b && b.obj !== a.obj ? undefined : a.obj;
    // both programs must be in one object: pair within a batch file, else attach the sock_ops one alone
    const scenario = nofaultScenario(a.obj, a.p.name, obj ? b?.p.name : undefined, k % 2 ? 'inet6' : 'inet');
    const path = join(work, `run${k}.scenario.json`);
    let fs: NofaultFault[];
    try { fs = runNofault(path, scenario, seen); } catch (e) {
      hostErrors++;
      log(`  HOST ERROR running ${a.p.name}${obj && b ? ` + ${b.p.name}` : ''}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    ran.add(a.p.name);
    if (obj && b) ran.add(b.p.name);
    for (const fault of fs) {
      const p = fault.program === a.p.name ? a.p : b?.p;
      if (!p || faults.some((x) => x.p.name === p.name)) continue;
      faults.push({ p, obj: a.obj, scenario, fault });
    }
  }
  // setsockopt programs not paired in their own file: a scenario with the file's first sock_ops program
  for (const b of ss) {
    if (ran.has(b.p.name)) continue;
    const a = so.find((x) => x.obj === b.obj);
    if (!a) continue;
    const scenario = nofaultScenario(b.obj, a.p.name, b.p.name, 'inet');
    try {
      for (const fault of runNofault(join(work, `pair-${b.p.name}.scenario.json`), scenario, seen)) {
        const p = fault.program === b.p.name ? b.p : a.p;
        if (!faults.some((x) => x.p.name === p.name)) faults.push({ p, obj: b.obj, scenario, fault });
      }
      ran.add(b.p.name);
    } catch (e) { hostErrors++; log(`  HOST ERROR running ${b.p.name}: ${(e as Error).message.split('\n')[0]}`); }
  }
  // fixtures: at most two programs per cause (the rest are counted and listed)
  const perCause = new Map<string, number>();
  for (const f of faults) {
    const c = faultCause(f.fault.message);
    const n = perCause.get(c) ?? 0;
    perCause.set(c, n + 1);
    if (n < 2) writeFixture(work, f.p, f.fault, log);
  }
  const executed = accepted.filter((a) => seen.has(a.p.name)).length;
  const ops = new Set([...seen.values()].flatMap((s) => [...s]));
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  log(`  generated: ${progs.length}; not compiled: ${notCompiled}; kernel accepted: ${accepted.length}; rejected: ${rejected.length}; run in the emulator: ${ran.size} (${executed} executed at least once; sock_ops ops seen: ${[...ops].sort((x, y) => x - y).join(',')}); faults: ${faults.length}; host errors: ${hostErrors} (${secs} s)`);
  const cov = new Map<string, number>();
  for (const a of accepted) for (const b of a.p.blocks) cov.set(b, (cov.get(b) ?? 0) + 1);
  log(`  blocks in accepted programs: ${[...cov.entries()].sort((x, y) => x[0].localeCompare(y[0])).map(([k, n]) => `${k}:${n}`).join(' ')}`);
  const reasons = new Map<string, string[]>();
  for (const r of rejected) reasons.set(r.why, [...(reasons.get(r.why) ?? []), r.p.name]);
  for (const [w, ns] of reasons) log(`  rejected ${ns.length}x: ${w} (${ns.slice(0, 3).join(', ')})`);
  for (const [c, n] of perCause) log(`  fault cause (${n} programs): ${c}`);
  for (const f of faults) log(`  FAULT ${f.p.name}: ${f.fault.message}${f.fault.line ? ` at ${f.fault.line}` : ''} (pc ${f.fault.pc}) -> test/fixtures/nofault/${f.p.name}/`);
  // a generator that makes mostly rejected programs tests nothing: more than a quarter is a failure
  const genBad = rejected.length + notCompiled > progs.length / 4 ? 1 : 0;
  if (!process.env.NOFAULT_KEEP) rmSync(work, { recursive: true, force: true });
  else log(`  work files kept in ${work} (NOFAULT_KEEP)`);
  if (genBad) log(`  the generator made ${rejected.length + notCompiled} of ${progs.length} programs the kernel refused or clang could not compile (a generator bug)`);
  return faults.length + hostErrors + genBad;
}

/** test/fixtures/nofault/<name>/: the program alone (C, .o), its disassembly, a scenario that
 *  attaches it, and the fault seen. */
export function writeFixture(work: string, p: GeneratedProgram, fault: NofaultFault, log: (s: string) => void): void {
  const dir = join(NOFAULT_FIXTURES, p.name);
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'program.c');
  const partner = p.kind === 'setsockopt' ? generate(p.seed - 1, 'sockops') : undefined;
  writeFileSync(src, NOFAULT_PRELUDE + (partner ? partner.body + '\n\n' : '') + p.body + '\n');
  const full = join(work, `${p.name}.bpf.o`);
  const err = compile(work, src, full);
  if (err) { log(`  cannot compile fixture ${src}: ${err}`); return; }
  // DWARF of vmlinux.h's types is most of the object; .BTF/.BTF.ext (CO-RE, kfuncs, lines) stay
  const strip = spawnSync('llvm-objcopy-19', ['--strip-debug', full, join(dir, 'program.bpf.o')], { encoding: 'utf8' });
  if (strip.status !== 0) { log(`  cannot strip fixture ${full}: ${strip.stderr}`); return; }
  const dis = spawnSync('llvm-objdump-19', ['-d', '--no-show-raw-insn', join(dir, 'program.bpf.o')], { encoding: 'utf8' });
  writeFileSync(join(dir, 'disasm.txt'), dis.stdout.replace(/^.*file format.*$/m, ''));
  const sc = nofaultScenario('program.bpf.o', partner ? partner.name : p.name, partner ? p.name : undefined, 'inet');
  writeFileSync(join(dir, 'scenario.json'), sc + '\n');
  // re-run the fixture itself: the fault must reproduce from the committed files
  let again: NofaultFault[] = [];
  try { again = runNofault(join(dir, 'scenario.json'), sc); } catch (e) { again = [{ program: p.name, message: `host error: ${(e as Error).message}`, pc: -1 }]; }
  const rel = (f: NofaultFault): NofaultFault => ({ ...f, line: f.line?.replace(/^.*\//, '') });
  writeFileSync(join(dir, 'fault.json'), JSON.stringify({ program: p.name, kind: p.kind, seed: p.seed, seen: rel(fault), reproduced: again.map(rel) }, null, 2) + '\n');
}
