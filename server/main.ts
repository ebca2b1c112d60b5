// The bpf-sockops language server (the only LSP-speaking file): capabilities, document sync,
// validation, hover, completion, signature help, code actions. The analysis is in ./analysis/.
// Started by the extension as `node dist/server.js --stdio`; runs beside clangd, never instead.
import {
  createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind, DiagnosticSeverity,
  CompletionItemKind, MarkupKind, CodeActionKind, type Diagnostic, type InitializeParams,
  type InitializeResult, type CompletionItem, type CodeAction,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DocumentAnalyzer, positioned, type Analysis } from './analysis/engine';
import { PREVIEW, previewMismatch, type Preview } from './analysis/preview';
import { complete, hover, quickFixes, signature, type ItemKind } from './analysis/features';
import { SOURCE } from './codes';
import { serverTransport } from './transport';
import { registerNavigation, NAV_CAPABILITIES, type NavSettings } from './navigation';
import { registerScenarioChecks, isScenarioDocument } from './scenarios';

const transport = serverTransport();
const connection = transport ? createConnection(ProposedFeatures.all, ...transport) : createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

interface Settings extends NavSettings { profile?: string; wasmDir?: string }
let settings: Settings = process.env.BPF_SOCKOPS_PROFILE ? { profile: process.env.BPF_SOCKOPS_PROFILE } : {};
const argWasm = process.argv.indexOf('--wasm-dir');
if (argWasm > 0 && process.argv[argWasm + 1]) settings.wasmDir = process.argv[argWasm + 1];

// ------------------------------------------------------------------------------ capabilities

connection.onInitialize((params: InitializeParams): InitializeResult => {
  const opts = (params.initializationOptions ?? {}) as Settings;
  settings = { ...settings, ...opts };
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['>', '_'] },
      signatureHelpProvider: { triggerCharacters: ['(', ','] },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      ...NAV_CAPABILITIES,
    },
    serverInfo: { name: 'bpf-sockops', version: '0.1.0' },
  };
});

// ------------------------------------------------------------------------------ document sync

/** One analyzer per open document; work on a document is serialised through `chain`. */
interface Open { analyzer: Promise<DocumentAnalyzer>; chain: Promise<unknown>; analysis?: Analysis; version: number }
const open = new Map<string, Open>();

function entry(uri: string): Open {
  let e = open.get(uri);
  if (!e) {
    e = { analyzer: DocumentAnalyzer.create(settings), chain: Promise.resolve(), version: -1 };
    open.set(uri, e);
  }
  return e;
}

/** The analysis of the document's current text (waits for pending work). */
async function current(uri: string): Promise<Analysis | undefined> {
  const doc = documents.get(uri);
  const e = open.get(uri);
  if (!doc || !e) return undefined;
  await e.chain;
  if (e.version !== doc.version) await validate(doc);
  return e.analysis;
}

// ------------------------------------------------------------------------------ validation

const severity: Record<string, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

function diagnosticsOf(a: Analysis, uri: string): Diagnostic[] {
  return positioned(a).map((f) => ({
    range: f.range,
    severity: severity[f.severity],
    code: f.code,
    source: SOURCE,
    message: f.message,
    relatedInformation: f.relatedRanges.map((r) => ({ location: { uri, range: r.range }, message: r.message })),
  }));
}

function validate(doc: TextDocument): Promise<unknown> {
  if (isScenarioDocument(doc.uri)) return Promise.resolve(); // ./scenarios.ts checks those
  const e = entry(doc.uri);
  e.chain = e.chain.then(async () => {
    const latest = documents.get(doc.uri);
    if (!latest || open.get(doc.uri) !== e) return;
    if (e.version === latest.version && e.analysis) return;
    let a: Analysis;
    let preview: Preview | undefined;
    try {
      const analyzer = await e.analyzer;
      const text = latest.getText();
      // A large file's first analysis: the findings of its first functions go out at once
      // (./analysis/preview.ts), then the whole file's, a superset that replaces them.
      if (!e.analysis && text.length >= PREVIEW.minLines * 8) { // (the preview counts the lines)
        preview = analyzer.preview(text, latest.uri);
        if (preview) {
          await connection.sendDiagnostics({ uri: latest.uri, version: latest.version, diagnostics: diagnosticsOf(preview.analysis, latest.uri) });
          await new Promise((r) => setImmediate(r)); // let the frame leave before the long analysis
        }
      }
      a = analyzer.update(text, latest.uri);
    } catch (err) {
      connection.console.error(`bpf-sockops: ${(err as Error).message}`);
      return;
    }
    e.analysis = a;
    e.version = latest.version;
    if (preview) {
      const wrong = previewMismatch(preview, a);
      if (wrong) connection.console.error(`bpf-sockops: the first diagnostics of ${latest.uri} differed from the whole analysis (${wrong}); please report it with the file attached.`);
    }
    await connection.sendDiagnostics({ uri: latest.uri, version: latest.version, diagnostics: diagnosticsOf(a, latest.uri) });
  }).catch((err) => connection.console.error(`bpf-sockops: ${(err as Error).message}`));
  return e.chain;
}

documents.onDidOpen((ev) => void validate(ev.document));
// Edits coalesce: only the latest version is analysed, once typing pauses (a request such as hover
// analyses at once through current()); 1,000 fast edits are one analysis, not 1,000.
const CHANGE_DELAY_MS = 75;
const pendingChange = new Map<string, NodeJS.Timeout>();
documents.onDidChangeContent((ev) => {
  const uri = ev.document.uri;
  clearTimeout(pendingChange.get(uri));
  pendingChange.set(uri, setTimeout(() => { pendingChange.delete(uri); const d = documents.get(uri); if (d) void validate(d); }, CHANGE_DELAY_MS));
});
documents.onDidClose((ev) => {
  const e = open.get(ev.document.uri);
  open.delete(ev.document.uri);
  if (e) void e.chain.then(async () => (await e.analyzer).dispose()).catch(() => undefined);
  void connection.sendDiagnostics({ uri: ev.document.uri, diagnostics: [] });
});

// ------------------------------------------------------------------------------ hover

connection.onHover(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  const a = await current(p.textDocument.uri);
  if (!doc || !a) return null;
  const h = hover(a, doc.offsetAt(p.position));
  if (!h) return null;
  return { contents: { kind: MarkupKind.Markdown, value: h.markdown }, range: { start: doc.positionAt(h.start), end: doc.positionAt(h.end) } };
});

// ------------------------------------------------------------------------------ completion

const kinds: Record<ItemKind, CompletionItemKind> = {
  field: CompletionItemKind.Field,
  function: CompletionItemKind.Function,
  enumMember: CompletionItemKind.EnumMember,
  constant: CompletionItemKind.Constant,
};

connection.onCompletion(async (p): Promise<CompletionItem[]> => {
  const doc = documents.get(p.textDocument.uri);
  const a = await current(p.textDocument.uri);
  if (!doc || !a) return [];
  return complete(a, doc.offsetAt(p.position)).map((c) => ({
    label: c.label, kind: kinds[c.kind], detail: c.detail, sortText: c.sortText,
    documentation: { kind: MarkupKind.Markdown, value: c.documentation },
  }));
});

// ------------------------------------------------------------------------------ signature help

connection.onSignatureHelp(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  const a = await current(p.textDocument.uri);
  if (!doc || !a) return null;
  const s = signature(a, doc.offsetAt(p.position));
  if (!s) return null;
  return {
    signatures: [{ label: s.label, documentation: { kind: MarkupKind.Markdown, value: s.documentation },
      parameters: s.parameters.map((x) => ({ label: x.label, documentation: x.documentation })) }],
    activeSignature: 0,
    activeParameter: s.activeParameter,
  };
});

// ------------------------------------------------------------------------------ code actions

connection.onCodeAction(async (p): Promise<CodeAction[]> => {
  const doc = documents.get(p.textDocument.uri);
  const a = await current(p.textDocument.uri);
  if (!doc || !a) return [];
  return quickFixes(a, doc.offsetAt(p.range.start), doc.offsetAt(p.range.end)).map((q) => ({
    title: q.title,
    kind: CodeActionKind.QuickFix,
    diagnostics: p.context.diagnostics.filter((d) => d.code === q.code && doc.offsetAt(d.range.start) === q.finding.start),
    edit: { changes: { [doc.uri]: q.edits.map((e) => ({ range: { start: doc.positionAt(e.start), end: doc.positionAt(e.end) }, newText: e.newText })) } },
  }));
});

registerNavigation(connection, documents, current, () => settings);
registerScenarioChecks(connection, documents, () => settings.profile);

documents.listen(connection);
connection.listen();
