// The generated interpreter loops (one switch over the opcode, cases from ./semantics).
//
// Two loops share the case bodies:
//   blocks   counts instructions per basic block: the dispatch code of a block's first
//            instruction is opcode + 256, whose case checks that the whole block fits in the
//            limit, adds its length and falls through into the opcode's case; the other
//            instructions pay nothing for counting. A fault inside a block takes back the
//            instructions after it (brem). A block that does not fit returns R_PRECISE.
//   precise  counts and checks every instruction (single steps, hooks, the end of a budget);
//            with stopAtLeader it hands back at the next block start that fits (R_LEADER).
// Operands are read once per case (dd, ss, ii, oo); dst and src come from the dispatch word.
import { MAX_FRAMES, STACK_SIZE, type Vm } from './interp';
import { OPS } from './opcodes';
import { CALL_LOCAL } from './ops/call';
import { BPF_MAX_LOOPS } from './ops/jump';
import { HELPER_FNS, HELPER_NAMES, instantiate, template } from './semantics';

// Loop outcome codes.
export const R_LIMIT = 0, R_FAULT = 1, R_EXIT = 2, R_PRECISE = 3, R_LEADER = 4;
/** Added to the opcode in Vm.disp for the first instruction of a basic block. */
export const LEADER = 256;
/** Added to the opcode in Vm.disp when the instruction's off field is 0 and its meaning reads
 *  it (loads/stores at +0, plain mov, div, mod): those cases have the 0 built in. */
export const ZERO_OFF = 512;
/** The bits of Vm.disp the switch dispatches on; above them dst (bits 12-15), src (16-19) and off (20-31, see BIG_OFF). */
export const DISPATCH = 1023;
/** Set in Vm.disp when off does not fit the 12 signed bits 20-31 (then it is read from Vm.off). */
export const BIG_OFF = 1024;
/** Opcodes whose semantics template reads the off field. */
export const READS_OFF = new Uint8Array(256).map((_, c) => {
  const info = OPS[c];
  const t = info ? template(info) : null;
  return t && (t.pre + (t.cond ?? '')).includes('$off') ? 1 : 0;
});

export type Loop = (vm: Vm, pc: number, n: number, limit: number, stopAtLeader?: boolean) => number;

/** The statements of one opcode's case; `count` is how the loop writes vm.count at a fault. */
function caseBody(code: number, count: string, zeroOff = false): string {
  const info = OPS[code]!;
  const fault = `{ vm._pc = pc; vm.count = ${count}; return 1; }`;
  const t = template(info, zeroOff);
  if (t) {
    const all = t.pre + (t.cond ?? '');
    const decl: string[] = [];
    if (all.includes('$d')) decl.push('dd = (x >>> 12) & 15');
    if (all.includes('$s')) decl.push('ss = (x >>> 16) & 15');
    if (all.includes('$imm') || all.includes('$ih')) decl.push('ii = I[pc]');
    if (all.includes('$off') && !zeroOff) decl.push(`oo = (x & ${BIG_OFF}) === 0 ? x >> 20 : O[pc]`);
    const sub = { d: 'dd', s: 'ss', imm: 'ii', ih: '(ii>>31)', off: zeroOff ? '0' : 'oo', pc: 'pc', fault };
    const pre = (decl.length ? `const ${decl.join(', ')}; ` : '') + instantiate(t.pre, sub);
    return t.cond !== undefined ? `${pre} if (${instantiate(t.cond, sub)}) pc = T[pc]; else pc++; continue;` : `${pre} pc++; continue;`;
  }
  switch (info.kind) {
    case 'ja': return 'pc = T[pc]; continue;';
    // may_goto: falls through while the frame's budget lasts (taking one), jumps once it is 0;
    // may_goto +0 is removed at load (kernel/bpf/fixups.c bpf_opt_remove_nops) and takes none
    case 'maygoto': return 'if (O[pc] !== 0) { const k = vm.depth; if (MG[k] === 0) { pc = T[pc]; continue; } MG[k]--; } pc++; continue;';
    case 'lddw': return '{ const dd = (x >>> 12) & 15; L[dd] = KL[pc]; H[dd] = KH[pc]; pc += 2; continue; }';
    // bpf-to-bpf calls and returns inline (what Vm.call / Vm.popFrame do for them); helpers,
    // kfuncs and callback frames through the Vm. r6-r9 are saved and restored only around a
    // function that writes one of them (Vm.writes69): else they come back unchanged anyway.
    case 'call': return `if (((x >>> 16) & 15) === ${CALL_LOCAL}) { const k = vm.depth + 1; if (k >= ${MAX_FRAMES}) { vm.callOverflow(pc); ${fault} } vm.depth = k; const t = T[pc], w = W69[t]; SOK[k] = w; `
      + 'if (w !== 0) { const b = k * 8; SV[b] = L[6]; SV[b+1] = H[6]; SV[b+2] = L[7]; SV[b+3] = H[7]; SV[b+4] = L[8]; SV[b+5] = H[8]; SV[b+6] = L[9]; SV[b+7] = H[9]; } '
      + `RP[k] = pc + 1; FS[k] = t; MG[k] = ${BPF_MAX_LOOPS}; const f = FF[t]; if (f < ${STACK_SIZE}) { if (f >= ${STACK_SIZE - 64}) { const z = S32[k]; for (let i = f >> 2; i < ${STACK_SIZE / 4}; i++) z[i] = 0; } else STK[k].fill(0, f); } L[10] = ${STACK_SIZE}; H[10] = SHI[k]; pc = t; continue; }`
      + `{ const t = vm.call(pc); if (t < 0) ${fault} pc = t; continue; }`;
    default: return `{ const k = vm.depth; if (k === 0) { vm._pc = pc; vm.count = n; return 2; } if (CB[k] === null) { `
      + 'if (SOK[k] !== 0) { const b = k * 8; L[6] = SV[b]; H[6] = SV[b+1]; L[7] = SV[b+2]; H[7] = SV[b+3]; L[8] = SV[b+4]; H[8] = SV[b+5]; L[9] = SV[b+6]; H[9] = SV[b+7]; } '
      + `vm.depth = k - 1; L[10] = ${STACK_SIZE}; H[10] = SHI[k - 1]; pc = RP[k]; continue; } }`
      + '{ const t = vm.popFrame(); if (t < 0) { vm.count = n; return 1; } pc = t; continue; }';
  }
}

const PROLOGUE = 'const L = vm.lo, H = vm.hi, SL = vm.memory.slots, X = vm.disp, BL = vm.blen, BR = vm.brem, O = vm.off, I = vm.imm, T = vm.tgt, KL = vm.klo, KH = vm.khi, MG = vm.mgLeft, '
  + 'SV = vm.saved, RP = vm.retPc, FS = vm.fnStart, FF = vm.fillFrom, STK = vm.stackBytes, SHI = vm.stackHi, CB = vm.cbIter, S32 = vm.stack32, W69 = vm.writes69, SOK = vm.savedOk;';
const BAD = `default: vm.setFault('bad-insn', pc, 'unknown opcode 0x' + (x & 255).toString(16)); vm._pc = pc; vm.count = n; return 1;`;

function buildBlocks(): Loop {
  const cases: string[] = [];
  for (let code = 0; code < 256; code++) {
    if (!OPS[code]) continue;
    for (const z of READS_OFF[code] ? [0, ZERO_OFF] : [0]) {
      cases.push(`case ${code + z + LEADER}: { const bl = BL[pc]; if (n + bl > limit) { vm._pc = pc; vm.count = n; return ${R_PRECISE}; } n += bl; }`);
      cases.push(`case ${code + z}: { ${caseBody(code, 'n - BR[pc]', z !== 0)} }`);
    }
  }
  const src = `return function interpBlocks(vm, pc, n, limit) {
  ${PROLOGUE}
  for (;;) {
    const x = X[pc];
    switch (x & ${DISPATCH}) {
${cases.join('\n')}
    ${BAD}
    }
  }
};`;
  return new Function(...HELPER_NAMES, src)(...HELPER_FNS) as Loop;
}

function buildPrecise(): Loop {
  const cases: string[] = [];
  for (let code = 0; code < 256; code++) {
    if (!OPS[code]) continue;
    for (const z of READS_OFF[code] ? [0, ZERO_OFF] : [0]) cases.push(`case ${code + z + LEADER}: case ${code + z}: { ${caseBody(code, 'n', z !== 0)} }`);
  }
  const src = `return function interpPrecise(vm, pc, n, limit, stopAtLeader) {
  ${PROLOGUE}
  for (;;) {
    if (n >= limit) { vm._pc = pc; vm.count = n; return ${R_LIMIT}; }
    if (stopAtLeader && (X[pc] & ${LEADER}) !== 0 && n + BL[pc] <= limit) { vm._pc = pc; vm.count = n; return ${R_LEADER}; }
    n++;
    const x = X[pc];
    switch (x & ${DISPATCH}) {
${cases.join('\n')}
    ${BAD}
    }
  }
};`;
  return new Function(...HELPER_NAMES, src)(...HELPER_FNS) as Loop;
}

let blocksLoop: Loop | null = null, preciseLoop: Loop | null = null;

/** Interpret from vm._pc / vm.count until `limit` instructions have run in total, an exit or a
 *  fault: R_LIMIT, R_EXIT or R_FAULT, with vm._pc and vm.count set. `single`: the caller wants
 *  at most a step or a few (hooks): only the precise loop runs. */
export function interpret(vm: Vm, limit: number, single: boolean): number {
  blocksLoop ??= buildBlocks();
  preciseLoop ??= buildPrecise();
  if (single) return preciseLoop(vm, vm._pc, vm.count, limit, false);
  let rc = (vm.disp[vm._pc] & LEADER) !== 0 ? R_LEADER : preciseLoop(vm, vm._pc, vm.count, limit, true);
  if (rc === R_LEADER) rc = blocksLoop(vm, vm._pc, vm.count, limit);
  if (rc === R_PRECISE) rc = preciseLoop(vm, vm._pc, vm.count, limit, false);
  return rc;
}
