// Commands, each a small factory over the context. A command takes a scenario or a hook URI (from a
// code lens, the explorer or the editor title) or falls back to the active editor, then to a pick.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Ctx } from './ctx';
import { explainNoScenario, findScenarios, isScenarioUri, pickScenario, scenariosForHook } from './scenarios';
import { configForScenario } from './debug';
import { TimelinePanel } from './timeline/panel';
import { formatRun, runScenario } from './run';
import { runOptions } from './runOptions';
import { restartClient } from './client';

/** A scenario to act on: the argument if it is one, else a scenario of the hook (.c or .o) given
 *  or in the editor (`hook` is then that file), else a pick among all scenarios. */
async function scenarioFor(arg: unknown, func?: string): Promise<{ scenario: vscode.Uri; hook?: string } | undefined> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (uri && isScenarioUri(uri)) return { scenario: uri };
  if (uri && /\.(c|o)$/i.test(uri.fsPath)) {
    const pick = await pickScenario(await scenariosForHook(uri.fsPath, func), `Scenario for ${path.basename(uri.fsPath)}${func ? ` (${func})` : ''}`);
    if (!pick) { void explainNoScenario(uri.fsPath, func); return undefined; }
    return { scenario: pick.uri, hook: uri.fsPath };
  }
  const pick = await pickScenario(await findScenarios(), 'Scenario');
  return pick && { scenario: pick.uri };
}

export function registerCommands(ctx: Ctx): void {
  ctx.command('bpfSockops.runScenario', async (arg?: unknown) => {
    const t = await scenarioFor(arg);
    if (!t) return;
    const rel = vscode.workspace.asRelativePath(t.scenario);
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Running ${rel}` }, () => runScenario(t.scenario.fsPath, runOptions(ctx)));
    ctx.output.info(`run ${rel}:\n${formatRun(r).join('\n')}`);
    const msg = `${rel}: ${r.passed} passed, ${r.failed} failed${r.error ? ` \u2014 ${r.error.message}` : ''}`;
    const act = await (r.failed || r.error ? vscode.window.showErrorMessage(msg, 'Show Timeline', 'Show Output') : vscode.window.showInformationMessage(msg, 'Show Timeline'));
    if (act === 'Show Timeline') await TimelinePanel.show(ctx, t.scenario);
    if (act === 'Show Output') ctx.output.show(true);
    return r;
  });

  ctx.command('bpfSockops.showTimeline', async (arg?: unknown, func?: string) => {
    const t = await scenarioFor(arg, typeof func === 'string' ? func : undefined);
    // from a hook: plot that hook (compiled) when the workspace allows a compiler, else the scenario's object
    const program = t?.hook && (/\.o$/i.test(t.hook) || ctx.config.compiler().path) ? t.hook : undefined;
    if (t) return (await TimelinePanel.show(ctx, t.scenario, program)).run;
  });

  ctx.command('bpfSockops.debugScenario', async (arg?: unknown, func?: string) => {
    const t = await scenarioFor(arg, typeof func === 'string' ? func : undefined);
    if (!t) return;
    const cfg = await configForScenario(t.scenario, t.hook);
    if (cfg) return vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(t.scenario), cfg);
  });

  ctx.command('bpfSockops.restartServer', () => restartClient(ctx));
  ctx.command('bpfSockops.showOutput', () => ctx.output.show(true));

  ctx.push(vscode.workspace.onDidSaveTextDocument((d) => TimelinePanel.refreshFor(d.uri)));
}
