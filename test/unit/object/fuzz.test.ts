// Hostile objects: 10,000 deterministic mutations of the clang-built fixtures (bit flips,
// truncations, corrupt section headers, BTF/BTF.ext headers, type records and strings,
// relocations, symbols, instructions). loadObject must return or throw an ObjectError that
// names the file and a place, never another exception, a hang or an allocation blow-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteView, loadObject, ObjectError, parseElf, type ElfFile } from '../../../debugger/object';

const DIR = 'test/fixtures/objects';
const FIXTURES = ['sockops_hook.bpf.o', 'core_relos.bpf.v4.o', 'calls.bpf.v3.o'];
const ITERATIONS = 10_000;

// mulberry32: a small deterministic PRNG, so a failure names a reproducible case.
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Layout { bytes: Uint8Array; elf: ElfFile; shoff: number; btf?: { off: number; size: number }; ext?: { off: number; size: number }; rels: { off: number; size: number }[]; symtab: { off: number; size: number }; code: { off: number; size: number }[] }

function layout(name: string): Layout {
  const bytes = new Uint8Array(readFileSync(join(DIR, name)));
  const elf = parseElf(new ByteView(bytes, name));
  const dv = new DataView(bytes.buffer);
  const sec = (n: string) => elf.sections.find((s) => s.name === n);
  const span = (s?: { offset: number; size: number }) => (s ? { off: s.offset, size: s.size } : undefined);
  return {
    bytes, elf, shoff: Number(dv.getBigUint64(0x28, true)),
    btf: span(sec('.BTF')), ext: span(sec('.BTF.ext')),
    rels: elf.sections.filter((s) => s.type === 9).map((s) => ({ off: s.offset, size: s.size })),
    symtab: span(elf.sections[elf.symtabIndex])!,
    code: elf.sections.filter((s) => (s.flags & 4) !== 0).map((s) => ({ off: s.offset, size: s.size })),
  };
}

test(`${ITERATIONS} mutated objects load or fail with an ObjectError`, () => {
  const rnd = prng(0x5eed0b1);
  const int = (n: number) => Math.floor(rnd() * n);
  const layouts = FIXTURES.map(layout);
  const hostile = () => [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xffff, 0x10000, int(0x100000000), int(4096), int(64)][int(10)];
  const outcomes = { ok: 0, error: 0 };
  const kinds = new Map<string, number>();
  for (let iter = 0; iter < ITERATIONS; iter++) {
    const L = layouts[iter % layouts.length];
    let b = L.bytes.slice();
    const dv = new DataView(b.buffer);
    const put32 = (off: number, v: number) => { if (off >= 0 && off + 4 <= b.length) dv.setUint32(off, v >>> 0, true); };
    const put64 = (off: number, v: number) => { if (off >= 0 && off + 8 <= b.length) dv.setBigUint64(off, BigInt(v >>> 0) * (rnd() < 0.2 ? 0x100000000n : 1n), true); };
    const inSpan = (s: { off: number; size: number }) => s.off + int(Math.max(1, s.size));
    const mutations = 1 + int(3);
    let kind = '';
    for (let m = 0; m < mutations; m++) {
      const k = int(11);
      kind = String(k);
      switch (k) {
        case 0: // bit flips anywhere
          for (let i = 1 + int(8); i > 0; i--) { const o = int(b.length); b[o] ^= 1 << int(8); }
          break;
        case 1: // truncation
          b = b.slice(0, int(b.length));
          break;
        case 2: { // a section header field
          const i = int(L.elf.sections.length);
          const fields = [0, 4, 0x18, 0x20, 0x28, 0x2c, 0x38];
          const f = fields[int(fields.length)];
          const o = L.shoff + i * 64 + f;
          if (f >= 0x18 && f !== 0x28 && f !== 0x2c) put64(o, hostile()); else put32(o, hostile());
          break;
        }
        case 3: // BTF header
          if (L.btf) put32(L.btf.off + 4 * (1 + int(5)), hostile());
          break;
        case 4: // a BTF type record word
          if (L.btf) put32(L.btf.off + 24 + 4 * int(Math.floor((L.btf.size - 24) / 4)), hostile());
          break;
        case 5: // BTF strings: drop or add terminators near the end
          if (L.btf) { const o = L.btf.off + L.btf.size - 1 - int(Math.min(400, L.btf.size)); if (o < b.length) b[o] = b[o] === 0 ? 0x41 : 0; }
          break;
        case 6: // BTF.ext header or a record word
          if (L.ext) put32(rnd() < 0.5 ? L.ext.off + 4 * (1 + int(7)) : inSpan(L.ext) & ~3, hostile());
          break;
        case 7: { // a relocation: offset, type or symbol
          const r = L.rels[int(L.rels.length)];
          if (r && r.size >= 16) { const e = r.off + 16 * int(r.size / 16); if (rnd() < 0.5) put64(e, hostile()); else put32(e + 8 + 4 * int(2), hostile()); }
          break;
        }
        case 8: { // a symbol: name, shndx, value or size
          const e = L.symtab.off + 24 * int(L.symtab.size / 24);
          const f = int(4);
          if (f === 0) put32(e, hostile());
          else if (f === 1 && e + 8 <= b.length) dv.setUint16(e + 6, hostile() & 0xffff, true);
          else put64(e + (f === 2 ? 8 : 16), hostile());
          break;
        }
        case 9: { // an instruction: imm, off or regs (wild call targets, broken ld_imm64)
          const c = L.code[int(L.code.length)];
          if (c && c.size >= 8) { const o = c.off + 8 * int(c.size / 8); if (rnd() < 0.5) put32(o + 4, hostile()); else if (o + 2 <= b.length) b[o + 1 + int(2)] = int(256); }
          break;
        }
        default: { // ELF header: e_shoff, e_shnum, e_shstrndx
          const f = int(3);
          if (f === 0) put64(0x28, hostile());
          else if (b.length >= 0x40) dv.setUint16(f === 1 ? 0x3c : 0x3e, hostile() & 0xffff, true);
        }
      }
    }
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    const file = `fuzz-${iter}.o`;
    try {
      const o = loadObject(b, file);
      assert.equal(o.file, file);
      outcomes.ok++;
    } catch (e) {
      if (!(e instanceof ObjectError)) assert.fail(`iteration ${iter} (${L.elf.view.file}): ${e instanceof Error ? e.stack : String(e)}`);
      assert.equal(e.file, file);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.notEqual(e.where, 'loader', `iteration ${iter}: internal error surfaced: ${e.message}`);
      assert.ok(e.detail.length > 10, e.message);
      outcomes.error++;
    }
  }
  console.log(`# fuzz: ${outcomes.ok} loaded, ${outcomes.error} rejected with ObjectError`);
  // Both outcomes must be common, or the mutations are not exercising the loader.
  assert.ok(outcomes.ok > ITERATIONS / 20 && outcomes.error > ITERATIONS / 5, JSON.stringify(outcomes));
});
