import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outlineScenario } from '../../../extension/scenarioDoc';
import { resolveProgram, scenarioTargetsHook, launchConfigFor } from '../../../extension/scenarioMatch';

const SCENARIO = `{
  "program": "autolowat.bpf.o",
  "sockops": "tcp_autolowat",
  "stream": [ { "u32le": [100, 150] }, { "zeros": 250 } ],
  "steps": [
    { "setsockopt": { "level": 3735928559, "optname": 2343432205, "int": 1 } },
    { "send": 258 },
    {
      "expect": { "rcvlowat": 258, "epoll": 1 }
    }
  ]
}
`;

test('outlines steps with their kind, summary and 0-based lines', () => {
  const o = outlineScenario(SCENARIO);
  assert.equal(o.errors.length, 0);
  assert.equal(o.program?.value, 'autolowat.bpf.o');
  assert.equal(o.program?.span.line, 1);
  assert.equal(o.sockops, 'tcp_autolowat');
  assert.deepEqual(o.steps.map((s) => [s.index, s.kind, s.summary, s.span.line, s.span.endLine]), [
    [0, 'setsockopt', 'setsockopt level=3735928559 optname=2343432205 int=1', 5, 5],
    [1, 'send', 'send 258', 6, 6],
    [2, 'expect', 'expect rcvlowat=258 epoll=1', 7, 9],
  ]);
});

test('a broken file reports its syntax error with a line and still outlines what parsed', () => {
  const o = outlineScenario('{\n  "program": "x.o",\n  "steps": [ { "send": 10 }, { "recv": } ]\n}\n');
  assert.ok(o.errors.length > 0);
  assert.equal(o.errors[0]!.span.line, 2);
  assert.equal(o.program?.value, 'x.o');
  assert.equal(o.steps[0]?.summary, 'send 10');
});

test('not an object: no steps, no crash', () => {
  assert.deepEqual(outlineScenario('[1,2]').steps, []);
  assert.deepEqual(outlineScenario('').steps, []);
});

test('a scenario targets the hook it names, or the object compiled from it', () => {
  assert.equal(resolveProgram('/w/ex/a.scenario.json', '../b/h.bpf.o'), '/w/b/h.bpf.o');
  assert.equal(scenarioTargetsHook('/w/ex/a.scenario.json', 'autolowat.bpf.o', '/w/ex/autolowat.bpf.c'), true);
  assert.equal(scenarioTargetsHook('/w/ex/a.scenario.json', 'autolowat.bpf.c', '/w/ex/autolowat.bpf.c'), true);
  assert.equal(scenarioTargetsHook('/w/ex/a.scenario.json', 'other.bpf.o', '/w/ex/autolowat.bpf.c'), false);
  assert.equal(scenarioTargetsHook('/w/ex/a.scenario.json', 'autolowat.bpf.o', '/w/elsewhere/autolowat.bpf.c'), false);
  assert.equal(scenarioTargetsHook('/w/ex/a.scenario.json', undefined, '/w/ex/autolowat.bpf.c'), false);
});

test('launch configuration follows the debug adapter contract', () => {
  const c = launchConfigFor('/w/ex/case1.scenario.json', '/w/ex/autolowat.bpf.c');
  assert.equal(c.type, 'bpf-sockops');
  assert.equal(c.request, 'launch');
  assert.equal(c.program, '/w/ex/autolowat.bpf.c');
  assert.equal(c.scenario, '/w/ex/case1.scenario.json');
  assert.equal(c.stopOnEntry, false);
  assert.match(c.name, /autolowat\.bpf\.c.*case1\.scenario\.json/);
});

test('F5 without a scenario: the reason names what is wrong (no scenario for the file, or a wrong "sockops")', async () => {
  const { noScenarioReason } = await import('../../../extension/scenarioMatch');
  const none = noScenarioReason('/w/lp16.bpf.c', 'lp16', [{ file: '/w/other.scenario.json', program: 'other.bpf.o' }]);
  assert.match(none.message, /No \*\.scenario\.json in the workspace runs lp16\.bpf\.c/);
  assert.equal(none.open, undefined);
  const wrong = noScenarioReason('/w/lp16.bpf.c', 'lp16', [{ file: '/w/lp16.scenario.json', program: 'lp16.bpf.o', sockops: 'tcp_lp16' }]);
  assert.equal(wrong.message, 'lp16.scenario.json runs lp16.bpf.c but names "sockops": "tcp_lp16"; lp16.bpf.c\'s SEC("sockops") function is lp16. Fix the name in the scenario (the editor marks it).');
  assert.equal(wrong.open, '/w/lp16.scenario.json');
});
