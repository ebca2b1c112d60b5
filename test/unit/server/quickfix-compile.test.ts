// Every quick fix, over `bpf-sockops lsp`: applied to the hooks of test/fixtures/quickfix/, the
// result compiles with clang-19 -target bpf -O2 -Wall -Werror (skipped without clang) and the
// diagnostic it fixes is gone. Plus what each fix writes, checked on the text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest, type CodeAction, type Diagnostic } from 'vscode-languageserver-protocol/node';
import { ROOT, read } from './helpers';
import { startLsp, stopLsp, openDoc, applyEdits, type Client } from './lspclient';
import { analyzeText } from '../../../server/analysis/engine';

const DIR = path.join(ROOT, 'test/fixtures/quickfix');
const HOOKS = readdirSync(DIR).filter((f) => f.endsWith('.bpf.c')).sort();
const CLANG = ['clang-19', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
const ARCH_INC = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;

let c: Client;
const tmp = mkdtempSync(path.join(tmpdir(), 'bpf-sockops-qf-'));
before(async () => { c = await startLsp(); copyFileSync(path.join(DIR, 'common.h'), path.join(tmp, 'common.h')); });
after(async () => { await stopLsp(c); rmSync(tmp, { recursive: true, force: true }); });

function compile(name: string, text: string): string | undefined {
  const src = path.join(tmp, name);
  writeFileSync(src, text);
  const r = spawnSync(CLANG!, ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', `-I${ARCH_INC}`, '-c', src, '-o', `${src}.o`], { encoding: 'utf8' });
  return r.status === 0 ? undefined : r.stderr;
}

/** Every (diagnostic, action) pair the server offers on a hook, each applied to the original. */
async function fixesOf(file: string): Promise<{ d: Diagnostic; a: CodeAction; fixed: string }[]> {
  const uri = pathToFileURL(path.join(DIR, file)).href;
  const text = read(path.join(DIR, file));
  const diags = await openDoc(c, uri, text);
  const out: { d: Diagnostic; a: CodeAction; fixed: string }[] = [];
  for (const d of diags.diagnostics) {
    const actions = (await c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } })) as CodeAction[];
    for (const a of actions) {
      if (!a.diagnostics?.some((x) => x.code === d.code && x.range.start.line === d.range.start.line)) continue;
      out.push({ d, a, fixed: applyEdits(text, a.edit!.changes![uri]!) });
    }
  }
  return out;
}

test('every hook compiles before its fixes (-Wall -Werror)', (t) => {
  if (!CLANG) { t.skip('clang not installed'); return; }
  for (const f of HOOKS) assert.equal(compile(f, read(path.join(DIR, f))), undefined, f);
});

for (const f of HOOKS) {
  test(`quick fixes on ${f}: each compiles with -Wall -Werror and removes its diagnostic`, async (t) => {
    const fixes = await fixesOf(f);
    assert.ok(fixes.length > 0, 'at least one quick fix offered');
    for (const { d, a, fixed } of fixes) {
      const before = (await analyzeText(read(path.join(DIR, f)))).findings.filter((x) => x.code === d.code).length;
      const afterFix = (await analyzeText(fixed)).findings.filter((x) => x.code === d.code).length;
      assert.ok(afterFix < before, `${a.title}: ${d.code} fixed (${before} -> ${afterFix})\n${fixed}`);
      if (CLANG) assert.equal(compile(`fixed-${f}`, fixed), undefined, `${a.title} compiles:\n${fixed}`);
    }
    if (!CLANG) t.diagnostic('clang not installed: fixes checked by the analysis only');
  });
}

test('SO_RCVLOWAT at RCVQ_CB: the message names the kfunc; the fix calls it and declares it once', async () => {
  const fixes = await fixesOf('rcvlowat.bpf.c');
  assert.equal(fixes.length, 2);
  for (const { d } of fixes) assert.match(d.message, /call bpf_sock_ops_tcp_set_rcvlowat\(bpf_cast_to_kern_ctx\(skops\), (val|128)\)/);
  const first = fixes.find((x) => /\(skops\), val\)/.test(x.a.title))!;
  assert.match(first.fixed, /if \(bpf_sock_ops_tcp_set_rcvlowat\(bpf_cast_to_kern_ctx\(skops\), val\)\)/);
  assert.match(first.fixed, /^extern int bpf_sock_ops_tcp_set_rcvlowat\(struct bpf_sock_ops_kern \*skops, int val\) __ksym __weak;$/m);
  assert.match(first.fixed, /^extern void \*bpf_cast_to_kern_ctx\(void \*obj\) __ksym __weak;$/m);
  const second = fixes.find((x) => /\(skops\), 128\)/.test(x.a.title))!;
  assert.match(second.fixed, /\tbpf_sock_ops_tcp_set_rcvlowat\(bpf_cast_to_kern_ctx\(skops\), 128\);/);
  // With the kfunc declared already (the users' header), nothing is declared again.
  const withHeader = read(path.join(DIR, 'rcvlowat.bpf.c')).replace('#include "common.h"', '#include "common.h"\n#include "bpf_sockops_autolowat.h"');
  const a = await analyzeText(withHeader);
  const { quickFixes } = await import('../../../server/analysis/actions');
  const q = quickFixes(a, 0, withHeader.length).filter((x) => /bpf_sock_ops_tcp_set_rcvlowat/.test(x.title));
  assert.equal(q.length, 2);
  for (const x of q) assert.equal(x.edits.length, 1, 'only the call changes');
});

test('flag fixes go into the switch: the existing ESTABLISHED case, or a new case; else after the declarations', async () => {
  const inCase = (await fixesOf('flag_case.bpf.c'))[0]!;
  assert.match(inCase.a.title, /in case PASSIVE_ESTABLISHED_CB/);
  assert.match(inCase.fixed, /case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:\n\t\tbpf_sock_ops_cb_flags_set\(skops, skops->bpf_sock_ops_cb_flags \| BPF_SOCK_OPS_RCVQ_CB_FLAG\);\n\t\tseen = 1;/);
  const newCase = (await fixesOf('flag_newcase.bpf.c')).find((x) => /RCVQ_CB_FLAG/.test(x.a.title))!;
  assert.match(newCase.fixed, /switch \(op\) \{\n\tcase BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:\n\tcase BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:\n/);
  const withIf = (await fixesOf('flag_if.bpf.c'))[0]!;
  assert.match(withIf.fixed, /__u32 queued = 0;\n\t\/\* Enable BPF_SOCK_OPS_RCVQ_CB_FLAG[^\n]*\n\tif \(skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB \|\| skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB\)\n/);
});

test('skb_data fix: the buffer is declared with the function\'s declarations, data and data_end point into it', async () => {
  const fixes = await fixesOf('skb_data.bpf.c');
  assert.equal(fixes.length, 2, 'offered on both reads');
  assert.equal(fixes[0]!.fixed, fixes[1]!.fixed, 'one rewrite of both reads');
  const fixed = fixes[0]!.fixed;
  assert.match(fixed, /__u32 len = 0;\n\t__u8 buf\[4\];/);
  assert.match(fixed, /void \*data = \(void \*\)buf;/);
  assert.match(fixed, /void \*data_end = \(void \*\)\(buf \+ sizeof\(buf\)\);/);
  assert.match(fixed, /if \(bpf_skb_load_bytes\(skops, off, buf, sizeof\(buf\)\) < 0\)/);
});
