// The pieces behind inline-aware stepping, without a debug session: C function extents from a
// source (cfuncs.ts), the DWARF line-0 ranges (dwarfline.ts), and what happens when the source
// does not match the object (edited since the build) or the DWARF is damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanCFunctions, funcOfLine } from '../../../debugger/runtime/cfuncs';
import { lineZero, readDebugLine } from '../../../debugger/runtime/dwarfline';
import { loadObject, parseElf, ByteView } from '../../../debugger/object/index';
import { openLaunch } from '../../../debugger/runtime/launch';
import { DebugRuntime } from '../../../debugger/runtime/runtime';
import { frames } from '../../../debugger/runtime/inspect';
import { EXAMPLE, FIX, FRAMES_C } from './client';

const HOOK_C = join(EXAMPLE, 'autolowat.bpf.c');
const HOOK_O = join(EXAMPLE, 'autolowat.bpf.o');

test('function extents of the example hook: every definition, its lines and its calls', () => {
  const text = readFileSync(HOOK_C, 'utf8');
  const lines = text.split('\n');
  const fs = scanCFunctions(text);
  assert.deepEqual(fs.map((f) => f.name), ['seq_before', 'le32', 'give_up', 'wanted_rcvlowat', 'parse_skb', 'tcp_autolowat', 'tcp_autolowat_setsockopt']);
  for (const f of fs) {
    assert.match(lines[f.startLine - 1]!, new RegExp(`\\b${f.name}\\(`), `${f.name} starts on its name`);
    assert.equal(lines[f.endLine - 1], '}', `${f.name} ends on its closing brace`);
  }
  const w = fs.find((f) => f.name === 'wanted_rcvlowat')!;
  assert.deepEqual([...new Set(w.calls.map((c) => c.name))], ['seq_before']);
  assert.equal(w.calls.length, 2);
  const t = fs.find((f) => f.name === 'tcp_autolowat')!;
  for (const callee of ['parse_skb', 'give_up', 'wanted_rcvlowat', 'bpf_sock_ops_tcp_set_rcvlowat']) assert.ok(t.calls.some((c) => c.name === callee), callee);
  assert.equal(fs[funcOfLine(fs, w.startLine + 3)]!.name, 'wanted_rcvlowat');
  assert.equal(funcOfLine(fs, 30), -1, 'a line outside any function');
});

test('the scanner is not fooled by comments, strings, macros, attributes, initialisers or an unfinished body', () => {
  const text = [
    '#define BODY { return 1; }', // 1
    '#define F(x) \\', // 2
    '\tint x(void) { return 0; }', // 3
    '/* int fake(void) { } */', // 4
    'struct s { int (*cb)(int); };', // 5
    'static const char *msg = "int str(void) { }";', // 6
    'int table[] = { 1, 2, 3 };', // 7
    'static __attribute__((noinline)) int real(int a) /* { */', // 8
    '{', // 9
    '\tchar c = \'{\';', // 10
    '\treturn helper(a) + (a ? other(a) : 0); // }', // 11
    '}', // 12
    'SEC("sockops") int BPF_PROG(wrapped, struct sock *sk)', // 13
    '{', // 14
    '\treturn real(1);', // 15
    '}', // 16
    'int after(void) __attribute__((cold));', // 17
    'int broken(void)', // 18
    '{', // 19
    '\tif (x) {', // 20
  ].join('\n');
  const fs = scanCFunctions(text);
  assert.deepEqual(fs.map((f) => [f.name, f.startLine, f.endLine]), [['real', 8, 12], ['wrapped', 13, 16], ['broken', 18, 20]]);
  assert.deepEqual(fs[0]!.calls.map((c) => c.name), ['helper', 'other']);
  assert.deepEqual(fs[1]!.calls.map((c) => [c.name, c.line]), [['real', 15]]);
  // hostile input: never throws, whatever the bytes
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const alphabet = 'int f(){};/*"\'#\\\n x';
  for (let i = 0; i < 300; i++) {
    const s = Array.from({ length: rnd() % 200 }, () => alphabet[rnd() % alphabet.length]).join('');
    for (const f of scanCFunctions(s)) assert.ok(f.startLine <= f.endLine);
  }
});

test('DWARF line 0 marks the kfunc call the compiler shared between give_up and the normal path', () => {
  const bytes = new Uint8Array(readFileSync(HOOK_O));
  const obj = loadObject(bytes, HOOK_O);
  const r = lineZero(bytes, obj);
  assert.ok(!('error' in r), 'error' in r ? r.error : '');
  const prog = obj.programs.find((p) => p.name === 'tcp_autolowat')!;
  const mask = r.masks.get('tcp_autolowat')!;
  const kfuncCalls = prog.insns.map((x, pc) => (x.code === 0x85 && x.src === 2 && obj.kfuncs[x.imm] === 'bpf_sock_ops_tcp_set_rcvlowat' ? pc : -1)).filter((pc) => pc >= 0);
  assert.equal(kfuncCalls.length, 1, 'one call instruction for both calls in the source');
  assert.equal(mask[kfuncCalls[0]!], 1, 'the shared call has no line');
  // BTF line_info, which has no line-0 records, gives it the line of give_up before it
  const li = [...prog.lineInfo].reverse().find((l) => l.pc <= kfuncCalls[0]!)!;
  assert.match(li.text, /bpf_sock_ops_cb_flags_set/);
  // the first instruction of each function has a line
  for (const f of prog.funcs) assert.equal(mask[f.startPc], 0);
});

test('a damaged .debug_line is an error string, never a crash; the runtime then keeps the BTF lines', () => {
  const bytes = new Uint8Array(readFileSync(HOOK_O));
  const elf = parseElf(new ByteView(bytes, HOOK_O));
  const sec = elf.sections.find((s) => s.name === '.debug_line')!;
  assert.ok(Array.isArray(readDebugLine(elf)));
  let seed = 11;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 200; i++) {
    const b = bytes.slice();
    const n = 1 + (rnd() % 8);
    for (let k = 0; k < n; k++) b[sec.offset + (rnd() % sec.size)] = rnd() & 0xff;
    const r = readDebugLine(parseElf(new ByteView(b, HOOK_O)));
    assert.ok(typeof r === 'string' || Array.isArray(r));
  }
  // a unit length past the section
  const b = bytes.slice();
  b[sec.offset] = 0xff; b[sec.offset + 1] = 0xff; b[sec.offset + 2] = 0xff; b[sec.offset + 3] = 0x7f;
  const r = readDebugLine(parseElf(new ByteView(b, HOOK_O)));
  assert.equal(typeof r, 'string');
  assert.match(r as string, /longer than the section/);
});

test('a source edited since the build is not used for inlined frames, and the console says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-stale-'));
  copyFileSync(join(FIX, 'frames.bpf.o'), join(dir, 'frames.bpf.o'));
  copyFileSync(join(FIX, 'frames.scenario.json'), join(dir, 'frames.scenario.json'));
  writeFileSync(join(dir, 'frames.bpf.c'), '// a line added after the build\n' + readFileSync(FRAMES_C, 'utf8'));
  const { factory } = await openLaunch({ scenario: join(dir, 'frames.scenario.json') });
  const rt = new DebugRuntime(factory, { sourceDirs: [dir] });
  const out: string[] = [];
  rt.on('output', (t: string) => out.push(t));
  rt.setFunctionBreakpoints([{ name: 'consume' }]);
  let p = rt.start(false);
  p = rt.step('in');
  assert.ok(out.some((l) => /frames\.bpf\.c differs from the object's line info \(line \d+ and \d+ more\): rebuild it/.test(l)), out.join(''));
  assert.ok(frames(rt, p).every((f) => !f.inlined));
  // stepping still works, by lines
  const before = p.pos;
  p = rt.step('over');
  assert.ok(p.pos > before);
});
