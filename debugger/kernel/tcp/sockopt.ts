// Socket options of the simulated socket: the kernel's own handlers, below both entry points.
// setsockopt(2)/getsockopt(2) (TcpModel.setsockopt, socket.ts) and bpf_setsockopt/bpf_getsockopt
// (bpf/sockopt.ts, after net/core/filter.c's allow-lists) call the same functions here, so one
// option gives one socket whichever way it was set. Each mirrors a Linux 7.1.5 function:
//   net/core/sock.c       sk_setsockopt / sk_getsockopt (SOL_SOCKET)
//   net/ipv4/tcp.c        do_tcp_setsockopt / do_tcp_getsockopt (SOL_TCP)
//   net/ipv4/tcp_cong.c   tcp_set_congestion_control
//   net/ipv4/ip_sockglue.c    do_ip_setsockopt / do_ip_getsockopt (SOL_IP: IP_TOS)
//   net/ipv6/ipv6_sockglue.c  do_ipv6_setsockopt / do_ipv6_getsockopt (IPV6_TCLASS, IPV6_AUTOFLOWLABEL)
// Handlers return a negative errno or 0; `null` means the option exists in the kernel but the
// simulator does not model it (only the syscall path can reach those: the BPF allow-lists name
// modelled options only). Capability checks pass (bpf: has_current_bpf_ctx(); the application
// is assumed to run as root).
import type { SockModel } from '../types';
import {
  BPF_TCP_CLOSE, BPF_TCP_LISTEN, EINVAL, ENODEV, ENOENT, ENOPROTOOPT, INT_MAX, IP_TOS, IPV6_AUTOFLOWLABEL,
  IPV6_TCLASS, SO_BINDTODEVICE, SO_BINDTOIFINDEX, SO_KEEPALIVE, SO_MARK, SO_MAX_PACING_RATE, SO_PRIORITY,
  SO_RCVBUF, SO_RCVLOWAT, SO_REUSEADDR, SO_REUSEPORT, SO_SNDBUF, SO_TXREHASH, TCP_CONGESTION, TCP_KEEPCNT,
  TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_MAXSEG, TCP_NODELAY, TCP_NOTSENT_LOWAT, TCP_RTO_MAX_MS, TCP_SAVE_SYN,
  TCP_SAVED_SYN, TCP_SYNCNT, TCP_THIN_LINEAR_TIMEOUTS, TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP,
} from '../bpf/consts';
import {
  HZ, MAX_TCP_KEEPCNT, MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_SYNCNT, MAX_TCP_WINDOW, NET_DEVICES,
  SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, SOCK_TXREHASH_DEFAULT, SOCK_TXREHASH_ENABLED, SYSCTL_RMEM_MAX, SYSCTL_WMEM_MAX,
  TCP_CA_NAME_MAX, TCP_CONGESTION_CONTROLS, TCP_DELACK_MAX, TCP_KEEPALIVE_INTVL, TCP_KEEPALIVE_PROBES,
  TCP_KEEPALIVE_TIME, TCP_MIN_MSS, TCP_RMEM_TO_WIN_SCALE, TCP_RTO_MAX, TCP_RTO_MAX_SEC, TCP_RTO_MIN, TCP_SYN_RETRIES,
  TCP_WMEM_DEFAULT,
} from './constants';

/** The headers of the peer's SYN as the kernel keeps them: struct saved_syn (mac_hdrlen,
 *  network_hdrlen, tcp_hdrlen, data[]) of tcp_reqsk_record_syn, and the syn_skb's header
 *  offsets. `mac` is empty when it was not saved (TCP_SAVE_SYN 1). */
export interface SynHeaders {
  mac: Uint8Array;
  network: Uint8Array;
  tcp: Uint8Array;
}

/** The struct sock / inet_sock / ipv6_pinfo / tcp_sock / inet_connection_sock fields only the
 *  socket options touch, named as in the kernel. Times are in jiffies as the kernel keeps them. */
export interface SockoptFields {
  sk_sndbuf: number;
  /** SOCK_SNDBUF_LOCK in sk_userlocks (SOCK_RCVBUF_LOCK is SockModel.rcvbuf_locked). */
  sndbuf_locked: boolean;
  /** SK_NO_REUSE (0) / SK_CAN_REUSE (1). */
  sk_reuse: number;
  sk_reuseport: number;
  /** SOCK_KEEPOPEN in sk_flags. */
  keepopen: boolean;
  sk_priority: number;
  sk_mark: number;
  /** unsigned long; ~0UL (no limit) by default (sock_init_data). */
  sk_max_pacing_rate: bigint;
  sk_bound_dev_if: number;
  sk_txrehash: number;
  /** sk->sk_bpf_cb_flags (SK_BPF_CB_FLAGS through bpf_setsockopt). */
  sk_bpf_cb_flags: number;
  /** tp->rx_opt.user_mss (TCP_MAXSEG). */
  user_mss: number;
  /** tp->keepalive_time / keepalive_intvl (jiffies, 0: the sysctl) and keepalive_probes (0: the sysctl). */
  keepalive_time: number;
  keepalive_intvl: number;
  keepalive_probes: number;
  icsk_syn_retries: number;
  thin_lto: number;
  icsk_user_timeout: number;
  notsent_lowat: number;
  save_syn: number;
  /** tp->saved_syn: the peer's SYN headers recorded when the listener had save_syn set. */
  saved_syn: SynHeaders | null;
  icsk_rto_max: number;
  icsk_rto_min: number;
  icsk_delack_max: number;
  snd_cwnd_clamp: number;
  /** icsk_ca_ops->name. */
  ca_name: string;
  /** inet_sk(sk)->tos, inet6_sk(sk)->tclass. */
  tos: number;
  tclass: number;
  /** IPV6_AUTOFLOWLABEL: null until set (AUTOFLOWLABEL_SET clear: the sysctl's default decides). */
  autoflowlabel: boolean | null;
  /** sk->sk_ipv6only: net/ipv6/af_inet6.c __inet6_bind sets it when the socket binds a specific
   *  IPv6 address that is not v4-mapped (the child inherits the listener's). */
  sk_ipv6only: boolean;
  /** sk->sk_socket is set: the socket has a struct socket (the listener; the child once accept()
   *  grafted it). Before that, sk_setsockopt finds no proto_ops: SO_RCVLOWAT stores the value
   *  (no tcp_set_rcvlowat), SO_RCVBUF does not reach tcp_set_rcvbuf (window_clamp unchanged). */
  sk_socket: boolean;
}

/** A socket as tcp_init_sock() / sock_init_data() leave it (the child inherits the listener's). */
export function sockoptDefaults(): SockoptFields {
  return {
    sk_sndbuf: TCP_WMEM_DEFAULT, sndbuf_locked: false, sk_reuse: 0, sk_reuseport: 0, keepopen: false,
    sk_priority: 0, sk_mark: 0, sk_max_pacing_rate: 0xffffffffffffffffn, sk_bound_dev_if: 0,
    sk_txrehash: SOCK_TXREHASH_ENABLED, sk_bpf_cb_flags: 0, user_mss: 0, keepalive_time: 0, keepalive_intvl: 0,
    keepalive_probes: 0, icsk_syn_retries: 0, thin_lto: 0, icsk_user_timeout: 0, notsent_lowat: 0, save_syn: 0,
    saved_syn: null, icsk_rto_max: TCP_RTO_MAX, icsk_rto_min: TCP_RTO_MIN, icsk_delack_max: TCP_DELACK_MAX,
    snd_cwnd_clamp: 0xffffffff, ca_name: TCP_CONGESTION_CONTROLS[0]!, tos: 0, tclass: 0, autoflowlabel: null,
    sk_ipv6only: false, sk_socket: true,
  };
}

/** Who calls: the application (setsockopt(2)) or a BPF program (has_current_bpf_ctx()). */
export interface SockoptCaller { bpf: boolean }

const i32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
const minU32 = (val: number, max: number): number => Math.min(val >>> 0, max);

/** include/linux/jiffies.h usecs_to_jiffies() with HZ 1000 for a u32: values past
 *  jiffies_to_usecs(MAX_JIFFY_OFFSET) saturate (negative ints arrive as large u32s). */
export function usecsToJiffies(u: number): number {
  u = u >>> 0;
  const usecPerJiffy = 1_000_000 / HZ;
  if (u > 0xffffffff - 2 * usecPerJiffy + 1) return Number.MAX_SAFE_INTEGER;
  return Math.ceil(u / usecPerJiffy);
}
export const jiffiesToUsecs = (j: number): number => j * (1_000_000 / HZ);

/** include/net/tcp.h tcp_win_from_space(). */
const winFromSpace = (sk: SockModel, space: number) => Math.floor((Math.max(0, space) * sk.scaling_ratio) / (1 << TCP_RMEM_TO_WIN_SCALE));

/** net/core/sock.c __sock_set_rcvbuf(): SOCK_RCVBUF_LOCK, sk_rcvbuf = max(2 * val, SOCK_MIN_RCVBUF),
 *  then the proto's set_rcvbuf: net/ipv4/tcp.c tcp_set_rcvbuf() ->
 *  tcp_set_window_clamp(tcp_win_from_space(sk, sk_rcvbuf)). */
function sockSetRcvbuf(sk: SockModel, val: number): void {
  val = Math.min(val | 0, Math.floor(INT_MAX / 2));
  sk.rcvbuf_locked = true;
  sk.sk_rcvbuf = Math.max(val * 2, SOCK_MIN_RCVBUF);
  if (sk.sockopt.sk_socket) tcpSetWindowClamp(sk, winFromSpace(sk, sk.sk_rcvbuf));
}

/** net/ipv4/tcp.c tcp_set_window_clamp(): 0 only in CLOSE; at least SOCK_MIN_RCVBUF / 2.
 *  (rcv_ssthresh, which the model does not keep, is left alone.) */
function tcpSetWindowClamp(sk: SockModel, val: number): number {
  if (!val) {
    if (sk.state !== BPF_TCP_CLOSE) return -EINVAL;
    sk.window_clamp = 0;
    return 0;
  }
  sk.window_clamp = Math.max(SOCK_MIN_RCVBUF >> 1, val);
  return 0;
}

/** net/core/sock.c sk_setsockopt() for SOL_SOCKET. */
export function skSetsockopt(sk: SockModel, optname: number, optval: Uint8Array, _who: SockoptCaller): number | null {
  const so = sk.sockopt;
  if (optname === SO_BINDTODEVICE) {
    // sock_setbindtodevice(): the name (at most IFNAMSIZ - 1 bytes), "" unbinds; -ENODEV if unknown
    const raw = optval.subarray(0, Math.min(optval.length, 15));
    const nul = raw.indexOf(0);
    const name = new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul));
    let index = 0;
    if (name !== '') {
      const dev = NET_DEVICES[name];
      if (dev === undefined) return -ENODEV;
      index = dev;
    }
    so.sk_bound_dev_if = index;
    return 0;
  }
  if (optname > 84) return -ENOPROTOOPT; // past SO_INQ, the last SO_* of include/uapi/asm-generic/socket.h
  if (optval.length < 4) return -EINVAL;
  const val = i32(optval);
  const valbool = val !== 0 ? 1 : 0;
  switch (optname) {
    case SO_PRIORITY: // sk_set_prio_allowed(): 0..6, or CAP_NET_RAW/CAP_NET_ADMIN (assumed held)
      so.sk_priority = val;
      return 0;
    case SO_MAX_PACING_RATE: {
      // `val == ~0U ? ~0UL : (unsigned int)val`; a 64-bit value when optlen >= 8
      let rate = val === -1 ? 0xffffffffffffffffn : BigInt(val >>> 0);
      if (optval.length >= 8) rate = new DataView(optval.buffer, optval.byteOffset, 8).getBigUint64(0, true);
      so.sk_max_pacing_rate = rate;
      return 0;
    }
    case SO_TXREHASH:
      if (val < -1 || val > 1) return -EINVAL;
      so.sk_txrehash = (val & 0xff) === SOCK_TXREHASH_DEFAULT ? SOCK_TXREHASH_ENABLED : val & 0xff;
      return 0;
    case SO_REUSEADDR:
      so.sk_reuse = valbool;
      return 0;
    case SO_REUSEPORT:
      so.sk_reuseport = valbool;
      return 0;
    case SO_SNDBUF: {
      const v = Math.min(minU32(val, SYSCTL_WMEM_MAX), Math.floor(INT_MAX / 2));
      so.sndbuf_locked = true;
      so.sk_sndbuf = Math.max(v * 2, SOCK_MIN_SNDBUF);
      return 0;
    }
    case SO_RCVBUF:
      sockSetRcvbuf(sk, minU32(val, SYSCTL_RMEM_MAX));
      return 0;
    case SO_KEEPALIVE: // tcp_set_keepalive() arms the timer (not modelled); SOCK_KEEPOPEN
      so.keepopen = valbool === 1;
      return 0;
    case SO_RCVLOWAT: { // negative -> INT_MAX, then the proto's set_rcvlowat: tcp_set_rcvlowat()
      const v = val < 0 ? INT_MAX : val;
      if (sk.sockopt.sk_socket) return sk.setRcvlowat(v, { wakeup: true });
      sk.sk_rcvlowat = v || 1; // no struct socket yet: WRITE_ONCE(sk->sk_rcvlowat, val ? : 1)
      return 0;
    }
    case SO_MARK:
      so.sk_mark = val >>> 0;
      return 0;
    case SO_BINDTOIFINDEX: // sock_bindtoindex_locked(): the index is not looked up
      if (val < 0) return -EINVAL;
      so.sk_bound_dev_if = val;
      return 0;
    default:
      return null;
  }
}

/** net/core/sock.c sk_getsockopt() for SOL_SOCKET into `out` (its length is the caller's len).
 *  Returns the errno and the length the kernel reports (min(len, sizeof(int))). */
export function skGetsockopt(sk: SockModel, optname: number, out: Uint8Array): { ret: number; len: number } | null {
  const so = sk.sockopt;
  let v: number;
  switch (optname) {
    case SO_SNDBUF: v = so.sk_sndbuf; break;
    case SO_RCVBUF: v = sk.sk_rcvbuf; break;
    case SO_REUSEADDR: v = so.sk_reuse; break;
    case SO_REUSEPORT: v = so.sk_reuseport; break;
    case SO_KEEPALIVE: v = so.keepopen ? 1 : 0; break;
    case SO_PRIORITY: v = so.sk_priority; break;
    case SO_RCVLOWAT: v = sk.sk_rcvlowat; break;
    case SO_MARK: v = so.sk_mark; break;
    case SO_BINDTOIFINDEX: v = so.sk_bound_dev_if; break;
    case SO_TXREHASH: v = so.sk_txrehash; break;
    case SO_MAX_PACING_RATE:
      if (out.length >= 8) { // 64-bit: the unsigned long
        new DataView(out.buffer, out.byteOffset, 8).setBigUint64(0, so.sk_max_pacing_rate, true);
        return { ret: 0, len: 8 };
      }
      v = so.sk_max_pacing_rate > 0xffffffffn ? 0xffffffff : Number(so.sk_max_pacing_rate);
      break;
    default:
      return optname > 84 ? { ret: -ENOPROTOOPT, len: out.length } : null;
  }
  return { ret: 0, len: putInt(out, v) };
}

/** copy_to_sockptr(optval, &val, min(len, sizeof(int))): the low bytes of the int. */
function putInt(out: Uint8Array, v: number): number {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v | 0, true);
  const len = Math.min(out.length, 4);
  out.set(b.subarray(0, len));
  return len;
}

/** net/ipv4/tcp_cong.c tcp_set_congestion_control(): the same ops is no change; an unknown name
 *  is -ENOENT (`load` would try request_module: no modules in the simulated kernel, assumed). */
function tcpSetCongestionControl(sk: SockModel, name: string): number {
  if (name === sk.sockopt.ca_name) return 0;
  if (!TCP_CONGESTION_CONTROLS.includes(name)) return -ENOENT;
  sk.sockopt.ca_name = name;
  return 0;
}

/** net/ipv4/tcp.c do_tcp_setsockopt() (SOL_TCP). */
export function doTcpSetsockopt(sk: SockModel, optname: number, optval: Uint8Array, _who: SockoptCaller): number | null {
  const so = sk.sockopt;
  if (optname === TCP_CONGESTION) {
    if (optval.length < 1) return -EINVAL;
    // strncpy_from_sockptr(name, optval, min(TCP_CA_NAME_MAX - 1, optlen))
    const raw = optval.subarray(0, Math.min(TCP_CA_NAME_MAX - 1, optval.length));
    const nul = raw.indexOf(0);
    return tcpSetCongestionControl(sk, new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul)));
  }
  if (optname > 46) return -ENOPROTOOPT; // past TCP_DELACK_MAX_US, the last int option of include/uapi/linux/tcp.h
  if (optval.length < 4) return -EINVAL;
  const val = i32(optval);
  switch (optname) {
    case TCP_SYNCNT: // tcp_sock_set_syncnt()
      if (val < 1 || val > MAX_TCP_SYNCNT) return -EINVAL;
      so.icsk_syn_retries = val;
      return 0;
    case TCP_USER_TIMEOUT: // tcp_sock_set_user_timeout()
      if (val < 0) return -EINVAL;
      so.icsk_user_timeout = val;
      return 0;
    case TCP_KEEPINTVL: // tcp_sock_set_keepintvl()
      if (val < 1 || val > MAX_TCP_KEEPINTVL) return -EINVAL;
      so.keepalive_intvl = val * HZ;
      return 0;
    case TCP_KEEPCNT: // tcp_sock_set_keepcnt()
      if (val < 1 || val > MAX_TCP_KEEPCNT) return -EINVAL;
      so.keepalive_probes = val;
      return 0;
    case TCP_RTO_MAX_MS:
      if (val < 1000 || val > TCP_RTO_MAX_SEC * 1000) return -EINVAL;
      so.icsk_rto_max = (val * HZ) / 1000; // msecs_to_jiffies (HZ 1000: exact)
      return 0;
    case TCP_MAXSEG: // tcp_sock_set_maxseg()
      if (val && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW)) return -EINVAL;
      so.user_mss = val;
      return 0;
    case TCP_NODELAY: // __tcp_sock_set_nodelay(): TCP_NAGLE_OFF (the push it triggers: nothing queued to send)
      sk.tcp_nodelay = val !== 0;
      return 0;
    case TCP_THIN_LINEAR_TIMEOUTS:
      if (val < 0 || val > 1) return -EINVAL;
      so.thin_lto = val;
      return 0;
    case TCP_KEEPIDLE: // tcp_sock_set_keepidle_locked() (re-arming the keepalive timer: not modelled)
      if (val < 1 || val > MAX_TCP_KEEPIDLE) return -EINVAL;
      so.keepalive_time = val * HZ;
      return 0;
    case TCP_SAVE_SYN: // 0: off, 1: save from the network header, 2: from the MAC header
      if (val < 0 || val > 2) return -EINVAL;
      so.save_syn = val;
      return 0;
    case TCP_WINDOW_CLAMP:
      return tcpSetWindowClamp(sk, val);
    case TCP_NOTSENT_LOWAT:
      so.notsent_lowat = val >>> 0;
      return 0;
    case TCP_SAVED_SYN: // get-only: the locked switch's default
      return -ENOPROTOOPT;
    default:
      return null;
  }
}

/** net/ipv4/tcp.c do_tcp_getsockopt() (SOL_TCP) for the modelled options; `len` is the length
 *  written back. TCP_SAVED_SYN frees the saved SYN, as the syscall does. */
export function doTcpGetsockopt(sk: SockModel, optname: number, out: Uint8Array): { ret: number; len: number } | null {
  const so = sk.sockopt;
  if (optname === TCP_CONGESTION) {
    const len = Math.min(out.length, TCP_CA_NAME_MAX);
    const name = new Uint8Array(TCP_CA_NAME_MAX); // char name[TCP_CA_NAME_MAX], zero padded
    name.set(new TextEncoder().encode(so.ca_name));
    out.set(name.subarray(0, len));
    return { ret: 0, len };
  }
  if (optname === TCP_SAVED_SYN) {
    const syn = so.saved_syn;
    if (!syn) return { ret: 0, len: 0 };
    const total = savedSynLen(syn);
    if (out.length < total) return { ret: -EINVAL, len: total };
    out.set(savedSynBytes(syn));
    so.saved_syn = null; // tcp_saved_syn_free()
    return { ret: 0, len: total };
  }
  let v: number;
  switch (optname) {
    case TCP_MAXSEG:
      v = sk.mss_cache;
      if (so.user_mss && (sk.state === BPF_TCP_CLOSE || sk.state === BPF_TCP_LISTEN)) v = so.user_mss;
      break;
    case TCP_NODELAY: v = sk.tcp_nodelay ? 1 : 0; break;
    case TCP_KEEPIDLE: v = Math.floor((so.keepalive_time || TCP_KEEPALIVE_TIME) / HZ); break; // keepalive_time_when()
    case TCP_KEEPINTVL: v = Math.floor((so.keepalive_intvl || TCP_KEEPALIVE_INTVL) / HZ); break;
    case TCP_KEEPCNT: v = so.keepalive_probes || TCP_KEEPALIVE_PROBES; break;
    case TCP_SYNCNT: v = so.icsk_syn_retries || TCP_SYN_RETRIES; break;
    case TCP_WINDOW_CLAMP: v = sk.window_clamp; break;
    case TCP_THIN_LINEAR_TIMEOUTS: v = so.thin_lto; break;
    case TCP_USER_TIMEOUT: v = so.icsk_user_timeout; break;
    case TCP_NOTSENT_LOWAT: v = so.notsent_lowat; break;
    case TCP_SAVE_SYN: v = so.save_syn; break;
    case TCP_RTO_MAX_MS: v = (so.icsk_rto_max * 1000) / HZ; break; // jiffies_to_msecs(tcp_rto_max(sk))
    default:
      return optname > 46 ? { ret: -ENOPROTOOPT, len: out.length } : null;
  }
  return { ret: 0, len: putInt(out, v) };
}

/** include/net/route.h rt_tos2priority(): ip_tos2prio[IPTOS_TOS(tos) >> 1] (net/ipv4/route.c). */
const IP_TOS2PRIO = [0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4];
/** include/net/inet_ecn.h INET_ECN_MASK. */
const INET_ECN_MASK = 3;

/** net/ipv4/ip_sockglue.c do_ip_setsockopt() (SOL_IP): IP_TOS -> __ip_sock_set_tos() keeps the
 *  ECN bits on a stream socket and sets sk_priority from the TOS. */
export function doIpSetsockopt(sk: SockModel, optname: number, optval: Uint8Array): number | null {
  if (optname !== IP_TOS) return null;
  // an int when optlen >= 4, an unsigned char when 1..3, 0 when empty
  let val = optval.length >= 4 ? i32(optval) : optval.length >= 1 ? optval[0]! : 0;
  const so = sk.sockopt;
  val &= ~INET_ECN_MASK;
  val |= so.tos & INET_ECN_MASK;
  val &= 0xff; // inet_sk(sk)->tos is a u8
  if (so.tos !== val) {
    so.tos = val;
    so.sk_priority = IP_TOS2PRIO[(val & 0x1e) >> 1]!;
  }
  return 0;
}

export function doIpGetsockopt(sk: SockModel, optname: number, out: Uint8Array): { ret: number; len: number } | null {
  if (optname !== IP_TOS) return null;
  const v = sk.sockopt.tos;
  // do_ip_getsockopt(): a short buffer gets the value as one unsigned char
  if (out.length < 4 && out.length > 0) { out[0] = v; return { ret: 0, len: 1 }; }
  return { ret: 0, len: putInt(out, v) };
}

/** net/ipv6/ipv6_sockglue.c do_ipv6_setsockopt() (SOL_IPV6). */
export function doIpv6Setsockopt(sk: SockModel, optname: number, optval: Uint8Array): number | null {
  const val = optval.length >= 4 ? i32(optval) : 0;
  const so = sk.sockopt;
  if (optname === IPV6_TCLASS) {
    if (optval.length < 4) return -EINVAL;
    if (val < -1 || val > 0xff) return -EINVAL;
    let v = val === -1 ? 0 : val; // RFC 3542, 6.5: the default traffic class is 0
    v = (v & ~INET_ECN_MASK) | (so.tclass & INET_ECN_MASK);
    so.tclass = v;
    return 0;
  }
  if (optname === IPV6_AUTOFLOWLABEL) {
    so.autoflowlabel = val !== 0;
    return 0;
  }
  return null;
}

export function doIpv6Getsockopt(sk: SockModel, optname: number, out: Uint8Array): { ret: number; len: number } | null {
  const so = sk.sockopt;
  // ip6_autoflowlabel(): the sysctl's default (IP6_AUTO_FLOW_LABEL_OPTOUT: on) until set
  if (optname === IPV6_TCLASS) return { ret: 0, len: putInt(out, so.tclass) };
  if (optname === IPV6_AUTOFLOWLABEL) return { ret: 0, len: putInt(out, so.autoflowlabel ?? true ? 1 : 0) };
  return null;
}

/** include/linux/tcp.h tcp_saved_syn_len(). */
export const savedSynLen = (s: SynHeaders): number => s.mac.length + s.network.length + s.tcp.length;

/** saved_syn->data: the saved headers back to back. */
export function savedSynBytes(s: SynHeaders): Uint8Array {
  const out = new Uint8Array(savedSynLen(s));
  out.set(s.mac);
  out.set(s.network, s.mac.length);
  out.set(s.tcp, s.mac.length + s.network.length);
  return out;
}

/** net/ipv4/tcp_input.c tcp_reqsk_record_syn(): what a listener with save_syn keeps of the SYN —
 *  the network and TCP headers, with the MAC header too for save_syn 2 (when the skb has one). */
export function recordSyn(saveSyn: number, syn: SynHeaders): SynHeaders | null {
  if (!saveSyn) return null;
  return { mac: saveSyn === 2 ? syn.mac : new Uint8Array(0), network: syn.network, tcp: syn.tcp };
}
