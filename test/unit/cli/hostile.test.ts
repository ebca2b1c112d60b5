// The reproducers of issue 16 ("hostile input, bounded") against the CLI, each as a child process
// under a 2 GB address-space cap: every one ends in a clear error or a correct result, never a
// host crash, a hang or host exception text. Fixtures are made here (mkfifo, truncate, symlinks,
// generated scenarios), none committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_O, HOST_TEXT, ROOT, cli, cliLauncher } from './hostile-helpers';

const dir = mkdtempSync(join(tmpdir(), 'cli-hostile-fx-'));
const fifo = (name: string) => { const p = join(dir, name); execFileSync('mkfifo', [p]); return p; };
const scenario = (name: string, doc: unknown) => { const p = join(dir, name); writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc)); return p; };
const basic = (extra: Record<string, unknown> = {}) => ({ program: EXAMPLE_O, stream: [{ zeros: 16 }], steps: [{ send: 8 }, { expect: { readable: 8 } }], ...extra });

function clean(r: { status: number | null; stderr: string; stdout?: string | null; signal?: string | null }, codes: number[]): void {
  assert.equal(r.signal ?? null, null, `no signal (stderr: ${r.stderr.slice(0, 300)})`);
  assert.ok(codes.includes(r.status ?? -1), `exit ${r.status} in ${codes} (stderr: ${r.stderr.slice(0, 300)})`);
  assert.doesNotMatch(r.stderr, HOST_TEXT);
  if (typeof r.stdout === 'string') assert.doesNotMatch(r.stdout.slice(0, 100000), HOST_TEXT);
}

test('unbounded reads: FIFOs, /dev/zero and symlinks to it as scenario, object, --program, check and disasm files', async () => {
  const zeroLink = join(dir, 'zero.scenario.json');
  symlinkSync('/dev/zero', zeroLink);
  let r = await cli(['run', fifo('pipe.scenario.json')]);
  clean(r, [2]);
  assert.match(r.stderr, /pipe\.scenario\.json: is a FIFO \(named pipe\), not a regular file/);
  r = await cli(['run', '/dev/zero']);
  clean(r, [2]);
  assert.match(r.stderr, /\/dev\/zero: is a character device/);
  r = await cli(['run', zeroLink]);
  clean(r, [2]);
  assert.match(r.stderr, /zero\.scenario\.json: is a character device/);
  // "program" inside the scenario, and --program
  const progFifo = fifo('prog.o');
  r = await cli(['run', scenario('fifo-prog.scenario.json', basic({ program: progFifo }))]);
  clean(r, [2]);
  assert.match(r.stderr, /fifo-prog\.scenario\.json: program: .*prog\.o: is a FIFO/);
  r = await cli(['run', scenario('ok.scenario.json', basic()), '--program', '/dev/zero.o']);
  clean(r, [2]);
  r = await cli(['run', join(dir, 'ok.scenario.json'), '--program', fifo('hook.c')]);
  clean(r, [2]);
  assert.match(r.stderr, /hook\.c: is a FIFO/);
  const zeroO = join(dir, 'zero.o');
  symlinkSync('/dev/zero', zeroO);
  r = await cli(['run', join(dir, 'ok.scenario.json'), '--program', zeroO]);
  clean(r, [2]);
  assert.match(r.stderr, /zero\.o: is a character device/);
  // check and disasm
  r = await cli(['check', fifo('src.bpf.c'), '/dev/zero']);
  clean(r, [1]);
  assert.match(r.stderr, /src\.bpf\.c: is a FIFO/);
  assert.match(r.stderr, /\/dev\/zero: is a character device/);
  r = await cli(['disasm', fifo('dis.o'), '/dev/urandom']);
  clean(r, [1]);
  assert.match(r.stderr, /dis\.o: is a FIFO/);
  assert.match(r.stderr, /\/dev\/urandom: is a character device/);
});

test('a 1 GiB sparse .o is refused by its size, not read', async () => {
  const huge = join(dir, 'huge.o');
  writeFileSync(huge, '');
  truncateSync(huge, 1 << 30);
  let r = await cli(['disasm', huge]);
  clean(r, [1]);
  assert.match(r.stderr, /huge\.o: the BPF object is 1 GiB \(1073741824 bytes\), over the limit of 64 MiB/);
  r = await cli(['run', join(dir, 'ok.scenario.json'), '--program', huge]);
  clean(r, [2]);
  assert.match(r.stderr, /over the limit of 64 MiB/);
});

test('volume: a 100 MB description and a 20 MB u8 array are refused by the scenario cap; a 15 MB u8 array and a 10 MB hex run', async () => {
  let r = await cli(['run', scenario('desc.scenario.json', basic({ description: 'x'.repeat(100_000_000) }))]);
  clean(r, [2]);
  assert.match(r.stderr, /desc\.scenario\.json: the scenario file is 95\.4 MiB \(100000\d+ bytes\), over the limit of 16 MiB/);
  const u8 = (n: number) => `{"program": ${JSON.stringify(EXAMPLE_O)}, "stream": [{"u8": [${'1,'.repeat(n - 1)}1]}], "steps": [{"send": 8}, {"expect": {"readable": 8}}]}`;
  r = await cli(['run', scenario('u8big.scenario.json', u8(10_000_000))]);
  clean(r, [2]);
  assert.match(r.stderr, /over the limit of 16 MiB/);
  r = await cli(['run', scenario('u8.scenario.json', u8(7_500_000))]);
  clean(r, [0]);
  assert.match(r.stdout, /1 passed, 0 failed/);
  r = await cli(['run', scenario('hex.scenario.json', basic({ stream: [{ hex: 'ab'.repeat(5_000_000) }] }))]);
  clean(r, [0]);
  assert.match(r.stdout, /1 passed, 0 failed/);
  r = await cli(['run', scenario('hexbad.scenario.json', basic({ stream: [{ hex: 'ab'.repeat(5_000_000) + 'g' }] }))]);
  clean(r, [2]);
  assert.match(r.stderr, /stream\[0\]\.hex: "hex" must hold pairs of hex digits, e.g. "0a0b0c" \(character 10000001 is "g"\)/);
});

test('twelve 64 MiB peeked reads print --format json that parses (streamed, not one string)', async () => {
  const steps: unknown[] = [{ send: 1_000_000 }]; // 2 MB of hex per peek: written in pieces
  for (let k = 0; k < 12; k++) steps.push({ recv: 1 << 26, peek: true });
  const s = scenario('peek.scenario.json', { program: EXAMPLE_O, socket: { rcvbuf: 0x7fffffff, tcpRmemMax: 0x7fffffff }, stream: [{ zeros: 1 << 26 }], steps });
  const out = join(dir, 'peek.json');
  const fd = openSync(out, 'w');
  let r;
  try { r = await cli(['run', s, '--format', 'json'], { stdout: fd }); } finally { closeSync(fd); }
  clean(r, [0, 1]);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(doc.steps.length, 14);
  assert.equal(doc.steps[2].ret, 1_000_000);
  assert.equal(doc.steps[2].data, '00'.repeat(1_000_000), 'the peeked bytes, in hex');
});

test('unvalidated fields: a segment without its offset or len names the field', async () => {
  const r = await cli(['run', scenario('seg.scenario.json', basic({ steps: [{ segment: { len: 1 } }] }))]);
  clean(r, [2]);
  assert.match(r.stderr, /steps\[0\]\.segment\.offset: "offset" must be an integer, got nothing \(the property is missing\)/);
});

test('a reader that stops early (| head -c 10) ends the run quietly, no EPIPE error', async () => {
  const l = await cliLauncher();
  const steps = Array.from({ length: 3000 }, () => ({ send: 1 }));
  const s = scenario('long.scenario.json', { program: EXAMPLE_O, stream: [{ zeros: 3000 }], steps });
  for (const args of [`run ${s}`, `run ${s} --format json`, `check ${join(ROOT, 'examples/autolowat/autolowat.bpf.c')} --format json`]) {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${l}" ${args} | head -c 10 >/dev/null`], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0);
    assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|error/i, args);
  }
});

test('VM validation errors name the object and the program', async () => {
  const b = Buffer.from(readFileSync(EXAMPLE_O));
  // the first register-source ALU instruction of section "sockops" gets src r14
  const shoff = Number(b.readBigUInt64LE(0x28)), shentsize = b.readUInt16LE(0x3a), shnum = b.readUInt16LE(0x3c), shstrndx = b.readUInt16LE(0x3e);
  const sh = (i: number) => { const o = shoff + i * shentsize; return { name: b.readUInt32LE(o), off: Number(b.readBigUInt64LE(o + 0x18)), size: Number(b.readBigUInt64LE(o + 0x20)) }; };
  const strs = sh(shstrndx);
  let patched = -1;
  for (let i = 0; i < shnum && patched < 0; i++) {
    const s = sh(i);
    if (b.toString('latin1', strs.off + s.name, b.indexOf(0, strs.off + s.name)) !== 'sockops') continue;
    for (let k = 0; k < s.size / 8; k++) {
      const c = b[s.off + k * 8]!;
      if ((c & 7) === 7 && (c & 8)) { b[s.off + k * 8 + 1] = (b[s.off + k * 8 + 1]! & 0x0f) | (14 << 4); patched = k; break; }
    }
  }
  assert.ok(patched >= 0);
  const bad = join(dir, 'badreg.bpf.o');
  writeFileSync(bad, b);
  const r = await cli(['run', join(dir, 'ok.scenario.json'), '--program', bad]);
  clean(r, [2]);
  assert.match(r.stderr, new RegExp(`badreg\\.bpf\\.o: program tcp_autolowat, insn ${patched} \\(.*autolowat\\.bpf\\.c:\\d+\\): Invalid register r14 as src`));
});
