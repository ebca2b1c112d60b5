// Parsing: BPF macros masked without moving any position; SEC names found; incremental
// reparses agree with fresh ones; wasm files found or a clear error naming where we looked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskBpfMacros, locateWasm, ParsedDocument, lineStarts, positionAt } from '../../../server/analysis/parser';
import { progTypeOfSection } from '../../../server/analysis/engine';

const SRC = `struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__type(key, int);
	__array(values, struct inner);
} m SEC(".maps");
extern int kf(struct bpf_sock_ops_kern *k, int v) __ksym __weak;
static __always_inline __noinline int f(void) { return bpf_core_type_exists(struct tcp_sock) + bpf_core_type_size(struct tcp_sock *); }
// SEC("not/a/section") in a comment
SEC("sockops") int prog(struct bpf_sock_ops *skops) { return "SEC(\\"x\\")"[0]; }
`;

test('masking keeps length, lines and every untouched character', () => {
  const { masked, sections } = maskBpfMacros(SRC);
  assert.equal(masked.length, SRC.length);
  assert.deepEqual(lineStarts(masked), lineStarts(SRC));
  for (let i = 0; i < SRC.length; i++) if (masked[i] !== SRC[i]) assert.ok(masked[i] === ' ' || 'int'.includes(masked[i]!), `offset ${i}`);
  assert.deepEqual(sections.map((s) => s.name), ['.maps', 'not/a/section', 'sockops'].filter((n) => n !== 'not/a/section'));
  assert.match(masked, /int    type {2,};/);
  assert.doesNotMatch(masked, /__ksym|__weak|__always_inline|struct tcp_sock/);
});

test('the masked source parses without errors and SEC marks attach to their items', async () => {
  const d = await ParsedDocument.create();
  try {
    d.update(SRC);
    assert.equal(d.tree!.rootNode.hasError, false, d.tree!.rootNode.toString());
    const items = d.topLevel();
    const prog = items.find((i) => i.syn.type === 'function_definition' && i.section)!;
    assert.equal(prog.section!.name, 'sockops');
    assert.equal(items.find((i) => i.section?.name === '.maps')!.syn.type, 'declaration');
  } finally {
    d.dispose();
  }
});

test('libbpf section names: exact matches for the three program types, others left alone', () => {
  assert.equal(progTypeOfSection('sockops'), 'sock_ops');
  assert.equal(progTypeOfSection('cgroup/setsockopt'), 'cgroup_setsockopt');
  assert.equal(progTypeOfSection('cgroup/getsockopt'), 'cgroup_getsockopt');
  assert.equal(progTypeOfSection('sockops/foo'), undefined);
  assert.equal(progTypeOfSection('kprobe/tcp_v4_connect'), undefined);
});

test('incremental reparse equals a fresh parse, positions in UTF-16 units', async () => {
  const a = await ParsedDocument.create();
  const b = await ParsedDocument.create();
  try {
    a.update(SRC);
    const edited = '// é\u{1F600}\n' + SRC.replace('return 0', 'return 1');
    a.update(edited);
    b.update(edited);
    assert.equal(a.tree!.rootNode.toString(), b.tree!.rootNode.toString());
    const fn = a.topLevel().find((i) => i.section?.name === 'sockops')!;
    assert.equal(edited.slice(fn.syn.start, fn.syn.start + 3), 'int');
    const p = positionAt(a.starts, fn.syn.start);
    assert.equal(edited.split('\n')[p.line]!.slice(p.character, p.character + 8), 'int prog');
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('wasm location: overrides first, then the package folders above this file or the working directory', () => {
  assert.match(locateWasm('tree-sitter-c.wasm'), /tree-sitter-c\.wasm$/);
  const saved = process.env.BPF_SOCKOPS_WASM_DIR;
  try {
    process.env.BPF_SOCKOPS_WASM_DIR = '/nonexistent-dir';
    const found = locateWasm('web-tree-sitter.wasm');
    assert.ok(!found.startsWith('/nonexistent-dir'));
  } finally {
    if (saved === undefined) delete process.env.BPF_SOCKOPS_WASM_DIR; else process.env.BPF_SOCKOPS_WASM_DIR = saved;
  }
  const cwd = process.cwd();
  try {
    process.chdir('/');
    // From this file's folder the checkout's node_modules is still above: found.
    assert.match(locateWasm('web-tree-sitter.wasm', '/nonexistent-dir'), /node_modules\/web-tree-sitter\/web-tree-sitter\.wasm$/);
  } finally {
    process.chdir(cwd);
  }
});
