// The loader against clang-19 objects: relocations, CO-RE and line info are checked against what
// llvm-objdump-19 -d -S -r printed for the same object (committed next to it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Insn } from '../../../debugger/vm/api';
import { loadObject, CORE_KIND_OBJDUMP, decodeSlots, type BpfObject, type BpfProgram, type FuncInfo } from '../../../debugger/object';
import { readDump, sourceAt, type DumpInsn, type DumpSection } from './objdump';

const DIR = 'test/fixtures/objects';
const OBJECTS = readdirSync(DIR).filter((f) => f.endsWith('.o')).sort();

function load(name: string): BpfObject {
  return loadObject(readFileSync(join(DIR, name)), name);
}

/** The function of p holding pc, and the dump slot of that pc. */
function slotOf(p: BpfProgram, pc: number): { f: FuncInfo; slot: number } {
  const f = p.funcs.find((x) => pc >= x.startPc && pc < x.endPc);
  assert.ok(f, `pc ${pc} of ${p.name} lies in no function`);
  assert.equal(typeof f.secInsn, 'number');
  return { f, slot: f.secInsn! + pc - f.startPc };
}

test('fixtures exist in every -mcpu variant', () => {
  assert.ok(OBJECTS.length >= 9, `only ${OBJECTS.length} objects in ${DIR}`);
  for (const base of ['sockops_hook', 'core_relos', 'calls']) {
    for (const v of ['', '.v3', '.v4']) assert.ok(OBJECTS.includes(`${base}.bpf${v}.o`), `${base}.bpf${v}.o missing`);
  }
});

for (const name of OBJECTS) {
  test(`${name}: every relocation llvm-objdump -r shows is resolved at the right slot`, () => {
    const o = load(name);
    const dump = readDump(join(DIR, name + '.dump'));
    assert.ok(o.programs.length > 0);
    for (const p of o.programs) {
      let annotations = 0;
      let seenCore = 0;
      for (const f of p.funcs) {
        const sec = dump.get(f.section);
        assert.ok(sec, `dump has no section ${f.section}`);
        const label = sec.funcs.find((x) => x.name === f.name);
        assert.ok(label, `dump has no label <${f.name}> in ${f.section}`);
        assert.equal(label.slot, f.secInsn, `${f.name} starts at slot ${label.slot} in the dump`);
        for (let pc = f.startPc; pc < f.endPc; pc++) {
          const slot = f.secInsn! + pc - f.startPc;
          const d: DumpInsn | undefined = sec.insns.get(slot);
          if (!d) continue; // second half of ld_imm64
          const raw: Insn = decodeSlots(Uint8Array.from(d.bytes))[0];
          const insn = p.insns[pc];
          assert.equal(insn.code, raw.code, `${p.name} pc ${pc}: opcode changed`);
          assert.equal(insn.dst, raw.dst, `${p.name} pc ${pc}: dst changed`);
          for (const a of d.relocs) {
            annotations++;
            checkAnnotation(o, p, pc, slot, sec, a, raw.imm);
            if (a.startsWith('CO-RE')) seenCore++;
          }
          if (d.relocs.length === 0 && raw.code === 0x85 && raw.src === 1) {
            // Unrelocated call inside a section: pc-relative in the section.
            const r = p.relocs.find((x) => x.pc === pc);
            assert.ok(r && r.kind === 'call', `${p.name} pc ${pc}: local call not recorded`);
            assert.equal(slotOf(p, r.targetPc!).slot, slot + raw.imm + 1);
            annotations++;
          }
          if (d.relocs.length === 0 && !(raw.code === 0x85 && raw.src === 1)) {
            assert.deepEqual(insn, raw, `${p.name} pc ${pc}: an instruction without relocation changed`);
          }
        }
      }
      assert.equal(p.relocs.length + p.coreRelos.length, annotations, `${p.name}: relocation count differs from the dump`);
      assert.equal(p.coreRelos.length, seenCore);
    }
  });

  test(`${name}: line info maps slots to the source lines llvm-objdump -S prints`, () => {
    const o = load(name);
    const dump = readDump(join(DIR, name + '.dump'));
    const srcFile = name.replace(/(\.v[34])?\.o$/, '.c');
    const src = readFileSync(join(DIR, srcFile), 'utf8').split('\n');
    for (const p of o.programs) {
      assert.ok(p.lineInfo.length > p.funcs.length, `${p.name}: too little line info`);
      for (let i = 1; i < p.lineInfo.length; i++) assert.ok(p.lineInfo[i - 1].pc <= p.lineInfo[i].pc, 'line info not sorted');
      for (const li of p.lineInfo) {
        assert.equal(li.file, `./${srcFile}`);
        assert.equal(li.text, src[li.line - 1], `line ${li.line} of ${srcFile} is not the recorded text (line/col unpacking)`);
        const { f, slot } = slotOf(p, li.pc);
        if (li.pc === f.startPc && li.text.includes(f.name + '(')) continue; // the declaration line opens a function
        assert.ok(li.col >= 1 && li.col <= li.text.length + 1, `column ${li.col} outside '${li.text}'`);
        const shown = sourceAt(dump.get(f.section)!, slot, f.secInsn!);
        assert.ok(shown.includes(li.text), `${p.name} pc ${li.pc} (${f.section} slot ${slot}): '${li.text}' not among ${JSON.stringify(shown)}`);
      }
    }
  });
}

function checkAnnotation(o: BpfObject, p: BpfProgram, pc: number, slot: number, sec: DumpSection, a: string, rawImm: number) {
  const insn = p.insns[pc];
  const at = `${p.name} pc ${pc} (${sec.name} slot ${slot}) '${a}'`;
  let m = /^R_BPF_64_64\t(.+)$/.exec(a);
  if (m) {
    const sym = m[1];
    const r = p.relocs.find((x) => x.pc === pc);
    assert.ok(r, `${at}: no resolved relocation`);
    if (r.kind === 'map') {
      assert.equal(r.symbol, sym, at);
      assert.equal(insn.src, 1, at);
      assert.equal(o.maps[insn.imm].name, sym, at);
      assert.equal(p.insns[pc + 1].imm, 0, at);
      return;
    }
    if (r.kind === 'call') {
      // Function address (BPF_PSEUDO_FUNC): imm is the byte offset into the section.
      assert.equal(insn.src, 4, at);
      assert.equal(r.targetPc, pc + 1 + insn.imm, at);
      assert.equal(slotOf(p, r.targetPc!).slot, rawImm / 8, at);
      return;
    }
    assert.equal(r.kind, 'global', at);
    assert.equal(insn.src, 2, at);
    assert.equal(insn.imm, r.mapIndex);
    const map = o.maps[insn.imm];
    assert.equal(p.insns[pc + 1].imm, r.offset, at);
    if (sym.startsWith('.')) {
      assert.equal(map.name, sym, at);
      assert.equal(r.offset, rawImm, at); // section symbol: the addend is the insn imm
    } else {
      assert.equal(r.symbol, sym, at);
      const ds = o.btf!.types[map.valueTypeId];
      const v = ds.secinfo!.find((s) => o.btf!.types[s.type].name === sym);
      assert.ok(v, `${at}: ${sym} not in DATASEC ${map.name}`);
      assert.equal(r.offset, v.offset + rawImm, at);
    }
    return;
  }
  m = /^R_BPF_64_32\t(.+)$/.exec(a);
  if (m) {
    const sym = m[1];
    const r = p.relocs.find((x) => x.pc === pc);
    assert.ok(r, `${at}: no resolved relocation`);
    if (o.kfuncs.includes(sym)) {
      assert.equal(r.kind, 'kfunc', at);
      assert.equal(insn.src, 2, at);
      assert.equal(o.kfuncs[insn.imm], sym, at);
      assert.equal(r.kfuncIndex, insn.imm);
      return;
    }
    assert.equal(r.kind, 'call', at);
    assert.equal(insn.src, 1, at);
    assert.equal(r.targetPc, pc + 1 + insn.imm, at);
    const t = slotOf(p, r.targetPc!);
    if (sym === '.text') assert.equal(t.slot, rawImm + 1, at);
    else {
      assert.equal(t.f.name, sym, at);
      assert.equal(r.targetPc, t.f.startPc, at);
    }
    return;
  }
  m = /^CO-RE <(\w+)> \[(\d+)\] (.*?)(?: \(([\d:]+)\))?$/.exec(a);
  assert.ok(m, `${at}: unknown annotation`);
  const c = p.coreRelos.find((x) => x.pc === pc);
  assert.ok(c, `${at}: no CO-RE relocation resolved`);
  assert.equal(CORE_KIND_OBJDUMP[c.kind], m[1], at);
  assert.equal(c.typeId, Number(m[2]), at);
  assert.equal(c.spec, m[3], at);
  if (m[4]) assert.equal(c.accessStr, m[4], at);
}

test('sockops_hook: maps, globals, license, kfuncs, programs', () => {
  for (const v of ['', '.v3', '.v4']) {
    const o = load(`sockops_hook.bpf${v}.o`);
    assert.equal(o.license, 'GPL');
    assert.deepEqual(o.kfuncs, ['bpf_cast_to_kern_ctx', 'bpf_sock_ops_tcp_set_rcvlowat']);
    assert.deepEqual(o.programs.map((p) => [p.name, p.section]), [['tcp_autolowat', 'sockops'], ['tcp_autolowat_setsockopt', 'cgroup/setsockopt']]);
    const m = Object.fromEntries(o.maps.map((x) => [x.name, x]));
    assert.deepEqual(Object.keys(m).sort(), ['.bss', '.data', '.rodata', 'frame_store', 'op_counts', 'scratch']);
    assert.equal(m.frame_store.typeName, 'BPF_MAP_TYPE_SK_STORAGE');
    assert.equal(m.frame_store.type, 24);
    assert.equal(m.frame_store.flags, 1); // BPF_F_NO_PREALLOC
    assert.equal(m.frame_store.keySize, 4);
    assert.equal(m.frame_store.valueSize, 16);
    assert.equal(o.btf!.typeName(m.frame_store.valueTypeId), 'struct frame_state');
    assert.equal(m.op_counts.typeName, 'BPF_MAP_TYPE_HASH');
    assert.deepEqual([m.op_counts.keySize, m.op_counts.valueSize, m.op_counts.maxEntries], [4, 8, 64]);
    assert.equal(o.btf!.typeName(m.op_counts.keyTypeId), '__u32');
    assert.deepEqual([m.scratch.type, m.scratch.keySize, m.scratch.valueSize, m.scratch.maxEntries, m.scratch.keyTypeId], [2, 4, 16, 4, 0]);
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    assert.equal(dv(m['.data'].initial!).getBigUint64(0, true), 7n); // wakeups_saved = 7
    assert.deepEqual([...m['.bss'].initial!], [0, 0, 0, 0]);
    assert.equal(dv(m['.rodata'].initial!).getUint32(0, true), 1 << 20); // max_frame
    assert.equal(new TextDecoder().decode(m['.rodata'].initial!.subarray(4, 13)), 'autolowat');
    assert.equal(m['.rodata'].readonly, true);
    assert.ok(!m['.data'].readonly);
    // The sock_ops program pulls in both .text subprograms; setsockopt only count_op.
    const [ops, sso] = o.programs;
    assert.deepEqual(ops.funcs.map((f) => [f.name, f.section]), [['tcp_autolowat', 'sockops'], ['count_op', '.text'], ['frame_need', '.text']]);
    assert.deepEqual(sso.funcs.map((f) => f.name), ['tcp_autolowat_setsockopt', 'count_op']);
    assert.equal(ops.insns.length, ops.funcs[2].endPc);
    for (const f of ops.funcs) assert.equal(o.btf!.types[f.btfTypeId].name, f.name);
    // The printk format is reachable through the relocated ld_imm64.
    const fmt = ops.relocs.find((r) => r.kind === 'global' && r.symbol.startsWith('.rodata+'));
    assert.ok(fmt);
    const text = m['.rodata'].initial!.subarray(fmt.offset!);
    assert.match(new TextDecoder().decode(text.subarray(0, text.indexOf(0))), /^%s: established, port %u$/);
  }
});

test('calls: nested .text calls, a bpf_loop callback, two programs in one section, .rodata.str1.1', () => {
  const o = load('calls.bpf.o');
  assert.deepEqual(o.programs.map((p) => p.name), ['calls_main', 'calls_second']);
  const [main, second] = o.programs;
  assert.deepEqual(main.funcs.map((f) => f.name).sort(), ['add_step', 'calls_main', 'depth1', 'depth2', 'global_helper', 'sum_to']);
  assert.deepEqual(second.funcs.map((f) => f.name), ['calls_second', 'depth2']);
  // Every call lands on the first insn of a function of the same program.
  for (const p of o.programs) {
    for (let pc = 0; pc < p.insns.length; pc++) {
      const i = p.insns[pc];
      if ((i.code === 0x85 && i.src === 1) || (i.code === 0x18 && i.src === 4)) {
        const t = pc + 1 + i.imm;
        assert.ok(p.funcs.some((f) => f.startPc === t), `${p.name} pc ${pc} calls ${t}, not a function start`);
      }
      if (i.code === 0x18) pc++;
    }
  }
  const cb = main.relocs.find((r) => r.kind === 'call' && r.symbol === 'add_step');
  assert.ok(cb);
  assert.equal(main.insns[cb.pc].code, 0x18);
  const str = o.maps.find((m) => m.name === '.rodata.str1.1');
  assert.ok(str && str.readonly);
  assert.equal(new TextDecoder().decode(str.initial!.subarray(0, 14)), 'literal string');
});

test('core_relos: values follow libbpf against the local BTF; bitfields extract correctly', () => {
  for (const v of ['', '.v3', '.v4']) {
    const o = load(`core_relos.bpf${v}.o`);
    const p = o.programs[0];
    const by = (kind: string, spec: string) => {
      const c = p.coreRelos.find((x) => x.kind === kind && x.spec === spec);
      assert.ok(c, `no ${kind} ${spec}`);
      return c.value;
    };
    const btf = o.btf!;
    const tcp = btf.find('tcp_sock_l', 'struct')!;
    assert.equal(by('field_byte_offset', 'struct tcp_sock_l::copied_seq'), btf.memberOffset(tcp.id, 'copied_seq')!.offset);
    assert.equal(by('field_byte_offset', 'struct sock_ops_kern_l::args[2]'), 16);
    assert.equal(by('field_byte_size', 'struct tcp_sock_l::rcv_wnd'), 4);
    assert.equal(by('type_size', 'struct tcp_sock_l'), btf.sizeof(tcp.id));
    assert.equal(by('enumval_value', 'enum rcvq_state_l::RCVQ_BODY = 9'), 9);
    assert.equal(by('type_id_local', 'struct tcp_sock_l'), tcp.id);
    assert.equal(by('type_id_target', 'typedef seq_t'), btf.find('seq_t', 'typedef')!.id);
    for (const k of ['field_exists', 'type_exists', 'type_matches', 'enumval_exists']) assert.ok(p.coreRelos.some((c) => c.kind === k && c.value === 1), k);
    // Bitfields: libbpf loads the member's type size (4), not clang's 1-byte guess, and the
    // shifts must extract the field from that load. sk_userlocks = 9, sk_shutdown = -3.
    const word = 9 | ((-3 & 7) << 4);
    const image = new Uint8Array(32);
    new DataView(image.buffer).setUint32(12, word, true);
    for (const [field, want] of [['sk_userlocks', 9n], ['sk_shutdown', -3n]] as const) {
      const spec = `struct sock_l::<anon 2>.<anon 1>.${field}`;
      const off = by('field_byte_offset', spec), size = by('field_byte_size', spec);
      assert.equal(size, 4);
      let x = 0n;
      for (let i = size - 1; i >= 0; i--) x = (x << 8n) | BigInt(image[off + i]);
      x = BigInt.asUintN(64, x << BigInt(by('field_lshift_u64', spec)));
      const r = BigInt(by('field_rshift_u64', spec));
      const got = by('field_signed', spec) ? BigInt.asIntN(64, x) >> r : x >> r;
      assert.equal(got, want, field);
      // The patched size reaches the instruction (an ALU mov of the size into r2).
      const c = p.coreRelos.find((q) => q.kind === 'field_byte_size' && q.spec === spec)!;
      assert.equal(p.insns[c.pc].imm, 4);
    }
  }
});

test('Btf helpers: find, resolve, sizeof, memberOffset through anonymous members, typeName', () => {
  const o = load('core_relos.bpf.o');
  const btf = o.btf!;
  const sock = btf.find('sock_l', 'struct')!;
  assert.equal(btf.find('sock_l', 'union'), undefined);
  assert.deepEqual(btf.memberOffset(sock.id, 'sk_shutdown'), { offset: 12, type: btf.memberOffset(sock.id, 'sk_shutdown')!.type, bitSize: 3 });
  assert.equal(btf.typeName(btf.memberOffset(sock.id, 'sk_shutdown')!.type), 'int');
  assert.equal(btf.memberOffset(sock.id, '__sk_common.skc_bound_dev_if')!.offset, 4);
  assert.equal(btf.memberOffset(sock.id, 'nope'), undefined);
  const kern = btf.find('sock_ops_kern_l')!;
  assert.equal(btf.memberOffset(kern.id, 'args[3]')!.offset, 20);
  assert.equal(btf.memberOffset(kern.id, 'args[4]'), undefined);
  assert.equal(btf.typeName(btf.memberOffset(kern.id, 'sk')!.type), 'struct sock_l *');
  assert.equal(btf.typeName(btf.memberOffset(kern.id, 'args')!.type), 'unsigned int [4]');
  const seq = btf.find('seq_t')!;
  assert.equal(seq.kind, 'typedef');
  assert.equal(btf.resolve(seq.id).name, 'unsigned int');
  assert.equal(btf.sizeof(seq.id), 4);
  assert.equal(btf.sizeof(kern.id), 32);
  const fn = btf.find('core_probe', 'func')!;
  assert.equal(btf.typeName(fn.id), 'int core_probe(struct bpf_sock_ops *skops)');
  const e = btf.find('rcvq_state_l', 'enum')!;
  assert.deepEqual(e.values!.map((x) => [x.name, x.value]), [['RCVQ_IDLE', 0n], ['RCVQ_HEADER', 3n], ['RCVQ_BODY', 9n]]);
});

test('loading the example-sized object takes milliseconds (figure printed, not asserted)', () => {
  const bytes = readFileSync(join(DIR, 'sockops_hook.bpf.o'));
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) loadObject(bytes, 'x.o');
  console.log(`# loadObject(sockops_hook.bpf.o): ${((performance.now() - t0) / 20).toFixed(2)} ms per load`);
});
