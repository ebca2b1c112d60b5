// Our side of the bpf_loop oracle: every program of test/kernel/progs/loop_oracle.bpf.o in a bare
// VM with bpf_loop (debugger/kernel/bpf/callbacks.ts) and the object's .bss as a region, the way
// BPF_PROG_TEST_RUN runs them as socket filters (r1: a zeroed struct __sk_buff; they do not read it),
// with a budget of 20M instructions.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObject } from '../../debugger/object';
import { createVm, Memory, type CallTable } from '../../debugger/vm';
import { bpfLoopHelperFor } from '../../debugger/kernel/bpf/callbacks';

const HERE = dirname(fileURLToPath(import.meta.url));
export const LOOP_OBJ = resolve(HERE, 'progs/loop_oracle.bpf.o');
export const LOOP_FIXTURE = resolve(HERE, '../fixtures/kernel/loop-oracle.json');

/** One program's outcome: the u32 retval and the .bss bytes (hex), or why it did not finish. */
export type LoopOutcome = { retval: number; bss: string } | { error: string };

/** What test:kernel recorded from the live kernel (test/fixtures/kernel/loop-oracle.json). */
export interface LoopFixture {
  kernelRelease: string;
  programs: Record<string, { retval: number; bss: string; knownGap?: string; ours?: LoopOutcome }>;
}

/** The kernel has no run-time instruction limit: bpf_loop(100000, ...) runs past our default budget. */
const BUDGET = 20_000_000;

export function runLoopProgramsInVm(file = LOOP_OBJ): Map<string, LoopOutcome> {
  const obj = loadObject(new Uint8Array(readFileSync(file)), file);
  const bssIndex = obj.maps.findIndex((m) => m.name === '.bss');
  if (bssIndex < 0) throw new Error(`${file}: no .bss section`);
  const out = new Map<string, LoopOutcome>();
  for (const prog of obj.programs) {
    const memory = new Memory();
    const bss = new Uint8Array(obj.maps[bssIndex]!.valueSize);
    const bssBase = memory.map({ name: '.bss', kind: 'global', bytes: bss, writable: true });
    const ctx = memory.map({ name: 'struct __sk_buff', kind: 'ctx', bytes: new Uint8Array(192), writable: false });
    try {
      const loop = bpfLoopHelperFor(prog.insns);
      const calls: CallTable = { helper: (id) => (id === 181 ? loop : undefined), kfunc: () => undefined };
      const vm = createVm({
        insns: prog.insns,
        funcStarts: prog.funcs.map((f) => f.startPc),
        resolveLdImm64: (pc, src, imm, nextImm) => {
          if (src === 2 && imm === bssIndex) return bssBase + BigInt(nextImm >>> 0);
          throw new Error(`insn ${pc}: ld_imm64 src=${src} of map #${imm}: only .bss is set up here`);
        },
      }, calls, { memory });
      const st = vm.run(ctx, { budget: BUDGET });
      if (st.status === 'exit') out.set(prog.name, { retval: Number(st.r0 & 0xffffffffn), bss: Buffer.from(bss).toString('hex') });
      else out.set(prog.name, { error: st.status === 'fault' ? `fault at insn ${st.fault.pc}: ${st.fault.message}` : 'paused' });
    } catch (e) {
      out.set(prog.name, { error: (e as Error).message });
    }
  }
  return out;
}

/** The u64 slots of a .bss hex string. */
export function slots(hex: string): bigint[] {
  const b = Buffer.from(hex, 'hex');
  return Array.from({ length: b.length >> 3 }, (_, i) => b.readBigUInt64LE(i * 8));
}

/** null when ours matches the kernel's, else what differs. */
export function loopDiff(kernel: { retval: number; bss: string }, ours: LoopOutcome): string | null {
  if ('error' in ours) return `kernel retval ${kernel.retval}; ours: ${ours.error}`;
  const parts: string[] = [];
  if (ours.retval !== kernel.retval) parts.push(`retval kernel 0x${kernel.retval.toString(16)} ours 0x${ours.retval.toString(16)}`);
  const k = slots(kernel.bss), o = slots(ours.bss);
  for (let i = 0; i < Math.max(k.length, o.length); i++) {
    if (k[i] !== o[i]) parts.push(`out[${i}] kernel 0x${k[i]?.toString(16)} ours 0x${o[i]?.toString(16)}`);
  }
  return parts.length ? parts.join('; ') : null;
}
