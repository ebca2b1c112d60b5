// When clang-19 is installed, rebuild the committed fixtures and their llvm-objdump dumps and
// compare: the .o files and dumps in git must be what the sources produce.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = 'test/fixtures/objects';

function clangVersion(): string | null {
  const r = spawnSync('clang-19', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const o = spawnSync('llvm-objdump-19', ['--version'], { encoding: 'utf8' });
  if (o.status !== 0) return null;
  return r.stdout.split('\n')[0].trim();
}

test('committed objects and dumps match a rebuild with clang-19', (t) => {
  const have = clangVersion();
  if (!have) return t.skip('clang-19 or llvm-objdump-19 not installed');
  const want = readFileSync(join(DIR, 'clang-version.txt'), 'utf8').trim();
  if (have !== want) return t.skip(`fixtures were built with "${want}", this is "${have}"`);
  const out = mkdtempSync(join(tmpdir(), 'bpf-objects-'));
  try {
    const r = spawnSync('sh', [join(DIR, 'build.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const built = readdirSync(out).sort();
    const committed = readdirSync(DIR).filter((f) => f.endsWith('.o') || f.endsWith('.dump')).sort();
    assert.deepEqual(built, committed);
    for (const f of built) {
      assert.ok(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(DIR, f))) === 0, `${f} differs from a rebuild; run ${DIR}/build.sh and commit`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
