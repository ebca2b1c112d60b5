// A parsed scenario's steps are read from its text when asked (debugger/scenario/steps.ts): the
// common kinds kept as numbers, the rest read again, a few cached. Whatever the order they are
// read in, each step is what the file says: its JSON, line, path, label and compiled step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../../debugger/scenario/index';

const constant = (n: string) => ({ SOL_SOCKET: 1, SO_RCVLOWAT: 18, BPF_SOCK_OPS_RTO_CB: 8 } as Record<string, number>)[n];

function scenario(): { text: string; steps: Record<string, unknown>[] } {
  const steps: Record<string, unknown>[] = [];
  for (let k = 0; k < 100; k++) {
    steps.push({ send: 10 }, k % 2 ? { recv: 10, peek: true } : { recv: 10 });
    if (k % 7 === 0) steps.push({ expect: { readable: 0, printk: `p${k}` }, comment: `frame ${k}` });
    if (k % 11 === 0) steps.push({ setsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT', int: k + 1 } });
    if (k % 13 === 0) steps.push({ op: { op: 'BPF_SOCK_OPS_RTO_CB', args: [k] } }, { advanceTime: '2ms' }, { window: 1000 + k }, { memoryPressure: k % 2 === 0 });
  }
  steps.push({ segment: { offset: 1000, len: 5 } }, { fin: true }, { close: true });
  // pretty-printed: every step starts on a line of its own
  const text = JSON.stringify({ program: 'x.o', stream: [{ zeros: 1005 }], steps }, null, 2);
  return { text, steps };
}

test('every step, read in any order (past the cache), is what the file says', () => {
  const { text, steps } = scenario();
  const sc = parseScenario(text, '/tmp/lazy.scenario.json', { constant });
  assert.equal(sc.steps.length, steps.length);
  assert.ok(steps.length > 200, 'more steps than the cache holds');
  const lines = text.split('\n');
  const stepsLine = lines.indexOf('  "steps": [');
  const order = [...steps.keys()].reverse().concat([...steps.keys()].filter((k) => k % 3 === 0));
  let sent = 0;
  const sentBefore = steps.map((s) => { const at = sent; if (typeof s.send === 'number') sent += s.send; return at; });
  for (const k of order) {
    const s = sc.steps[k]!;
    assert.equal(s.index, k);
    assert.equal(s.path, `steps[${k}]`);
    assert.deepEqual(s.json, steps[k], `steps[${k}] as written`);
    assert.match(lines[s.line! - 1]!, /^ {4}\{$/, `steps[${k}] starts on line ${s.line}`);
    assert.equal(lines.slice(stepsLine, s.line! - 1).filter((l) => l === '    {').length, k, `line ${s.line} is the start of steps[${k}]`);
    const raw = steps[k]!;
    const st = s.step;
    if ('send' in raw) { assert.deepEqual(st, { kind: 'send', len: 10, offset: sentBefore[k], fin: false }); assert.equal(s.label, 'send 10'); }
    if ('recv' in raw) { assert.deepEqual(st, { kind: 'recv', len: 10, peek: raw.peek === true }); assert.equal(s.label, raw.peek ? 'recv 10 (MSG_PEEK)' : 'recv 10'); }
    if ('expect' in raw) { assert.equal(st.kind, 'expect'); assert.equal(s.label, `expect readable=0 printk=${JSON.stringify((raw.expect as { printk: string }).printk)}`); }
    if ('setsockopt' in raw) { assert.deepEqual({ ...st, optval: undefined }, { kind: 'setsockopt', level: 1, optname: 18, optval: undefined, display: `SOL_SOCKET, SO_RCVLOWAT, ${(raw.setsockopt as { int: number }).int}` }); }
    if ('op' in raw) assert.deepEqual(st, { kind: 'op', op: 'BPF_SOCK_OPS_RTO_CB', args: (raw.op as { args: number[] }).args });
    if ('advanceTime' in raw) assert.deepEqual(st, { kind: 'advanceTime', ns: 2_000_000n });
    if ('window' in raw) { assert.deepEqual(st, { kind: 'window', bytes: raw.window }); assert.equal(s.label, `advertise window ${raw.window}`); }
    if ('memoryPressure' in raw) assert.deepEqual(st, { kind: 'memoryPressure', on: raw.memoryPressure });
    if ('segment' in raw) { assert.deepEqual(st, { kind: 'segment', offset: 1000, len: 5, fin: false }); assert.equal(s.label, 'segment 1000..1005'); }
    if ('fin' in raw) assert.deepEqual(st, { kind: 'fin', offset: 1005 });
    if ('close' in raw) assert.deepEqual(st, { kind: 'close' });
    // read again: the same values
    assert.deepEqual(s.step, st);
    assert.deepEqual(s.json, raw);
  }
  assert.deepEqual(sc.printks, [...new Set(steps.filter((s) => 'expect' in s).map((s) => (s.expect as { printk: string }).printk))]);
  // JSON.stringify of a step gives its properties (as a plain object would)
  assert.deepEqual(JSON.parse(JSON.stringify(sc.steps[0])), { step: { kind: 'send', len: 10, offset: 0, fin: false }, index: 0, path: 'steps[0]', line: sc.steps[0]!.line, json: { send: 10 }, label: 'send 10' });
});

test('an error in a long scenario names the step, its line and column as before', () => {
  const { text, steps } = scenario();
  const bad = text.replace('"recv": 10,\n      "peek": true', '"recv": 10,\n      "peek": 1');
  const k = steps.findIndex((s) => s.peek === true);
  const line = bad.split('\n').findIndex((l) => l.includes('"peek": 1')) + 1;
  assert.throws(() => parseScenario(bad, '/tmp/lazy.scenario.json', { constant }), (e: Error) => {
    assert.equal(e.message, `/tmp/lazy.scenario.json:${line}:15: steps[${k}].peek: "peek" must be true or false`);
    return true;
  });
});
