// bpf_setsockopt / bpf_getsockopt on a simulated socket: __bpf_setsockopt/__bpf_getsockopt and
// the level handlers of net/core/filter.c (sol_socket_sockopt, sol_tcp_sockopt,
// bpf_sol_tcp_setsockopt, sol_ip_sockopt, sol_ipv6_sockopt), with sk_setsockopt() rules from
// net/core/sock.c for the options we model. Options the kernel accepts but we do not model are
// accepted (return 0) and leave the socket unchanged; `modeled: false` says so in the trace.
import type { SockModel } from '../types';
import {
  AF_INET6, EINVAL, INT_MAX, SK_BPF_CB_FLAGS, SO_RCVBUF, SO_RCVLOWAT, SO_SNDBUF, SOCK_MIN_RCVBUF,
  SOL_IP, SOL_IPV6, SOL_SOCKET, SOL_TCP, SYSCTL_RMEM_MAX, TCP_BPF_DELACK_MAX, TCP_BPF_IW, TCP_BPF_RTO_MIN,
  TCP_BPF_SNDCWND_CLAMP, TCP_BPF_SOCK_OPS_CB_FLAGS, TCP_NODELAY,
} from './consts';

/** SOL_SOCKET options bpf_setsockopt accepts (sol_socket_sockopt); all but SO_BINDTODEVICE need optlen 4. */
const SOL_SOCKET_INT = new Set([2 /* SO_REUSEADDR */, SO_SNDBUF, SO_RCVBUF, 9 /* SO_KEEPALIVE */, 12 /* SO_PRIORITY */,
  15 /* SO_REUSEPORT */, SO_RCVLOWAT, 36 /* SO_MARK */, 47 /* SO_MAX_PACING_RATE */, 62 /* SO_BINDTOIFINDEX */,
  74 /* SO_TXREHASH */, SK_BPF_CB_FLAGS]);
const SO_BINDTODEVICE = 25;
/** SOL_TCP options passed to do_tcp_{set,get}sockopt (sol_tcp_sockopt); optlen 4. */
const SOL_TCP_INT = new Set([TCP_NODELAY, 2 /* TCP_MAXSEG */, 4, 5, 6, 7, 10 /* TCP_WINDOW_CLAMP */, 16, 18, 25, 27,
  44 /* TCP_RTO_MAX_MS */]);
const TCP_CONGESTION = 13;
const TCP_SAVED_SYN = 28;
const IP_TOS = 1;
const IPV6_TCLASS = 67;
const IPV6_AUTOFLOWLABEL = 70;
/** include/net/tcp.h with HZ=1000 (assumed config): TCP_DELACK_MAX = TCP_RTO_MIN = HZ/5, TCP_TIMEOUT_MIN = 2 jiffies. */
const TCP_RTO_MIN_US = 200_000;
const TCP_DELACK_MAX_US = 200_000;
const TCP_TIMEOUT_MIN_US = 2_000;

export interface SockoptOutcome { ret: number; modeled: boolean }

const i32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);

/** sk_setsockopt(SOL_SOCKET, SO_RCVLOWAT): negative -> INT_MAX, then tcp_set_rcvlowat(). */
export function soRcvlowat(sock: SockModel, val: number): number {
  return sock.setRcvlowat(val < 0 ? INT_MAX : val, { wakeup: true });
}

/** sk_setsockopt(SOL_SOCKET, SO_RCVBUF): __sock_set_rcvbuf(min(val, rmem_max)). */
export function soRcvbuf(sock: SockModel, val: number): number {
  const v = Math.min(val >>> 0, SYSCTL_RMEM_MAX, Math.floor(INT_MAX / 2));
  sock.rcvbuf_locked = true;
  sock.sk_rcvbuf = Math.max(v * 2, SOCK_MIN_RCVBUF);
  return 0;
}

/** __bpf_setsockopt after the program-type checks. `allCbFlags` is the profile's mask. */
export function bpfSetsockopt(sock: SockModel, fullsock: boolean, level: number, optname: number, optval: Uint8Array,
  allCbFlags: number): SockoptOutcome {
  const optlen = optval.length;
  if (!fullsock) return { ret: -EINVAL, modeled: true };
  if (level === SOL_SOCKET) {
    if (SOL_SOCKET_INT.has(optname)) {
      if (optlen !== 4) return { ret: -EINVAL, modeled: true };
    } else if (optname !== SO_BINDTODEVICE) return { ret: -EINVAL, modeled: true };
    const val = optlen >= 4 ? i32(optval) : 0;
    if (optname === SO_RCVLOWAT) return { ret: soRcvlowat(sock, val), modeled: true };
    if (optname === SO_RCVBUF) return { ret: soRcvbuf(sock, val), modeled: true };
    if (optname === SK_BPF_CB_FLAGS) return { ret: val & ~1 ? -EINVAL : 0, modeled: false }; // SK_BPF_CB_MASK
    return { ret: 0, modeled: false };
  }
  if (level === SOL_TCP) {
    if (SOL_TCP_INT.has(optname)) {
      if (optlen !== 4) return { ret: -EINVAL, modeled: true };
      if (optname === TCP_NODELAY) {
        sock.tcp_nodelay = i32(optval) !== 0;
        return { ret: 0, modeled: true };
      }
      return { ret: 0, modeled: false };
    }
    if (optname === TCP_CONGESTION) return { ret: 0, modeled: false };
    if (optname === TCP_SAVED_SYN) return { ret: optlen < 1 ? -EINVAL : -EINVAL, modeled: true }; // not settable
    // bpf_sol_tcp_setsockopt
    if (optlen !== 4) return { ret: -EINVAL, modeled: true };
    const val = i32(optval);
    switch (optname) {
      case TCP_BPF_IW:
        return { ret: val <= 0 ? -EINVAL : 0, modeled: false };
      case TCP_BPF_SNDCWND_CLAMP:
        return { ret: val <= 0 ? -EINVAL : 0, modeled: false };
      case TCP_BPF_DELACK_MAX:
        return { ret: val > TCP_DELACK_MAX_US || val < TCP_TIMEOUT_MIN_US ? -EINVAL : 0, modeled: false };
      case TCP_BPF_RTO_MIN:
        return { ret: val > TCP_RTO_MIN_US || val < TCP_TIMEOUT_MIN_US ? -EINVAL : 0, modeled: false };
      case TCP_BPF_SOCK_OPS_CB_FLAGS:
        // All-or-nothing: an unknown bit fails the call and sets nothing; then the RCVQ rules.
        if (val & ~allCbFlags) return { ret: -EINVAL, modeled: true };
        return { ret: sock.setCbFlags(val), modeled: true };
      default:
        return { ret: -EINVAL, modeled: true };
    }
  }
  if (level === SOL_IP) {
    if (optname !== IP_TOS || optlen !== 4) return { ret: -EINVAL, modeled: true };
    return { ret: 0, modeled: false };
  }
  if (level === SOL_IPV6) {
    if (sock.family !== 'inet6') return { ret: -EINVAL, modeled: true };
    if ((optname !== IPV6_TCLASS && optname !== IPV6_AUTOFLOWLABEL) || optlen !== 4) return { ret: -EINVAL, modeled: true };
    return { ret: 0, modeled: false };
  }
  return { ret: -EINVAL, modeled: true };
}

/** __bpf_getsockopt: fills `out` (optlen bytes); on error the whole buffer is zeroed. */
export function bpfGetsockopt(sock: SockModel, fullsock: boolean, level: number, optname: number, out: Uint8Array): SockoptOutcome {
  const optlen = out.length;
  const put = (v: number) => {
    out.fill(0);
    new DataView(out.buffer, out.byteOffset, 4).setInt32(0, v, true);
  };
  const r = ((): SockoptOutcome => {
    if (!fullsock) return { ret: -EINVAL, modeled: true };
    if (level === SOL_SOCKET) {
      if (!SOL_SOCKET_INT.has(optname) || optlen !== 4) return { ret: -EINVAL, modeled: true };
      if (optname === SO_RCVLOWAT) { put(sock.sk_rcvlowat); return { ret: 0, modeled: true }; }
      if (optname === SO_RCVBUF) { put(sock.sk_rcvbuf); return { ret: 0, modeled: true }; }
      put(0);
      return { ret: 0, modeled: false };
    }
    if (level === SOL_TCP) {
      // TCP_BPF_SYN..TCP_BPF_SYN_MAC are the sock_ops flavour's (bpf_sock_ops_getsockopt, in
      // kernel.ts); here they fall to bpf_sol_tcp_getsockopt's default: -EINVAL.
      if (SOL_TCP_INT.has(optname)) {
        if (optlen !== 4) return { ret: -EINVAL, modeled: true };
        if (optname === TCP_NODELAY) { put(sock.tcp_nodelay ? 1 : 0); return { ret: 0, modeled: true }; }
        if (optname === 2) { put(sock.mss_cache); return { ret: 0, modeled: true }; }
        put(0);
        return { ret: 0, modeled: false };
      }
      if (optname === TCP_CONGESTION || optname === TCP_SAVED_SYN) return { ret: -EINVAL, modeled: false };
      if (optlen !== 4) return { ret: -EINVAL, modeled: true };
      if (optname === TCP_BPF_SOCK_OPS_CB_FLAGS) { put(sock.bpf_sock_ops_cb_flags); return { ret: 0, modeled: true }; }
      if (optname === TCP_BPF_RTO_MIN) { put(TCP_RTO_MIN_US); return { ret: 0, modeled: false }; }
      if (optname === TCP_BPF_DELACK_MAX) { put(TCP_DELACK_MAX_US); return { ret: 0, modeled: false }; }
      return { ret: -EINVAL, modeled: true };
    }
    if (level === SOL_IP) {
      if (optname !== IP_TOS || optlen !== 4) return { ret: -EINVAL, modeled: true };
      put(0);
      return { ret: 0, modeled: false };
    }
    if (level === SOL_IPV6) {
      if (sock.family !== 'inet6' || (optname !== IPV6_TCLASS && optname !== IPV6_AUTOFLOWLABEL) || optlen !== 4) {
        return { ret: -EINVAL, modeled: true };
      }
      put(0);
      return { ret: 0, modeled: false };
    }
    return { ret: -EINVAL, modeled: true };
  })();
  if (r.ret < 0) out.fill(0);
  return r;
}

export const familyNumber = (s: SockModel) => (s.family === 'inet6' ? AF_INET6 : 2);
