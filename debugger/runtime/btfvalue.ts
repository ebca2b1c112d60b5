// Decode bytes through BTF into a tree of named values (map keys/values, global data, contexts).
import type { Btf } from '../object/types';
import type { VarNode } from './inspect';
import { le } from './env';
import { btfTarget, type IntTarget } from './assign';

const MAX_CHILDREN = 128;

function hexOf(v: bigint, size: number): string {
  return '0x' + v.toString(16).padStart(size * 2, '0');
}

/** Read an integer of `size` bytes at `off`, little-endian. */
function intAt(bytes: Uint8Array, off: number, size: number): bigint {
  return le(bytes.subarray(off, off + size));
}

/** Called to make a node settable or watchable at byte offset `off` of `bytes` (size bytes, of C shape `target`). */
export type LeafFn = (node: VarNode, off: number, size: number, target: IntTarget) => void;

export interface DecodeOpts {
  leaf?: LeafFn;
}

export function decodeBtf(btf: Btf, typeId: number, bytes: Uint8Array, off: number, name: string, opts: DecodeOpts = {}, depth = 0): VarNode {
  const t = btf.resolve(typeId);
  const type = btf.typeName(typeId);
  const size = (() => { try { return btf.sizeof(typeId); } catch { return 0; } })();
  if (off + size > bytes.length) return { name, value: '(outside the value)', type };
  switch (t.kind) {
    case 'int': {
      const sz = t.size ?? size;
      let v = intAt(bytes, off, sz);
      const target = btfTarget(type, sz, { signed: t.int?.signed, bool: t.int?.bool });
      if (t.int?.bool) return leaf({ name, value: v ? 'true' : 'false', type }, off, sz, opts, target);
      if (t.int?.signed) v = BigInt.asIntN(sz * 8, v);
      const ch = t.int?.char && v >= 32n && v < 127n ? ` '${String.fromCharCode(Number(v))}'` : '';
      return leaf({ name, value: `${v}${ch}`, type }, off, sz, opts, target);
    }
    case 'enum':
    case 'enum64': {
      const sz = t.size ?? 4;
      let v = intAt(bytes, off, sz);
      if (t.signed) v = BigInt.asIntN(sz * 8, v);
      const e = t.values?.find((x) => x.value === v);
      return leaf({ name, value: e ? `${e.name} (${v})` : `${v}`, type }, off, sz, opts, btfTarget(type, sz, { signed: t.signed }));
    }
    case 'ptr': {
      const v = intAt(bytes, off, 8);
      return leaf({ name, value: v === 0n ? 'NULL' : hexOf(v, 8), type, memoryReference: v ? hexOf(v, 0) : undefined }, off, 8, opts, btfTarget(type, 8, { pointer: true }));
    }
    case 'float':
      return { name, value: hexOf(intAt(bytes, off, size), size), type };
    case 'array': {
      const a = t.array!;
      const esz = btf.sizeof(a.type);
      const et = btf.resolve(a.type);
      if (et.kind === 'int' && et.int?.char || (et.kind === 'int' && esz === 1 && a.nelems > 8)) {
        const raw = bytes.subarray(off, off + a.nelems);
        const nul = raw.indexOf(0);
        const txt = Buffer.from(raw.subarray(0, nul < 0 ? raw.length : nul)).toString('latin1');
        if (/^[\x20-\x7e]*$/.test(txt) && et.int?.char) return { name, value: JSON.stringify(txt), type };
      }
      const n = Math.min(a.nelems, MAX_CHILDREN);
      return {
        name, type, value: `[${a.nelems}]`,
        children: () => Array.from({ length: n }, (_, i) => decodeBtf(btf, a.type, bytes, off + i * esz, `[${i}]`, opts, depth + 1)),
      };
    }
    case 'struct':
    case 'union': {
      const members = t.members ?? [];
      return {
        name, type, value: summary(btf, t.members ?? [], bytes, off),
        children: () => members.slice(0, MAX_CHILDREN).map((m, i) => {
          const mname = m.name || `<anon ${i}>`;
          if (m.bitSize) {
            const word = le(bytes.subarray(off + Math.floor(m.bitOffset / 8), off + Math.floor(m.bitOffset / 8) + 8 > bytes.length ? bytes.length : off + Math.floor(m.bitOffset / 8) + 8));
            const v = (word >> BigInt(m.bitOffset % 8)) & ((1n << BigInt(m.bitSize)) - 1n);
            return { name: mname, value: `${v}`, type: `${btf.typeName(m.type)} : ${m.bitSize}` };
          }
          return decodeBtf(btf, m.type, bytes, off + m.bitOffset / 8, mname, opts, depth + 1);
        }),
      };
    }
    default:
      return { name, value: size ? hexOf(intAt(bytes, off, Math.min(size, 8)), Math.min(size, 8)) : '?', type };
  }
}

function leaf(node: VarNode, off: number, size: number, opts: DecodeOpts, target: IntTarget): VarNode {
  opts.leaf?.(node, off, size, target);
  return node;
}

function summary(btf: Btf, members: { name: string; type: number; bitOffset: number; bitSize: number }[], bytes: Uint8Array, off: number): string {
  const parts: string[] = [];
  for (const m of members.slice(0, 4)) {
    const t = btf.resolve(m.type);
    if (m.bitSize || !(t.kind === 'int' || t.kind === 'enum')) continue;
    const sz = t.size ?? 4;
    let v = intAt(bytes, off + m.bitOffset / 8, sz);
    if (t.int?.signed) v = BigInt.asIntN(sz * 8, v);
    parts.push(`${m.name}=${v}`);
  }
  return `{${parts.join(', ')}${members.length > parts.length ? ', …' : ''}}`;
}

/** Raw bytes when there is no type: 8-byte words. */
export function rawNode(name: string, bytes: Uint8Array, opts: DecodeOpts = {}): VarNode {
  return {
    name, value: `${bytes.length} bytes`,
    children: () => {
      const out: VarNode[] = [];
      for (let o = 0; o < bytes.length && out.length < MAX_CHILDREN; o += 8) {
        const n = Math.min(8, bytes.length - o);
        out.push(leaf({ name: `+${o}`, value: hexOf(intAt(bytes, o, n), n) }, o, n, opts, btfTarget(`${n}-byte word`, n)));
      }
      return out;
    },
  };
}
