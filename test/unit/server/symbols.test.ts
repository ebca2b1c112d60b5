// Navigation data without the protocol: the outline of enums, typedefs and unions; definitions of
// enum constants, typedefs and shadowed locals; references that respect shadowing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeText } from '../../../server/analysis/engine';
import { definitionAt, documentSymbols, referencesAt } from '../../../server/analysis/symbols';

const SRC = `enum mode { MODE_OFF, MODE_ON = 4 };
typedef unsigned int u32_t;
union word { u32_t w; unsigned char b[4]; };
#define LIMIT(x) ((x) > 8 ? 8 : (x))
static u32_t count;

SEC("sockops")
int prog(struct bpf_sock_ops *skops)
{
	u32_t n = MODE_ON;
	{
		u32_t n = 2;
		count += n;
	}
	return LIMIT(n) + count;
}
`;
const at = (needle: string, delta = 0, nth = 0) => { let o = -1; for (let i = 0; i <= nth; i++) o = SRC.indexOf(needle, o + 1); return o + delta; };

test('outline: enum with its constants, typedef, union with fields, macro, global, program', async () => {
  const a = await analyzeText(SRC);
  const syms = documentSymbols(a);
  const kinds = Object.fromEntries(syms.map((s) => [s.name, s.kind]));
  assert.deepEqual(kinds, { mode: 'enum', u32_t: 'typedef', word: 'union', LIMIT: 'macro', count: 'variable', prog: 'program' });
  assert.deepEqual(syms.find((s) => s.name === 'mode')!.children!.map((c) => c.name), ['MODE_OFF', 'MODE_ON']);
  assert.deepEqual(syms.find((s) => s.name === 'word')!.children!.map((c) => c.name), ['w', 'b']);
});

test('definition: an enum constant, a typedef, the inner of two shadowing locals', async () => {
  const a = await analyzeText(SRC);
  const def = (o: number) => { const d = definitionAt(a, o); assert.equal(d?.kind, 'place'); return (d as { place: { start: number } }).place.start; };
  assert.equal(def(at('= MODE_ON;', 3)), at('MODE_ON = 4'));
  assert.equal(def(at('u32_t n = MODE_ON', 1)), at('u32_t;') );
  assert.equal(def(at('count += n', 9)), at('n = 2'));
  assert.equal(def(at('LIMIT(n)', 6)), at('n = MODE_ON'));
  assert.equal(definitionAt(a, at('bpf_sock_ops *skops') + 2), undefined, 'a struct the file does not define');
});

test('references: the outer n is not the inner n', async () => {
  const a = await analyzeText(SRC);
  const outer = referencesAt(a, at('n = MODE_ON'), true).map((r) => r.start);
  assert.deepEqual(outer, [at('n = MODE_ON'), at('LIMIT(n)', 6)]);
  const inner = referencesAt(a, at('n = 2'), true).map((r) => r.start);
  assert.deepEqual(inner, [at('n = 2'), at('count += n', 9)]);
  assert.equal(referencesAt(a, at('static u32_t count') + 13, false).length, 2, 'count: two uses besides its declaration');
});
