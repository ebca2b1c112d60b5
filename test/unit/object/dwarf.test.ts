// The DWARF reader (debugger/object/dwarf/) against llvm-dwarfdump-19 on the committed objects
// (clang-19 -g, DWARF 5) and on a DWARF 4 build of a fixture: every DIE's tag and name, every
// location (plain or list: ranges and operations) and every scope's address ranges agree. Then
// the model: scopes, inlined subroutines with their call lines, variables and C types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AT, decodeExpr, dieLocation, dieRanges, exprText, readDwarf, tagName, typeName, type DScope } from '../../../debugger/object/dwarf/index';
import { attrStr } from '../../../debugger/object/dwarf/index';

const ROOT = resolve(__dirname, '../../..');
const DUMP = 'llvm-dwarfdump-19';
const haveDump = spawnSync(DUMP, ['--version']).status === 0;
const haveClang = spawnSync('clang-19', ['--version']).status === 0;

function objects(): string[] {
  const out = [join(ROOT, 'examples/autolowat/autolowat.bpf.o')];
  for (const d of readdirSync(join(ROOT, 'test/fixtures'))) {
    for (const f of readdirSync(join(ROOT, 'test/fixtures', d))) if (f.endsWith('.bpf.o')) out.push(join(ROOT, 'test/fixtures', d, f));
  }
  return out;
}

interface DumpDie { off: number; tag: string; name?: string; loc?: string[]; ranges?: string[] }

/** The DIEs of `llvm-dwarfdump --debug-info`: tag, name, location (one line per entry) and ranges. */
function parseDump(text: string): DumpDie[] {
  const out: DumpDie[] = [];
  let cur: DumpDie | null = null;
  let attrName = '';
  let buf: string[] = [];
  const flush = () => {
    if (!cur || !attrName) return;
    const all = buf.join('\n');
    if (attrName === 'DW_AT_name') cur.name = /^\("(.*)"\)$/s.exec(all)?.[1];
    if (attrName === 'DW_AT_location') {
      const entries = [...all.matchAll(/\[0x([0-9a-f]+), 0x([0-9a-f]+)\): (.*?)\)?$/gm)].map((m) => `[${parseInt(m[1]!, 16).toString(16)},${parseInt(m[2]!, 16).toString(16)}) ${m[3]}`);
      cur.loc = entries.length ? entries : [/^\((.*)\)$/s.exec(all)![1]!];
      cur.loc = cur.loc.map((l) => l.replace(/ "DW_ATE_[a-z_]+_\d+"/g, ''));
    }
    if (attrName === 'DW_AT_ranges') cur.ranges = [...all.matchAll(/\[0x([0-9a-f]+), 0x([0-9a-f]+)\)/g)].map((m) => `${parseInt(m[1]!, 16)}-${parseInt(m[2]!, 16)}`);
    if (attrName === 'DW_AT_high_pc') {
      const lo = (cur as DumpDie & { lo?: number }).lo ?? 0;
      cur.ranges = [`${lo}-${parseInt(/0x([0-9a-f]+)/.exec(all)![1]!, 16)}`];
    }
    if (attrName === 'DW_AT_low_pc') (cur as DumpDie & { lo?: number }).lo = parseInt(/0x([0-9a-f]+)/.exec(all)![1]!, 16);
    attrName = '';
    buf = [];
  };
  for (const line of text.split('\n')) {
    const d = /^0x([0-9a-f]{8}):\s+(DW_TAG_\w+|NULL)/.exec(line);
    if (d) { flush(); cur = d[2] === 'NULL' ? null : { off: parseInt(d[1]!, 16), tag: d[2]! }; if (cur) out.push(cur); continue; }
    const a = /^\s+(DW_AT_\w+)\s+(\(.*)$/.exec(line);
    if (a && cur) { flush(); attrName = a[1]!; buf = [a[2]!]; continue; }
    if (attrName && line.trim()) buf.push(line.trim());
    else flush();
  }
  flush();
  return out;
}

function compare(obj: string) {
  const dump = parseDump(execFileSync(DUMP, ['--debug-info', obj], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const dw = readDwarf(new Uint8Array(readFileSync(obj)), obj);
  assert.ok(dump.length > 10, `${obj}: the dump has DIEs`);
  let locs = 0, ranges = 0;
  for (const want of dump) {
    const got = dw.dies.get(want.off);
    assert.ok(got, `${obj}: DIE at 0x${want.off.toString(16)} (${want.tag})`);
    assert.equal(tagName(got.tag), want.tag, `${obj}: tag at 0x${want.off.toString(16)}`);
    assert.equal(attrStr(got, AT.name!), want.name, `${obj}: name at 0x${want.off.toString(16)}`);
    if (want.loc && want.tag !== 'DW_TAG_call_site_parameter') {
      const mine = dieLocation(dw.sections, got).map((e) => {
        const text = exprText(decodeExpr(dw.sections, got.unit, e.expr));
        return e.range ? `[${e.range.lo.toString(16)},${e.range.hi.toString(16)}) ${text}` : text;
      });
      assert.deepEqual(mine, want.loc, `${obj}: location of ${want.name} at 0x${want.off.toString(16)}`);
      locs++;
    }
    if (want.ranges && want.tag !== 'DW_TAG_compile_unit') {
      assert.deepEqual(dieRanges(dw.sections, got).map((r) => `${r.lo}-${r.hi}`), want.ranges, `${obj}: ranges of 0x${want.off.toString(16)}`);
      ranges++;
    }
  }
  return { dies: dump.length, locs, ranges };
}

test('every DIE, location and range of the committed objects agrees with llvm-dwarfdump-19', { skip: !haveDump && `${DUMP} is not installed (apt install llvm-19)` }, () => {
  let n = { dies: 0, locs: 0, ranges: 0 };
  for (const o of objects()) {
    const r = compare(o);
    n = { dies: n.dies + r.dies, locs: n.locs + r.locs, ranges: n.ranges + r.ranges };
  }
  assert.ok(n.locs > 300 && n.ranges > 100, `compared ${JSON.stringify(n)}`);
});

test('a DWARF 4 build (.debug_loc, .debug_ranges, DW_OP_addr) agrees with llvm-dwarfdump-19 too', { skip: (!haveDump || !haveClang) && 'needs clang-19 and llvm-dwarfdump-19' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dwarf4-'));
  try {
    const out = join(dir, 'frames4.o');
    execFileSync('clang-19', ['-target', 'bpf', '-O2', '-g', '-gdwarf-4', '-I', join(ROOT, 'include'), `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', join(ROOT, 'test/fixtures/dap/frames.bpf.c'), '-o', out]);
    assert.match(execFileSync(DUMP, ['--debug-info', out], { encoding: 'utf8' }), /version = 0x0004/);
    const r = compare(out);
    assert.ok(r.locs > 10 && r.ranges > 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const HOOK = join(ROOT, 'examples/autolowat/autolowat.bpf.c');
const lineOf = (text: string) => readFileSync(HOOK, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;

test('the example hook: scopes, inlined subroutines at their call lines, variables and C types', () => {
  const dw = readDwarf(new Uint8Array(readFileSync(join(ROOT, 'examples/autolowat/autolowat.bpf.o'))));
  const m = dw.model;
  const fn = m.functions.find((f) => f.name === 'tcp_autolowat')!;
  assert.ok(fn, 'tcp_autolowat is a subprogram with code');
  const vars = (s: DScope) => Object.fromEntries(s.vars.map((v) => [v.name, typeName(v.type)]));
  assert.deepEqual(vars(fn), { skops: 'struct bpf_sock_ops *', sk: 'struct bpf_sock *', tp: 'struct tcp_sock *', st: 'struct autolowat_state *', kctx: 'struct bpf_sock_ops_kern *', skb: 'struct sk_buff *', lowat: '__u32' });
  assert.equal(fn.vars.find((v) => v.name === 'lowat')!.locs.length, 0, 'lowat has no location: optimized out');
  const wanted = fn.children.find((c) => c.kind === 'inlined_subroutine' && c.name === 'wanted_rcvlowat')!;
  assert.equal(wanted.callLine, lineOf('lowat = wanted_rcvlowat(st, tp->copied_seq);'));
  assert.deepEqual(vars(wanted), { st: 'const struct autolowat_state *', target: '__u32', copied_seq: '__u32' });
  const sb = wanted.children.filter((c) => c.name === 'seq_before');
  assert.deepEqual(sb.map((c) => c.callLine), [lineOf('if (seq_before(copied_seq, st->complete_end))'), lineOf('if (!seq_before(copied_seq, target))')]);
  // the innermost scope at an address inside the first seq_before: subprogram > wanted_rcvlowat > seq_before
  const r = sb[0]!.ranges[0]!;
  assert.deepEqual(m.scopesAt(r.sec, r.lo).map((s) => s.name), ['tcp_autolowat', 'wanted_rcvlowat', 'seq_before']);
  assert.equal(dw.elf.sections[r.sec]!.name, 'sockops');
  // a struct type with its members at their offsets
  const st = m.namedTypes.get('struct autolowat_state')!;
  assert.ok(st.kind === 'struct');
  if (st.kind === 'struct') {
    assert.equal(st.size, 40);
    assert.deepEqual(st.members.map((x) => `${x.name}@${x.offset}:${typeName(x.type)}`), ['started@0:__u32', 'gave_up@4:__u32', 'fin@8:__u32', 'next_seq@12:__u32', 'frame_seq@16:__u32', 'frame_end@20:__u32', 'complete_end@24:__u32', 'desc_have@28:__u32', 'desc@32:__u8[8]']);
  }
  // parse_skb is a real BPF function (bpf-to-bpf call) in .text with its own parameters
  const ps = m.functions.find((f) => f.name === 'parse_skb')!;
  assert.equal(dw.elf.sections[ps.ranges[0]!.sec]!.name, '.text');
  assert.deepEqual(ps.vars.filter((v) => v.param).map((v) => v.name), ['skops', 'st', 'skb_seq', 'end']);
});

test('malformed debug sections give a DwarfError with the section and offset, not a host exception', () => {
  const bytes = new Uint8Array(readFileSync(join(ROOT, 'examples/autolowat/autolowat.bpf.o')));
  const dw = readDwarf(bytes);
  const info = dw.elf.sections.find((s) => s.name === '.debug_info')!;
  const bad = bytes.slice();
  // an abbreviation code that does not exist, in the first DIE after the unit header
  bad[info.offset + 12] = 0x7f;
  assert.throws(() => readDwarf(bad), (e: Error) => e.name === 'DwarfError' && /\.debug_info, offset 0xc: abbreviation code 127/.test(e.message));
  const cut = bytes.slice();
  cut[info.offset] = 0xff; cut[info.offset + 1] = 0xff; // unit length past the section
  assert.throws(() => readDwarf(cut), (e: Error) => e.name === 'DwarfError' && /runs past the end|reserved unit length/.test(e.message));
});

test('.debug_line: every row (address, line) of every sequence agrees with llvm-dwarfdump-19', { skip: !haveDump && `${DUMP} is not installed` }, async () => {
  const { readDebugLine } = await import('../../../debugger/object/dwarf/line');
  let rows = 0;
  for (const obj of objects()) {
    const dw = readDwarf(new Uint8Array(readFileSync(obj)), obj);
    const seqs = readDebugLine(dw.elf);
    assert.ok(typeof seqs !== 'string', `${obj}: ${seqs}`);
    const mine = (seqs as { addr: number[]; line: number[] }[]).flatMap((s) => s.addr.map((a, i) => `${a.toString(16)}:${s.line[i]}`));
    const want = execFileSync(DUMP, ['--debug-line', obj], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')
      .map((l) => /^0x([0-9a-f]{16})\s+(\d+)\s/.exec(l)).filter((m): m is RegExpExecArray => !!m).map((m) => `${parseInt(m[1]!, 16).toString(16)}:${m[2]}`);
    assert.ok(want.length > 0, obj);
    assert.deepEqual(mine, want, obj);
    rows += want.length;
  }
  assert.ok(rows > 500, `${rows} rows compared`);
});
