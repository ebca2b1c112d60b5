// BTF (.BTF section): every kind of the format in include/uapi/linux/btf.h, plus the Btf helpers
// of ./types.ts. Record layouts and the kind numbers follow the uapi header; checks are ours.
import { ByteView, cstring, hex } from './bytes';
import type { Btf, BtfKind, BtfMember, BtfType } from './types';

export const BTF_MAGIC = 0xeb9f;

const KINDS: BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
  'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

/** Type ids beyond this are refused (the kernel's BTF_MAX_TYPE is 0x000fffff). */
const MAX_TYPES = 0xfffff;

export interface ParsedBtf extends Btf {
  strings: Uint8Array;
  /** String at an offset of the BTF string section ('' for 0); undefined when out of range. */
  str(off: number): string | undefined;
}

export function parseBtf(data: Uint8Array, file: string): ParsedBtf {
  const v: ByteView = new ByteView(data, file);
  const W = 'section .BTF';
  if (data.length < 24) v.fail(W, `${data.length} bytes is shorter than the BTF header (24)`);
  const magic = v.u16(0, W);
  if (magic !== BTF_MAGIC) v.fail(`${W}, offset 0x0`, `bad magic 0x${hex(magic)} (expected 0xeb9f; big-endian BTF is not supported)`);
  const version = v.u8(2, W);
  if (version !== 1) v.fail(`${W}, offset 0x2`, `BTF version ${version} is not 1`);
  const hdrLen = v.u32(4, W);
  if (hdrLen < 24 || hdrLen > data.length) v.fail(`${W}, offset 0x4`, `header length ${hdrLen} is invalid`);
  const typeOff = v.u32(8, W), typeLen = v.u32(12, W), strOff = v.u32(16, W), strLen = v.u32(20, W);
  v.check(hdrLen + typeOff, typeLen, `${W} type data (offset 0x${hex(typeOff)}, length ${typeLen})`);
  v.check(hdrLen + strOff, strLen, `${W} string data (offset 0x${hex(strOff)}, length ${strLen})`);
  const strings = data.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
  if (strLen > 0 && strings[strLen - 1] !== 0) v.fail(`${W} string data`, 'string section is not NUL-terminated');
  const str = (off: number): string | undefined => (off === 0 ? '' : cstring(strings, off));

  const types: BtfType[] = [{ id: 0, kind: 'void', name: '' }];
  let p = hdrLen + typeOff;
  const end = p + typeLen;
  while (p < end) {
    const id = types.length;
    if (id > MAX_TYPES) v.fail(`${W}, type #${id}`, 'too many types');
    const at = `${W}, type #${id} at offset 0x${hex(p - hdrLen - typeOff)}`;
    if (p + 12 > end) v.fail(at, 'truncated type record');
    const nameOff = v.u32(p, at);
    const info = v.u32(p + 4, at);
    const sizeOrType = v.u32(p + 8, at);
    p += 12;
    const vlen = info & 0xffff;
    const kindNo = (info >>> 24) & 0x1f;
    const kflag = (info >>> 31) === 1;
    if (kindNo === 0 || kindNo >= KINDS.length) v.fail(at, `unknown BTF kind ${kindNo}`);
    const kind = KINDS[kindNo];
    const name = str(nameOff);
    if (name === undefined) v.fail(at, `name offset 0x${hex(nameOff)} is outside the string section (${strLen} bytes)`);
    const t: BtfType = { id, kind, name };
    const need = (n: number) => {
      if (p + n > end) v.fail(at, `${kind} record needs ${n} more bytes than the type section holds`);
    };
    const name2 = (off: number, what: string): string => {
      const s = str(off);
      if (s === undefined) v.fail(at, `${what} name offset 0x${hex(off)} is outside the string section`);
      return s;
    };
    switch (kind) {
      case 'int': {
        need(4);
        const x = v.u32(p, at);
        p += 4;
        const enc = (x >>> 24) & 0xf;
        t.size = sizeOrType;
        t.int = { encoding: enc, offset: (x >>> 16) & 0xff, bits: x & 0xff, signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 };
        break;
      }
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
        t.type = sizeOrType;
        break;
      case 'fwd':
        t.kflag = kflag; // 1: union
        break;
      case 'float':
        t.size = sizeOrType;
        break;
      case 'array':
        need(12);
        t.array = { type: v.u32(p, at), indexType: v.u32(p + 4, at), nelems: v.u32(p + 8, at) };
        p += 12;
        break;
      case 'struct': case 'union': {
        need(12 * vlen);
        t.size = sizeOrType;
        t.kflag = kflag;
        const ms: BtfMember[] = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          const off = v.u32(p + 8, at);
          ms.push({
            name: name2(v.u32(p, at), `member ${i}`),
            type: v.u32(p + 4, at),
            bitOffset: kflag ? off & 0xffffff : off,
            bitSize: kflag ? off >>> 24 : 0,
          });
        }
        t.members = ms;
        break;
      }
      case 'enum': {
        need(8 * vlen);
        t.size = sizeOrType;
        t.signed = kflag;
        t.values = [];
        for (let i = 0; i < vlen; i++, p += 8) {
          const val = kflag ? BigInt(v.i32(p + 4, at)) : BigInt(v.u32(p + 4, at));
          t.values.push({ name: name2(v.u32(p, at), `enumerator ${i}`), value: val });
        }
        break;
      }
      case 'enum64': {
        need(12 * vlen);
        t.size = sizeOrType;
        t.signed = kflag;
        t.values = [];
        for (let i = 0; i < vlen; i++, p += 12) {
          const u = (BigInt(v.u32(p + 8, at)) << 32n) | BigInt(v.u32(p + 4, at));
          t.values.push({ name: name2(v.u32(p, at), `enumerator ${i}`), value: kflag ? BigInt.asIntN(64, u) : u });
        }
        break;
      }
      case 'func':
        t.type = sizeOrType;
        t.linkage = vlen;
        break;
      case 'func_proto':
        need(8 * vlen);
        t.type = sizeOrType;
        t.params = [];
        for (let i = 0; i < vlen; i++, p += 8) t.params.push({ name: name2(v.u32(p, at), `parameter ${i}`), type: v.u32(p + 4, at) });
        break;
      case 'var':
        need(4);
        t.type = sizeOrType;
        t.linkage = v.u32(p, at);
        p += 4;
        break;
      case 'datasec':
        need(12 * vlen);
        t.size = sizeOrType;
        t.secinfo = [];
        for (let i = 0; i < vlen; i++, p += 12) t.secinfo.push({ type: v.u32(p, at), offset: v.u32(p + 4, at), size: v.u32(p + 8, at) });
        break;
      case 'decl_tag':
        need(4);
        t.type = sizeOrType;
        t.componentIdx = v.i32(p, at);
        p += 4;
        break;
      default:
        break;
    }
    types.push(t);
  }
  // Every type reference must name an existing type, so the helpers can walk without checks.
  const n = types.length;
  const ref = (t: BtfType, id: number | undefined, what: string) => {
    if (id !== undefined && id >= n) v.fail(`${W}, type #${t.id} (${t.kind} ${t.name || '<anon>'})`, `${what} refers to type #${id}, beyond the last type #${n - 1}`);
  };
  for (const t of types) {
    ref(t, t.type, 'type');
    if (t.array) { ref(t, t.array.type, 'element type'); ref(t, t.array.indexType, 'index type'); }
    for (const m of t.members ?? []) ref(t, m.type, `member ${m.name}`);
    for (const pa of t.params ?? []) ref(t, pa.type, `parameter ${pa.name}`);
    for (const s of t.secinfo ?? []) ref(t, s.type, 'variable');
  }
  return makeBtf(types, strings, str);
}

function makeBtf(types: BtfType[], strings: Uint8Array, str: (off: number) => string | undefined): ParsedBtf {
  const byName = new Map<string, BtfType[]>();
  for (const t of types) {
    if (!t.name) continue;
    const l = byName.get(t.name);
    if (l) l.push(t);
    else byName.set(t.name, [t]);
  }
  const MODS = new Set<BtfKind>(['typedef', 'const', 'volatile', 'restrict', 'type_tag']);
  const get = (id: number): BtfType => types[id] ?? types[0];

  const resolve = (id: number): BtfType => {
    let t = get(id);
    for (let guard = 0; MODS.has(t.kind) && guard < 64; guard++) t = get(t.type ?? 0);
    return MODS.has(t.kind) ? types[0] : t; // a modifier loop resolves to void
  };

  const sizeof = (id: number, depth = 0): number => {
    const t = resolve(id);
    if (depth > 64) return 0;
    switch (t.kind) {
      case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'float': case 'datasec':
        return t.size ?? 0;
      case 'ptr':
        return 8;
      case 'array':
        return t.array!.nelems * sizeof(t.array!.type, depth + 1);
      case 'var':
        return sizeof(t.type ?? 0, depth + 1);
      default:
        return 0;
    }
  };

  const findMember = (structId: number, name: string, depth: number): { offset: number; type: number; bitSize: number } | undefined => {
    const s = resolve(structId);
    if (!s.members || depth > 32) return undefined;
    for (const m of s.members) {
      if (m.name === name) return { offset: m.bitOffset, type: m.type, bitSize: m.bitSize };
    }
    for (const m of s.members) {
      if (m.name !== '') continue;
      const inner = findMember(m.type, name, depth + 1);
      if (inner) return { offset: m.bitOffset + inner.offset, type: inner.type, bitSize: inner.bitSize };
    }
    return undefined;
  };

  const memberOffset = (structId: number, path: string) => {
    let bits = 0;
    let cur = structId;
    let bitSize = 0;
    for (const part of path.split('.')) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/.exec(part);
      if (!m) return undefined;
      const f = findMember(cur, m[1], 0);
      if (!f) return undefined;
      bits += f.offset;
      cur = f.type;
      bitSize = f.bitSize;
      for (const idx of m[2].match(/\d+/g) ?? []) {
        const a = resolve(cur);
        if (a.kind !== 'array') return undefined;
        const i = Number(idx);
        if (i >= a.array!.nelems && a.array!.nelems !== 0) return undefined;
        bits += i * sizeof(a.array!.type) * 8;
        cur = a.array!.type;
        bitSize = 0;
      }
    }
    return { offset: Math.floor(bits / 8), type: cur, bitSize };
  };

  const typeName = (id: number): string => spell(id, '', 0);
  const spell = (id: number, inner: string, depth: number): string => {
    const t = get(id);
    const sp = inner ? ' ' + inner : '';
    if (depth > 32) return '...' + sp;
    switch (t.kind) {
      case 'void': return 'void' + sp;
      case 'int': case 'float': case 'typedef': return t.name + sp;
      case 'struct': case 'union': case 'enum': case 'enum64':
        return `${t.kind === 'enum64' ? 'enum' : t.kind} ${t.name || '<anon>'}${sp}`;
      case 'fwd': return `${t.kflag ? 'union' : 'struct'} ${t.name}${sp}`;
      case 'ptr': {
        const target = get(t.type ?? 0);
        const wrap = target.kind === 'array' || target.kind === 'func_proto';
        return spell(t.type ?? 0, wrap ? `(*${inner})` : `*${inner}`, depth + 1);
      }
      case 'const': case 'volatile': case 'restrict': {
        const target = get(t.type ?? 0);
        if (target.kind === 'ptr') return spell(t.type ?? 0, `${t.kind}${sp}`, depth + 1);
        return `${t.kind} ${spell(t.type ?? 0, inner, depth + 1)}`;
      }
      case 'type_tag': return spell(t.type ?? 0, `__attribute__((btf_type_tag("${t.name}")))${sp}`, depth + 1);
      case 'array': return spell(t.array!.type, `${inner}[${t.array!.nelems}]`, depth + 1);
      case 'func_proto': {
        const ps = (t.params ?? []).map((p) => (p.type === 0 ? '...' : spell(p.type, p.name, depth + 1)));
        return spell(t.type ?? 0, `${inner}(${ps.length ? ps.join(', ') : 'void'})`, depth + 1);
      }
      case 'func': return spell(t.type ?? 0, t.name, depth + 1);
      case 'var': return spell(t.type ?? 0, t.name, depth + 1);
      case 'datasec': return `SEC("${t.name}")`;
      case 'decl_tag': return `__attribute__((btf_decl_tag("${t.name}")))`;
    }
  };

  return {
    types,
    strings,
    str,
    find(name, kind) {
      const l = byName.get(name);
      if (!l) return undefined;
      return kind ? l.find((t) => t.kind === kind) : l[0];
    },
    resolve,
    sizeof: (id) => sizeof(id),
    memberOffset,
    typeName,
  };
}
