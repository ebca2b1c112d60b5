import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisMax, niceCeil, renderTimelineSvg, type TimelinePoint } from '../../../extension/timeline/plot';
import { timelineHtml, pointsOf, debugTarget } from '../../../extension/timeline/html';
import type { ScenarioRun } from '../../../extension/run';

const run: ScenarioRun = {
  scenario: '/w/a.scenario.json', passed: 1, failed: 1,
  steps: [
    { index: 0, kind: 'setsockopt', label: 'setsockopt', readable: 0, rcvlowat: 1, wakeups: 0, epoll: false, programs: [] },
    { index: 1, kind: 'send', label: 'send 100', readable: 100, rcvlowat: 258, wakeups: 0, epoll: false, programs: ['tcp_autolowat RCVQ_CB r0=1'] },
    { index: 2, kind: 'send', label: 'send 158', readable: 258, rcvlowat: 258, wakeups: 1, epoll: true, programs: [] },
    { index: 3, kind: 'expect', label: 'expect rcvlowat=258', readable: 258, rcvlowat: 258, wakeups: 1, epoll: true, programs: [], expect: { ok: true, failures: [] } },
    { index: 4, kind: 'recv', label: 'recv <script>', readable: 0, rcvlowat: 0x7fffffff, wakeups: 1, epoll: false, programs: [] },
    { index: 5, kind: 'expect', label: 'expect epoll=1', readable: 0, rcvlowat: 0x7fffffff, wakeups: 1, epoll: false, programs: [], expect: { ok: false, failures: [{ text: 'epoll is 0, expected 1', key: 'epoll', expected: '1', actual: '0' }] } },
  ],
};

test('niceCeil rounds up to 1, 2, 5 x 10^k', () => {
  assert.deepEqual([0, 1, 3, 7, 12, 258, 999, 1001].map(niceCeil), [1, 1, 5, 10, 20, 500, 1000, 2000]);
});

test('one clickable group per step, in order, each carrying its step index', () => {
  const svg = renderTimelineSvg(pointsOf(run));
  const steps = [...svg.matchAll(/<g class="step[^"]*" data-step="(\d+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(steps, [0, 1, 2, 3, 4, 5]);
  assert.match(svg, /class="step expect-pass" data-step="3"/);
  assert.match(svg, /class="step expect-fail" data-step="5"/);
});

test('readable bytes and rcvlowat are plotted on the same byte scale', () => {
  const pts: TimelinePoint[] = [
    { step: 0, label: 'a', readable: 0, rcvlowat: 100, wakeups: 0, epoll: false },
    { step: 1, label: 'b', readable: 100, rcvlowat: 100, wakeups: 1, epoll: true },
  ];
  const svg = renderTimelineSvg(pts, { width: 400, height: 300 });
  const cy = [...svg.matchAll(/<circle class="pt readable" cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  const ry = [...svg.matchAll(/<rect class="pt rcvlowat" x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]) + 4);
  assert.equal(cy.length, 2);
  assert.ok(cy[0]! > cy[1]!, 'more readable bytes are drawn higher');
  assert.equal(ry[1], cy[1], 'readable == rcvlowat lands on the same y');
  assert.equal((svg.match(/class="pt wake"/g) ?? []).length, 1, 'one wakeup marker where the count rose');
  assert.equal((svg.match(/class="epoll on"/g) ?? []).length, 1);
});

test('INT_MAX rcvlowat is clipped and labelled instead of flattening the plot', () => {
  const svg = renderTimelineSvg(pointsOf(run));
  assert.equal((svg.match(/INT_MAX/g) ?? []).length >= 2, true);
  const ys = [...svg.matchAll(/cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(Math.min(...ys) < 200, 'the 258-byte points are not squashed to the axis');
});

test('the page escapes labels, has a strict CSP with a nonce, and lists expect failures', () => {
  const html = timelineHtml({ title: 'T <1>', run, cspSource: 'vscode-resource:', nonce: 'abc123' });
  assert.ok(!html.includes('recv <script>'));
  assert.match(html, /recv &lt;script&gt;/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'nonce-abc123'/);
  assert.match(html, /<script nonce="abc123">/);
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'no other script');
  assert.match(html, /epoll is 0, expected 1/);
  assert.match(html, /1 passed, 1 failed/);
  assert.equal((html.match(/<tr data-step=/g) ?? []).length, 6);
});

test('one large rcvlowat does not rescale the axis: 101 and 102 stay apart, the large one is clipped with its value', () => {
  const pts: TimelinePoint[] = [
    { step: 0, label: 'a', readable: 101, rcvlowat: 101, wakeups: 0, epoll: true },
    { step: 1, label: 'b', readable: 102, rcvlowat: 102, wakeups: 1, epoll: true },
    { step: 2, label: 'c', readable: 0, rcvlowat: 1_000_000, wakeups: 1, epoll: false },
  ];
  assert.ok(axisMax(pts) <= 200, `axis top ${axisMax(pts)}`);
  const svg = renderTimelineSvg(pts, { width: 400, height: 300 });
  const cy = [...svg.matchAll(/<circle class="pt readable" cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(cy[0]! - cy[1]! >= 1, `101 and 102 at least a pixel apart (${cy[0]} vs ${cy[1]})`);
  assert.match(svg, /\u2191 1000000/);
  // A large value that is near the readable bytes still sets the axis.
  assert.ok(axisMax([{ step: 0, label: 'x', readable: 300, rcvlowat: 1000, wakeups: 0, epoll: false }]) >= 1000);
});

test('expected values of expect steps are plotted as hollow markers, a miss in the failure colour', () => {
  const withExp: ScenarioRun = { ...run, steps: run.steps.map((s) => (s.index === 3 ? { ...s, expected: { rcvlowat: 258, readable: 258 } } : s.index === 5 ? { ...s, expected: { rcvlowat: 100 } } : s)) };
  const svg = renderTimelineSvg(pointsOf(withExp));
  assert.equal((svg.match(/<circle class="want readable"/g) ?? []).length, 1);
  assert.equal((svg.match(/<rect class="want rcvlowat"/g) ?? []).length, 1, 'the met rcvlowat expectation');
  assert.equal((svg.match(/<rect class="want rcvlowat miss"/g) ?? []).length, 1, 'the missed one');
  assert.match(svg, /expected \(hollow\)/);
});

test('"Debug from here": offered on steps with a program run at or after them, aimed at that run', () => {
  assert.deepEqual(debugTarget(run, 0), { step: 1, program: 'tcp_autolowat' });
  assert.equal(debugTarget(run, 2), undefined);
  const html = timelineHtml({ title: 't', run, cspSource: 'x', nonce: 'n' });
  assert.equal((html.match(/data-debug="/g) ?? []).length, 2, 'steps 0 and 1');
  assert.match(html, /postMessage\(\{ type: 'debug', step: Number/);
});
