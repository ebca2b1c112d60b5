// The timeline webview: one panel per scenario file, re-run when the scenario or its program is
// saved; clicking a step reveals it in the scenario file.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../ctx';
import { timelineHtml, debugTarget } from './html';
import { configForScenario } from '../debug';
import { formatRun, runScenario, type ScenarioRun } from '../run';
import { readScenario, revealStep } from '../scenarios';
import { runOptions } from '../runOptions';

const panels = new Map<string, TimelinePanel>();

export class TimelinePanel {
  private readonly panel: vscode.WebviewPanel;
  private lastRun: ScenarioRun | undefined;

  /** `program`: run this hook (a .c is compiled when the workspace is trusted) instead of the
   *  scenario's own program; the panel then follows saves of that file. */
  static async show(ctx: Ctx, scenario: vscode.Uri, program?: string): Promise<TimelinePanel> {
    const key = `${scenario.toString()}|${program ?? ''}`;
    let p = panels.get(key);
    if (!p) { p = new TimelinePanel(ctx, scenario, key, program); panels.set(key, p); } else p.panel.reveal(vscode.ViewColumn.Beside, true);
    await p.refresh();
    return p;
  }

  static refreshFor(saved: vscode.Uri): void {
    for (const p of panels.values()) void p.refreshIfDepends(saved);
  }

  private constructor(private readonly ctx: Ctx, readonly scenario: vscode.Uri, key: string, readonly program?: string) {
    const title = `Timeline: ${path.basename(scenario.fsPath)}${program ? ` \u25b8 ${path.basename(program)}` : ''}`;
    this.panel = vscode.window.createWebviewPanel('bpfSockops.timeline', title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: false });
    this.panel.onDidDispose(() => panels.delete(key));
    this.panel.webview.onDidReceiveMessage((m: { type?: string; step?: unknown }) => {
      if (m?.type === 'reveal' && typeof m.step === 'number') void revealStep(this.scenario, m.step);
      if (m?.type === 'debug' && typeof m.step === 'number') void this.debugFrom(m.step);
    });
  }

  get run(): ScenarioRun | undefined { return this.lastRun; }

  /** "Debug from this step": the debugger runs the scenario to the first program run of scenario
   *  step `index` (or the next step that runs one) and stops there, through a function breakpoint
   *  on that program with the condition `step == N` (the debugger numbers steps as the timeline
   *  and `bpf-sockops run` do), removed when the session ends. */
  async debugFrom(index: number): Promise<boolean> {
    const target = this.lastRun && debugTarget(this.lastRun, index);
    if (!target) { void vscode.window.showInformationMessage(`No program runs at step ${index} or after it in ${path.basename(this.scenario.fsPath)}: nothing to stop at.`); return false; }
    const cfg = await configForScenario(this.scenario, this.program);
    if (!cfg) return false;
    const bp = new vscode.FunctionBreakpoint(target.program, true, `step == ${target.step}`);
    vscode.debug.addBreakpoints([bp]);
    const done = vscode.debug.onDidTerminateDebugSession(() => { done.dispose(); vscode.debug.removeBreakpoints([bp]); });
    this.ctx.output.info(`debug ${path.basename(this.scenario.fsPath)} from step ${target.step}: breakpoint on ${target.program}() when step == ${target.step}`);
    const ok = await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(this.scenario), cfg);
    if (!ok) { done.dispose(); vscode.debug.removeBreakpoints([bp]); }
    return ok;
  }

  async refresh(): Promise<void> {
    const rel = vscode.workspace.asRelativePath(this.scenario);
    let run: ScenarioRun;
    try {
      run = await runScenario(this.scenario.fsPath, runOptions(this.ctx, this.program));
    } catch (e) {
      run = { scenario: this.scenario.fsPath, steps: [], passed: 0, failed: 0, error: { message: e instanceof Error ? e.message : String(e) } };
    }
    this.lastRun = run;
    this.ctx.output.info(`timeline ${rel}:\n${formatRun(run).join('\n')}`);
    this.panel.webview.html = timelineHtml({ title: `Scenario timeline \u2014 ${rel}${this.program ? ` with ${vscode.workspace.asRelativePath(this.program)}` : ''}`, run, cspSource: this.panel.webview.cspSource, nonce: randomBytes(16).toString('base64') });
  }

  private async refreshIfDepends(saved: vscode.Uri): Promise<void> {
    if (saved.toString() === this.scenario.toString()) return this.refresh();
    if (this.program && path.resolve(this.program) === path.resolve(saved.fsPath)) return this.refresh();
    const s = await readScenario(this.scenario).catch(() => undefined);
    if (s?.program && path.resolve(s.program) === path.resolve(saved.fsPath)) return this.refresh();
  }
}
