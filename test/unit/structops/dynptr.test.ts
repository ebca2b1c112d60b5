// skb dynptrs in a struct_ops member (issue 15): the kernel's rules (kernel/bpf/helpers.c
// __bpf_dynptr_read, bpf_dynptr_slice, bpf_dynptr_size; net/core/filter.c bpf_dynptr_from_skb) on
// an own test hook compiled here (test/fixtures/structops/dynptr_rules.bpf.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Simulation } from '../../../debugger/sim';

const root = resolve(__dirname, '../../..');

test('bpf_dynptr_from_skb/read/slice/size follow the kernel rules over enqueue_rcvq\'s skb', { skip: spawnSync('clang-19', ['--version']).status !== 0 && 'clang-19 not installed' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dynptr-'));
  try {
    const scenario = join(tmp, 'rules.scenario.json');
    writeFileSync(scenario, JSON.stringify({
      program: join(root, 'test/fixtures/structops/dynptr_rules.bpf.c'), setsockopt: 'rules_setsockopt', socket: { family: 'inet' },
      stream: [{ hex: '0a0b0c0d0e0f1011' }],
      steps: [{ setsockopt: { level: 0xdeadbeef, optname: 1, int: 1 } }, { send: 8 }],
    }));
    const sim = Simulation.fromFile(scenario, { compiler: 'clang-19', compilerArgs: ['-I', join(root, 'include')] });
    assert.equal(sim.prepared.table.profile.name, 'autolowat-tcp-ops-v5', 'chosen from the object\'s struct bpf_tcp_ops');
    const printk: string[] = [];
    while (!sim.done) for (const r of sim.stepOnce().runs) {
      assert.equal(r.fault, undefined);
      if (r.program === 'rules_enqueue') printk.push(...r.printk);
    }
    assert.deepEqual(printk, [
      'read -22 -7 0', // flags -> -EINVAL; offset+len past size 8 -> -E2BIG; in range -> 0
      'bytes 12 15 size 8', // bytes 2..5 of the payload; size = skb->len
      'slice 11 0', // slice at 1 points at byte 0x0b; past the end -> NULL
      'badflags -22 -22 0', // from_skb with flags -> -EINVAL, the dynptr is NULL: read -EINVAL, size 0
    ]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
