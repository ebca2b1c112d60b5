// Trace level 'brief' (BpfKernel.traceLevel, what explore runs with) keeps per helper call only
// pc * 256 + (r0 & 0xff) in ProgramRunTrace.calls and, in helpers, the calls with a negative r0:
// pin that it is the full trace cut down exactly so, and that nothing else of a run changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Simulation } from '../../../debugger/sim';
import type { ProgramRunTrace } from '../../../debugger/kernel/types';

const HERE = import.meta.dirname;

function scenarioFiles(): string[] {
  const dirs = [join(HERE, '../../../examples/autolowat'), join(HERE, '../../fixtures/hooks'), join(HERE, '../../fixtures/dap')];
  return dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.scenario.json')).sort().map((f) => join(d, f)));
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

function runs(file: string, brief: boolean): { texts: string[]; traces: ProgramRunTrace[] } {
  const sim = new Simulation(Simulation.prepare(file));
  if (brief) sim.kernel.traceLevel = 'brief';
  const results = sim.runAll().results;
  return { texts: results.map((r) => r.text), traces: results.flatMap((r) => r.runs) };
}

test('brief traces: calls and the negative-r0 helpers of the full trace, the rest identical', () => {
  const files = scenarioFiles();
  assert.ok(files.length >= 17, `${files.length} scenarios`);
  let calls = 0;
  let negative = 0;
  for (const f of files) {
    const full = runs(f, false);
    const brief = runs(f, true);
    assert.deepEqual(brief.texts, full.texts, f);
    assert.equal(brief.traces.length, full.traces.length, f);
    full.traces.forEach((t, i) => {
      const b = brief.traces[i]!;
      assert.equal(t.calls, undefined, 'a full trace has no calls');
      assert.deepEqual(b.calls, t.helpers.map((h) => h.pc * 256 + Number(h.ret & 0xffn)), `${f}: run ${i} calls`);
      const neg = t.helpers.filter((h) => h.ret >= 0x8000000000000000n);
      assert.deepEqual(b.helpers, neg, `${f}: run ${i} negative calls`);
      const rest = (x: ProgramRunTrace) => JSON.stringify({ ...x, helpers: undefined, calls: undefined }, big);
      assert.equal(rest(b), rest(t), `${f}: run ${i}`);
      calls += t.helpers.length;
      negative += neg.length;
    });
  }
  assert.ok(calls > 100 && negative > 0, `${calls} calls, ${negative} negative: the scenarios exercise both`);
});
