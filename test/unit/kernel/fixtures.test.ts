// The committed .o fixtures match their C sources (rebuilt and compared when clang-19 exists).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './util';

const haveClang = spawnSync('clang-19', ['--version']).status === 0;

test('fixture objects are up to date with their sources', { skip: haveClang ? false : 'clang-19 not installed' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'kfix-'));
  try {
    const r = spawnSync('sh', [join(FIXTURES, 'build.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const objs = readdirSync(FIXTURES).filter((f) => f.endsWith('.o'));
    assert.ok(objs.length >= 5);
    for (const o of objs) assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(FIXTURES, o))), `${o} differs: run test/fixtures/kernel/build.sh`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('test/unit/kernel/fixtures objects are up to date with their sources', { skip: haveClang ? false : 'clang-19 not installed' }, () => {
  const dir = join(import.meta.dirname, 'fixtures');
  const out = mkdtempSync(join(tmpdir(), 'kfix-'));
  try {
    const r = spawnSync('sh', [join(dir, 'build.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const objs = readdirSync(dir).filter((f) => f.endsWith('.o'));
    assert.ok(objs.length >= 1);
    for (const o of objs) assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(dir, o))), `${o} differs: run test/unit/kernel/fixtures/build.sh`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
