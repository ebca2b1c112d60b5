// Our verifier against the running kernel's answers recorded by `npm run test:kernel` part 5
// (test/kernel/verifier-agree.ts, VERIFIER_RECORD=1): every fixture program must get the
// kernel's verdict, and the same rejecting instruction except the differences listed below with
// their cause; a sample of the mutation corpus must agree at the thresholds (>= 99%
// verdicts, >= 95% same instruction). Runs without a kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject, type BpfObject } from '../../../debugger/object';
import { ours, VERDICTS_FILE, CORPUS_FILE, type RecordedVerdict, type RecordedCorpus } from '../../kernel/verifier-agree';
import { applyMutant } from '../../kernel/mutate';

const ROOT = join(__dirname, '..', '..', '..');

/** Rejections where we point elsewhere than the kernel, and why (README "Verifier"). */
const KNOWN_INSN_DIFFS: Record<string, string> = {
  'test/fixtures/hooks/misuse.bpf.o misuse': 'the AutoLOWAT kfunc is a weak extern absent from this kernel: libbpf poisons the call, which the kernel walks past and reports only after the walk; with profile linux-7.1.5 we report the call itself',
  'test/fixtures/kernel/foreach.bpf.o foreach': 'bpf_for_each_map_elem callbacks re-walked until they converge: both walks run out of the 1M budget in the same loop, ours 5 insns earlier in it (the callback walks differ in where states are pruned)',
};

const objects = new Map<string, BpfObject>();
const obj = (file: string): BpfObject => {
  let o = objects.get(file);
  if (!o) objects.set(file, (o = loadObject(readFileSync(join(ROOT, file)), file)));
  return o;
};

test('fixture programs: the kernel\'s verdict on every one, the same rejecting insn', { skip: !existsSync(VERDICTS_FILE) && 'no recorded kernel verdicts' }, () => {
  const rec = JSON.parse(readFileSync(VERDICTS_FILE, 'utf8')) as { kernel: string; verdicts: RecordedVerdict[] };
  assert.ok(rec.verdicts.length >= 90, `only ${rec.verdicts.length} recorded verdicts`);
  const bad: string[] = [];
  for (const k of rec.verdicts) {
    if (/dap\/spin/.test(k.file)) continue; // 800,000 insns walked: kept for test:kernel (seconds here)
    const o = ours(obj(k.file), k.program, k.perfmon);
    assert.ok(o, `${k.file} ${k.program} is not a program we verify`);
    const what = `${k.file} ${k.program}`;
    if (o.verdict !== k.verdict) bad.push(`${what}${k.perfmon ? '' : ' (no CAP_PERFMON)'}: kernel ${k.verdict} ${k.message}, ours ${o.verdict} ${o.message}`);
    else if (k.verdict === 'rejected' && k.insn !== null && k.insn !== o.insn && !KNOWN_INSN_DIFFS[what]) bad.push(`${what}: kernel insn ${k.insn} (${k.message}), ours ${o.insn} (${o.message})`);
  }
  assert.deepEqual(bad, []);
});

test('mutation corpus sample: >= 99% verdicts and >= 95% rejecting insns agree with the kernel', { skip: !existsSync(CORPUS_FILE) && 'no recorded corpus' }, () => {
  const rec = JSON.parse(readFileSync(CORPUS_FILE, 'utf8')) as RecordedCorpus;
  assert.ok(rec.mutants.length >= 1000, `corpus has ${rec.mutants.length} judged mutants`);
  const bases = rec.bases.map((b) => ({ ...b, bytes: new Uint8Array(readFileSync(join(ROOT, b.file))) }));
  const step = Math.max(1, Math.floor(rec.mutants.length / 200));
  let n = 0, agree = 0, both = 0, insn = 0;
  const diffs: string[] = [];
  for (let i = 0; i < rec.mutants.length; i += step) {
    const m = rec.mutants[i]!;
    // programs the kernel walked to its 1M limit take seconds here: test:kernel compares them
    if (/too large|too complex/.test(m.m)) continue;
    const base = bases[m.b]!;
    const bytes = applyMutant(base, { base: m.b, op: m.op as never, edits: m.e.map(([at, hex]) => ({ at, hex })) });
    let o;
    try { o = ours(loadObject(bytes, base.file), base.program, true, 200_000)!; } catch (e) { o = { verdict: 'rejected', insn: null, message: (e as Error).message }; }
    n++;
    const kv = m.k === 'a' ? 'accepted' : 'rejected';
    if (o.verdict === kv) {
      agree++;
      if (kv === 'rejected' && m.i !== null) { both++; if (m.i === o.insn) insn++; }
    } else diffs.push(`#${i} ${base.program} ${m.op}: kernel ${kv} ${m.m}, ours ${o.verdict} ${o.message}`);
  }
  assert.ok(agree / n >= 0.99, `verdicts agree on ${agree}/${n}:\n${diffs.join('\n')}`);
  assert.ok(insn / both >= 0.95, `same insn on ${insn}/${both}`);
});
