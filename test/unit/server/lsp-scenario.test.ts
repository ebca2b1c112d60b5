// Scenario diagnostics over `bpf-sockops lsp`: a scenario document gets what `run` would refuse
// (at the right line), a missing program file, and programs not in the object / C file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DidOpenTextDocumentNotification } from 'vscode-languageserver-protocol/node';
import { ROOT, read } from './helpers';
import { startLsp, stopLsp, openDoc, diagnosticsFor, type Client } from './lspclient';

let c: Client;
const tmp = mkdtempSync(path.join(tmpdir(), 'bpf-sockops-scn-'));
before(async () => {
  c = await startLsp();
  copyFileSync(path.join(ROOT, 'test/fixtures/quickfix/rcvlowat.bpf.c'), path.join(tmp, 'hook.bpf.c'));
  copyFileSync(path.join(ROOT, 'examples/autolowat/autolowat.bpf.o'), path.join(tmp, 'prebuilt.bpf.o'));
});
after(async () => { await stopLsp(c); rmSync(tmp, { recursive: true, force: true }); });

let n = 0;
async function check(scenario: object | string): Promise<{ code: string; line: number; message: string; severity?: number; text: string }[]> {
  const text = typeof scenario === 'string' ? scenario : JSON.stringify(scenario, null, 2);
  const file = path.join(tmp, `s${n++}.scenario.json`);
  writeFileSync(file, text);
  const d = await openDoc(c, pathToFileURL(file).href, text, 'json');
  const lines = text.split('\n');
  return d.diagnostics.map((x) => ({ code: String(x.code), line: x.range.start.line, message: x.message, severity: x.severity,
    text: lines[x.range.start.line]!.slice(x.range.start.character, x.range.end.character) }));
}

const base = { program: 'hook.bpf.c', stream: [{ zeros: 100 }], steps: [{ send: 100 }, { expect: { readable: 100 } }] };

test('a correct scenario (C program, and the example with its prebuilt object) gets no diagnostics', async () => {
  assert.deepEqual(await check(base), []);
  assert.deepEqual(await check({ ...base, sockops: 'lowat' }), []);
  const ex = path.join(ROOT, 'examples/autolowat/case1-one-frame.scenario.json');
  const d = await openDoc(c, pathToFileURL(ex).href, read(ex), 'json');
  assert.deepEqual(d.diagnostics, []);
});

test('a sockops name that is not in the C file: SCENARIO003 on the name, listing the programs', async () => {
  const d = await check({ ...base, sockops: 'tcp_lowat' });
  assert.equal(d.length, 1);
  assert.equal(d[0]!.code, 'SCENARIO003');
  assert.equal(d[0]!.text, '"tcp_lowat"');
  assert.match(d[0]!.message, /no program named tcp_lowat in hook\.bpf\.c; programs there: lowat \(SEC\("sockops"\)\)\. Did you mean "lowat"\?/);
});

test('a program in the wrong section, and names checked against a prebuilt object', async () => {
  const wrong = await check({ ...base, setsockopt: 'lowat' });
  assert.match(wrong[0]!.message, /lowat is in SEC\("sockops"\), but the "setsockopt" program must be SEC\("cgroup\/setsockopt"\)/);
  const obj = await check({ ...base, program: 'prebuilt.bpf.o', sockops: 'nope' });
  assert.equal(obj[0]!.code, 'SCENARIO003');
  assert.match(obj[0]!.message, /no program named nope in prebuilt\.bpf\.o; programs there: .*tcp_autolowat \(SEC\("sockops"\)\)/);
});

test('the program file: missing is an error; a missing .o next to its .c a warning that says how to build it', async () => {
  const missing = await check({ ...base, program: 'nothere.bpf.c' });
  assert.equal(missing[0]!.code, 'SCENARIO002');
  assert.equal(missing[0]!.severity, 1);
  assert.equal(missing[0]!.text, '"nothere.bpf.c"');
  assert.match(missing[0]!.message, /program file not found: nothere\.bpf\.c/);
  const noObj = await check({ ...base, program: 'hook.bpf.o', sockops: 'other' });
  assert.deepEqual(noObj.map((x) => [x.code, x.severity]), [['SCENARIO002', 2], ['SCENARIO003', 1]]);
  assert.match(noObj[0]!.message, /hook\.bpf\.o does not exist yet: compile hook\.bpf\.c \(clang -target bpf -O2 -g -c hook\.bpf\.c -o hook\.bpf\.o\)/);
});

test('steps against the stream: what run refuses, at the step\'s line', async () => {
  const text = JSON.stringify({ ...base, steps: [{ send: 60 }, { send: 60 }] }, null, 2);
  const d = await check(text);
  assert.equal(d.length, 1);
  assert.equal(d[0]!.code, 'SCENARIO001');
  assert.match(d[0]!.message, /steps\[1\]\.send: .*needs stream bytes 60\.\.120 but the stream has only 100 bytes/);
  assert.match(text.split('\n')[d[0]!.line]!, /"send": 60/);
  assert.ok(d[0]!.line > text.split('\n').findIndex((l) => l.includes('"send": 60')), 'the second send');
});

test('renaming the function in the open C file updates the scenario\'s diagnostics', async () => {
  const file = path.join(tmp, 'rename.scenario.json');
  const text = JSON.stringify({ ...base, sockops: 'lowat' }, null, 2);
  writeFileSync(file, text);
  const uri = pathToFileURL(file).href;
  assert.deepEqual((await openDoc(c, uri, text, 'json')).diagnostics, []);
  const hookUri = pathToFileURL(path.join(tmp, 'hook.bpf.c')).href;
  const renamed = read(path.join(tmp, 'hook.bpf.c')).replace('int lowat(', 'int lowat2(');
  c.diags.delete(uri);
  c.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: hookUri, languageId: 'c', version: 1, text: renamed } });
  const d = await diagnosticsFor(c, uri);
  assert.match(d.diagnostics[0]!.message, /no program named lowat in hook\.bpf\.c; programs there: lowat2/);
});
