// Kernel objects of the sockets: one object per socket at one address whichever pointer names it
// (ctx->sk, bpf_tcp_sock(), bpf_sk_fullsock(), bpf_skc_to_tcp_sock(), bpf_cast_to_kern_ctx(ctx)->sk,
// the sk_storage owner), laid out by the program's BTF (./layout.ts), mapped into each program's
// memory, and refreshed from the TCP model's SockModel before a run and after the helpers that can
// change it; and the writer of the struct bpf_sock_ops fields that read them
// (sock_ops_convert_ctx_access).
//
// Loads through the UAPI views (struct bpf_sock, struct bpf_tcp_sock) are converted at load time
// (./convert.ts), as the verifier's bpf_sock_convert_ctx_access / bpf_tcp_sock_convert_ctx_access
// rewrite them into loads of kernel fields: the converted value of every UAPI field is kept in the
// object's tail, past sizeof(struct tcp_sock), and each such load is pointed there.
import type { SockopsTable } from '../../../sockops';
import type { SockModel } from '../types';
import { compileWriter, putValue, writeStatement, type FieldKind, type KernCtxLayout, type SockLayout } from './layout';
import type { ActiveRun, ProgEnv, SockOpsFrame } from './run';
import { familyNumber } from './sockopt';

/** A socket's kernel object: one region, one address. */
export interface SockObjects {
  sock: SockModel;
  /** The whole region: struct tcp_sock, then the converted UAPI fields. */
  bytes: Uint8Array;
  tcp: Uint8Array; // struct tcp_sock (with sock, inet_connection_sock... at their BTF offsets)
  bpfSock: Uint8Array; // converted struct bpf_sock fields (80 bytes, at UapiOffsets.sock)
  bpfTcpSock: Uint8Array; // converted struct bpf_tcp_sock fields (112 bytes, at UapiOffsets.tcpSock)
  tcpDv: DataView;
  bpfSockDv: DataView;
  bpfTcpSockDv: DataView;
}

/** Where the converted UAPI fields sit in a socket's object. */
export interface UapiOffsets { sock: number; tcpSock: number; end: number }

/** Writes the bpf_sock_ops fields from offset 20 (compileCtxWriter). */
type CtxWriter = (dv: DataView, buf: Uint8Array, s: SockModel, run: ActiveRun, sk: bigint, open: number) => void;

export const BPF_SOCK_SIZE = 80; // sizeof(struct bpf_sock)
export const BPF_TCP_SOCK_SIZE = 112; // sizeof(struct bpf_tcp_sock)

/** The sockets' objects of one BpfKernel. */
export class KernelObjects {
  private readonly socks = new Map<number, SockObjects>();
  private readonly ctxWriter: { all: CtxWriter; dynamic: CtxWriter };

  readonly uapi: UapiOffsets;
  private readonly cgroupSlot: { offset: number; size: number } | undefined;

  constructor(table: SockopsTable, private readonly sockLayout: SockLayout, private readonly kernLayout: KernCtxLayout) {
    this.ctxWriter = compileCtxWriter(table);
    this.cgroupSlot = sockLayout.sockMember('sk_cgrp_data.cgroup');
    const s = (sockLayout.size + 7) & ~7;
    this.uapi = { sock: s, tcpSock: s + BPF_SOCK_SIZE, end: s + BPF_SOCK_SIZE + BPF_TCP_SOCK_SIZE };
  }

  get(id: number): SockObjects | undefined {
    return this.socks.get(id);
  }

  sockObjects(sock: SockModel): SockObjects {
    let o = this.socks.get(sock.id);
    if (!o) {
      const u = this.uapi;
      const bytes = new Uint8Array(u.end);
      const tcp = bytes.subarray(0, this.sockLayout.size);
      const bpfSock = bytes.subarray(u.sock, u.tcpSock);
      const bpfTcpSock = bytes.subarray(u.tcpSock, u.end);
      o = {
        sock, bytes, tcp, bpfSock, bpfTcpSock,
        tcpDv: new DataView(bytes.buffer, 0, tcp.length),
        bpfSockDv: new DataView(bytes.buffer, u.sock, BPF_SOCK_SIZE),
        bpfTcpSockDv: new DataView(bytes.buffer, u.tcpSock, BPF_TCP_SOCK_SIZE),
      };
      this.socks.set(sock.id, o);
    }
    o.sock = sock;
    return o;
  }

  /** The socket's address in `env`'s memory (mapped on first use). */
  sockBase(env: ProgEnv, o: SockObjects): bigint {
    let b = env.sockBases.get(o.sock.id);
    if (b === undefined) {
      const id = o.sock.id;
      b = env.vm.memory.map({ name: `sock#${id} struct tcp_sock`, kind: 'kernel', bytes: o.bytes, writable: false });
      env.sockBases.set(id, b);
      env.baseToSock.set(b, id);
    }
    return b;
  }

  /** The socket a guest pointer into its object names, or null. */
  sockFromPtr(env: ProgEnv, addr: bigint): SockObjects | null {
    if (addr === 0n) return null;
    const hit = env.vm.memory.find(addr, 1);
    if (!hit) return null;
    const id = env.baseToSock.get(hit.region.base);
    return id === undefined ? null : this.socks.get(id) ?? null;
  }

  /** Write the socket's modeled fields into every view of it, and the ctx fields that read it.
   *  `full` at the start of a run; after a helper call only what a helper can change (the
   *  static fields: identity, addresses, ports, the skb, the op, are as the run began). */
  refresh(run: ActiveRun, full: boolean): void {
    run.dirty = false;
    const o = run.objs;
    const s = o.sock;
    if (full) {
      this.sockLayout.fill(o.tcp, s, o.tcpDv);
      // sk->sk_cgrp_data.cgroup: the one cgroup (the same address in every program's memory)
      if (this.cgroupSlot?.size === 8) o.tcpDv.setBigUint64(this.cgroupSlot.offset, run.env.cgroupBase, true);
      fillBpfSock(o.bpfSockDv, o.bpfSock, s);
    } else {
      this.sockLayout.fillDynamic(o.tcp, s, o.tcpDv);
      o.bpfSockDv.setUint32(72, s.state, true);
    }
    fillBpfTcpSock(o.bpfTcpSockDv, s);
    if (run.op < 0) return;
    const sk = this.sockBase(run.env, o);
    const open = 1 | (run.locked ? 2 : 0) | (run.fullsock ? 4 : 0) | (run.skb !== null ? 8 : 0);
    (full ? this.ctxWriter.all : this.ctxWriter.dynamic)(run.dv, run.ctx, s, run, sk, open);
    if (!run.kern) return;
    if (full) {
      // bpf_sock_ops_kern as the kernel fills it before the run (args shared with the UAPI ctx)
      this.kernLayout.fill(run.kern, {
        sk,
        args: (run.frame as SockOpsFrame).args,
        skb: run.skb ? run.skbBase : 0n,
        skbDataEnd: run.skb ? run.packetBase + BigInt(run.dataEnd) : 0n,
        op: run.op,
        isFullsock: run.fullsock ? 1 : 0,
        isLockedTcpSock: run.locked ? 1 : 0,
        remainingOptLen: run.remainingOptLen,
      }, run.kdv!);
    } else {
      const f = this.kernLayout.fields['remaining_opt_len'];
      if (f) putValue(run.kdv!, run.kern, f.offset, f.size, run.remainingOptLen);
      const e = this.kernLayout.fields['skb_data_end'];
      if (e && run.written) putValue(run.kdv!, run.kern, e.offset, e.size, run.packetBase + BigInt(run.dataEnd));
    }
  }
}

/** The writers of the bpf_sock_ops fields from offset 20, compiled from the table's rows: the
 *  value each field reads as (sock_ops_convert_ctx_access), zero when its gate is closed.
 *  `open` has bit 1 << gate set for each open gate (CtxGate: none 0, locked_tcp_sock 1,
 *  fullsock 2, skb 3). `dynamic` skips the fields no helper can change during a run. */
function compileCtxWriter(t: SockopsTable): { all: CtxWriter; dynamic: CtxWriter } {
  const GATES = { none: 0, locked_tcp_sock: 1, fullsock: 2, skb: 3 } as const;
  const all: string[] = ['let v;'];
  const dynamic: string[] = ['let v;'];
  for (const f of t.profile.ctxFields) {
    if (f.offset < 20) continue; // op and args/reply belong to the kernel ctx, set once
    let expr: string;
    let kind: FieldKind = 'num';
    let fixed = true;
    switch (f.name) {
      case 'family': expr = '(s.family === "inet6" ? 10 : 2)'; break; // AF_INET6 : AF_INET
      // addresses in network byte order
      case 'remote_ip4': expr = 'bswap32(s.remote_ip4)'; break;
      case 'local_ip4': expr = 'bswap32(s.local_ip4)'; break;
      case 'remote_ip6': expr = 's.remote_ip6'; kind = 'bytes'; break;
      case 'local_ip6': expr = 's.local_ip6'; kind = 'bytes'; break;
      // skc_dport (network order) loaded as 2 bytes then << 16: bytes 0, 0, port hi, port lo
      case 'remote_port': expr = '((((s.remote_port & 0xff) << 24) | (((s.remote_port >>> 8) & 0xff) << 16)) >>> 0)'; break;
      case 'local_port': expr = 's.local_port'; break;
      case 'is_fullsock': expr = '(run.fullsock ? 1 : 0)'; break;
      case 'sk': expr = 'sk'; kind = 'big'; break; // the struct sock * itself (SOCK_OPS_GET_SK)
      case 'skb_data': expr = 'run.packetBase'; kind = 'big'; break;
      // skb->data + end_offset (bpf_skops_init_skb): 0 at RCVQ_CB (seed) and HDR_OPT_LEN_CB, the
      // TCP header length at PASSIVE_ESTABLISHED_CB/PARSE_HDR_OPT_CB, the start of the BPF option
      // space at WRITE_HDR_OPT_CB; bpf_store_hdr_opt() moves it
      case 'skb_data_end': expr = '(run.dataEnd ? run.packetBase + BigInt(run.dataEnd) : run.packetBase)'; kind = 'big'; fixed = false; break;
      case 'skb_len': expr = '(run.skb !== null ? run.skbLen : 0)'; break;
      case 'skb_tcp_flags': expr = '(run.skb !== null ? run.skb.tcpFlags : 0)'; break;
      case 'skb_hwtstamp': expr = '0n'; kind = 'big'; break;
      case 'state': expr = 's.state'; fixed = false; break;
      // ungated load of tcp_sock.rtt_min through sk; on a request sock it reads past struct
      // request_sock: the live 6.18 run (test:kernel part 3) reads 0 there, so do we (assumed)
      case 'rtt_min': expr = "(run.fullsock && typeof s.rtt_min === 'number' ? s.rtt_min : 0)"; fixed = false; break;
      default: {
        // a SockModel member of that name if it holds a number or bigint, else 0
        const key = /^[A-Za-z_$][\w$]*$/.test(f.name) ? `s.${f.name}` : `s[${JSON.stringify(f.name)}]`;
        expr = `v = ${key}, (typeof v === 'number' || typeof v === 'bigint' ? v : 0)`;
        kind = 'any' as FieldKind;
        fixed = false;
      }
    }
    const write = kind !== ('any' as FieldKind) ? writeStatement(expr, kind, f.offset, f.size, t.profile.ctxSize)
      : f.size === 4 ? `v = (${expr}); if (typeof v === 'number') dv.setUint32(${f.offset}, v, true); else put(dv, buf, ${f.offset}, 4, v);`
      : `put(dv, buf, ${f.offset}, ${f.size}, (${expr}));`;
    const zero = f.size === 4 ? `dv.setUint32(${f.offset}, 0, true);` : `buf.fill(0, ${f.offset}, ${f.offset + f.size});`;
    const stmt = `if (open & ${1 << GATES[f.gate]}) { ${write} } else { ${zero} }`;
    all.push(stmt);
    if (!fixed) dynamic.push(stmt);
  }
  const params = ['s', 'run', 'sk', 'open'];
  return { all: compileWriter<[SockModel, ActiveRun, bigint, number]>(params, all), dynamic: compileWriter<[SockModel, ActiveRun, bigint, number]>(params, dynamic) };
}

// ---- struct bpf_sock / struct bpf_tcp_sock (UAPI views; bpf_sock_convert_ctx_access, bpf_tcp_sock_convert_ctx_access) ----

// Both objects are created zeroed and every fill writes the same bytes, so the rest stays 0.
function fillBpfSock(dv: DataView, b: Uint8Array, s: SockModel): void {
  dv.setUint32(4, familyNumber(s), true);
  dv.setUint32(8, 1, true); // SOCK_STREAM
  dv.setUint32(12, 6, true); // IPPROTO_TCP
  dv.setUint32(24, s.local_ip4, false); // src_ip4, network order
  copy16(b, 28, s.local_ip6);
  dv.setUint32(44, s.local_port, true); // src_port, host order
  dv.setUint16(48, s.remote_port, false); // dst_port, network order
  dv.setUint32(52, s.remote_ip4, false);
  copy16(b, 56, s.remote_ip6);
  dv.setUint32(72, s.state, true);
  dv.setInt32(76, -1, true); // rx_queue_mapping: none recorded
}

/** 16 bytes of an IPv6 address (missing bytes read as 0). */
function copy16(b: Uint8Array, off: number, a: Uint8Array): void {
  if (a.length >= 16) for (let i = 0; i < 16; i++) b[off + i] = a[i]!;
  else for (let i = 0; i < 16; i++) b[off + i] = a[i] ?? 0;
}

function fillBpfTcpSock(dv: DataView, s: SockModel): void {
  dv.setUint32(0, s.snd_cwnd >>> 0, true);
  dv.setUint32(4, s.srtt_us >>> 0, true);
  dv.setUint32(8, (s.rtt_min ?? 0) >>> 0, true);
  dv.setUint32(16, s.rcv_nxt >>> 0, true);
  dv.setUint32(20, s.snd_nxt >>> 0, true);
  dv.setUint32(24, s.snd_una >>> 0, true);
  dv.setUint32(28, s.mss_cache >>> 0, true);
  dv.setUint32(56, s.segs_in >>> 0, true);
  dv.setUint32(60, s.data_segs_in >>> 0, true);
  dv.setBigUint64(80, s.bytes_received, true);
  dv.setBigUint64(88, s.bytes_acked, true);
}
