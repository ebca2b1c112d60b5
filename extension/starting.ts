// Getting started: "New AutoLOWAT Hook" (hook + scenario + the users' header into the workspace),
// "New Scenario for This Hook", "Install Command Line" (a `bpf-sockops` launcher on PATH), and a
// one-time suggestion to install clangd beside us. The texts come from ./hookTemplate and
// ./cliShim (no vscode there, tested on their own).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from './ctx';
import { newHookFiles, scenarioForHook, framingLabel, type Framing } from './hookTemplate';
import { cPrograms } from '../server/analysis/cprograms';
import { onPath, shimFor, writeShim } from './cliShim';
import { findExecutable } from './config';
import { CLANGD_ID } from './client';

const FRAMINGS: { f: Framing; name: string }[] = [
  { f: { kind: 'prefix', bytes: 2, endian: 'be' }, name: 'lp16' },
  { f: { kind: 'prefix', bytes: 4, endian: 'be' }, name: 'lp32' },
  { f: { kind: 'prefix', bytes: 2, endian: 'le' }, name: 'lp16le' },
  { f: { kind: 'prefix', bytes: 4, endian: 'le' }, name: 'lp32le' },
  { f: { kind: 'prefix', bytes: 1, endian: 'be' }, name: 'lp8' },
  { f: { kind: 'descriptor' }, name: 'desc8' },
];

function targetFolder(): vscode.Uri | undefined {
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  if (active && active.scheme === 'file' && active.fsPath.startsWith(folder.uri.fsPath)) return vscode.Uri.file(path.dirname(active.fsPath));
  return folder.uri;
}

async function newHook(ctx: Ctx, args?: { framing?: Framing; name?: string; folder?: string }): Promise<vscode.Uri | undefined> {
  const dir = args?.folder ? vscode.Uri.file(args.folder) : targetFolder();
  if (!dir) { void vscode.window.showErrorMessage('Open a folder first: the new hook, its scenario and the header are written into it.'); return undefined; }
  let framing = args?.framing;
  let suggested = FRAMINGS.find((x) => JSON.stringify(x.f) === JSON.stringify(framing))?.name ?? 'autolowat';
  if (!framing) {
    const pick = await vscode.window.showQuickPick(FRAMINGS.map((x) => ({ label: framingLabel(x.f), x })), {
      title: 'New AutoLOWAT hook: how does the peer frame its messages?', placeHolder: 'Framing of the byte stream',
    });
    if (!pick) return undefined;
    framing = pick.x.f;
    suggested = pick.x.name;
  }
  const name = args?.name ?? await vscode.window.showInputBox({
    title: 'New AutoLOWAT hook: name', value: suggested, prompt: `Files: ${suggested}.bpf.c and ${suggested}.scenario.json in ${vscode.workspace.asRelativePath(dir)}`,
    validateInput: (v) => (/^[A-Za-z_]\w{0,40}$/.test(v) ? (fs.existsSync(path.join(dir.fsPath, `${v}.bpf.c`)) ? `${v}.bpf.c exists already` : undefined) : 'a C identifier (letters, digits, _)'),
  });
  if (!name) return undefined;
  const { files } = newHookFiles(name, framing);
  for (const f of Object.keys(files)) {
    if (fs.existsSync(path.join(dir.fsPath, f))) { void vscode.window.showErrorMessage(`${f} exists already in ${dir.fsPath}: pick another name.`); return undefined; }
  }
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir.fsPath, f), text);
  const header = path.join(dir.fsPath, 'bpf_sockops_autolowat.h');
  if (!fs.existsSync(header)) fs.copyFileSync(ctx.asset('include/bpf_sockops_autolowat.h'), header);
  ctx.output.info(`new hook: ${Object.keys(files).join(', ')} and bpf_sockops_autolowat.h in ${dir.fsPath}`);
  const hook = vscode.Uri.file(path.join(dir.fsPath, `${name}.bpf.c`));
  await vscode.window.showTextDocument(hook);
  if (!args?.name) {
    void vscode.window.showInformationMessage(`${name}.bpf.c and ${name}.scenario.json are ready. Press F5 to step the hook through the scenario.`, 'Run Scenario', 'Open Scenario').then((a) => {
      const scen = vscode.Uri.file(path.join(dir.fsPath, `${name}.scenario.json`));
      if (a === 'Run Scenario') void vscode.commands.executeCommand('bpfSockops.runScenario', scen);
      if (a === 'Open Scenario') void vscode.window.showTextDocument(scen);
    });
  }
  return hook;
}

/** "New Scenario for This Hook": a scenario naming the active hook's programs, next to it. */
export async function newScenario(ctx: Ctx, arg?: unknown): Promise<vscode.Uri | undefined> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file' || !/\.c$/i.test(uri.fsPath)) {
    void vscode.window.showInformationMessage('Open the hook (a C file with SEC("sockops")) to make a scenario for it.');
    return undefined;
  }
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const text = open ? open.getText() : fs.readFileSync(uri.fsPath, 'utf8');
  const progs = cPrograms(text);
  const sockops = progs.find((p) => p.section === 'sockops')?.name;
  const setsockopt = progs.find((p) => p.section === 'cgroup/setsockopt')?.name;
  const stem = path.basename(uri.fsPath).replace(/\.bpf\.c$|\.c$/i, '');
  let file = path.join(path.dirname(uri.fsPath), `${stem}.scenario.json`);
  for (let i = 2; fs.existsSync(file); i++) file = path.join(path.dirname(uri.fsPath), `${stem}-${i}.scenario.json`);
  fs.writeFileSync(file, scenarioForHook(path.basename(uri.fsPath), sockops, setsockopt));
  ctx.output.info(`new scenario: ${file}`);
  const out = vscode.Uri.file(file);
  await vscode.window.showTextDocument(out);
  return out;
}

async function installCli(ctx: Ctx, args?: { home?: string; install?: boolean }): Promise<string | undefined> {
  const cli = ctx.asset('dist/cli.js');
  const node = findExecutable(process.platform === 'win32' ? 'node.exe' : 'node');
  const shim = shimFor(cli, { node, runtime: process.execPath, home: args?.home });
  const how = `The CLI is ${cli}. Run it as: ${node ? `node "${cli}"` : `ELECTRON_RUN_AS_NODE=1 "${process.execPath}" "${cli}"`} check|run|disasm|lsp ...`;
  const choice = args?.install === undefined
    ? await vscode.window.showInformationMessage(`Put a \`bpf-sockops\` command in ${path.dirname(shim.file)}?`, 'Install', 'Show How')
    : args.install ? 'Install' : 'Show How';
  if (choice === 'Show How') { ctx.output.info(how); ctx.output.show(true); return undefined; }
  if (choice !== 'Install') return undefined;
  writeShim(shim);
  ctx.output.info(`wrote ${shim.file} (runs ${cli}). ${how}`);
  const dir = path.dirname(shim.file);
  const note = onPath(dir) ? 'Open a new terminal and run `bpf-sockops check your.bpf.c`.' : `${dir} is not on your PATH: add it (e.g. in ~/.profile: export PATH="${dir}:$PATH").`;
  if (args?.install === undefined) void vscode.window.showInformationMessage(`Installed ${shim.file}. ${note}`);
  return shim.file;
}

/** Once per installation: clangd gives C navigation, rename and compiler diagnostics beside us. */
function suggestClangd(ctx: Ctx): void {
  const key = 'bpfSockops.clangdSuggested';
  if (vscode.extensions.getExtension(CLANGD_ID) || ctx.extension.globalState.get(key)) return;
  const sub = vscode.workspace.onDidOpenTextDocument((d) => {
    if (d.languageId !== 'c') return;
    sub.dispose();
    void ctx.extension.globalState.update(key, true);
    void vscode.window.showInformationMessage('BPF sock_ops checks the sock_ops rules; for C navigation across headers, rename and compiler diagnostics, install clangd beside it (the two do not repeat each other).',
      'Install clangd', 'Not Now').then((a) => {
      if (a === 'Install clangd') void vscode.commands.executeCommand('workbench.extensions.installExtension', CLANGD_ID);
    });
  });
  ctx.push(sub);
}

export function registerStarting(ctx: Ctx): void {
  ctx.command('bpfSockops.newHook', (args?: { framing?: Framing; name?: string; folder?: string }) => newHook(ctx, args));
  ctx.command('bpfSockops.newScenario', (arg?: unknown) => newScenario(ctx, arg));
  ctx.command('bpfSockops.installCli', (args?: { home?: string; install?: boolean }) => installCli(ctx, args));
  suggestClangd(ctx);
}
