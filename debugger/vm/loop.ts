// The generated interpreter loop (one switch over the opcode byte, cases from ./semantics).
import type { Vm } from './interp';
import { OPS } from './opcodes';
import { HELPER_FNS, HELPER_NAMES, instantiate, template } from './semantics';

// Loop outcome codes.
export const R_LIMIT = 0, R_FAULT = 1, R_EXIT = 2;

export type Loop = (vm: Vm, pc: number, n: number, limit: number) => number;

function buildInterpreter(): Loop {
  const cases: string[] = [];
  const fault = '{ vm._pc = pc; vm.count = n; return 1; }';
  for (let code = 0; code < 256; code++) {
    const info = OPS[code];
    if (!info) continue;
    const t = template(info);
    const sub = { d: 'D[pc]', s: 'S[pc]', imm: 'I[pc]', ih: '(I[pc]>>31)', off: 'O[pc]', pc: 'pc', fault };
    let body: string;
    if (t) {
      const pre = instantiate(t.pre, sub);
      body = t.cond !== undefined ? `${pre} if (${instantiate(t.cond, sub)}) pc = T[pc]; else pc++; continue;` : `${pre} pc++; continue;`;
    } else if (info.kind === 'ja') body = 'pc = T[pc]; continue;';
    // may_goto: falls through while the frame's budget lasts (taking one), jumps once it is 0;
    // may_goto +0 is removed at load (kernel/bpf/fixups.c bpf_opt_remove_nops) and takes none
    else if (info.kind === 'maygoto') body = 'if (O[pc] !== 0) { const k = vm.depth; if (MG[k] === 0) { pc = T[pc]; continue; } MG[k]--; } pc++; continue;';
    else if (info.kind === 'lddw') body = 'L[D[pc]] = KL[pc]; H[D[pc]] = KH[pc]; pc += 2; continue;';
    else if (info.kind === 'call') body = `{ const t = vm.call(pc); if (t < 0) ${fault} pc = t; continue; }`;
    else body = `if (vm.depth === 0) { vm._pc = pc; vm.count = n; return 2; } { const t = vm.popFrame(); if (t < 0) { vm.count = n; return 1; } pc = t; continue; }`;
    cases.push(`case ${code}: { ${body} }`);
  }
  const src = `return function interp(vm, pc, n, limit) {
  const L = vm.lo, H = vm.hi, SL = vm.memory.slots, C = vm.code, D = vm.rd, S = vm.rs, O = vm.off, I = vm.imm, T = vm.tgt, KL = vm.klo, KH = vm.khi, MG = vm.mgLeft;
  for (;;) {
    if (n >= limit) { vm._pc = pc; vm.count = n; return 0; }
    n++;
    switch (C[pc]) {
${cases.join('\n')}
    default: vm.setFault('bad-insn', pc, 'unknown opcode 0x' + C[pc].toString(16)); vm._pc = pc; vm.count = n; return 1;
    }
  }
};`;
  return new Function(...HELPER_NAMES, src)(...HELPER_FNS) as Loop;
}

let interpLoop: Loop | null = null;
/** The interpreter loop, generated on first use. */
export function interpreterLoop(): Loop {
  if (!interpLoop) interpLoop = buildInterpreter();
  return interpLoop;
}

