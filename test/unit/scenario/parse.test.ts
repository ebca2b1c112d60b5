// Broken scenario files: every error names the file, the JSON path and line, and what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { table } from '../../../sockops/index';
import { parseScenario, ScenarioError } from '../../../debugger/scenario/index';
import { runCommand } from '../../../cli/run';

const t = table();
const constant = (n: string) => t.constant(n);
const base = (steps: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ program: 'x.bpf.o', stream: [{ u32le: [100, 150] }, { zeros: 250 }], steps, ...extra }, null, 2);

function parseErr(text: string): ScenarioError {
  try {
    parseScenario(text, '/tmp/s.scenario.json', { constant });
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `ScenarioError expected, got ${e}`);
    return e;
  }
  assert.fail('no error');
}

test('a good scenario parses: stream bytes, send offsets, setsockopt value, names resolved', () => {
  const text = base([{ setsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT', int: 7 } }, { send: 8 }, { segment: { offset: 100, len: 10 } }, { send: 2 }, { expect: { rcvlowat: 7, epoll: 0 } }]);
  const sc = parseScenario(base([{ setsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT', int: 7 } }, { send: 8 }, { segment: { offset: 100, len: 10 } }, { send: 2 }, { expect: { rcvlowat: 7, epoll: 0 } }]), '/tmp/a/s.scenario.json', { constant });
  assert.equal(sc.stream.length, 258);
  assert.deepEqual([...sc.stream.subarray(0, 8)], [100, 0, 0, 0, 150, 0, 0, 0]);
  assert.equal(sc.program, '/tmp/a/x.bpf.o');
  const s0 = sc.steps[0]!.step;
  assert.ok(s0.kind === 'setsockopt' && s0.level === 1 && s0.optname === 18 && s0.optval[0] === 7);
  const sends = sc.steps.filter((s) => s.step.kind === 'send').map((s) => (s.step as { offset: number }).offset);
  assert.deepEqual(sends, [0, 8]);
  // the step object opens on the line before its "expect" key
  assert.equal(sc.steps[4]!.line, text.split('\n').findIndex((l) => l.includes('"expect"')));
  assert.equal(sc.socket.family, 'inet6');
});

test('bad JSON: line and column', () => {
  const e = parseErr('{\n  "program": "x.o",\n  "steps": [ {"send": 1}, ]\n}');
  assert.equal(e.line, 3);
  assert.match(e.message, /s\.scenario\.json:3:\d+: not valid JSON/);
});

test('unknown step kind: names steps[1] and its line, lists the kinds', () => {
  const e = parseErr(base([{ send: 1 }, { sned: 3 }]));
  assert.equal(e.path, 'steps[1]');
  assert.ok(e.line && e.line > 1);
  assert.match(e.message, /unknown step kind "sned"; use one of send, recv/);
});

test('stream too short: says which bytes and what to do', () => {
  const e = parseErr(base([{ send: 200 }, { send: 100 }]));
  assert.equal(e.path, 'steps[1].send');
  assert.match(e.message, /needs stream bytes 200\.\.300 but the stream has only 258 bytes; add to "stream"/);
});

test('bad types: path to the value', () => {
  assert.equal(parseErr(base([{ send: 'ten' }])).path, 'steps[0].send');
  assert.match(parseErr(base([{ expect: { epoll: 2 } }])).message, /steps\[0\]\.expect\.epoll: "epoll" \(0 or 1\) must be between 0 and 1/);
  assert.match(parseErr(base([{ expect: { rcvlowta: 2 } }])).message, /unknown expectation "rcvlowta"/);
  assert.match(parseErr(base([{ setsockopt: { level: 'SOL_NOPE', optname: 1, int: 1 } }])).message, /unknown constant name "SOL_NOPE"/);
  assert.match(parseErr(base([], { socket: { family: 'unix' } })).message, /socket\.family: "family" must be "inet" or "inet6"/);
  assert.match(parseErr(base([{ send: 1, recv: 2 }])).message, /a step has one kind/);
  assert.match(parseErr(JSON.stringify({ program: 'a.o', steps: [] })).message, /missing "stream"/);
  assert.match(parseErr(base([], { program: 'a.txt' })).message, /must name a \.o/);
  assert.match(parseErr(base([{ fin: true }, { send: 1 }])).message, /already sent FIN/);
  assert.match(parseErr(base([{ op: 'BPF_SOCK_OPS_NOPE' }])).message, /unknown op "BPF_SOCK_OPS_NOPE"/);
});

async function run(args: string[]) {
  let out = '', err = '';
  const code = await runCommand(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

test('bpf-sockops run: broken inputs give one clear line and exit 2, never a stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-sc-'));
  const missing = join(dir, 'missing.scenario.json');
  writeFileSync(missing, base([{ send: 8 }]));
  let r = await run([missing]);
  assert.equal(r.code, 2);
  assert.match(r.err, /program: cannot read .*x\.bpf\.o \(ENOENT\); check "program"/);
  assert.doesNotMatch(r.err, /\n\s+at /);

  const badFn = join(dir, 'badfn.scenario.json');
  writeFileSync(badFn, JSON.stringify({ program: join(__dirname, '../../../examples/autolowat/autolowat.bpf.o'), sockops: 'no_such_prog', stream: [{ zeros: 4 }], steps: [{ send: 4 }] }));
  r = await run([badFn]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no_such_prog/);
  assert.match(r.err, /tcp_autolowat/); // lists the programs there are

  const badC = join(dir, 'bad.c');
  writeFileSync(badC, 'int f( {\n');
  const cs = join(dir, 'c.scenario.json');
  writeFileSync(cs, JSON.stringify({ program: 'bad.c', stream: [{ zeros: 4 }], steps: [{ send: 4 }] }));
  r = await run([cs]);
  assert.equal(r.code, 2);
  assert.match(r.err, /bad\.c/);

  r = await run([join(dir, 'nope.json')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /nope\.json: cannot read the scenario file \(ENOENT\)/);
  r = await run([missing, '--format', 'yaml']);
  assert.equal(r.code, 2);
});

test('hostile JSON: deep nesting, numbers too long or too large, "__proto__" keys give a ScenarioError with the place', () => {
  // deep nesting: a syntax error at the depth limit, not the host's stack overflow
  const deep = parseErr('{"program": "x.o", "stream": ' + '['.repeat(100000) + ']'.repeat(100000) + ', "steps": []}');
  assert.match(deep.message, /s\.scenario\.json:1:\d+: not valid JSON: .*nested deeper than 512/);
  // a 100-digit integer is valid JSON: it is read whole and refused as out of range at its path
  const long = parseErr(base([{ send: 0 }]).replace('"send": 0', '"send": 1' + '0'.repeat(99)));
  assert.equal(long.path, 'steps[0].send');
  assert.match(long.message, /"send" \(a byte count\) must be between 0 and 67108864, got 1e\+99/);
  // 1e400 overflows a double: say so instead of "got null"
  const inf = parseErr(base([{ recv: 0 }]).replace('"recv": 0', '"recv": 1e400'));
  assert.equal(inf.path, 'steps[0].recv');
  assert.match(inf.message, /must be an integer, got Infinity \(the number is too large\)/);
  assert.match(parseErr(base([{ send: 1.5 }])).message, /must be an integer, got 1\.5/);
  // "__proto__" is a property like any other: not a way to smuggle in "program"
  const proto = parseErr('{"__proto__": {"program": "x.o"}, "stream": [], "steps": []}');
  assert.equal(proto.path, '__proto__');
  assert.match(proto.message, /unknown property "__proto__"/);
  assert.match(parseErr(base([{ send: 1 }]).replace('"send": 1', '"__proto__": {"recv": 1}, "send": 1')).message, /steps\[0\]\.__proto__: a step has one kind; "__proto__" does not belong with "send"/);
});

test('a send step with "fin" parses whatever the key order; "fin" with another kind is refused', () => {
  const sc = parseScenario(base([{ fin: true, send: 8 }]), '/tmp/s.scenario.json', { constant });
  assert.deepEqual(sc.steps[0]!.step, { kind: 'send', len: 8, offset: 0, fin: true });
  assert.equal(sc.steps[0]!.label, 'send 8 + FIN');
  const e = parseErr(base([{ fin: true, recv: 8 }]));
  assert.equal(e.path, 'steps[0].fin');
  assert.match(e.message, /"fin" does not belong with "recv"/);
});

test('the stream is at most 64 MiB in all: a longer one is refused at the piece that passes the limit', () => {
  const e = parseErr(base([], { stream: [{ zeros: 1 << 26 }, { u8: [1, 2] }] }));
  assert.equal(e.path, 'stream[1]');
  assert.match(e.message, /the stream would be 67108866 bytes; at most 67108864 in all: shorten "stream"/);
});
