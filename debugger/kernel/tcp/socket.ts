// The socket calls of net/ipv4/tcp.c the application makes: recvmsg (tcp_recvmsg_locked,
// tcp_cleanup_rbuf), setsockopt / getsockopt (through the handlers of sockopt.ts, shared with
// bpf_setsockopt), close (__tcp_close). Each returns facts; debugger/sim.ts writes the sentences.
import type { TcpModel } from './model';
import { TCPHDR_ACK, TCPHDR_FIN, TCPHDR_RST } from './constants';
import type { TcpSock } from './sock';
import { peerSegment } from './peer';
import { parseHdr, rttSample } from './input';
import { transmit } from './output';
import {
  doIpGetsockopt, doIpSetsockopt, doIpv6Getsockopt, doIpv6Setsockopt, doTcpGetsockopt, doTcpSetsockopt,
  skGetsockopt, skSetsockopt,
} from './sockopt';
import { SOL_IP, SOL_IPV6, SOL_SOCKET, SOL_TCP } from '../bpf/consts';

const u32 = (x: number) => x >>> 0;

export interface RecvResult {
  /** Bytes copied, 0 at EOF, or a negative errno (-EAGAIN: nothing to read, non-blocking). */
  ret: number;
  data: Uint8Array;
  eof: boolean;
}

/** What close() did. */
export type CloseOutcome =
  | { kind: 'already-closed' }
  | { kind: 'closed' }
  /** Unread data: tcp_send_active_reset(), state CLOSE. */
  | { kind: 'reset'; unread: number }
  | { kind: 'closed-from'; state: string }
  /** FIN sent in `state`; the peer ACKed it: `acked` (CLOSE via tcp_done, or FIN_WAIT2). */
  | { kind: 'fin'; state: 'FIN_WAIT1' | 'LAST_ACK'; acked: 'CLOSE' | 'FIN_WAIT2' };

/** An option number as traces show it: hex for the large private ones (0xdeadbeef). */
export function fmtOpt(v: number): string {
  return v > 0xffff || v < 0 ? '0x' + (v >>> 0).toString(16) : String(v);
}

/** The application's recv(fd, buf, len, MSG_DONTWAIT): net/ipv4/tcp.c tcp_recvmsg_locked()
 *  copying from the receive queue at copied_seq (offset = copied_seq - seq, so overlapping skbs
 *  work), consuming a FIN (+1), freeing eaten skbs; then tcp_cleanup_rbuf(): the window update
 *  ACK of __tcp_cleanup_rbuf() and the seed's RCVQ_CB with skb NULL. */
export function recvmsg(m: TcpModel, len: number, opts: { peek?: boolean } = {}): RecvResult {
  const s = m.sock;
  if (s.state === m.st('LISTEN') || s.state === m.st('CLOSE')) {
    return { ret: m.abi.errno('ENOTCONN'), data: new Uint8Array(0), eof: false };
  }
  const q = s.receiveQueue;
  const out: Uint8Array[] = [];
  const eaten: number[] = []; // indexes of the skbs this read frees (sk_eat_skb), in order
  let copied = 0;
  let seq = s.copied_seq;
  let eof = false;
  let qi = 0;
  while (copied < len && qi < q.length) {
    const skb = q[qi]!;
    const offset = u32(seq - skb.seq);
    const fin = (skb.tcpFlags & TCPHDR_FIN) !== 0;
    if (offset < skb.payload.length) {
      const used = Math.min(skb.payload.length - offset, len - copied);
      out.push(skb.payload.subarray(offset, offset + used));
      seq = u32(seq + used);
      copied += used;
      if (used + offset < skb.payload.length) break;
      if (!fin) {
        if (!opts.peek) eaten.push(qi);
        qi++;
        continue;
      }
    }
    if (fin) {
      // found_fin_ok: the FIN takes one sequence number
      seq = u32(seq + 1);
      if (!opts.peek) eaten.push(qi);
      eof = true;
      break;
    }
    // offset beyond this skb: nothing more to read here (cannot happen with eaten skbs)
    qi++;
  }
  if (eaten.length) eatSkbs(m, eaten);
  if (!opts.peek) s.copied_seq = seq;
  let ret = copied;
  if (copied === 0) {
    if (s.done || eof) eof = true;
    else ret = m.abi.errno('EAGAIN');
  }
  if (!opts.peek) cleanupRbuf(m, copied);
  const data = new Uint8Array(copied);
  let o = 0;
  for (const p of out) { data.set(p, o); o += p.length; }
  return { ret, data, eof };
}

/** sk_eat_skb() for each read-out skb (sock_rfree uncharges it): one splice when they are the
 *  head of the queue, as they always are but for skbs left below copied_seq. */
function eatSkbs(m: TcpModel, idx: number[]): void {
  const s = m.sock;
  const q = s.receiveQueue;
  for (const i of idx) s.sk_rmem_alloc -= q[i]!.truesize;
  if (idx[idx.length - 1] === idx.length - 1) { q.splice(0, idx.length); return; }
  const gone = new Set(idx);
  let w = 0;
  for (let r = 0; r < q.length; r++) if (!gone.has(r)) q[w++] = q[r]!;
  q.length = w;
}

/** net/ipv4/tcp.c __tcp_cleanup_rbuf(): send a window update if the read at least doubled the
 *  window we can offer; then the seed's RCVQ_CB recvmsg hook (skb NULL) when data was copied. */
function cleanupRbuf(m: TcpModel, copied: number): void {
  const s = m.sock;
  if (copied > 0 && !s.rcvShutdown) {
    const now = s.receiveWindow();
    if (2 * now <= s.window_clamp) {
      let nw = Math.min(s.tcpWinFromSpace(s.sk_rcvbuf - s.sk_rmem_alloc), s.window_clamp);
      if (nw < s.rcv_mss) nw = 0;
      if (nw && nw >= 2 * now) { s.rcv_wup = s.rcv_nxt; s.rcv_wnd = nw; transmit(m, TCPHDR_ACK, 'window update ACK'); }
    }
  }
  if (copied > 0 && m.rcvqOn()) {
    m.rcvq(null, `${m.rcvqShort} recvmsg (copied ${copied}, copied_seq ${m.r(s.copied_seq)})`);
  }
}

/** What setsockopt(2) did: who decided (`by`), the option the kernel handled (the program may
 *  have rewritten level/optname), and the result. */
export interface SetsockoptOutcome {
  ret: number;
  /** 'cgroup-refused': the cgroup/setsockopt program failed the call (`cgroupErrno` says how);
   *  'cgroup-consumed': it set optlen -1; 'kernel': a kernel handler ran; 'not-modelled': the
   *  kernel has the option but the simulator ignores it; 'no-level': ip_setsockopt /
   *  ipv6_setsockopt do not know the level (-ENOPROTOOPT). */
  by: 'cgroup-refused' | 'cgroup-consumed' | 'kernel' | 'not-modelled' | 'no-level';
  level: number;
  optname: number;
  /** With 'cgroup-refused': 'eperm' (returned 0), 'efault' (optlen out of bounds) or 'retval'
   *  (the errno it set with bpf_set_retval). */
  cgroupErrno?: 'eperm' | 'efault' | 'retval';
}

export interface GetsockoptResult {
  ret: number;
  /** The bytes the kernel wrote (the optlen it reports). */
  data: Uint8Array;
}

const USER = { bpf: false };

/** The application's setsockopt(fd, level, optname, &val, len): the cgroup/setsockopt program
 *  first (kernel/bpf/cgroup.c __cgroup_bpf_run_filter_setsockopt: optlen -1 consumes the option,
 *  returning 0 fails it with -EPERM, it may rewrite level/optname/optval), then the kernel:
 *  do_sock_setsockopt() -> sk_setsockopt() for SOL_SOCKET, else tcp_setsockopt():
 *  do_tcp_setsockopt() for SOL_TCP, the address family's ip_setsockopt / ipv6_setsockopt for the
 *  rest (-ENOPROTOOPT for a level they do not know). The handlers are those bpf_setsockopt
 *  reaches (sockopt.ts). */
export function setsockopt(m: TcpModel, level: number, optname: number, optval: Uint8Array): SetsockoptOutcome {
  const s = m.sock;
  const label = `cgroup/setsockopt level ${fmtOpt(level)} optname ${fmtOpt(optname)}`;
  const r = m.hooks ? m.hooks.setsockopt(s, { level, optname, optval, label }) : null;
  if (r) {
    m.emit({ kind: 'setsockopt-prog', action: r.action, level: r.level, optname: r.optname, trace: r.trace, ...(r.action === 'eperm' ? { errno: r.errno ?? m.abi.errno('EPERM') } : {}) });
    if (r.action === 'eperm') {
      // __cgroup_bpf_run_filter_setsockopt's error reaches the application (do_sock_setsockopt)
      const eperm = m.abi.errno('EPERM');
      const ret = r.errno ?? eperm;
      const cgroupErrno = ret === eperm ? 'eperm' : ret === m.abi.errno('EFAULT') ? 'efault' : 'retval';
      return { ret, by: 'cgroup-refused', level, optname, cgroupErrno };
    }
    if (r.action === 'consumed') return { ret: 0, by: 'cgroup-consumed', level, optname };
    level = r.level; optname = r.optname; optval = r.optval;
  }
  const ret = kernelSetsockopt(s, level, optname, optval);
  if (ret === 'no-level') return { ret: m.abi.errno('ENOPROTOOPT'), by: 'no-level', level, optname };
  if (ret === null) return { ret: 0, by: 'not-modelled', level, optname };
  return { ret, by: 'kernel', level, optname };
}

/** The kernel below do_sock_setsockopt() for a TCP socket of `s.family`. */
function kernelSetsockopt(s: TcpSock, level: number, optname: number, optval: Uint8Array): number | null | 'no-level' {
  if (level === SOL_SOCKET) return skSetsockopt(s, optname, optval, USER);
  if (level === SOL_TCP) return doTcpSetsockopt(s, optname, optval, USER);
  // icsk_af_ops->setsockopt: ipv6_setsockopt hands SOL_IP to ip_setsockopt (an IPv4-mapped peer)
  if (level === SOL_IP) return doIpSetsockopt(s, optname, optval);
  if (level === SOL_IPV6 && s.family === 'inet6') return doIpv6Setsockopt(s, optname, optval);
  return 'no-level';
}

/** The application's getsockopt(fd, level, optname, buf, &optlen) with optlen bytes of room:
 *  net/socket.c do_sock_getsockopt(): the kernel first (sk_getsockopt / do_tcp_getsockopt /
 *  do_ip_getsockopt / do_ipv6_getsockopt; an option the simulator does not model reads as
 *  -ENOPROTOOPT), then the cgroup/getsockopt program, if attached
 *  (BPF_CGROUP_RUN_PROG_GETSOCKOPT -> kernel/bpf/cgroup.c __cgroup_bpf_run_filter_getsockopt),
 *  which sees the kernel's answer and may replace the bytes, optlen and return value. */
export function getsockopt(m: TcpModel, level: number, optname: number, optlen: number): GetsockoptResult {
  const s = m.sock;
  const k = kernelGetsockopt(m, level, optname, optlen);
  const hook = m.hooks?.getsockopt;
  if (!hook) return k;
  const label = `cgroup/getsockopt level ${fmtOpt(level)} optname ${fmtOpt(optname)}`;
  const r = hook.call(m.hooks, s, { level, optname, maxOptlen: optlen, retval: k.ret, optval: k.data, label });
  if (!r) return k;
  m.emit({ kind: 'getsockopt-prog', level, optname, ret: r.ret, trace: r.trace });
  // A failed call leaves the application's buffer and optlen as the kernel left them.
  if (r.ret < 0) return { ret: r.ret, data: k.data };
  return { ret: r.ret, data: r.optval ?? k.data };
}

function kernelGetsockopt(m: TcpModel, level: number, optname: number, optlen: number): GetsockoptResult {
  const s = m.sock;
  if (optlen < 0) return { ret: m.abi.errno('EINVAL'), data: new Uint8Array(0) };
  const out = new Uint8Array(Math.min(optlen, 4096));
  const r = level === SOL_SOCKET ? skGetsockopt(s, optname, out)
    : level === SOL_TCP ? doTcpGetsockopt(s, optname, out)
    : level === SOL_IP ? doIpGetsockopt(s, optname, out)
    : level === SOL_IPV6 && s.family === 'inet6' ? doIpv6Getsockopt(s, optname, out)
    : null;
  if (!r) return { ret: m.abi.errno('ENOPROTOOPT'), data: new Uint8Array(0) };
  return { ret: r.ret, data: r.ret < 0 ? new Uint8Array(0) : out.slice(0, r.len) };
}

/** The application's close(): net/ipv4/tcp.c __tcp_close(): unread data -> tcp_set_state(CLOSE)
 *  and a RST (tcp_send_active_reset); else tcp_close_state() (ESTABLISHED -> FIN_WAIT1,
 *  CLOSE_WAIT -> LAST_ACK, STATE_CB) and tcp_send_fin() (tcp_current_mss, then the FIN, which
 *  carries the pending ACK). The loopback peer ACKs the FIN at once: tcp_rcv_state_process()
 *  -> PARSE_HDR_OPT_CB, tcp_ack() (bytes_acked, the RTT sample: RTT_CB), then LAST_ACK ->
 *  tcp_done() (CLOSE) or FIN_WAIT1 -> FIN_WAIT2 (STATE_CB). */
export function close(m: TcpModel): CloseOutcome {
  const s = m.sock;
  const st = s.state;
  if (s.closed) return { kind: 'already-closed' };
  s.closed = true;
  s.rcvShutdown = true;
  if (st === m.st('LISTEN') || st === m.st('CLOSE')) { m.setState('CLOSE'); return { kind: 'closed' }; }
  const unread = u32(s.rcv_nxt - s.copied_seq) - (s.done && s.receiveQueue.some((k) => k.tcpFlags & TCPHDR_FIN) ? 1 : 0);
  if (unread > 0) {
    m.setState('CLOSE');
    transmit(m, TCPHDR_ACK | TCPHDR_RST, 'RST');
    return { kind: 'reset', unread };
  }
  const next = st === m.st('ESTABLISHED') ? 'FIN_WAIT1' : st === m.st('CLOSE_WAIT') ? 'LAST_ACK' : null;
  if (!next) { m.setState('CLOSE'); return { kind: 'closed-from', state: m.stateName(st) }; }
  m.setState(next);
  transmit(m, TCPHDR_ACK | TCPHDR_FIN, 'FIN', true);
  m.ackPending = false;
  s.write_seq = u32(s.write_seq + 1);
  s.snd_nxt = s.write_seq;
  s.packets_out++;
  // the peer's ACK of our FIN
  const ack = peerSegment(m, s.rcv_nxt, new Uint8Array(0), TCPHDR_ACK);
  s.segs_in++;
  parseHdr(m, ack);
  const acked = u32(s.snd_nxt - s.snd_una);
  s.bytes_acked += BigInt(acked);
  s.snd_una = s.snd_nxt;
  s.packets_out = 0;
  rttSample(m, m.peer.rttUs);
  const after = next === 'LAST_ACK' ? 'CLOSE' : 'FIN_WAIT2'; // tcp_done() / tcp_rcv_state_process()
  m.setState(after);
  return { kind: 'fin', state: next, acked: after };
}
