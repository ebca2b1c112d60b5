// A small SockModel for the BPF-side tests (the TCP model proper lives in debugger/kernel/tcp/).
// It keeps the rules the helpers rely on: tcp_set_rcvlowat() (cap, 0 -> 1, rcvbuf growth) and
// the RCVQ_CB flag rules of design.md §4.6.
import type { Skb, SockModel } from '../../../debugger/kernel/types';
import { sockoptDefaults } from '../../../debugger/kernel/tcp/sockopt';

const RCVQ_FLAG = 0x80;

export class TestSock implements SockModel {
  readonly id: number;
  readonly family: 'inet' | 'inet6';
  readonly cookie: bigint;
  state = 1;
  rcv_nxt = 1000;
  copied_seq = 1000;
  rcv_wup = 1000;
  rcv_wnd = 65535;
  rcv_mss = 1460;
  snd_nxt = 5000;
  snd_una = 4990;
  mss_cache = 1448;
  snd_cwnd = 10;
  srtt_us = 800;
  bytes_received = 0n;
  bytes_acked = 0n;
  rtt_min?: number;
  segs_in = 3;
  data_segs_in = 1;
  sk_rcvlowat = 1;
  sk_rcvbuf = 131072;
  sk_rmem_alloc = 0;
  rcvbuf_locked = false;
  sk_txhash = 0;
  bpf_sock_ops_cb_flags = 0;
  local_ip4 = 0x0a000001; // 10.0.0.1
  remote_ip4 = 0x0a000002;
  local_ip6 = new Uint8Array(16);
  remote_ip6 = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  local_port = 8080;
  remote_port = 0x1234;
  tcp_nodelay = false;
  window_clamp = 65535;
  scaling_ratio = 128;
  readonly sockopt = sockoptDefaults();
  in_sockmap = false;
  is_mptcp_subflow = false;
  readonly receiveQueue: Skb[] = [];
  readonly ofoQueue: Skb[] = [];
  wakeups = 0;
  done = false;
  readonly calls: string[] = [];

  constructor(id = 1, family: 'inet' | 'inet6' = 'inet6') {
    this.id = id;
    this.family = family;
    this.cookie = 0x1000n + BigInt(id);
  }

  setRcvlowat(val: number, opts: { wakeup: boolean }): number {
    this.calls.push(`setRcvlowat(${val}, wakeup=${opts.wakeup})`);
    const cap = this.rcvbuf_locked ? this.sk_rcvbuf >> 1 : (6 * 1024 * 1024) >> 1;
    this.sk_rcvlowat = Math.min(val, cap) || 1;
    if (opts.wakeup && this.epollIn()) this.wakeups++;
    if (!this.rcvbuf_locked) {
      const space = val * 2;
      if (space > this.sk_rcvbuf) this.sk_rcvbuf = space;
    }
    return 0;
  }

  setCbFlags(val: number): number {
    this.calls.push(`setCbFlags(0x${val.toString(16)})`);
    const enabling = val & RCVQ_FLAG && !(this.bpf_sock_ops_cb_flags & RCVQ_FLAG);
    if (enabling) {
      if (this.is_mptcp_subflow) return -95;
      if (this.in_sockmap) return -16;
      if (this.receiveQueue.length) return -117;
    }
    this.bpf_sock_ops_cb_flags = val;
    return 0;
  }

  readable(): number {
    return (this.rcv_nxt - this.copied_seq) >>> 0;
  }

  epollIn(): boolean {
    const avail = this.readable();
    return this.done || (avail > 0 && avail >= Math.max(1, this.sk_rcvlowat));
  }
}

export function makeSkb(seq: number, payload: Uint8Array, id = 1, tcpFlags = 0x18): Skb {
  return { seq, endSeq: (seq + payload.length) >>> 0, tcpFlags, payload, id };
}
