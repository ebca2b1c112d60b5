// The VM benchmark's measurement of our own engines (interpreter, fast tier, interpreter with a
// hook) on one of the programs of bench/programs/. bench/vm.ts runs it in a child process from
// an esbuild bundle (how the CLI ships: plain node, no loader hooks), or in-process.
//   node BUNDLE measure PROGRAMS_DIR CASE TIER MS HOOK   prints one JSON Figure
// Times are CPU time of the process (process.cpuUsage), after a warm-up until V8 has optimized.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../debugger/object/index';
import { Vm, type Tier, type CallTable, type Insn } from '../debugger/vm/index';

export interface Case { name: string; file: string; buf?: () => Uint8Array }
export interface Prog { insns: Insn[]; funcStarts: number[] }
export interface Figure { mips: number; insns: number; r0: bigint }

function parseBuffer(): Uint8Array {
  const buf = new Uint8Array(4096);
  let s = 12345;
  for (let i = 0; i < buf.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; buf[i] = s >>> 24; }
  return buf;
}

export const CASES: Case[] = [
  { name: 'ALU loop', file: 'alu_loop.o' },
  { name: 'byte parse 4 KiB', file: 'byte_parse.o', buf: parseBuffer },
  { name: 'call-heavy loop', file: 'call_loop.o' },
];

const noCalls: CallTable = { helper: () => undefined, kfunc: () => undefined };

export function program(dir: string, c: Case): Prog {
  const obj = loadObject(new Uint8Array(readFileSync(join(dir, c.file))), c.file);
  const prog = obj.programs[0];
  return { insns: prog.insns, funcStarts: prog.funcs.map((f) => f.startPc) };
}

export function measure(c: Case, p: Prog, tier: Tier, ms: number, withHook: boolean): Figure {
  const vm = new Vm({ insns: p.insns, funcStarts: p.funcStarts }, noCalls, { tier });
  const r1 = c.buf ? vm.memory.map({ name: 'buf', kind: 'packet', bytes: c.buf(), writable: false }) : 0n;
  const once = () => {
    const st = vm.run(r1, withHook ? { budget: 100_000_000, hook: () => false } : { budget: 100_000_000 });
    if (st.status !== 'exit') throw new Error(`${c.name} [${tier}]: ${st.status === 'fault' ? st.fault.message : 'paused'}`);
    return st;
  };
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  // warm up until V8 has optimized the loop (its compiler threads count in CPU time too)
  for (let w = cpu(), k = 0; k < 2 || cpu() - w < Math.min(300, ms / 2); k++) once();
  let insns = 0, runs = 0, r0 = 0n;
  const t0 = cpu();
  let el = 0;
  while (el < ms || runs < 3) {
    const st = once() as { r0: bigint; insns: number };
    insns += st.insns; r0 = st.r0; runs++;
    el = cpu() - t0;
  }
  return { mips: insns / el / 1000, insns: insns / runs, r0 };
}

/** The child's entry: argv measure PROGRAMS_DIR CASE_FILE TIER MS HOOK(0|1). */
export function engineMain(argv: string[]): void {
  const [dir, file, tier, ms, hook] = argv;
  const c = CASES.find((x) => x.file === file);
  if (!c || (tier !== 'interp' && tier !== 'fast')) throw new Error(`vm-engine: bad arguments ${JSON.stringify(argv)}`);
  const f = measure(c, program(dir, c), tier, Number(ms), hook === '1');
  process.stdout.write(JSON.stringify({ mips: f.mips, insns: f.insns, r0: f.r0.toString() }) + '\n');
}

if (process.argv[2] === 'measure') engineMain(process.argv.slice(3));
