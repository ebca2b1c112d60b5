// `bpf-sockops disasm` against llvm-objdump-19: without source lines the listing must equal the
// committed `llvm-objdump-19 -d -S -r` dumps with their source lines removed; the source lines we
// interleave come from BTF line_info and must be lines of the C file at the right instructions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disasmCommand, disassemble } from '../../../cli/disasm';
import { loadObject } from '../../../debugger/object';

const DIR = 'test/fixtures/objects';
const OBJECTS = readdirSync(DIR).filter((f) => f.endsWith('.o')).sort();
const noSource = (s: string) => s.split('\n').filter((l) => !l.startsWith('; ')).join('\n');

async function run(args: string[]) {
  let out = '', err = '';
  const code = await disasmCommand(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

for (const name of OBJECTS) {
  test(`${name}: listing equals llvm-objdump -d -r; source lines from line_info`, async () => {
    const path = join(DIR, name);
    const r = await run([path]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const head = `\n${path}:\tfile format elf64-bpf\n`;
    assert.ok(r.out.startsWith(head), 'header line as llvm-objdump prints it');
    const dump = readFileSync(path + '.dump', 'utf8');
    assert.equal(noSource(r.out.slice(head.length)), noSource(dump));
    const bare = await run(['--no-source', path]);
    assert.equal(bare.out, noSource(r.out));
    // Every printed source line is a line of the C file and sits where line_info puts it.
    const src = readFileSync(join(DIR, name.replace(/(\.v[34])?\.o$/, '.c')), 'utf8').split('\n');
    const o = loadObject(readFileSync(path), name);
    const expected = new Set<string>();
    const funcsWithLines = new Set<string>();
    for (const p of o.programs) for (const li of p.lineInfo) {
      const f = p.funcs.find((x) => li.pc >= x.startPc && li.pc < x.endPc)!;
      expected.add(`${f.section}:${f.secInsn! + li.pc - f.startPc}:${li.text}`);
      funcsWithLines.add(`${f.section}:${f.secInsn}`);
    }
    let sec = '', pending: string[] = [], printed = 0;
    for (const l of r.out.split('\n')) {
      const m = /^Disassembly of section (.*):$/.exec(l);
      if (m) sec = m[1];
      else if (l.startsWith('; ')) { assert.ok(src.includes(l.slice(2)), `not a source line: ${l}`); pending.push(l.slice(2)); }
      else {
        const i = /^\s+(\d+):\t/.exec(l);
        if (i) {
          for (const t of pending) { assert.ok(expected.has(`${sec}:${i[1]}:${t}`), `${sec} slot ${i[1]}: '${t}' has no line_info there`); printed++; }
          pending = [];
        }
      }
    }
    // Each function opens with a source line, and lines change inside it.
    assert.ok(printed > funcsWithLines.size, `only ${printed} source lines printed for ${funcsWithLines.size} functions`);
  });
}

test('--mcpu=v3 text equals llvm-objdump-19 --mcpu=v3 (when installed)', (t) => {
  if (spawnSync('llvm-objdump-19', ['--version']).status !== 0) return t.skip('llvm-objdump-19 not installed');
  for (const name of OBJECTS.filter((n) => /\.v[34]\.o$/.test(n))) {
    const path = join(DIR, name);
    const theirs = spawnSync('llvm-objdump-19', ['-d', '-r', '--mcpu=v3', path], { encoding: 'utf8' }).stdout;
    assert.equal(disassemble(readFileSync(path), path, { source: false, alu32: true }), theirs, name);
  }
});

test('bad input: usage, unreadable file, truncated object', async () => {
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['--bogus', 'x.o'])).code, 2);
  const missing = await run(['/nonexistent/hook.o']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /\/nonexistent\/hook\.o: cannot read the BPF object \(ENOENT\)/);
  const dir = mkdtempSync(join(tmpdir(), 'disasm-'));
  try {
    const bad = join(dir, 'cut.o');
    writeFileSync(bad, readFileSync(join(DIR, 'sockops_hook.bpf.o')).subarray(0, 3000));
    const r = await run([bad]);
    assert.equal(r.code, 1);
    assert.ok(r.err.startsWith(`${bad}: `), r.err);
    assert.match(r.err, /truncated|outside|cannot fit/);
    const notElf = join(dir, 'hook.c');
    writeFileSync(notElf, 'int x;\n');
    const c = await run([notElf]);
    assert.equal(c.code, 1);
    assert.match(c.err, /hook\.c: ELF header: file is 7 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
