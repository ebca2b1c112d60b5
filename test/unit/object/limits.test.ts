// Sizes an object declares are checked at load as the kernel checks them: map key/value sizes per
// map type and kernel structs declared larger than any kernel's. Objects are compiled here from
// small C sources with clang-19 (skipped where there is none); the CLI runs them under a 2 GB cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject, ObjectError } from '../../../debugger/object';
import { mapSizeProblem, BPF_LOCAL_STORAGE_MAX_VALUE_SIZE } from '../../../debugger/object/limits';
import { findClang, repoIncludeDir } from '../../../debugger/scenario/compile';
import { HOST_TEXT, cli } from '../cli/hostile-helpers';

const clang = findClang();
const dir = mkdtempSync(join(tmpdir(), 'obj-limits-'));

function build(name: string, body: string): string {
  const src = join(dir, `${name}.bpf.c`);
  writeFileSync(src, `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n${body}\nchar LICENSE[] SEC("license") = "GPL";\n`);
  const out = join(dir, `${name}.bpf.o`);
  const r = spawnSync(clang!, ['-target', 'bpf', '-O2', '-g', '-I', repoIncludeDir()!, '-idirafter', '/usr/include/x86_64-linux-gnu', '-c', src, '-o', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

const HOOK = `SEC("sockops") int hook(struct bpf_sock_ops *skops) { return 1; }`;

test('map definitions: the kernel limits per type (arraymap.c, hashtab.c, bpf_local_storage.c, sock_map.c)', () => {
  const def = (typeName: string, keySize: number, valueSize: number, maxEntries: number) => ({ name: 'm', type: 0, typeName: `BPF_MAP_TYPE_${typeName}`, keySize, valueSize, maxEntries, flags: 0, keyTypeId: 0, valueTypeId: 0 });
  assert.equal(mapSizeProblem(def('ARRAY', 4, 64, 16)), null);
  assert.match(mapSizeProblem(def('ARRAY', 4, 0x80000000, 1))!, /over INT_MAX: -E2BIG \(kernel\/bpf\/arraymap\.c/);
  assert.match(mapSizeProblem(def('ARRAY', 4, 1 << 20, 1024))!, /over the emulator's 256 MiB per array map/);
  assert.match(mapSizeProblem(def('PERCPU_ARRAY', 4, 40000, 1))!, /PCPU_MIN_UNIT_SIZE/);
  assert.match(mapSizeProblem(def('HASH', 8, 4 << 20, 1))!, /KMALLOC_MAX_SIZE.*hashtab\.c/);
  assert.equal(mapSizeProblem(def('SK_STORAGE', 4, BPF_LOCAL_STORAGE_MAX_VALUE_SIZE, 0)), null);
  assert.match(mapSizeProblem(def('SK_STORAGE', 4, BPF_LOCAL_STORAGE_MAX_VALUE_SIZE + 1, 0))!, /BPF_LOCAL_STORAGE_MAX_VALUE_SIZE \(65407\): -E2BIG/);
  assert.match(mapSizeProblem(def('SK_STORAGE', 4, 2 ** 34, 0))!, /17179869184 bytes does not fit the u32/);
  assert.match(mapSizeProblem(def('SOCKMAP', 4, 16, 4))!, /neither 4 nor 8/);
});

test('a 16 GiB sk_storage value, a 16 GiB array value and a 4 GiB struct tcp_sock are load errors, never host allocations', { skip: !clang && 'no clang-19' }, async () => {
  const storage = build('storage16g', `
struct { __uint(type, BPF_MAP_TYPE_SK_STORAGE); __uint(map_flags, BPF_F_NO_PREALLOC); __type(key, int); __type(value, unsigned long long[1u << 31]); } st SEC(".maps");
SEC("sockops") int hook(struct bpf_sock_ops *skops) {
  unsigned long long *v = bpf_sk_storage_get(&st, skops->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (v) v[0] = 1;
  return 1;
}`);
  assert.throws(() => loadObject(new Uint8Array(readFileSync(storage)), storage), (e: unknown) => e instanceof ObjectError && /map st \(BPF_MAP_TYPE_SK_STORAGE\): the kernel refuses this map: key or value type of 17179869184 bytes/.test(e.message));
  const array = build('array16g', `
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, int); __type(value, unsigned long long[1u << 31]); } arr SEC(".maps");
${HOOK}`);
  assert.throws(() => loadObject(new Uint8Array(readFileSync(array)), array), /map arr \(BPF_MAP_TYPE_ARRAY\): the kernel refuses this map/);
  const tcp = build('tcp4g', `
struct tcp_sock { char pad[0xfffffff0u]; unsigned int snd_cwnd; } __attribute__((preserve_access_index));
SEC("sockops") int hook(struct bpf_sock_ops *skops) {
  struct bpf_sock *sk = skops->sk;
  struct tcp_sock *tp = (struct tcp_sock *)bpf_skc_to_tcp_sock(sk);
  return tp ? tp->snd_cwnd : 1;
}`);
  assert.throws(() => loadObject(new Uint8Array(readFileSync(tcp)), tcp), /section \.BTF, tcp_sock: struct tcp_sock is declared \d{9,} bytes; .*at most 64 KiB/);
  // and through the CLI, under the memory cap: one clear line, exit 2
  const sc = join(dir, 's.scenario.json');
  for (const o of [storage, array, tcp]) {
    writeFileSync(sc, JSON.stringify({ program: o, stream: [{ zeros: 8 }], steps: [{ send: 8 }] }));
    const r = await cli(['run', sc]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /the kernel refuses this map|is declared \d{9,} bytes/);
    assert.doesNotMatch(r.stderr, HOST_TEXT);
  }
});
