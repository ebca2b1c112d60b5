// The VM API as the debugger and the simulated kernel use it: start/step/resume with a hook,
// frames, registers, helpers and kfuncs, region checks and write notifications, host memory
// accessors, and robustness against hostile programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assemble, conformancePlugin, decodeBytes, encodeInsns, GuestFaultError, Memory, OPS, validate, Vm,
  type CallTable, type HelperFn, type Insn,
} from '../../../debugger/vm/index';

const none: CallTable = { helper: () => undefined, kfunc: () => undefined };
const vmOf = (src: string, calls: CallTable = none) => new Vm({ insns: assemble(src) }, calls);

const LOOP = `
mov %r0, 0
mov %r2, 5
loop:
add %r0, %r2
sub %r2, 1
jne %r2, 0, loop
exit`;

test('run returns r0 and the instruction count', () => {
  const st = vmOf(LOOP).run(0n);
  assert.deepEqual(st, { status: 'exit', r0: 15n, insns: 2 + 5 * 3 + 1 });
});

test('step executes exactly one instruction and reports the next pc', () => {
  const vm = vmOf(LOOP);
  vm.start(0n);
  const pcs: number[] = [];
  for (;;) {
    const st = vm.step();
    if (st.status !== 'paused') { assert.equal(st.status, 'exit'); break; }
    pcs.push(st.pc);
    assert.equal(st.insns, pcs.length);
  }
  assert.deepEqual(pcs.slice(0, 6), [1, 2, 3, 4, 2, 3]);
  assert.equal(vm.insnCount, 18);
  assert.equal(vm.reg(0), 15n);
});

test('hook pauses before the instruction; resume continues without pausing again there', () => {
  const vm = vmOf(LOOP);
  const seen: number[] = [];
  vm.start(0n, { hook: (pc) => { seen.push(pc); return pc === 4; } });
  let st = vm.resume();
  assert.deepEqual(st, { status: 'paused', pc: 4, insns: 4 });
  assert.equal(vm.reg(2), 4n); // sub at pc 4 not yet executed
  st = vm.resume();
  assert.deepEqual(st, { status: 'paused', pc: 4, insns: 7 });
  vm.setReg(2, 0n); // the debugger edits a register: the jne at pc 4 falls through
  st = vm.resume();
  assert.deepEqual(st, { status: 'exit', r0: 5n + 4n, insns: 9 });
  assert.equal(seen.filter((p) => p === 4).length, 2);
});

test('a host exception thrown by the hook propagates unchanged', () => {
  const vm = vmOf(LOOP);
  class Stop extends Error {}
  vm.start(0n, { hook: (pc) => { if (pc === 3) throw new Stop('abandon'); } });
  assert.throws(() => vm.resume(), Stop);
});

test('resume after the end returns the final status; resume before start is a host error', () => {
  const vm = vmOf(LOOP);
  assert.throws(() => vm.resume(), /before start/);
  const st = vm.run(0n);
  assert.deepEqual(vm.resume(), st);
  assert.deepEqual(vm.step(), st);
});

test('frames(): entry frame and nested bpf-to-bpf frames with their stacks', () => {
  const vm = vmOf(`
mov %r1, 1
call local f
exit
f:
call local g
exit
g:
mov %r0, 7
exit`);
  const snapshots: { pc: number; frames: ReturnType<Vm['frames']>; r10: bigint }[] = [];
  vm.start(0n, { hook: (pc) => { if (pc === 6) snapshots.push({ pc, frames: vm.frames(), r10: vm.reg(10) }); } });
  assert.equal(vm.resume().status, 'exit');
  const fr = snapshots[0].frames;
  assert.equal(fr.length, 3);
  assert.deepEqual(fr.map((f) => [f.funcStart, f.returnPc]), [[0, -1], [3, 2], [5, 4]]);
  assert.equal(fr[2].fp, snapshots[0].r10);
  for (const f of fr) {
    assert.equal(f.fp - f.stackBase, 512n);
    const hit = vm.memory.find(f.stackBase, 512);
    assert.ok(hit && hit.region.kind === 'stack');
  }
  assert.notEqual(fr[0].stackBase, fr[1].stackBase);
});

test('helpers get r1-r5 and the memory; r0 is their result; ctx.fault and GuestFaultError become faults', () => {
  const calls: CallTable = {
    helper(id): HelperFn | undefined {
      if (id === 1) return (ctx, r1, r2) => ctx.memory.read(r1, 4) + r2;
      if (id === 2) return (ctx) => ctx.fault('refused by the test helper');
      if (id === 3) return (ctx, r1) => ctx.memory.read(r1 + 1000n, 8);
      return undefined;
    },
    kfunc: (i) => (i === 0 ? (_c, r1) => r1 * 2n : undefined),
    helperName: (id) => `test_helper_${id}`,
    kfuncName: (i) => `test_kfunc_${i}`,
  };
  const prog = (call: string) => new Vm({ insns: assemble(`stw [%r10-4], 40\nmov %r1, %r10\nadd %r1, -4\nmov %r2, 2\n${call}\nexit`) }, calls);
  assert.deepEqual(prog('call 1').run(0n), { status: 'exit', r0: 42n, insns: 6 });
  const f2 = prog('call 2').run(0n);
  assert.ok(f2.status === 'fault' && f2.fault.kind === 'helper' && f2.fault.pc === 4 && /test_helper_2.*refused/.test(f2.fault.message));
  const f3 = prog('call 3').run(0n);
  assert.ok(f3.status === 'fault' && f3.fault.kind === 'bad-access' && f3.fault.pc === 4);
  const f4 = prog('call 4').run(0n);
  assert.ok(f4.status === 'fault' && f4.fault.kind === 'helper' && /unknown helper #4 \(test_helper_4\)/.test(f4.fault.message));
  // kfunc: call with src=2, imm = kfunc index
  const insns = assemble('mov %r1, 21\ncall 0\nexit');
  insns[1].src = 2;
  assert.deepEqual(new Vm({ insns }, calls).run(0n), { status: 'exit', r0: 42n, insns: 3 });
  insns[1].imm = 1;
  const f5 = new Vm({ insns }, calls).run(0n);
  assert.ok(f5.status === 'fault' && /unknown kfunc #1 \(test_kfunc_1\)/.test(f5.fault.message));
});

test('region check() turns an access into a ctx-access fault; onWrite sees stores', () => {
  const writes: [number, number][] = [];
  const checks: string[] = [];
  const vm = vmOf(`
ldxw %r2, [%r1+0]
stxw [%r1+4], %r2
ldxdw %r3, [%r1+8]
mov %r0, 0
exit`);
  const ctx = new Uint8Array(16);
  ctx[0] = 9;
  const base = vm.memory.map({
    name: 'ctx', kind: 'ctx', bytes: ctx, writable: true,
    check: (off, size, write) => { checks.push(`${write ? 'w' : 'r'}${off}/${size}`); return off === 8 ? 'ctx field at offset 8 cannot be read at this op' : null; },
    onWrite: (off, size) => writes.push([off, size]),
  });
  const st = vm.run(base);
  assert.ok(st.status === 'fault');
  assert.equal(st.fault.kind, 'ctx-access');
  assert.equal(st.fault.pc, 2);
  assert.match(st.fault.message, /offset 8 cannot be read/);
  assert.deepEqual(checks, ['r0/4', 'w4/4', 'r8/8']);
  assert.deepEqual(writes, [[4, 4]]);
  assert.equal(ctx[4], 9);
});

test('Memory: host accessors, bounds, read-only, unmap, C strings', () => {
  const m = new Memory();
  const bytes = new Uint8Array([1, 2, 3, 4, 0x41, 0x42, 0, 7]);
  const a = m.map({ name: 'r', kind: 'global', bytes, writable: false });
  const b = m.map({ name: 'w', kind: 'map', bytes: new Uint8Array(8), writable: true });
  assert.equal(m.read(a, 4), 0x04030201n);
  assert.equal(m.readCString(a + 4n, 16), 'AB');
  assert.throws(() => m.write(a, 1, 1n), (e: unknown) => e instanceof GuestFaultError && /read-only/.test(e.message));
  assert.throws(() => m.read(a + 6n, 4), GuestFaultError);
  m.write(b, 8, (1n << 64n) - 2n);
  assert.equal(m.read(b, 8), (1n << 64n) - 2n);
  m.writeBytes(b + 2n, new Uint8Array([9, 9]));
  assert.deepEqual([...m.readBytes(b, 4)], [0xfe, 0xff, 9, 9]);
  assert.equal(m.find(b + 7n, 1)?.offset, 7);
  assert.equal(m.find(b + 7n, 2), null);
  m.unmap(b);
  assert.equal(m.find(b, 1), null);
  assert.equal(m.regions().length, 1);
});

test('the VM maps its frames into a shared memory given in options', () => {
  const memory = new Memory();
  const g = memory.map({ name: '.data', kind: 'global', bytes: new Uint8Array(8), writable: true });
  const vm = new Vm({ insns: assemble('ldxdw %r0, [%r1+0]\nexit') }, none, { memory });
  memory.write(g, 8, 0x1122n);
  assert.deepEqual(vm.run(g), { status: 'exit', r0: 0x1122n, insns: 2 });
  assert.equal(vm.memory, memory);
  assert.equal(memory.regions().filter((r) => r.kind === 'stack').length, 8);
});

test('ld_imm64 pseudo forms resolve through resolveLdImm64 (once, at construction)', () => {
  const insns = assemble('lddw %r0, 0\nexit');
  insns[0].src = 2; insns[0].imm = 3; insns[1].imm = 16;
  const calls: [number, number, number, number][] = [];
  const vm = new Vm({ insns, resolveLdImm64: (pc, src, imm, next) => { calls.push([pc, src, imm, next]); return 0xff0000_0000n + BigInt(next); } }, none);
  assert.deepEqual(vm.run(0n), { status: 'exit', r0: 0xff0000_0010n, insns: 2 });
  vm.run(0n);
  assert.deepEqual(calls, [[0, 2, 3, 16]]);
  assert.throws(() => new Vm({ insns }, none), /resolveLdImm64/);
});

test('validate() reports pc and what for every broken instruction', () => {
  const errs = validate(decodeBytes(Uint8Array.from([
    0xb7, 0x00, 0, 0, 0, 0, 0, 0,
    0xff, 0x00, 0, 0, 0, 0, 0, 0,
    0x07, 0x0c, 0, 0, 1, 0, 0, 0,
    0x95, 0, 0, 0, 0, 0, 0, 0,
  ])));
  assert.deepEqual(errs.map((e) => e.pc), [1, 2]);
  assert.match(errs[0].message, /^insn 1: unknown opcode 0xff/);
  assert.match(errs[1].message, /^insn 2: Invalid register r12/);
  assert.match(validate([])[0].message, /no instructions/);
});

test('conformance plugin core: r0 in hex, errors on stderr with non-zero code', () => {
  const prog = Buffer.from(encodeInsns(assemble('ldxh %r0, [%r1+1]\nexit'))).toString('hex');
  assert.deepEqual(conformancePlugin(prog, 'aa bb cc'), { stdout: 'ccbb\n', stderr: '', code: 0 });
  const bad = conformancePlugin(prog, 'aa');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad-access at insn 0/);
  assert.equal(conformancePlugin('zz').code, 1);
});

// A deterministic PRNG (xorshift32) for the hostile-input tests.
function rng(seed: number) { let s = seed >>> 0 || 1; return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; }; }

const VALID = OPS.flatMap((o, c) => (o ? [c] : []));
const EXIT: Insn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
test('hostile programs: random instruction words never cause a host exception', () => {
  const next = rng(0xb9f);
  const memory = new Memory();
  let ran = 0, rejected = 0;
  for (let k = 0; k < 2000; k++) {
    const n = 1 + (next() % 12);
    const insns: Insn[] = [];
    while (insns.length < n) {
      // mostly valid shapes with random operands (pre-checked alone), sometimes raw garbage
      const code = next() % 10 === 0 ? next() & 0xff : VALID[next() % VALID.length];
      const imms = [0, 1, -1, 8, 16, 32, 64, next() | 0, -8, 0xf1, 0xe1, 0x41];
      const x: Insn = { code, dst: next() % 11, src: next() % 5 === 0 ? next() % 16 : next() % 11, off: next() % 3 === 0 ? 0 : (next() % 13) - 4, imm: imms[next() % imms.length] };
      const info = OPS[code];
      if (info && (info.kind === 'jcond' || info.kind === 'ja')) {
        x.off = (next() % (n + 2)) - insns.length - 1;
        if (next() % 10 !== 0) { if (info.srcReg) x.imm = 0; else x.src = 0; if (info.kind === 'ja') { x.dst = 0; x.src = 0; x.imm = 0; } }
        if (!info.is64 && info.kind === 'ja') { x.imm = x.off; x.off = 0; }
      }
      if (info?.kind === 'call' && next() % 10 !== 0) { x.dst = 0; x.off = 0; x.src = next() % 3; if (x.src === 1) x.imm = (next() % (n + 2)) - insns.length - 1; else x.imm = next() % 8; }
      if (info && (info.kind === 'jcond' || info.kind === 'ja' || info.kind === 'call')) { insns.push(x); continue; }
      if (next() % 10 !== 0 && validate(info?.kind === 'lddw' ? [x, { code: 0, dst: 0, src: 0, off: 0, imm: 0 }, EXIT] : [x, EXIT], { checkUninit: false }).length) continue;
      insns.push(x);
      if (info?.kind === 'lddw') insns.push({ code: 0, dst: 0, src: 0, off: 0, imm: next() | 0 });
    }
    insns.push(EXIT);
    const errs = validate(insns, { checkUninit: false });
    if (errs.length) { rejected++; continue; }
    const vm = new Vm({ insns, resolveLdImm64: (_pc, src, imm) => BigInt(src * 1000 + imm) }, { helper: () => (_c, r1) => r1, kfunc: () => undefined }, { memory, validate: { checkUninit: false } });
    const st = vm.run(0n, { budget: 10_000 });
    assert.ok(st.status === 'exit' || st.status === 'fault');
    if (st.status === 'fault') assert.ok(st.fault.pc >= 0 && st.fault.pc < insns.length && st.fault.message.length > 0);
    ran++;
  }
  assert.ok(ran > 200 && rejected > 100, `ran ${ran}, rejected ${rejected}`);
});

test('stack frames: a callee reads and writes its caller\'s frame through a pointer; accesses past either end of a frame fault; both tiers and single steps agree', () => {
  // f gets a pointer 8 bytes below the caller's frame top, adds 1 to the u64 there and writes
  // its own frame's top and bottom slots; the caller reads the u64 back
  const ok = `
stdw [%r10-8], 41
mov %r1, %r10
add %r1, -8
call local f
ldxdw %r0, [%r10-8]
exit
f:
ldxdw %r2, [%r1+0]
add %r2, 1
stxdw [%r1+0], %r2
stdw [%r10-8], 7
stb [%r10-512], 9
ldxb %r3, [%r10-512]
add %r2, %r3
stxdw [%r1+0], %r2
mov %r0, 0
exit`;
  const faults: [string, RegExp][] = [
    ['stw [%r10+0], 1\nmov %r0, 0\nexit', /store of 4 bytes .* outside any region \(stack frame 0 has 512 bytes, offset 512\)/],
    ['ldxdw %r0, [%r10-4]\nexit', /load of 8 bytes .* outside any region \(stack frame 0 has 512 bytes, offset 508\)/],
    ['ldxb %r0, [%r10-513]\nexit', /load of 1 bytes at 0x[0-9a-f]+ is outside any region/],
    ['mov %r1, %r10\ncall local f\nexit\nf:\nldxw %r0, [%r1+0]\nexit', /load of 4 bytes .* outside any region \(stack frame 0 has 512 bytes, offset 512\)/],
  ];
  const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  for (const tier of ['interp', 'fast'] as const) {
    const vm = new Vm({ insns: assemble(ok) }, none, { tier });
    assert.deepEqual(vm.run(0n), { status: 'exit', r0: 41n + 1n + 9n, insns: 16 }, tier);
    for (const [src, re] of faults) {
      const st = new Vm({ insns: assemble(src) }, none, { tier, validate: { checkUninit: false } }).run(0n);
      assert.equal(st.status, 'fault', `${tier}: ${src}`);
      if (st.status === 'fault') assert.match(st.fault.message, re, `${tier}: ${src}`);
      // one instruction at a time (the interpreter's precise loop) ends the same way
      const step = new Vm({ insns: assemble(src) }, none, { tier, validate: { checkUninit: false } });
      step.start(0n);
      let s = step.step();
      while (s.status === 'paused') s = step.step();
      assert.equal(show(s), show(st), `${tier} stepwise: ${src}`);
    }
  }
});
