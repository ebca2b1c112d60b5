// The C snippets: valid, unique prefixes, and the programs they write raise no bpf-sockops
// diagnostic and compile with clang -Wall -Werror (with the users' header).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { analyzeText } from '../../../server/analysis/engine';

const ROOT = path.resolve(__dirname, '../../..');
const SNIPPETS = JSON.parse(readFileSync(path.join(ROOT, 'syntaxes/bpf-sockops.snippets.json'), 'utf8')) as Record<string, { prefix: string; body: string[]; description: string }>;
const CLANG = ['clang-19', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);

/** A snippet body with every placeholder at its default (the first choice of a choice). */
function expand(body: string[]): string {
  return body.join('\n').replace(/\$\{\d+\|([^,|]*)[^}]*\}/g, '$1').replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
}

test('snippets: unique prefixes, a description each, contributed by the manifest', () => {
  const prefixes = Object.values(SNIPPETS).map((s) => s.prefix);
  assert.equal(new Set(prefixes).size, prefixes.length);
  for (const s of Object.values(SNIPPETS)) assert.ok(s.description.length > 20);
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.snippets, [{ language: 'c', path: './syntaxes/bpf-sockops.snippets.json' }]);
});

test('the snippets, put together in a hook: no diagnostics, and it compiles with -Wall -Werror', async (t) => {
  const s = (k: string) => expand(SNIPPETS[k]!.body);
  const text = ['#include <linux/bpf.h>', '#include <bpf/bpf_helpers.h>', '#include "bpf_sockops_autolowat.h"', '',
    s('per-socket state (sk_storage map)'), '', s('sock_ops program (RCVQ_CB)'), '',
    s('cgroup/setsockopt program enabling RCVQ_CB'), '', 'char LICENSE[] SEC("license") = "GPL";', ''].join('\n');
  const dir = mkdtempSync(path.join(tmpdir(), 'bpf-sockops-snip-'));
  try {
    const file = path.join(dir, 'snip.bpf.c');
    writeFileSync(file, text);
    copyFileSync(path.join(ROOT, 'include/bpf_sockops_autolowat.h'), path.join(dir, 'bpf_sockops_autolowat.h'));
    const a = await analyzeText(text, { file });
    assert.deepEqual(a.findings.map((f) => f.message), []);
    if (!CLANG) { t.skip('clang not installed'); return; }
    const arch = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
    const r = spawnSync(CLANG, ['-target', 'bpf', '-O2', '-Wall', '-Werror', `-I${arch}`, '-c', file, '-o', `${file}.o`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stderr}\n${text}`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
