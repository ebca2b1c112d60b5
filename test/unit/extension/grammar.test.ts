// The injection grammar is generated from the sockops/ table: the committed file must match the
// generator, and (where code-server's vscode-textmate is installed by the e2e setup) it must
// tokenize a hook the way we claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GRAMMAR_FILE, PROFILES, renderGrammar } from '../../../syntaxes/grammar';

test('committed grammar equals the one generated from the sockops table (run npx tsx syntaxes/grammar.ts)', () => {
  assert.equal(readFileSync(GRAMMAR_FILE, 'utf8'), renderGrammar());
});

test('every helper and kfunc of every profile is in the grammar', () => {
  const g = JSON.parse(readFileSync(GRAMMAR_FILE, 'utf8'));
  const helperRe = new RegExp(g.repository.helper.match);
  const kfuncRe = new RegExp(g.repository.kfunc.match);
  for (const p of PROFILES) {
    for (const h of p.helpers) assert.ok(helperRe.test(`${h.name}(`), `${p.name}: helper ${h.name}`);
    for (const k of p.kfuncs) assert.ok(kfuncRe.test(k.name), `${p.name}: kfunc ${k.name}`);
  }
  assert.ok(!helperRe.test('bpf_setsockoptx('), 'whole words only');
  assert.ok(!helperRe.test('bpf_setsockopt;'), 'helpers only before a call paren');
});

const VS = path.resolve('.e2e/cs/node_modules/code-server/lib/vscode/node_modules');
const haveTextmate = existsSync(path.join(VS, 'vscode-textmate')) && existsSync(path.join(VS, 'vscode-oniguruma'));

test('tokenizes a hook with oniguruma (vscode-textmate from the e2e workbench)', { skip: haveTextmate ? false : 'vscode-textmate not installed (run node test/e2e/workbench.mjs install)' }, async () => {
  const req = createRequire(path.join(VS, 'x.js'));
  const tm = req('vscode-textmate');
  const onig = req('vscode-oniguruma');
  await onig.loadWASM(readFileSync(path.join(VS, 'vscode-oniguruma', 'release', 'onig.wasm')).buffer);
  const cGrammar = path.resolve(VS, '..', 'extensions', 'cpp', 'syntaxes', 'c.tmLanguage.json');
  const registry = new tm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (s: string[]) => new onig.OnigScanner(s), createOnigString: (s: string) => new onig.OnigString(s) }),
    loadGrammar: async (scope: string) => {
      const file = scope === 'source.c' ? cGrammar : scope === 'source.c.bpf-sockops' ? GRAMMAR_FILE : undefined;
      return file ? tm.parseRawGrammar(readFileSync(file, 'utf8'), file) : null;
    },
    getInjections: (scope: string) => (scope === 'source.c' ? ['source.c.bpf-sockops'] : undefined),
  });
  const grammar = await registry.loadGrammar('source.c');
  const lines = [
    'SEC("sockops")',
    'int h(struct bpf_sock_ops *skops) {',
    '  if (skops->op == BPF_SOCK_OPS_RCVQ_CB) bpf_sock_ops_tcp_set_rcvlowat(skops, 10);',
    '  // bpf_setsockopt( in a comment',
    '  return bpf_setsockopt(skops, 6, 1, 0, 0) == -EOPNOTSUPP;',
    'extern int bpf_sock_ops_tcp_set_rcvlowat(struct bpf_sock_ops_kern *skops, int val) __ksym;',
  ];
  let state = tm.INITIAL;
  const scopesOf = (word: string, line: number): string[] => {
    let st = state;
    for (let i = 0; i < line; i++) st = grammar.tokenizeLine(lines[i], st).ruleStack;
    const r = grammar.tokenizeLine(lines[line], st);
    const at = lines[line]!.indexOf(word);
    const tok = r.tokens.find((t: { startIndex: number; endIndex: number }) => t.startIndex <= at && at < t.endIndex);
    return tok ? tok.scopes : [];
  };
  assert.ok(scopesOf('SEC', 0).includes('keyword.other.bpf.section.c'));
  assert.ok(scopesOf('sockops', 0).some((s: string) => s.startsWith('string.quoted.double.c entity.name.section.bpf.c') || s === 'entity.name.section.bpf.c'), scopesOf('sockops', 0).join(' '));
  assert.ok(scopesOf('BPF_SOCK_OPS_RCVQ_CB', 2).includes('variable.other.enummember.bpf.c'));
  assert.ok(scopesOf('bpf_sock_ops_tcp_set_rcvlowat', 2).includes('support.function.bpf.kfunc.c'));
  assert.ok(!scopesOf('bpf_setsockopt', 3).includes('support.function.bpf.helper.c'), 'not inside comments');
  assert.ok(scopesOf('bpf_setsockopt', 4).includes('support.function.bpf.helper.c'));
  assert.ok(scopesOf('EOPNOTSUPP', 4).includes('constant.other.errno.bpf.c'));
  assert.ok(scopesOf('__ksym', 5).includes('storage.modifier.bpf.c'));
  state = tm.INITIAL;
});
