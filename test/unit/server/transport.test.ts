// The language server over stdio (`bpf-sockops lsp` from the sources) given malformed frames and
// params: each is reported (stderr, or a JSON-RPC error naming the field) and the server keeps
// answering; edits coalesce (1,000 changes, then a hover, give one analysis of the last version).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT } from './helpers';

const frame = (body: string | Buffer) => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
const rpc = (id: number | null, method: string, params?: unknown) => frame(JSON.stringify({ jsonrpc: '2.0', ...(id !== null ? { id } : {}), method, ...(params !== undefined ? { params } : {}) }));

interface Server { send(b: Buffer | string): void; reply(id: number | null, nth?: number): Promise<Record<string, any>>; notes(method: string): Record<string, any>[]; stderr(): string; close(): void }

function server(): Server {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'lsp'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = Buffer.alloc(0);
  let err = '';
  const msgs: Record<string, any>[] = [];
  const waiters: (() => void)[] = [];
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdin.on('error', () => { /* the server ended: stderr says why */ });
  proc.stdout.on('data', (d: Buffer) => {
    out = Buffer.concat([out, d]);
    for (;;) {
      const h = out.indexOf('\r\n\r\n');
      if (h < 0) break;
      const n = Number(/Content-Length: (\d+)/.exec(out.subarray(0, h).toString())![1]);
      if (out.length < h + 4 + n) break;
      msgs.push(JSON.parse(out.subarray(h + 4, h + 4 + n).toString()));
      out = out.subarray(h + 4 + n);
    }
    for (const w of waiters.splice(0)) w();
  });
  return {
    send: (b) => proc.stdin.write(b),
    reply: (id, nth = 0) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${id}; stderr: ${err}`)), 30000); // a hang guard
      const look = () => {
        const m = msgs.filter((x) => x.id === id && x.method === undefined)[nth];
        if (m) { clearTimeout(timer); resolve(m); } else waiters.push(look);
      };
      look();
    }),
    notes: (method) => msgs.filter((m) => m.method === method),
    stderr: () => err,
    close: () => { if (proc.exitCode === null) proc.kill(); },
  };
}

async function withServer(fn: (s: Server) => Promise<void>): Promise<void> {
  const s = server();
  try { await fn(s); } finally { s.close(); }
}

const HOST = /Cannot read propert|TypeError|\n\s+at /;

test('14 malformed frames and params: every one reported, none leaves the server deaf', () => withServer(async (s) => {
  s.send(rpc(1, 'initialize', {}));                                         // no capabilities
  const init0 = await s.reply(1);
  assert.equal(init0.error.code, -32602);
  assert.match(init0.error.message, /initialize: params\.capabilities must be an object/);
  s.send(rpc(2, 'initialize', { processId: null, rootUri: null, capabilities: {} }));
  assert.ok((await s.reply(2)).result.capabilities, 'initialize works after the bad one');
  s.send(rpc(null, 'initialized', {}));
  const uri = 'file:///tmp/t.bpf.c';
  const bad: [Buffer | string, RegExp][] = [
    ['X-Other: 1\r\n\r\n{}', /a header without Content-Length/],
    ['Content-Length: -3\r\n\r\n', /Content-Length "-3" is not a byte count/],
    ['Content-Length: twelve\r\n\r\n', /Content-Length "twelve" is not a byte count/],
    ['Content-Length: 4000000000\r\n\r\n', /Content-Length 4000000000 is over the limit/],
    [frame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
    [frame('{"jsonrpc": "2.0", "id": 7, "method": '), /a message body is not JSON/],
    [frame('null'), /a message that is not a JSON object \(null\)/],
    [frame('[1]'), /a batch array/],
    [frame('{"id": 8, "method": "textDocument/hover"}'), /without "jsonrpc": "2.0"/],
    [frame('{"jsonrpc": "2.0", "id": 9, "method": 5}'), /"method" is 5, not a string/],
    [rpc(10, 'textDocument/hover', {}), /textDocument\/hover: params\.textDocument\.uri must be a document URI \(string\), not missing/],
    [rpc(null, 'textDocument/didChange', {}), /textDocument\/didChange: params\.textDocument\.uri must be/],
    [rpc(null, 'textDocument/didOpen', { textDocument: { uri } }), /didOpen: params\.textDocument\.text must be the document text/],
    ['Content-Length: 500\r\n\r\n{"jsonrpc":"2.0","id":11,"method":"shutdown"}', /reading on from the Content-Length header inside it/], // a short body: the next frame is inside it
  ];
  let id = 100;
  for (const [b, re] of bad) {
    s.send(b);
    // after each malformed frame a well-formed request is answered: the server is not deaf (a short
    // body first takes the bytes it claims, so there the answer comes once they have arrived)
    for (let k = 0; k < (String(b).startsWith('Content-Length: 500') ? 6 : 1); k++) s.send(rpc(++id, 'textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 0 } }));
    const r = await s.reply(id);
    assert.ok(!('error' in r), `request ${id} after ${String(b).slice(0, 30)}: ${JSON.stringify(r.error)}`);
    // stderr is another pipe: its line may arrive after the reply
    for (let i = 0; i < 200 && !re.test(s.stderr()); i++) await new Promise((res) => setTimeout(res, 25));
    assert.match(s.stderr(), re);
  }
  const hover = await s.reply(10);
  assert.equal(hover.error.code, -32602);
  assert.doesNotMatch(JSON.stringify(hover), HOST);
  const parse = await s.reply(null);
  assert.equal(parse.error.code, -32700);
  assert.doesNotMatch(s.stderr(), HOST);
}));

test('1,000 fast edits then a hover: answered with the last version, analysed once', () => withServer(async (s) => {
  s.send(rpc(1, 'initialize', { processId: null, rootUri: null, capabilities: {} }));
  await s.reply(1);
  s.send(rpc(null, 'initialized', {}));
  const uri = 'file:///tmp/edits.bpf.c';
  const text = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("sockops") int hook(struct bpf_sock_ops *skops) {\n  int x = 0;\n  return 1;\n}\n';
  s.send(rpc(null, 'textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } }));
  const edits: Buffer[] = [];
  for (let v = 2; v <= 1001; v++) edits.push(rpc(null, 'textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range: { start: { line: 3, character: 10 }, end: { line: 3, character: 10 } }, text: v % 2 ? ' ' : '' }] }));
  s.send(Buffer.concat(edits));
  s.send(rpc(2, 'textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 40 } }));
  const h = await s.reply(2);
  assert.ok(!('error' in h));
  await new Promise((r) => setTimeout(r, 300)); // the coalesced analysis of the last change
  const published = s.notes('textDocument/publishDiagnostics').filter((n) => n.params.uri === uri);
  assert.ok(published.length <= 3, `one analysis for the open and one for the edits, not 1,000 (got ${published.length})`);
  assert.equal(published[published.length - 1]!.params.version, 1001);
}));
