// VM benchmark: instructions per second of the interpreter (without and with a hook) on three
// clang-19-compiled programs in bench/programs/ (an ALU loop, a byte parse over a 4 KiB buffer,
// a call-heavy loop). Prints figures; asserts nothing. Run: node --import tsx bench/vm.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadObject } from '../debugger/object/index';
import { Vm, type Tier, type CallTable } from '../debugger/vm/index';

const DIR = join(import.meta.dirname, 'programs');
const noCalls: CallTable = { helper: () => undefined, kfunc: () => undefined };

interface Case { name: string; file: string; setup?: (vm: Vm) => bigint }

const CASES: Case[] = [
  { name: 'ALU loop', file: 'alu_loop.o' },
  {
    name: 'byte parse 4 KiB',
    file: 'byte_parse.o',
    setup: (vm) => {
      const buf = new Uint8Array(4096);
      let s = 12345;
      for (let i = 0; i < buf.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; buf[i] = s >>> 24; }
      return vm.memory.map({ name: 'buf', kind: 'packet', bytes: buf, writable: false });
    },
  },
  { name: 'call-heavy loop', file: 'call_loop.o' },
];

function measure(c: Case, tier: Tier, minMs: number, withHook: boolean): { mips: number; insns: number; r0: bigint } {
  const obj = loadObject(new Uint8Array(readFileSync(join(DIR, c.file))), c.file);
  const prog = obj.programs[0];
  const vm = new Vm({ insns: prog.insns, funcStarts: prog.funcs.map((f) => f.startPc) }, noCalls, { tier });
  const r1 = c.setup ? c.setup(vm) : 0n;
  const once = () => {
    const st = vm.run(r1, withHook ? { budget: 100_000_000, hook: () => false } : { budget: 100_000_000 });
    if (st.status !== 'exit') throw new Error(`${c.name} [${tier}]: ${st.status === 'fault' ? st.fault.message : 'paused'}`);
    return st;
  };
  once(); // warm up (and compile)
  once();
  let insns = 0, runs = 0, r0 = 0n;
  const t0 = process.hrtime.bigint();
  let ms = 0;
  while (ms < minMs || runs < 3) {
    const st = once() as { r0: bigint; insns: number };
    insns += st.insns; r0 = st.r0; runs++;
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return { mips: insns / ms / 1000, insns: insns / runs, r0 };
}

export async function benchVm(): Promise<void> {
  const minMs = Number(process.env.BENCH_MS ?? 1500);
  console.log('vm: million instructions per second (higher is better)');
  for (const c of CASES) {
    const parts: string[] = [];
    let r0s = new Set<bigint>();
    let n = 0;
    for (const hook of [false, true]) {
      const m = measure(c, 'interp', hook ? minMs / 3 : minMs, hook);
      parts.push(`${hook ? 'interp+hook' : 'interp'} ${m.mips.toFixed(1)} M/s`);
      r0s.add(m.r0); n = m.insns;
    }
    console.log(`  ${c.name.padEnd(18)} ${String(n).padStart(9)} insns/run   ${parts.join('   ')}${r0s.size > 1 ? '   HOOK CHANGES r0!' : ''}`);
    r0s = new Set();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchVm().catch((e) => { console.error(e); process.exitCode = 1; });
}
