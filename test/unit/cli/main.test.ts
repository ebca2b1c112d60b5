// The CLI entry as users and the extension start it: directly (`node dist/cli.js ...`, here through
// tsx) and through the bin launcher; unknown commands and usage errors exit 2 with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../../cli/main';

const root = join(__dirname, '..', '..', '..');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => { out.push(s); }, err: (s: string) => { err.push(s); } }, out, err };
}

test('unknown command: exit 2, names it, prints usage', async () => {
  const c = capture();
  assert.equal(await main(['frobnicate'], c.io), 2);
  assert.match(c.err.join(''), /unknown command 'frobnicate'/);
  assert.match(c.err.join(''), /check FILE\.\.\./);
});

test('no command: usage and exit 2; help: exit 0', async () => {
  const a = capture();
  assert.equal(await main([], a.io), 2);
  assert.match(a.out.join(''), /usage: bpf-sockops/);
  const b = capture();
  assert.equal(await main(['--help'], b.io), 0);
  assert.match(b.out.join(''), /disasm FILE\.o/);
});

test('the module runs main() when executed directly (how the extension starts `dap`)', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'cli', 'main.ts'), 'version'], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^bpf-sockops \S+\n$/);
});

test('run with a missing scenario file explains itself and exits non-zero', async () => {
  const c = capture();
  const code = await main(['run', join(root, 'no', 'such.scenario.json')], c.io);
  assert.notEqual(code, 0);
  assert.match(c.err.join('') + c.out.join(''), /such\.scenario\.json/);
});
