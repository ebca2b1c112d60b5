// npm run test:vscode — integration tests inside a VS Code build (Electron), through
// @vscode/test-electron: the extension from this checkout (dist/) in an Extension Development Host,
// the suite (./suite.ts, bundled here with esbuild) driving the vscode API.
// VS Code comes from $VSCODE_EXECUTABLE, else a download (update.code.visualstudio.com). When neither
// is possible the command says so and exits 0: the workbench end-to-end test (npm run test:e2e)
// covers the editor on machines without that host.
// `--code-server`: run the same suite in the code-server workbench of test/e2e instead (the packaged
// extension plus a small companion extension that runs the suite in the extension host).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { runTests, downloadAndUnzipVSCode } from '@vscode/test-electron';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = path.join(ROOT, '.tmp', 'vscode-test');

async function reachable(url, ms) {
  try { const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(ms) }); return r.status < 500; } catch { return false; }
}

if (process.argv.includes('--code-server')) process.exit(await runInCodeServer());

let executable = process.env.VSCODE_EXECUTABLE;
if (executable && !fs.existsSync(executable)) { console.error(`test:vscode: VSCODE_EXECUTABLE=${executable} does not exist`); process.exit(1); }
if (!executable) {
  if (!(await reachable('https://update.code.visualstudio.com/api/releases/stable', 8000))) {
    console.log('test:vscode: SKIPPED: no VS Code build: VSCODE_EXECUTABLE is not set and update.code.visualstudio.com cannot be reached.');
    console.log('test:vscode: set VSCODE_EXECUTABLE=/path/to/code (a VS Code >= 1.100 binary) to run these tests; the editor is covered by npm run test:e2e.');
    process.exit(0);
  }
  try { executable = await downloadAndUnzipVSCode({ version: 'stable', cachePath: path.join(ROOT, '.tmp', 'vscode-download') }); } catch (e) {
    console.log(`test:vscode: SKIPPED: downloading VS Code failed (${e.message}); set VSCODE_EXECUTABLE to run these tests.`);
    process.exit(0);
  }
}

const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) { console.error('test:vscode: npm run build failed'); process.exit(1); }
fs.rmSync(OUT, { recursive: true, force: true });
await esbuild.build({
  entryPoints: { suite: path.join(ROOT, 'test', 'vscode', 'suite.ts') }, bundle: true, platform: 'node', target: 'node20',
  format: 'cjs', outdir: OUT, external: ['vscode'], logLevel: 'warning',
});
// a workspace of its own: the example plus a hook with a known mistake
const ws = path.join(OUT, 'ws');
fs.cpSync(path.join(ROOT, 'examples', 'autolowat'), ws, { recursive: true });

try {
  const code = await runTests({
    vscodeExecutablePath: executable,
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(OUT, 'suite.js'),
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', `--user-data-dir=${path.join(OUT, 'ud')}`],
    extensionTestsEnv: { BPF_SOCKOPS_TEST_WS: ws },
  });
  process.exit(code);
} catch (e) {
  console.error(`test:vscode: FAILED: ${e.message}`);
  process.exit(1);
}

/** The suite inside code-server's extension host: our .vsix and a runner extension that calls
 *  suite.run() after start-up and writes the outcome to a file. */
async function runInCodeServer() {
  const wb = await import('../e2e/workbench.mjs');
  const dir = path.join(ROOT, '.tmp', 'vscode-test-cs');
  const result = path.join(dir, 'result.json');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'runner'), { recursive: true });
  wb.install();
  const vsix = path.join(dir, 'bpf-sockops.vsix');
  for (const [cmd, args, env] of [['npm', ['run', '-s', 'build'], {}], [process.execPath, ['scripts/package.mjs'], { VSIX_OUT: vsix }]]) {
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
    if (r.status !== 0) { console.error(`test:vscode: ${cmd} ${args.join(' ')} failed`); return 1; }
  }
  await esbuild.build({ entryPoints: { suite: path.join(ROOT, 'test', 'vscode', 'suite.ts') }, bundle: true, platform: 'node', target: 'node20', format: 'cjs', outdir: path.join(dir, 'runner'), external: ['vscode'], logLevel: 'warning' });
  fs.writeFileSync(path.join(dir, 'runner', 'package.json'), JSON.stringify({ name: 'suite-runner', publisher: 'bpf-sockops-test', version: '0.0.1', engines: { vscode: '^1.100.0' }, activationEvents: ['onStartupFinished'], main: './runner.js' }, null, 2));
  fs.writeFileSync(path.join(dir, 'runner', 'README.md'), 'Runs the bpf-sockops integration suite.\n');
  fs.writeFileSync(path.join(dir, 'runner', '.vscodeignore'), '*.vsix\n');
  fs.writeFileSync(path.join(dir, 'runner', 'runner.js'), `const fs = require('fs');
exports.activate = () => { setTimeout(() => {
  require('./suite.js').run().then(() => ({ ok: true }), (e) => ({ ok: false, message: String(e && e.message || e) }))
    .then((r) => fs.writeFileSync(${JSON.stringify(result)}, JSON.stringify(r)));
}, 2000); };
`);
  const runnerVsix = path.join(dir, 'runner.vsix');
  const v = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--allow-missing-repository', '--skip-license', '-o', runnerVsix], { cwd: path.join(dir, 'runner'), stdio: ['ignore', 'ignore', 'inherit'] });
  if (v.status !== 0) { console.error('test:vscode: packaging the runner failed'); return 1; }

  await wb.stop();
  wb.prepareRunDirs(fs.existsSync('/usr/bin/clang-19') ? { 'bpfSockops.clang.path': '/usr/bin/clang-19' } : {});
  wb.cli(['--force', '--install-extension', vsix]);
  wb.cli(['--force', '--install-extension', runnerVsix]);
  fs.rmSync(wb.WS, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'examples', 'autolowat'), wb.WS, { recursive: true });
  process.env.BPF_SOCKOPS_TEST_WS = wb.WS; // inherited by the extension host
  await wb.start();
  const { createRequire } = await import('node:module');
  const { chromium } = createRequire(path.join(ROOT, 'package.json'))('playwright-core');
  const browser = await chromium.launch({ executablePath: wb.CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${wb.PORT}/?folder=${wb.WS}`);
    for (let i = 0; i < 240 && !fs.existsSync(result); i++) await new Promise((r) => setTimeout(r, 500));
  } finally {
    await browser.close();
    wb.cli(['--uninstall-extension', 'bpf-sockops-test.suite-runner']);
    await wb.stop();
  }
  if (!fs.existsSync(result)) { console.error('test:vscode: the suite did not report within 120 s (see .e2e/run/logs)'); return 1; }
  const r = JSON.parse(fs.readFileSync(result, 'utf8'));
  console.log(r.ok ? 'test:vscode (code-server): all checks passed' : `test:vscode (code-server): FAILED: ${r.message}`);
  return r.ok ? 0 : 1;
}
