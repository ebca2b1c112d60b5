// npm run package: (after `npm run build`) regenerate the grammar from the sockops/ table, copy the
// tree-sitter wasm files next to the bundles, check that everything the manifest points at exists,
// then build the .vsix with @vscode/vsce. Prints the .vsix path, its size and its file list.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const out = path.resolve(ROOT, process.env.VSIX_OUT || `${pkg.name}-${pkg.version}.vsix`);
const fail = (m) => { console.error(`package: ${m}`); process.exit(1); };
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
};

// 1. the injection grammar, from the table (no hand-kept copy)
run(process.execPath, ['--import', 'tsx', 'syntaxes/grammar.ts']);

// 2. tree-sitter runtime + C grammar for the language server, beside dist/server.js
const wasm = [
  ['node_modules/web-tree-sitter/web-tree-sitter.wasm', 'dist/web-tree-sitter.wasm'],
  ['node_modules/tree-sitter-c/tree-sitter-c.wasm', 'dist/tree-sitter-c.wasm'],
];
for (const [from, to] of wasm) {
  if (!fs.existsSync(path.join(ROOT, from))) fail(`${from} is missing; run npm install`);
  fs.copyFileSync(path.join(ROOT, from), path.join(ROOT, to));
}

// 3. everything the manifest and the runtime need must be there before vsce runs
const needed = [pkg.main, 'dist/server.js', 'dist/cli.js', pkg.icon, 'README.md', 'CHANGELOG.md',
  ...pkg.contributes.grammars.map((g) => g.path), ...pkg.contributes.jsonValidation.map((j) => j.url)];
const missing = needed.filter((f) => !fs.existsSync(path.join(ROOT, f)));
if (missing.length) fail(`missing: ${missing.join(', ')} (run \`npm run build\`; README.md comes from the lead, syntaxes/scenario.schema.json from the scenario helper)`);

// 4. stage exactly what ships (vsce would otherwise walk the whole checkout, .e2e/ included), then
//    let .vscodeignore, copied along, say the same thing to anyone who runs vsce by hand.
const STAGE = path.join(ROOT, '.tmp', 'vsix-stage');
fs.rmSync(STAGE, { recursive: true, force: true });
const ship = (rel) => {
  const from = path.join(ROOT, rel), to = path.join(STAGE, rel);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true, filter: (f) => !/\.(tmp|map)$/.test(f) });
};
const files = ['README.md', 'CHANGELOG.md', '.vscodeignore', 'dist/extension.js', 'dist/server.js', 'dist/cli.js',
  ...wasm.map(([, to]) => to), ...fs.readdirSync(path.join(ROOT, 'syntaxes')).filter((f) => f.endsWith('.json')).map((f) => `syntaxes/${f}`),
  pkg.icon,
  // the images the README shows, linked relatively and shipped (vsce must not rewrite the links
  // to a repository URL: --no-rewrite-relative-links), so the extension page shows them offline
  ...[...fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').matchAll(/\]\((docs\/images\/[\w.-]+\.(?:png|svg|gif))\)/g)].map((m) => m[1]).filter((f, i, all) => all.indexOf(f) === i && fs.existsSync(path.join(ROOT, f)))];
// include/: the users' header, found by the compiler step from dist/ (debugger/scenario/compile.ts)
// docs/abi.md and docs/design.md: hovers and table rows cite them ("docs/abi.md §4.6"), so they ship
for (const f of ['LICENSE', 'LICENSE.md', 'examples/autolowat', 'include', 'docs/abi.md', 'docs/design.md']) if (fs.existsSync(path.join(ROOT, f))) files.push(f);
files.forEach(ship);
// The manifest as shipped: no scripts (vsce would run vscode:prepublish), no dev tooling.
const shipped = { ...pkg };
delete shipped.scripts; delete shipped.devDependencies; delete shipped.bin; delete shipped.private;
fs.writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify(shipped, null, 2) + '\n');

// 5. vsce: dependencies are bundled, so none are packed
const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
const args = [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out];
if (!files.some((f) => f.startsWith('LICENSE'))) args.push('--skip-license');
const r = spawnSync(process.execPath, args, { cwd: STAGE, stdio: 'inherit' });
if (r.status !== 0) fail(`vsce package exited with ${r.status ?? r.signal}`);

const size = fs.statSync(out).size;
const list = spawnSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: STAGE, encoding: 'utf8' }).stdout.trim().split('\n');
console.log(`package: ${path.relative(ROOT, out)} ${(size / 1024).toFixed(0)} KiB, ${list.length} files:\n  ${list.join('\n  ')}`);
