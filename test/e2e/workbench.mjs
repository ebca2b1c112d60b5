// The real VS Code workbench for the end-to-end test: code-server (the VS Code server and web
// workbench, from npm) plus Debian's chromium, installed under .e2e/ without GitHub or the VS Code
// update host. Every step checks whether it is already done, so a second call costs about a second.
//
//   node test/e2e/workbench.mjs install | start | stop | status | cli ARGS...
//
// State lives under $E2E (default <repo>/.e2e, git-ignored): cs/ (code-server), run/ (HOME, XDG dirs,
// TMPDIR, user data, extensions, logs), ws/ (the test workspace), artifacts/ (screenshots).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const E2E = path.resolve(process.env.E2E || path.join(ROOT, '.e2e'));
export const PORT = Number(process.env.E2E_PORT || 8089);
export const CS_VERSION = process.env.CS_VERSION || '4.100.3'; // 4.100.x is built for node 20
const PREFIX = path.join(E2E, 'cs');
const CS = path.join(PREFIX, 'node_modules', 'code-server');
const VS = path.join(CS, 'lib', 'vscode');
export const RUN = path.join(E2E, 'run');
export const WS = path.join(E2E, 'ws');
const PIDFILE = path.join(RUN, 'code-server.pid');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const APT = ['build-essential', 'python3', 'libkrb5-dev', 'ripgrep', 'chromium', 'fonts-dejavu-core'];

const log = (m) => console.log(`e2e: ${m}`);
class SetupError extends Error {}
const die = (m) => { throw new SetupError(m); };

function npmEnv() {
  return {
    ...process.env,
    npm_config_cache: process.env.npm_config_cache || path.join(E2E, 'npm-cache'),
    npm_config_nodedir: process.env.npm_config_nodedir || '/usr', // headers of the nodejs .deb: no download
    npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
    npm_config_prefer_offline: 'true',
  };
}
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: npmEnv(), ...opts });
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}) in ${opts.cwd ?? process.cwd()}`);
}
const loads = (cwd, mod) => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(mod)})`], { cwd, stdio: 'ignore' }).status === 0;
const installed = (pkg) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed');

function aptDeps() {
  const missing = APT.filter((p) => !installed(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) die(`missing Debian packages: ${missing.join(' ')}; run as root: apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  log(`apt-get install ${missing.join(' ')}`);
  sh('apt-get', ['update', '-qq']);
  sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function codeServer() {
  if (process.versions.node.split('.')[0] !== '20') die(`code-server ${CS_VERSION} needs node 20, this is ${process.version}`);
  if (!fs.existsSync(path.join(npmEnv().npm_config_nodedir, 'include', 'node', 'node_api.h')))
    die('node headers are missing under /usr/include/node (install the nodejs .deb with headers, or set npm_config_nodedir)');
  fs.mkdirSync(PREFIX, { recursive: true });
  const pj = path.join(CS, 'package.json');
  if (!fs.existsSync(pj) || JSON.parse(fs.readFileSync(pj, 'utf8')).version !== CS_VERSION) {
    if (!fs.existsSync(path.join(PREFIX, 'package.json'))) fs.writeFileSync(path.join(PREFIX, 'package.json'), '{"name":"e2e-code-server","private":true}\n');
    log(`npm install code-server@${CS_VERSION} (scripts off: its postinstall fetches ripgrep from GitHub)`);
    sh('npm', ['install', '--ignore-scripts', `code-server@${CS_VERSION}`], { cwd: PREFIX });
  }
  // argon2 is loaded at start-up even with --auth none; its prebuilt download is on GitHub, so build it.
  if (!loads(PREFIX, 'argon2')) {
    log('building argon2');
    sh('npm', ['rebuild', 'argon2', '--foreground-scripts'], { cwd: PREFIX, env: { ...npmEnv(), npm_config_build_from_source: 'true' } });
  }
  // What code-server's postinstall does, without network access.
  if (!fs.existsSync(path.join(VS, 'node_modules', '@vscode', 'ripgrep'))) {
    log('npm install in lib/vscode');
    sh('npm', ['install', '--omit=dev', '--ignore-scripts'], { cwd: VS });
  }
  const gyp = path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  for (const m of ['@vscode/spdlog', 'native-watchdog', 'node-pty', 'kerberos', '@parcel/watcher']) {
    if (loads(VS, m)) continue;
    if (!fs.existsSync(gyp)) die(`node-gyp not found at ${gyp}`);
    log(`node-gyp rebuild ${m}`);
    sh(process.execPath, [gyp, 'rebuild', '--jobs=max'], { cwd: path.join(VS, 'node_modules', m) });
    if (!loads(VS, m)) die(`${m} still does not load after the rebuild`);
  }
  const rg = spawnSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).stdout.trim() || die('ripgrep (rg) is not installed');
  const link = (target, at) => { fs.mkdirSync(path.dirname(at), { recursive: true }); fs.rmSync(at, { force: true }); fs.symlinkSync(target, at); };
  link(rg, path.join(VS, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg'));
  link('node_modules', path.join(VS, 'node_modules.asar'));
  link('code-linux.sh', path.join(VS, 'bin', 'remote-cli', 'code-server'));
  link('browser-linux.sh', path.join(VS, 'bin', 'helpers', 'browser.sh'));
  if (!fs.existsSync(path.join(VS, 'extensions', 'node_modules', 'typescript', 'package.json'))) {
    log('npm install in lib/vscode/extensions');
    sh('npm', ['install', '--omit=dev', '--ignore-scripts'], { cwd: path.join(VS, 'extensions') });
    sh(process.execPath, ['./postinstall.mjs'], { cwd: path.join(VS, 'extensions'), stdio: 'ignore' });
  }
}

export function install() { aptDeps(); codeServer(); }

const runtimeEnv = () => ({
  ...process.env,
  HOME: path.join(RUN, 'home'), XDG_CONFIG_HOME: path.join(RUN, 'xdg-config'), XDG_CACHE_HOME: path.join(RUN, 'xdg-cache'),
  XDG_DATA_HOME: path.join(RUN, 'xdg-data'), TMPDIR: path.join(RUN, 'tmp'),
});

/** User settings of the test profile. `extra` is merged in (e.g. a clang path). */
export function prepareRunDirs(extra = {}) {
  for (const d of ['ud/User', 'ext', 'home', 'xdg-config', 'xdg-cache', 'xdg-data', 'tmp', 'logs']) fs.mkdirSync(path.join(RUN, d), { recursive: true });
  fs.mkdirSync(WS, { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off', 'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'update.mode': 'none', 'git.enabled': false,
    'debug.openDebug': 'openOnDebugBreak', 'terminal.integrated.gpuAcceleration': 'off',
    'workbench.colorTheme': 'Default Dark Modern', 'editor.minimap.enabled': false, 'window.commandCenter': false,
    ...extra,
  };
  fs.writeFileSync(path.join(RUN, 'ud', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // An explicit config file: otherwise code-server writes ~/.config/code-server/config.yaml with a password.
  fs.writeFileSync(path.join(RUN, 'config.yaml'), `bind-addr: 127.0.0.1:${PORT}\nauth: none\ncert: false\n`);
}

function csArgs() {
  return [path.join(CS, 'out', 'node', 'entry.js'), '--config', path.join(RUN, 'config.yaml'),
    '--user-data-dir', path.join(RUN, 'ud'), '--extensions-dir', path.join(RUN, 'ext')];
}

/** Runs the code-server CLI (e.g. --install-extension X.vsix) against the test profile. */
export function cli(args) {
  prepareRunDirsIfMissing();
  const r = spawnSync(process.execPath, [...csArgs(), ...args], { env: runtimeEnv(), encoding: 'utf8' });
  if (r.status !== 0) die(`code-server ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}
function prepareRunDirsIfMissing() { if (!fs.existsSync(path.join(RUN, 'config.yaml'))) prepareRunDirs(); }

const pidAlive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const readPid = () => { try { return Number(fs.readFileSync(PIDFILE, 'utf8')); } catch { return 0; } };
export const running = () => { const p = readPid(); return p > 0 && pidAlive(p); };
async function healthy() { try { return (await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok; } catch { return false; } }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `trust: true` runs with workspace trust on (Restricted Mode until the user trusts the folder). */
export async function start({ trust = false } = {}) {
  if (running()) return;
  if (await healthy()) die(`port ${PORT} is served by another process; set E2E_PORT to a free port`);
  prepareRunDirsIfMissing();
  const out = fs.openSync(path.join(RUN, 'logs', 'code-server.log'), 'w');
  // detached: its own process group, so stop() ends the server and its extension hosts together.
  const child = spawn(process.execPath, [...csArgs(), '--bind-addr', `127.0.0.1:${PORT}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', ...(trust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', WS],
  { env: runtimeEnv(), detached: true, stdio: ['ignore', out, out] });
  fs.writeFileSync(PIDFILE, String(child.pid));
  child.unref();
  for (let i = 0; i < 120; i++) {
    if (await healthy()) { log(`code-server up on port ${PORT} (pid ${child.pid})`); return; }
    if (!pidAlive(child.pid)) die(`code-server exited; see ${path.join(RUN, 'logs', 'code-server.log')}`);
    await sleep(250);
  }
  die(`code-server did not answer on port ${PORT} within 30 s; see ${path.join(RUN, 'logs', 'code-server.log')}`);
}

export async function stop() {
  const pid = readPid();
  if (pid > 0 && pidAlive(pid)) {
    try { process.kill(-pid, 'SIGTERM'); } catch { /* group already gone */ }
    for (let i = 0; i < 20 && pidAlive(pid); i++) await sleep(250);
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
  fs.rmSync(PIDFILE, { force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd = 'install', ...rest] = process.argv.slice(2);
  try {
    if (cmd === 'install') { const t = Date.now(); install(); log(`installed in ${((Date.now() - t) / 1000).toFixed(1)} s`); }
    else if (cmd === 'start') await start();
    else if (cmd === 'stop') await stop();
    else if (cmd === 'status') { const ok = running() && await healthy(); console.log(ok ? `running on port ${PORT}` : 'stopped'); process.exitCode = ok ? 0 : 1; }
    else if (cmd === 'cli') process.stdout.write(cli(rest));
    else { console.error('usage: node test/e2e/workbench.mjs install|start|stop|status|cli ARGS...'); process.exitCode = 2; }
  } catch (e) {
    if (e instanceof SetupError) { console.error(`e2e setup: ${e.message}`); process.exitCode = 1; } else throw e;
  }
}
