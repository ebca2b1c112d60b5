// The checker on struct_ops hooks (issue 15): a file with a struct bpf_tcp_ops variable is checked
// against autolowat-tcp-ops-v5 without being told; the misuse fixture gets exactly its expect
// marks; the example gets none; --profile (an explicit profile) overrides the choice. The fixture
// lives outside test/fixtures/check so the server fuzz corpus stays as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { analyzeText, positioned } from '../../../server/analysis/engine';
import { expectations } from '../server/helpers';

const root = resolve(__dirname, '../../..');

test('tcp_ops_misuse.bpf.c: the carried-over misuse classes, exactly as marked', async () => {
  const file = join(root, 'test/fixtures/structops/tcp_ops_misuse.bpf.c');
  const text = readFileSync(file, 'utf8');
  const a = await analyzeText(text, { file });
  assert.equal(a.table.profile.name, 'autolowat-tcp-ops-v5');
  const got = positioned(a).map((f) => `${f.range.start.line + 1}:${f.code}:${f.severity}`).sort();
  assert.deepEqual(got, expectations(text));
  assert.equal(got.length, 3);
  assert.match(a.findings.find((f) => f.message.startsWith('bpf_setsockopt'))!.message, /member enqueue_rcvq \(bad_enqueue via set_lowat\)/);
});

test('the example struct_ops hook has no findings; an explicit profile overrides the choice', async () => {
  const file = join(root, 'examples/autolowat-tcp-ops/autolowat.bpf.c');
  const text = readFileSync(file, 'utf8');
  const a = await analyzeText(text, { file });
  assert.equal(a.table.profile.name, 'autolowat-tcp-ops-v5');
  assert.deepEqual(a.findings.map((f) => f.message), []);
  const b = await analyzeText(text, { file, profile: 'linux-7.1.5' });
  assert.equal(b.table.profile.name, 'linux-7.1.5');
  assert.ok(b.findings.some((f) => f.code === 'SOCKOPS001' && /bpf_tcp_ops_set_flags/.test(f.message)));
});
