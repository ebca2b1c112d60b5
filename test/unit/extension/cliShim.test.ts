// The CLI launcher the extension writes: it runs the bundled CLI (here: the checkout's dist/cli.js
// when built, else a stand-in script) with the given Node.js and passes the arguments through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { onPath, shimFor, writeShim } from '../../../extension/cliShim';

test('the POSIX shim runs the CLI with node and passes arguments (quotes included)', (t) => {
  if (process.platform === 'win32') { t.skip('POSIX shell shim'); return; }
  const home = mkdtempSync(path.join(tmpdir(), 'bpf-sockops-shim-'));
  try {
    const cli = path.join(home, "it's cli.js");
    writeFileSync(cli, 'process.stdout.write(JSON.stringify(process.argv.slice(2)));');
    const s = shimFor(cli, { node: process.execPath, runtime: '/nonexistent', home });
    assert.equal(s.file, path.join(home, '.local/bin/bpf-sockops'));
    writeShim(s);
    assert.equal(statSync(s.file).mode & 0o777, 0o755);
    const r = spawnSync(s.file, ['check', 'a b.c', '--format', 'json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['check', 'a b.c', '--format', 'json']);
  } finally { rmSync(home, { recursive: true, force: true }); }
});

test('without node on PATH the shim runs VS Code\'s runtime as Node; Windows gets a .cmd', () => {
  const s = shimFor('/ext/dist/cli.js', { runtime: '/opt/code/code', home: '/home/u', platform: 'linux' });
  assert.match(s.text, /ELECTRON_RUN_AS_NODE=1 exec '\/opt\/code\/code' '\/ext\/dist\/cli\.js' "\$@"/);
  const w = shimFor('C:\\ext\\dist\\cli.js', { runtime: 'C:\\Code\\Code.exe', home: 'C:\\Users\\u', platform: 'win32' });
  assert.match(w.file, /bpf-sockops\.cmd$/);
  assert.match(w.text, /set ELECTRON_RUN_AS_NODE=1\r\n"C:\\Code\\Code\.exe" "C:\\ext\\dist\\cli\.js" %\*/);
  assert.equal(onPath('/a/b', ['/x', '/a/b/'].join(path.delimiter)), true);
  assert.equal(onPath('/a/c', '/x'), false);
});
