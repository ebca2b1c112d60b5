// The language server's transport, hardened: a stdio reader on io/frames (a malformed frame is
// reported and skipped, never leaving the server deaf: no Content-Length, a negative, non-numeric
// or huge one, a short body, invalid UTF-8 or JSON), and a check of every message before the
// connection sees it (a request whose params lack what the method needs gets InvalidParams naming
// the field, never a host exception text). The IPC transport the extension uses gets the check too.
import {
  AbstractMessageReader, IPCMessageReader, IPCMessageWriter, StreamMessageWriter,
  type DataCallback, type Disposable, type Message, type MessageReader, type MessageWriter,
} from 'vscode-languageserver/node';
import { FrameParser } from '../io/frames';

type Check = (v: unknown) => boolean;
const isObj: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr: Check = (v) => typeof v === 'string';
const isUint: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isInt: Check = (v) => Number.isSafeInteger(v);
const field = (o: unknown, k: string): unknown => (isObj(o) ? (o as Record<string, unknown>)[k] : undefined);

/** [path, check, what] triples: 'textDocument.uri' must be a string, ... */
type Rule = [string, Check, string];
const DOC: Rule = ['textDocument.uri', isStr, 'a document URI (string)'];
const POSITION: Rule[] = [DOC, ['position.line', isUint, 'a line number (integer >= 0)'], ['position.character', isUint, 'a character offset (integer >= 0)']];
const RANGE = (p: string): Rule[] => [[`${p}.start.line`, isUint, 'a line number'], [`${p}.start.character`, isUint, 'a character offset'], [`${p}.end.line`, isUint, 'a line number'], [`${p}.end.character`, isUint, 'a character offset']];

/** What each method's params must hold (LSP 3.17) before a handler reads them. */
export const PARAM_RULES: Record<string, Rule[]> = {
  // handled inside vscode-jsonrpc itself ('req-' + params.id.toString())
  '$/cancelRequest': [['id', (v) => isInt(v) || isStr(v), 'a request id (number or string)']],
  '$/setTrace': [['value', isStr, "'off', 'messages' or 'verbose'"]],
  'initialize': [['capabilities', isObj, 'an object (the client capabilities)'], ['processId', (v) => v === undefined || v === null || isInt(v), 'an integer or null']],
  'textDocument/didOpen': [DOC, ['textDocument.text', isStr, 'the document text (string)'], ['textDocument.version', isInt, 'an integer version'], ['textDocument.languageId', isStr, 'a language id']],
  'textDocument/didChange': [DOC, ['textDocument.version', isInt, 'an integer version'], ['contentChanges', (v) => Array.isArray(v) && v.every((c) => isObj(c) && isStr(field(c, 'text')) && (field(c, 'range') === undefined || rangeOk(field(c, 'range')))), 'a list of {text, range?}']],
  'textDocument/didClose': [DOC],
  'textDocument/didSave': [DOC],
  'textDocument/hover': POSITION,
  'textDocument/completion': POSITION,
  'textDocument/signatureHelp': POSITION,
  'textDocument/definition': POSITION,
  'textDocument/references': POSITION,
  'textDocument/documentHighlight': POSITION,
  'textDocument/prepareRename': POSITION,
  'textDocument/rename': [...POSITION, ['newName', isStr, 'a string']],
  'textDocument/documentSymbol': [DOC],
  'textDocument/codeLens': [DOC],
  'textDocument/foldingRange': [DOC],
  'textDocument/semanticTokens/full': [DOC],
  'textDocument/inlayHint': [DOC, ...RANGE('range')],
  'textDocument/codeAction': [DOC, ...RANGE('range'), ['context', isObj, 'an object'], ['context.diagnostics', Array.isArray, 'a list']],
};

function rangeOk(r: unknown): boolean {
  return ['start', 'end'].every((k) => isUint(field(field(r, k), 'line')) && isUint(field(field(r, k), 'character')));
}

function at(o: unknown, path: string): unknown {
  let v = o;
  for (const k of path.split('.')) v = field(v, k);
  return v;
}

/** Why the message cannot be handed to the connection; null when it can. `reply`: a JSON-RPC
 *  error to send back (a request with an id), else the problem is only reported. */
export function lspMessageProblem(msg: unknown): { text: string; reply?: { id: number | string | null; code: number } } | null {
  if (!isObj(msg)) return { text: `a message that is not a JSON object (${Array.isArray(msg) ? 'a batch array' : JSON.stringify(msg)?.slice(0, 40)})`, reply: { id: null, code: -32600 } };
  const m = msg as Record<string, unknown>;
  const id = m.id;
  const idOk = id === undefined || typeof id === 'string' || isInt(id) || id === null;
  const replyId = idOk && id !== undefined ? (id as number | string | null) : null;
  if (m.jsonrpc !== '2.0') return { text: `a message without "jsonrpc": "2.0"`, reply: { id: replyId, code: -32600 } };
  if (!idOk) return { text: `a message whose id is ${JSON.stringify(id)?.slice(0, 40)}, not a number or string`, reply: { id: null, code: -32600 } };
  if (m.method === undefined) {
    // a response to one of our requests
    if (id === undefined || (m.result === undefined && m.error === undefined)) return { text: 'a message with neither "method" nor a result or error' };
    return null;
  }
  if (typeof m.method !== 'string') return { text: `a message whose "method" is ${JSON.stringify(m.method)?.slice(0, 40)}, not a string`, ...(id !== undefined ? { reply: { id: replyId, code: -32600 } } : {}) };
  const rules = PARAM_RULES[m.method];
  if (m.params !== undefined && !isObj(m.params) && !Array.isArray(m.params)) {
    return { text: `${m.method}: params must be an object, not ${JSON.stringify(m.params)?.slice(0, 40)}`, ...(id !== undefined ? { reply: { id: replyId, code: -32602 } } : {}) };
  }
  if (!rules) return null;
  for (const [path, ok, what] of rules) {
    if (!ok(at(m.params, path))) {
      const v = at(m.params, path);
      return { text: `${m.method}: params.${path} must be ${what}, not ${v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 40)}`, ...(id !== undefined ? { reply: { id: replyId, code: -32602 } } : {}) };
    }
  }
  return null;
}

/** Hands each decoded message on after lspMessageProblem; problems go to `report` and, for a
 *  request, back to the client as a JSON-RPC error through `writer`. */
export class CheckedReader extends AbstractMessageReader {
  private callback: DataCallback | null = null;
  private readonly queue: unknown[] = [];

  constructor(private readonly writer: () => MessageWriter | undefined, private readonly report: (line: string) => void) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const m of this.queue.splice(0)) this.deliver(m);
    return { dispose: () => { this.callback = null; } };
  }

  /** A decoded message from the transport. */
  deliver(msg: unknown): void {
    if (!this.callback) { this.queue.push(msg); return; }
    const p = lspMessageProblem(msg);
    if (!p) { this.pass(msg as Message); return; }
    this.report(p.text);
    if (p.reply) this.replyError(p.reply.id, p.reply.code, p.text);
  }

  /** didChange notifications of one document that arrive together become one, their content
   *  changes in order and the last version (what the document becomes is the same): 1,000 fast
   *  edits cost the connection one message, not 1,000. Anything else first flushes the held one. */
  private held: { method: string; params: { textDocument: { uri: string; version: number }; contentChanges: unknown[] } } | null = null;

  private pass(msg: Message): void {
    const m = msg as unknown as { method?: string; id?: unknown; params?: any };
    if (m.method === 'textDocument/didChange' && m.id === undefined) {
      const h = this.held;
      if (h && h.params.textDocument.uri === m.params.textDocument.uri) {
        h.params.contentChanges.push(...m.params.contentChanges);
        h.params.textDocument.version = m.params.textDocument.version;
        return;
      }
      this.flush();
      this.held = { ...m, method: m.method, params: { ...m.params, textDocument: { ...m.params.textDocument }, contentChanges: [...m.params.contentChanges] } };
      setImmediate(() => this.flush());
      return;
    }
    this.flush();
    this.callback?.(msg);
  }

  private flush(): void {
    const h = this.held;
    if (!h) return;
    this.held = null;
    this.callback?.(h as unknown as Message);
  }

  /** A frame that could not be decoded: JSON-RPC says Parse error (-32700) with a null id. */
  malformed(text: string): void {
    this.report(text);
    if (/not JSON|not valid UTF-8/.test(text)) this.replyError(null, -32700, text);
  }

  private replyError(id: number | string | null, code: number, message: string): void {
    const w = this.writer();
    if (!w) return;
    void w.write({ jsonrpc: '2.0', id, error: { code, message } } as Message).catch(() => undefined);
  }

  ended(): void { this.flush(); this.fireClose(); }
  failed(e: Error): void { this.fireError(e); }
}

function stderrLine(line: string): void {
  try { process.stderr.write(`bpf-sockops lsp: ${line}\n`); } catch { /* stderr closed */ }
}

/** The reader and writer for this process's transport (--stdio or --node-ipc), with the checks;
 *  undefined for the others (sockets, pipes), which vscode-languageserver sets up itself. */
export function serverTransport(argv = process.argv, report: (line: string) => void = stderrLine): [MessageReader, MessageWriter] | undefined {
  let writer: MessageWriter | undefined;
  const reader = new CheckedReader(() => writer, report);
  if (argv.includes('--stdio')) {
    writer = new StreamMessageWriter(process.stdout);
    const parser = new FrameParser({ message: (m) => reader.deliver(m), problem: (t) => reader.malformed(t) });
    process.stdin.on('data', (b: Buffer) => parser.push(b));
    process.stdin.on('end', () => { report('the input ended'); reader.ended(); });
    process.stdin.on('error', (e) => reader.failed(e));
    return [reader, writer];
  }
  if (argv.includes('--node-ipc') && process.send) {
    writer = new IPCMessageWriter(process);
    const ipc = new IPCMessageReader(process);
    ipc.listen((m) => reader.deliver(m));
    ipc.onClose(() => reader.ended());
    ipc.onError((e) => reader.failed(e));
    return [reader, writer];
  }
  return undefined;
}
