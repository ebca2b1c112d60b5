// The debugger: the adapter runs as `node dist/cli.js dap` (its own process, so a runaway guest
// can never block the extension host); the configuration provider lets F5 on a hook or a scenario
// work without a launch.json and fills in the compiler, refusing one in Restricted Mode.
import { checkRegularFile, FileReadError } from '../io/files';
import { workspaceRoots } from './runOptions';
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from './ctx';
import { findBpfPrograms, isSockOpsSection } from './bpfSource';
import { explainNoScenario, findScenarios, isScenarioUri, pickScenario, readScenario, scenariosForHook } from './scenarios';
import { launchConfigFor, type LaunchConfig } from './scenarioMatch';
import { logCompiler } from './runOptions';
import type { VerifyOnSave } from './verifyOnSave';
import { launchRefusal } from './hookTasks';

export const DEBUG_TYPE = 'bpf-sockops';

export function registerDebugger(ctx: Ctx, verifier?: VerifyOnSave): void {
  ctx.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new AdapterFactory(ctx)),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigProvider(ctx, verifier), vscode.DebugConfigurationProviderTriggerKind.Initial),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new DynamicProvider(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );
}

class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly ctx: Ctx) {}
  createDebugAdapterDescriptor(): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    const cli = this.ctx.asset('dist/cli.js');
    if (!fs.existsSync(cli)) throw new Error(`debug adapter bundle missing: ${cli} (run \`npm run build\`)`);
    // process.execPath is node in a server extension host, and Electron (with ELECTRON_RUN_AS_NODE) on the desktop.
    return new vscode.DebugAdapterExecutable(process.execPath, [cli, 'dap'], { env: { ELECTRON_RUN_AS_NODE: '1' } });
  }
}

/** The sock_ops hook in the active editor, if there is one. */
function activeHook(): { file: string; func?: string } | undefined {
  const d = vscode.window.activeTextEditor?.document;
  if (!d || d.languageId !== 'c' || d.uri.scheme !== 'file') return undefined;
  const progs = findBpfPrograms(d.getText()).filter((p) => isSockOpsSection(p.section));
  if (progs.length === 0) return undefined;
  return progs.length === 1 ? { file: d.fileName, func: progs[0]!.name } : { file: d.fileName };
}

/** The launch config for a scenario, for a given hook file or the scenario's own program. */
export async function configForScenario(scenario: vscode.Uri, hookFile?: string, quiet = false): Promise<LaunchConfig | undefined> {
  const s = await readScenario(scenario);
  const program = hookFile ?? s.program;
  if (!program) {
    if (quiet) return undefined;
    void vscode.window.showErrorMessage(`${vscode.workspace.asRelativePath(scenario)}: the scenario names no "program" (a .c or .o relative to the scenario file).`);
    return undefined;
  }
  return launchConfigFor(scenario.fsPath, program);
}

/** F5 without launch.json: a hook in the editor -> its scenarios; a scenario in the editor -> its program. */
export async function configFromEditor(): Promise<LaunchConfig | undefined> {
  const ed = vscode.window.activeTextEditor?.document;
  if (ed && isScenarioUri(ed.uri)) return configForScenario(ed.uri);
  const hook = activeHook();
  if (!hook) {
    void vscode.window.showInformationMessage('Open a sock_ops hook (a C file with SEC("sockops")) or a *.scenario.json file, then start debugging.');
    return undefined;
  }
  const pick = await pickScenario(await scenariosForHook(hook.file, hook.func), `Scenario for ${path.basename(hook.file)}`);
  if (!pick) {
    void explainNoScenario(hook.file, hook.func);
    return undefined;
  }
  return configForScenario(pick.uri, hook.file);
}

class ConfigProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly ctx: Ctx, private readonly verifier?: VerifyOnSave) {}

  async provideDebugConfigurations(): Promise<vscode.DebugConfiguration[]> {
    const hook = activeHook();
    const scenarios = hook ? await scenariosForHook(hook.file, hook.func) : await findScenarios();
    const configs = scenarios.map((s) => configForScenario(s.uri, hook?.file, true));
    const out = (await Promise.all(configs)).filter((c): c is LaunchConfig => !!c);
    const rel = (p: string) => p.replace(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '\0', '${workspaceFolder}');
    return out.map((c) => ({ ...c, program: rel(c.program), scenario: rel(c.scenario) }));
  }

  async resolveDebugConfiguration(_f: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) return configFromEditor();
    return config;
  }

  /** After variable substitution: decide about the compiler. */
  async resolveDebugConfigurationWithSubstitutedVariables(_f: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (typeof config.program !== 'string' || typeof config.scenario !== 'string') {
      void vscode.window.showErrorMessage('bpf-sockops launch configuration needs "program" (a .c or .o) and "scenario" (a *.scenario.json).');
      return undefined;
    }
    // the workspace folder is the adapter's "cwd" when none is set: relative paths start there (as
    // the Restricted Mode check below takes them), and the debugger shows sources under it
    if (config.cwd === undefined && _f) config.cwd = _f.uri.fsPath;
    if (!fs.existsSync(config.scenario)) {
      // `${fileBasenameNoExtension}.scenario.json` of x.bpf.c is x.bpf.scenario.json: try x.scenario.json.
      const plain = config.scenario.replace(/\.bpf\.scenario\.json$/, '.scenario.json');
      if (plain !== config.scenario && fs.existsSync(plain)) config.scenario = plain;
      else {
        const a = await vscode.window.showErrorMessage(`Scenario file not found: ${config.scenario} (the launch configuration's "scenario").`, ...(/\.c$/i.test(String(config.program)) ? ['New Scenario for This Hook'] : []));
        if (a) await vscode.commands.executeCommand('bpfSockops.newScenario', vscode.Uri.file(String(config.program)));
        return undefined;
      }
    }
    if (/\.c$/i.test(config.program)) {
      const cc = this.ctx.config.compiler(this.ctx.config.trusted ? config.compiler : undefined);
      if (!cc.path) {
        void vscode.window.showErrorMessage(`Cannot debug ${path.basename(config.program)}: ${cc.reason}.`);
        return undefined;
      }
      config.compiler = cc.path;
      config.compilerArgs = [...cc.args, ...(Array.isArray(config.compilerArgs) ? config.compilerArgs : [])];
      logCompiler(this.ctx, { path: cc.path, args: config.compilerArgs as string[], fallback: cc.fallback }, config.program);
    } else if (!this.ctx.config.trusted) {
      delete config.compiler; // a workspace-supplied executable path is never used untrusted
      delete config.compilerArgs;
    }
    if (!this.ctx.config.trusted) {
      // Restricted Mode: the object and the scenario are read only from inside the workspace
      // (after following symlinks), and only regular files (a FIFO would hang the adapter)
      const base = typeof config.cwd === 'string' ? config.cwd : _f?.uri.fsPath ?? '';
      for (const [what, file] of [['program', config.program], ['scenario', config.scenario]] as const) {
        try {
          checkRegularFile(path.resolve(base, String(file)), what === 'program' ? 'object' : 'scenario', { within: workspaceRoots() });
        } catch (e) {
          void vscode.window.showErrorMessage(`Cannot debug in Restricted Mode: "${what}" ${e instanceof FileReadError ? e.message : String(e)}`);
          return undefined;
        }
      }
    }
    if (!(await this.verifierAllows(config))) return undefined;
    this.ctx.output.info(`debug: ${config.program} with ${config.scenario}${config.compiler ? ` (compiler ${config.compiler})` : ''}${config.ignoreVerifier ? ' (ignoreVerifier)' : ''}`);
    return config;
  }

  /** The verifier's gate (issue 11): a program it rejects is not launched unless the user chooses
   *  Debug Anyway (then ignoreVerifier: the adapter says at the first stop that the kernel would
   *  refuse it). Skipped with ignoreVerifier set or bpfSockops.verifier.checkBeforeDebug off. */
  private async verifierAllows(config: vscode.DebugConfiguration): Promise<boolean> {
    if (config.ignoreVerifier === true || !this.verifier || !this.ctx.config.verifierBeforeDebug) return true;
    const h = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Verifying ${path.basename(String(config.program))}` },
      () => this.verifier!.verify(String(config.program), typeof config.compiler === 'string' ? { path: config.compiler, args: (config.compilerArgs as string[] | undefined) ?? [] } : undefined));
    const refusal = h && launchRefusal(h);
    if (!refusal) return true;
    this.ctx.output.warn(`${refusal.message}\n${refusal.detail}`);
    const a = await vscode.window.showErrorMessage(refusal.message, { modal: true, detail: refusal.detail }, 'Debug Anyway', 'Show Verifier Log');
    if (a === 'Show Verifier Log') await vscode.commands.executeCommand('bpfSockops.showVerifierLog', vscode.Uri.file(String(config.program)));
    if (a !== 'Debug Anyway') return false;
    config.ignoreVerifier = true;
    return true;
  }
}

/** "Run and Debug" drop-down: one entry per scenario file in the workspace. */
class DynamicProvider implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(): Promise<vscode.DebugConfiguration[]> {
    const out = await Promise.all((await findScenarios()).map((s) => configForScenario(s.uri, undefined, true)));
    return out.filter((c): c is LaunchConfig => !!c);
  }
}
