// The adapter's framing and message checks over a real stdio connection (`bpf-sockops dap` from the
// sources): invalid JSON, a null body, a request without a command, bad Content-Length headers,
// initialize without arguments and wrongly typed launch attributes each get a clear error
// response or a line on stderr, and the adapter keeps answering; the end of input is said.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './client';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const req = (seq: number, command: string, args?: unknown) => frame(JSON.stringify({ seq, type: 'request', command, ...(args !== undefined ? { arguments: args } : {}) }));

interface Adapter { kill(): void; send(s: string | Buffer): void; response(seq: number): Promise<Record<string, any>>; end(): Promise<{ code: number | null; stderr: string }>; stderr(): string }

function adapter(): Adapter {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/dap.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = Buffer.alloc(0);
  let err = '';
  const msgs: Record<string, any>[] = [];
  const waiters: (() => void)[] = [];
  proc.stderr.on('data', (d) => { err += d; });
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
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  proc.stdin.on('error', () => { /* the adapter ended first: its stderr says why */ });
  return {
    kill: () => { if (proc.exitCode === null) proc.kill(); },
    send: (s) => proc.stdin.write(s),
    response: (seq) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to ${seq}; stderr: ${err}`)), 20000); // a hang guard
      const look = () => {
        const m = msgs.find((x) => x.type === 'response' && x.request_seq === seq);
        if (m) { clearTimeout(timer); resolve(m); } else waiters.push(look);
      };
      look();
    }),
    end: async () => { proc.stdin.end(); return { code: await exited, stderr: err }; },
    stderr: () => err,
  };
}

/** Runs `fn` with an adapter that is killed if `fn` fails (a failed assertion must not leave it running). */
async function withAdapter(fn: (a: Adapter) => Promise<void>): Promise<void> {
  const a = adapter();
  try { await fn(a); } finally { a.kill(); }
}

test('malformed frames and messages are reported and the adapter keeps answering', () => withAdapter(async (a) => {
  a.send(frame('{"seq": 1, "type": "request", "command": '));   // invalid JSON
  a.send(frame('null'));                                          // a null body
  a.send(frame('[1, 2]'));
  a.send('X-Nothing: 1\r\n\r\n');                              // no Content-Length
  a.send(frame(JSON.stringify({ seq: 2, type: 'request' })));     // no command
  a.send('Content-Length: -5\r\n\r\n');
  a.send('Content-Length: abc\r\n\r\n');
  a.send('Content-Length: 4000000000\r\n\r\n');
  a.send(Buffer.concat([Buffer.from('Content-Length: 4\r\n\r\n'), Buffer.from([0xff, 0xfe, 0x22, 0x22])])); // not UTF-8
  a.send(req(3, 'initialize'));                                   // no arguments
  a.send(req(4, 'initialize', { adapterID: 'bpf-sockops', linesStartAt1: 'yes' }));
  a.send(req(5, 'initialize', { adapterID: 'bpf-sockops', pathFormat: 'path' }));
  const noCommand = await a.response(2);
  assert.equal(noCommand.success, false);
  assert.match(noCommand.message, /request 2 has no "command"/);
  const noArgs = await a.response(3);
  assert.equal(noArgs.success, false);
  assert.match(noArgs.message, /initialize: the request has no arguments/);
  assert.doesNotMatch(JSON.stringify(noArgs), /\\n\s+at |TypeError/);
  assert.match((await a.response(4)).message, /initialize: 'linesStartAt1' must be true or false, not "yes"/);
  const ok = await a.response(5);
  assert.equal(ok.success, true, 'after all that, initialize still works');
  // wrongly typed launch attributes are named
  a.send(req(6, 'launch', { scenario: 42 }));
  assert.match((await a.response(6)).message, /launch: 'scenario' must be the path of a \*\.scenario\.json file, not 42/);
  a.send(req(7, 'launch', { scenario: 'x.scenario.json', cwd: { a: 1 } }));
  assert.match((await a.response(7)).message, /launch: 'cwd' must be a directory path, not an object/);
  a.send(req(8, 'launch', { scenario: 'x.scenario.json', compilerArgs: [1] }));
  assert.match((await a.response(8)).message, /'compilerArgs' must be a list of strings/);
  // 100,000 breakpoints in one request are refused at once
  a.send(req(9, 'setBreakpoints', { source: { path: 'x.c' }, breakpoints: Array.from({ length: 100000 }, (_, i) => ({ line: i + 1 })) }));
  assert.match((await a.response(9)).message, /setBreakpoints: 'breakpoints' has 100000 entries; at most 10000 in one request/);
  const { code, stderr } = await a.end();
  assert.equal(code, 0);
  assert.match(stderr, /a message body is not JSON/);
  assert.match(stderr, /a message that is not a JSON object \(null\)/);
  assert.match(stderr, /Content-Length "-5" is not a byte count/);
  assert.match(stderr, /Content-Length "abc" is not a byte count/);
  assert.match(stderr, /Content-Length 4000000000 is over the limit/);
  assert.match(stderr, /a header without Content-Length/);
  assert.match(stderr, /not valid UTF-8/);
  assert.match(stderr, /the input ended; the session ends/);
  assert.doesNotMatch(stderr, /\n\s+at |TypeError/);
}));

test('a short body swallowing the next header: the reader picks up the next frame', () => withAdapter(async (a) => {
  const next = req(2, 'initialize', { adapterID: 'x', pathFormat: 'path' });
  a.send('Content-Length: 30\r\n\r\n{"seq":1}' + next);
  a.send(req(3, 'initialize', { adapterID: 'x', pathFormat: 'path' }));
  const r = await Promise.race([a.response(2), a.response(3)]);
  assert.equal(r.success, true);
  assert.match(a.stderr(), /reading on from the Content-Length header inside it/);
  await a.end();
}));
