// Issue 16's fuzz: 10,000 hostile scenarios (parsed, a share of them run through the emulator),
// 10,000 hostile DAP message sequences (an in-process adapter) and 10,000 hostile LSP message
// sequences (a real server over stdio). Nothing a user sees may carry host exception text, and
// each protocol still answers a well-formed request at the end. Seeded: a failure is reproducible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseScenario, ScenarioError } from '../../../debugger/scenario/index';
import { Simulation, type PreparedScenario } from '../../../debugger/sim';
import { runAdapter } from '../../../debugger/adapter/index';
import { table } from '../../../sockops/index';
import { HOST_TEXT } from '../cli/hostile-helpers';

const ROOT = join(__dirname, '../../..');
const EXAMPLE = join(ROOT, 'examples/autolowat');

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values that break code which trusts a field's type or size. */
function hostileValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * 20);
  switch (pick) {
    case 0: return null;
    case 1: return undefined;
    case 2: return -1;
    case 3: return 2 ** 31;
    case 4: return 2 ** 53 + 2;
    case 5: return 1e308 * 10;
    case 6: return 0.5;
    case 7: return '';
    case 8: return 'x'.repeat(Math.floor(r() * 300));
    case 9: return true;
    case 10: return [];
    case 11: return {};
    case 12: return depth < 3 ? [hostileValue(r, depth + 1), hostileValue(r, depth + 1)] : 0;
    case 13: return depth < 3 ? { a: hostileValue(r, depth + 1), __proto__x: 1 } : 1;
    case 14: return 'zz{0}\u0000\ud800';
    case 15: return Math.floor(r() * 70000);
    case 16: return -Math.floor(r() * 70000);
    case 17: return 'BPF_SOCK_OPS_RCVQ_CB';
    case 18: return '10ms';
    default: return Math.floor(r() * 40);
  }
}

const BASE = JSON.parse(readFileSync(join(EXAMPLE, 'case4-partial-descriptor.scenario.json'), 'utf8')) as Record<string, unknown>;
const STEP_KINDS = ['send', 'recv', 'setsockopt', 'expect', 'segment', 'fin', 'op', 'advanceTime', 'rcvbuf', 'window', 'memoryPressure', 'sockmap', 'close', 'bogus'];
const INNER = ['offset', 'len', 'fin', 'level', 'optname', 'int', 'hex', 'op', 'args', 'rcvlowat', 'epoll', 'readable', 'data', 'peek'];

function hostileScenario(r: () => number): string {
  const doc: Record<string, unknown> = structuredClone(BASE);
  doc.program = 'autolowat.bpf.o';
  const muts = 1 + Math.floor(r() * 4);
  for (let m = 0; m < muts; m++) {
    const what = Math.floor(r() * 10);
    const steps = (Array.isArray(doc.steps) ? doc.steps : (doc.steps = [])) as unknown[];
    if (what === 0) doc[['socket', 'stream', 'steps', 'seed', 'sockops', 'profile', 'description'][Math.floor(r() * 7)]!] = hostileValue(r);
    else if (what === 1) steps.splice(Math.floor(r() * (steps.length + 1)), 0, { [STEP_KINDS[Math.floor(r() * STEP_KINDS.length)]!]: hostileValue(r) });
    else if (what === 2) steps.splice(Math.floor(r() * (steps.length + 1)), 0, { [STEP_KINDS[Math.floor(r() * STEP_KINDS.length)]!]: { [INNER[Math.floor(r() * INNER.length)]!]: hostileValue(r), [INNER[Math.floor(r() * INNER.length)]!]: hostileValue(r) } });
    else if (what === 3) doc.stream = [{ [['u32le', 'u16be', 'u8', 'hex', 'text', 'zeros', 'nope'][Math.floor(r() * 7)]!]: hostileValue(r) }];
    else if (what === 4) doc.socket = { [['family', 'mss', 'rcvbuf', 'fastopen', 'seq', 'peerOptions', 'isn', 'rttUs'][Math.floor(r() * 8)]!]: hostileValue(r) };
    else if (what === 5 && steps.length) {
      const st = steps[Math.floor(r() * steps.length)];
      if (typeof st === 'object' && st !== null) delete (st as Record<string, unknown>)[Object.keys(st)[0]!];
    }
    else if (what === 6) steps.push({ segment: { offset: Math.floor(r() * 400), len: Math.floor(r() * 50) } }, { recv: Math.floor(r() * 300) + 1, peek: r() < 0.5 });
    else if (what === 7) steps.push({ op: { op: hostileValue(r), args: [hostileValue(r)] } });
    else if (what === 8) steps.push({ expect: { [INNER[Math.floor(r() * INNER.length)]!]: hostileValue(r) } });
  }
  let text = JSON.stringify(doc);
  if (r() < 0.15) {
    // corrupt the text itself: cut, duplicate or flip a character
    const at = Math.floor(r() * text.length);
    const c = Math.floor(r() * 3);
    text = c === 0 ? text.slice(0, at) : c === 1 ? text.slice(0, at) + text.slice(at, at + 20).repeat(3) + text.slice(at) : text.slice(0, at) + '\u0001"{[' [Math.floor(r() * 4)] + text.slice(at + 1);
  }
  return text;
}

test('10,000 hostile scenarios: a ScenarioError with the place or a run, never host exception text', () => {
  const r = mulberry32(16);
  const t = table();
  const base = Simulation.prepare(join(EXAMPLE, 'case4-partial-descriptor.scenario.json'));
  let errors = 0;
  let runs = 0;
  for (let k = 0; k < 10_000; k++) {
    const text = hostileScenario(r);
    let sc;
    try {
      sc = parseScenario(text, join(EXAMPLE, `fuzz-${k}.scenario.json`), { constant: (n) => t.constant(n) });
    } catch (e) {
      assert.ok(e instanceof ScenarioError, `case ${k}: ${String(e)}\n${text.slice(0, 300)}`);
      assert.doesNotMatch(e.message, HOST_TEXT, `case ${k}`);
      errors++;
      continue;
    }
    if (k % 2) continue; // half of those that parse also run (the emulator is the slow part)
    const prepared: PreparedScenario = { ...base, scenario: { ...sc, program: base.scenario.program } };
    let sim: Simulation;
    try {
      sim = new Simulation(prepared, { budget: 200_000 });
    } catch (e) {
      assert.doesNotMatch((e as Error).message, HOST_TEXT, `case ${k} load`);
      assert.notEqual((e as Error).name, 'TypeError', `case ${k}`);
      continue;
    }
    sim.keepTrace = false;
    try {
      while (!sim.done) {
        const res = sim.stepOnce();
        assert.doesNotMatch(res.text, HOST_TEXT, `case ${k} step ${res.index}: ${res.text}`);
      }
    } catch (e) {
      assert.fail(`case ${k}: the simulation threw ${(e as Error).stack}\n${text.slice(0, 400)}`);
    }
    runs++;
  }
  assert.ok(errors > 1000 && runs > 150, `both paths exercised (${errors} errors, ${runs} runs)`);
});

const DAP_COMMANDS = ['initialize', 'launch', 'setBreakpoints', 'setFunctionBreakpoints', 'setExceptionBreakpoints', 'setDataBreakpoints', 'setInstructionBreakpoints', 'dataBreakpointInfo', 'configurationDone', 'threads', 'stackTrace', 'scopes', 'variables', 'setVariable', 'evaluate', 'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'pause', 'readMemory', 'disassemble', 'exceptionInfo', 'source', 'loadedSources', 'nonsense'];
const ARG_KEYS = ['source', 'breakpoints', 'lines', 'filters', 'name', 'variablesReference', 'frameId', 'threadId', 'expression', 'value', 'memoryReference', 'count', 'offset', 'instructionCount', 'scenario', 'program', 'cwd', 'adapterID', 'pathFormat', 'startFrame', 'levels'];

function dapSequence(r: () => number, seq: { n: number }): Buffer[] {
  const out: Buffer[] = [];
  const frame = (body: string | Buffer) => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(r() * 10);
    if (kind === 0) out.push(Buffer.from(['Content-Length: -1\r\n\r\n', 'Content-Length: x\r\n\r\n', 'Foo: 1\r\n\r\n', 'Content-Length: 99999999999\r\n\r\n'][Math.floor(r() * 4)]!));
    else if (kind === 1) out.push(frame(['null', '[]', '{', '"x"', '{"type":"event"}', '7', '{"seq":"a","type":"request","command":"threads"}'][Math.floor(r() * 7)]!));
    else if (kind === 2) out.push(frame(Buffer.from([0xc3, 0x28, 0x7b])));
    else {
      const args: Record<string, unknown> = {};
      for (let a = Math.floor(r() * 4); a > 0; a--) args[ARG_KEYS[Math.floor(r() * ARG_KEYS.length)]!] = hostileValue(r);
      const msg: Record<string, unknown> = { seq: ++seq.n, type: r() < 0.95 ? 'request' : 'bogus', command: DAP_COMMANDS[Math.floor(r() * DAP_COMMANDS.length)] };
      if (r() < 0.9) msg.arguments = r() < 0.1 ? hostileValue(r) : args;
      if (r() < 0.03) delete msg.command;
      out.push(frame(JSON.stringify(msg)));
    }
  }
  return out;
}

test('10,000 hostile DAP message sequences: answers without host exception text, and the adapter still answers', async () => {
  const r = mulberry32(1616);
  const input = new PassThrough();
  const output = new PassThrough();
  const said: string[] = [];
  let responses = 0;
  let buf = Buffer.alloc(0);
  const got = new Map<number, Record<string, any>>();
  const hostText: string[] = [];
  output.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) break;
      const len = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, h).toString())![1]);
      if (buf.length < h + 4 + len) break;
      const m = JSON.parse(buf.subarray(h + 4, h + 4 + len).toString());
      buf = buf.subarray(h + 4 + len);
      // collected, not asserted here: a throw inside the stream's listener would break the stream
      if (m.type === 'response') { responses++; got.set(m.request_seq, m); if (HOST_TEXT.test(JSON.stringify(m))) hostText.push(JSON.stringify(m).slice(0, 300)); }
      if (m.type === 'event' && m.event === 'output' && HOST_TEXT.test(m.body.output)) hostText.push(m.body.output.slice(0, 300));
    }
  });
  const ended = runAdapter(input, output, undefined, (line) => said.push(line));
  const seq = { n: 0 };
  for (let k = 0; k < 10_000; k++) {
    for (const b of dapSequence(r, seq)) input.write(b);
    if (k % 500 === 0) await new Promise((res) => setImmediate(res));
  }
  const last = ++seq.n;
  input.write(`Content-Length: ${JSON.stringify({ seq: last, type: 'request', command: 'threads' }).length}\r\n\r\n${JSON.stringify({ seq: last, type: 'request', command: 'threads' })}`);
  for (let i = 0; i < 200 && !got.has(last); i++) await new Promise((res) => setTimeout(res, 50));
  assert.ok(got.get(last)?.success, `the adapter still answers (${responses} responses; said: ${said.slice(-5).join(' | ')}; last: ${JSON.stringify(got.get(last))})`);
  assert.ok(responses > 5000, `${responses} responses`);
  assert.deepEqual(hostText, []);
  for (const l of said) assert.doesNotMatch(l, HOST_TEXT);
  input.end();
  await ended;
});

const LSP_METHODS = ['textDocument/hover', 'textDocument/completion', 'textDocument/signatureHelp', 'textDocument/definition', 'textDocument/references', 'textDocument/documentSymbol', 'textDocument/codeAction', 'textDocument/didOpen', 'textDocument/didChange', 'textDocument/didClose', 'workspace/symbol', '$/cancelRequest', 'bogus/method'];

test('10,000 hostile LSP message sequences over stdio: no host exception text in any answer, and the server still answers', async () => {
  const r = mulberry32(161616);
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'lsp'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdin.on('error', () => {});
  let buf = Buffer.alloc(0);
  const replies = new Map<unknown, Record<string, any>>();
  const bad: string[] = [];
  proc.stdout.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) break;
      const len = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, h).toString())![1]);
      if (buf.length < h + 4 + len) break;
      const text = buf.subarray(h + 4, h + 4 + len).toString();
      buf = buf.subarray(h + 4 + len);
      const m = JSON.parse(text);
      if (HOST_TEXT.test(text.replace(/Unhandled method [\w/$]+/g, 'MethodNotFound'))) bad.push(text.slice(0, 300));
      if (m.id !== undefined && m.method === undefined) replies.set(m.id, m);
    }
  });
  const frame = (body: string | Buffer) => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
  const send = (o: unknown) => proc.stdin.write(frame(JSON.stringify(o)));
  try {
    send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    send({ jsonrpc: '2.0', method: 'initialized', params: {} });
    const uri = 'file:///tmp/fuzz.bpf.c';
    send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'c', version: 1, text: readFileSync(join(EXAMPLE, 'autolowat.bpf.c'), 'utf8') } } });
    let id = 1;
    const chunks: Buffer[] = [];
    for (let k = 0; k < 10_000; k++) {
      const n = 1 + Math.floor(r() * 3);
      for (let i = 0; i < n; i++) {
        const kind = Math.floor(r() * 12);
        if (kind === 0) chunks.push(Buffer.from(['Content-Length: -1\r\n\r\n', 'Content-Length: 1e3\r\n\r\n', 'Nope\r\n\r\n'][Math.floor(r() * 3)]!));
        else if (kind === 1) chunks.push(frame(['null', '[1]', '{', '{"jsonrpc":"2.0","id":{},"method":"x"}', '{"jsonrpc":"1.0","id":1}'][Math.floor(r() * 5)]!));
        else {
          const method = LSP_METHODS[Math.floor(r() * LSP_METHODS.length)]!;
          const good = { textDocument: { uri: r() < 0.7 ? uri : hostileValue(r), version: 2 + k, text: 'int x;', languageId: 'c' }, position: { line: r() < 0.5 ? Math.floor(r() * 400) : hostileValue(r), character: r() < 0.5 ? Math.floor(r() * 80) : hostileValue(r) }, range: { start: { line: 1, character: 0 }, end: { line: hostileValue(r), character: 2 } }, context: { diagnostics: r() < 0.5 ? [] : hostileValue(r) }, contentChanges: r() < 0.5 ? [{ text: 'int y;' }] : hostileValue(r), query: hostileValue(r) };
          const params = r() < 0.1 ? hostileValue(r) : r() < 0.2 ? {} : good;
          const notify = method.startsWith('textDocument/did') || method.startsWith('$/');
          // keep the document open: a didClose of it would only test the closed path from then on
          if (method === 'textDocument/didClose' && (good.textDocument.uri === uri)) continue;
          chunks.push(frame(JSON.stringify({ jsonrpc: '2.0', ...(notify ? {} : { id: id++ }), method, ...(params === undefined ? {} : { params }) })));
        }
      }
      if (chunks.length > 200) proc.stdin.write(Buffer.concat(chunks.splice(0)));
    }
    proc.stdin.write(Buffer.concat(chunks.splice(0)));
    const last = id++;
    send({ jsonrpc: '2.0', id: last, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 0, character: 0 } } });
    for (let i = 0; i < 1200 && !replies.has(last); i++) await new Promise((res) => setTimeout(res, 50)); // a hang guard
    assert.ok(replies.has(last), `the server still answers (stderr: ${stderr.slice(-3000)})`);
    assert.ok(replies.size > 5000, `${replies.size} replies`);
    assert.deepEqual(bad, []);
    assert.doesNotMatch(stderr, /Cannot read propert|TypeError|\n\s+at /);
  } finally {
    proc.kill();
  }
});
