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

export const be16 = (n: number) => new Uint8Array([(n >>> 8) & 0xff, n & 0xff]);
export const be32 = (n: number) => new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

// ---- socket: struct tcp_sock / inet_connection_sock / sock / sock_common (one object) ----

/** struct tcp_sock members we model (include/linux/tcp.h). */
const TCP_FIELDS = {
  rcv_nxt: (s: SockModel) => s.rcv_nxt,
  copied_seq: (s) => s.copied_seq,
  rcv_wup: (s) => s.rcv_wup,
  rcv_wnd: (s) => s.rcv_wnd,
  snd_nxt: (s) => s.snd_nxt,
  snd_una: (s) => s.snd_una,
  mss_cache: (s) => s.mss_cache,
  srtt_us: (s) => s.srtt_us,
  snd_cwnd: (s) => s.snd_cwnd,
  bytes_received: (s) => s.bytes_received,
  bytes_acked: (s) => s.bytes_acked,
  segs_in: (s) => s.segs_in,
  data_segs_in: (s) => s.data_segs_in,
  bpf_sock_ops_cb_flags: (s) => s.bpf_sock_ops_cb_flags,
} satisfies Record<string, (s: SockModel) => FieldValue>;

/** struct inet_connection_sock members (include/net/inet_connection_sock.h). */
const ICSK_FIELDS = {
  'icsk_ack.rcv_mss': (s: SockModel) => s.rcv_mss,
} satisfies Record<string, (s: SockModel) => FieldValue>;

/** struct sock members (include/net/sock.h); sk_rmem_alloc is sk_backlog.rmem_alloc. */
const SOCK_FIELDS = {
  sk_rcvlowat: (s: SockModel) => s.sk_rcvlowat,
  sk_rcvbuf: (s) => s.sk_rcvbuf,
  sk_txhash: (s) => s.sk_txhash,
  sk_userlocks: (s) => (s.rcvbuf_locked ? 2 : 0), // SOCK_RCVBUF_LOCK
  'sk_backlog.rmem_alloc': (s) => s.sk_rmem_alloc,
  'sk_receive_queue.qlen': (s) => s.receiveQueue.length,
  sk_shutdown: (s) => (s.done ? 1 : 0), // RCV_SHUTDOWN
  sk_protocol: () => 6,
  sk_type: () => 1,
  '__sk_common.skc_state': (s) => s.state,
  '__sk_common.skc_family': (s) => (s.family === 'inet6' ? 10 : 2),
  '__sk_common.skc_num': (s) => s.local_port,
  '__sk_common.skc_dport': (s) => be16(s.remote_port),
  '__sk_common.skc_daddr': (s) => be32(s.remote_ip4),
  '__sk_common.skc_rcv_saddr': (s) => be32(s.local_ip4),
  '__sk_common.skc_v6_daddr': (s) => s.remote_ip6,
  '__sk_common.skc_v6_rcv_saddr': (s) => s.local_ip6,
  '__sk_common.skc_cookie': (s) => s.cookie,
} satisfies Record<string, (s: SockModel) => FieldValue>;

type SockKey = keyof typeof TCP_FIELDS | keyof typeof ICSK_FIELDS | keyof typeof SOCK_FIELDS;
const GETTERS: Record<SockKey, (s: SockModel) => FieldValue> = { ...TCP_FIELDS, ...ICSK_FIELDS, ...SOCK_FIELDS };

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

  constructor(btf: Btf | null) {
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
  }

  /** Write every modeled field of `s` into `buf` (an object of this.size bytes). */
  fill(buf: Uint8Array, s: SockModel): void {
    for (const [key, list] of this.slots) {
      const v = GETTERS[key](s);
      for (const slot of list) writeValue(buf, slot, v);
    }
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
  }

  fill(buf: Uint8Array, skb: Skb, p: SkbPointers): void {
    for (const { key, slot } of this.slots) {
      const v: FieldValue =
        key === 'len' ? skb.payload.length
        : key === 'data_len' ? 0
        : key === 'data' || key === 'head' ? p.packet
        : key === 'sk' ? p.sock
        : key === 'seq' ? skb.seq
        : key === 'end_seq' ? skb.endSeq
        : skb.tcpFlags;
      writeValue(buf, slot, v);
    }
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

  fill(buf: Uint8Array, v: KernCtxValues): void {
    const put = (k: string, val: FieldValue) => {
      const f = this.fields[k];
      if (f) writeValue(buf, { ...f, path: k }, val);
    };
    put('sk', v.sk);
    put('args', v.args);
    put('syn_skb', 0);
    put('skb', v.skb);
    put('skb_data_end', v.skbDataEnd);
    put('op', v.op);
    put('is_fullsock', v.isFullsock);
    put('is_locked_tcp_sock', v.isLockedTcpSock);
    put('remaining_opt_len', v.remainingOptLen);
  }
}

export { writeValue };
