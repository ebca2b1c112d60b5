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
// Everything the loops read per instruction is in one Int32Array M (Vm.m, ./layout): registers,
// frame records, the depth and each slot's record (dispatch word, imm, target, block counts), so
// V8 checks one typed array per instruction; the Vm's own stack frames are in M's buffer too and
// loads and stores reach them through one DataView (MDV) before trying the region table.
import type { Vm } from './interp';
import { MAX_FRAMES, STACK_SIZE, M_HI, M_MG, M_RP, M_FS, M_SOK, M_SHI, M_SV, M_DEPTH, M_STACK, M_INSN, REC_SHIFT, SOK_CALLBACK, F_DISP, F_IMM, F_TGT, F_BLEN, F_OFF, F_BREM, F_FILL, F_W69 } from './layout';
import { OPS } from './opcodes';
import { CALL_LOCAL } from './ops/call';
import { BPF_MAX_LOOPS } from './ops/jump';
import { HELPER_FNS, HELPER_NAMES, instantiate, template, type StackPath } from './semantics';

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

/** Registers of the templates (L[...] / H[...]) as words of M (./layout). */
const toM = (code: string) => code.replace(/\bL\[/g, 'M[').replace(/\bH\[/g, `M[${M_HI}+`);
const lo = (r: number) => `M[${r}]`, hi = (r: number) => `M[${M_HI + r}]`;
/** Record field f of the instruction at pc (p = its record's index, set at dispatch). */
const rec = (f: number) => (f === 0 ? 'M[p]' : `M[(p+${f})|0]`);
/** Record field f of the function starting at pc t. */
const fnRec = (t: string, f: number) => `M[${M_INSN + f}+(${t}<<${REC_SHIFT})]`;

/** Loads and stores reach the Vm's own stack frames in M through one DataView (Vm.mdv). */
const STACK: StackPath = { hi0: `M[${M_SHI}]`, dv: 'MDV', base: String(M_STACK * 4) };
const DEPTH = `M[${M_DEPTH}]`;

/** The statements of one opcode's case; `count` is how the loop writes vm.count at a fault. */
function caseBody(code: number, count: string, zeroOff = false): string {
  const info = OPS[code]!;
  const fault = `{ vm._pc = pc; vm.count = ${count}; return 1; }`;
  const t = template(info, zeroOff, STACK);
  if (t) {
    const all = t.pre + (t.cond ?? '');
    const decl: string[] = [];
    if (all.includes('$d')) decl.push('dd = (x >>> 12) & 15');
    if (all.includes('$s')) decl.push('ss = (x >>> 16) & 15');
    if (all.includes('$imm') || all.includes('$ih')) decl.push(`ii = ${rec(F_IMM)}`);
    if (all.includes('$off') && !zeroOff) decl.push(`oo = (x & ${BIG_OFF}) === 0 ? x >> 20 : ${rec(F_OFF)}`);
    const sub = { d: 'dd', s: 'ss', imm: 'ii', ih: '(ii>>31)', off: zeroOff ? '0' : 'oo', pc: 'pc', fault };
    const pre = (decl.length ? `const ${decl.join(', ')}; ` : '') + toM(instantiate(t.pre, sub));
    return t.cond !== undefined ? `${pre} if (${toM(instantiate(t.cond, sub))}) pc = ${rec(F_TGT)}; else pc++; continue;` : `${pre} pc++; continue;`;
  }
  const save = [6, 7, 8, 9].map((r, i) => `M[b+${i * 2}] = ${lo(r)}; M[b+${i * 2 + 1}] = ${hi(r)};`).join(' ');
  const restore = [6, 7, 8, 9].map((r, i) => `${lo(r)} = M[b+${i * 2}]; ${hi(r)} = M[b+${i * 2 + 1}];`).join(' ');
  switch (info.kind) {
    case 'ja': return `pc = ${rec(F_TGT)}; continue;`;
    // may_goto: falls through while the frame's budget lasts (taking one), jumps once it is 0;
    // may_goto +0 is removed at load (kernel/bpf/fixups.c bpf_opt_remove_nops) and takes none
    case 'maygoto': return `if (${rec(F_OFF)} !== 0) { const k = ${M_MG} + ${DEPTH}; if (M[k] === 0) { pc = ${rec(F_TGT)}; continue; } M[k]--; } pc++; continue;`;
    case 'lddw': return `{ const dd = (x >>> 12) & 15; M[dd] = M[p+${(1 << REC_SHIFT) + F_IMM}]; M[${M_HI}+dd] = M[p+${(1 << REC_SHIFT) + F_TGT}]; pc += 2; continue; }`;
    // bpf-to-bpf calls and returns inline (what Vm.call / Vm.popFrame do for them); helpers,
    // kfuncs and callback frames through the Vm. r6-r9 are saved and restored only around a
    // function that writes one of them (Vm.writes69): else they come back unchanged anyway.
    case 'call': return `if (((x >>> 16) & 15) === ${CALL_LOCAL}) { const k = ${DEPTH} + 1; if (k >= ${MAX_FRAMES}) { vm.callOverflow(pc); ${fault} } ${DEPTH} = k; const t = ${rec(F_TGT)}, w = ${fnRec('t', F_W69)}; M[${M_SOK}+k] = w; `
      + `if (w !== 0) { const b = ${M_SV} + (k << 3); ${save} } `
      + `M[${M_RP}+k] = pc + 1; M[${M_FS}+k] = t; M[${M_MG}+k] = ${BPF_MAX_LOOPS}; const f = ${fnRec('t', F_FILL)}; if (f < ${STACK_SIZE}) { const z = ${M_STACK} + k * ${STACK_SIZE / 4}; if (f >= ${STACK_SIZE - 64}) { for (let i = z + (f >> 2); i < z + ${STACK_SIZE / 4}; i++) M[i] = 0; } else M.fill(0, z + (f >> 2), z + ${STACK_SIZE / 4}); } ${lo(10)} = ${STACK_SIZE}; ${hi(10)} = M[${M_SHI}+k]; pc = t; continue; }`
      + `{ const t = vm.call(pc); if (t < 0) ${fault} pc = t; continue; }`;
    // exit: a callback frame (savedOk SOK_CALLBACK) returns into its helper through the Vm
    default: return `{ const k = ${DEPTH}; if (k === 0) { vm._pc = pc; vm.count = n; return 2; } const s = M[${M_SOK}+k]; if (s !== ${SOK_CALLBACK}) { `
      + `if (s !== 0) { const b = ${M_SV} + (k << 3); ${restore} } `
      + `${DEPTH} = k - 1; ${lo(10)} = ${STACK_SIZE}; ${hi(10)} = M[${M_SHI}+k-1]; pc = M[${M_RP}+k]; continue; } }`
      + '{ const t = vm.popFrame(); if (t < 0) { vm.count = n; return 1; } pc = t; continue; }';
  }
}

const PROLOGUE = 'pc |= 0; const M = vm.m, MDV = vm.mdv, SL = vm.memory.slots;';
const BAD = `default: vm.setFault('bad-insn', pc, 'unknown opcode 0x' + (x & 255).toString(16)); vm._pc = pc; vm.count = n; return 1;`;
const DISPATCH_WORD = `const p = (${M_INSN} + (pc << ${REC_SHIFT})) | 0, x = M[p + ${F_DISP}];`;

function buildBlocks(): Loop {
  const cases: string[] = [];
  for (let code = 0; code < 256; code++) {
    if (!OPS[code]) continue;
    for (const z of READS_OFF[code] ? [0, ZERO_OFF] : [0]) {
      cases.push(`case ${code + z + LEADER}: { const bl = ${rec(F_BLEN)}; if (n + bl > limit) { vm._pc = pc; vm.count = n; return ${R_PRECISE}; } n += bl; }`);
      cases.push(`case ${code + z}: { ${caseBody(code, `n - ${rec(F_BREM)}`, z !== 0)} }`);
    }
  }
  const src = `return function interpBlocks(vm, pc, n, limit) {
  ${PROLOGUE}
  for (;;) {
    ${DISPATCH_WORD}
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
    ${DISPATCH_WORD}
    if (stopAtLeader && (x & ${LEADER}) !== 0 && n + ${rec(F_BLEN)} <= limit) { vm._pc = pc; vm.count = n; return ${R_LEADER}; }
    n++;
    switch (x & ${DISPATCH}) {
${cases.join('\n')}
    ${BAD}
    }
  }
};`;
  return new Function(...HELPER_NAMES, src)(...HELPER_FNS) as Loop;
}

/** The precise loop with a hook called before every instruction (RunOptions.hook): vm._pc and
 *  vm.count are written first, so the hook sees the Vm as at a pause; `skip` is a pc where the
 *  first instruction is not hooked (resuming where the hook paused). R_HOOK: the hook returned
 *  true before the instruction at vm._pc. An exception of the hook propagates. */
type HookedLoop = (vm: Vm, pc: number, n: number, limit: number, hook: (pc: number) => boolean | void, skip: number) => number;
export const R_HOOK = 5;

function buildHooked(): HookedLoop {
  const cases: string[] = [];
  for (let code = 0; code < 256; code++) {
    if (!OPS[code]) continue;
    for (const z of READS_OFF[code] ? [0, ZERO_OFF] : [0]) cases.push(`case ${code + z + LEADER}: case ${code + z}: { ${caseBody(code, 'n', z !== 0)} }`);
  }
  const src = `return function interpHooked(vm, pc, n, limit, hook, skip) {
  ${PROLOGUE}
  for (;;) {
    if (n >= limit) { vm._pc = pc; vm.count = n; return ${R_LIMIT}; }
    if (pc !== skip) { vm._pc = pc; vm.count = n; if (hook(pc) === true) return ${R_HOOK}; }
    if (skip !== -1) { skip = -1; vm.skipHookAt = -1; }
    ${DISPATCH_WORD}
    n++;
    switch (x & ${DISPATCH}) {
${cases.join('\n')}
    ${BAD}
    }
  }
};`;
  return new Function(...HELPER_NAMES, src)(...HELPER_FNS) as HookedLoop;
}

let blocksLoop: Loop | null = null, preciseLoop: Loop | null = null, hookedLoop: HookedLoop | null = null;

/** Interpret from vm._pc / vm.count with `hook` before every instruction until `limit`
 *  instructions have run in total, the hook pauses (R_HOOK), an exit or a fault. */
export function interpretHooked(vm: Vm, limit: number, hook: (pc: number) => boolean | void, skip: number): number {
  hookedLoop ??= buildHooked();
  return hookedLoop(vm, vm._pc, vm.count, limit, hook, skip);
}

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
