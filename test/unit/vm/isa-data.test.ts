// ISA cases as data files (test/fixtures/vm/isa/*.data, format in its README.md): faults,
// budget, frames, validation rejections; each file is one test per VM tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, decodeBytes, validate, Vm, type Insn, type CallTable, type Tier } from '../../../debugger/vm/index';
import { bpfLoopHelper } from '../../../debugger/kernel/bpf/callbacks';

const DIR = join(import.meta.dirname, '../../fixtures/vm/isa');
// helper 5 returns r1; helper 181 is bpf_loop (the simulated kernel's, a HelperCoroutine)
const calls: CallTable = { helper: (id) => (id === 5 ? (_c, r1) => r1 : id === 181 ? bpfLoopHelper : undefined), kfunc: () => undefined };

interface Case { asm: string; raw: string[]; mem: string; result?: string; fault?: string[]; reject?: string; options: string[]; insns?: string }

function parse(text: string): Case {
  const c: Case = { asm: '', raw: [], mem: '', options: [] };
  let sec = '';
  const lines = text.split('\n');
  const asmLines: string[] = [];
  for (const [i, line] of lines.entries()) {
    const m = /^-- (\w+)/.exec(line);
    if (m) { sec = m[1]; continue; }
    if (sec === 'asm') asmLines[i] = line;
    const t = line.replace(/#.*/, '').trim();
    if (!t) continue;
    if (sec === 'raw') c.raw.push(t);
    else if (sec === 'mem') c.mem += ' ' + t;
    else if (sec === 'result') c.result = t;
    else if (sec === 'fault') (c.fault ??= []).push(t);
    else if (sec === 'reject') c.reject = t;
    else if (sec === 'options') c.options.push(t);
    else if (sec === 'insns') c.insns = t;
    else if (sec !== 'asm') throw new Error(`unknown section -- ${sec}`);
  }
  c.asm = Array.from(asmLines, (l) => l ?? '').join('\n');
  return c;
}

for (const f of readdirSync(DIR).filter((x) => x.endsWith('.data')).sort()) for (const tier of ['interp', 'fast'] as Tier[]) {
  test(`isa fixture ${f} [${tier}]`, () => {
    const c = parse(readFileSync(join(DIR, f), 'utf8'));
    const opt = (name: string) => c.options.find((o) => o.startsWith(name + ' '))?.slice(name.length + 1);
    const funcStarts = (opt('funcs') ?? '').split(/\s+/).filter(Boolean).map(Number);
    let insns: Insn[];
    try {
      insns = c.raw.length ? decodeBytes(Uint8Array.from(c.raw.join(' ').split(/\s+/).map((h) => parseInt(h, 16)))) : assemble(c.asm, f);
    } catch (e) {
      assert.ok(c.reject, `${f}: unexpected assembly error ${(e as Error).message}`);
      assert.match((e as Error).message, new RegExp(c.reject!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      return;
    }
    const vopts = { entryRegs: [1, 2, 10], funcStarts };
    const errs = validate(insns, vopts);
    if (c.reject) {
      assert.ok(errs.length > 0, `${f}: expected rejection '${c.reject}', but the program validated`);
      assert.ok(errs.some((e) => e.message.includes(c.reject!)), `${f}: no error mentions '${c.reject}': ${errs.map((e) => e.message).join('; ')}`);
      assert.throws(() => new Vm({ insns, funcStarts }, calls, { validate: vopts, tier }), /insn \d+:/);
      return;
    }
    assert.deepEqual(errs.map((e) => e.message), [], `${f}: validation`);
    const vm = new Vm({ insns, funcStarts }, calls, { validate: vopts, tier });
    if (tier === 'fast') assert.ok(vm.fastProgram(), `${f}: the fast tier compiles it`);
    const mem = Uint8Array.from(c.mem.split(/\s+/).filter(Boolean).map((h) => parseInt(h, 16)));
    const r1 = mem.length ? vm.memory.map({ name: 'mem', kind: 'other', bytes: mem, writable: !c.options.includes('mem readonly') }) : 0n;
    const budget = opt('budget') ? Number(opt('budget')) : undefined;
    vm.start(r1, { budget });
    vm.setReg(2, BigInt(mem.length));
    const st = vm.resume();
    if (c.fault) {
      assert.equal(st.status, 'fault', `${f}: expected a fault, got ${JSON.stringify(st, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
      if (st.status !== 'fault') return;
      const [kind, , pc] = c.fault[0].split(/\s+/);
      assert.equal(st.fault.kind, kind, `${f}: ${st.fault.message}`);
      assert.equal(st.fault.pc, Number(pc), `${f}: fault pc (${st.fault.message})`);
      if (c.fault[1]) assert.ok(st.fault.message.includes(c.fault[1]), `${f}: message '${st.fault.message}' lacks '${c.fault[1]}'`);
    } else {
      assert.equal(st.status, 'exit', `${f}: ${st.status === 'fault' ? st.fault.message : st.status}`);
      if (st.status === 'exit') assert.equal(st.r0, BigInt(c.result!), `${f}: r0 = 0x${st.r0.toString(16)}`);
    }
    if (c.insns) assert.equal(st.insns, Number(c.insns), `${f}: instruction count`);
    // deterministic: the same run again gives the same outcome
    vm.start(r1, { budget });
    vm.setReg(2, BigInt(mem.length));
    if (!c.options.includes('mem readonly') && mem.length) return; // memory may have changed
    assert.deepEqual(vm.resume(), st);
  });
}
