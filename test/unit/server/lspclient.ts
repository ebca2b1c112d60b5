// A small LSP client for the protocol tests: spawns a server (by default `bpf-sockops lsp` from
// the sources), collects published diagnostics per URI and version.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter, InitializeRequest,
  InitializedNotification, PublishDiagnosticsNotification, ShutdownRequest, ExitNotification,
  DidOpenTextDocumentNotification, type ProtocolConnection, type PublishDiagnosticsParams, type InitializeResult,
} from 'vscode-languageserver-protocol/node';
import { ROOT } from './helpers';

export interface Client {
  conn: ProtocolConnection;
  proc: ChildProcess;
  init: InitializeResult;
  diags: Map<string, PublishDiagnosticsParams[]>;
  waiters: (() => void)[];
}

/** `bpf-sockops lsp` run from the sources through tsx (the CLI entry point, not server/main.ts). */
export const LSP_COMMAND = ['--import', 'tsx', 'cli/main.ts', 'lsp'];

export async function startLsp(initializationOptions: Record<string, unknown> = {}, cmd = LSP_COMMAND): Promise<Client> {
  const proc = spawn(process.execPath, cmd, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  proc.on('exit', (code) => { if (code) process.stderr.write(`lsp exited ${code}: ${stderr}\n`); });
  const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
  const c = { conn, proc, diags: new Map(), waiters: [] } as unknown as Client;
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    let l = c.diags.get(p.uri);
    if (!l) c.diags.set(p.uri, (l = []));
    l.push(p);
    for (const w of c.waiters.splice(0)) w();
  });
  conn.listen();
  c.init = await conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null, initializationOptions });
  conn.sendNotification(InitializedNotification.type, {});
  return c;
}

export async function diagnosticsFor(c: Client, uri: string, version?: number): Promise<PublishDiagnosticsParams> {
  for (;;) {
    const l = c.diags.get(uri) ?? [];
    const hit = [...l].reverse().find((p) => version === undefined || p.version === version);
    if (hit) return hit;
    await new Promise<void>((r) => c.waiters.push(r));
  }
}

export async function openDoc(c: Client, uri: string, text: string, languageId = 'c', version = 1): Promise<PublishDiagnosticsParams> {
  c.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version, text } });
  return diagnosticsFor(c, uri, version);
}

export async function stopLsp(c: Client): Promise<void> {
  await c.conn.sendRequest(ShutdownRequest.type);
  c.conn.sendNotification(ExitNotification.type);
  await new Promise((r) => c.proc.once('exit', r));
  c.conn.dispose();
  assert.ok(true);
}

/** Applies LSP text edits (any order, non-overlapping) to a text. */
export function applyEdits(text: string, edits: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const off = (p: { line: number; character: number }) => starts[p.line]! + p.character;
  const sorted = [...edits].sort((a, b) => off(b.range.start) - off(a.range.start));
  let out = text;
  for (const e of sorted) out = out.slice(0, off(e.range.start)) + e.newText + out.slice(off(e.range.end));
  return out;
}

/** 0-based position of the first occurrence of `needle` (plus `delta` characters) in `text`. */
export function positionOf(text: string, needle: string, delta = 0, nth = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = text.indexOf(needle, at + 1);
  assert.ok(at >= 0, `${needle} in the text`);
  const o = at + delta;
  const line = text.slice(0, o).split('\n').length - 1;
  return { line, character: o - (text.lastIndexOf('\n', o - 1) + 1) };
}
