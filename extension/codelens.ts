// "Debug with scenario…" and "Run scenario…" above each SEC("sockops") program.
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { findBpfPrograms, isSockOpsSection, looksLikeBpfSource } from './bpfSource';

export function registerCodeLens(ctx: Ctx): void {
  const changed = new vscode.EventEmitter<void>();
  ctx.push(changed, vscode.workspace.onDidChangeConfiguration((e) => { if (ctx.config.affects(e, 'codeLens.enable')) changed.fire(); }));
  ctx.push(vscode.languages.registerCodeLensProvider({ language: 'c', scheme: 'file' }, {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses(doc) {
      if (!ctx.config.codeLens) return [];
      const text = doc.getText();
      if (!looksLikeBpfSource(doc.fileName, text)) return [];
      return findBpfPrograms(text).filter((p) => isSockOpsSection(p.section)).flatMap((p) => {
        const range = new vscode.Range(p.line, 0, p.line, 0);
        return [
          new vscode.CodeLens(range, { title: '$(debug-alt) Debug with scenario\u2026', command: 'bpfSockops.debugScenario', arguments: [doc.uri, p.name], tooltip: `Step ${p.name} through a scenario in the emulator` }),
          new vscode.CodeLens(range, { title: '$(graph-line) Run scenario\u2026', command: 'bpfSockops.showTimeline', arguments: [doc.uri, p.name], tooltip: `Run a scenario against ${p.name} and plot rcvlowat, readable bytes and wakeups` }),
        ];
      });
    },
  }));
}
