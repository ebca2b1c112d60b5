// The language client: started lazily, the first time a C file that holds a BPF program is open,
// and only such files are sent to the server (the middleware filter), so the C/C++ extension or
// clangd keep every other C file to themselves. Our diagnostics carry their own source, bpf-sockops.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import type { LanguageClient, LanguageClientOptions, Middleware, ServerOptions } from 'vscode-languageclient/node';
import type { Ctx } from './ctx';
import { looksLikeBpfSource } from './bpfSource';

const isC = (d: vscode.TextDocument) => d.languageId === 'c' && (d.uri.scheme === 'file' || d.uri.scheme === 'untitled');
/** Scenario files go to the server too (their checks: server/scenarios.ts). */
const isScenarioDoc = (d: { uri: vscode.Uri }) => d.uri.scheme === 'file' && d.uri.path.endsWith('.scenario.json');
/** The scheme of the read-only headers generated from the table (server/navigation.ts). */
export const TABLE_SCHEME = 'bpf-sockops-table';
export const CLANGD_ID = 'llvm-vs-code-extensions.vscode-clangd';
export const isBpfDocument = (d: vscode.TextDocument) => isC(d) && looksLikeBpfSource(d.fileName, d.getText());

/** Starts the server now if a BPF C file is open, else as soon as one is opened or typed into. */
export function startClientWhenNeeded(ctx: Ctx): void {
  if (vscode.workspace.textDocuments.some(isBpfDocument)) { void startClient(ctx); return; }
  const watchers: vscode.Disposable[] = [];
  const trigger = (d: vscode.TextDocument) => {
    if (ctx.client || !isBpfDocument(d)) return;
    watchers.forEach((w) => w.dispose());
    void startClient(ctx);
  };
  watchers.push(vscode.workspace.onDidOpenTextDocument(trigger), vscode.workspace.onDidChangeTextDocument((e) => trigger(e.document)));
  ctx.push(...watchers);
}

let starting: Promise<void> | undefined;

export function startClient(ctx: Ctx): Promise<void> {
  if (ctx.client) return Promise.resolve();
  starting ??= doStart(ctx).finally(() => { starting = undefined; });
  return starting;
}

async function doStart(ctx: Ctx): Promise<void> {
  const module = ctx.asset('dist/server.js');
  if (!fs.existsSync(module)) {
    ctx.output.error(`language server bundle missing: ${module} (run \`npm run build\` in the extension folder)`);
    return;
  }
  // Loaded here, not at activation: the client library is most of the bundle's start-up cost.
  const lc = await import('vscode-languageclient/node');
  const { TransportKind } = lc;
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const synced = new Set<string>();
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'c', scheme: 'file' }, { language: 'c', scheme: 'untitled' }, { scheme: 'file', pattern: '**/*.scenario.json' }],
    diagnosticCollectionName: 'bpf-sockops',
    outputChannel: ctx.output,
    initializationOptions: initOptions(ctx),
    synchronize: { configurationSection: 'bpfSockops', fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{o,c,h}') },
    middleware: bpfOnly(synced, () => client, lc.DidOpenTextDocumentNotification.type),
  };
  const client = new lc.LanguageClient('bpfSockops', 'BPF sock_ops language server', serverOptions, clientOptions);
  ctx.client = client;
  ctx.push(vscode.workspace.registerTextDocumentContentProvider(TABLE_SCHEME, {
    provideTextDocumentContent: async (uri) => (await client.sendRequest<string | null>('bpfSockops/tableDocument', { uri: uri.toString() })) ?? `/* ${uri.path}: not in the sock_ops table of this profile */\n`,
  }));
  ctx.push({ dispose: () => { void client.stop(); } });
  try {
    await client.start();
    await client.setTrace(traceOf(ctx.config.trace));
    void vscode.commands.executeCommand('setContext', 'bpfSockops.serverStarted', true);
    ctx.output.info('language server started');
  } catch (e) {
    ctx.output.error(`language server failed to start: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function restartClient(ctx: Ctx): Promise<void> {
  const old = ctx.client;
  ctx.client = undefined;
  if (old) { try { await old.stop(); } catch { /* already dead */ } }
  await startClient(ctx);
}

function initOptions(ctx: Ctx) {
  // `profile` and `wasmDir` are what server/main.ts reads; the rest is for its future use.
  // tableDocuments: we show `bpf-sockops-table:` documents; clangd: it serves the file's own symbols
  // and C hovers, so the server leaves those to it (no duplicates).
  return { profile: ctx.config.kernelProfile, wasmDir: ctx.asset('dist'), includePaths: ctx.config.includePaths, trusted: ctx.config.trusted,
    tableDocuments: true, clangd: !!vscode.extensions.getExtension(CLANGD_ID) };
}

const traceOf = (t: string) => (t === 'verbose' ? 2 : t === 'messages' ? 1 : 0);

/** bpfSockops.server.trace changed: applies to the running client at once. */
export function applyTrace(ctx: Ctx): void { void ctx.client?.setTrace(traceOf(ctx.config.trace)); }

/** Only C files that hold a BPF program reach the server. A file that becomes one while typed in
 *  (someone adds SEC("sockops")) is opened on the server at that moment, with its whole text. */
function bpfOnly(synced: Set<string>, client: () => LanguageClient, didOpen: typeof import('vscode-languageclient/node').DidOpenTextDocumentNotification.type): Middleware {
  const key = (d: vscode.TextDocument) => d.uri.toString();
  const known = (d: vscode.TextDocument) => synced.has(key(d));
  return {
    didOpen: async (d, next) => { if (!isScenarioDoc(d) && !looksLikeBpfSource(d.fileName, d.getText())) return; synced.add(key(d)); return next(d); },
    didChange: async (e, next) => {
      if (known(e.document)) return next(e);
      if (isScenarioDoc(e.document)) return;
      if (!looksLikeBpfSource(e.document.fileName, e.document.getText())) return;
      synced.add(key(e.document));
      const c = client();
      await c.sendNotification(didOpen, c.code2ProtocolConverter.asOpenTextDocumentParams(e.document));
    },
    didClose: async (d, next) => { if (!synced.delete(key(d))) return; return next(d); },
    didSave: async (d, next) => (known(d) ? next(d) : undefined),
    willSave: async (e, next) => (known(e.document) ? next(e) : undefined),
    provideHover: (d, p, t, next) => (known(d) ? next(d, p, t) : undefined),
    provideCompletionItem: (d, p, c, t, next) => (known(d) ? next(d, p, c, t) : undefined),
    provideSignatureHelp: (d, p, c, t, next) => (known(d) ? next(d, p, c, t) : undefined),
    provideCodeActions: (d, r, c, t, next) => (known(d) ? next(d, r, c, t) : undefined),
    provideDocumentSymbols: (d, t, next) => (known(d) ? next(d, t) : undefined),
    provideDefinition: (d, p, t, next) => (known(d) ? next(d, p, t) : undefined),
    provideReferences: (d, p, o, t, next) => (known(d) ? next(d, p, o, t) : undefined),
    provideRenameEdits: (d, p, n, t, next) => (known(d) ? next(d, p, n, t) : undefined),
    prepareRename: (d, p, t, next) => (known(d) ? next(d, p, t) : undefined),
  };
}
