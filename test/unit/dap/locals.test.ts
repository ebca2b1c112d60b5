// C variables over DAP from the example hook's DWARF (examples/autolowat/autolowat.bpf.c with
// case4-partial-descriptor: the stream starts with the descriptor u32le 100, u32le 150, sent as 1
// then 7 bytes): a Locals scope first in every frame with values checked by hand, in the
// bpf-to-bpf callee parse_skb, its caller, and the inlined wanted_rcvlowat; C expressions in
// evaluate (repl, watch, hover) and in conditions; a condition on a local stops only when true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { collectOutput, EXAMPLE, launch, resume, top, withClient } from './client';

const HOOK_C = join(EXAMPLE, 'autolowat.bpf.c');
const CASE4 = join(EXAMPLE, 'case4-partial-descriptor.scenario.json');
const src = readFileSync(HOOK_C, 'utf8').split('\n');
const lineOf = (text: string) => { const i = src.findIndex((l) => l.includes(text)); assert.ok(i >= 0, text); return i + 1; };
const L_DESC_HAVE = lineOf('st->desc_have = k + 1;'); // parse_skb, after the byte b was stored
const L_TARGET = lineOf('return target - copied_seq;'); // inlined wanted_rcvlowat
const L_LOWAT = lineOf('lowat = wanted_rcvlowat(st, tp->copied_seq);');
// the stream: u32le 100 (header_len), u32le 150 (payload_len), ...
const STREAM = [100, 0, 0, 0, 150, 0, 0, 0];

async function locals(dc: DebugClient, frame = 0): Promise<Record<string, DebugProtocol.Variable>> {
  const f = await top(dc);
  const sc = await dc.scopesRequest({ frameId: f[frame]!.id });
  assert.equal(sc.body.scopes[0]!.name, 'Locals', 'Locals comes first');
  const v = await dc.variablesRequest({ variablesReference: sc.body.scopes[0]!.variablesReference });
  return Object.fromEntries(v.body.variables.map((x) => [x.name, x]));
}

async function ev(dc: DebugClient, expression: string, context: 'repl' | 'watch' | 'hover', frame = 0) {
  const f = await top(dc);
  return (await dc.evaluateRequest({ expression, context, frameId: f[frame]!.id })).body;
}

test('Locals in the bpf-to-bpf callee parse_skb and its caller, with the values the stream gives', async () => {
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_DESC_HAVE }] }));
    assert.equal(s?.body.reason, 'breakpoint');
    let f = await top(dc);
    assert.equal(f[0]!.name, 'parse_skb');
    assert.equal(f[1]!.name, 'tcp_autolowat');
    // first segment: 1 byte at seq 0; the descriptor is collected a byte at a time: j = 0, pos = 0, b = stream[0]
    let l = await locals(dc);
    assert.deepEqual(Object.keys(l).slice(0, 4), ['skops', 'st', 'skb_seq', 'end'], 'parameters first, in order');
    assert.equal(l.skb_seq!.value, '0');
    assert.equal(l.pos!.value, '0');
    assert.equal(l.j!.value, '0');
    assert.equal(l.b!.value, `${STREAM[0]} 'd'`);
    assert.equal(l.b!.type, '__u8');
    assert.match(l.skops!.value, /^0x[0-9a-f]+ \(ctx/);
    assert.equal(l.k!.value, '0', 'k = st->desc_have before this byte: none collected yet');
    // the caller's frame has its own Locals: st is held in r7 (saved at the call), a pointer into the sk_storage value
    const caller = await locals(dc, 1);
    assert.ok('tp' in caller && 'lowat' in caller && !('pos' in caller));
    assert.match(caller.st!.value, /^0x[0-9a-f]+ \(map autolowat_state/);
    const stKids = await dc.variablesRequest({ variablesReference: caller.st!.variablesReference });
    const m = Object.fromEntries(stKids.body.variables.map((x) => [x.name, x.value]));
    assert.equal(m.started, '1');
    assert.equal(m.desc_have, '0', 'the store of k + 1 has not run yet');
    // second segment (seq 1..8), fourth byte of it: descriptor byte 4 is payload_len's low byte
    // (the condition is on k: clang-19's DWARF describes pos inside this loop without the loop counter)
    await dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_DESC_HAVE, condition: 'k == 4' }] });
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    l = await locals(dc);
    assert.equal(l.k!.value, '4');
    assert.equal(l.skb_seq!.value, '1');
    assert.equal(l.j!.value, '3', 'the fourth byte of this segment');
    assert.equal(l.b!.value, `${STREAM[4]}`);
    f = await top(dc);
    assert.equal(f[0]!.line, L_DESC_HAVE);
  });
});

test('the inlined wanted_rcvlowat has its own Locals: target = frame_seq + 8, then the frame end 8 + 100 + 150', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_TARGET }] }));
    let f = await top(dc);
    assert.equal(f[0]!.name, 'wanted_rcvlowat (inlined)');
    let l = await locals(dc);
    assert.deepEqual(Object.keys(l), ['st', 'copied_seq', 'target']);
    assert.equal(l.target!.value, '8', 'descriptor incomplete: its end, frame_seq 0 + DESC_LEN');
    assert.equal(l.copied_seq!.value, '<optimized out>');
    assert.equal(l.st!.type, 'const struct autolowat_state *');
    // the frame below is tcp_autolowat at the call line, with its own variables
    assert.equal(f[1]!.name, 'tcp_autolowat');
    assert.equal(f[1]!.line, L_LOWAT);
    const outer = await locals(dc, 1);
    assert.ok('skops' in outer && 'tp' in outer && !('target' in outer));
    await resume(dc, () => dc.continueRequest({ threadId: 1 }));
    f = await top(dc);
    l = await locals(dc);
    assert.equal(l.target!.value, `${8 + 100 + 150}`, 'descriptor complete: the end of the frame');
    // a local set in its register: the next line computes with it
    const sc = await dc.scopesRequest({ frameId: f[0]!.id });
    const set = await dc.setVariableRequest({ variablesReference: sc.body.scopes[0]!.variablesReference, name: 'target', value: '300' });
    assert.equal(set.body.value, '300');
    assert.equal((await ev(dc, 'target - 1', 'repl')).result, '299 (0x12b)');
  });
});

test('C expressions in evaluate, watch and hover: st->field, *ptr, arr[i], casts, C integer rules', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_DESC_HAVE, condition: 'k == 4' }] }));
    for (const ctx of ['repl', 'watch', 'hover'] as const) {
      // in parse_skb, st is optimized out at this line; its caller's st is in a saved register
      assert.equal((await ev(dc, 'st->desc[4]', ctx, 1)).result, '150', ctx);
      assert.equal((await ev(dc, 'st->desc_have', ctx, 1)).result, '4', ctx);
      assert.equal((await ev(dc, '*(__u32 *)&st->desc[0]', ctx, 1)).result, '100 (0x64)', ctx);
      // b + 200 is an int (promotion), 350; the cast wraps it to 94, shown as gdb shows an unsigned char
      assert.equal((await ev(dc, '(__u8)(b + 200)', ctx)).result, `${(STREAM[4]! + 200) & 0xff} '^'`, ctx);
      assert.equal((await ev(dc, 'b + 200', ctx)).result, `${STREAM[4]! + 200} (0x15e)`, ctx);
      const star = await ev(dc, '*st', ctx, 1);
      assert.match(star.result, /^\{started=1, gave_up=0, fin=0, next_seq=1, …\}$/, ctx);
      assert.ok(star.variablesReference > 0, 'a struct expands');
      const kids = await dc.variablesRequest({ variablesReference: star.variablesReference });
      assert.equal(kids.body.variables.find((v) => v.name === 'desc_have')?.evaluateName, '(*st).desc_have');
    }
    // integer promotions and conversions: -1 compared with an unsigned int is a large unsigned value
    assert.equal((await ev(dc, '-1 < 1u', 'repl')).result, '0');
    assert.equal((await ev(dc, '(unsigned char)-1 + 1', 'repl')).result, '256 (0x100)');
    assert.equal((await ev(dc, 'sizeof(struct autolowat_state)', 'repl')).result, '40 (0x28)');
    assert.equal((await ev(dc, 'skops->op == BPF_SOCK_OPS_RCVQ_CB', 'repl')).result, '1');
    // a pointer into the stack, and reading back through it
    assert.match((await ev(dc, '&b', 'repl')).result, /^0x[0-9a-f]+ \(stack/);
    assert.equal((await ev(dc, '*&b', 'repl')).result, '150');
    await assert.rejects(ev(dc, 'pos->x', 'repl'), /needs a pointer to a struct or union, not __u32|needs a pointer/);
    await assert.rejects(ev(dc, '*(struct nosuch *)st', 'repl'), /unknown type 'struct nosuch'/);
  });
});

test('a logpoint prints C values; the CLI and the debug console number steps alike', async () => {
  await withClient(async (dc) => {
    const out = collectOutput(dc);
    await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_DESC_HAVE, logMessage: 'k={k} b={b} desc[0]={st ? 0 : 1}' }] }));
    const logs = out.lines.filter((l) => l.startsWith('k='));
    // every descriptor byte collected one at a time: the first segment's (k 0), then the second's (k 1..7).
    // (Not `pos`: inside this loop clang-19 describes pos as the sum of two spilled slots without the
    // loop's counter, so DWARF itself gives pos = 1 at every byte of the second segment; gdb would too.)
    assert.deepEqual(logs.slice(0, 8).map((l) => l.trim()), STREAM.map((b, i) => `k=${i} b=${b}${b === 100 ? " 'd'" : ''} desc[0]=<st is optimized out here (column 1 of 'st ? 0 : 1')>`));
    // the console's step lines carry the numbers `bpf-sockops run` prints (steps[k] is step k)
    const { runCommand } = await import('../../../cli/run');
    const cli: string[] = [];
    await runCommand([CASE4], { out: (s) => cli.push(...s.split('\n')), err: () => {} });
    const num = (l: string) => /^(step \d+|open)\b/.exec(l)?.[1];
    const consoleSteps = out.lines.map(num).filter(Boolean);
    const cliSteps = cli.map(num).filter(Boolean);
    assert.ok(consoleSteps.length > 5);
    assert.deepEqual(consoleSteps, cliSteps.slice(0, consoleSteps.length));
  });
});

test('a condition on a local stops only where it is true; one that cannot be evaluated says so once and never stops', async () => {
  await withClient(async (dc) => {
    const out = collectOutput(dc);
    await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_DESC_HAVE, condition: 'b != 0 && (int)j > 0' }, { line: L_LOWAT, condition: 'nosuchvar > 1' }] }));
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const f = await top(dc);
      if (f[0]!.name !== 'parse_skb') break;
      const l = await locals(dc);
      seen.push(`${l.j!.value}:${l.b!.value}`);
      const s = await resume(dc, () => dc.continueRequest({ threadId: 1 }));
      if (!s || s.body.reason !== 'breakpoint') break;
    }
    // the only non-zero descriptor bytes past the first of a segment: stream[4] = 150 (j 3), and the second frame's header_len byte
    assert.ok(seen.length >= 1);
    for (const x of seen) { const [j, b] = x.split(':'); assert.ok(Number(j) > 0 && !b!.startsWith('0'), x); }
    assert.equal(seen[0], '3:150');
    const msgs = out.lines.filter((l) => l.includes("condition 'nosuchvar > 1'"));
    assert.equal(msgs.length, 1, 'said once');
    assert.match(msgs[0]!, /unknown name 'nosuchvar'.*does not stop/);
  });
});

test('a breakpoint on the kfunc call line, whose code clang merged with shared code, says where it went and why', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: CASE4 });
    const L_KFUNC = lineOf('bpf_sock_ops_tcp_set_rcvlowat(kctx, lowat);');
    const r = await dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_KFUNC }] });
    const bp = r.body.breakpoints[0]!;
    assert.equal(bp.verified, true);
    assert.notEqual(bp.line, L_KFUNC);
    assert.match(bp.message ?? '', new RegExp(`moved from line ${L_KFUNC} to line ${bp.line}.*merged line ${L_KFUNC}'s code with the same code of other lines.*stops whenever line ${bp.line} runs`));
  });
});
