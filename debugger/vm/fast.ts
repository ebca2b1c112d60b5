// The fast tier: a loaded program compiled to JavaScript, one JS function per BPF function,
// registers as locals (two int32 halves each), basic blocks as the cases of one switch. The
// instruction meanings are the templates of ./semantics (the interpreter instantiates the same
// ones), memory goes through the same regions with the same slow paths (check()/onWrite hooks,
// fault texts), helpers, kfuncs and HelperCoroutine callbacks through the Vm's own call code.
//
// Exactness: the instruction count is kept per basic block; a block that would pass the budget
// is not entered: the tier "bails out", writing the machine state (registers, pc, count, frame
// records, may_goto budgets) into the Vm, and the interpreter goes on from that instruction, so
// budget faults have the interpreter's pc and count. Faults write the same state. Only one
// thing differs, on purpose: after a bpf-to-bpf call the interpreter leaves the callee's r1-r5
// in the caller's registers, this tier the caller's own; the verifier forbids reading r1-r5
// after a call (R1 !read_ok, our validator too), so only a host reading them could tell, and
// the Vm uses this tier only for programs validated with that check. The interpreter stays
// for hooks, stepping and resuming after a pause (RunOptions.hook: every instruction is seen).
import type { Vm } from './interp';
import { MAX_FRAMES, M_DEPTH, SOK_CALLBACK, STACK_SIZE } from './layout';
import { OPS } from './opcodes';
import { CALL_LOCAL } from './ops/call';
import { BPF_MAX_LOOPS } from './ops/jump';
import { HELPER_FNS, HELPER_NAMES, instantiate, loadValue, storeValue, template } from './semantics';

/** What the compiled program returns: how the run ended. */
export const F_EXIT = 0, F_FAULT = 1, F_BAIL = 3;

export interface FastProgram {
  /** Run from the Vm's start state (pc 0, depth 0, count vm.count) until exit, a fault or the
   *  point where `limit` instructions would be passed (F_BAIL: the interpreter goes on). */
  run(limit: number): number;
  /** The generated source (for tests and profiling). */
  source: string;
}

const REGS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const ARGS = REGS.slice(1, 6).map((i) => `l${i},h${i}`).join(',');
const ARGS_FROM_VM = REGS.slice(1, 6).map((i) => `LO[${i}],HI[${i}]`).join(',');
const WRITE_REGS = REGS.map((i) => `LO[${i}]=l${i}; HI[${i}]=h${i};`).join(' ');
const saveCallee = (k: string) => [6, 7, 8, 9].map((r, i) => `SAVED[${k}*8+${i * 2}]=l${r}; SAVED[${k}*8+${i * 2 + 1}]=h${r};`).join(' ');

/** Registers of the templates (L[n], H[n] with a literal n) become locals. The interpreter's
 *  Int32Array register file wraps every stored value to int32 (a >>> result, a divmod32
 *  quotient above 2^31); the locals get the same `|0` at every assignment. Template
 *  statements hold no ';' inside an expression, so an assignment ends at the next ';'. */
const localize = (code: string) => code
  .replace(/\b([LH])\[(\d+)\]=(?!=)([^;]*);/g, (_m, a: string, n: string, e: string) => `${a.toLowerCase()}${n}=(${e})|0;`)
  .replace(/\bL\[(\d+)\]/g, 'l$1').replace(/\bH\[(\d+)\]/g, 'h$1');

/** Zero the callee's frame (depth k+1) as far as it can see it (frameFootprint). */
function zeroFrame(target: number, fill: Int32Array): string {
  const from = fill[target];
  if (from >= STACK_SIZE) return '';
  if (STACK_SIZE - from <= 64) {
    let z = 'const Z=STKDV[k+1];';
    for (let o = from; o < STACK_SIZE; o += 4) z += ` Z.setInt32(${o},0);`;
    return `{ ${z} }`;
  }
  return `STK[k+1].fill(0${from ? `, ${from}` : ''});`;
}

function compileFunction(vm: Vm, start: number, end: number, fill: Int32Array): string {
  const code = vm.code;
  // basic blocks: leaders are the start, jump targets and the instruction after a block end
  const leader = new Set<number>([start]);
  const next = (pc: number) => pc + (OPS[code[pc]]!.kind === 'lddw' ? 2 : 1);
  for (let pc = start; pc < end; pc = next(pc)) {
    const info = OPS[code[pc]]!;
    const k = info.kind;
    if (k === 'ja' || k === 'jcond' || k === 'maygoto') leader.add(vm.tgt[pc]);
    if (k === 'ja' || k === 'jcond' || k === 'maygoto' || k === 'exit' || k === 'call') { if (next(pc) < end) leader.add(next(pc)); }
  }
  const starts = [...leader].filter((p) => p >= start && p < end).sort((a, b) => a - b);
  const blockOf = new Map<number, number>(starts.map((p, i) => [p, i]));
  const out: string[] = [];
  out.push(`function F${start}(${ARGS}) {`);
  out.push(`  let l0=0,h0=0,l6=0,h6=0,l7=0,h7=0,l8=0,h8=0,l9=0,h9=0, mg=${BPF_MAX_LOOPS}, _n=N, blk=0, epc=0, ecnt=0, prop=0;`);
  out.push(`  const k=MW[${M_DEPTH}], l10=${STACK_SIZE}, h10=STKHI[k], SDV=STKDV[k], lim=LIMIT;`);
  out.push('  run: for(;;) { switch(blk) {');
  for (let b = 0; b < starts.length; b++) {
    const b0 = starts[b], b1 = b + 1 < starts.length ? starts[b + 1] : end;
    const pcs: number[] = [];
    for (let pc = b0; pc < b1; pc = next(pc)) pcs.push(pc);
    const len = pcs.length;
    out.push(`  case ${b}: {`);
    out.push(`    if (_n+${len}>lim) { ST=${F_BAIL}; epc=${b0}; ecnt=_n; break run; } _n+=${len};`);
    pcs.forEach((pc, j) => out.push('    ' + compileInsn(vm, pc, j, len, blockOf, fill)));
    out.push('  }');
  }
  out.push('  } }');
  // leaving by a fault or a bail-out: the innermost frame writes the registers, every frame its record
  out.push(`  if (prop===0) { ${WRITE_REGS} vm._pc=epc; vm.count=ecnt; }`);
  out.push(`  MGL[k]=mg; FNS[k]=${start};`);
  out.push('  return 0;');
  out.push('}');
  return out.join('\n');
}

function compileInsn(vm: Vm, pc: number, j: number, len: number, blockOf: Map<number, number>, fill: Int32Array): string {
  const info = OPS[vm.code[pc]]!;
  const d = vm.rd[pc], s = vm.rs[pc], off = vm.off[pc], imm = vm.imm[pc];
  const fault = `{ ST=${F_FAULT}; epc=${pc}; ecnt=_n-${len - j - 1}; break run; }`;
  const go = (t: number) => `blk=${blockOf.get(t)!}; continue;`;
  switch (info.kind) {
    case 'ja': return go(vm.tgt[pc]);
    case 'maygoto': return off === 0 ? '/* may_goto +0: removed at load */' : `if (mg===0) { ${go(vm.tgt[pc])} } mg--;`;
    case 'lddw': return `l${d}=${vm.klo[pc]}; h${d}=${vm.khi[pc]};`;
    case 'exit': return `N=_n; if (k===0) { ${WRITE_REGS} vm._pc=${pc}; } RH=h0; return l0;`;
    case 'call': {
      if (s === CALL_LOCAL) {
        const t = vm.tgt[pc];
        return `if (k+1>=${MAX_FRAMES}) { vm.callOverflow(${pc}); ${fault} } MW[${M_DEPTH}]=k+1; ${zeroFrame(t, fill)} N=_n; `
          + `{ const r=F${t}(${ARGS}); if (ST!==0) { ${saveCallee('(k+1)')} RETPC[k+1]=${pc + 1}; SOK[k+1]=1; prop=1; break run; } MW[${M_DEPTH}]=k; _n=N; l0=r; h0=RH; }`;
      }
      // helper or kfunc: the Vm calls it with r1-r5 from its register file; callbacks run here
      return `${WRITE_REGS} N=_n; { let hs=vm.helperStart(${pc}); `
        + `while (hs===1) { const it=vm.pendIt, t=vm.pendTarget, f=FN[t]; vm.pendIt=null; MW[${M_DEPTH}]=k+1; STK[k+1].fill(0, FILL[t]); `
        + `const r=f(${ARGS_FROM_VM}); if (ST!==0) { ${saveCallee('(k+1)')} RETPC[k+1]=${pc + 1}; SOK[k+1]=${SOK_CALLBACK}; CBIT[k+1]=it; CBPC[k+1]=${pc}; prop=1; break run; } `
        + `MW[${M_DEPTH}]=k; LO[0]=r; HI[0]=RH; hs=vm.helperStep(${pc}, it, vm.reg(0)); } `
        + `if (hs<0) { ST=${F_FAULT}; epc=${pc}; ecnt=N; l0=LO[0]; h0=HI[0]; break run; } l0=LO[0]; h0=HI[0]; _n=N; }`;
    }
    default: break;
  }
  // frame-relative accesses that stay inside the frame: the stack region, without the lookup
  if ((info.kind === 'ldx' && s === 10) || ((info.kind === 'st' || info.kind === 'stx') && d === 10)) {
    const o = STACK_SIZE + off;
    if (o >= 0 && o + info.size <= STACK_SIZE) {
      const body = info.kind === 'ldx' ? loadValue(info.size, info.signExt)
        : storeValue(info.size, info.kind === 'st' ? String(imm) : `L[${s}]`, info.kind === 'st' ? String(imm >> 31) : `H[${s}]`);
      return localize(body.replace(/r\.dv\./g, 'SDV.').replace(/\bo\b/g, String(o)).replace(/\$d/g, String(d)));
    }
  }
  const t = template(info, off === 0)!;
  const sub = { d: String(d), s: String(s), imm: `(${imm})`, ih: `(${imm >> 31})`, off: `(${off})`, pc: String(pc), fault };
  const pre = localize(instantiate(t.pre, sub));
  if (t.cond === undefined) return `{ ${pre} }`;
  return `{ ${pre} if (${localize(instantiate(t.cond, sub))}) { ${go(vm.tgt[pc])} } }`;
}

/** Compile the Vm's program; null when it cannot be (the Vm then keeps interpreting). */
export function compileFast(vm: Vm): FastProgram | null {
  const starts = vm.funcStarts;
  const endOf = (i: number) => (i + 1 < starts.length ? starts[i + 1] : vm.n);
  const fill = vm.fillFrom;
  const parts: string[] = [];
  for (let i = 0; i < starts.length; i++) parts.push(compileFunction(vm, starts[i], endOf(i), fill));
  const source = `
const MW=vm.m, LO=vm.lo, HI=vm.hi, SL=vm.memory.slots, STK=vm.stackBytes, STKHI=vm.stackHi, SAVED=vm.saved, RETPC=vm.retPc,
  FNS=vm.fnStart, MGL=vm.mgLeft, CBIT=vm.cbIter, CBPC=vm.cbPc, SOK=vm.savedOk;
const STKDV=STK.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
let N=0, LIMIT=0, ST=0, RH=0;
${parts.join('\n')}
const FN=[], FILL=[]; ${starts.map((p) => `FN[${p}]=F${p}; FILL[${p}]=${fill[p]};`).join(' ')}
return function run(limit) {
  N=vm.count; LIMIT=limit; ST=0;
  F0(${ARGS_FROM_VM});
  if (ST===0) vm.count=N;
  return ST;
};`;
  try {
    const run = new Function('vm', ...HELPER_NAMES, source)(vm, ...HELPER_FNS) as (limit: number) => number;
    return { run, source };
  } catch {
    return null;
  }
}

