// Malformed input never crashes the engine or the server, and never leaves stale diagnostics:
// random bytes, truncations, and 10,000 random edits whose incremental results must equal a
// fresh analysis of the same text. Seeded PRNG: the same sequence every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentAnalyzer, positioned, type Analysis } from '../../../server/analysis/engine';
import { complete, hover, quickFixes, signature } from '../../../server/analysis/features';
import { fixtureFiles, read } from './helpers';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function summary(a: Analysis): string[] {
  return positioned(a).map((f) => `${f.range.start.line}:${f.range.start.character}-${f.range.end.line}:${f.range.end.character} ${f.code} ${f.severity} ${f.message} | ${f.relatedRanges.map((r) => `${r.range.start.line}:${r.message}`).join(';')}`);
}

function checkSane(a: Analysis, text: string): void {
  for (const f of a.findings) {
    assert.ok(f.start >= 0 && f.end <= text.length && f.start <= f.end, `finding range inside the text: ${f.code}`);
    assert.notEqual(f.code, 'SOCKOPS000', `internal failure: ${f.message}`);
  }
}

const TOKENS = ['{', '}', '(', ')', ';', 'switch (skops->op) {', 'case BPF_SOCK_OPS_RCVQ_CB:', 'default:', 'break;',
  'return 1;', 'if (op != BPF_SOCK_OPS_RCVQ_CB) ', 'goto out;', 'out:', 'bpf_setsockopt(skops, 6, 1, &v, 4);',
  'skops->snd_cwnd = 1;', 'SEC("sockops")', '__uint(type, 1);', '/*', '*/', '"', '\n', ' ', 'else ', '&&', '||',
  '#define X 1\n', 'static int f(struct bpf_sock_ops *s) { return f(s); }', 'f(skops);', 'do {', '} while (0);', '...', 'é', '\u{1F600}'];

test('random bytes and truncated files: no crash, sane ranges', async () => {
  const rnd = prng(7);
  const d = await DocumentAnalyzer.create();
  try {
    for (let i = 0; i < 200; i++) {
      const n = Math.floor(rnd() * 400);
      let s = '';
      for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(rnd() * (rnd() < 0.9 ? 128 : 0x10000)));
      checkSane(d.update(s), s);
    }
    for (const file of fixtureFiles()) {
      const text = read(file);
      for (let cut = 0; cut < text.length; cut += Math.max(1, Math.floor(text.length / 60))) {
        const part = text.slice(0, cut);
        const a = d.update(part);
        checkSane(a, part);
        hover(a, Math.floor(cut / 2));
        complete(a, cut);
        signature(a, cut);
        quickFixes(a, 0, cut);
      }
    }
  } finally {
    d.dispose();
  }
});

test('10,000 random edits: incremental results equal a fresh analysis, never stale', async () => {
  const rnd = prng(42);
  const files = fixtureFiles().map(read);
  const inc = await DocumentAnalyzer.create();
  const fresh = await DocumentAnalyzer.create();
  let text = files[0]!;
  let compared = 0;
  try {
    inc.update(text);
    for (let i = 0; i < 10000; i++) {
      const r = rnd();
      if (r < 0.01) {
        text = files[Math.floor(rnd() * files.length)]!; // switch to another file entirely
      } else {
        const at = Math.floor(rnd() * (text.length + 1));
        const del = rnd() < 0.5 ? Math.floor(rnd() * 12) : 0;
        const ins = rnd() < 0.7 ? TOKENS[Math.floor(rnd() * TOKENS.length)]! : String.fromCharCode(32 + Math.floor(rnd() * 95));
        text = text.slice(0, at) + ins + text.slice(at + del);
        if (text.length > 20000) text = files[Math.floor(rnd() * files.length)]!;
      }
      const a = inc.update(text);
      checkSane(a, text);
      if (i % 20 === 0 || i === 9999) {
        // The tree after many incremental reparses must give what a fresh parse gives.
        fresh.document.reset();
        const b = fresh.update(text);
        assert.deepEqual(summary(inc.analysis!), summary(b), `edit ${i}`);
        assert.equal(inc.document.tree!.rootNode.toString(), fresh.document.tree!.rootNode.toString(), `tree after edit ${i}`);
        compared++;
      }
    }
  } finally {
    inc.dispose();
    fresh.dispose();
  }
  assert.ok(compared >= 500);
});

test('an infinite-loop-shaped or deeply nested program does not hang the analysis', async () => {
  const deep = 'SEC("sockops") int p(struct bpf_sock_ops *s) {' + 'if (s->op == 1) {'.repeat(3000) + 'bpf_setsockopt(s, 6, 1, 0, 4);' + '}'.repeat(3000) + 'for (;;) {} while (1) continue; return 1; }';
  const d = await DocumentAnalyzer.create();
  try {
    const a = d.update(deep);
    checkSane(a, deep);
    const longExpr = 'SEC("sockops") int p(struct bpf_sock_ops *s) { return s->op' + ' + s->op'.repeat(20000) + '; }';
    checkSane(d.update(longExpr), longExpr);
    const recursive = Array.from({ length: 200 }, (_, i) => `static int f${i}(struct bpf_sock_ops *s) { return f${(i + 1) % 200}(s) + bpf_getsockopt(s, 6, 1, 0, 4); }`).join('\n') +
      '\nSEC("sockops") int p(struct bpf_sock_ops *s) { if (s->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) bpf_sock_ops_cb_flags_set(s, BPF_SOCK_OPS_RCVQ_CB_FLAG);' +
      ' if (s->op == BPF_SOCK_OPS_RCVQ_CB) return f0(s); return f7(s); }';
    const b = d.update(recursive);
    // f0..f199 form a cycle reached at every op; the call at RCVQ_CB fails there: a warning in each.
    assert.equal(b.findings.filter((f) => f.code === 'SOCKOPS003').length, 200);
  } finally {
    d.dispose();
  }
});
