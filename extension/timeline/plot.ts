// The scenario timeline as plain SVG: per step, bytes readable (rcv_nxt - copied_seq), sk_rcvlowat
// and the wakeups tcp_data_ready() made, with epoll readiness as a strip. Every step is a clickable
// column (data-step) so the webview can reveal it in the scenario file. Plain TS, no vscode, no CDN.

export interface TimelinePoint {
  /** Index in the scenario's `steps` array; -1 for the passive open. */
  step: number;
  /** What happened (`send 258`, `recv 100`, `expect rcvlowat=258`). */
  label: string;
  readable: number;
  rcvlowat: number;
  /** Cumulative sk_data_ready() wakeups after this step. */
  wakeups: number;
  epoll: boolean;
  /** For expect steps: whether every expectation held. */
  expect?: 'pass' | 'fail';
  /** Set when a program faulted during this step. */
  fault?: string;
  /** What an expect step asked for: drawn as hollow markers beside the actual values. */
  expected?: { rcvlowat?: number; readable?: number };
}

export interface PlotOptions { width?: number; height?: number }

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
const INT_MAX = 0x7fffffff;

/** A round axis maximum >= v: 1, 2, 5 x 10^k. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Top of the byte axis: readable bytes and expected values always fit; an rcvlowat far above
 *  them (INT_MAX, or one large final value) is drawn clipped with its number instead of
 *  squashing every other step to the floor (101 vs 102 must stay visible). */
export function axisMax(points: TimelinePoint[]): number {
  const bulk = Math.max(1, ...points.flatMap((p) => [p.readable, p.expected?.readable ?? 0, p.expected?.rcvlowat ?? 0]));
  const lowats = points.map((p) => p.rcvlowat).filter((v) => v < INT_MAX / 2);
  const kept = lowats.filter((v) => v <= 4 * bulk);
  return niceCeil(Math.max(bulk, ...kept) * 1.05);
}

export function renderTimelineSvg(points: TimelinePoint[], opts: PlotOptions = {}): string {
  const W = opts.width ?? 860, H = opts.height ?? 360;
  const m = { l: 64, r: 56, t: 20, b: 92 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const n = Math.max(points.length, 1);
  const colW = pw / n;
  const cx = (i: number) => m.l + colW * (i + 0.5);
  const yMax = axisMax(points);
  const y = (v: number) => m.t + ph - (Math.min(v, yMax) / yMax) * ph;
  const wMax = Math.max(1, ...points.map((p) => p.wakeups));
  const wTop = niceCeil(wMax * 1.25); // headroom: the wakeup line never sits on the frame
  const yW = (v: number) => m.t + ph - (v / wTop) * ph;

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${W} ${H}" width="100%" preserveAspectRatio="xMinYMin meet" style="min-width:${Math.round(W * 0.75)}px; max-width:${W}px" role="img" aria-label="Scenario timeline">`);
  // grid and left axis (bytes)
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4, yy = y(v);
    parts.push(`<line class="grid" x1="${m.l}" x2="${m.l + pw}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}"/>`);
    parts.push(`<text class="axis" x="${m.l - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end">${Math.round(v)}</text>`);
  }
  parts.push(`<text class="axis" transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">bytes</text>`);
  // right axis (wakeups)
  for (let k = 0; k <= 2; k++) {
    const v = (wTop * k) / 2;
    parts.push(`<text class="axis wake" x="${m.l + pw + 6}" y="${(yW(v) + 4).toFixed(1)}">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`);
  }
  parts.push(`<text class="axis wake" transform="translate(${W - 12} ${m.t + ph / 2}) rotate(90)" text-anchor="middle">wakeups</text>`);

  // epoll readiness strip under the plot
  const stripY = m.t + ph + 8;
  parts.push(`<text class="axis" x="${m.l - 6}" y="${stripY + 9}" text-anchor="end">epoll</text>`);
  points.forEach((p, i) => {
    parts.push(`<rect class="epoll ${p.epoll ? 'on' : 'off'}" x="${(m.l + colW * i + 1).toFixed(1)}" y="${stripY}" width="${Math.max(colW - 2, 1).toFixed(1)}" height="12"/>`);
  });

  // readable: stepped area; rcvlowat: stepped dashed line; wakeups: cumulative line on the right axis
  const stepPath = (vals: number[], yf: (v: number) => number) => vals.map((v, i) => {
    const x0 = m.l + colW * i, x1 = x0 + colW, yy = yf(v).toFixed(1);
    return `${i === 0 ? 'M' : 'L'}${x0.toFixed(1)},${yy} L${x1.toFixed(1)},${yy}`;
  }).join(' ');
  if (points.length) {
    const rd = stepPath(points.map((p) => p.readable), y);
    parts.push(`<path class="readable-area" d="${rd} L${(m.l + pw).toFixed(1)},${(m.t + ph).toFixed(1)} L${m.l},${(m.t + ph).toFixed(1)} Z"/>`);
    parts.push(`<path class="readable" d="${rd}"/>`);
    parts.push(`<path class="rcvlowat" d="${stepPath(points.map((p) => p.rcvlowat), y)}"/>`);
    parts.push(`<polyline class="wakeups" points="${points.map((p, i) => `${cx(i).toFixed(1)},${yW(p.wakeups).toFixed(1)}`).join(' ')}"/>`);
  }
  // per-step markers and click targets
  points.forEach((p, i) => {
    const x = cx(i);
    const woke = p.wakeups - (i > 0 ? points[i - 1]!.wakeups : 0);
    const low = p.rcvlowat >= INT_MAX / 2 ? 'INT_MAX' : String(p.rcvlowat);
    const tip = `${p.step < 0 ? 'open' : `step ${p.step}`}: ${p.label}\nreadable ${p.readable}, sk_rcvlowat ${low}, epoll ${p.epoll ? 1 : 0}, wakeups ${p.wakeups}${woke > 0 ? ` (+${woke})` : ''}`
      + (p.expect ? `\nexpect: ${p.expect}` : '') + (p.fault ? `\nfault: ${p.fault}` : '');
    parts.push(`<g class="step${p.expect ? ' expect-' + p.expect : ''}${p.fault ? ' fault' : ''}" data-step="${p.step}" tabindex="0">`);
    parts.push(`<title>${esc(tip)}</title>`);
    parts.push(`<rect class="hit" x="${(m.l + colW * i).toFixed(1)}" y="${m.t}" width="${colW.toFixed(1)}" height="${ph + 22}"/>`);
    parts.push(`<circle class="pt readable" cx="${x.toFixed(1)}" cy="${y(p.readable).toFixed(1)}" r="4"/>`);
    if (p.rcvlowat >= INT_MAX / 2) parts.push(`<text class="clip" x="${x.toFixed(1)}" y="${m.t - 6}" text-anchor="middle">\u2191 INT_MAX</text>`);
    else if (p.rcvlowat > yMax) parts.push(`<text class="clip" x="${x.toFixed(1)}" y="${m.t - 6}" text-anchor="middle">\u2191 ${p.rcvlowat}</text>`);
    else parts.push(`<rect class="pt rcvlowat" x="${(x - 4).toFixed(1)}" y="${(y(p.rcvlowat) - 4).toFixed(1)}" width="8" height="8"/>`);
    const ex = p.expected;
    if (ex?.readable !== undefined) parts.push(`<circle class="want readable${ex.readable === p.readable ? '' : ' miss'}" cx="${(x + 7).toFixed(1)}" cy="${y(ex.readable).toFixed(1)}" r="5"/>`);
    if (ex?.rcvlowat !== undefined) parts.push(`<rect class="want rcvlowat${ex.rcvlowat === p.rcvlowat ? '' : ' miss'}" x="${(x + 2).toFixed(1)}" y="${(y(ex.rcvlowat) - 5).toFixed(1)}" width="10" height="10"/>`);
    if (woke > 0) parts.push(`<path class="pt wake" d="M${x.toFixed(1)},${(yW(p.wakeups) - 6).toFixed(1)} l5,9 l-10,0 Z"/>`);
    if (p.expect) parts.push(`<text class="mark ${p.expect}" x="${x.toFixed(1)}" y="${stripY + 28}" text-anchor="middle">${p.expect === 'pass' ? '\u2713' : '\u2717'}</text>`);
    if (p.fault) parts.push(`<text class="mark fail" x="${x.toFixed(1)}" y="${stripY + 28}" text-anchor="middle">!</text>`);
    const lab = p.label.length > 14 ? p.label.slice(0, 13) + '\u2026' : p.label;
    parts.push(`<text class="xlab" transform="translate(${x.toFixed(1)} ${stripY + 40}) rotate(35)">${esc(p.step < 0 ? lab : `${p.step} ${lab}`)}</text>`);
    parts.push('</g>');
  });
  // legend
  const lg = [['readable', 'bytes readable'], ['rcvlowat', 'sk_rcvlowat'], ['wakeups', 'wakeups (cumulative)']];
  lg.forEach(([cls, text], k) => {
    const x = m.l + 10 + k * 150;
    parts.push(`<line class="legend ${cls}" x1="${x}" x2="${x + 22}" y1="${m.t + 6}" y2="${m.t + 6}"/><text class="axis" x="${x + 28}" y="${m.t + 10}">${text}</text>`);
  });
  if (points.some((p) => p.expected)) {
    const x = m.l + 10 + 3 * 150;
    parts.push(`<rect class="want legend-want" x="${x + 6}" y="${m.t + 1}" width="10" height="10"/><text class="axis" x="${x + 28}" y="${m.t + 10}">expected (hollow)</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Styles for the plot, from the editor theme's chart colours. */
export const TIMELINE_CSS = `
.timeline { font: 11px var(--vscode-font-family, sans-serif); }
.timeline .axis { fill: var(--vscode-descriptionForeground, #888); }
.timeline .xlab { fill: var(--vscode-foreground, #ccc); font-size: 10px; }
.timeline .grid { stroke: var(--vscode-editorWidget-border, #444); stroke-width: 0.5; }
.timeline .readable-area { fill: var(--vscode-charts-blue, #3794ff); opacity: 0.15; }
.timeline path.readable, .timeline .legend.readable { fill: none; stroke: var(--vscode-charts-blue, #3794ff); stroke-width: 2; }
.timeline path.rcvlowat, .timeline .legend.rcvlowat { fill: none; stroke: var(--vscode-charts-orange, #d18616); stroke-width: 2; stroke-dasharray: 6 3; }
.timeline polyline.wakeups, .timeline .legend.wakeups { fill: none; stroke: var(--vscode-charts-purple, #b180d7); stroke-width: 1.5; }
.timeline circle.readable { fill: var(--vscode-charts-blue, #3794ff); }
.timeline rect.rcvlowat { fill: var(--vscode-charts-orange, #d18616); }
.timeline .wake { fill: var(--vscode-charts-purple, #b180d7); }
.timeline .clip { fill: var(--vscode-charts-orange, #d18616); font-size: 10px; }
.timeline .want { fill: none; stroke-width: 1.5; }
.timeline circle.want.readable { stroke: var(--vscode-charts-blue, #3794ff); }
.timeline rect.want.rcvlowat, .timeline .legend-want { stroke: var(--vscode-charts-orange, #d18616); }
.timeline .want.miss { stroke: var(--vscode-testing-iconFailed, #f14c4c); stroke-width: 2; }
.timeline .epoll.on { fill: var(--vscode-charts-green, #89d185); }
.timeline .epoll.off { fill: var(--vscode-editorWidget-border, #444); opacity: 0.5; }
.timeline .mark.pass { fill: var(--vscode-testing-iconPassed, #73c991); font-weight: bold; }
.timeline .mark.fail { fill: var(--vscode-testing-iconFailed, #f14c4c); font-weight: bold; }
.timeline .hit { fill: transparent; cursor: pointer; }
.timeline .step:hover .hit, .timeline .step:focus .hit, .timeline .step.selected .hit { fill: var(--vscode-list-hoverBackground, #2a2d2e); opacity: 0.6; }
.timeline .step { outline: none; }
`;
