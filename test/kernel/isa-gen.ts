// Random eBPF programs the verifier accepts, for the ISA differential (issue 7 part 2) and
// bench/fuzz.ts. A program is an XDP harness around a random body:
//   prologue  bound-check the packet, spill its pointer to fp-8, copy packet bytes into the
//             stack and registers r0..r9 (so every value is unknown to the verifier),
//   body      random blocks: ALU/ALU32 (div/mod/shifts, sdiv/smod, movsx), byte swaps, lddw,
//             stack loads/stores of every width (incl. sign-extending loads), atomics on the
//             stack, forward jmp/jmp32/ja/gotol, bpf-to-bpf calls,
//   epilogue  spill r0..r9 to the stack, copy the whole stack (but the pointer slot) into the
//             packet, exit with r0.
// The kernel reads the packet pointers from struct xdp_md; our VM gets them as ld_imm64
// constants. Both prologues take 4 slots, so the body and epilogue are the same bytes.
import type { Insn } from '../../debugger/vm';

// ---- encoding ----
export const ALU = 0x04, ALU64 = 0x07, JMP = 0x05, JMP32 = 0x06, X = 0x08;
const ALU_OP = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, neg: 0x80, mod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0, end: 0xd0 } as const;
const JCOND = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]; // jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle
const SZ = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 } as const;
const MEM = 0x60, MEMSX = 0x80, ATOMIC = 0xc0;
const ATOMIC_IMMS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

export const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm: imm | 0 });
const ldx = (size: 1 | 2 | 4 | 8, dst: number, src: number, off: number, sx = false) => ins(0x01 | (sx ? MEMSX : MEM) | SZ[size], dst, src, off, 0);
const stx = (size: 1 | 2 | 4 | 8, dst: number, src: number, off: number) => ins(0x03 | MEM | SZ[size], dst, src, off, 0);
const st = (size: 1 | 2 | 4 | 8, dst: number, off: number, imm: number) => ins(0x02 | MEM | SZ[size], dst, 0, off, imm);
const mov64 = (dst: number, src: number) => ins(ALU64 | ALU_OP.mov | X, dst, src, 0, 0);
const movi = (dst: number, imm: number) => ins(ALU64 | ALU_OP.mov, dst, 0, 0, imm);
const EXIT = ins(0x95, 0, 0, 0, 0);
export const lddw = (dst: number, v: bigint): Insn[] => [
  ins(0x18, dst, 0, 0, Number(BigInt.asIntN(32, v))),
  ins(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
];

// ---- layout ----
/** Bytes of the main frame's stack the harness uses (fp-STACK .. fp). */
export const STACK = 256;
/** fp-8: the spilled packet pointer; fp-16 .. fp-88: r0..r9 at the end; body area below. */
const REG_DUMP = 16;
const BODY_TOP = 96; // body accesses lie in [fp-STACK, fp-BODY_TOP)
const CALLEE_STACK = 64;
/** Packet: the stack image (STACK - 8 bytes), then r0..r9 inputs, then 8 spare bytes. */
export const PKT_LEN = STACK + 80 + 8;
const PKT_REGS = STACK;
const MAX_CALLEES = 3;

/** A straight-line piece of the body; jumps and calls name a block, resolved at emission. */
export interface Block {
  insns: Insn[];
  /** Last insn is a jump whose target is the start of block `jumpTo` (absolute index). */
  jumpTo?: number;
  /** Insn index in `insns` of a pseudo call to callee number `callee`. */
  call?: { at: number; callee: number };
}

export interface GenProgram {
  seed: number;
  main: Block[];
  callees: Block[][];
  pkt: Uint8Array;
}

// ---- PRNG (splitmix32-style mixing over a 32-bit state; deterministic per seed) ----
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 0x9e3779b9; }
  u32(): number {
    let z = (this.s = (this.s + 0x9e3779b9) >>> 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  int(n: number): number { return this.u32() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
}

const SPECIAL32 = [0, 1, -1, 2, 7, 8, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, -2, 3];
function imm32(r: Rng): number {
  return r.chance(0.5) ? r.pick(SPECIAL32) | 0 : r.u32() | 0;
}
function value64(r: Rng): bigint {
  const specials = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffn, 0x80000000n, 0x100000000n];
  return r.chance(0.3) ? r.pick(specials) : (BigInt(r.u32()) << 32n) | BigInt(r.u32());
}

interface Scope {
  regs: number[]; // registers the body may read and write
  stackLo: number; // body area [stackLo, stackHi) as negative fp offsets
  stackHi: number;
  callees: number; // callee numbers callable from here are > self
  self: number; // -1 for main
  nCallees: number;
}

function aluBlock(r: Rng, sc: Scope): Insn[] {
  const dst = r.pick(sc.regs);
  const cls = r.chance(0.5) ? ALU64 : ALU;
  const k = r.int(100);
  if (k < 6) return [ins(cls | ALU_OP.neg, dst, 0, 0, 0)];
  if (k < 14) { // byte swaps: le/be (ALU), bswap (ALU64)
    const width = r.pick([16, 32, 64]);
    const form = r.int(3);
    return [form === 0 ? ins(ALU | ALU_OP.end, dst, 0, 0, width) : form === 1 ? ins(ALU | ALU_OP.end | X, dst, 0, 0, width) : ins(ALU64 | ALU_OP.end, dst, 0, 0, width)];
  }
  if (k < 20) { // movsx
    const src = r.pick(sc.regs);
    const off = cls === ALU64 ? r.pick([8, 16, 32]) : r.pick([8, 16]);
    return [ins(cls | ALU_OP.mov | X, dst, src, off, 0)];
  }
  if (k < 24) return lddw(dst, value64(r));
  const name = r.pick(['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'mod', 'xor', 'mov', 'arsh', 'sdiv', 'smod'] as const);
  const signed = name === 'sdiv' || name === 'smod';
  const op = ALU_OP[signed ? (name === 'sdiv' ? 'div' : 'mod') : name];
  const off = signed ? 1 : 0;
  if (r.chance(0.5)) return [ins(cls | op | X, dst, r.pick(sc.regs), off, 0)];
  let imm = imm32(r);
  if (name === 'lsh' || name === 'rsh' || name === 'arsh') imm = r.int(cls === ALU64 ? 64 : 32); // verifier: "invalid shift"
  if ((op === ALU_OP.div || op === ALU_OP.mod) && imm === 0) imm = r.pick([1, -1, 3, -7, 0x10000]); // "div by zero"
  return [ins(cls | op, dst, 0, off, imm)];
}

function memBlock(r: Rng, sc: Scope): Insn[] {
  const size = r.pick([1, 2, 4, 8] as const);
  const slots = (sc.stackHi - sc.stackLo) / size;
  const off = sc.stackLo + size * r.int(slots); // aligned: stack accesses must be (verifier)
  const reg = r.pick(sc.regs);
  const k = r.int(100);
  if (k < 30) return [ldx(size, reg, 10, off)];
  if (k < 45 && size !== 8) return [ldx(size, reg, 10, off, true)];
  if (k < 60) return [st(size, 10, off, imm32(r))];
  if (k < 80 || size < 4) return [stx(size, 10, reg, off)];
  // atomics: W and DW; cmpxchg compares with r0 and loads r0, so it needs r0 in scope
  let a = r.pick(ATOMIC_IMMS);
  if (a === 0xf1 && !sc.regs.includes(0)) a = 0xe1;
  let src = reg;
  if (a === 0xf1 && src === 0) src = sc.regs.find((x) => x !== 0)!;
  return [ins(0x03 | ATOMIC | SZ[size], 10, src, off, a)];
}

function jumpBlock(r: Rng, sc: Scope, here: number, n: number, unconditional: boolean): Block {
  const target = here + 1 + r.int(Math.min(6, n - here)); // a later block, or the end of the body
  if (unconditional) return { insns: [r.chance(0.5) ? ins(JMP, 0, 0, 0, 0) : ins(JMP32, 0, 0, 0, 0)], jumpTo: target }; // ja / gotol
  const cls = r.chance(0.5) ? JMP : JMP32;
  const op = r.pick(JCOND);
  const dst = r.pick(sc.regs);
  return r.chance(0.5)
    ? { insns: [ins(cls | op | X, dst, r.pick(sc.regs), 0, 0)], jumpTo: target }
    : { insns: [ins(cls | op, dst, 0, 0, imm32(r))], jumpTo: target };
}

/** A pseudo call with r1..r5 set, then r1..r5 reloaded (the verifier marks them unreadable). */
function callBlock(r: Rng, sc: Scope, callee: number): Block {
  const out: Insn[] = [];
  const reload = (): Insn[] => [1, 2, 3, 4, 5].filter((x) => sc.regs.includes(x)).map((x) => ldx(8, x, 10, sc.stackLo + 8 * r.int((sc.stackHi - sc.stackLo) / 8)));
  for (let a = 1; a <= 5; a++) if (!sc.regs.includes(a)) out.push(movi(a, imm32(r)));
  const at = out.length;
  out.push(ins(JMP | 0x80, 0, 1, 0, 0));
  out.push(...reload());
  return { insns: out, call: { at, callee } };
}

/** Make sure `blocks` calls callee `callee` (an uncalled subprogram is "unreachable insn"). */
function ensureCall(r: Rng, sc: Scope, blocks: Block[], callee: number): void {
  if (blocks.some((b) => b.call?.callee === callee)) return;
  const plain = blocks.map((b, i) => (b.jumpTo === undefined && !b.call ? i : -1)).filter((i) => i >= 0);
  const at = plain.length ? r.pick(plain) : -1;
  const blk = callBlock(r, sc, callee);
  if (at >= 0) blocks[at] = blk; else blocks.push(blk);
}

function genBlocks(r: Rng, sc: Scope, n: number): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < n; i++) {
    const k = r.int(100);
    if (k < 3 && i < n - 3) {
      // ja/gotol: a conditional jump over it keeps the skipped blocks reachable (check_cfg)
      const c = jumpBlock(r, sc, i, n, false);
      blocks.push({ ...c, jumpTo: i + 2 });
      const u = jumpBlock(r, sc, i + 2, n, true);
      blocks.push(u);
      i++;
    } else if (k < 12 && i < n - 1) blocks.push(jumpBlock(r, sc, i, n, false));
    else if (k < 16 && sc.self + 1 < sc.nCallees) blocks.push(callBlock(r, sc, sc.self + 1 + r.int(sc.nCallees - sc.self - 1)));
    else if (k < 50) blocks.push({ insns: memBlock(r, sc) });
    else blocks.push({ insns: aluBlock(r, sc) });
  }
  return blocks;
}

/** One random program, fully determined by `seed`. */
export function generate(seed: number, opts: { blocks?: number } = {}): GenProgram {
  const r = new Rng(seed);
  const nBlocks = opts.blocks ?? 8 + r.int(40);
  const nCallees = r.chance(0.3) ? 1 + r.int(MAX_CALLEES) : 0;
  const mainScope: Scope = { regs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], stackLo: -STACK, stackHi: -BODY_TOP, callees: 0, self: -1, nCallees };
  const main = genBlocks(r, mainScope, nBlocks);
  if (nCallees) ensureCall(r, mainScope, main, 0);
  const callees: Block[][] = [];
  for (let c = 0; c < nCallees; c++) {
    const sc: Scope = { regs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], stackLo: -CALLEE_STACK, stackHi: 0, callees: 0, self: c, nCallees };
    const b = genBlocks(r, sc, 3 + r.int(12));
    if (c + 1 < nCallees) ensureCall(r, sc, b, c + 1);
    callees.push(b);
  }
  const pkt = new Uint8Array(PKT_LEN);
  for (let i = 0; i < PKT_LEN; i += 4) new DataView(pkt.buffer).setUint32(i, r.chance(0.2) ? r.pick(SPECIAL32) >>> 0 : r.u32(), true);
  return { seed, main, callees, pkt };
}

// ---- emission ----
/** Where the emitted program keeps things, for the runner and the minimiser. */
export interface Emitted {
  insns: Insn[];
  funcStarts: number[];
}

/** Prologue for one side. 'kernel' reads xdp_md.data/data_end; 'vm' loads the given addresses. */
function prologue(side: { kind: 'kernel' } | { kind: 'vm'; data: bigint; dataEnd: bigint }, exitAt: (pcOfJump: number) => number): Insn[] {
  const p: Insn[] = side.kind === 'kernel'
    ? [ldx(4, 2, 1, 0), ins(JMP, 0, 0, 0, 0), ldx(4, 3, 1, 4), ins(JMP, 0, 0, 0, 0)] // ja +0 pads to the vm's 2 x lddw
    : [...lddw(2, side.data), ...lddw(3, side.dataEnd)];
  p.push(mov64(4, 2), ins(ALU64 | ALU_OP.add, 4, 0, 0, PKT_LEN));
  p.push(ins(JMP | 0x20 | X, 4, 3, exitAt(p.length), 0)); // if r4 > r3 goto the early exit
  p.push(stx(8, 10, 2, -8));
  for (let o = 0; o < STACK - 8; o += 8) p.push(ldx(8, 4, 2, o), stx(8, 10, 4, -STACK + o));
  for (let i = 0; i <= 9; i++) if (i !== 2) p.push(ldx(8, i, 2, PKT_REGS + 8 * i));
  p.push(ldx(8, 2, 2, PKT_REGS + 16));
  return p;
}

function epilogue(): Insn[] {
  const e: Insn[] = [];
  for (let i = 0; i <= 9; i++) e.push(stx(8, 10, i, -REG_DUMP - 8 * i));
  e.push(ldx(8, 1, 10, -8));
  for (let o = 0; o < STACK - 8; o += 8) e.push(ldx(8, 2, 10, -STACK + o), stx(8, 1, 2, o));
  e.push(EXIT);
  return e;
}

function calleeFrame(blocks: Block[]): { pre: Insn[]; post: Insn[] } {
  const pre: Insn[] = [];
  for (let a = 1; a <= 5; a++) pre.push(stx(8, 10, a, -8 * a));
  for (let s = 6; s <= 8; s++) pre.push(st(8, 10, -8 * s, 0x5a5a0000 + s));
  pre.push(mov64(0, 1), mov64(6, 2), mov64(7, 3), mov64(8, 4), mov64(9, 5)); // callee r6-r9 are fresh: init them
  const post: Insn[] = [];
  for (let s = 1; s <= 8; s++) post.push(ldx(8, 1, 10, -8 * s), ins(ALU64 | (s & 1 ? ALU_OP.xor : ALU_OP.add) | X, 0, 1, 0, 0));
  for (const x of [6, 7, 8, 9]) post.push(ins(ALU64 | ALU_OP.mul, 0, 0, 0, 0x01000193), ins(ALU64 | ALU_OP.xor | X, 0, x, 0, 0));
  post.push(EXIT);
  void blocks;
  return { pre, post };
}

/** Lay out main + callees for one side. */
export function emit(p: GenProgram, side: { kind: 'kernel' } | { kind: 'vm'; data: bigint; dataEnd: bigint }): Emitted {
  const out: Insn[] = [];
  const fixups: { pc: number; block: number[]; kind: 'jump' | 'call'; blockIdx?: number; callee?: number }[] = [];
  let earlyExitFix = -1;
  out.push(...prologue(side, (at) => { earlyExitFix = at; return 0; }));
  const emitBlocks = (blocks: Block[]): number[] => {
    const starts: number[] = [];
    for (const b of blocks) {
      starts.push(out.length);
      const base = out.length;
      out.push(...b.insns.map((x) => ({ ...x })));
      if (b.jumpTo !== undefined) fixups.push({ pc: out.length - 1, block: starts, kind: 'jump', blockIdx: b.jumpTo });
      if (b.call) fixups.push({ pc: base + b.call.at, block: starts, kind: 'call', callee: b.call.callee });
    }
    starts.push(out.length); // "end of body"
    return starts;
  };
  emitBlocks(p.main);
  out.push(...epilogue());
  const earlyExit = out.length;
  out.push(movi(0, 0), EXIT);
  out[earlyExitFix].off = earlyExit - earlyExitFix - 1;
  const calleeStart: number[] = [];
  for (const c of p.callees) {
    const f = calleeFrame(c);
    calleeStart.push(out.length);
    out.push(...f.pre);
    emitBlocks(c);
    out.push(...f.post);
  }
  for (const f of fixups) {
    const x = out[f.pc];
    if (f.kind === 'call') x.imm = calleeStart[f.callee!] - f.pc - 1;
    else {
      const rel = f.block[Math.min(f.blockIdx!, f.block.length - 1)] - f.pc - 1;
      if ((x.code & 0x07) === JMP32 && (x.code & 0xf0) === 0) x.imm = rel; // gotol
      else x.off = rel;
    }
  }
  return { insns: out, funcStarts: [0, ...calleeStart] };
}

/** Opcode identity for coverage: the byte, plus what the byte does not say (sdiv/smod, movsx, atomic op, end width). */
export function opcodeKey(x: Insn): string | null {
  const code = x.code & 0xff;
  const cls = code & 7;
  const h = '0x' + code.toString(16).padStart(2, '0');
  if (code === 0) return null; // second lddw slot
  if ((cls === ALU || cls === ALU64) && ((code & 0xf0) === ALU_OP.div || (code & 0xf0) === ALU_OP.mod) && x.off === 1) return `${h}/s`;
  if ((cls === ALU || cls === ALU64) && (code & 0xf0) === ALU_OP.mov && x.off !== 0) return `${h}/sx${x.off}`;
  if ((cls === ALU || cls === ALU64) && (code & 0xf0) === ALU_OP.end) return `${h}/${x.imm}`;
  if (cls === 0x03 && (code & 0xe0) === ATOMIC) return `${h}/${'0x' + (x.imm & 0xfff).toString(16)}`;
  if (code === 0x85) return `${h}/src${x.src}`;
  return h;
}
