// Link layer -> IPv4/IPv6 -> TCP: the segments of a capture, with addresses as text.
import type { CapturedFrame } from './read';

export interface TcpSegmentCap {
  number: number;
  tsNs: bigint;
  family: 'inet' | 'inet6';
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). */
  flags: number;
  /** MSS option of a SYN, if any. */
  mss?: number;
  payload: Uint8Array;
  /** The payload is shorter than the IP length says (snaplen): it cannot be replayed. */
  truncated: boolean;
}

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04;

export interface DecodeResult {
  segments: TcpSegmentCap[];
  /** Frames skipped and why (non-IP, non-TCP, fragments, unknown link types), counted. */
  skipped: Map<string, number>;
}

export function decodeTcp(frames: CapturedFrame[]): DecodeResult {
  const segments: TcpSegmentCap[] = [];
  const skipped = new Map<string, number>();
  const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1);
  for (const f of frames) {
    const ip = linkPayload(f.linktype, f.data);
    if (!ip) { skip(`link type ${f.linktype} or a non-IP frame`); continue; }
    const s = decodeIp(ip, f, skip);
    if (s) segments.push(s);
  }
  return { segments, skipped };
}

/** The IP packet inside a frame, or null. */
function linkPayload(linktype: number, d: Uint8Array): Uint8Array | null {
  const be16 = (o: number) => (d[o]! << 8) | d[o + 1]!;
  const byType = (type: number, at: number): Uint8Array | null => {
    while (type === 0x8100 || type === 0x88a8) { // VLAN tags
      if (d.length < at + 4) return null;
      type = be16(at + 2);
      at += 4;
    }
    return type === 0x0800 || type === 0x86dd ? d.subarray(at) : null;
  };
  switch (linktype) {
    case 1: return d.length >= 14 ? byType(be16(12), 14) : null; // Ethernet
    case 113: return d.length >= 16 ? byType(be16(14), 16) : null; // Linux cooked (SLL)
    case 276: return d.length >= 20 ? byType(be16(0), 20) : null; // SLL2
    case 0: case 109: { // BSD loopback / OpenBSD loopback: 4-byte address family
      if (d.length < 4) return null;
      const fam = linktype === 0 ? (d[0]! | (d[1]! << 8)) || (d[3]! | (d[2]! << 8)) : d[3]!;
      return fam === 2 || fam === 24 || fam === 28 || fam === 30 ? d.subarray(4) : null;
    }
    case 12: case 14: case 101: case 228: case 229: return d; // raw IP
    default: return null;
  }
}

function hex16(d: Uint8Array, o: number): string {
  return ((d[o]! << 8) | d[o + 1]!).toString(16);
}

function ip6Text(d: Uint8Array, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(hex16(d, o + 2 * i));
  // compress the longest run of zeros
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (parts[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return parts.slice(0, best).join(':') + '::' + parts.slice(best + bestLen).join(':');
}

function decodeIp(p: Uint8Array, f: CapturedFrame, skip: (why: string) => void): TcpSegmentCap | null {
  if (p.length < 1) { skip('empty IP packet'); return null; }
  const v = p[0]! >> 4;
  let proto: number, l4: number, end: number, src: string, dst: string, family: 'inet' | 'inet6';
  if (v === 4) {
    if (p.length < 20) { skip('IPv4 header cut short'); return null; }
    const ihl = (p[0]! & 15) * 4;
    const total = (p[2]! << 8) | p[3]!;
    const frag = ((p[6]! << 8) | p[7]!) & 0x3fff;
    if (frag) { skip('IPv4 fragments (not reassembled)'); return null; }
    proto = p[9]!;
    l4 = ihl;
    end = total || p.length;
    src = `${p[12]}.${p[13]}.${p[14]}.${p[15]}`;
    dst = `${p[16]}.${p[17]}.${p[18]}.${p[19]}`;
    family = 'inet';
  } else if (v === 6) {
    if (p.length < 40) { skip('IPv6 header cut short'); return null; }
    proto = p[6]!;
    l4 = 40;
    end = 40 + ((p[4]! << 8) | p[5]!);
    while (proto === 0 || proto === 43 || proto === 60) { // hop-by-hop, routing, destination options
      if (p.length < l4 + 2) { skip('IPv6 extension header cut short'); return null; }
      proto = p[l4]!;
      l4 += (p[l4 + 1]! + 1) * 8;
    }
    if (proto === 44) { skip('IPv6 fragments (not reassembled)'); return null; }
    src = ip6Text(p, 8);
    dst = ip6Text(p, 24);
    family = 'inet6';
  } else { skip(`IP version ${v}`); return null; }
  if (proto !== 6) { skip('not TCP'); return null; }
  if (p.length < l4 + 20) { skip('TCP header cut short'); return null; }
  const t = l4;
  const u32 = (o: number) => ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
  const doff = (p[t + 12]! >> 4) * 4;
  const flags = p[t + 13]!;
  let mss: number | undefined;
  for (let o = t + 20; o < t + doff && o < p.length;) {
    const kind = p[o]!;
    if (kind === 0) break;
    if (kind === 1) { o++; continue; }
    const len = p[o + 1] ?? 0;
    if (len < 2) break;
    if (kind === 2 && len === 4 && o + 4 <= p.length) mss = (p[o + 2]! << 8) | p[o + 3]!;
    o += len;
  }
  const payloadEnd = Math.min(end, p.length);
  const seg: TcpSegmentCap = {
    number: f.number, tsNs: f.tsNs, family, src, dst,
    sport: (p[t]! << 8) | p[t + 1]!, dport: (p[t + 2]! << 8) | p[t + 3]!,
    seq: u32(t + 4), ack: u32(t + 8), flags,
    payload: p.subarray(Math.min(t + doff, payloadEnd), payloadEnd),
    truncated: end > p.length || f.truncated && end > p.length,
  };
  if (mss !== undefined) seg.mss = mss;
  return seg;
}
