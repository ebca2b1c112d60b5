// `bpf-sockops check` as design.md §5 fixes it: JSON fields, 1-based positions, text lines,
// exit codes; bad arguments and unreadable files are reported, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkCommand, type CheckDiagnostic } from '../../../cli/check';
import { FIXTURES, expectations, read } from './helpers';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await checkCommand(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

const ERRORS = path.join(FIXTURES, 'rcvq_cb_helpers.bpf.c');
const CLEAN = path.join(FIXTURES, 'ok_rcvq_autolowat.bpf.c');
const WARN_ONLY = path.join(FIXTURES, 'cb_flags.bpf.c');

test('json: the fields of §5, 1-based, matching the expect marks; exit 1 with errors', async () => {
  const r = await run([ERRORS, '--format', 'json']);
  assert.equal(r.code, 1);
  const diags = JSON.parse(r.out) as CheckDiagnostic[];
  for (const d of diags) {
    assert.deepEqual(Object.keys(d).sort(), ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity']);
    assert.equal(d.file, ERRORS);
    assert.ok(d.line >= 1 && d.column >= 1);
  }
  assert.deepEqual(diags.map((d) => `${d.line}:${d.code}:${d.severity}`).sort(), expectations(read(ERRORS)));
  const first = diags.find((d) => d.code === 'SOCKOPS002')!;
  const line = read(ERRORS).split('\n')[first.line - 1]!;
  assert.equal(line.slice(first.column - 1, first.endColumn - 1), 'bpf_sock_ops_tcp_set_rcvlowat');
});

test('text: file:line:col: severity CODE: message; exit 0 with warnings only, 0 and no output when clean', async () => {
  const w = await run([WARN_ONLY]);
  assert.equal(w.code, 0);
  const lines = w.out.trim().split('\n');
  assert.equal(lines.length, expectations(read(WARN_ONLY)).length);
  for (const l of lines) assert.match(l, /^.+cb_flags\.bpf\.c:\d+:\d+: warning SOCKOPS006: .+/);
  const c = await run([CLEAN, '--format=text']);
  assert.deepEqual([c.code, c.out, c.err], [0, '', '']);
  const j = await run([CLEAN, '--format', 'json']);
  assert.deepEqual(JSON.parse(j.out), []);
});

test('several files in one run, each from a fresh parse', async () => {
  const r = await run(['--format', 'json', WARN_ONLY, ERRORS, CLEAN]);
  const diags = JSON.parse(r.out) as CheckDiagnostic[];
  assert.deepEqual([...new Set(diags.map((d) => path.basename(d.file)))], ['cb_flags.bpf.c', 'rcvq_cb_helpers.bpf.c']);
  assert.equal(r.code, 1);
});

test('bad arguments and unreadable files: a message naming the problem', async () => {
  const none = await run([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /no input files/);
  const fmt = await run([CLEAN, '--format', 'xml']);
  assert.equal(fmt.code, 2);
  assert.match(fmt.err, /--format must be text or json/);
  const missing = await run(['/nonexistent/x.bpf.c']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /\/nonexistent\/x\.bpf\.c: cannot read the C source \(ENOENT\)/);
});
