// formatInsn against llvm-objdump-19: every instruction of the committed listings in
// test/fixtures/vm/disasm (built per build.json) must format to exactly the same text, in the
// default mode and with --mcpu=v3 (alu32). When llvm-objdump-19 / clang-19 are installed, the
// listings are regenerated from the committed objects / sources and compared too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { decodeBytes, formatInsn, OPS, type Insn } from '../../../debugger/vm/index';

const DIR = join(import.meta.dirname, '../../fixtures/vm/disasm');
const build = JSON.parse(readFileSync(join(DIR, 'build.json'), 'utf8')) as { objects: Record<string, string[]> };
const has = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;

interface Line { pc: number; bytes: Uint8Array; text: string }
/** Sections of an llvm-objdump -d listing: instruction slots (by pc) and their text. */
function parseListing(text: string): Line[][] {
  const sections: Line[][] = [];
  for (const l of text.split('\n')) {
    if (l.startsWith('Disassembly of section')) { sections.push([]); continue; }
    const m = /^\s+(\d+):\t((?:[0-9a-f]{2} ?)+)\t(.*)$/.exec(l);
    if (!m) continue;
    const bytes = Uint8Array.from(m[2].trim().split(' ').map((h) => parseInt(h, 16)));
    sections[sections.length - 1].push({ pc: Number(m[1]), bytes, text: m[3] });
  }
  return sections;
}

function check(listing: string, alu32: boolean, where: string): number {
  let n = 0;
  for (const sec of parseListing(listing)) {
    const slots: Insn[] = [];
    for (const l of sec) {
      for (const [k, x] of decodeBytes(l.bytes).entries()) slots[l.pc + k] = x;
    }
    // labels as llvm-objdump's symbolizer printed them (pluggable through opts.labels)
    const labels = new Map<number, string>();
    for (const l of sec) {
      const m = / <([^<>]+)>$/.exec(l.text);
      const x = slots[l.pc];
      const info = OPS[x.code];
      if (m && info && (info.kind === 'ja' || info.kind === 'jcond' || info.kind === 'maygoto')) {
        labels.set(l.pc + 1 + (info.kind === 'ja' && !info.is64 ? x.imm : x.off), m[1]);
      }
    }
    for (const l of sec) {
      const got = formatInsn(slots, l.pc, { labels, alu32 });
      assert.equal(got, l.text, `${where}: insn ${l.pc} (${Buffer.from(l.bytes).toString('hex')})`);
      n++;
    }
  }
  return n;
}

for (const obj of Object.keys(build.objects)) {
  const base = obj.replace(/\.o$/, '');
  test(`formatInsn matches llvm-objdump-19 -d on ${obj}`, () => {
    const n = check(readFileSync(join(DIR, `${base}.objdump.txt`), 'utf8'), false, `${base}.objdump.txt`);
    assert.ok(n > 50, `${obj}: only ${n} instructions checked`);
  });
  test(`formatInsn matches llvm-objdump-19 -d --mcpu=v3 on ${obj}`, () => {
    check(readFileSync(join(DIR, `${base}.objdump-v3.txt`), 'utf8'), true, `${base}.objdump-v3.txt`);
  });
}

test('committed listings are what llvm-objdump-19 prints for the committed objects', { skip: !has('llvm-objdump-19') && 'llvm-objdump-19 not installed' }, () => {
  for (const obj of Object.keys(build.objects)) {
    const base = obj.replace(/\.o$/, '');
    for (const [suf, extra] of [['.objdump.txt', []], ['.objdump-v3.txt', ['--mcpu=v3']]] as const) {
      const r = spawnSync('llvm-objdump-19', ['-d', ...extra, obj], { cwd: DIR, encoding: 'utf8' });
      assert.equal(r.stdout, readFileSync(join(DIR, base + suf), 'utf8'), `${obj} ${suf}`);
    }
  }
});

test('committed objects are what clang-19 builds from the sources', { skip: (!has('clang-19') || !has('llvm-objdump-19')) && 'clang-19 not installed' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vm-disasm-'));
  try {
    for (const [obj, [src, ...flags]] of Object.entries(build.objects)) {
      const out = join(tmp, obj);
      const r = spawnSync('clang-19', ['-target', 'bpf', '-c', join(DIR, src), ...flags, '-o', out], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${obj}: ${r.stderr}`);
      // compare instruction text (the file name line differs)
      const a = spawnSync('llvm-objdump-19', ['-d', out], { encoding: 'utf8' }).stdout.split('\n').slice(2).join('\n');
      const b = readFileSync(join(DIR, obj.replace(/\.o$/, '.objdump.txt')), 'utf8').split('\n').slice(2).join('\n');
      assert.equal(a, b, `${obj} rebuilt from ${src} differs from the committed listing`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('every opcode in the table is covered by raw.objdump.txt', () => {
  const seen = new Set<number>();
  for (const sec of parseListing(readFileSync(join(DIR, 'raw.objdump.txt'), 'utf8'))) for (const l of sec) seen.add(l.bytes[0]);
  for (let c = 0; c < 256; c++) if (OPS[c]) assert.ok(seen.has(c), `opcode 0x${c.toString(16)} missing from raw.s`);
});
