// Scenario files in the Testing view: one test item per *.scenario.json, one child per `expect`
// step (at its line). Run: the emulator runs the scenario; a failed expect is reported at its step
// with expected/actual values. Debug: starts the debugger on the scenario.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Ctx } from './ctx';
import { isScenarioUri, readScenario, SCENARIO_GLOB, stepRange, type ScenarioFile } from './scenarios';
import { runScenario, formatRun, type ScenarioRun } from './run';
import { runOptions } from './runOptions';
import { configForScenario } from './debug';

const stem = (p: string) => path.resolve(p).replace(/\.(c|o)$/i, '');

export function registerTesting(ctx: Ctx): vscode.TestController {
  const ctrl = vscode.tests.createTestController('bpfSockops', 'BPF sock_ops scenarios');
  ctx.push(ctrl);

  /** Scenario item id -> absolute path of its program (to find the results a hook's save outdates). */
  const programs = new Map<string, string | undefined>();
  const upsert = async (uri: vscode.Uri) => {
    let s: ScenarioFile;
    try { s = await readScenario(uri); } catch { ctrl.items.delete(uri.toString()); return; }
    programs.set(uri.toString(), s.program);
    let file = ctrl.items.get(uri.toString());
    if (!file) {
      file = ctrl.createTestItem(uri.toString(), path.basename(uri.fsPath), uri);
      const dir = path.dirname(vscode.workspace.asRelativePath(uri, false));
      if (dir !== '.') file.description = dir;
      ctrl.items.add(file);
    }
    file.range = new vscode.Range(0, 0, 0, 0);
    file.error = s.outline.errors.length ? `JSON error at line ${s.outline.errors[0]!.span.line + 1}: ${s.outline.errors[0]!.message}` : undefined;
    const children = s.outline.steps.filter((st) => st.kind === 'expect').map((st) => {
      const item = ctrl.createTestItem(`${uri.toString()}#${st.index}`, `step ${st.index}: ${st.summary}`, uri);
      item.range = stepRange(s, st.index);
      return item;
    });
    file.children.replace(children);
  };

  ctrl.resolveHandler = async (item) => {
    if (item) return;
    const watcher = vscode.workspace.createFileSystemWatcher(SCENARIO_GLOB);
    ctx.push(watcher, watcher.onDidCreate(upsert), watcher.onDidChange(upsert), watcher.onDidDelete((u) => ctrl.items.delete(u.toString())));
    for (const uri of await vscode.workspace.findFiles(SCENARIO_GLOB, '**/node_modules/**', 500)) await upsert(uri);
  };
  ctrl.refreshHandler = async () => { ctrl.items.replace([]); for (const uri of await vscode.workspace.findFiles(SCENARIO_GLOB, '**/node_modules/**', 500)) await upsert(uri); };
  ctx.push(vscode.workspace.onDidChangeTextDocument((e) => { if (isScenarioUri(e.document.uri) && ctrl.items.get(e.document.uri.toString())) void upsert(e.document.uri); }));

  // Results go stale: saving a scenario, its hook (.c, .o) or a header, or changing a setting marks
  // the results they came from outdated (the editor stops showing old failures as current).
  const outdate = (uri: vscode.Uri) => {
    const stale: vscode.TestItem[] = [];
    const header = /\.h$/i.test(uri.fsPath);
    ctrl.items.forEach((it) => {
      const prog = programs.get(it.id);
      if (it.id === uri.toString() || header || (prog && (path.resolve(prog) === path.resolve(uri.fsPath) || stem(prog) === stem(uri.fsPath)))) stale.push(it);
    });
    for (const it of stale) ctrl.invalidateTestResults(it);
  };
  ctx.push(vscode.workspace.onDidSaveTextDocument((d) => outdate(d.uri)));
  const objects = vscode.workspace.createFileSystemWatcher('**/*.o');
  ctx.push(objects, objects.onDidChange(outdate), objects.onDidCreate(outdate));
  ctx.push(vscode.workspace.onDidChangeConfiguration((e) => { if (ctx.config.affects(e)) ctrl.invalidateTestResults(); }));

  /** The file items a request covers (a step item stands for its file: a scenario runs as a whole). */
  const filesOf = (req: vscode.TestRunRequest) => {
    const seen = new Map<string, vscode.TestItem>();
    const add = (it: vscode.TestItem) => { const f = it.parent ?? it; if (!req.exclude?.includes(f)) seen.set(f.id, f); };
    if (req.include) req.include.forEach(add); else ctrl.items.forEach(add);
    return [...seen.values()];
  };

  ctrl.createRunProfile('Run scenario', vscode.TestRunProfileKind.Run, async (req, token) => {
    const run = ctrl.createTestRun(req);
    try {
      for (const file of filesOf(req)) {
        if (token.isCancellationRequested) break;
        const only = req.include?.filter((i) => i.parent === file).map((i) => i.id);
        await runFile(ctx, run, file, only && only.length ? new Set(only) : undefined);
      }
    } finally { run.end(); }
  }, true);

  ctrl.createRunProfile('Debug scenario', vscode.TestRunProfileKind.Debug, async (req, token) => {
    const run = ctrl.createTestRun(req, 'debug', false);
    try {
      for (const file of filesOf(req)) {
        if (token.isCancellationRequested || !file.uri) break;
        const cfg = await configForScenario(file.uri);
        if (!cfg) { run.skipped(file); continue; }
        run.started(file);
        const ended = new Promise<void>((resolve) => {
          const d = vscode.debug.onDidTerminateDebugSession(() => { d.dispose(); resolve(); });
          token.onCancellationRequested(() => { d.dispose(); resolve(); });
        });
        if (!(await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(file.uri), cfg, { testRun: run }))) { run.errored(file, new vscode.TestMessage('the debug session did not start')); continue; }
        await ended;
        run.skipped(file); // a debug session shows the steps; pass/fail comes from a Run
      }
    } finally { run.end(); }
  }, false);

  return ctrl;
}

async function runFile(ctx: Ctx, run: vscode.TestRun, file: vscode.TestItem, only?: Set<string>): Promise<void> {
  const uri = file.uri!;
  const children: vscode.TestItem[] = [];
  file.children.forEach((c) => { if (!only || only.has(c.id)) children.push(c); });
  run.started(file);
  children.forEach((c) => run.started(c));
  const t0 = Date.now();
  let result: ScenarioRun;
  try {
    result = await runScenario(uri.fsPath, runOptions(ctx));
  } catch (e) {
    run.errored(file, new vscode.TestMessage(e instanceof Error ? e.message : String(e)));
    children.forEach((c) => run.skipped(c));
    return;
  }
  run.appendOutput(formatRun(result).join('\r\n') + '\r\n', undefined, file);
  const s = await readScenario(uri);
  const loc = (step: number) => { const r = stepRange(s, step); return r ? new vscode.Location(uri, r) : undefined; };
  for (const c of children) {
    const index = Number(c.id.slice(c.id.lastIndexOf('#') + 1));
    const st = result.steps.find((x) => x.index === index);
    if (!st) {
      const m = new vscode.TestMessage(result.error ? `not reached: ${result.error.message}` : 'the run did not reach this step');
      m.location = loc(result.error?.step ?? index);
      run.errored(c, m);
    } else if (st.expect?.ok) run.passed(c);
    else {
      const f = st.expect?.failures ?? [];
      const m = new vscode.TestMessage(f.length ? f.map((x) => x.text).join('\n') : 'expectation failed');
      const split = f.filter((x) => x.key !== undefined);
      if (split.length) { m.expectedOutput = split.map((x) => `${x.key} = ${x.expected}`).join('\n'); m.actualOutput = split.map((x) => `${x.key} = ${x.actual}`).join('\n'); }
      m.location = loc(index);
      run.failed(c, m);
    }
  }
  if (result.error) {
    const m = new vscode.TestMessage(result.error.message);
    m.location = loc(result.error.step ?? 0);
    run.errored(file, m, Date.now() - t0);
  } else if (result.failed > 0) run.failed(file, new vscode.TestMessage(`${result.failed} expect step(s) failed`), Date.now() - t0);
  else run.passed(file, Date.now() - t0);
}
