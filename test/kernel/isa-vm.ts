// Our side of the ISA differential: run a generated program (test/kernel/isa-gen.ts) in the VM
// with the packet as a region, the way BPF_PROG_TEST_RUN runs it for XDP in the kernel.
import { Memory, createVm, type CallTable, type Insn, type Tier } from '../../debugger/vm';
import { PKT_LEN, emit, type Block, type GenProgram } from './isa-gen';

const NO_CALLS: CallTable = { helper: () => undefined, kfunc: () => undefined };

export type VmResult =
  | { ok: true; retval: number; r0: bigint; out: Uint8Array; insns: number }
  | { ok: false; message: string };

export function runInVm(p: GenProgram, tier: Tier = 'interp'): VmResult {
  const memory = new Memory();
  const pkt = new Uint8Array(p.pkt);
  const data = memory.map({ name: 'packet', kind: 'packet', bytes: pkt, writable: true });
  const e = emit(p, { kind: 'vm', data, dataEnd: data + BigInt(PKT_LEN) });
  let vm;
  try {
    vm = createVm({ insns: e.insns, funcStarts: e.funcStarts }, NO_CALLS, { memory, tier });
  } catch (err) {
    return { ok: false, message: `VM refused the program: ${(err as Error).message}` };
  }
  const st = vm.run(0n, { budget: 100_000 });
  if (st.status !== 'exit') return { ok: false, message: st.status === 'fault' ? `fault at insn ${st.fault.pc}: ${st.fault.message}` : `paused at ${st.pc}` };
  return { ok: true, retval: Number(st.r0 & 0xffffffffn), r0: st.r0, out: pkt, insns: st.insns };
}

// ---- regression fixtures (test/fixtures/kernel-regressions/*.json) ----
export interface RegressionFixture {
  name: string;
  /** What disagreed, in words (kernel vs ours when found). */
  note: string;
  seed: number;
  main: Block[];
  callees: Block[][];
  pktHex: string;
  /** The kernel's answer (BPF_PROG_TEST_RUN of the XDP program). */
  kernel: { retval: number; outHex: string };
  /** Ours when the fixture was saved (informative; the test compares with `kernel`). */
  oursAtSave?: string;
  kernelRelease?: string;
}

export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

export function fixtureProgram(f: RegressionFixture): GenProgram {
  const fix = (b: Block): Block => ({ ...b, insns: b.insns.map((x: Insn) => ({ ...x })) });
  return { seed: f.seed, main: f.main.map(fix), callees: f.callees.map((c) => c.map(fix)), pkt: fromHex(f.pktHex) };
}

/** Compare a VM result with the kernel's; null when they agree, else what differs. */
export function diff(kernel: { retval: number; out: Uint8Array }, ours: VmResult): string | null {
  if (!ours.ok) return `kernel exited with retval ${kernel.retval}; ours: ${ours.message}`;
  const parts: string[] = [];
  if (ours.retval !== kernel.retval) parts.push(`retval kernel 0x${kernel.retval.toString(16)} ours 0x${ours.retval.toString(16)}`);
  const n = Math.max(kernel.out.length, ours.out.length);
  for (let i = 0; i < n; i++) {
    if (kernel.out[i] !== ours.out[i]) {
      const slot = i & ~7;
      const where = slot < 248 ? `stack fp-${256 - slot}` : `packet byte ${slot}`;
      const rd = (b: Uint8Array) => toHex(b.subarray(slot, slot + 8));
      parts.push(`first differing output byte ${i} (${where}${slot >= 168 && slot < 248 ? `, r${(240 - slot) / 8} dump` : ''}): kernel ${rd(kernel.out)} ours ${rd(ours.out)}`);
      break;
    }
  }
  return parts.length ? parts.join('; ') : null;
}
