// Packet and TCP header option helpers of sock_ops (net/core/filter.c bpf_sock_ops_load_hdr_opt,
// bpf_sock_ops_store_hdr_opt, bpf_sock_ops_reserve_hdr_opt, sk_skb/sock_ops bpf_skb_load_bytes).
import { EEXIST, EFAULT, EINVAL, ENOMSG, ENOSPC, EPERM, INT_MAX, TCP_BPF_SYN } from '../consts';
import { sockOpsGetSyn } from '../sockopt';
import { r64, u32, type CallCtx, type Impl } from '../run';
import { readBytes, zeroFill } from './common';

export const HDROPT_HELPERS: Record<string, Impl> = {
  bpf_skb_load_bytes(c, a) {
    // Sock_ops flavour at RCVQ_CB (seed): offsets from the first payload byte; -EFAULT and a
    // zero-filled `to` when skb is NULL (recvmsg path) or the range is outside the payload.
    const off = u32(a[1]!);
    const len = u32(a[3]!);
    const skb = c.run.skb;
    const pkt = c.run.pkt;
    if (!skb || !pkt || off > INT_MAX || off + len > c.run.skbLen) {
      zeroFill(c, a[2]!, len);
      return r64(-EFAULT);
    }
    c.hc.memory.writeBytes(a[2]!, pkt.subarray(off, off + len));
    return 0n;
  },
  bpf_load_hdr_opt(c, a) {
    // net/core/filter.c bpf_sock_ops_load_hdr_opt: argument checks, then the peer's SYN
    // (BPF_LOAD_HDR_OPT_TCP_SYN: bpf_sock_ops_get_syn: syn_skb at the SYN-ACK ops, else the
    // saved SYN of TCP_SAVE_SYN, else -ENOENT) or the current skb's options from
    // skb->data + sizeof(struct tcphdr) to skb_data_end; bpf_search_tcp_opt; the option copied,
    // -ENOSPC when it is longer than the buffer (the first len bytes copied). The -EPERM for
    // HDR_OPT_LEN_CB or no skb is the table's rule, applied after loadHdrOptArgs.
    const bad = loadHdrOptArgs(c, a);
    if (bad !== undefined) return bad;
    const len = u32(a[2]!);
    const search = readBytes(c, a[1]!, Math.min(len, 6));
    const magic = search[0] === 254 || search[0] === 253 ? search.subarray(2, search[1]!) : null;
    let opts: Uint8Array;
    if (a[3]! & 1n) {
      const syn = sockOpsGetSyn(c.run.objs.sock, c.run.syn, TCP_BPF_SYN);
      if (typeof syn === 'number') return r64(syn);
      opts = syn.subarray(20);
    } else {
      const pkt = c.run.pkt;
      if (!pkt || !c.run.skb) return r64(-EPERM); // the table's rule covers this; kept for direct calls
      opts = pkt.subarray(Math.min(20, c.run.dataEnd), c.run.dataEnd);
    }
    const r = searchTcpOpt(opts, search[0]!, magic);
    if (r.at < 0) return r64(r.err);
    const optLen = opts[r.at + 1]!;
    const copy = Math.min(optLen, len);
    c.hc.memory.writeBytes(a[1]!, opts.subarray(r.at, r.at + copy));
    return optLen > len ? r64(-ENOSPC) : BigInt(optLen);
  },
  bpf_store_hdr_opt(c, a) {
    // net/core/filter.c bpf_sock_ops_store_hdr_opt after the op check: arguments, the space
    // left, a duplicate search over the options written so far (kind, and 2 bytes of magic for
    // the experimental kinds), -ENOSPC after an EOL, then the option appended at skb_data_end.
    const len = u32(a[2]!);
    if (len < 2 || a[3]! !== 0n) return r64(-EINVAL);
    const from = readBytes(c, a[1]!, len);
    const kind = from[0]!;
    const klen = from[1]!;
    if (klen > len || kind === 0 || kind === 1) return r64(-EINVAL);
    if (klen > c.run.remainingOptLen) return r64(-ENOSPC);
    let magic: Uint8Array | null = null;
    if (kind === 254 || kind === 253) {
      if (klen < 4) return r64(-EINVAL);
      magic = from.subarray(2, 4);
    }
    const pkt = c.run.pkt;
    if (!pkt) return r64(-EPERM); // WRITE_HDR_OPT_CB always has its skb (bpf_skops_write_hdr_opt)
    const r = searchTcpOpt(pkt.subarray(Math.min(20, c.run.dataEnd), c.run.dataEnd), kind, magic);
    if (r.at >= 0) return r64(-EEXIST);
    if (r.err !== -ENOMSG) return r64(r.err);
    if (r.eol) return r64(-ENOSPC);
    if (c.run.dataEnd + klen > pkt.length) return r64(-ENOSPC); // the model always leaves the room it reported
    pkt.set(from.subarray(0, klen), c.run.dataEnd); // pkt is the mapped packet region: the guest sees it
    c.run.remainingOptLen -= klen;
    c.run.dataEnd += klen;
    c.run.written += klen;
    return 0n;
  },
  bpf_reserve_hdr_opt(c, a) {
    // net/core/filter.c bpf_sock_ops_reserve_hdr_opt after the op check: flags, len >= 2, then
    // the room left by the kernel's own options (remaining_opt_len, from the model).
    const len = u32(a[1]!);
    if (a[2]! !== 0n || len < 2) return r64(-EINVAL);
    if (len > c.run.remainingOptLen) return r64(-ENOSPC);
    c.run.remainingOptLen -= len;
    return 0n;
  },
};


/** net/core/filter.c bpf_sock_ops_load_hdr_opt before it looks at the op or the skb: -EINVAL
 *  for len < 2, unknown flags or a bad search in searchby_res; undefined when they pass. */
export function loadHdrOptArgs(c: CallCtx, a: bigint[]): bigint | undefined {
  const len = u32(a[2]!);
  const flags = a[3]!;
  if (len < 2 || flags & ~1n) return r64(-EINVAL);
  const s = readBytes(c, a[1]!, 2);
  const kind = s[0]!;
  const slen = s[1]!;
  if (slen > len || kind === 1 || kind === 0) return r64(-EINVAL); // TCPOPT_NOP, TCPOPT_EOL
  if (kind === 254 || kind === 253) {
    if (slen !== 4 && slen !== 6) return r64(-EINVAL); // TCPOPT_EXP: 16- or 32-bit magic
  } else if (slen) return r64(-EINVAL);
  return undefined;
}

/** net/core/filter.c bpf_search_tcp_opt(): walk the options (NOP skipped, EOL ends with
 *  -ENOMSG and eol set, a malformed length -EFAULT); match the kind and, with `magic`, the
 *  bytes after kind/len (-ENOMSG when the option is too short for it). */
export function searchTcpOpt(opts: Uint8Array, kind: number, magic: Uint8Array | null): { at: number; err: number; eol: boolean } {
  let i = 0;
  while (i < opts.length) {
    const k = opts[i]!;
    if (k === 0) return { at: -1, err: -ENOMSG, eol: true };
    if (k === 1) { i++; continue; }
    const left = opts.length - i;
    if (left < 2 || left < opts[i + 1]! || opts[i + 1]! < 2) return { at: -1, err: -EFAULT, eol: false };
    const klen = opts[i + 1]!;
    if (k === kind) {
      if (!magic || magic.length === 0) return { at: i, err: 0, eol: false };
      if (magic.length > klen - 2) return { at: -1, err: -ENOMSG, eol: false };
      let same = true;
      for (let j = 0; j < magic.length; j++) if (opts[i + 2 + j] !== magic[j]) { same = false; break; }
      if (same) return { at: i, err: 0, eol: false };
    }
    i += klen;
  }
  return { at: -1, err: -ENOMSG, eol: false };
}

