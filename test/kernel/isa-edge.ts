// Hand-written programs at the ISA's corners, recorded from the kernel as regression fixtures
// (ORACLE_RECORD=1 npm run test:kernel) so that test/unit/oracle checks them without a kernel.
// Each is a GenProgram body (test/kernel/isa-gen.ts), so it runs in the same XDP harness.
import type { Insn } from '../../debugger/vm';
import { ALU, ALU64, JMP32, PKT_LEN, X, generate, ins, lddw, type Block, type GenProgram } from './isa-gen';

const b = (...insns: (Insn | Insn[])[]): Block => ({ insns: insns.flat() });
const mov = (cls: number, d: number, imm: number) => ins(cls | 0xb0, d, 0, 0, imm);
const movr = (cls: number, d: number, s: number, off = 0) => ins(cls | 0xb0 | X, d, s, off, 0);
const alur = (cls: number, op: number, d: number, s: number, off = 0) => ins(cls | op | X, d, s, off, 0);
const alui = (cls: number, op: number, d: number, imm: number, off = 0) => ins(cls | op, d, 0, off, imm);
const SDIV = 0x30, SMOD = 0x90, DIV = 0x30, MOD = 0x90, LSH = 0x60, RSH = 0x70, ARSH = 0xc0;

function pkt(seed: number): Uint8Array {
  return generate(seed, { blocks: 1 }).pkt.slice(0, PKT_LEN);
}

export function edgePrograms(): { name: string; note: string; prog: GenProgram }[] {
  const out: { name: string; note: string; prog: GenProgram }[] = [];
  out.push({
    name: 'edge-signed-div-overflow',
    note: 'sdiv/smod of INT_MIN by -1 (64 and 32 bit, reg and imm) and div/mod by a zero register',
    prog: { seed: 1, callees: [], pkt: pkt(1), main: [
      b(lddw(1, 0x8000000000000000n), mov(ALU64, 2, -1), movr(ALU64, 3, 1), alur(ALU64, SDIV, 3, 2, 1), movr(ALU64, 4, 1), alur(ALU64, SMOD, 4, 2, 1)),
      b(mov(ALU, 5, -0x80000000), movr(ALU64, 6, 5), alur(ALU, SDIV, 6, 2, 1), movr(ALU64, 7, 5), alur(ALU, SMOD, 7, 2, 1)),
      b(movr(ALU64, 8, 1), alui(ALU64, SDIV, 8, -1, 1), movr(ALU64, 9, 1), alui(ALU64, SMOD, 9, -1, 1)),
      b(mov(ALU64, 2, 0), lddw(0, 0xdeadbeefcafef00dn), alur(ALU64, MOD, 0, 2), alur(ALU, MOD, 5, 2)),
      b(alur(ALU64, DIV, 1, 2), ins(0x7b, 10, 0, -96 - 8, 0), ins(0x63 | 0x18, 10, 5, -112, 0)),
    ] },
  });
  out.push({
    name: 'edge-shifts-swaps-movsx',
    note: 'register shift counts beyond the width (masked), arsh32, le/be/bswap of 16/32/64, movsx',
    prog: { seed: 2, callees: [], pkt: pkt(2), main: [
      b(lddw(1, 0x8123456789abcdefn), mov(ALU64, 2, 65), movr(ALU64, 3, 1), alur(ALU64, LSH, 3, 2), movr(ALU64, 4, 1), alur(ALU64, ARSH, 4, 2)),
      b(mov(ALU64, 2, 33), movr(ALU64, 5, 1), alur(ALU, RSH, 5, 2), movr(ALU64, 6, 1), alur(ALU, ARSH, 6, 2), alui(ALU, ARSH, 1, 31)),
      b(lddw(7, 0x1122334455667788n), ins(ALU | 0xd0 | X, 7, 0, 0, 16), lddw(8, 0x1122334455667788n), ins(ALU | 0xd0, 8, 0, 0, 32), lddw(9, 0x1122334455667788n), ins(ALU64 | 0xd0, 9, 0, 0, 64)),
      b(lddw(0, 0x80ff7f80ff80ff80n), movr(ALU64, 2, 0, 8), movr(ALU64, 1, 0, 16), movr(ALU, 3, 0, 8), movr(ALU64, 4, 0, 32), movr(ALU, 0, 0, 16)),
    ] },
  });
  out.push({
    name: 'edge-atomics-32bit',
    note: '32-bit fetch atomics and cmpxchg zero-extend the old value; cmpxchg compares the low 32 bits of r0',
    prog: { seed: 3, callees: [], pkt: pkt(3), main: [
      b(lddw(1, 0xffffffff80000001n), ins(0x7b, 10, 1, -200, 0), lddw(2, 0xaaaaaaaa7fffffffn)),
      b(ins(0xc3, 10, 2, -200, 0x01)), // r2 = atomic_fetch_add((u32 *)(fp-200), r2)
      b(lddw(0, 0x12345678ffffffffn), mov(ALU64, 3, 77), ins(0xc3, 10, 3, -196, 0xf1)), // cmpxchg32 at the high half
      b(mov(ALU64, 4, -1), ins(0xdb, 10, 4, -200, 0xe1), lddw(5, 0x0f0f0f0f0f0f0f0fn), ins(0xdb, 10, 5, -208, 0x51)),
    ] },
  });
  // A generated program with three nested callees (callee r6-r9 and stack are their own).
  for (let s = 1; s < 5000; s++) {
    const g = generate(s);
    if (g.callees.length === 3 && g.main.some((x) => x.jumpTo !== undefined && (x.insns[0].code & 7) === JMP32)) {
      out.push({ name: `edge-calls-seed-${s}`, note: 'generated program with three nested bpf-to-bpf calls and jmp32', prog: g });
      break;
    }
  }
  return out;
}
