// npm run conformance: every bpf_conformance .data file through both tiers (interpreter, fast).
// Positive tests must give the expected r0; negative tests (negative/*.data) must be rejected
// (by the data parser, the assembler or the validator, with the expected message substring when
// one is given) or, when they are well-formed programs, must not produce the stated result.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConformanceData, runConformanceProgram, type Tier } from '../../debugger/vm/index';

import { conformanceDir, CONFORMANCE_HINT } from './dir';

/** Tests we do not run, with the reason. */
const SKIP: Record<string, string> = {
  'callx.data': 'callx (call by register) is not part of the kernel ISA for BPF programs; the validator rejects opcode 0x8d',
};
const TIERS: Tier[] = ['interp', 'fast'];

function main(): number {
  const DIR = conformanceDir();
  // The data is reference material beside the checkout; without it there is nothing to run (said loudly).
  if (!DIR) { console.log(`conformance: SKIPPED, data not found: ${CONFORMANCE_HINT}`); return 0; }
  let passed = 0, failed = 0, skipped = 0;
  const fail = (name: string, why: string) => { failed++; console.log(`FAIL ${name}: ${why}`); };
  const files = readdirSync(DIR).filter((f) => f.endsWith('.data')).sort();
  for (const f of files) {
    if (SKIP[f]) { skipped++; console.log(`SKIP ${f}: ${SKIP[f]}`); continue; }
    const c = parseConformanceData(readFileSync(join(DIR, f), 'utf8'), f);
    if (!c.insns) { fail(f, c.problem ?? 'no program'); continue; }
    if (c.rawMismatch) { fail(f, c.rawMismatch); continue; }
    let ok = true;
    for (const tier of TIERS) {
      const out = runConformanceProgram(c.insns, c.mem, { tier });
      if (!out.ok) { fail(`${f} [${tier}]`, `${out.stage}: ${out.message}`); ok = false; break; }
      if (c.result !== undefined && out.r0 !== c.result) {
        fail(`${f} [${tier}]`, `r0 = 0x${out.r0.toString(16)}, expected 0x${c.result.toString(16)}`);
        ok = false; break;
      }
    }
    if (ok) passed++;
  }
  const negDir = join(DIR, 'negative');
  if (!existsSync(negDir)) { fail('negative/', `${negDir} is missing: the negative tests must run too`); return 1; }
  const negs = readdirSync(negDir).filter((f) => f.endsWith('.data')).sort();
  for (const f of negs) {
    const name = `negative/${f}`;
    const c = parseConformanceData(readFileSync(join(negDir, f), 'utf8'), name);
    const want = c.error ?? '';
    if (!c.insns) {
      // rejected before running: by the data parser (unknown directive, no sections) or the assembler
      // (a file the data parser refuses never reaches the assembler, so an assembler message
      // named in its -- error section cannot apply; the upstream parser skips such files too)
      const msg = c.problem ?? '';
      if (want && !msg.includes(want) && c.problemStage === 'assemble') fail(name, `rejected, but the message lacks '${want}': ${msg}`);
      else { passed++; console.log(`ok   ${name}: rejected by the ${c.problemStage === 'assemble' ? 'assembler' : 'data parser'}: ${msg}`); }
      continue;
    }
    let verdict: string | null = null;
    for (const tier of TIERS) {
      const out = runConformanceProgram(c.insns, c.mem, { tier });
      if (!out.ok && out.stage === 'validate') {
        if (want && !out.message.includes(want)) { verdict = `FAIL: rejected, but the message lacks '${want}': ${out.message}`; break; }
        verdict = `rejected by the validator: ${out.message}`;
        continue;
      }
      if (out.ok && c.error === undefined && c.result !== undefined && out.r0 !== c.result) {
        verdict = `runs, and r0 = 0x${out.r0.toString(16)} differs from the stated 0x${c.result.toString(16)}`;
        continue;
      }
      verdict = `FAIL: accepted (${out.ok ? `r0 = 0x${out.r0.toString(16)}` : out.message})`;
      break;
    }
    if (verdict!.startsWith('FAIL')) fail(name, verdict!.slice(6));
    else { passed++; console.log(`ok   ${name}: ${verdict}`); }
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
