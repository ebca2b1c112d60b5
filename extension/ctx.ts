// The one object every feature gets: the extension context, settings, the output channel, the
// language client once it runs, and the disposables to clean up (rust-analyzer's Ctx pattern).
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { Config } from './config';

export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly output: vscode.LogOutputChannel;
  client: LanguageClient | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('BPF sock_ops', { log: true });
    this.push(this.output);
  }

  push(...d: vscode.Disposable[]): void { this.subscriptions.push(...d); }

  /** Path of a file shipped in the extension (dist/server.js, dist/cli.js). */
  asset(rel: string): string { return this.extension.asAbsolutePath(rel); }

  command(id: string, run: (...args: any[]) => unknown): void {
    this.push(vscode.commands.registerCommand(id, async (...args: any[]) => {
      try { return await run(...args); } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        this.output.error(`${id}: ${e instanceof Error && e.stack ? e.stack : msg}`);
        void vscode.window.showErrorMessage(`BPF sock_ops: ${msg}`);
      }
    }));
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0).reverse()) { try { d.dispose(); } catch { /* keep disposing the rest */ } }
  }
}
