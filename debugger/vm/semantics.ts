// The meaning of every opcode, once, as JavaScript statement templates over 32-bit register
// halves (L = low words, H = high words, both Int32Array). The interpreter and the fast tier
// both instantiate these templates, so the two tiers cannot drift apart.
//
// Placeholders: $d $s (register numbers), $imm (signed 32-bit), $ih (imm >> 31, the high word
// of imm sign-extended), $off (signed 16-bit), $pc. A template for a memory access writes
// $FAULT where the tier must leave after a fault (the slow path has already recorded it).
// Templates name registers only as L[...] / H[...] with a register number (never pass the
// arrays on), and slow paths return values through the scratch pair DM, so a tier may keep
// registers elsewhere (the fast tier: JavaScript locals).
// Semantics: RFC 9669 and the kernel interpreter (kernel/bpf/core.c ___bpf_prog_run).
import { OPS, type OpInfo } from './opcodes';
import { ATOMIC_CMPXCHG } from './ops/loadstore';
import { MAX_FRAMES, STACK_SIZE } from './layout';

export interface Template {
  /** Statements to run (for jcond: declarations before the condition). */
  pre: string;
  /** jcond only: the branch condition. */
  cond?: string;
}

const ALU64: Record<string, string> = {
  add: 'const r=(a+b)|0; H[$d]=(ah+bh+((r>>>0)<(a>>>0)?1:0))|0; L[$d]=r;',
  sub: 'const r=(a-b)|0; H[$d]=(ah-bh-((a>>>0)<(b>>>0)?1:0))|0; L[$d]=r;',
  mul: 'H[$d]=(mulhi(a,b)+Math.imul(a,bh)+Math.imul(ah,b))|0; L[$d]=Math.imul(a,b);',
  div: 'divmod64(a,ah,b,bh,$off===1?2:0); L[$d]=DM[0]; H[$d]=DM[1];',
  mod: 'divmod64(a,ah,b,bh,$off===1?3:1); L[$d]=DM[0]; H[$d]=DM[1];',
  or: 'L[$d]=a|b; H[$d]=ah|bh;',
  and: 'L[$d]=a&b; H[$d]=ah&bh;',
  xor: 'L[$d]=a^b; H[$d]=ah^bh;',
  lsh: 'const n=b&63; if(n!==0){ if(n<32){H[$d]=(ah<<n)|(a>>>(32-n)); L[$d]=a<<n;} else {H[$d]=a<<(n-32); L[$d]=0;} }',
  rsh: 'const n=b&63; if(n!==0){ if(n<32){L[$d]=(a>>>n)|(ah<<(32-n)); H[$d]=ah>>>n;} else {L[$d]=ah>>>(n-32); H[$d]=0;} }',
  arsh: 'const n=b&63; if(n!==0){ if(n<32){L[$d]=(a>>>n)|(ah<<(32-n)); H[$d]=ah>>n;} else {L[$d]=ah>>(n-32); H[$d]=ah>>31;} }',
};
const ALU32: Record<string, string> = {
  add: 'L[$d]=(a+b)|0;',
  sub: 'L[$d]=(a-b)|0;',
  mul: 'L[$d]=Math.imul(a,b);',
  div: 'L[$d]=divmod32(a,b,$off===1?2:0);',
  mod: 'L[$d]=divmod32(a,b,$off===1?3:1);',
  or: 'L[$d]=a|b;',
  and: 'L[$d]=a&b;',
  xor: 'L[$d]=a^b;',
  lsh: 'L[$d]=a<<(b&31);',
  rsh: 'L[$d]=a>>>(b&31);',
  arsh: 'L[$d]=a>>(b&31);',
};
const COND64: Record<string, string> = {
  jeq: 'a===b && ah===bh',
  jne: 'a!==b || ah!==bh',
  jgt: '(ah>>>0)>(bh>>>0) || (ah===bh && (a>>>0)>(b>>>0))',
  jge: '(ah>>>0)>(bh>>>0) || (ah===bh && (a>>>0)>=(b>>>0))',
  jlt: '(ah>>>0)<(bh>>>0) || (ah===bh && (a>>>0)<(b>>>0))',
  jle: '(ah>>>0)<(bh>>>0) || (ah===bh && (a>>>0)<=(b>>>0))',
  jsgt: 'ah>bh || (ah===bh && (a>>>0)>(b>>>0))',
  jsge: 'ah>bh || (ah===bh && (a>>>0)>=(b>>>0))',
  jslt: 'ah<bh || (ah===bh && (a>>>0)<(b>>>0))',
  jsle: 'ah<bh || (ah===bh && (a>>>0)<=(b>>>0))',
  jset: '((a&b)|(ah&bh))!==0',
};
const COND32: Record<string, string> = {
  jeq: 'a===b', jne: 'a!==b',
  jgt: '(a>>>0)>(b>>>0)', jge: '(a>>>0)>=(b>>>0)', jlt: '(a>>>0)<(b>>>0)', jle: '(a>>>0)<=(b>>>0)',
  jsgt: 'a>b', jsge: 'a>=b', jslt: 'a<b', jsle: 'a<=b',
  jset: '(a&b)!==0',
};

/** Effective address base+off as (ah, a) with o = unsigned offset in the region. */
const addr = (base: string, zeroOff: boolean) => zeroOff
  ? `const a=L[${base}], ah=H[${base}], o=a>>>0;`
  : `const ba=L[${base}], a=(ba+$off)|0, ah=(H[${base}]+($off>>31)+(((a>>>0)<(ba>>>0))?1:0))|0, o=a>>>0;`;
/** r = the region of the address. */
const REGION = `const r=SL[ah-${0xff00}];`;

/** A load of `size` bytes at byte offset `o` of DataView `dv` into register $d. */
export function loadValue(size: number, signExt: boolean, dv = 'r.dv', o = 'o'): string {
  if (size === 8) return `L[$d]=${dv}.getInt32(${o},true); H[$d]=${dv}.getInt32((${o})+4,true);`;
  const get = { 1: signExt ? `getInt8(${o})` : `getUint8(${o})`, 2: signExt ? `getInt16(${o},true)` : `getUint16(${o},true)`, 4: `getInt32(${o},true)` }[size as 1 | 2 | 4];
  return signExt ? `const v=${dv}.${get}; L[$d]=v; H[$d]=v>>31;` : `L[$d]=${dv}.${get}; H[$d]=0;`;
}
/** A store of the value (lo, hi) into `size` bytes at byte offset `o` of DataView `dv`. */
export function storeValue(size: number, lo: string, hi: string, dv = 'r.dv', o = 'o'): string {
  if (size === 8) return `${dv}.setInt32(${o},${lo},true); ${dv}.setInt32((${o})+4,${hi},true);`;
  const set = { 1: `setInt8(${o},${lo})`, 2: `setInt16(${o},${lo},true)`, 4: `setInt32(${o},${lo},true)` }[size as 1 | 2 | 4];
  return `${dv}.${set};`;
}

/** A tier's direct way to its own stack frames (the regions "stack frame 0..MAX_FRAMES-1",
 *  plain and writable, at consecutive high words from `hi0`): an access that falls inside
 *  frame k = ah - hi0 reads DataView `dv` at byte `base` + k * STACK_SIZE + o, without the
 *  region lookup; any other address goes the ordinary way. Same results and faults. */
export interface StackPath { hi0: string; dv: string; base: string }

/** The template of an opcode. `zeroOff`: the tier knows the off field is 0 (addresses need no add).
 *  `stack`: loads and stores try the tier's stack frames first. */
export function template(info: OpInfo, zeroOff = false, stack?: StackPath): Template | null {
  const viaStack = (size: number, direct: string, other: string) => stack && info.kind !== 'atomic'
    ? `${addr(info.kind === 'ldx' ? '$s' : '$d', zeroOff)} const sk=(ah-${stack.hi0})>>>0; if(sk<${MAX_FRAMES} && o<=${STACK_SIZE - size}){ ${direct} } else { ${REGION} ${other} }`
    : `${addr(info.kind === 'ldx' ? '$s' : '$d', zeroOff)} ${REGION} ${other}`;
  const so = stack ? `${stack.base}+(sk*${STACK_SIZE})+o` : 'o';
  const is64 = info.is64;
  const bl = info.srcReg ? 'L[$s]' : '$imm';
  const bh = info.srcReg ? 'H[$s]' : '$ih';
  switch (info.kind) {
    case 'alu': {
      if (info.name === 'mov') {
        if (!info.srcReg) return { pre: is64 ? 'L[$d]=$imm; H[$d]=$ih;' : 'L[$d]=$imm; H[$d]=0;' };
        if (is64) return { pre: 'if($off===0){L[$d]=L[$s]; H[$d]=H[$s];} else {const v=$off===8?(L[$s]<<24)>>24:$off===16?(L[$s]<<16)>>16:L[$s]; L[$d]=v; H[$d]=v>>31;}' };
        return { pre: 'L[$d]=$off===0?L[$s]:$off===8?(L[$s]<<24)>>24:(L[$s]<<16)>>16; H[$d]=0;' };
      }
      if (is64) return { pre: `const a=L[$d], ah=H[$d], b=${bl}, bh=${bh}; ${ALU64[info.name]}` };
      return { pre: `const a=L[$d], b=${bl}; ${ALU32[info.name]} H[$d]=0;` };
    }
    case 'neg':
      return { pre: is64 ? 'const a=L[$d]; L[$d]=(-a)|0; H[$d]=(~H[$d]+(a===0?1:0))|0;' : 'L[$d]=(-L[$d])|0; H[$d]=0;' };
    case 'end':
      if (info.name === 'le') return { pre: 'if($imm===16){L[$d]=L[$d]&0xffff; H[$d]=0;} else if($imm===32){H[$d]=0;}' };
      return { pre: 'if($imm===16){L[$d]=bswap16(L[$d]); H[$d]=0;} else if($imm===32){L[$d]=bswap32(L[$d]); H[$d]=0;} else {const a=L[$d]; L[$d]=bswap32(H[$d]); H[$d]=bswap32(a);}' };
    case 'jcond':
      if (is64) return { pre: `const a=L[$d], ah=H[$d], b=${bl}, bh=${bh};`, cond: COND64[info.name] };
      return { pre: `const a=L[$d], b=${bl};`, cond: COND32[info.name] };
    case 'ldx':
      return { pre: viaStack(info.size, stack ? loadValue(info.size, info.signExt, stack.dv, so) : '',
        `if(r!==undefined && r.plain && o+${info.size}<=r.len){ ${loadValue(info.size, info.signExt)} } else if(vm.loadSlow($pc,ah,a,${info.size},${info.signExt})){ L[$d]=DM[0]; H[$d]=DM[1]; } else $FAULT`) };
    case 'st':
      return { pre: viaStack(info.size, stack ? storeValue(info.size, '$imm', '$ih', stack.dv, so) : '',
        `if(r!==undefined && r.plainW && o+${info.size}<=r.len){ ${storeValue(info.size, '$imm', '$ih')} } else if(!vm.storeSlow($pc,ah,a,${info.size},$imm,$ih)) $FAULT`) };
    case 'stx':
      return { pre: viaStack(info.size, stack ? storeValue(info.size, 'L[$s]', 'H[$s]', stack.dv, so) : '',
        `if(r!==undefined && r.plainW && o+${info.size}<=r.len){ ${storeValue(info.size, 'L[$s]', 'H[$s]')} } else if(!vm.storeSlow($pc,ah,a,${info.size},L[$s],H[$s])) $FAULT`) };
    case 'atomic': // the old value comes back in DM: into r0 for cmpxchg, into src for the fetch forms
      return { pre: `${addr('$d', zeroOff)} if(!vm.atomic($pc,ah,a,${info.size},$imm,L[$s],${info.size === 8 ? 'H[$s]' : '0'},L[0],H[0])) $FAULT if($imm===${ATOMIC_CMPXCHG}){ L[0]=DM[0]; H[0]=DM[1]; } else if(($imm&1)!==0){ L[$s]=DM[0]; H[$s]=DM[1]; }` };
    default:
      return null; // ja, call, exit, lddw: control flow, done by each tier
  }
}

// ---- arithmetic helpers the templates call ----

/** High 32 bits of the unsigned product of two 32-bit words. */
export function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, mid = a0 * b1 + a1 * b0 + (p00 >>> 16);
  return (a1 * b1 + ((mid / 65536) | 0)) | 0; // mid < 2^34: the quotient fits, and truncates as floor
}

/** Scratch pair (low, high word) through which helpers and slow paths return a 64-bit value. */
export const DM = new Int32Array(2);

const U64 = (h: number, l: number) => (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
/** kind 0 udiv, 1 umod, 2 sdiv, 3 smod. x/0 = 0, x%0 = x, LLONG_MIN s/ -1 = LLONG_MIN, x s% -1 = 0:
 *  RFC 9669 §4.1 and the rewrites of kernel/bpf/fixups.c bpf_do_misc_fixups(). */
export function divmod64(al: number, ah: number, bl: number, bh: number, kind: number): void {
  if (bl === 0 && bh === 0) { if (kind === 0 || kind === 2) { DM[0] = 0; DM[1] = 0; } else { DM[0] = al; DM[1] = ah; } return; }
  if (kind < 2 && ah === 0 && bh === 0) {
    const x = al >>> 0, y = bl >>> 0;
    DM[0] = kind === 0 ? Math.floor(x / y) : x % y; DM[1] = 0; return;
  }
  let r: bigint;
  if (kind < 2) {
    const x = U64(ah, al), y = U64(bh, bl);
    r = kind === 0 ? x / y : x % y;
  } else {
    const x = BigInt.asIntN(64, U64(ah, al)), y = BigInt.asIntN(64, U64(bh, bl));
    r = kind === 2 ? x / y : x % y;
  }
  r = BigInt.asUintN(64, r);
  DM[0] = Number(r & 0xffffffffn); DM[1] = Number(r >> 32n);
}
/** 32-bit forms; the result is zero-extended by the caller (fixups.c: "[R,W]x mod 0 -> [R,W]x",
 *  then a 32-bit mov that clears the upper half). */
export function divmod32(a: number, b: number, kind: number): number {
  if (b === 0) return kind === 0 || kind === 2 ? 0 : a;
  switch (kind) {
    case 0: return ((a >>> 0) / (b >>> 0)) >>> 0;
    case 1: return (a >>> 0) % (b >>> 0);
    case 2: return (a / b) | 0;
    default: return (a % b) | 0;
  }
}
export function bswap16(x: number): number { return ((x & 0xff) << 8) | ((x >>> 8) & 0xff); }
export function bswap32(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) | 0;
}

export const HELPER_NAMES = ['mulhi', 'divmod64', 'divmod32', 'bswap16', 'bswap32', 'DM'] as const;
export const HELPER_FNS = [mulhi, divmod64, divmod32, bswap16, bswap32, DM];

/** Substitute placeholders with JS expressions. */
export function instantiate(code: string, sub: { d: string; s: string; imm: string; ih: string; off: string; pc: string; fault: string }): string {
  return code
    .replace(/\$FAULT/g, sub.fault)
    .replace(/\$imm/g, sub.imm)
    .replace(/\$ih/g, sub.ih)
    .replace(/\$off/g, sub.off)
    .replace(/\$pc/g, sub.pc)
    .replace(/\$d/g, sub.d)
    .replace(/\$s/g, sub.s);
}

export { OPS };
