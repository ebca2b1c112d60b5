// "Explore this scenario" (issue 14): the search of debugger/explore in a worker, with progress
// and Cancel; the minimized counterexample scenario opens when one is found. Compiling a .c
// program needs a trusted workspace; untrusted, the scenario and its .o are read only from
// inside the workspace (as runs are).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Ctx } from './ctx';
import { checkRegularFile, FileReadError } from '../io/files';
import { findScenarios, isScenarioUri, pickScenario, readScenario } from './scenarios';
import { logCompiler, workspaceRoots } from './runOptions';
import { startTask } from './taskWorker';
import { summarizeExplore } from './exploreText';
import type { ExploreTaskOptions } from './hookTasks';

export function registerExplore(ctx: Ctx, bundle: string | undefined): void {
  ctx.command('bpfSockops.exploreScenario', async (arg?: unknown) => {
    let uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!uri || !isScenarioUri(uri)) uri = (await pickScenario(await findScenarios(), 'Scenario to explore'))?.uri;
    if (!uri) return undefined;
    if (uri.scheme !== 'file') { void vscode.window.showErrorMessage('Explore works on scenario files on disk.'); return undefined; }
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri!.toString());
    if (open?.isDirty) await open.save();
    const s = await readScenario(uri);
    const opts: ExploreTaskOptions = { profile: ctx.config.kernelProfile }; // as runs do
    if (s.program && /\.c$/i.test(s.program)) {
      const cc = ctx.config.compiler();
      if (!cc.path) { void vscode.window.showErrorMessage(`Cannot explore ${path.basename(uri.fsPath)}: its program ${path.basename(s.program)} must be compiled, and ${cc.reason}.`); return undefined; }
      logCompiler(ctx, cc, s.program);
      opts.compiler = cc.path;
      opts.compilerArgs = cc.args;
    } else if (!ctx.config.trusted) {
      try {
        checkRegularFile(uri.fsPath, 'scenario', { within: workspaceRoots() });
        if (s.program) opts.program = checkRegularFile(s.program, 'object', { within: workspaceRoots() });
      } catch (e) {
        void vscode.window.showErrorMessage(`Cannot explore ${path.basename(uri.fsPath)} in Restricted Mode: ${e instanceof FileReadError ? e.message : String(e)}`);
        return undefined;
      }
    }
    const rel = vscode.workspace.asRelativePath(uri);
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Exploring ${rel}`, cancellable: true }, (progress, token) => {
      progress.report({ message: 'trying deliveries (split, coalesced, reordered, retransmitted segments; recv sizes)\u2026' });
      const task = startTask(bundle, 'explore', uri!.fsPath, opts);
      token.onCancellationRequested(() => task.cancel());
      return task.result;
    });
    if (outcome.error || !outcome.report) {
      ctx.output.error(`explore ${rel}: ${outcome.error}`);
      void vscode.window.showErrorMessage(`Explore ${rel}: ${outcome.error ?? 'no report'}`);
      return outcome;
    }
    const sum = summarizeExplore(outcome.report);
    ctx.output.info(sum.log.join('\n'));
    if (sum.open) {
      const doc = await vscode.workspace.openTextDocument(sum.open);
      await vscode.window.showTextDocument(doc, { preview: false });
      void vscode.window.showErrorMessage(sum.message, 'Debug It', 'Show Output').then(async (a) => {
        if (a === 'Debug It') await vscode.commands.executeCommand('bpfSockops.debugScenario', vscode.Uri.file(sum.open!));
        if (a === 'Show Output') ctx.output.show(true);
      });
    } else void (sum.failed ? vscode.window.showWarningMessage(sum.message) : vscode.window.showInformationMessage(sum.message));
    return outcome.report;
  });
}
