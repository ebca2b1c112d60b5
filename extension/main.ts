// Entry point: builds the context and registers each feature. No logic here.
import * as vscode from 'vscode';
import { Ctx } from './ctx';
import { applyTrace, startClientWhenNeeded, restartClient } from './client';
import { registerDebugger } from './debug';
import { registerCodeLens } from './codelens';
import { registerCommands } from './commands';
import { registerTesting } from './testing';
import { registerSimBackend } from './simBackend';
import { registerStarting } from './starting';
import { registerExplore } from './explore';
import { registerVerifyOnSave } from './verifyOnSave';

export { runScenarioDirect } from './simBackend'; // the scenario worker's entry (./runWorker)
export { hookTask } from './taskWorker'; // the explore/verify worker's entry (./taskWorker)

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext) {
  const t0 = performance.now();
  ctx = new Ctx(context);
  context.subscriptions.push(ctx);
  registerSimBackend(context.asAbsolutePath('dist/extension.js'));
  registerCommands(ctx);
  const bundle = context.asAbsolutePath('dist/extension.js');
  const verifier = registerVerifyOnSave(ctx, bundle);
  registerDebugger(ctx, verifier);
  registerCodeLens(ctx);
  registerTesting(ctx);
  registerStarting(ctx);
  registerExplore(ctx, bundle);
  startClientWhenNeeded(ctx);
  const c = ctx;
  ctx.push(vscode.workspace.onDidGrantWorkspaceTrust(() => { if (c.client) void restartClient(c); }));
  // The server reads these once, at initialize: restart it when their value really changes.
  const serverKey = () => JSON.stringify([c.config.kernelProfile, c.config.includePaths]);
  let lastKey = serverKey();
  ctx.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (c.config.affects(e, 'server.trace')) applyTrace(c);
    if (!c.config.affects(e, 'kernelProfile') && !c.config.affects(e, 'includePaths')) return;
    const key = serverKey();
    if (key !== lastKey && c.client) void restartClient(c);
    lastKey = key;
  }));
  void vscode.commands.executeCommand('setContext', 'bpfSockops.active', true);
  const ms = performance.now() - t0;
  ctx.output.info(`activated in ${ms.toFixed(1)} ms (${context.extensionMode === vscode.ExtensionMode.Production ? 'production' : 'development'}, ${vscode.workspace.isTrusted ? 'trusted' : 'Restricted Mode'})`);
  return { activationMs: ms };
}

export function deactivate(): Thenable<void> | undefined {
  const c = ctx;
  ctx = undefined;
  const stop = c?.client?.stop();
  c?.dispose();
  return stop;
}
