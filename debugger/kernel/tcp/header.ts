// TCP headers of the segments the model receives and sends, as bytes, for the ops where the
// kernel's skb->data still points at the TCP header (PASSIVE_ESTABLISHED_CB, PARSE_HDR_OPT_CB,
// WRITE_HDR_OPT_CB) and for bpf_load_hdr_opt/bpf_store_hdr_opt. Option layouts follow
// net/ipv4/tcp_output.c tcp_options_write() (Linux 7.1.5): MSS first; timestamps as
// SACK_PERM+TS when SACK is advertised, else NOP NOP TS; window scale as NOP WS; SACK blocks as
// NOP NOP SACK. The peer is a Linux peer on loopback: its SYN carries MSS, SACK_PERM, timestamps
// and window scale; its other segments carry the timestamp option.

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
/** include/net/tcp.h MAX_TCP_OPTION_SPACE. */
export const MAX_TCP_OPTION_SPACE = 40;
/** include/net/tcp.h TCPOLEN_TSTAMP_ALIGNED. */
export const TCPOLEN_TSTAMP_ALIGNED = 12;
/** include/uapi/linux/bpf.h BPF_WRITE_HDR_TCP_CURRENT_MSS: args[0] of HDR_OPT_LEN_CB from
 *  tcp_current_mss() (no skb). */
export const BPF_WRITE_HDR_TCP_CURRENT_MSS = 1;

export interface TcpHeaderSpec {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCPHDR_* flags (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ECE 0x40, CWR 0x80). */
  flags: number;
  window: number;
  /** Option bytes, a multiple of 4 (at most 40). */
  options: Uint8Array;
}

/** struct tcphdr + options, network byte order; checksum 0 (not modeled). */
export function tcpHeader(h: TcpHeaderSpec): Uint8Array {
  const len = 20 + h.options.length;
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, h.sport & 0xffff);
  dv.setUint16(2, h.dport & 0xffff);
  dv.setUint32(4, h.seq >>> 0);
  dv.setUint32(8, h.ack >>> 0);
  b[12] = (len >> 2) << 4; // doff
  b[13] = h.flags & 0xff;
  dv.setUint16(14, Math.min(h.window, 0xffff));
  b.set(h.options, 20);
  return b;
}

function u32be(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** NOP NOP TIMESTAMP(10) tsval tsecr: the options of an established segment. */
export function tsOptions(tsval: number, tsecr: number, sackBlocks: [number, number][] = []): Uint8Array {
  const b = new Uint8Array(TCPOLEN_TSTAMP_ALIGNED + (sackBlocks.length ? 4 + 8 * sackBlocks.length : 0));
  b[0] = TCPOPT_NOP; b[1] = TCPOPT_NOP; b[2] = TCPOPT_TIMESTAMP; b[3] = 10;
  u32be(b, 4, tsval);
  u32be(b, 8, tsecr);
  if (sackBlocks.length) {
    b[12] = TCPOPT_NOP; b[13] = TCPOPT_NOP; b[14] = TCPOPT_SACK; b[15] = 2 + 8 * sackBlocks.length;
    sackBlocks.forEach(([l, r], i) => { u32be(b, 16 + 8 * i, l); u32be(b, 20 + 8 * i, r); });
  }
  return b;
}

/** SYN / SYN-ACK options: MSS, SACK_PERM + TIMESTAMP, NOP WINDOW (20 bytes). */
export function synOptions(mss: number, tsval: number, tsecr: number, wscale: number): Uint8Array {
  const b = new Uint8Array(20);
  b[0] = TCPOPT_MSS; b[1] = 4; b[2] = (mss >> 8) & 0xff; b[3] = mss & 0xff;
  b[4] = TCPOPT_SACK_PERM; b[5] = 2; b[6] = TCPOPT_TIMESTAMP; b[7] = 10;
  u32be(b, 8, tsval);
  u32be(b, 12, tsecr);
  b[16] = TCPOPT_NOP; b[17] = TCPOPT_WINDOW; b[18] = 3; b[19] = wscale;
  return b;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (!b.length) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** net/ipv4/tcp_input.c tcp_parse_options(): whether an option kind is unknown to the kernel
 *  (rx_opt.saw_unknown, which PARSE_UNKNOWN_HDR_OPT_CB_FLAG looks at). Known: MSS, WINDOW,
 *  SACK_PERM, SACK, TIMESTAMP, MD5SIG (19), AO (29), MPTCP (30), FASTOPEN (34), ACCECN0/1
 *  (172/174), EXP (254) only with the TFO magic 0xF989. Malformed lists stop the walk. */
export function sawUnknown(opts: Uint8Array): boolean {
  const known = new Set([2, 3, 4, 5, 8, 19, 29, 30, 34, 172, 174]);
  let i = 0;
  while (i < opts.length) {
    const k = opts[i]!;
    if (k === TCPOPT_EOL) return false;
    if (k === TCPOPT_NOP) { i++; continue; }
    const len = opts[i + 1];
    if (len === undefined || len < 2 || len > opts.length - i) return false;
    if (k === 254) {
      if (!(len >= 4 && opts[i + 2] === 0xf9 && opts[i + 3] === 0x89)) return true;
    } else if (!known.has(k)) return true;
    i += len;
  }
  return false;
}
