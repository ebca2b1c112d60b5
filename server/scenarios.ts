// Scenario files in the editor: diagnostics for `*.scenario.json` documents (what `bpf-sockops
// run` would refuse, a missing program file, programs the object or C file does not have),
// refreshed when the scenario or an open C file changes. The checks are ./analysis/scenariocheck.ts.
import type { Connection, TextDocuments } from 'vscode-languageserver/node';
import { DiagnosticSeverity } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkScenario } from './analysis/scenariocheck';
import { SOURCE } from './codes';

export const isScenarioDocument = (uri: string) => /\.scenario\.json$/i.test(uri);

export function registerScenarioChecks(connection: Connection, documents: TextDocuments<TextDocument>, profile: () => string | undefined): void {
  const read = (file: string): string | undefined => {
    const open = documents.get(pathToFileURL(file).href);
    if (open) return open.getText();
    try { return readFileSync(file, 'utf8'); } catch { return undefined; }
  };
  const check = (doc: TextDocument) => {
    if (!doc.uri.startsWith('file:')) return;
    let findings;
    try {
      findings = checkScenario(doc.getText(), fileURLToPath(doc.uri), { read }, profile());
    } catch (e) {
      connection.console.error(`bpf-sockops: scenario check of ${doc.uri}: ${(e as Error).message}`);
      return;
    }
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: findings.map((f) => ({
      range: { start: { line: f.line, character: f.character }, end: { line: f.endLine, character: f.endCharacter } },
      severity: f.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      code: f.code, source: SOURCE, message: f.message,
    })) });
  };
  const recheckAll = () => { for (const d of documents.all()) if (isScenarioDocument(d.uri)) check(d); };
  // (TextDocuments fires onDidChangeContent on open too.)
  documents.onDidChangeContent((e) => { if (isScenarioDocument(e.document.uri)) check(e.document); });
  // A hook's functions were renamed (typed in an open C file, or saved) or its object rebuilt
  // (watched files): the scenarios naming them change too. Typing is debounced.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = () => { if (timer) clearTimeout(timer); timer = setTimeout(() => { timer = undefined; recheckAll(); }, 300); };
  documents.onDidChangeContent((e) => { if (!isScenarioDocument(e.document.uri)) later(); });
  documents.onDidSave((e) => { if (!isScenarioDocument(e.document.uri)) recheckAll(); });
  documents.onDidClose((e) => { if (isScenarioDocument(e.document.uri)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] }); });
  connection.onDidChangeWatchedFiles(() => recheckAll());
}
