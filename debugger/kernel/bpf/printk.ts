// bpf_trace_printk / bpf_trace_vprintk formatting: the format checks of bpf_bprintf_prepare()
// (kernel/bpf/helpers.c) and the output of bstr_printf() for the conversions it lets through.
import { EINVAL } from './consts';

/** MAX_BPRINTF_BUF (include/linux/bpf.h): the output buffer, NUL included. */
export const MAX_BPRINTF_BUF = 1024;
/** MAX_BPRINTF_VARARGS (include/linux/bpf.h). */
export const MAX_BPRINTF_VARARGS = 12;

export interface PrintkMemory {
  /** NUL-terminated string at a guest address, or null when the address is bad. */
  cstring(addr: bigint, max: number): string | null;
  bytes(addr: bigint, len: number): Uint8Array | null;
}

export type PrintkResult = { ok: true; text: string; ret: number } | { ok: false; errno: number; why: string };

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPunct = (c: number) =>
  (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;

interface Spec { flags: string; width: number }

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (s.length >= spec.width) return s;
  if (spec.flags.includes('-')) return s + ' '.repeat(spec.width - s.length);
  if (numeric && spec.flags.includes('0')) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    return sign + '0'.repeat(spec.width - s.length) + s.slice(sign.length);
  }
  return ' '.repeat(spec.width - s.length) + s;
}

function fmtInt(v: bigint, bits: 32 | 64, conv: string, spec: Spec): string {
  if (bits === 32 && !spec.flags && !spec.width) {
    // the common %d %u %x of a 32-bit value, without BigInt arithmetic
    const u = Number(BigInt.asUintN(32, v));
    const t = conv === 'u' ? u.toString() : conv === 'd' || conv === 'i' ? (u | 0).toString() : u.toString(16);
    return conv === 'X' ? t.toUpperCase() : t;
  }
  const mask = (1n << BigInt(bits)) - 1n;
  const u = v & mask;
  let s: string;
  if (conv === 'd' || conv === 'i') {
    const neg = (u >> BigInt(bits - 1)) & 1n;
    const sv = neg ? u - (1n << BigInt(bits)) : u;
    s = sv.toString();
    if (sv >= 0n && spec.flags.includes('+')) s = '+' + s;
    else if (sv >= 0n && spec.flags.includes(' ')) s = ' ' + s;
  } else if (conv === 'u') s = u.toString();
  else {
    s = u.toString(16);
    if (conv === 'X') s = s.toUpperCase();
  }
  return pad(s, spec, true);
}

function ip4(b: Uint8Array, leadingZeros: boolean): string {
  return Array.from(b.slice(0, 4), (x) => (leadingZeros ? x.toString().padStart(3, '0') : x.toString())).join('.');
}

function ip6(b: Uint8Array, colons: boolean): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16).padStart(4, '0'));
  // %pI6: eight colon-separated 4-digit groups; %pi6: 32 hex digits (lib/vsprintf.c ip6_string()).
  return words.join(colons ? ':' : '');
}

/** One step of a parsed format: literal text, a conversion (rendered from its argument), or
 *  the error the kernel gives there. `check`: the error comes after the argument-count check
 *  of a conversion (so too few arguments is reported first, as bpf_bprintf_prepare walks). */
type Op =
  | { k: 'lit'; s: string }
  | { k: 'conv'; render: (arg: bigint, mem: PrintkMemory) => string }
  | { k: 'err'; why: string; check: boolean };

/** Parse a format (the bytes before its NUL) once: bpf_bprintf_prepare()'s checks in order. */
function parseFormat(f: Uint8Array): Op[] {
  const ops: Op[] = [];
  const at = (i: number) => (i < f.length ? f[i]! : 0);
  let lit = '';
  const flush = () => {
    if (lit) ops.push({ k: 'lit', s: lit });
    lit = '';
  };
  const conv = (render: (arg: bigint, mem: PrintkMemory) => string) => {
    flush();
    ops.push({ k: 'conv', render });
  };
  const fail = (why: string, check: boolean): Op[] => {
    flush();
    ops.push({ k: 'err', why, check });
    return ops;
  };
  for (let i = 0; i < f.length; i++) {
    const c = f[i]!;
    if (c < 0x80 && !isPrint(c) && !isSpace(c)) return fail(`control byte 0x${c.toString(16)} at offset ${i} of the format`, false);
    if (c !== 0x25 /* % */) {
      lit += String.fromCharCode(c);
      continue;
    }
    if (at(i + 1) === 0x25) {
      lit += '%';
      i++;
      continue;
    }
    const start = i;
    i++;
    if (at(i) >= 0x80) return fail(`non-ASCII byte after '%' at offset ${start}`, true);
    let flags = '';
    while (at(i) === 0x30 || at(i) === 0x2b || at(i) === 0x2d || at(i) === 0x20) flags += String.fromCharCode(f[i++]!);
    let width = 0;
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      while (at(i) >= 0x30 && at(i) <= 0x39) width = width * 10 + (f[i++]! - 0x30);
    }
    const spec: Spec = { flags, width };
    const ch = String.fromCharCode(at(i));
    if (ch === 'p') {
      const n1 = at(i + 1);
      if (n1 === 0 || isSpace(n1) || isPunct(n1)) {
        // Plain %p: the kernel prints a hashed id; we print the guest address (assumed).
        conv((arg) => pad('0x' + arg.toString(16), spec, false));
        continue;
      }
      const n1c = String.fromCharCode(n1);
      if ((n1c === 'k' || n1c === 'u') && at(i + 2) === 0x73 /* s */) {
        i += 2;
        const n = at(i + 1);
        if (n !== 0 && !isSpace(n) && !isPunct(n)) return fail(`%p${n1c}s must be followed by a space, punctuation or the end`, true);
        conv((arg, mem) => pad(mem.cstring(arg, MAX_BPRINTF_BUF) ?? '', spec, false));
        continue;
      }
      if (n1c === 'K' || n1c === 'x' || n1c === 's' || n1c === 'S' || n1c === 'B') {
        i++;
        conv((arg) => pad(n1c === 'x' ? arg.toString(16).padStart(16, '0') : '0x' + arg.toString(16), spec, false));
        continue;
      }
      const n2 = String.fromCharCode(at(i + 2));
      if ((n1c !== 'i' && n1c !== 'I') || (n2 !== '4' && n2 !== '6')) {
        return fail(`unsupported %p extension at offset ${start} (only %pI4 %pi4 %pI6 %pi6 %pks %pus %pK %px %ps %pS %pB)`, true);
      }
      i += 2;
      const len = n2 === '4' ? 4 : 16;
      conv((arg, mem) => {
        const b = mem.bytes(arg, len) ?? new Uint8Array(len);
        return pad(len === 4 ? ip4(b, n1c === 'i') : ip6(b, n1c === 'I'), spec, false);
      });
      continue;
    }
    if (ch === 's') {
      const n = at(i + 1);
      if (n !== 0 && !isSpace(n) && !isPunct(n)) return fail(`%s must be followed by a space, punctuation or the end (offset ${start})`, true);
      conv((arg, mem) => pad(mem.cstring(arg, MAX_BPRINTF_BUF) ?? '', spec, false));
      continue;
    }
    if (ch === 'c') {
      conv((arg) => pad(String.fromCharCode(Number(arg & 0xffn)), spec, false));
      continue;
    }
    let bits: 32 | 64 = 32;
    if (at(i) === 0x6c /* l */) { bits = 64; i++; }
    if (at(i) === 0x6c) { bits = 64; i++; }
    const cv = String.fromCharCode(at(i));
    if (!'iduxX'.includes(cv) || cv === '') {
      return fail(`unsupported conversion '${String.fromCharCode(...f.subarray(start, Math.min(i + 1, f.length)))}' at offset ${start} (bpf_bprintf_prepare accepts %d %i %u %x %X with l/ll, %p, %s, %c, %%)`, true);
    }
    conv((arg) => fmtInt(arg, bits, cv, spec));
  }
  flush();
  return ops;
}

/** Parsed formats by a hash of their bytes (then compared): a program prints the same few
 *  formats over and over. */
const parsed = new Map<number, { bytes: Uint8Array; ops: Op[] }[]>();
const MAX_PARSED = 512;

/** The parsed format of f[start..end) (the bytes before the NUL). */
function parsedFormat(f: Uint8Array, start: number, end: number): Op[] {
  const n = end - start;
  let h = 0x811c9dc5; // FNV-1a
  for (let i = start; i < end; i++) h = Math.imul(h ^ f[i]!, 0x01000193);
  let list = parsed.get(h);
  if (list) {
    outer: for (let k = 0; k < list.length; k++) {
      const e = list[k]!;
      if (e.bytes.length !== n) continue;
      for (let i = 0; i < n; i++) if (e.bytes[i] !== f[start + i]) continue outer;
      return e.ops;
    }
  } else {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(h, (list = []));
  }
  const bytes = f.slice(start, end);
  const ops = parseFormat(bytes);
  list.push({ bytes, ops });
  return ops;
}

function tooMany(n: number): PrintkResult {
  return { ok: false, errno: -EINVAL, why: `more conversions than the ${n} arguments passed` };
}

/** Validate `fmt` as bpf_bprintf_prepare() does and format it with `args`. `fmt` is the raw
 *  fmt_size bytes the program passed. */
export function formatPrintk(fmt: Uint8Array, args: bigint[], mem: PrintkMemory): PrintkResult {
  return formatPrintkAt(fmt, 0, fmt.length, args, mem);
}

/** formatPrintk() of the fmt_size bytes buf[off..off+size) (read in place: no copy). */
export function formatPrintkAt(buf: Uint8Array, off: number, size: number, args: bigint[], mem: PrintkMemory): PrintkResult {
  const end = off + size;
  let nul = off;
  while (nul < end && buf[nul] !== 0) nul++;
  if (nul === end) return { ok: false, errno: -EINVAL, why: 'format string is not NUL-terminated within fmt_size' };
  const ops = parsedFormat(buf, off, nul);
  let out = '';
  let numSpec = 0;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k]!;
    if (op.k === 'lit') out += op.s;
    else if (op.k === 'conv') {
      if (numSpec >= args.length) return tooMany(args.length);
      out += op.render(args[numSpec++]!, mem);
    } else {
      if (op.check && numSpec >= args.length) return tooMany(args.length);
      return { ok: false, errno: -EINVAL, why: op.why };
    }
  }
  const ret = out.length;
  if (out.length > MAX_BPRINTF_BUF - 1) out = out.slice(0, MAX_BPRINTF_BUF - 1);
  return { ok: true, text: out, ret };
}
