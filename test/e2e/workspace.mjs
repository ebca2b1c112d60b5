// The test workspace: the example AutoLOWAT hook with its object and scenarios, plus a copy of the
// hook with a known mistake (bpf_setsockopt under `case BPF_SOCK_OPS_RCVQ_CB:`, where the kernel
// returns -EOPNOTSUPP). Returns what the UI test needs to know: file names and lines.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './workbench.mjs';

const require = createRequire(path.join(ROOT, 'package.json'));
const EXAMPLE = process.env.E2E_EXAMPLE ? path.resolve(process.env.E2E_EXAMPLE) : path.join(ROOT, 'examples', 'autolowat');
/** The scenario the debug and timeline steps use: the demo of package.json (`npm run demo`). */
const PREFERRED = ['case4-partial-descriptor.scenario.json'];

export function buildWorkspace(ws) {
  if (!fs.existsSync(EXAMPLE)) throw new Error(`${EXAMPLE} is missing: the e2e test drives the example hook`);
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  fs.cpSync(EXAMPLE, ws, { recursive: true });
  const files = fs.readdirSync(ws).sort();
  const hook = files.find((f) => f.endsWith('.bpf.c')) ?? files.find((f) => f.endsWith('.c'));
  if (!hook) throw new Error(`no .c hook in ${EXAMPLE}`);
  const src = fs.readFileSync(path.join(ws, hook), 'utf8');
  const lines = src.split('\n');

  // the last line that calls the kfunc (not its extern declaration): the hook's main path
  const calls = lines.map((l, i) => (/\bbpf_sock_ops_tcp_set_rcvlowat\s*\(/.test(l) && !/__ksym|^\s*extern\b|^\s*\*|^\s*\/\//.test(l) ? i : -1)).filter((i) => i >= 0);
  if (calls.length === 0) throw new Error(`${hook} never calls bpf_sock_ops_tcp_set_rcvlowat()`);
  const kfuncIdx = calls.at(-1);
  // the breakpoint: the statement before the call (clang -O2 may give the call line no line_info)
  let bpIdx = kfuncIdx - 1;
  while (bpIdx > 0 && /^\s*(\/\/.*|\/\*.*|\*.*|)$/.test(lines[bpIdx])) bpIdx--;

  // a local the Variables view and a hover must show at the breakpoint: the first variable passed
  // to the call on the breakpoint's line (`lowat = wanted_rcvlowat(st, ...)`: st)
  const arg = /\(\s*([A-Za-z_]\w*)\s*[,)]/.exec(lines[bpIdx]);
  if (!arg) throw new Error(`${hook}:${bpIdx + 1} passes no variable to a call: the locals stage has nothing to hover`);

  // the mistake: bpf_setsockopt at RCVQ_CB
  const caseIdx = lines.findIndex((l) => /case\s+BPF_SOCK_OPS_RCVQ_CB\s*:/.test(l));
  let broken = lines.slice();
  let brokenIdx;
  const call = 'bpf_setsockopt(skops, 1 /* SOL_SOCKET */, 18 /* SO_RCVLOWAT */, &e2e_lowat, sizeof(e2e_lowat));';
  if (caseIdx >= 0) {
    const indent = (/^\s*/.exec(lines[caseIdx + 1] ?? '')?.[0] || '\t\t');
    broken.splice(caseIdx + 1, 0, `${indent}{ int e2e_lowat = 1; ${call} }`);
    brokenIdx = caseIdx + 1;
  } else {
    // no switch: put it right before the kfunc call, which runs at RCVQ_CB only
    const indent = /^\s*/.exec(lines[kfuncIdx])?.[0] ?? '\t';
    broken.splice(kfuncIdx, 0, `${indent}{ int e2e_lowat = 1; ${call} }`);
    brokenIdx = kfuncIdx;
  }
  const brokenName = 'broken.bpf.c';
  fs.writeFileSync(path.join(ws, brokenName), broken.join('\n'));

  const scenarios = files.filter((f) => f.endsWith('.scenario.json'));
  if (scenarios.length === 0) throw new Error(`no *.scenario.json in ${EXAMPLE}`);
  const debugScenario = PREFERRED.find((s) => scenarios.includes(s)) ?? scenarios[0];
  const { parseTree, findNodeAtLocation } = require('jsonc-parser');
  const stext = fs.readFileSync(path.join(ws, debugScenario), 'utf8');
  const steps = findNodeAtLocation(parseTree(stext), ['steps'])?.children ?? [];
  const lineOf = (off) => stext.slice(0, off).split('\n').length - 1;

  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });

  // a scenario with one wrong expectation: the Testing view must fail it at that step's line
  const wrongScenario = 'wrong-expect.scenario.json';
  const base = scenarios.find((f) => f.startsWith('case1-')) ?? scenarios[0];
  const wtext = fs.readFileSync(path.join(ws, base), 'utf8');
  const wsteps = findNodeAtLocation(parseTree(wtext), ['steps'])?.children ?? [];
  const wrongIdx = wsteps.findIndex((n) => n.children?.[0]?.children?.[0]?.value === 'expect');
  if (wrongIdx < 0) throw new Error(`${base} has no expect step`);
  const ws0 = wsteps[wrongIdx];
  fs.writeFileSync(path.join(ws, wrongScenario), wtext.slice(0, ws0.offset) + '{ "expect": { "rcvlowat": 123456 } }' + wtext.slice(ws0.offset + ws0.length));
  const wrongLine = wtext.slice(0, ws0.offset).split('\n').length; // 1-based

  return {
    files: fs.readdirSync(ws).sort(),
    hook,
    kfuncLine: kfuncIdx + 1,
    bpLine: bpIdx + 1,
    localName: arg[1],
    localCol: arg.index + arg[0].indexOf(arg[1]) + 2, // 1-based, one character into the name
    ...firstRcvlowatChange(path.join(ws, debugScenario)),
    secLine: lines.findIndex((l) => /^\s*SEC\("sockops"\)/.test(l)) + 1,
    sockopsFunc: /SEC\("sockops"\)\s*\n?\s*int\s+(\w+)/.exec(src)?.[1] ?? 'tcp_autolowat',
    mapName: /\}\s*(\w+)\s+SEC\("\.maps"\)/.exec(src)?.[1] ?? 'autolowat_state',
    broken: brokenName,
    brokenLine: brokenIdx + 1,
    brokenCol: broken[brokenIdx].indexOf('bpf_setsockopt') + 1,
    debugScenario,
    scenarios,
    wrong: { file: wrongScenario, step: wrongIdx, line: wrongLine },
    constLine: lines.findIndex((l) => /\bBPF_SOCK_OPS_RCVQ_CB\b/.test(l) && !/^\s*(\*|\/\/|\/\*)/.test(l)) + 1,
    timelineScenario: debugScenario,
    timelineSteps: steps.length,
    timelineStepLines: steps.map((s) => lineOf(s.offset)),
  };
}

/** For the Restricted Mode phase: a scenario whose program is the C source (it needs the compiler),
 *  and a workspace setting naming a "compiler" that leaves a mark if it is ever run. */
export function addRestrictedModeFixtures(ws, info) {
  const marker = path.join(ws, 'COMPILER-WAS-RUN');
  fs.rmSync(marker, { force: true });
  const evilCompiler = path.join(ws, 'workspace-cc.sh');
  fs.writeFileSync(evilCompiler, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'bpfSockops.clang.path': evilCompiler }, null, 2));
  const cScenario = 'c-program.scenario.json';
  const stext = fs.readFileSync(path.join(ws, info.debugScenario), 'utf8');
  fs.writeFileSync(path.join(ws, cScenario), stext.replace(/"program"\s*:\s*"[^"]*"/, `"program": "${info.hook}"`));
  // a scenario with a misspelt step, for the schema check (no "$schema": the extension's association applies)
  const typoScenario = 'typo.scenario.json';
  fs.writeFileSync(path.join(ws, typoScenario), JSON.stringify({ program: 'autolowat.bpf.o', stream: [{ zeros: 10 }], steps: [{ send: 10 }, { sned: 5 }] }, null, 2) + '\n');
  return { cScenario, marker, evilCompiler, typoScenario };
}

/** sk_rcvlowat before and after the first RCVQ_CB run of the scenario, as `bpf-sockops run`
 *  reports it: what the debugger must show around the kfunc call at the first breakpoint hit. */
function firstRcvlowatChange(scenario) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'bpf-sockops.js'), 'run', scenario, '--format', 'json'], { encoding: 'utf8' });
  let json;
  try { json = JSON.parse(r.stdout); } catch { throw new Error(`bpf-sockops run ${scenario} gave no JSON: ${r.stderr}`); }
  for (let k = 1; k < json.steps.length; k++) {
    if (json.steps[k].runs.some((x) => x.op === 21)) return { rcvlowatBefore: json.steps[k - 1].rcvlowat, rcvlowatAfter: json.steps[k].rcvlowat };
  }
  throw new Error(`${scenario}: no RCVQ_CB run`);
}
