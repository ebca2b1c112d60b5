// Kernel objects laid out from the program's own BTF. The loader resolves CO-RE relocations
// against the program's BTF, so a field read lands at the offset of the program's (local,
// preserve_access_index) definition; we put the modeled values exactly there. Types the program
// does not describe fall back to the kernel's x86_64 layout where we know it (marked below).
import type { Btf } from '../../object/types';
import type { SockModel, Skb } from '../types';

export type FieldValue = number | bigint | Uint8Array;

/** One modeled field at a byte offset of an object. */
export interface FieldSlot { offset: number; size: number; path: string }

interface Resolved<K extends string> { size: number; slots: Map<K, FieldSlot[]>; warnings: string[]; fromBtf: boolean }

/** Write `v` at slot.offset as the kernel stores it: integers little-endian over slot.size bytes
 *  (truncated, or sign-extended from a negative number), byte arrays copied and zero-padded. */
function writeValue(buf: Uint8Array, slot: FieldSlot, v: FieldValue): void {
  if (slot.offset < 0 || slot.offset + slot.size > buf.length) return;
  if (v instanceof Uint8Array) {
    buf.fill(0, slot.offset, slot.offset + slot.size);
    buf.set(v.subarray(0, slot.size), slot.offset);
    return;
  }
  if (typeof v === 'number' && slot.size <= 4) {
    // Fast path without BigInt: the common 1/2/4-byte fields.
    let n = v >>> 0;
    for (let i = 0; i < slot.size; i++) {
      buf[slot.offset + i] = n & 0xff;
      n >>>= 8;
    }
    return;
  }
  let x = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
  for (let i = 0; i < slot.size; i++) {
    buf[slot.offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** writeValue() for the common cases without allocating: numbers in 1/2/4/8-byte fields, bigints
 *  in 8-byte fields (DataView truncates and wraps exactly like writeValue); anything else goes
 *  through writeValue(). `dv` views `buf`. */
export function putValue(dv: DataView, buf: Uint8Array, off: number, size: number, v: FieldValue): void {
  if (off < 0 || off + size > buf.length) return;
  if (typeof v === 'number') {
    switch (size) {
      case 4: dv.setUint32(off, v, true); return;
      case 1: buf[off] = v; return;
      case 2: dv.setUint16(off, v, true); return;
      case 8:
        if (Number.isSafeInteger(v)) {
          dv.setUint32(off, v, true);
          dv.setUint32(off + 4, Math.floor(v / 0x1_0000_0000), true);
          return;
        }
    }
  } else if (typeof v === 'bigint') {
    if (size === 8) {
      dv.setBigUint64(off, v, true);
      return;
    }
  } else {
    // bytes, zero-padded or cut to the field
    const n = v.length < size ? v.length : size;
    for (let i = 0; i < n; i++) buf[off + i] = v[i]!;
    for (let i = n; i < size; i++) buf[off + i] = 0;
    return;
  }
  writeValue(buf, { offset: off, size, path: '' }, v);
}

/** A network-order (big-endian) integer of 2 or 4 bytes: written as such into a field of that
 *  size, else as its bytes (zero-padded or cut), as writeValue() does with a byte array. */
function putBe(dv: DataView, buf: Uint8Array, off: number, size: number, v: number, width: 2 | 4): void {
  if (off < 0 || off + size > buf.length) return;
  if (size === width) {
    if (width === 2) dv.setUint16(off, v, false);
    else dv.setUint32(off, v, false);
    return;
  }
  writeValue(buf, { offset: off, size, path: '' }, width === 2 ? be16(v) : be32(v));
}

export const be16 = (n: number) => new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
export const be32 = (n: number) => new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
/** The u32 whose little-endian bytes are n in network order (be32(n) read as a host u32). */
export const bswap32 = (n: number) => (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;

// ---- socket: struct tcp_sock / inet_connection_sock / sock / sock_common (one object) ----

// Each modeled field is a JavaScript expression over `s` (the SockModel) and how the kernel
// stores it: SockLayout compiles them into one straight-line writer for the program's layout.

/** How a value is stored: 'num' an integer (little-endian), 'big' a bigint, 'bytes' a byte
 *  array, 'be16'/'be32' an integer the kernel keeps in network byte order (__be16/__be32). */
export type FieldKind = 'num' | 'big' | 'bytes' | 'be16' | 'be32';
/** 'static': no helper or kfunc can change it during a run (identity, addresses, ports): a
 *  refresh after a helper call skips it. */
type FieldSrc = readonly [expr: string, kind: FieldKind, fixed?: 'static'];

/** struct tcp_sock members we model (include/linux/tcp.h). */
const TCP_FIELDS = {
  rcv_nxt: ['s.rcv_nxt', 'num'],
  copied_seq: ['s.copied_seq', 'num'],
  rcv_wup: ['s.rcv_wup', 'num'],
  rcv_wnd: ['s.rcv_wnd', 'num'],
  snd_nxt: ['s.snd_nxt', 'num'],
  snd_una: ['s.snd_una', 'num'],
  mss_cache: ['s.mss_cache', 'num'],
  srtt_us: ['s.srtt_us', 'num'],
  snd_cwnd: ['s.snd_cwnd', 'num'],
  bytes_received: ['s.bytes_received', 'big'],
  bytes_acked: ['s.bytes_acked', 'big'],
  segs_in: ['s.segs_in', 'num'],
  data_segs_in: ['s.data_segs_in', 'num'],
  bpf_sock_ops_cb_flags: ['s.bpf_sock_ops_cb_flags', 'num'],
} satisfies Record<string, FieldSrc>;

/** struct inet_connection_sock members (include/net/inet_connection_sock.h). */
const ICSK_FIELDS = {
  'icsk_ack.rcv_mss': ['s.rcv_mss', 'num'],
} satisfies Record<string, FieldSrc>;

/** struct sock members (include/net/sock.h); sk_rmem_alloc is sk_backlog.rmem_alloc. */
const SOCK_FIELDS = {
  sk_rcvlowat: ['s.sk_rcvlowat', 'num'],
  sk_rcvbuf: ['s.sk_rcvbuf', 'num'],
  sk_txhash: ['s.sk_txhash', 'num'],
  sk_userlocks: ['(s.rcvbuf_locked ? 2 : 0)', 'num'], // SOCK_RCVBUF_LOCK
  'sk_backlog.rmem_alloc': ['s.sk_rmem_alloc', 'num'],
  'sk_receive_queue.qlen': ['s.receiveQueue.length', 'num'],
  sk_shutdown: ['(s.done ? 1 : 0)', 'num'], // RCV_SHUTDOWN
  sk_protocol: ['6', 'num', 'static'], // IPPROTO_TCP
  sk_type: ['1', 'num', 'static'], // SOCK_STREAM
  '__sk_common.skc_state': ['s.state', 'num'],
  '__sk_common.skc_family': ['(s.family === "inet6" ? 10 : 2)', 'num', 'static'],
  '__sk_common.skc_num': ['s.local_port', 'num', 'static'],
  '__sk_common.skc_dport': ['s.remote_port', 'be16', 'static'],
  '__sk_common.skc_daddr': ['s.remote_ip4', 'be32', 'static'],
  '__sk_common.skc_rcv_saddr': ['s.local_ip4', 'be32', 'static'],
  '__sk_common.skc_v6_daddr': ['s.remote_ip6', 'bytes', 'static'],
  '__sk_common.skc_v6_rcv_saddr': ['s.local_ip6', 'bytes', 'static'],
  '__sk_common.skc_cookie': ['s.cookie', 'big', 'static'],
} satisfies Record<string, FieldSrc>;

type SockKey = keyof typeof TCP_FIELDS | keyof typeof ICSK_FIELDS | keyof typeof SOCK_FIELDS;
const SOURCES: Record<SockKey, FieldSrc> = { ...TCP_FIELDS, ...ICSK_FIELDS, ...SOCK_FIELDS };

/** One statement writing `expr` (of `kind`) at [off, off+size) of `buf` through `dv`, as
 *  writeValue() would; uncommon shapes call put/putBe (putValue/putBe). Empty when the field
 *  lies outside a buffer of `len` bytes (writeValue skips those too). */
export function writeStatement(expr: string, kind: FieldKind, off: number, size: number, len: number): string {
  if (off < 0 || off + size > len) return '';
  switch (kind) {
    case 'num':
      if (size === 4) return `dv.setUint32(${off}, ${expr}, true);`;
      if (size === 2) return `dv.setUint16(${off}, ${expr}, true);`;
      if (size === 1) return `buf[${off}] = ${expr};`;
      break;
    case 'big':
      if (size === 8) return `dv.setBigUint64(${off}, ${expr}, true);`;
      break;
    case 'be16':
    case 'be32':
      return `putBe(dv, buf, ${off}, ${size}, ${expr}, ${kind === 'be16' ? 2 : 4});`;
    case 'bytes':
      return `{ const a = ${expr}; for (let i = 0; i < ${size}; i++) buf[${off} + i] = i < a.length ? a[i] : 0; }`;
  }
  return `put(dv, buf, ${off}, ${size}, ${expr});`;
}

/** Compile statements into a writer `(dv, buf, ...params)`; the body may call put (putValue),
 *  putBe and bswap32. */
export function compileWriter<A extends unknown[]>(params: string[], body: string[]): (dv: DataView, buf: Uint8Array, ...args: A) => void {
  const src = `"use strict"; return function write(dv, buf, ${params.join(', ')}) {\n${body.join('\n')}\n};`;
  return new Function('put', 'putBe', 'bswap32', src)(putValue, putBe, bswap32) as (dv: DataView, buf: Uint8Array, ...args: A) => void;
}

function structId(btf: Btf | null, name: string): number | undefined {
  return btf?.find(name, 'struct')?.id;
}

function member(btf: Btf, sid: number, path: string): { offset: number; size: number } | undefined {
  const m = btf.memberOffset(sid, path);
  if (!m || m.bitSize) return undefined;
  const size = btf.sizeof(m.type);
  if (!(size > 0)) return undefined;
  return { offset: m.offset, size };
}

function addSlot<K extends string>(r: Resolved<K>, key: K, slot: FieldSlot): void {
  for (const [k, list] of r.slots) {
    for (const s of list) {
      if (k !== key && slot.offset < s.offset + s.size && s.offset < slot.offset + slot.size) {
        r.warnings.push(`local BTF layouts overlap: ${slot.path} and ${s.path} share bytes at offset ${slot.offset}; the later one wins`);
      }
      if (k === key && s.offset === slot.offset) return;
    }
  }
  const list = r.slots.get(key) ?? [];
  list.push(slot);
  r.slots.set(key, list);
}

/** The one object behind every pointer to a socket that names its kernel struct (tcp_sock, sock,
 *  inet_connection_sock, sock_common all start at the same address in the kernel). */
export class SockLayout {
  readonly size: number;
  readonly slots: Map<SockKey, FieldSlot[]>;
  readonly warnings: string[];
  readonly fromBtf: boolean;

  constructor(private readonly btf: Btf | null) {
    const r: Resolved<SockKey> = { size: 0, slots: new Map(), warnings: [], fromBtf: false };
    const sizes: number[] = [];
    // Standalone definitions first (each starts at offset 0 of the object), tcp_sock last.
    const prefixes: [string, Record<string, unknown>, string][] = [
      ['sock_common', SOCK_FIELDS, '__sk_common.'],
      ['sock', SOCK_FIELDS, ''],
      ['inet_sock', SOCK_FIELDS, 'sk.'],
      ['inet_connection_sock', SOCK_FIELDS, 'icsk_inet.sk.'],
      ['inet_connection_sock', ICSK_FIELDS, ''],
      ['tcp_sock', SOCK_FIELDS, 'inet_conn.icsk_inet.sk.'],
      ['tcp_sock', ICSK_FIELDS, 'inet_conn.'],
      ['tcp_sock', TCP_FIELDS, ''],
    ];
    for (const [sname, fields, prefix] of prefixes) {
      const sid = structId(btf, sname);
      if (sid === undefined || !btf) continue;
      r.fromBtf = true;
      sizes.push(btf.sizeof(sid));
      for (const key of Object.keys(fields) as SockKey[]) {
        let path = prefix + key;
        if (sname === 'sock_common') {
          if (!key.startsWith('__sk_common.')) continue;
          path = key.slice('__sk_common.'.length);
        }
        const m = member(btf, sid, path);
        if (m) addSlot(r, key, { ...m, path: `struct ${sname}::${path}` });
      }
    }
    // Without any socket type in the BTF the program cannot name a field; keep a readable object.
    this.size = Math.max(8, ...sizes, r.fromBtf ? 0 : 2048);
    this.slots = r.slots;
    this.warnings = r.warnings;
    this.fromBtf = r.fromBtf;
    const all: { key: SockKey; slot: FieldSlot }[] = [];
    for (const [key, list] of r.slots) for (const slot of list) all.push({ key, slot });
    const overlaps = (a: FieldSlot, b: FieldSlot) => a.offset < b.offset + b.size && b.offset < a.offset + a.size;
    // A static slot sharing bytes with one that changes is rewritten with it (the later one wins).
    const changing = all.filter((x) => SOURCES[x.key][2] !== 'static');
    const dynamic = all.filter((x) => SOURCES[x.key][2] !== 'static' || changing.some((y) => overlaps(x.slot, y.slot)));
    const statement = ({ key, slot }: { key: SockKey; slot: FieldSlot }) => writeStatement(SOURCES[key][0], SOURCES[key][1], slot.offset, slot.size, this.size);
    this.write = compileWriter<[SockModel]>(['s'], all.map(statement));
    this.writeDynamic = compileWriter<[SockModel]>(['s'], dynamic.map(statement));
  }

  /** fill() compiled from the BTF layout: one statement per slot, in the order of `slots`. */
  private readonly write: (dv: DataView, buf: Uint8Array, s: SockModel) => void;
  /** The same for the fields a helper can change. */
  private readonly writeDynamic: (dv: DataView, buf: Uint8Array, s: SockModel) => void;

  /** Write every modeled field of `s` into `buf` (an object of this.size bytes). */
  fill(buf: Uint8Array, s: SockModel, dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): void {
    this.write(dv, buf, s);
  }

  /** Rewrite the fields a helper call can change (after fill() of the same socket). */
  fillDynamic(buf: Uint8Array, s: SockModel, dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): void {
    this.writeDynamic(dv, buf, s);
  }

  /** Byte offset of a struct sock member (e.g. 'sk_cgrp_data.cgroup') in the object, from the
   *  program's BTF (struct tcp_sock, else struct sock), with its size; undefined when the program
   *  does not describe it. */
  sockMember(path: string): { offset: number; size: number } | undefined {
    if (!this.btf) return undefined;
    for (const [sname, prefix] of [['tcp_sock', 'inet_conn.icsk_inet.sk.'], ['sock', '']] as const) {
      const sid = structId(this.btf, sname);
      if (sid === undefined) continue;
      const m = member(this.btf, sid, prefix + path);
      if (m && m.offset + m.size <= this.size) return m;
    }
    return undefined;
  }

  offsetOf(key: SockKey): number | undefined {
    return this.slots.get(key)?.[0]?.offset;
  }
}

// ---- struct sk_buff with struct tcp_skb_cb in skb->cb ----

export interface SkbPointers { packet: bigint; sock: bigint }

export class SkbLayout {
  readonly size: number;
  private readonly slots: { key: 'len' | 'data_len' | 'data' | 'head' | 'sk' | 'seq' | 'end_seq' | 'tcp_flags'; slot: FieldSlot }[] = [];
  readonly cbOffset: number;
  readonly warnings: string[] = [];

  constructor(btf: Btf | null) {
    const sid = structId(btf, 'sk_buff');
    let size = 256; // kernel x86_64: sizeof(struct sk_buff) = 232 (assumed config), rounded
    let cb = 40; // kernel x86_64: offsetof(struct sk_buff, cb) (after list links, sk, tstamp)
    if (btf && sid !== undefined) {
      size = Math.max(8, btf.sizeof(sid));
      const c = btf.memberOffset(sid, 'cb');
      cb = c ? c.offset : -1;
      for (const key of ['len', 'data_len', 'data', 'head', 'sk'] as const) {
        const m = member(btf, sid, key);
        if (m) this.slots.push({ key, slot: { ...m, path: `struct sk_buff::${key}` } });
      }
    } else {
      this.slots.push({ key: 'len', slot: { offset: 112, size: 4, path: 'struct sk_buff::len (kernel x86_64 layout, assumed)' } });
    }
    this.cbOffset = cb;
    if (cb >= 0) {
      const tid = structId(btf, 'tcp_skb_cb');
      // include/net/tcp.h struct tcp_skb_cb: seq @0 (u32), end_seq @4 (u32), tcp_flags @12 (u16).
      const kernel = { seq: { offset: 0, size: 4 }, end_seq: { offset: 4, size: 4 }, tcp_flags: { offset: 12, size: 2 } };
      for (const key of ['seq', 'end_seq', 'tcp_flags'] as const) {
        const m = btf && tid !== undefined ? member(btf, tid, key) : kernel[key];
        if (m) this.slots.push({ key, slot: { offset: cb + m.offset, size: m.size, path: `struct tcp_skb_cb::${key}` } });
      }
      size = Math.max(size, cb + 48);
    }
    this.size = size;
    const source: Record<typeof this.slots[number]['key'], [string, FieldKind]> = {
      len: ['(skb.header ? skb.header.length : 0) + skb.payload.length', 'num'],
      data_len: ['0', 'num'],
      data: ['packet', 'big'],
      head: ['packet', 'big'],
      sk: ['sock', 'big'],
      seq: ['skb.seq', 'num'],
      end_seq: ['skb.endSeq', 'num'],
      tcp_flags: ['skb.tcpFlags', 'num'],
    };
    this.write = compileWriter<[Skb, bigint, bigint]>(['skb', 'packet', 'sock'],
      this.slots.map(({ key, slot }) => writeStatement(source[key][0], source[key][1], slot.offset, slot.size, size)));
  }

  /** fill() compiled from the slots, in their order (a later slot wins where two overlap). */
  private readonly write: (dv: DataView, buf: Uint8Array, skb: Skb, packet: bigint, sock: bigint) => void;

  fill(buf: Uint8Array, skb: Skb, p: SkbPointers, dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): void {
    this.write(dv, buf, skb, p.packet, p.sock);
  }

  /** fill() without the pointers object. */
  fillWith(buf: Uint8Array, dv: DataView, skb: Skb, packet: bigint, sock: bigint): void {
    this.write(dv, buf, skb, packet, sock);
  }
}

// ---- struct bpf_sock_ops_kern (include/linux/filter.h) ----

export interface KernCtxValues {
  sk: bigint;
  args: Uint8Array; // 16 bytes: args[4] / reply / replylong[4], shared with the UAPI ctx
  skb: bigint;
  skbDataEnd: bigint;
  op: number;
  isFullsock: number;
  isLockedTcpSock: number;
  remainingOptLen: number;
}

const KERN_CTX_KERNEL: Record<string, { offset: number; size: number }> = {
  sk: { offset: 0, size: 8 },
  args: { offset: 8, size: 16 },
  syn_skb: { offset: 24, size: 8 },
  skb: { offset: 32, size: 8 },
  skb_data_end: { offset: 40, size: 8 },
  op: { offset: 48, size: 1 },
  is_fullsock: { offset: 49, size: 1 },
  is_locked_tcp_sock: { offset: 50, size: 1 },
  remaining_opt_len: { offset: 51, size: 1 },
};

function put(dv: DataView, buf: Uint8Array, x: { offset: number; size: number } | undefined, val: FieldValue): void {
  if (x) putValue(dv, buf, x.offset, x.size, val);
}

export class KernCtxLayout {
  readonly size: number;
  readonly fields: Record<string, { offset: number; size: number }>;
  readonly fromBtf: boolean;
  constructor(btf: Btf | null) {
    const sid = structId(btf, 'bpf_sock_ops_kern');
    if (!btf || sid === undefined) {
      this.size = 64; // sizeof(struct bpf_sock_ops_kern) with u64 temp at 56
      this.fields = KERN_CTX_KERNEL;
      this.fromBtf = false;
      return;
    }
    this.fromBtf = true;
    this.size = Math.max(8, btf.sizeof(sid));
    this.fields = {};
    for (const key of Object.keys(KERN_CTX_KERNEL)) {
      const m = member(btf, sid, key);
      if (m) this.fields[key] = m;
    }
  }

  fill(buf: Uint8Array, v: KernCtxValues, dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)): void {
    const f = this.fields;
    put(dv, buf, f.sk, v.sk);
    put(dv, buf, f.args, v.args);
    put(dv, buf, f.syn_skb, 0);
    put(dv, buf, f.skb, v.skb);
    put(dv, buf, f.skb_data_end, v.skbDataEnd);
    put(dv, buf, f.op, v.op);
    put(dv, buf, f.is_fullsock, v.isFullsock);
    put(dv, buf, f.is_locked_tcp_sock, v.isLockedTcpSock);
    put(dv, buf, f.remaining_opt_len, v.remainingOptLen);
  }
}

export { writeValue };
