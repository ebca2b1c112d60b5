// io/files: only regular files are read (after following symlinks), each kind has a cap checked
// before reading, and errors name the file and the limit. Fixtures are made here: FIFOs with
// mkfifo, sparse files with truncate, symlinks to /dev/zero.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FILE_LIMITS, FileReadError, checkRegularFile, readFileBounded, readFileBoundedAsync, readTextBounded } from '../../../io/files';

const dir = mkdtempSync(join(tmpdir(), 'io-files-'));
const fifo = join(dir, 'pipe.o');
execFileSync('mkfifo', [fifo]);
const sparse = join(dir, 'huge.o');
writeFileSync(sparse, '');
truncateSync(sparse, 1 << 30); // 1 GiB, no blocks
const zeroLink = join(dir, 'zero.scenario.json');
symlinkSync('/dev/zero', zeroLink);
const good = join(dir, 'good.c');
writeFileSync(good, '\ufeffint x;\n');

function refused(fn: () => unknown, problem: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FileReadError, `a FileReadError, got ${String(e)}`);
    assert.equal(e.problem, problem);
    assert.match(e.message, re);
    return true;
  });
}

test('a FIFO, a device and a symlink to /dev/zero are refused without reading or blocking', () => {
  refused(() => readFileBounded(fifo, 'object'), 'not-regular', /pipe\.o: is a FIFO \(named pipe\), not a regular file/);
  refused(() => readFileBounded('/dev/zero', 'object'), 'not-regular', /\/dev\/zero: is a character device/);
  refused(() => readFileBounded('/dev/urandom', 'source'), 'not-regular', /character device/);
  refused(() => readTextBounded(zeroLink, 'scenario'), 'not-regular', /zero\.scenario\.json: is a character device/);
  refused(() => readFileBounded(dir, 'source'), 'not-regular', /directory/);
  refused(() => checkRegularFile(fifo, 'source'), 'not-regular', /FIFO/);
});

test('a 1 GiB sparse .o is refused by its size before any byte is read, naming the limit', () => {
  refused(() => readFileBounded(sparse, 'object'), 'too-large', /huge\.o: the BPF object is 1 GiB \(1073741824 bytes\), over the limit of 64 MiB/);
  refused(() => readFileBounded(good, 'source', { limit: 4 }), 'too-large', /over the limit of 4 bytes/);
});

test('a missing file says so; a regular file is read whole, once, with the BOM dropped', async () => {
  refused(() => readFileBounded(join(dir, 'nope.o'), 'object'), 'missing', /nope\.o: cannot read the BPF object \(ENOENT\)/);
  assert.equal(readTextBounded(good, 'source').text, 'int x;\n');
  const r = await readFileBoundedAsync(good, 'source');
  assert.equal(r.bytes.length, 10);
  await assert.rejects(readFileBoundedAsync(fifo, 'object'), /FIFO/);
  assert.deepEqual(Object.keys(FILE_LIMITS).sort(), ['object', 'scenario', 'source']);
});

test('within: a symlink that leaves the allowed folders is refused; one that stays is read by its real path', () => {
  const root = join(dir, 'ws');
  mkdirSync(root);
  const outside = join(dir, 'secret.o');
  writeFileSync(outside, 'x');
  symlinkSync(outside, join(root, 'link.o'));
  writeFileSync(join(root, 'in.o'), 'y');
  symlinkSync(join(root, 'in.o'), join(root, 'alias.o'));
  refused(() => readFileBounded(join(root, 'link.o'), 'object', { within: [root] }), 'outside', /link\.o: resolves to .*secret\.o, outside the workspace/);
  refused(() => readFileBounded(join(root, '../secret.o'), 'object', { within: [root] }), 'outside', /outside the workspace/);
  const r = readFileBounded(join(root, 'alias.o'), 'object', { within: [root] });
  assert.equal(r.real, join(root, 'in.o'));
  assert.equal(r.bytes.toString(), 'y');
  assert.equal(checkRegularFile(join(root, 'alias.o'), 'object', { within: [root] }), join(root, 'in.o'));
});
