// The preview of a large file's first functions (server/analysis/preview.ts) and the lexical cut
// it stands on (server/analysis/partition.ts): the previewed findings are exactly the whole
// analysis's findings inside the previewed functions, on every fixture and example, at several
// prefix sizes, and on generated large files whose cross-function facts (callers far below,
// callback users, cb flags set at the end of the file) decide the findings of the first lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DocumentAnalyzer, functionDef, analyzeText, positioned, type Analysis } from '../../../server/analysis/engine';
import { PREVIEW, previewMismatch, type Preview } from '../../../server/analysis/preview';
import { DidOpenTextDocumentNotification, HoverRequest, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { startLsp, stopLsp } from './lspclient';
import { splitTopLevel } from '../../../server/analysis/partition';
import { ParsedDocument, pieceParser, parsePiece, type Syn, type TopLevel } from '../../../server/analysis/parser';
import { ROOT, fixtureFiles, correctHooks, read, profileOf } from './helpers';
import { bigSource } from '../../../bench/server';

function sources(): string[] {
  const out = new Set([...fixtureFiles(), ...correctHooks()]);
  for (const dir of ['test/fixtures/kernel']) {
    for (const f of readdirSync(path.join(ROOT, dir))) if (f.endsWith('.bpf.c')) out.add(path.join(ROOT, dir, f));
  }
  return [...out];
}

async function both(text: string, file: string | undefined, seedLines: number, profile?: string): Promise<{ p: Preview | undefined; whole: Analysis }> {
  const d = await DocumentAnalyzer.create({ profile });
  try {
    const p = d.preview(text, file, { seedLines, minLines: 0 });
    const whole = d.update(text, file);
    return { p, whole };
  } finally {
    d.dispose();
  }
}

function shape(items: TopLevel[]): unknown {
  const node = (n: Syn): unknown => [n.type, n.start, n.end, n.field ?? '', n.op ?? '', n.text ?? '', !!n.error, !!n.missing, n.children.map(node)];
  return items.map((it) => [node(it.syn), it.section ? [it.section.name, it.section.start, it.section.end] : null]);
}

test('the cut: pieces cover the text; comments, strings, char literals and #if blocks do not cut', () => {
  const text = [
    '#include "vmlinux.h"',
    '/* } ; { */',
    'char s[] = "};{";',
    'char c = \'}\';',
    '#ifdef X',
    'int a(void) { return 1; }',
    '#else',
    'int a(void) { return 2; }',
    '#endif',
    'SEC("sockops") int prog(struct bpf_sock_ops *skops) { /* } */ return a(); } // done',
    'struct s { int x; } v;',
    'static __always_inline int f(int x) __attribute__((noinline)) { return x; }',
    'int g(int x) { return x; }',
    'int h(void) { return 0; } int k(void) { return 1; }',
    '',
  ].join('\n');
  const pieces = splitTopLevel(text)!;
  assert.ok(pieces);
  assert.equal(pieces[0]!.start, 0);
  assert.equal(pieces[pieces.length - 1]!.end, text.length);
  for (let i = 1; i < pieces.length; i++) assert.equal(pieces[i]!.start, pieces[i - 1]!.end);
  const at = (s: string) => pieces.find((p) => text.slice(p.start, p.end).includes(s))!;
  assert.equal(at('#ifdef X').kind, 'mixed'); // the whole #if block, both definitions
  assert.ok(text.slice(at('#ifdef X').start, at('#ifdef X').end).includes('#endif'));
  assert.deepEqual([at('int prog').kind, at('int prog').name], ['function', 'prog']);
  assert.equal(at('struct s').kind, 'other');
  assert.deepEqual([at('int f(').kind, at('int f(').name], ['function', 'f']); // the attribute is not the name
  assert.deepEqual([at('int g(').kind, at('int g(').name], ['function', 'g']);
  assert.equal(at('int h(').kind, 'mixed'); // two definitions on one line
  assert.ok(at('char s[]') !== at('int prog') && at('char c') !== at('int prog'));
  // Unbalanced: a `}` closing nothing gives no cut; a `{` never closed leaves the tail open.
  assert.equal(splitTopLevel('int f(void) { }\n}\nint g;\n'), undefined);
  const open = splitTopLevel('int f(void) { return 0; }\nint g(void) {\n');
  assert.deepEqual(open?.map((p) => [p.kind, p.open ?? false]), [['function', false], ['mixed', true]]);
  assert.equal(splitTopLevel('/* never closed\nint f(void) { }\n'), undefined);
});

test('each piece parses alone into the same items, trees and SEC marks as the whole file', async () => {
  const parser = pieceParser() ?? (await ParsedDocument.create(), pieceParser()!);
  try {
    const cache = new Map();
    for (const file of sources()) {
      const text = read(file);
      const doc = await ParsedDocument.create();
      doc.update(text);
      const pieces = splitTopLevel(text);
      assert.ok(pieces, file);
      const items: TopLevel[] = [];
      let masked = '';
      for (const p of pieces) {
        const pp = parsePiece(parser, text.slice(p.start, p.end), p.start, cache);
        items.push(...pp.items);
        masked += pp.masked;
      }
      assert.equal(masked, doc.masked, `${file}: masking piece by piece`);
      assert.deepEqual(shape(items), shape(doc.topLevel()), file);
      doc.dispose();
    }
  } finally {
    parser.delete();
  }
});

test('the cut names every function as the parser does', async () => {
  for (const file of sources()) {
    const text = read(file);
    const { whole } = await both(text, file, 0, profileOf(text));
    const pieces = splitTopLevel(text)!;
    const top = whole.top ?? [];
    for (const p of pieces) {
      if (p.kind !== 'function') continue;
      const defs = top.filter((it) => it.syn.type === 'function_definition' && it.syn.start >= p.start && it.syn.end <= p.end);
      assert.deepEqual(defs.map((it) => functionDef(it.syn, whole.text)?.name), [p.name], `${file}: ${p.name}`);
      assert.ok(whole.funcs.has(p.name!));
    }
  }
});

test('fixtures and examples: the preview equals the whole analysis inside the functions it covers', async () => {
  let previews = 0;
  for (const file of sources()) {
    const text = read(file);
    const lines = text.split('\n').length;
    for (const seed of [1, 25, 60, lines]) {
      const { p, whole } = await both(text, file, seed, profileOf(text));
      if (!p) { assert.ok(whole.table.profile.name.includes('tcp-ops'), `${file}: a preview (seed ${seed})`); continue; }
      previews++;
      assert.equal(previewMismatch(p, whole), undefined, `${file} seed ${seed}`);
      if (seed === lines) assert.deepEqual(p.analysis.findings, whole.findings, `${file}: the preview of every line is the whole analysis`);
    }
  }
  assert.ok(previews > 40);
});

/** A large file whose first functions get their facts from the end: `early` is a callee whose
 *  only caller is the program `last` (at TCP_CONNECT_CB only), `cb` runs as a bpf_loop()
 *  callback of `last`, `handler` handles RTT_CB, enabled only by `enabler`, the last function,
 *  which calls nothing the first functions define. In between: `copies` hooks that enable no
 *  cb flag. */
function farFacts(copies: number): string {
  const top = [
    '#include "vmlinux.h"',
    '#include <bpf/bpf_helpers.h>',
    'extern int bpf_sock_ops_tcp_set_rcvlowat(struct bpf_sock_ops_kern *skops, int val) __ksym;',
    'static int early(struct bpf_sock_ops *s)',
    '{',
    '\treturn bpf_sock_ops_tcp_set_rcvlowat(bpf_cast_to_kern_ctx(s), 1);',
    '}',
    'static int cb(__u32 i, void *data)',
    '{',
    '\treturn 0;',
    '}',
    'SEC("sockops")',
    'int handler(struct bpf_sock_ops *skops)',
    '{',
    '\tswitch (skops->op) {',
    '\tcase BPF_SOCK_OPS_RTT_CB:',
    '\t\tbpf_sock_ops_tcp_set_rcvlowat(bpf_cast_to_kern_ctx(skops), 2);',
    '\t\tbreak;',
    '\t}',
    '\treturn 1;',
    '}',
  ];
  const middle: string[] = [];
  for (let i = 0; i < copies; i++) {
    middle.push(
      `/* filler ${i} */`,
      `static int fill_${i}(struct bpf_sock_ops *s)`,
      '{',
      `\treturn bpf_sock_ops_tcp_set_rcvlowat(bpf_cast_to_kern_ctx(s), ${i});`,
      '}',
      'SEC("sockops")',
      `int hook_${i}(struct bpf_sock_ops *skops)`,
      '{',
      `\treturn skops->op == BPF_SOCK_OPS_RCVQ_CB ? fill_${i}(skops) : 0;`,
      '}',
    );
  }
  const bottom = [
    'SEC("sockops")',
    'int last(struct bpf_sock_ops *skops)',
    '{',
    '\tif (skops->op == BPF_SOCK_OPS_TCP_CONNECT_CB) {',
    '\t\tbpf_loop(4, cb, 0, 0);',
    '\t\treturn early(skops);',
    '\t}',
    '\treturn 1;',
    '}',
    'SEC("sockops")',
    'int enabler(struct bpf_sock_ops *skops)',
    '{',
    '\tif (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)',
    '\t\tbpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_RTT_CB_FLAG);',
    '\treturn 1;',
    '}',
    'char _license[] SEC("license") = "GPL";',
  ];
  return [...top, ...middle, ...bottom, ''].join('\n');
}

test('a large file: callers, callbacks and cb flags far below decide the first functions, exactly', async () => {
  const text = farFacts(600);
  const handlerEnd = text.indexOf('/* filler 0 */');
  const codes = (a: Analysis) => a.findings.filter((f) => f.start < handlerEnd).map((f) => f.code);
  for (const seed of [12, 400]) {
    const { p, whole } = await both(text, 'file:///tmp/far.bpf.c', seed);
    assert.ok(p, 'a preview');
    assert.equal(previewMismatch(p, whole), undefined, `seed ${seed}`);
    const covers = (name: string) => p.covered.some((r) => r.start === whole.funcs.get(name)!.def.syn.start);
    for (const name of ['early', 'cb', 'last', 'enabler']) assert.ok(covers(name), `${name} previewed (seed ${seed})`);
    // The facts came from the bottom: early() runs at TCP_CONNECT_CB only (an error, not a
    // warning), RTT_CB is enabled (no SOCKOPS006 at the case label).
    assert.deepEqual(codes(p.analysis), codes(whole));
    assert.deepEqual(codes(whole), ['SOCKOPS002', 'SOCKOPS002']);
    assert.ok(p.parsed < p.pieces / 4, `only what is needed is parsed (${p.parsed} of ${p.pieces})`);
  }
  // Without the enabler at the end, RTT_CB never fires: the preview says so too.
  const without = text.replace(/SEC\("sockops"\)\nint enabler[\s\S]*?\n}\n/, '');
  const { p, whole } = await both(without, 'file:///tmp/far.bpf.c', 12);
  assert.ok(p);
  assert.equal(previewMismatch(p, whole), undefined);
  assert.deepEqual(codes(p.analysis), ['SOCKOPS002', 'SOCKOPS006', 'SOCKOPS002']);
});

test('the generated 20,000-line bench file (cut short mid-function): preview equals the whole analysis', async () => {
  const text = bigSource(20_000);
  const { p, whole } = await both(text, 'file:///tmp/big.bpf.c', 2000);
  assert.ok(p);
  assert.equal(previewMismatch(p, whole), undefined);
  assert.ok(p.analysis.findings.length > 0 && p.analysis.findings.length < whole.findings.length);
  // A mismatch is seen: drop one previewed finding.
  const broken: Preview = { ...p, analysis: { ...p.analysis, findings: p.analysis.findings.slice(1) } };
  assert.match(previewMismatch(broken, whole) ?? '', /findings previewed/);
});

test('no preview where it cannot vouch: struct_ops profiles, files that do not cut, small files by default', async () => {
  const tcpOps = sources().find((f) => f.includes('autolowat-tcp-ops'));
  if (tcpOps) {
    const { p } = await both(read(tcpOps), tcpOps, 10);
    assert.equal(p, undefined);
  }
  const { p: unbalanced } = await both('int f(void) { return 0; }\n}\n', undefined, 10);
  assert.equal(unbalanced, undefined);
  const d = await DocumentAnalyzer.create();
  assert.equal(d.preview(bigSource(300)), undefined); // below PREVIEW.minLines
  d.dispose();
});

test('the language server publishes the preview of a large file first, then the whole set', async () => {
  const c = await startLsp();
  try {
    const text = farFacts(2100); // > PREVIEW.minLines lines
    assert.ok(text.split('\n').length >= PREVIEW.minLines);
    const uri = 'file:///tmp/bpf-sockops-preview/far.bpf.c';
    c.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
    // A hover is answered once the whole analysis is published.
    await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 0 } });
    const pubs = c.diags.get(uri) ?? [];
    assert.equal(pubs.length, 2, 'the preview, then the whole file');
    const key = (d: Diagnostic) => JSON.stringify([d.range, d.code, d.message]);
    const whole = positioned(await analyzeText(text, { file: uri }));
    assert.deepEqual(pubs[1]!.diagnostics.map(key), whole.map((f) => JSON.stringify([f.range, f.code, f.message])));
    const all = new Set(pubs[1]!.diagnostics.map(key));
    assert.ok(pubs[0]!.diagnostics.length > 0 && pubs[0]!.diagnostics.length < pubs[1]!.diagnostics.length);
    for (const d of pubs[0]!.diagnostics) assert.ok(all.has(key(d)), key(d));
    assert.equal(pubs[0]!.version, 1);
  } finally {
    await stopLsp(c);
  }
});

test('repeated #define pieces: the preview takes the value the last one sets, as the whole analysis', async () => {
  const filler = (from: number) => Array.from({ length: 300 }, (_, i) => `static int f${from + i}(int x)\n{\n\treturn x + ${i};\n}`).join('\n');
  const make = (last: string) => [
    '#include "vmlinux.h"',
    'extern int bpf_sock_ops_tcp_set_rcvlowat(struct bpf_sock_ops_kern *skops, int val) __ksym;',
    'SEC("sockops")',
    'int hook(struct bpf_sock_ops *skops)',
    '{',
    '\tif (skops->op == MYOP)',
    '\t\tbpf_sock_ops_tcp_set_rcvlowat(bpf_cast_to_kern_ctx(skops), 1);',
    '\treturn 1;',
    '}',
    '#define MYOP BPF_SOCK_OPS_RTO_CB',
    filler(0),
    '#define MYOP BPF_SOCK_OPS_RCVQ_CB',
    filler(1000),
    `#define MYOP ${last}`,
    filler(2000),
    '',
  ].join('\n');
  for (const [last, want] of [['BPF_SOCK_OPS_RTO_CB', ['SOCKOPS006', 'SOCKOPS002']], ['BPF_SOCK_OPS_RCVQ_CB', ['SOCKOPS006']]] as const) {
    const { p, whole } = await both(make(last), undefined, 10);
    assert.ok(p);
    assert.equal(previewMismatch(p, whole), undefined, last);
    assert.deepEqual(p.analysis.findings.map((f) => f.code), want, last);
  }
});
