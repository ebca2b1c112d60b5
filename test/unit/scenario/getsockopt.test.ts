// cgroup/getsockopt (kernel/bpf/cgroup.c __cgroup_bpf_run_filter_getsockopt) on our own hook
// (test/fixtures/getsockopt/getsockopt.bpf.c, the only program of its object): the program sees
// the kernel's answer, may rewrite it, returning 0 fails the call with -EPERM unless it set an
// errno in retval; and the scenario key/step that drive it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../../cli/run';
import { loadObject } from '../../../debugger/object';
import { BpfKernel } from '../../../debugger/kernel/bpf';
import { parseScenario } from '../../../debugger/scenario/parse';
import { signed, TestSock, u32le } from '../kernel/util';

const DIR = join(import.meta.dirname, '../../fixtures/getsockopt');
const OBJ = join(DIR, 'getsockopt.bpf.o');
const obj = loadObject(new Uint8Array(readFileSync(OBJ)), 'test/fixtures/getsockopt/getsockopt.bpf.o');
const SOL_SOCKET = 1, SO_RCVLOWAT = 18, SOL_CUSTOM = 0x5ca1ab1e;

/** The hook's globals: seen_retval, seen_optlen, seen_value, seen_room (.data), runs (.bss). */
function seen(k: BpfKernel) {
  const v = (name: string) => {
    const b = k.maps().find((m) => m.def.name === name)!.entries()[0]!.value;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return Array.from({ length: b.byteLength >> 3 }, (_, i) => signed(dv.getBigUint64(i * 8, true)));
  };
  const [retval, optlen, value, room] = v('.data');
  return { retval, optlen, value, room, runs: v('.bss')[0] };
}

const int = (b: Uint8Array | null) => (b ? new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(0, true) : null);

test('an object whose only program is cgroup/getsockopt loads; the program sees the kernel\'s answer and rewrites it', () => {
  const k = BpfKernel.load(obj, { getsockopt: 'rewrite_get' });
  assert.equal(k.sockopsProgram, null);
  assert.equal(k.getsockoptProgram?.name, 'rewrite_get');
  const s = new TestSock();
  const r = k.getsockopt(s, { level: SOL_SOCKET, optname: SO_RCVLOWAT, maxOptlen: 4, retval: 0, optval: u32le(40), label: 'getsockopt' })!;
  assert.equal(r.trace!.fault, undefined, r.trace!.fault?.message);
  assert.equal(r.ret, 0);
  assert.equal(int(r.optval), 1040);
  assert.deepEqual(seen(k), { retval: 0, optlen: 4, value: 40, room: 4, runs: 1 });
});

test('the kernel failed: ctx.retval is its errno, ctx.optlen the application\'s optlen, and the errno stays unless the program clears it', () => {
  const k = BpfKernel.load(obj, { getsockopt: 'rewrite_get' });
  const s = new TestSock();
  const r = k.getsockopt(s, { level: SOL_SOCKET, optname: SO_RCVLOWAT, maxOptlen: 8, retval: -22, optval: new Uint8Array(0), label: 'g' })!;
  assert.equal(r.ret, -22);
  assert.equal(r.optval, null);
  const o = seen(k);
  assert.equal(o.retval, -22);
  assert.equal(o.optlen, 8);
  assert.equal(o.room, 8);
  assert.equal(o.value, 0, 'the buffer holds zeros when the kernel failed');
  // The hook answers a level the kernel does not know (-ENOPROTOOPT): retval 0, optlen 4.
  const c = k.getsockopt(s, { level: SOL_CUSTOM, optname: 1, maxOptlen: 8, retval: -92, optval: new Uint8Array(0), label: 'g' })!;
  assert.equal(c.ret, 0);
  assert.equal(c.optval?.length, 4);
  assert.equal(int(c.optval), SOL_CUSTOM | 0);
  // A negative optlen never reaches the program (sockopt_alloc_buf: -EINVAL).
  const neg = k.getsockopt(s, { level: SOL_SOCKET, optname: SO_RCVLOWAT, maxOptlen: -1, retval: -22, optval: new Uint8Array(0), label: 'g' })!;
  assert.equal(neg.ret, -22);
  assert.equal(seen(k).runs, 2);
});

async function run(args: string[]) {
  let out = '', err = '';
  const code = await runCommand(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

test('scenario: getsockopt steps show the kernel\'s value rewritten, -EPERM on return 0, the program\'s own errno, a short buffer', async () => {
  const d = mkdtempSync(join(tmpdir(), 'bpf-gso-'));
  try {
    const f = join(d, 'g.scenario.json');
    writeFileSync(f, JSON.stringify({
      program: OBJ, getsockopt: 'rewrite_get', stream: [{ zeros: 10 }],
      steps: [
        { setsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT', int: 40 } },
        { getsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT' } },
        { getsockopt: { level: 'SOL_SOCKET', optname: 'SO_MARK' } },
        { expect: { ret: -1 } },
        { getsockopt: { level: 'SOL_SOCKET', optname: 'SO_PRIORITY' } },
        { expect: { ret: -2 } },
        { getsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT', optlen: 2 } },
      ],
    }));
    const r = await run([f, '--format', 'json']);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    const j = JSON.parse(r.out);
    const step = (i: number) => j.steps.find((x: { step: number | null }) => x.step === i);
    assert.equal(step(1).ret, 0);
    assert.equal(step(1).data, '10040000', 'kernel 40 + 1000');
    assert.match(step(1).happened, /returned 0, optlen 4: 10040000 \(int 1040\); cgroup\/getsockopt -> 0/);
    assert.deepEqual(step(1).runs.map((x: { event: string; ret: number }) => [x.event, x.ret]), [['cgroup/getsockopt', 0]]);
    assert.equal(step(2).ret, -1);
    assert.match(step(2).happened, /returned -1 \(EPERM\)/);
    assert.equal(step(4).ret, -2);
    // optlen 2: the kernel writes 2 bytes of 40; the hook's 4-byte bounds check fails and it keeps them.
    assert.equal(step(6).ret, 0);
    assert.equal(step(6).data, '2800');
    assert.equal(j.summary?.failed ?? 0, 0);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the committed fixture scenario passes', async () => {
  const r = await run([join(DIR, 'getsockopt.scenario.json')]);
  assert.equal(r.err, '');
  assert.match(r.out, /\n4 passed, 0 failed\n$/);
  assert.equal(r.code, 0);
});

test('parse: "getsockopt" key and step, defaults and errors', () => {
  const p = (o: unknown) => parseScenario(JSON.stringify(o), '/tmp/x.scenario.json', { constant: (n) => ({ SOL_SOCKET: 1, SO_RCVLOWAT: 18 } as Record<string, number>)[n] });
  const sc = p({ program: 'a.o', getsockopt: 'g', stream: [{ zeros: 1 }], steps: [{ getsockopt: { level: 'SOL_SOCKET', optname: 'SO_RCVLOWAT' } }, { getsockopt: { level: 6, optname: 2, optlen: 16 } }] });
  assert.equal(sc.getsockopt, 'g');
  assert.equal(sc.setsockopt, undefined);
  assert.equal(sc.sockops, undefined);
  assert.deepEqual(sc.steps.map((s) => s.step), [
    { kind: 'getsockopt', level: 1, optname: 18, optlen: 4, display: 'SOL_SOCKET, SO_RCVLOWAT, optlen 4' },
    { kind: 'getsockopt', level: 6, optname: 2, optlen: 16, display: '6, 2, optlen 16' },
  ]);
  assert.throws(() => p({ program: 'a.o', stream: [{ zeros: 1 }], steps: [{ getsockopt: { level: 1, optname: 18, int: 3 } }] }), /unknown getsockopt property "int"; use level, optname, optlen/);
  assert.throws(() => p({ program: 'a.o', stream: [{ zeros: 1 }], steps: [{ getsockopt: { level: 1 } }] }), /missing "optname"/);
  assert.throws(() => p({ program: 'a.o', stream: [{ zeros: 1 }], steps: [{ getsockopt: { level: 1, optname: 18, optlen: -1 } }] }), /"optlen".*between 0 and 65536/);
  assert.throws(() => p({ program: 'a.o', getsockopt: '', stream: [{ zeros: 1 }], steps: [] }), /"getsockopt" \(a function name\) must be a non-empty string/);
});

test('getsockopt fixture object is up to date with its source', { skip: spawnSync('clang-19', ['--version']).status === 0 ? false : 'clang-19 not installed' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'gso-'));
  try {
    const r = spawnSync('sh', [join(DIR, 'build.sh'), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const o of readdirSync(DIR).filter((f) => f.endsWith('.o'))) {
      assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(DIR, o))), `${o} differs: run test/fixtures/getsockopt/build.sh`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
