// Runs node:test files under the given folders (default test/unit) through tsx.
// Usage: node test/run.mjs [dir-or-file ...]   (Node 20's --test has no glob support)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(p, out) {
  const st = statSync(p);
  if (st.isFile()) { if (p.endsWith('.test.ts')) out.push(p); return; }
  for (const e of readdirSync(p).sort()) collect(join(p, e), out);
}
const args = process.argv.slice(2);
const files = [];
for (const a of (args.length ? args : ['test/unit'])) collect(a, files);
if (files.length === 0) { console.error(`no *.test.ts files under ${args.join(' ') || 'test/unit'}`); process.exit(1); }
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
