// Helper error paths against the kernel, on hand-assembled programs: the order of checks
// (net/core/filter.c bpf_sock_ops_getsockopt, net/core/sock_map.c) and hostile arguments
// (wild pointers, lengths past the buffer) that must end the run as a guest fault naming the
// helper, never as a host exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfKernel } from '../../../debugger/kernel/bpf';
import type { BpfObject, BpfProgram, MapDef } from '../../../debugger/object';
import type { Insn } from '../../../debugger/vm';
import { table } from '../../../sockops';
import type { ProgramRunTrace } from '../../../debugger/kernel/types';
import { makeSkb } from './sockmodel';
import { TestSock, signed } from './util';

const t = table();
const RCVQ = t.op('RCVQ_CB')!.value;
const E = { ENOENT: -2, E2BIG: -7, EEXIST: -17, EINVAL: -22, ENOSPC: -28 };
const SOL_TCP = 6n;
const TCP_BPF_SYN = 1005n;
const TCP_BPF_SYN_IP = 1006n;

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
function lddw(dst: number, v: bigint, src = 0): Insn[] {
  const u = BigInt.asUintN(64, v);
  return [I(0x18, dst, src, 0, Number(u & 0xffffffffn) | 0), I(0, 0, 0, 0, Number(u >> 32n) | 0)];
}

/** An argument: a number, the ctx, a map (by index), .bss + offset, or r10 + offset. */
type Arg = bigint | 'ctx' | { map: number } | { bss: number } | { stack: number };
interface Call { fn: string; args: Arg[] }

const BSS: MapDef = { name: '.bss', type: 2, typeName: 'BPF_MAP_TYPE_ARRAY', keySize: 4, valueSize: 256, maxEntries: 1, flags: 0, keyTypeId: 0, valueTypeId: 0, initial: new Uint8Array(256) };
const mapDef = (name: string, type: number, typeName: string, maxEntries: number, valueSize = 4): MapDef =>
  ({ name, type, typeName, keySize: 4, valueSize, maxEntries, flags: 0, keyTypeId: 0, valueTypeId: 0 });

/** One program making `calls` in order; r0 of call i goes to the u64 at .bss + 192 + 8 * i. */
function program(calls: Call[], maps: MapDef[] = [], section = 'sockops'): BpfObject {
  const insns: Insn[] = [I(0xbf, 6, 1), ...lddw(7, 0n, 2)];
  for (let o = -64; o < 0; o += 8) insns.push(I(0x7a, 10, 0, o, 0)); // *(u64 *)(r10 + o) = 0
  const kfuncs: string[] = [];
  calls.forEach((c, i) => {
    c.args.forEach((a, j) => {
      const r = j + 1;
      if (a === 'ctx') insns.push(I(0xbf, r, 6));
      else if (typeof a === 'bigint') insns.push(...lddw(r, a));
      else if ('map' in a) insns.push(...lddw(r, BigInt(a.map + 1), 1));
      else if ('bss' in a) insns.push(I(0xbf, r, 7), I(0x07, r, 0, 0, a.bss));
      else insns.push(I(0xbf, r, 10), I(0x07, r, 0, 0, a.stack));
    });
    const h = t.helper(c.fn);
    if (h) insns.push(I(0x85, 0, 0, 0, h.id));
    else insns.push(I(0x85, 0, 2, 0, kfuncs.push(c.fn) - 1));
    insns.push(I(0x7b, 7, 0, 192 + 8 * i)); // *(u64 *)(r7 + 192 + 8i) = r0
  });
  insns.push(I(0xb7, 0, 0, 0, 1), I(0x95));
  const p: BpfProgram = {
    name: 'review', section, insns, funcs: [{ name: 'review', startPc: 0, endPc: insns.length, btfTypeId: 0, section }],
    lineInfo: [], coreRelos: [], relocs: [],
  };
  return { file: 'review.o', license: 'GPL', btf: null, programs: [p], maps: [BSS, ...maps], kfuncs, warnings: [] };
}

function bss(k: BpfKernel): Uint8Array {
  return k.maps().find((m) => m.def.name === '.bss')!.entries()[0]!.value;
}
/** r0 of each call, as signed numbers. */
function rets(k: BpfKernel, n: number): number[] {
  const b = bss(k);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: n }, (_, i) => signed(dv.getBigUint64(192 + 8 * i, true)));
}

function runOps(calls: Call[], op: number, opts: { maps?: MapDef[]; synHeader?: Uint8Array; fullsock?: boolean; skb?: boolean } = {}) {
  const k = BpfKernel.load(program(calls, opts.maps), {});
  const sock = new TestSock();
  const out = k.sockOps(sock, {
    op, args: [0, 0, 0, 0], skb: opts.skb ? makeSkb(1, new Uint8Array(8)) : null, label: `op ${op}`,
    ...(opts.synHeader ? { syn: { mac: new Uint8Array(14), network: new Uint8Array(20).fill(0x45), tcp: opts.synHeader } } : {}), ...(opts.fullsock !== undefined ? { fullsock: opts.fullsock } : {}),
  })!;
  return { k, sock, trace: out.trace, r: rets(k, calls.length) };
}

/** A 24-byte TCP header (the peer's SYN) whose bytes are their own index + 1, options MSS 1460. */
function synHeader(): Uint8Array {
  const h = Uint8Array.from({ length: 24 }, (_, i) => i + 1);
  h[12] = 6 << 4; // data offset: 6 words
  h.set([2, 4, 0x05, 0xb4], 20);
  return h;
}

test('bpf_getsockopt(SOL_TCP, TCP_BPF_SYN) at the SYN-ACK ops reads syn_skb before any socket check (bpf_sock_ops_getsockopt)', () => {
  const syn = synHeader();
  const get = (len: number): Call => ({ fn: 'bpf_getsockopt', args: ['ctx', SOL_TCP, TCP_BPF_SYN, { bss: 0 }, BigInt(len)] });
  // WRITE_HDR_OPT_CB of a SYN-ACK runs on the request sock (is_fullsock 0): the SYN comes from
  // bpf_sock_ops_get_syn, not from _bpf_getsockopt's fullsock check (-EINVAL).
  const full = runOps([get(64)], 15, { synHeader: syn, fullsock: false, skb: true });
  assert.deepEqual(full.r, [syn.length], 'returns tcp_hdrlen(syn_skb)');
  assert.deepEqual([...bss(full.k).subarray(0, syn.length)], [...syn]);
  assert.ok(bss(full.k).subarray(syn.length, 64).every((b) => b === 0), 'the unused tail is zeroed');
  // a buffer shorter than the header: the first optlen bytes and -ENOSPC
  const short = runOps([get(8)], 15, { synHeader: syn, fullsock: false, skb: true });
  assert.deepEqual(short.r, [E.ENOSPC]);
  assert.deepEqual([...bss(short.k).subarray(0, 8)], [...syn.subarray(0, 8)]);
  // no syn_skb and no saved SYN: -ENOENT, the buffer zeroed
  const none = runOps([get(8)], 15, { fullsock: false, skb: true });
  assert.deepEqual(none.r, [E.ENOENT]);
  // TCP_BPF_SYN_IP: the IP header, then the TCP header (skb_network_header_len + tcp_hdrlen)
  const ip = runOps([{ fn: 'bpf_getsockopt', args: ['ctx', SOL_TCP, TCP_BPF_SYN_IP, { bss: 0 }, 64n] }], 15, { synHeader: syn, fullsock: false, skb: true });
  assert.deepEqual(ip.r, [20 + syn.length]);
  assert.deepEqual([...bss(ip.k).subarray(20, 20 + syn.length)], [...syn]);
});

test('bpf_getsockopt(TCP_BPF_SYN) from cgroup/setsockopt goes through __bpf_getsockopt: -EINVAL (bpf_sol_tcp_getsockopt)', () => {
  const obj = program([{ fn: 'bpf_getsockopt', args: [0n, SOL_TCP, TCP_BPF_SYN, { bss: 0 }, 4n] }], [], 'cgroup/setsockopt');
  // arg 1 is the socket: ctx->sk, loaded from the ctx
  const insns = obj.programs[0]!.insns;
  const at = insns.findIndex((x) => x.code === 0x18 && x.dst === 1 && x.src === 0);
  insns.splice(at, 2, I(0x79, 1, 6, 0), I(0xb7, 0, 0, 0, 0)); // r1 = ctx->sk; a filler keeps the length
  const noop = [I(0xb7, 0, 0, 0, 1), I(0x95)];
  obj.programs.push({ name: 'noop', section: 'sockops', insns: noop, funcs: [{ name: 'noop', startPc: 0, endPc: 2, btfTypeId: 0, section: 'sockops' }], lineInfo: [], coreRelos: [], relocs: [] });
  const k = BpfKernel.load(obj, { setsockopt: 'review' });
  const out = k.setsockopt(new TestSock(), { level: 1, optname: 18, optval: new Uint8Array(4), label: 'setsockopt' })!;
  assert.equal(out.trace?.fault, undefined, out.trace?.fault?.message);
  assert.deepEqual(rets(k, 1), [E.EINVAL]);
});

const SOCKMAP = 15;
const SOCKHASH = 18;

test('bpf_sock_map_update: index past max_entries -E2BIG, BPF_NOEXIST/BPF_EXIST as sock_map_update_common checks them', () => {
  const maps = [mapDef('smap', SOCKMAP, 'BPF_MAP_TYPE_SOCKMAP', 2)];
  const upd = (keyOff: number, flags: bigint): Call => ({ fn: 'bpf_sock_map_update', args: ['ctx', { map: 0 }, { bss: keyOff }, flags] });
  // keys at .bss+0 (index 0), .bss+4 (index 1), .bss+8 (index 0x10000, past max_entries)
  const obj = program([upd(8, 0n), upd(4, 2n), upd(0, 1n), upd(0, 1n), upd(0, 2n), upd(0, 3n)], maps);
  obj.maps[0] = { ...BSS, initial: Uint8Array.from({ length: 256 }, (_, i) => (i === 4 ? 1 : i === 10 ? 1 : 0)) };
  const k = BpfKernel.load(obj, {});
  const sock = new TestSock();
  const out = k.sockOps(sock, { op: 5, args: [0, 0, 0, 0], skb: null, label: 'op 5' })!;
  assert.equal(out.trace.fault, undefined, out.trace.fault?.message);
  assert.deepEqual(rets(k, 6), [E.E2BIG, -2 /* ENOENT: BPF_EXIST, empty slot */, 0, E.EEXIST, 0, E.EINVAL]);
  assert.equal(k.maps().find((m) => m.def.name === 'smap')!.entries().length, 1);
});

test('bpf_sock_hash_update: a full sockhash refuses a new key with -E2BIG, replaces an existing one', () => {
  const maps = [mapDef('shash', SOCKHASH, 'BPF_MAP_TYPE_SOCKHASH', 1)];
  const upd = (keyOff: number, flags: bigint): Call => ({ fn: 'bpf_sock_hash_update', args: ['ctx', { map: 0 }, { bss: keyOff }, flags] });
  const obj = program([upd(0, 0n), upd(4, 0n), upd(0, 0n), upd(4, 2n), upd(0, 1n)], maps);
  obj.maps[0] = { ...BSS, initial: Uint8Array.from({ length: 256 }, (_, i) => (i === 4 ? 7 : 0)) };
  const k = BpfKernel.load(obj, {});
  k.sockOps(new TestSock(), { op: 5, args: [0, 0, 0, 0], skb: null, label: 'op 5' });
  assert.deepEqual(rets(k, 5), [0, E.E2BIG, 0, E.ENOENT, E.EEXIST]);
});

test('bpf_sock_map_update on a map that is not a SOCKMAP faults as the verifier refuses it; the hash map is untouched', () => {
  const maps = [mapDef('plain', 1, 'BPF_MAP_TYPE_HASH', 4, 16)];
  const { trace, k } = runOps([{ fn: 'bpf_sock_map_update', args: ['ctx', { map: 0 }, { bss: 0 }, 0n] }], 5, { maps });
  assert.match(trace.fault?.message ?? '', /bpf_sock_map_update.*cannot pass map_type 1 .*plain/);
  assert.equal(k.maps().find((m) => m.def.name === 'plain')!.entries().length, 0);
  const h = runOps([{ fn: 'bpf_sock_hash_update', args: ['ctx', { map: 0 }, { bss: 0 }, 0n] }], 5, { maps: [mapDef('sm', SOCKMAP, 'BPF_MAP_TYPE_SOCKMAP', 4)] });
  assert.match(h.trace.fault?.message ?? '', /bpf_sock_hash_update.*cannot pass map_type 15 /);
});

test('bpf_map_delete_elem on a SOCKMAP: an empty or out-of-range slot is -EINVAL (sock_map_delete_elem); a SOCKHASH miss -ENOENT', () => {
  const maps = [mapDef('smap', SOCKMAP, 'BPF_MAP_TYPE_SOCKMAP', 2), mapDef('shash', SOCKHASH, 'BPF_MAP_TYPE_SOCKHASH', 2)];
  const del = (map: number, keyOff: number): Call => ({ fn: 'bpf_map_delete_elem', args: [{ map }, { bss: keyOff }] });
  const obj = program([
    del(0, 0), { fn: 'bpf_sock_map_update', args: ['ctx', { map: 0 }, { bss: 0 }, 0n] }, del(0, 0), del(0, 0), del(1, 0), del(0, 8),
  ], maps);
  obj.maps[0] = { ...BSS, initial: Uint8Array.from({ length: 256 }, (_, i) => (i === 10 ? 1 : 0)) };
  const k = BpfKernel.load(obj, {});
  const sock = new TestSock();
  k.sockOps(sock, { op: 5, args: [0, 0, 0, 0], skb: null, label: 'op 5' });
  assert.deepEqual(rets(k, 6), [E.EINVAL, 0, 0, E.EINVAL, E.ENOENT, E.EINVAL]);
});

function faultOf(trace: ProgramRunTrace): string {
  assert.ok(trace.fault, 'the run faults');
  return trace.fault.message;
}

test('hostile lengths: a buffer length past the buffer faults naming the helper, before the host allocates it', () => {
  // bpf_getsockopt with optlen INT_MAX into an 8-byte stack slot
  const g = runOps([{ fn: 'bpf_getsockopt', args: ['ctx', 1n, 18n, { stack: -8 }, 0x7fffffffn] }], 4);
  assert.match(faultOf(g.trace), /bpf_getsockopt: store of 2147483647 bytes at 0x[0-9a-f]+ is outside any region/);
  // where the per-op rule zeroes the buffer (bpf_skb_load_bytes at an op other than RCVQ_CB)
  const z = runOps([{ fn: 'bpf_skb_load_bytes', args: ['ctx', 0n, { stack: -8 }, 0xffffffffn] }], 4);
  assert.match(faultOf(z.trace), /bpf_skb_load_bytes: store of 4294967295 bytes/);
  // bpf_skb_load_bytes with len 2^32-1 (u32) and no skb: the -EFAULT path zero-fills `to`
  const l = runOps([{ fn: 'bpf_skb_load_bytes', args: ['ctx', 0n, { stack: -8 }, 0xffffffffn] }], RCVQ);
  assert.match(faultOf(l.trace), /bpf_skb_load_bytes: store of 4294967295 bytes/);
  // a wild destination: the same fault, whatever the length
  const w = runOps([{ fn: 'bpf_getsockopt', args: ['ctx', 1n, 18n, 0xdead0000n, 4n] }], 4);
  assert.match(faultOf(w.trace), /bpf_getsockopt: store of 4 bytes at 0xdead0000 is outside any region/);
  // a negative optlen (ARG_CONST_SIZE: the verifier refuses it) is not a host error either
  const n = runOps([{ fn: 'bpf_getsockopt', args: ['ctx', 1n, 18n, { stack: -8 }, 0xffffffffn] }], 4);
  assert.doesNotMatch(n.trace.fault?.message ?? '', /internal error/);
});
