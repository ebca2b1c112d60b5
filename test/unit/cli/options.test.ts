// The commands' options through the shared parser: check -I (local includes found as clang finds
// them), and bad arguments of every converted command: exit 2, the option named, the usage shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../../../cli/main';

const ROOT = join(__dirname, '..', '..', '..');
const FIX = join(ROOT, 'test/fixtures/check');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await main(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  return { code, out, err };
}

test('check -I DIR: a header in another folder is followed as clang finds it (absolute, relative, attached), a missing folder is a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-I-'));
  try {
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'inc'));
    const src = join(dir, 'src', 'local_include_flags.bpf.c');
    copyFileSync(join(FIX, 'local_include_flags.bpf.c'), src);
    copyFileSync(join(FIX, 'local_include_flags.h'), join(dir, 'inc', 'local_include_flags.h'));
    // without -I the header enabling the cb flags is not found: the checker warns
    const alone = await run(['check', src]);
    assert.equal(alone.code, 0);
    assert.match(alone.out, /warning SOCKOPS006: This hook handles BPF_SOCK_OPS_RCVQ_CB but nothing in this file enables/);
    for (const args of [['-I', join(dir, 'inc')], [`-I${join(dir, 'inc')}`], ['-I', relative(process.cwd(), join(dir, 'inc'))], ['-I', join(dir, 'none'), '-I', join(dir, 'inc')]]) {
      const r = await run(['check', src, ...args]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, '', `${args.join(' ')}: the header's cb flags count`);
    }
    const missing = await run(['check', src, '-I', join(dir, 'none')]);
    assert.match(missing.err, /bpf-sockops check: warning: -I .*none: no such directory \(ignored, as clang ignores it\)/);
    assert.match(missing.out, /SOCKOPS006/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments: exit 2, "bpf-sockops CMD: what is wrong", then the usage', async () => {
  const cases: [string[], RegExp][] = [
    [['check', 'x.c', '--profile', 'nope'], /^bpf-sockops check: unknown profile "nope": known profiles are .*linux-7\.1\.5.*\nusage: bpf-sockops check /],
    [['check', 'x.c', '-I'], /^bpf-sockops check: -I needs a directory\n/],
    [['check'], /^bpf-sockops check: no input files\n/],
    [['verify', 'a.o', 'b.o'], /^bpf-sockops verify: one file at a time \(got a\.o and b\.o\)\nusage: bpf-sockops verify/],
    [['verify', 'a.o', '--format=xml'], /^bpf-sockops verify: --format must be text or json, not "xml"\n/],
    [['verify', 'a.o', '--no-perfmon=1'], /^bpf-sockops verify: --no-perfmon takes no value\n/],
    [['explore', 's.json', '--budget', '0'], /^bpf-sockops explore: --budget takes an integer from 1 to 1000000000, not "0"\n/],
    [['explore', 's.json', '--jobs'], /^bpf-sockops explore: --jobs needs an integer from 1 to 256\n/],
    [['explore', 's.json', '--profile', 'x'], /^bpf-sockops explore: unknown profile "x"/],
    [['explore'], /^bpf-sockops explore: give the scenario to explore\n/],
    [['explore', 'merge', '--format', 'yaml'], /^bpf-sockops explore merge: --format must be text or json, not "yaml"\n/],
    [['explore', 'merge'], /^bpf-sockops explore merge: give the JSON reports of the shards\n/],
    [['scenario', 'from-pcap', 'c.pcap', '--enable', 'x'], /^bpf-sockops scenario: --enable takes LEVEL:OPTNAME \(numbers, e\.g\. 0xdeadbeef:0x8badf00d\), not "x"\n/],
    [['scenario', 'from-pcap', 'c.pcap', '--out='], /^bpf-sockops scenario: --out needs a file name\n/],
    [['scenario', 'from-pcap', 'a.pcap', 'b.pcap'], /^bpf-sockops scenario: one capture at a time \(got a\.pcap and b\.pcap\)\n/],
    [['disasm', 'x.o', '--mcpu=v9'], /^bpf-sockops disasm: --mcpu must be v1, v2, v3 or v4, not "v9"\nusage: bpf-sockops disasm/],
    [['disasm'], /^bpf-sockops disasm: give the BPF object to disassemble\n/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
  }
});

test('-- ends the options: a file named like an option', async () => {
  const r = await run(['disasm', '--', '--no-source']);
  assert.equal(r.code, 1);
  assert.match(r.err, /--no-source: cannot read the BPF object \(ENOENT\)/);
});
