// npm run test:vscode — integration tests inside a VS Code build (Electron), through
// @vscode/test-electron: the extension from this checkout (dist/) in an Extension Development Host,
// the suite (./suite.ts, bundled here with esbuild) driving the vscode API.
// VS Code comes from $VSCODE_EXECUTABLE, else a download (update.code.visualstudio.com). When neither
// is possible the command says so and exits 0: the workbench end-to-end test (npm run test:e2e)
// covers the editor on machines without that host.
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
