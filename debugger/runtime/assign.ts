// What a value typed into the Variables view (setVariable) may be stored into. One range check for
// every settable place (registers, stack words, C locals, ctx fields, socket fields, map values,
// globals): a value that does not fit the place's C type is refused with the type and its range,
// never truncated. What the user types: a C literal (decimal, 0x hex, 0b binary, 0 octal, a
// suffix, a leading '-', a character constant 'a', true/false) is taken at its exact value; any
// other C expression is evaluated at the stop by C's rules and its value checked the same way.
import { type CType, intShape, stripType, typeName } from '../expr/ctypes';
import { BUILTIN_TYPES } from '../expr/ctypes';
import { literalDigits } from '../expr/c';

/** The integer shape of a settable place, for the range check and the message. */
export interface IntTarget {
  /** The C type as messages name it: 'int', '__u32', 'enum tcp_state', '64-bit register'. */
  type: string;
  /** Width in bits. */
  bits: number;
  /** 'raw': a 64-bit register or stack word, which has no signedness: both ranges are accepted. */
  signed: boolean | 'raw';
  /** _Bool: 0 or 1 only. */
  bool?: boolean;
}

/** A settable place: its shape, and how to write a value that passed the check (sign as typed). */
export interface Setter {
  target: IntTarget;
  write: (value: bigint) => void;
}

/** A BPF register or an 8-byte stack word: no type, 64 bits, signed or unsigned. */
export const RAW64: IntTarget = { type: '64-bit register', bits: 64, signed: 'raw' };
export const STACK_WORD: IntTarget = { type: '64-bit stack word', bits: 64, signed: 'raw' };

/** The place's shape from a C type (DWARF, BTF or built-in): integers, enums, _Bool, pointers. */
export function targetOf(t: CType): IntTarget {
  const s = stripType(t);
  const { size, signed } = intShape(t);
  return { type: typeName(t), bits: size * 8, signed: s.kind === 'pointer' ? false : signed, bool: s.kind === 'base' && s.bool };
}

/** The shape of a field named by a C type name ('__u32', 'int'), or an unsigned integer of `size` bytes. */
export function namedTarget(ctype: string, size: number): IntTarget {
  const t = BUILTIN_TYPES[ctype.trim()];
  if (t && stripType(t).kind === 'base') return targetOf(t);
  return { type: ctype || `${size}-byte field`, bits: size * 8, signed: false };
}

/** The shape of a BTF int/enum/pointer leaf: size in bytes and its flags. */
export function btfTarget(type: string, size: number, flags: { signed?: boolean; bool?: boolean; pointer?: boolean } = {}): IntTarget {
  return { type, bits: size * 8, signed: !!flags.signed && !flags.pointer, bool: !!flags.bool };
}

/** The values a place accepts, inclusive. */
export function rangeOf(t: IntTarget): { min: bigint; max: bigint } {
  const b = BigInt(t.bits);
  if (t.bool) return { min: 0n, max: 1n };
  if (t.signed === 'raw') return { min: -(1n << (b - 1n)), max: (1n << b) - 1n };
  if (t.signed) return { min: -(1n << (b - 1n)), max: (1n << (b - 1n)) - 1n };
  return { min: 0n, max: (1n << b) - 1n };
}

/** A long number or expression in a message: its start and its length. */
function clip(t: string): string {
  return t.length <= 48 ? t : `${t.slice(0, 24)}… (${t.length} characters)`;
}

const LITERAL = /^([-+]?)\s*(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?$/;

/** A C integer literal, optionally negated, at its exact value (no C typing): null when `text` is not one. */
export function literalValue(text: string): bigint | null {
  const s = text.trim();
  if (s === 'true') return 1n;
  if (s === 'false') return 0n;
  const m = LITERAL.exec(s);
  if (!m) return null;
  const v = literalDigits(m[2]!);
  return m[1] === '-' ? -v : v;
}

/**
 * The value to store for what the user typed into a place of shape `t`: a literal at its exact
 * value, else the C expression's value (`evaluate`). Throws a sentence naming the type and its
 * range (the caller names the place) when the value does not fit; the value returned is the one typed (sign kept), for
 * the place's writer to store in its width.
 */
export function assignValue(t: IntTarget, text: string, evaluate: (expr: string) => bigint): bigint {
  const lit = literalValue(text);
  const v = lit ?? evaluate(text);
  const { min, max } = rangeOf(t);
  if (v >= min && v <= max) return v;
  const typed = clip(text.trim());
  const dec = clip(`${v}`);
  const shown = typed === dec ? typed : lit !== null ? `${typed} (${dec})` : `${typed} is ${dec}, which`;
  // a hex, binary or octal literal is often a bit pattern: say how to write it for a signed place
  let hint = '';
  if (!t.bool && t.signed === true && lit !== null && /^\s*0[xXbB0-7]/.test(text) && v > max && v < 1n << BigInt(t.bits)) hint = `; for the bit pattern 0x${v.toString(16)} write ${BigInt.asIntN(t.bits, v)}`;
  else if (!t.bool && t.signed === false && v < 0n && v >= -(1n << BigInt(t.bits - 1))) hint = `; for the bit pattern of ${v} write ${BigInt.asUintN(t.bits, v)} (0x${BigInt.asUintN(t.bits, v).toString(16)})`;
  else if (t.bool) hint = '; write 0, 1, false or true';
  throw new Error(`${shown} does not fit in ${t.type} (${min}..${max})${hint}`);
}
