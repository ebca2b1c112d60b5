// bpf_setsockopt / bpf_getsockopt on a simulated socket: the net/core/filter.c layer of Linux
// 7.1.5 — __bpf_setsockopt / __bpf_getsockopt and their allow-lists sol_socket_sockopt,
// sol_tcp_sockopt (with sol_tcp_sockopt_congestion, bpf_sol_tcp_setsockopt/getsockopt),
// sol_ip_sockopt, sol_ipv6_sockopt — and bpf_sock_ops_get_syn (TCP_BPF_SYN*, the SYN source of
// bpf_load_hdr_opt). Below the allow-lists every option goes to the kernel handlers the
// application's setsockopt(2) reaches too (../tcp/sockopt.ts: sk_setsockopt, do_tcp_setsockopt,
// do_ip_setsockopt, do_ipv6_setsockopt), so both paths give the same socket.
import type { SockModel } from '../types';
import {
  doIpGetsockopt, doIpSetsockopt, doIpv6Getsockopt, doIpv6Setsockopt, doTcpGetsockopt, doTcpSetsockopt,
  jiffiesToUsecs, savedSynBytes, savedSynLen, skGetsockopt, skSetsockopt, usecsToJiffies, type SynHeaders,
} from '../tcp/sockopt';
import { TCP_DELACK_MAX, TCP_RTO_MIN, TCP_TIMEOUT_MIN } from '../tcp/constants';
import {
  AF_INET6, EINVAL, ENOENT, ENOSPC, ENOTSUPP, IP_TOS, IPV6_AUTOFLOWLABEL, IPV6_TCLASS,
  SK_BPF_CB_FLAGS, SK_BPF_CB_MASK, SO_BINDTODEVICE, SO_BINDTOIFINDEX, SO_KEEPALIVE, SO_MARK, SO_MAX_PACING_RATE,
  SO_PRIORITY, SO_RCVBUF, SO_RCVLOWAT, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_TXREHASH, SOL_IP, SOL_IPV6,
  SOL_SOCKET, SOL_TCP, TCP_BPF_DELACK_MAX, TCP_BPF_IW, TCP_BPF_RTO_MIN, TCP_BPF_SNDCWND_CLAMP,
  TCP_BPF_SOCK_OPS_CB_FLAGS, TCP_BPF_SYN, TCP_BPF_SYN_IP, TCP_CONGESTION, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL,
  TCP_MAXSEG, TCP_NODELAY, TCP_NOTSENT_LOWAT, TCP_RTO_MAX_MS, TCP_SAVE_SYN, TCP_SAVED_SYN, TCP_SYNCNT,
  TCP_THIN_LINEAR_TIMEOUTS, TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP,
} from './consts';

/** sol_socket_sockopt(): the SOL_SOCKET options bpf may use; all but SO_BINDTODEVICE need optlen 4. */
export const BPF_SOL_SOCKET_OPTS = [SO_REUSEADDR, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_PRIORITY, SO_REUSEPORT,
  SO_RCVLOWAT, SO_MARK, SO_MAX_PACING_RATE, SO_BINDTOIFINDEX, SO_TXREHASH, SK_BPF_CB_FLAGS];
/** sol_tcp_sockopt(): the SOL_TCP options passed to do_tcp_{set,get}sockopt with optlen 4. */
export const BPF_SOL_TCP_OPTS = [TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_SYNCNT,
  TCP_WINDOW_CLAMP, TCP_THIN_LINEAR_TIMEOUTS, TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT, TCP_SAVE_SYN, TCP_RTO_MAX_MS];
const SOL_SOCKET_INT = new Set(BPF_SOL_SOCKET_OPTS);
const SOL_TCP_INT = new Set(BPF_SOL_TCP_OPTS);
const BPF = { bpf: true };

export interface SockoptOutcome { ret: number }

const i32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
const putI32 = (out: Uint8Array, v: number) => new DataView(out.buffer, out.byteOffset, 4).setInt32(0, v | 0, true);

/** net/core/filter.c sk_allows_sol_ip_sockopt(): AF_INET, or an AF_INET6 socket that may carry
 *  IPv4 (not IPV6_V6ONLY: a listener bound to a specific IPv6 address is). */
const allowsSolIp = (sock: SockModel) => sock.family === 'inet' || !sock.sockopt.sk_ipv6only;

/** A kernel handler below the allow-list answered `null` (not modelled): cannot happen for the
 *  options the allow-lists let through; a bug in the simulator if it does. */
function modelled<T>(r: T | null, what: string): T {
  if (r === null) throw new Error(`internal: ${what} passed the bpf allow-list but the socket model has no handler for it`);
  return r;
}

/** net/core/filter.c sol_tcp_sockopt_congestion() for a set: optlen >= 2, "cdg" refused
 *  (-ENOTSUPP: it keeps a pointer a bpf-tcp-cc could overwrite), then do_tcp_setsockopt(). */
function congestionSet(sock: SockModel, optval: Uint8Array): number {
  if (optval.length < 2) return -EINVAL;
  // strncmp("cdg", optval, optlen) == 0
  const isCdg = optval.length >= 3 && optval[0] === 0x63 && optval[1] === 0x64 && optval[2] === 0x67 && (optval.length === 3 || optval[3] === 0);
  if (isCdg) return -ENOTSUPP;
  return modelled(doTcpSetsockopt(sock, TCP_CONGESTION, optval, BPF), 'TCP_CONGESTION');
}

/** net/core/filter.c bpf_sol_tcp_setsockopt(): the TCP_BPF_* options (optlen 4). */
function solTcpBpfSet(sock: SockModel, optname: number, optval: Uint8Array, allCbFlags: number): number {
  if (optval.length !== 4) return -EINVAL;
  const val = i32(optval);
  const so = sock.sockopt;
  switch (optname) {
    case TCP_BPF_IW: // only before data went out: tp->data_segs_out > tp->syn_data (0)
      if (val <= 0 || (sock.data_segs_out ?? 0) > 0) return -EINVAL;
      sock.snd_cwnd = val;
      return 0;
    case TCP_BPF_SNDCWND_CLAMP:
      if (val <= 0) return -EINVAL;
      so.snd_cwnd_clamp = val;
      sock.snd_ssthresh = val;
      return 0;
    case TCP_BPF_DELACK_MAX: {
      const t = usecsToJiffies(val);
      if (t > TCP_DELACK_MAX || t < TCP_TIMEOUT_MIN) return -EINVAL;
      so.icsk_delack_max = t;
      return 0;
    }
    case TCP_BPF_RTO_MIN: {
      const t = usecsToJiffies(val);
      if (t > TCP_RTO_MIN || t < TCP_TIMEOUT_MIN) return -EINVAL;
      so.icsk_rto_min = t;
      return 0;
    }
    case TCP_BPF_SOCK_OPS_CB_FLAGS:
      // all-or-nothing: an unknown bit fails the call and sets nothing; then the RCVQ rules
      if (val & ~allCbFlags) return -EINVAL;
      return sock.setCbFlags(val);
    default:
      return -EINVAL;
  }
}

/** __bpf_setsockopt after the program-type checks. `allCbFlags` is the profile's mask. */
export function bpfSetsockopt(sock: SockModel, fullsock: boolean, level: number, optname: number, optval: Uint8Array,
  allCbFlags: number): SockoptOutcome {
  return { ret: bpfSet(sock, fullsock, level, optname, optval, allCbFlags) };
}

function bpfSet(sock: SockModel, fullsock: boolean, level: number, optname: number, optval: Uint8Array, allCbFlags: number): number {
  const optlen = optval.length;
  if (!fullsock) return -EINVAL;
  if (level === SOL_SOCKET) {
    if (SOL_SOCKET_INT.has(optname)) {
      if (optlen !== 4) return -EINVAL;
    } else if (optname !== SO_BINDTODEVICE) return -EINVAL;
    if (optname === SK_BPF_CB_FLAGS) { // sk_bpf_set_get_cb_flags()
      const v = i32(optval) >>> 0;
      if (v & ~SK_BPF_CB_MASK) return -EINVAL;
      sock.sockopt.sk_bpf_cb_flags = v;
      return 0;
    }
    return modelled(skSetsockopt(sock, optname, optval, BPF), `SOL_SOCKET ${optname}`);
  }
  if (level === SOL_IP) {
    if (!allowsSolIp(sock) || optname !== IP_TOS || optlen !== 4) return -EINVAL;
    return modelled(doIpSetsockopt(sock, optname, optval), 'IP_TOS');
  }
  if (level === SOL_IPV6) {
    if (sock.family !== 'inet6') return -EINVAL;
    if ((optname !== IPV6_TCLASS && optname !== IPV6_AUTOFLOWLABEL) || optlen !== 4) return -EINVAL;
    return modelled(doIpv6Setsockopt(sock, optname, optval), `SOL_IPV6 ${optname}`);
  }
  if (level === SOL_TCP) {
    if (SOL_TCP_INT.has(optname)) {
      if (optlen !== 4) return -EINVAL;
      return modelled(doTcpSetsockopt(sock, optname, optval, BPF), `SOL_TCP ${optname}`);
    }
    if (optname === TCP_CONGESTION) return congestionSet(sock, optval);
    if (optname === TCP_SAVED_SYN) {
      if (optlen < 1) return -EINVAL;
      return modelled(doTcpSetsockopt(sock, optname, optval, BPF), 'TCP_SAVED_SYN');
    }
    return solTcpBpfSet(sock, optname, optval, allCbFlags);
  }
  return -EINVAL;
}

/** __bpf_getsockopt: fills `out` (optlen bytes); on error the whole buffer is zeroed, and a
 *  shorter answer has its tail zeroed. */
export function bpfGetsockopt(sock: SockModel, fullsock: boolean, level: number, optname: number, out: Uint8Array): SockoptOutcome {
  const saved = out.length;
  let optlen = saved;
  const r = ((): number => {
    if (!fullsock) return -EINVAL;
    if (level === SOL_SOCKET) {
      if (SOL_SOCKET_INT.has(optname)) {
        if (optlen !== 4) return -EINVAL;
      } else return -EINVAL; // SO_BINDTODEVICE included: not gettable here
      if (optname === SK_BPF_CB_FLAGS) { putI32(out, sock.sockopt.sk_bpf_cb_flags); return 0; }
      const g = modelled(skGetsockopt(sock, optname, out), `SOL_SOCKET ${optname}`);
      optlen = g.len;
      return g.ret;
    }
    if (level === SOL_TCP) {
      if (SOL_TCP_INT.has(optname)) {
        if (optlen !== 4) return -EINVAL;
        const g = modelled(doTcpGetsockopt(sock, optname, out), `SOL_TCP ${optname}`);
        optlen = g.len;
        return g.ret;
      }
      if (optname === TCP_CONGESTION) {
        // sol_tcp_sockopt_congestion(): room for the NUL, then do_tcp_getsockopt() with optlen - 1
        if (optlen < 2) return -EINVAL;
        const g = modelled(doTcpGetsockopt(sock, optname, out.subarray(0, optlen - 1)), 'TCP_CONGESTION');
        optlen = g.len;
        return g.ret;
      }
      if (optname === TCP_SAVED_SYN) {
        // sol_tcp_sockopt(): the saved SYN's first optlen bytes, which it keeps (no free)
        if (optlen < 1) return -EINVAL;
        const syn = sock.sockopt.saved_syn;
        if (!syn || optlen > savedSynLen(syn)) return -EINVAL;
        out.set(savedSynBytes(syn).subarray(0, optlen));
        return 0;
      }
      // bpf_sol_tcp_getsockopt()
      if (optlen !== 4) return -EINVAL;
      if (optname === TCP_BPF_SOCK_OPS_CB_FLAGS) { putI32(out, sock.bpf_sock_ops_cb_flags); return 0; }
      if (optname === TCP_BPF_RTO_MIN) { putI32(out, jiffiesToUsecs(sock.sockopt.icsk_rto_min)); return 0; }
      if (optname === TCP_BPF_DELACK_MAX) { putI32(out, jiffiesToUsecs(sock.sockopt.icsk_delack_max)); return 0; }
      return -EINVAL;
    }
    if (level === SOL_IP) {
      if (!allowsSolIp(sock) || optname !== IP_TOS || optlen !== 4) return -EINVAL;
      const g = modelled(doIpGetsockopt(sock, optname, out), 'IP_TOS');
      optlen = g.len;
      return g.ret;
    }
    if (level === SOL_IPV6) {
      if (sock.family !== 'inet6' || (optname !== IPV6_TCLASS && optname !== IPV6_AUTOFLOWLABEL) || optlen !== 4) return -EINVAL;
      const g = modelled(doIpv6Getsockopt(sock, optname, out), `SOL_IPV6 ${optname}`);
      optlen = g.len;
      return g.ret;
    }
    return -EINVAL;
  })();
  if (r) optlen = 0;
  if (optlen < saved) out.fill(0, optlen);
  return { ret: r };
}

/** net/core/filter.c bpf_sock_ops_get_syn(): the headers of the peer's SYN — from syn_skb at the
 *  SYN-ACK header-option ops, else from the saved SYN (TCP_SAVE_SYN on the listener: the request
 *  sock's in NEW_SYN_RECV, the socket's after). TCP_BPF_SYN: the TCP header; TCP_BPF_SYN_IP: IP +
 *  TCP; TCP_BPF_SYN_MAC: MAC + IP + TCP (-ENOENT when the saved SYN has no MAC header). Returns
 *  the bytes or a negative errno. */
export function sockOpsGetSyn(sock: SockModel, synSkb: SynHeaders | null, optname: number): Uint8Array | number {
  let syn: SynHeaders | null = synSkb;
  if (!syn) {
    syn = sock.sockopt.saved_syn; // inet_reqsk(sk)->saved_syn in NEW_SYN_RECV: the same record here
    if (!syn) return -ENOENT;
  }
  if (optname === TCP_BPF_SYN) return syn.tcp;
  if (optname === TCP_BPF_SYN_IP) return concat([syn.network, syn.tcp]);
  if (!syn.mac.length) return -ENOENT; // TCP_SAVE_SYN may not have saved the mac header
  return concat([syn.mac, syn.network, syn.tcp]);
}

/** bpf_sock_ops_getsockopt() for TCP_BPF_SYN..TCP_BPF_SYN_MAC: the headers copied; a short
 *  buffer gets its first optlen bytes and -ENOSPC; the unused tail zeroed. */
export function sockOpsGetsockoptSyn(sock: SockModel, synSkb: SynHeaders | null, optname: number, out: Uint8Array): number {
  const r = sockOpsGetSyn(sock, synSkb, optname);
  let copy = 0;
  let ret: number;
  if (typeof r === 'number') ret = r;
  else {
    copy = r.length;
    ret = r.length;
    if (out.length < copy) { copy = out.length; ret = -ENOSPC; }
    out.set(r.subarray(0, copy));
  }
  out.fill(0, copy);
  return ret;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const familyNumber = (s: SockModel) => (s.family === 'inet6' ? AF_INET6 : 2);
