// Differential test of the two VM tiers (interpreter, fast): random verifier-style programs
// (the kernel oracle's generator), the kernel regression fixtures, every budget of programs
// with calls (the fast tier hands over to the interpreter mid-run), region hooks, helpers that
// read registers, hooks and pauses, the committed clang-19 objects. The ISA data files run in
// both tiers in isa-data.test.ts, the conformance suite in `npm run conformance`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, Memory, OPS, validate, Vm, type CallTable, type Insn, type RunStatus, type Tier } from '../../../debugger/vm/index';
import { loadObject } from '../../../debugger/object/index';
import { generate, emit, PKT_LEN, type GenProgram } from '../../kernel/isa-gen';
import { diff, fixtureProgram, fromHex, runInVm, type RegressionFixture } from '../../kernel/isa-vm';

const NO_CALLS: CallTable = { helper: () => undefined, kfunc: () => undefined };
const TIERS: Tier[] = ['interp', 'fast'];
const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? '0x' + x.toString(16) : x));

/** A generated program as runInVm runs it, but with a given budget; everything observable.
 *  One Vm per program and tier (the packet is refilled before each run). */
const vms = new Map<string, { vm: Vm; pkt: Uint8Array }>();
function runGen(p: GenProgram, tier: Tier, budget: number, stepwise = false) {
  const key = `${p.seed}/${tier}`;
  let e = vms.get(key);
  if (!e) {
    const memory = new Memory();
    const pkt = new Uint8Array(p.pkt);
    const data = memory.map({ name: 'packet', kind: 'packet', bytes: pkt, writable: true });
    const em = emit(p, { kind: 'vm', data, dataEnd: data + BigInt(PKT_LEN) });
    e = { vm: new Vm({ insns: em.insns, funcStarts: em.funcStarts }, NO_CALLS, { memory, tier }), pkt };
    vms.set(key, e);
  }
  const { vm, pkt } = e;
  pkt.set(p.pkt);
  // stepwise: a hook that never pauses makes the interpreter count every instruction one by
  // one (the reference for its per-block counting and for the fast tier)
  const st = vm.run(0n, stepwise ? { budget, hook: () => false } : { budget });
  // r1-r5 are not compared: after a bpf-to-bpf call the tiers leave different (unreadable)
  // values there; nor, inside a callee, r0 and r6-r9 it has not written yet (the interpreter
  // shows the caller's, the fast tier 0; the verifier forbids reading them)
  const regs = (vm.frames().length > 1 ? [10] : [0, 6, 7, 8, 9, 10]).map((i) => vm.reg(i));
  return { st, regs, frames: vm.frames(), pc: vm.pc, count: vm.insnCount, pkt: Buffer.from(pkt).toString('hex') };
}

test('random programs of the kernel oracle: both tiers give the same result, output and count', () => {
  let calls = 0;
  for (let i = 0; i < 150; i++) {
    const p = generate(0x7157 + i * 7919);
    if (p.callees.length) calls++;
    const a = runInVm(p, 'interp'), b = runInVm(p, 'fast');
    assert.deepEqual(b, a, `seed ${p.seed}`);
  }
  assert.ok(calls > 20, `only ${calls} programs with calls`);
});

test('kernel regression fixtures and the fast tier\'s own (test/fixtures/vm/fast-regressions): both tiers give the kernel\'s answer', () => {
  let n = 0;
  for (const sub of ['kernel-regressions', 'vm/fast-regressions']) {
    const dir = join(import.meta.dirname, '../../fixtures', sub);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const fx = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RegressionFixture;
      for (const tier of TIERS) {
        const d = diff({ retval: fx.kernel.retval, out: fromHex(fx.kernel.outHex) }, runInVm(fixtureProgram(fx), tier));
        assert.equal(d, null, `${sub}/${f} [${tier}]: ${d}`);
      }
      n++;
    }
  }
  assert.ok(n >= 12, `only ${n} fixtures`);
});

test('every budget: the interpreter (per-block counting) and the fast tier stop where single steps do (hand-over inside callees)', () => {
  let checked = 0, inCallee = 0;
  for (let i = 0; i < 40 && checked < 8; i++) {
    const p = generate(0xbeef + i * 104729, { blocks: 6 });
    if (!p.callees.length) continue;
    const total = runGen(p, 'interp', 1_000_000);
    if (total.st.status !== 'exit' || total.st.insns > 400) continue;
    checked++;
    for (let budget = 1; budget <= total.st.insns + 1; budget++) {
      const a = runGen(p, 'interp', budget, true), b = runGen(p, 'fast', budget), c = runGen(p, 'interp', budget);
      assert.deepEqual(show(c), show(a), `interp, seed ${p.seed}, budget ${budget}`);
      assert.deepEqual(show(b), show(a), `fast, seed ${p.seed}, budget ${budget}`);
      if (a.st.status === 'fault' && a.frames.length > 1) inCallee++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} programs with calls checked`);
  assert.ok(inCallee > 20, `the budget ran out inside a callee only ${inCallee} times`);
});

test('region check() and onWrite() hooks: same faults and the same notifications in both tiers', () => {
  const insns = assemble(`
    ldxw %r0, [%r1+0]
    stw [%r1+4], 7
    stxdw [%r1+8], %r0
    ldxb %r3, [%r1+16]
    exit`);
  for (const denied of [-1, 0, 4, 8, 16]) {
    const out = TIERS.map((tier) => {
      const vm = new Vm({ insns }, NO_CALLS, { tier });
      const log: string[] = [];
      const bytes = new Uint8Array(24).fill(3);
      const base = vm.memory.map({
        name: 'ctx', kind: 'ctx', bytes, writable: true,
        check: (o, size, write) => (o === denied ? `access to ctx+${o} (${size} bytes${write ? ', write' : ''}) is denied` : null),
        onWrite: (o, size) => { log.push(`${o}/${size}`); },
      });
      const st = vm.run(base);
      return show({ st, log, bytes: [...bytes] });
    });
    assert.equal(out[1], out[0], `denied offset ${denied}`);
  }
});

test('helpers see the same registers and memory in both tiers; helper faults and unknown helpers agree', () => {
  const insns = assemble(`
    mov %r6, 66
    lddw %r7, 0x1122334455667788
    mov %r1, %r10
    add %r1, -8
    stdw [%r10-8], 99
    mov %r2, 2
    mov %r3, 3
    mov %r4, -4
    mov %r5, 5
    call 1
    mov %r8, %r0
    mov %r1, %r8
    call 2
    add %r0, %r8
    exit`);
  const seen: string[][] = [[], []];
  const outs = TIERS.map((tier, t) => {
    const calls: CallTable = {
      helper: (id) => id === 1 ? (ctx, r1) => {
        seen[t].push([...Array(11).keys()].map((i) => ctx.reg(i).toString(16)).join(','));
        return ctx.memory.read(r1, 8) + 1n;
      } : id === 2 ? (ctx, r1) => (r1 === 100n ? ctx.fault('r1 is 100') : 5n) : undefined,
      kfunc: () => undefined,
    };
    const vm = new Vm({ insns }, calls, { tier });
    // the fast tier really runs (a program it cannot compile would quietly be interpreted)
    if (tier === 'fast') assert.ok(vm.fastProgram(), 'the fast tier compiles a program with helper calls');
    return show(vm.run(0n));
  });
  assert.equal(outs[1], outs[0]);
  assert.match(outs[0], /r1 is 100/);
  assert.deepEqual(seen[1], seen[0]);
  const unknown = assemble('call 9\nexit');
  const u = TIERS.map((tier) => show(new Vm({ insns: unknown }, NO_CALLS, { tier }).run(0n)));
  assert.equal(u[1], u[0]);
  assert.match(u[0], /unknown helper #9/);
});

test('a hook sees every instruction and pauses in the fast tier as in the interpreter; a paused run resumes to the same end', () => {
  const obj = loadObject(new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/vm/disasm/may_goto.o'))), 'may_goto.o');
  const prog = obj.programs[0];
  const spec = { insns: prog.insns, funcStarts: prog.funcs.map((f) => f.startPc) };
  const traces = TIERS.map((tier) => {
    const vm = new Vm(spec, NO_CALLS, { tier });
    const mem = vm.memory.map({ name: 'p', kind: 'other', bytes: new Uint8Array(64).fill(1), writable: false });
    const pcs: number[] = [];
    let st: RunStatus = vm.run(mem, { hook: (pc) => { pcs.push(pc); return pcs.length === 500; } });
    assert.equal(st.status, 'paused');
    st = vm.resume({ hook: undefined });
    return { pcs, st: show(st) };
  });
  assert.deepEqual(traces[1].pcs, traces[0].pcs);
  assert.equal(traces[1].st, traces[0].st);
});

test('committed clang-19 objects (bench programs, may_goto loops): same r0 and count in both tiers', () => {
  const objs = [
    ...['alu_loop.o', 'byte_parse.o', 'call_loop.o'].map((f) => join(import.meta.dirname, '../../../bench/programs', f)),
    join(import.meta.dirname, '../../fixtures/vm/disasm/may_goto.o'),
  ];
  for (const file of objs) {
    const obj = loadObject(new Uint8Array(readFileSync(file)), file);
    const prog = obj.programs[0];
    const res = TIERS.map((tier) => {
      const vm = new Vm({ insns: prog.insns, funcStarts: prog.funcs.map((f) => f.startPc) }, NO_CALLS, { tier });
      const buf = new Uint8Array(4096);
      for (let i = 0; i < buf.length; i++) buf[i] = (i * 37 + (i >> 3)) & 0x7f;
      buf[40] = 0xff; // count_bytes stops there
      const st = vm.run(vm.memory.map({ name: 'buf', kind: 'packet', bytes: buf, writable: false }), { budget: 10_000_000 });
      assert.equal(st.status, 'exit', `${file} [${tier}]: ${show(st)}`);
      return show(st);
    });
    assert.equal(res[1], res[0], file);
  }
});

test('hostile but valid programs: both tiers agree (random instruction words that pass the validator)', () => {
  let s = 0x5eed;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const VALID = OPS.flatMap((o, c) => (o && o.kind !== 'lddw' && o.kind !== 'call' ? [c] : []));
  let ran = 0;
  for (let k = 0; k < 20000 && ran < 200; k++) {
    const n = 2 + (next() % 14);
    const insns: Insn[] = [{ code: 0xb7, dst: 0, src: 0, off: 0, imm: next() | 0 }];
    for (let r = 2; r <= 9; r++) insns.push({ code: 0xb7, dst: r, src: 0, off: 0, imm: (next() % 2000) - 1000 });
    const body = insns.length;
    while (insns.length < body + n) {
      const code = VALID[next() % VALID.length];
      const info = OPS[code]!;
      const x: Insn = { code, dst: next() % 10, src: next() % 11, off: 0, imm: [0, 1, -1, 8, 16, 32, 64, next() | 0][next() % 8] };
      if (info.kind === 'ja' || info.kind === 'jcond' || info.kind === 'maygoto') {
        x.off = next() % (body + n - insns.length); // forward only, at most to the exit: every program ends
        if (info.kind === 'ja' || info.kind === 'maygoto') { x.dst = 0; x.src = 0; x.imm = 0; if (!info.is64) { x.imm = x.off; x.off = 0; } }
        else if (info.srcReg) x.imm = 0; else x.src = 0;
      } else if (['ldx', 'st', 'stx', 'atomic'].includes(info.kind)) {
        x.off = -8 * (1 + (next() % 8)) + (next() % 3 === 0 ? next() % 8 : 0);
        if (info.kind === 'ldx') x.src = next() % 4 === 0 ? 1 : 10; else x.dst = next() % 4 === 0 ? 1 : 10;
        if (info.kind === 'atomic') x.imm = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1][next() % 10];
        if (info.kind !== 'atomic' && info.kind !== 'st') x.imm = 0;
      } else { x.off = info.name === 'div' || info.name === 'mod' ? next() % 2 : info.name === 'mov' && info.srcReg ? [0, 8, 16, 32][next() % 4] : 0; }
      insns.push(x);
    }
    insns.push({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
    if (validate(insns).length) continue;
    const res = TIERS.map((tier) => {
      const vm = new Vm({ insns }, NO_CALLS, { tier });
      const mem = new Uint8Array(64).fill(0xa5);
      const st = vm.run(vm.memory.map({ name: 'mem', kind: 'other', bytes: mem, writable: true }), { budget: 1000 });
      return show({ st, regs: [...Array(11).keys()].map((i) => vm.reg(i)), mem: [...mem] });
    });
    assert.equal(res[1], res[0], show(insns));
    ran++;
  }
  assert.ok(ran >= 200, `only ${ran} valid programs`);
});

test('frames().callerRegs: r6-r9 of each caller, also through a function that never writes them (nothing saved there)', () => {
  const insns = assemble(`
    mov %r6, 6
    mov %r7, 7
    mov %r8, 8
    mov %r9, 9
    call local g
    exit
    g:
    call local h
    exit
    h:
    mov %r6, 60
    mov %r7, 70
    mov %r8, 80
    mov %r9, 90
    mov %r0, 5
    exit`);
  const vm = new Vm({ insns }, NO_CALLS);
  for (const stopAt of [8, 13]) { // h's first insn; h's exit, after it wrote r6-r9
    let st = vm.run(0n, { hook: (pc) => pc === stopAt });
    assert.equal(st.status, 'paused');
    const fr = vm.frames();
    assert.deepEqual(fr.map((f) => f.funcStart), [0, 6, 8]);
    assert.deepEqual(fr[1].callerRegs, [6n, 7n, 8n, 9n]);
    assert.deepEqual(fr[2].callerRegs, [6n, 7n, 8n, 9n]);
    st = vm.resume();
    assert.equal(st.status, 'exit');
    assert.deepEqual([6, 7, 8, 9].map((i) => vm.reg(i)), [6n, 7n, 8n, 9n]);
  }
});
