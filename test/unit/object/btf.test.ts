// The BTF reader on an object that uses every kind clang emits, compared with the C source
// (test/fixtures/objects/btf_kinds.bpf.c) and, where installed, with bpftool's own dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject, parseBtf, ObjectError, type BtfKind } from '../../../debugger/object';

const DIR = 'test/fixtures/objects';
const obj = loadObject(readFileSync(join(DIR, 'btf_kinds.bpf.o')), 'btf_kinds.bpf.o');
const btf = obj.btf!;

test('every BTF kind is read', () => {
  const kinds = new Set(btf.types.map((t) => t.kind));
  const all: BtfKind[] = ['void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile', 'const',
    'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64'];
  for (const k of all) assert.ok(kinds.has(k), `no ${k} read`);
  btf.types.forEach((t, i) => assert.equal(t.id, i));
});

test('struct every_kind: members, sizes, bitfields, anonymous union', () => {
  const s = btf.find('every_kind', 'struct')!;
  assert.equal(s.members!.length, 13);
  const off = (p: string) => btf.memberOffset(s.id, p)!;
  assert.equal(btf.typeName(off('name').type), 'char [6]');
  assert.equal(btf.typeName(off('flags').type), 'volatile unsigned short');
  assert.equal(off('flags').offset, 6);
  assert.equal(btf.typeName(off('small').type), 'enum small_e');
  assert.equal(btf.typeName(off('wide').type), 'enum wide_e');
  assert.equal(btf.sizeof(off('wide').type), 8);
  assert.equal(btf.resolve(off('ratio').type).kind, 'float');
  assert.equal(btf.sizeof(off('scale').type), 8);
  assert.equal(btf.typeName(off('peer').type), 'struct opaque_peer *');
  assert.equal(btf.typeName(off('u').type), 'union opaque_u *');
  assert.equal(btf.typeName(off('tagged').type), 'int __attribute__((btf_type_tag("user"))) *');
  assert.equal(btf.typeName(off('text').type), 'const char *restrict');
  assert.equal(btf.typeName(off('cb').type), 'frame_cb');
  assert.equal(btf.typeName(btf.resolve(off('cb').type).id), 'int (*)(const void *, unsigned int)');
  // Anonymous union of an anonymous struct of bitfields.
  const lo = off('lo'), hi = off('hi'), raw = off('raw');
  assert.equal(lo.offset, raw.offset);
  assert.equal(lo.bitSize, 12);
  assert.equal(hi.bitSize, 20);
  assert.equal(hi.offset, raw.offset + 1); // bit 12 is in byte 1
  assert.equal(off('counter').offset, raw.offset + 4);
  assert.equal(btf.sizeof(s.id), off('counter').offset + 4);
});

test('enums, enum64, fwd, decl_tag and the global variable', () => {
  const small = btf.find('small_e', 'enum')!;
  assert.equal(small.signed, true);
  assert.deepEqual(small.values!.map((v) => [v.name, v.value]), [['SMALL_A', -2n], ['SMALL_B', 5n]]);
  const wide = btf.find('wide_e', 'enum64')!;
  assert.equal(wide.size, 8);
  assert.deepEqual(wide.values!.map((v) => v.value), [1n, 0x1234567800000000n]);
  assert.equal(btf.find('opaque_peer', 'fwd')!.kflag, false);
  assert.equal(btf.find('opaque_u', 'fwd')!.kflag, true);
  const tags = btf.types.filter((t) => t.kind === 'decl_tag').map((t) => [t.name, btf.types[t.type!].name, t.componentIdx]);
  const s = btf.find('every_kind', 'struct')!;
  assert.deepEqual(tags.find((x) => x[0] === 'struct_note'), ['struct_note', 'every_kind', -1]);
  assert.deepEqual(tags.find((x) => x[0] === 'counter_note'), ['counter_note', 'every_kind', s.members!.findIndex((m) => m.name === 'counter')]);
  assert.deepEqual(tags.find((x) => x[0] === 'arg_note'), ['arg_note', 'touch', 0]);
  const v = btf.find('kinds_global', 'var')!;
  assert.equal(v.linkage, 1); // BTF_VAR_GLOBAL_ALLOCATED
  const bss = btf.find('.bss', 'datasec')!;
  assert.equal(bss.size, btf.sizeof(s.id)); // fixed up from the ELF section
  assert.deepEqual(bss.secinfo, [{ type: v.id, offset: 0, size: btf.sizeof(s.id) }]);
  assert.equal(btf.typeName(btf.find('touch', 'func')!.id), 'int touch(struct every_kind *k)');
});

test('type ids and names agree with bpftool btf dump (when installed)', (t) => {
  const r = spawnSync('bpftool', ['btf', 'dump', 'file', join(DIR, 'btf_kinds.bpf.o')], { encoding: 'utf8' });
  if (r.status !== 0) return t.skip('bpftool not available');
  let n = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\[(\d+)\] ([A-Z0-9_]+) '([^']*)'/.exec(line);
    if (!m) continue;
    const ty = btf.types[Number(m[1])];
    assert.equal(ty.kind, m[2].toLowerCase(), `type ${m[1]}`);
    assert.equal(ty.name, m[3] === '(anon)' ? '' : m[3], `type ${m[1]}`);
    n++;
  }
  assert.equal(n, btf.types.length - 1);
});

test('hostile BTF: bad header, cyclic typedefs, out-of-range references', () => {
  // A minimal BTF: header + types + strings, built here so each corruption is deliberate.
  const build = (types: number[], strs: string) => {
    const s = new TextEncoder().encode(strs);
    const b = new Uint8Array(24 + types.length * 4 + s.length);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, 0xeb9f, true); b[2] = 1; dv.setUint32(4, 24, true);
    dv.setUint32(8, 0, true); dv.setUint32(12, types.length * 4, true);
    dv.setUint32(16, types.length * 4, true); dv.setUint32(20, s.length, true);
    types.forEach((w, i) => dv.setUint32(24 + 4 * i, w >>> 0, true));
    b.set(s, 24 + types.length * 4);
    return b;
  };
  const TYPEDEF = 8 << 24;
  // Two typedefs naming each other: resolve() ends (void), sizeof is 0, typeName terminates.
  const loop = parseBtf(build([1, TYPEDEF, 2, 3, TYPEDEF, 1], '\0a\0b\0'), 'loop.o');
  assert.equal(loop.resolve(1).kind, 'void');
  assert.equal(loop.sizeof(2), 0);
  assert.equal(typeof loop.typeName(1), 'string');
  assert.throws(() => parseBtf(build([1, TYPEDEF, 7], '\0a\0'), 'ref.o'), (e: unknown) => e instanceof ObjectError && /type #7, beyond the last type #1/.test(e.message));
  assert.throws(() => parseBtf(build([99, TYPEDEF, 0], '\0a\0'), 'name.o'), (e: unknown) => e instanceof ObjectError && /name offset 0x63/.test(e.message));
  // A struct claiming 65535 members in a 12-byte record: refused before any allocation.
  assert.throws(() => parseBtf(build([1, (4 << 24) | 0xffff, 8], '\0a\0'), 'vlen.o'), (e: unknown) => e instanceof ObjectError && /struct record needs 786420 more bytes/.test(e.message));
  assert.throws(() => parseBtf(build([1, 31 << 24, 0], '\0a\0'), 'kind.o'), (e: unknown) => e instanceof ObjectError && /unknown BTF kind 31/.test(e.message));
  const bad = build([], '\0');
  bad[0] = 0;
  assert.throws(() => parseBtf(bad, 'magic.o'), /bad magic/);
});
