// Shared by the kernel BPF-side tests: load a fixture object, run one program, read results.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject } from '../../../debugger/object';
import type { BpfObject } from '../../../debugger/object';
import { BpfKernel, type BpfKernelOptions } from '../../../debugger/kernel/bpf';
import type { Skb, SockOpsInvocation } from '../../../debugger/kernel/types';
import { TestSock } from './sockmodel';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/kernel');

const cache = new Map<string, BpfObject>();
export function fixture(name: string): BpfObject {
  let o = cache.get(name);
  if (!o) {
    const file = join(FIXTURES, name);
    o = loadObject(new Uint8Array(readFileSync(file)), `test/fixtures/kernel/${name}`);
    cache.set(name, o);
  }
  return o;
}

export function probes(opts: BpfKernelOptions): BpfKernel {
  return BpfKernel.load(fixture('probes.bpf.o'), opts);
}

export function inv(op: number, skb: Skb | null = null, args: [number, number, number, number] = [0, 0, 0, 0]): SockOpsInvocation {
  return { op, args, skb, label: `op ${op}` };
}

/** The u64 slots of `res` in .bss. */
export function results(k: BpfKernel): bigint[] {
  const bss = k.maps().find((m) => m.def.name === '.bss')!.entries()[0]!.value;
  const dv = new DataView(bss.buffer, bss.byteOffset, bss.byteLength);
  return Array.from({ length: bss.byteLength >> 3 }, (_, i) => dv.getBigUint64(i * 8, true));
}

/** A slot as a signed 64-bit number (errnos). */
export const signed = (v: bigint) => Number(BigInt.asIntN(64, v));

export function u32le(...xs: number[]): Uint8Array {
  const b = new Uint8Array(4 * xs.length);
  const dv = new DataView(b.buffer);
  xs.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true));
  return b;
}

export { TestSock };
