// Random programs per second through our interpreter alone (issue 7): the generator of the ISA
// differential (test/kernel/isa-gen.ts), no kernel. Prints generation and execution rates.
import { emit, generate } from '../test/kernel/isa-gen';
import { runInVm } from '../test/kernel/isa-vm';

export async function benchFuzz(): Promise<void> {
  const seed = Number(process.env.ORACLE_SEED ?? 7) >>> 0;
  const n = Number(process.env.FUZZ_PROGRAMS ?? 20_000);
  for (let i = 0; i < 200; i++) runInVm(generate(seed + i)); // warm-up
  let t = process.hrtime.bigint();
  let insnsStatic = 0;
  for (let i = 0; i < n; i++) insnsStatic += emit(generate(seed + i), { kind: 'kernel' }).insns.length;
  const genS = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  let executed = 0, faults = 0;
  for (let i = 0; i < n; i++) {
    const r = runInVm(generate(seed + i));
    if (r.ok) executed += r.insns; else faults++;
  }
  const runS = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`generate + emit: ${Math.round(n / genS)} programs/s (${(insnsStatic / n).toFixed(0)} insns per program)`);
  console.log(`generate + prepare + run in the interpreter: ${Math.round(n / runS)} programs/s, ${(executed / runS / 1e6).toFixed(1)} M insns/s executed (${n} programs, seed ${seed}, ${faults} faults)`);
}
