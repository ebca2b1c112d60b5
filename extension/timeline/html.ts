// The timeline webview page: the SVG plot, a step table, and a tiny script that posts
// {type: 'reveal', step} when a step is clicked. Plain TS: builds a string.
import { renderTimelineSvg, TIMELINE_CSS, type TimelinePoint } from './plot';
import type { ScenarioRun } from '../run';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

export function pointsOf(run: ScenarioRun): TimelinePoint[] {
  return run.steps.map((s) => {
    const p: TimelinePoint = { step: s.index, label: s.label, readable: s.readable, rcvlowat: s.rcvlowat, wakeups: s.wakeups, epoll: s.epoll };
    if (s.expected && (s.expected.rcvlowat !== undefined || s.expected.readable !== undefined)) p.expected = { rcvlowat: s.expected.rcvlowat, readable: s.expected.readable };
    if (s.expect) p.expect = s.expect.ok ? 'pass' : 'fail';
    if (s.fault) p.fault = s.fault;
    return p;
  });
}

/** The step at or after scenario step `index` whose events ran a program (where "debug from this
 *  step" can stop), with the program's name; undefined when no later step runs one. */
export function debugTarget(run: ScenarioRun, index: number): { step: number; program: string } | undefined {
  const s = run.steps.find((x) => x.index >= index && x.programs.length > 0);
  const program = s?.programs[0]?.split(/\s/)[0];
  return s && program ? { step: s.index, program } : undefined;
}

export function timelineHtml(opts: { title: string; run: ScenarioRun; cspSource: string; nonce: string }): string {
  const { run } = opts;
  const rows = run.steps.map((s) => {
    const dbg = s.index >= 0 && debugTarget(run, s.index) ? `<button class="dbg" data-debug="${s.index}" title="Start the debugger and stop at the first program run of this step (or the next step that runs one)">Debug from here</button>` : '';
    const ex = s.expect ? (s.expect.ok ? '<span class="pass">\u2713</span>' : `<span class="fail">\u2717 ${esc(s.expect.failures.map((f) => f.text).join('; '))}</span>`) : '';
    const low = s.rcvlowat >= 0x3fffffff ? 'INT_MAX' : String(s.rcvlowat);
    return `<tr data-step="${s.index}" tabindex="0"><td>${s.index < 0 ? 'open' : s.index}</td><td>${esc(s.label)}</td><td>${s.readable}</td><td>${low}</td><td>${s.epoll ? 1 : 0}</td><td>${s.wakeups}</td>`
      + `<td class="progs">${esc(s.programs.join('; '))}</td><td>${ex}${s.fault ? `<span class="fail">fault: ${esc(s.fault)}</span>` : ''}</td><td>${dbg}</td></tr>`;
  }).join('\n');
  const summary = `${run.passed} passed, ${run.failed} failed` + (run.error ? ` \u2014 <span class="fail">${esc(run.error.message)}</span>` : '');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${opts.cspSource} 'unsafe-inline'; script-src 'nonce-${opts.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(opts.title)}</title>
<style>
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); padding: 8px 16px; }
h1 { font-size: 1.1em; font-weight: 600; margin: 4px 0 2px; }
.summary { color: var(--vscode-descriptionForeground); margin-bottom: 6px; }
.pass { color: var(--vscode-testing-iconPassed, #73c991); }
.fail { color: var(--vscode-testing-iconFailed, #f14c4c); }
.scroll { overflow-x: auto; }
.plot { overflow-x: auto; }
table { border-collapse: collapse; margin-top: 8px; font-size: 12px; }
th, td { text-align: left; padding: 2px 10px 2px 0; border-bottom: 1px solid var(--vscode-editorWidget-border, #444); }
td.progs { color: var(--vscode-descriptionForeground); max-width: 520px; font-family: var(--vscode-editor-font-family, monospace); font-size: 11px; }
tr[data-step] { cursor: pointer; }
button.dbg { font-size: 11px; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: none; padding: 1px 6px; cursor: pointer; }
tr[data-step]:hover, tr.selected { background: var(--vscode-list-hoverBackground); }
${TIMELINE_CSS}
</style></head>
<body>
<h1>${esc(opts.title)}</h1>
<div class="summary" id="summary">${summary}. Click a step to show it in the scenario file.</div>
<div class="plot">${renderTimelineSvg(pointsOf(run))}</div>
<div class="scroll"><table id="steps"><thead><tr><th>step</th><th>event</th><th>readable</th><th>sk_rcvlowat</th><th>epoll</th><th>wakeups</th><th>programs</th><th>expect</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
<script nonce="${opts.nonce}">
const vscode = acquireVsCodeApi();
function select(step) {
  document.querySelectorAll('.selected').forEach((e) => e.classList.remove('selected'));
  document.querySelectorAll('[data-step="' + step + '"]').forEach((e) => e.classList.add('selected'));
}
function reveal(el) { const step = Number(el.getAttribute('data-step')); select(step); vscode.postMessage({ type: 'reveal', step }); }
document.querySelectorAll('button[data-debug]').forEach((b) => {
  b.addEventListener('click', (e) => { e.stopPropagation(); vscode.postMessage({ type: 'debug', step: Number(b.getAttribute('data-debug')) }); });
  b.addEventListener('keydown', (e) => e.stopPropagation());
});
document.querySelectorAll('[data-step]').forEach((el) => {
  el.addEventListener('click', () => reveal(el));
  el.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') reveal(el); });
});
</script>
</body></html>`;
}
