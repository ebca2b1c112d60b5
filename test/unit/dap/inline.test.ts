// Stepping through C functions that clang -O2 inlined, over DAP, on the example hook
// (examples/autolowat/autolowat.bpf.c): step over stays in the C function being read, step in
// enters an inlined function (shown as an "(inlined)" frame), step out leaves it; code that the
// compiler shared between statements (DWARF line 0) is never shown as another function's line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE, launch, resume, scope, top, withClient } from './client';

const HOOK_C = join(EXAMPLE, 'autolowat.bpf.c');
const CASE4 = join(EXAMPLE, 'case4-partial-descriptor.scenario.json');
const src = readFileSync(HOOK_C, 'utf8').split('\n');
/** 1-based line of the first line containing `text`. */
function lineOf(text: string, after = 0): number {
  const i = src.findIndex((l, k) => k >= after && l.includes(text));
  if (i < 0) throw new Error(`autolowat.bpf.c has no line with ${text}`);
  return i + 1;
}
/** [first, last] lines of a function definition: from its name to the closing brace. */
function extent(name: string): [number, number] {
  const start = src.findIndex((l) => new RegExp(`\\b${name}\\(`).test(l) && !/;\s*$/.test(l));
  const end = src.findIndex((l, k) => k > start && l === '}');
  return [start + 1, end + 1];
}
const L_LOWAT = lineOf('lowat = wanted_rcvlowat(st, tp->copied_seq);');
const L_KFUNC = lineOf('bpf_sock_ops_tcp_set_rcvlowat(kctx, lowat);');
const HOOK = extent('tcp_autolowat');
const WANTED = extent('wanted_rcvlowat');
const SEQ_BEFORE = extent('seq_before');
const GIVE_UP = extent('give_up');
const inside = (l: number | undefined, [a, b]: [number, number]) => l !== undefined && l >= a && l <= b;

test('step over the line before the kfunc call stays in tcp_autolowat and lands after the call in one step', async () => {
  await withClient(async (dc) => {
    const s = await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_LOWAT }] }));
    assert.equal(s?.body.reason, 'breakpoint');
    let f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat');
    assert.equal(f[0]!.line, L_LOWAT);
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '1');
    await dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [] });
    const n = await resume(dc, () => dc.nextRequest({ threadId: 1 }));
    assert.equal(n?.body.reason, 'step');
    f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat', 'no inlined frame after the step');
    // the call's line, or (clang gives the call itself no line here) the first line after it: the
    // closing brace, where the return value is set
    assert.ok(f[0]!.line >= L_KFUNC && f[0]!.line <= HOOK[1], `one F10 reaches the call or a line after it, got ${f[0]!.line}`);
    // the 1-byte first segment: the descriptor is not complete, rcvlowat covers it (8 bytes)
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '8');
    // step back is the reverse of over: back to the line of the call, not into wanted_rcvlowat
    await resume(dc, () => dc.stepBackRequest({ threadId: 1 }));
    f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat');
    assert.equal(f[0]!.line, L_LOWAT);
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '1');
  });
});

test('step in enters the inlined function (an "(inlined)" frame above the BPF frame); over stays in it; out leaves it', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: CASE4 }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_LOWAT }] }));
    await dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [] });
    await resume(dc, () => dc.stepInRequest({ threadId: 1 }));
    let f = await top(dc);
    assert.equal(f[0]!.name, 'wanted_rcvlowat (inlined)');
    assert.ok(inside(f[0]!.line, WANTED), `line ${f[0]!.line} in wanted_rcvlowat ${WANTED}`);
    assert.ok(f[0]!.source?.path?.endsWith('autolowat.bpf.c'));
    assert.equal(f[1]!.name, 'tcp_autolowat');
    assert.equal(f[1]!.line, L_LOWAT, 'the caller frame shows the line of the call');
    assert.match(f[2]!.name, /^RCVQ_CB enqueue/);
    // over, inside the inlined function: its own lines, never seq_before's (inlined deeper)
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      await resume(dc, () => dc.nextRequest({ threadId: 1 }));
      f = await top(dc);
      if (f[0]!.name !== 'wanted_rcvlowat (inlined)') break;
      seen.push(f[0]!.line);
      assert.ok(inside(f[0]!.line, WANTED), `line ${f[0]!.line}`);
    }
    assert.ok(seen.length >= 2, `stepped over lines of wanted_rcvlowat: ${seen.join(', ')}`);
    assert.ok(!seen.some((l) => inside(l, SEQ_BEFORE)));
    // back to the first line of wanted_rcvlowat, then into seq_before (two levels of inlining)
    await dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_LOWAT }] });
    await resume(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
    await dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [] });
    assert.equal((await top(dc))[0]!.line, L_LOWAT);
    for (let i = 0; i < 6; i++) {
      await resume(dc, () => dc.stepInRequest({ threadId: 1 }));
      if ((await top(dc))[0]!.name === 'seq_before (inlined)') break;
    }
    f = await top(dc);
    assert.equal(f[0]!.name, 'seq_before (inlined)');
    assert.ok(inside(f[0]!.line, SEQ_BEFORE));
    assert.equal(f[1]!.name, 'wanted_rcvlowat (inlined)');
    assert.ok(inside(f[1]!.line, WANTED));
    assert.equal(f[2]!.name, 'tcp_autolowat');
    // out of seq_before: back in wanted_rcvlowat; out again: back in tcp_autolowat after the call
    await resume(dc, () => dc.stepOutRequest({ threadId: 1 }));
    f = await top(dc);
    assert.equal(f[0]!.name, 'wanted_rcvlowat (inlined)');
    assert.equal(f[1]!.name, 'tcp_autolowat');
    await resume(dc, () => dc.stepOutRequest({ threadId: 1 }));
    f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat');
    assert.ok(f[0]!.line! > L_LOWAT, `after the call: line ${f[0]!.line}`);
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '8');
  });
});

test('the kfunc call is shared code (DWARF line 0): shown in tcp_autolowat, not as give_up; give_up shows as inlined on its path', async () => {
  await withClient(async (dc) => {
    await launch(dc, { scenario: CASE4 }, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'bpf_sock_ops_tcp_set_rcvlowat' }] }));
    const f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat');
    assert.ok(!inside(f[0]!.line, GIVE_UP), `line ${f[0]!.line} is not give_up's on the normal path`);
    assert.equal(f[0]!.line, L_LOWAT, 'the last line of tcp_autolowat that ran');
    // step back and step out from there follow what the stack shows: tcp_autolowat itself
    await resume(dc, () => dc.stepBackRequest({ threadId: 1 }));
    assert.deepEqual([(await top(dc))[0]!.name, (await top(dc))[0]!.line], ['tcp_autolowat', L_LOWAT]);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await resume(dc, () => dc.stepOutRequest({ threadId: 1 }));
    assert.match((await top(dc))[0]!.name, /^before step \d+: expect/, 'out of the program run');
  });
  await withClient(async (dc) => {
    const L_GIVING_UP = lineOf('bpf_printk("autolowat: giving up');
    await launch(dc, { scenario: join(EXAMPLE, 'give-up.scenario.json') }, () => dc.setBreakpointsRequest({ source: { path: HOOK_C }, breakpoints: [{ line: L_GIVING_UP }] }));
    let f = await top(dc);
    assert.equal(f[0]!.name, 'give_up (inlined)');
    assert.equal(f[0]!.line, L_GIVING_UP);
    assert.equal(f[1]!.name, 'tcp_autolowat');
    assert.ok(f[1]!.line! >= lineOf('err = parse_skb(skops, st, seq, end);') && f[1]!.line! < L_LOWAT, `call site ${f[1]!.line}`);
    // over inside give_up: its lines, then back in tcp_autolowat
    const names: string[] = [];
    for (let i = 0; i < 6 && (await top(dc))[0]!.name === 'give_up (inlined)'; i++) {
      await resume(dc, () => dc.nextRequest({ threadId: 1 }));
      names.push(`${(await top(dc))[0]!.name}:${(await top(dc))[0]!.line}`);
    }
    f = await top(dc);
    assert.equal(f[0]!.name, 'tcp_autolowat', names.join(' '));
    assert.equal((await scope(dc, 'Socket')).map.sk_rcvlowat, '1');
  });
});
