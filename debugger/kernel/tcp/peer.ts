// The simulated peer: a Linux host on loopback that connects to our socket and sends the
// scenario's bytes. Not kernel code of our socket: it only builds what arrives (the SYN with its
// IP and MAC headers, segments with their TCP headers) and keeps the peer's timestamps and RTT.
import type { TcpModel } from './model';
import type { QueuedSkb } from './sock';
import type { SynHeaders } from './sockopt';
import { concat, tcpHeader, tsOptions } from './header';

/** The peer's timestamp clock starts here (assumed value). */
const PEER_TS_START = 0x00a00000;

export class SimPeer {
  /** Round-trip time of every RTT sample, µs (loopback: tens of µs; assumed). */
  rttUs = 50;
  /** Option bytes the peer appends to every segment after its own. */
  options: Uint8Array = new Uint8Array(0);
  ts = PEER_TS_START;
  /** The peer's last timestamp value (our TSecr). */
  tsLast = 0;
  /** The timestamp of a segment whose header is built only if a hook needs it. */
  lazyTs = 0;

  /** The peer's next timestamp value. */
  nextTs(): number {
    this.tsLast = this.ts;
    this.ts = (this.ts + 1) >>> 0;
    return this.tsLast;
  }
}

/** A segment from the peer as an skb with its TCP header (timestamps + the peer's extra
 *  options), skb_data_end at the end of the header (bpf_skops_init_skb(skb, tcp_hdrlen)).
 *  `lazy`: the header is built later, only if a hook looks at it (peerHeader). */
export function peerSegment(m: TcpModel, seq: number, payload: Uint8Array, flags: number, lazy = false): QueuedSkb {
  const skb = m.makeSkb(seq, payload, flags);
  const ts = m.peer.nextTs();
  if (!lazy) peerHeader(m, skb, ts);
  else m.peer.lazyTs = ts;
  return skb;
}

export function peerHeader(m: TcpModel, skb: QueuedSkb, ts: number): void {
  const s = m.sock;
  skb.header = tcpHeader({
    sport: s.remote_port, dport: s.local_port, seq: skb.seq, ack: s.snd_nxt, flags: skb.tcpFlags, window: 65535,
    options: concat(tsOptions(ts, m.tsNow), m.peer.options),
  });
  skb.dataEnd = skb.header.length;
}

/** ETH_P_IP / ETH_P_IPV6 (include/uapi/linux/if_ether.h). */
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

/** The peer's SYN as our loopback device receives it: the 14-byte Ethernet header loopback
 *  gives every packet (all-zero addresses), the IP header (IPv4: no options, DF, TTL 64, id 0;
 *  IPv6: hop limit 64, flow label 0 — the peer's real id/flow label are random: assumed), then
 *  the TCP header. `ect`: the SYN went out ECN-capable (ECT(0) in the TOS / traffic class). */
export function peerSyn(m: TcpModel, tcp: Uint8Array, ect: boolean): SynHeaders {
  const s = m.sock;
  const v6 = s.family === 'inet6';
  const mac = new Uint8Array(14);
  mac[12] = (v6 ? ETH_P_IPV6 : ETH_P_IP) >> 8;
  mac[13] = (v6 ? ETH_P_IPV6 : ETH_P_IP) & 0xff;
  const tos = ect ? 0x02 : 0;
  let network: Uint8Array;
  if (v6) {
    network = new Uint8Array(40);
    const dv = new DataView(network.buffer);
    dv.setUint32(0, (6 << 28) | (tos << 20));
    dv.setUint16(4, tcp.length);
    network[6] = 6; // IPPROTO_TCP
    network[7] = 64;
    network.set(s.remote_ip6, 8);
    network.set(s.local_ip6, 24);
  } else {
    network = new Uint8Array(20);
    const dv = new DataView(network.buffer);
    network[0] = 0x45;
    network[1] = tos;
    dv.setUint16(2, 20 + tcp.length);
    dv.setUint16(6, 0x4000); // DF
    network[8] = 64;
    network[9] = 6;
    dv.setUint32(12, s.remote_ip4 >>> 0);
    dv.setUint32(16, s.local_ip4 >>> 0);
    dv.setUint16(10, ipChecksum(network));
  }
  return { mac, network, tcp };
}

/** The IPv4 header checksum (RFC 791: one's complement of the one's complement sum). */
function ipChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += (h[i]! << 8) | h[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
