// Socket helpers: socket options (net/core/filter.c bpf_sock_ops_setsockopt & co, on ./sockopt.ts),
// cb flags, socket views and casts, cookies.
import { AF_INET6, EINVAL, SOL_TCP, TCP_BPF_SYN, TCP_BPF_SYN_MAC } from '../consts';
import type { SockObjects } from '../objects';
import { i32, r64, type CallCtx, type Impl } from '../run';
import { bpfGetsockopt, bpfSetsockopt, familyNumber, sockOpsGetsockoptSyn } from '../sockopt';

/** include/net/tcp_states.h */
const TCP_TIME_WAIT = 6;
import { outBuf, readBytes } from './common';

export const SOCK_HELPERS: Record<string, Impl> = {
  bpf_get_socket_cookie: (c) => BigInt.asUintN(64, c.run.objs.sock.cookie),
  bpf_get_netns_cookie: () => 1n, // init_net's cookie; its value is ours (assumed)
  bpf_setsockopt(c, a) {
    const o = sockoptSock(c, a[0]!);
    if (!o) return r64(-EINVAL);
    const optlen = i32(a[4]!);
    if (optlen < 0) return r64(-EINVAL);
    const val = readBytes(c, a[3]!, optlen);
    const r = bpfSetsockopt(o.sock, c.run.fullsock, i32(a[1]!), i32(a[2]!), val, c.host.table.profile.allCbFlags);
    return r64(r.ret);
  },
  bpf_getsockopt(c, a) {
    const o = sockoptSock(c, a[0]!);
    const optlen = i32(a[4]!);
    if (optlen < 0) return r64(-EINVAL);
    const out = new Uint8Array(outBuf(c, a[3]!, optlen));
    const level = i32(a[1]!);
    const optname = i32(a[2]!);
    // bpf_sock_ops_getsockopt: the peer's SYN comes before _bpf_getsockopt and its fullsock check
    const syn = c.env.progType === 'sock_ops' && level === SOL_TCP && optname >= TCP_BPF_SYN && optname <= TCP_BPF_SYN_MAC;
    const ret = syn ? sockOpsGetSyn(c, optname, out)
      : o ? bpfGetsockopt(o.sock, c.run.fullsock, level, optname, out).ret : -EINVAL;
    c.hc.memory.writeBytes(a[3]!, out);
    return r64(ret);
  },
  bpf_sock_ops_cb_flags_set(c, a) {
    // net/core/filter.c bpf_sock_ops_cb_flags_set: keep argval & ALL_CB_FLAGS, return the rest.
    const argval = i32(a[1]!);
    const all = c.host.table.profile.allCbFlags;
    if (!c.run.fullsock) return r64(-EINVAL);
    const r = c.run.objs.sock.setCbFlags(argval & all);
    if (r < 0) return r64(r);
    return r64(argval & ~all);
  },
  bpf_tcp_sock(c, a) {
    const o = c.host.sock(c, a[0]!);
    if (!o || !c.run.fullsock) return 0n;
    return c.host.sockAddr(c, o); // the socket's own address (net/core/filter.c bpf_tcp_sock)
  },
  // net/core/filter.c bpf_skc_to_*: the socket's own address when it is of that kind, else NULL
  bpf_skc_to_tcp6_sock(c, a) {
    // sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP && sk->sk_family == AF_INET6
    const o = c.host.sock(c, a[0]!);
    if (!o || !c.run.fullsock || familyNumber(o.sock) !== AF_INET6) return 0n;
    return c.host.sockAddr(c, o);
  },
  bpf_skc_to_tcp_timewait_sock(c, a) {
    // sk->sk_prot == &tcp_prot && sk->sk_state == TCP_TIME_WAIT: the model's sockets are full
    // socks, which leave TIME_WAIT to a separate tcp_timewait_sock the programs never see
    const o = c.host.sock(c, a[0]!);
    return o && o.sock.state === TCP_TIME_WAIT && !c.run.fullsock ? c.host.sockAddr(c, o) : 0n;
  },
  bpf_skc_to_tcp_request_sock(c, a) {
    // sk->sk_state == TCP_NEW_SYN_RECV: the run's socket when the op runs on a request sock
    const o = c.host.sock(c, a[0]!);
    return o && o === c.run.objs && !c.run.fullsock ? c.host.sockAddr(c, o) : 0n;
  },
  // sk_protocol == IPPROTO_UDP / sk_family == AF_UNIX: never for the model's TCP sockets
  bpf_skc_to_udp6_sock: () => 0n,
  bpf_skc_to_unix_sock: () => 0n,
  // net/core/filter.c bpf_skc_to_mptcp_sock -> bpf_mptcp_sock_from_subflow: NULL unless
  // sk_is_mptcp(sk); the model's sockets are plain TCP
  bpf_skc_to_mptcp_sock: () => 0n,
  bpf_skc_to_tcp_sock(c, a) {
    const o = c.host.sock(c, a[0]!);
    if (!o || !c.run.fullsock) return 0n;
    return c.host.sockAddr(c, o);
  },
};

/** net/core/filter.c bpf_sock_ops_getsockopt for TCP_BPF_SYN..TCP_BPF_SYN_MAC (../sockopt.ts):
 *  syn_skb at the SYN-ACK header-option ops, else the saved SYN (TCP_SAVE_SYN). */
function sockOpsGetSyn(c: CallCtx, optname: number, out: Uint8Array): number {
  return sockOpsGetsockoptSyn(c.run.objs.sock, c.run.syn, optname, out);
}

export function sockoptSock(c: CallCtx, arg: bigint): SockObjects | null {
  // sock_ops flavour: arg1 is the ctx; cgroup flavour: a socket pointer (ARG_PTR_TO_BTF_ID_SOCK_COMMON).
  if (c.env.progType === 'sock_ops') return c.run.objs;
  return c.host.sock(c, arg);
}
