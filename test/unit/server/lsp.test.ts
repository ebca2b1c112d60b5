// The language server over a real LSP connection (stdio of a child process): from source via
// tsx, and from the esbuild bundle. Diagnostics equal the engine's; hover, completion,
// signature help, code actions; edits never leave stale diagnostics; close clears them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, InitializeRequest,
  InitializedNotification, DidOpenTextDocumentNotification, DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification, PublishDiagnosticsNotification, HoverRequest, CompletionRequest,
  SignatureHelpRequest, CodeActionRequest, ShutdownRequest, ExitNotification,
  type ProtocolConnection, type PublishDiagnosticsParams, type CompletionItem, type MarkupContent,
} from 'vscode-languageserver-protocol/node';
import { analyzeText, positioned } from '../../../server/analysis/engine';
import { ROOT, fixtureFiles, read } from './helpers';

interface Client { conn: ProtocolConnection; proc: ChildProcess; diags: Map<string, PublishDiagnosticsParams[]>; waiters: (() => void)[] }

async function start(cmd: string[], env: NodeJS.ProcessEnv = process.env, cwd = ROOT): Promise<Client> {
  const proc = spawn(process.execPath, cmd, { cwd, stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const c: Client = { conn, proc, diags: new Map(), waiters: [] };
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    let l = c.diags.get(p.uri);
    if (!l) c.diags.set(p.uri, (l = []));
    l.push(p);
    for (const w of c.waiters.splice(0)) w();
  });
  conn.listen();
  proc.on('exit', (code) => { if (code) process.stderr.write(`server exited ${code}: ${stderr}\n`); });
  const init = await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
  assert.ok(init.capabilities.hoverProvider);
  assert.ok(init.capabilities.completionProvider);
  assert.ok(init.capabilities.codeActionProvider);
  assert.ok(init.capabilities.signatureHelpProvider);
  conn.sendNotification(InitializedNotification.type, {});
  return c;
}

/** Waits for diagnostics of `uri` at `version` (the server tags them with the version). */
async function diagnosticsFor(c: Client, uri: string, version: number | undefined): Promise<PublishDiagnosticsParams> {
  for (;;) {
    const l = c.diags.get(uri) ?? [];
    const hit = [...l].reverse().find((p) => version === undefined || p.version === version);
    if (hit) return hit;
    await new Promise<void>((r) => c.waiters.push(r));
  }
}

async function stop(c: Client): Promise<void> {
  await c.conn.sendRequest(ShutdownRequest.type);
  c.conn.sendNotification(ExitNotification.type);
  await new Promise((r) => c.proc.once('exit', r));
  c.conn.dispose();
}

const tmp = mkdtempSync(path.join(tmpdir(), 'bpf-sockops-lsp-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function exercise(c: Client): Promise<void> {
  // 1. Every fixture: diagnostics equal the engine's, with code, source and related info.
  for (const file of fixtureFiles()) {
    const uri = pathToFileURL(file).href;
    const text = read(file);
    c.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
    const got = await diagnosticsFor(c, uri, 1);
    const want = positioned(await analyzeText(text, { file }));
    assert.deepEqual(got.diagnostics.map((d) => [d.range.start, d.range.end, d.code, d.message]), want.map((f) => [f.range.start, f.range.end, f.code, f.message]), file);
    for (const d of got.diagnostics) assert.equal(d.source, 'bpf-sockops');
    c.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    const cleared = await (async () => { for (;;) { const l = c.diags.get(uri)!; const last = l[l.length - 1]!; if (last.diagnostics.length === 0 && last.version === undefined) return last; await new Promise<void>((r) => c.waiters.push(r)); } })();
    assert.equal(cleared.diagnostics.length, 0);
  }

  // 2. Features on one document.
  const uri = pathToFileURL(path.join(tmp, 'hook.bpf.c')).href;
  const text = [
    'SEC("sockops")',
    'int hook(struct bpf_sock_ops *skops)',
    '{',
    '\tswitch (skops->op) {',
    '\tcase BPF_SOCK_OPS_RCVQ_CB:',
    '\t\tbpf_getsockopt(skops, 6, 1, 0, 4);',
    '\t\treturn skops->srtt_us;',
    '\t}',
    '\treturn 1;',
    '}',
    '',
  ].join('\n');
  c.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'c', version: 1, text } });
  const d1 = await diagnosticsFor(c, uri, 1);
  assert.deepEqual(d1.diagnostics.map((d) => d.code).sort(), ['SOCKOPS002', 'SOCKOPS006']);

  const hover = await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 5, character: 4 } });
  const md = (hover!.contents as MarkupContent).value;
  assert.match(md, /bpf_getsockopt/);
  assert.match(md, /reaches here: RCVQ_CB/);
  assert.match(md, /-EOPNOTSUPP \(-95\)/);
  const hoverField = await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 6, character: 18 } });
  assert.match((hoverField!.contents as MarkupContent).value, /offset 80/);
  const hoverOp = await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 4, character: 10 } });
  assert.match((hoverOp!.contents as MarkupContent).value, /BPF_SOCK_OPS_RCVQ_CB\*\* = 21/);
  assert.match((hoverOp!.contents as MarkupContent).value, /BPF_SOCK_OPS_RCVQ_CB_FLAG/);

  const items = (await c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 5, character: 2 } })) as CompletionItem[];
  const byName = new Map(items.map((i) => [i.label, i]));
  assert.ok(byName.get('bpf_skb_load_bytes')!.sortText! < byName.get('bpf_setsockopt')!.sortText!, 'working helpers rank first at RCVQ_CB');
  assert.match(byName.get('bpf_setsockopt')!.detail!, /EOPNOTSUPP/);
  assert.ok(byName.has('BPF_SOCK_OPS_RCVQ_CB'));

  const sig = await c.conn.sendRequest(SignatureHelpRequest.type, { textDocument: { uri }, position: { line: 5, character: 25 } });
  assert.match(sig!.signatures[0]!.label, /bpf_getsockopt\(/);
  assert.equal(sig!.activeParameter, 1);

  const actions = await c.conn.sendRequest(CodeActionRequest.type, {
    textDocument: { uri }, range: d1.diagnostics.find((d) => d.code === 'SOCKOPS006')!.range,
    context: { diagnostics: d1.diagnostics },
  });
  const enable = (actions as { title: string; edit?: { changes?: Record<string, { newText: string }[]> } }[]).find((a) => /Enable BPF_SOCK_OPS_RCVQ_CB_FLAG/.test(a.title));
  assert.ok(enable, 'quick fix enabling the flag');
  assert.match(enable!.edit!.changes![uri]![0]!.newText, /bpf_sock_ops_cb_flags_set\(skops, skops->bpf_sock_ops_cb_flags \| BPF_SOCK_OPS_RCVQ_CB_FLAG\)/);

  // 3. Incremental edits: fix the call, then break it again; the last diagnostics always match.
  c.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 5, character: 2 }, end: { line: 5, character: 16 } }, text: 'bpf_skb_load_bytes' }] });
  const d2 = await diagnosticsFor(c, uri, 2);
  assert.deepEqual(d2.diagnostics.map((d) => d.code), ['SOCKOPS006']);

  // 4. A burst of random edits sent without waiting: the diagnostics of the last version are
  //    those of the engine on the final text (nothing stale from an earlier version).
  let cur = text.replace('bpf_getsockopt', 'bpf_skb_load_bytes');
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const pieces = ['bpf_setsockopt(skops, 6, 1, 0, 4);', '}', '{', 'case BPF_SOCK_OPS_TSTAMP_ACK_CB:', 'skops->op = 1;', '\n', 'x', '/*'];
  let version = 2;
  for (let i = 0; i < 300; i++) {
    const a = Math.floor(rnd() * (cur.length + 1));
    const b = Math.min(cur.length, a + Math.floor(rnd() * 6));
    const ins = pieces[Math.floor(rnd() * pieces.length)]!;
    const doc = TextDocumentOf(cur);
    c.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version },
      contentChanges: [{ range: { start: doc.positionAt(a), end: doc.positionAt(b) }, text: ins }] });
    cur = cur.slice(0, a) + ins + cur.slice(b);
  }
  const last = await diagnosticsFor(c, uri, version);
  const want = positioned(await analyzeText(cur));
  assert.deepEqual(last.diagnostics.map((d) => [d.range.start, d.code, d.message]), want.map((f) => [f.range.start, f.code, f.message]));
  c.conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
}

function TextDocumentOf(text: string): { positionAt(o: number): { line: number; character: number } } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return {
    positionAt(o: number) {
      let line = 0;
      while (line + 1 < starts.length && starts[line + 1]! <= o) line++;
      return { line, character: o - starts[line]! };
    },
  };
}

test('LSP over stdio: server from source (tsx)', async () => {
  const c = await start(['--import', 'tsx', 'server/main.ts', '--stdio']);
  try { await exercise(c); } finally { await stop(c); }
});

test('LSP over stdio: the esbuild bundle outside the checkout, wasm found through --wasm-dir and $BPF_SOCKOPS_WASM_DIR', async () => {
  const out = path.join(tmp, 'server.js');
  await esbuild.build({ entryPoints: [path.join(ROOT, 'server/main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out, logLevel: 'error' });
  const c = await start([out, '--stdio', '--wasm-dir', path.join(ROOT, 'node_modules/web-tree-sitter')],
    { ...process.env, BPF_SOCKOPS_WASM_DIR: path.join(ROOT, 'node_modules/tree-sitter-c') }, tmp);
  try { await exercise(c); } finally { await stop(c); }
});
