// Writing captures: Ethernet + IPv4/IPv6 + TCP frames in pcap or pcapng, with correct checksums.
// For tests and for users who want to turn a scenario's traffic into a capture.

export interface TcpPacketSpec {
  family: 'inet' | 'inet6';
  /** Dotted IPv4 or a full/compressed IPv6 address. */
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  payload?: Uint8Array;
  /** MSS option (SYNs). */
  mss?: number;
  window?: number;
}

function ip4(a: string): number[] {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`not an IPv4 address: ${a}`);
  return p;
}

function ip6(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${a}`);
  return groups.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 255]; });
}

function sum16(bytes: ArrayLike<number>, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) s += bytes[bytes.length - 1]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

/** An Ethernet frame carrying the TCP segment. */
export function tcpFrame(p: TcpPacketSpec): Uint8Array {
  const payload = p.payload ?? new Uint8Array(0);
  const opts = p.mss !== undefined ? [2, 4, p.mss >> 8, p.mss & 255] : [];
  const tcpLen = 20 + opts.length + payload.length;
  const tcp = new Uint8Array(tcpLen);
  const w = (o: number, v: number, n: number) => { for (let i = n - 1; i >= 0; i--) { tcp[o + i] = v & 255; v = Math.floor(v / 256); } };
  w(0, p.sport, 2); w(2, p.dport, 2); w(4, p.seq >>> 0, 4); w(8, p.ack >>> 0, 4);
  tcp[12] = ((20 + opts.length) / 4) << 4;
  tcp[13] = p.flags;
  w(14, p.window ?? 65535, 2);
  tcp.set(opts, 20);
  tcp.set(payload, 20 + opts.length);
  let ip: number[];
  let pseudo: number;
  let ethType: number;
  if (p.family === 'inet') {
    const s = ip4(p.src), d = ip4(p.dst);
    const total = 20 + tcpLen;
    ip = [0x45, 0, total >> 8, total & 255, 0, 0, 0x40, 0, 64, 6, 0, 0, ...s, ...d];
    const c = fold(sum16(ip));
    ip[10] = c >> 8; ip[11] = c & 255;
    pseudo = sum16([...s, ...d, 0, 6, tcpLen >> 8, tcpLen & 255]);
    ethType = 0x0800;
  } else {
    const s = ip6(p.src), d = ip6(p.dst);
    ip = [0x60, 0, 0, 0, tcpLen >> 8, tcpLen & 255, 6, 64, ...s, ...d];
    pseudo = sum16([...s, ...d, 0, 0, tcpLen >> 8, tcpLen & 255, 0, 0, 0, 6]);
    ethType = 0x86dd;
  }
  const c = fold(sum16(tcp, pseudo));
  tcp[16] = c >> 8; tcp[17] = c & 255;
  const eth = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, ethType >> 8, ethType & 255];
  const out = new Uint8Array(14 + ip.length + tcpLen);
  out.set(eth, 0);
  out.set(ip, 14);
  out.set(tcp, 14 + ip.length);
  return out;
}

export interface FrameToWrite { tsNs: bigint; data: Uint8Array }

/** Classic pcap, little endian, µs timestamps, LINKTYPE_ETHERNET. */
export function writePcap(frames: FrameToWrite[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const hdr = new DataView(new ArrayBuffer(24));
  hdr.setUint32(0, 0xa1b2c3d4, true); hdr.setUint16(4, 2, true); hdr.setUint16(6, 4, true);
  hdr.setUint32(16, 262144, true); hdr.setUint32(20, 1, true);
  parts.push(new Uint8Array(hdr.buffer));
  for (const f of frames) {
    const r = new DataView(new ArrayBuffer(16));
    r.setUint32(0, Number(f.tsNs / 1_000_000_000n), true);
    r.setUint32(4, Number((f.tsNs % 1_000_000_000n) / 1000n), true);
    r.setUint32(8, f.data.length, true); r.setUint32(12, f.data.length, true);
    parts.push(new Uint8Array(r.buffer), f.data);
  }
  return concat(parts);
}

/** pcapng: one section, one Ethernet interface (ns resolution), Enhanced Packet Blocks. */
export function writePcapng(frames: FrameToWrite[]): Uint8Array {
  const block = (type: number, body: Uint8Array): Uint8Array => {
    const pad = (4 - (body.length % 4)) % 4;
    const len = 12 + body.length + pad;
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, true); dv.setUint32(4, len, true);
    b.set(body, 8);
    dv.setUint32(len - 4, len, true);
    return b;
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, true); shb.setUint16(4, 1, true); shb.setUint16(6, 0, true);
  shb.setInt32(8, -1, true); shb.setInt32(12, -1, true);
  const idb = new Uint8Array(8 + 8 + 4);
  const idv = new DataView(idb.buffer);
  idv.setUint16(0, 1, true); idv.setUint32(4, 262144, true);
  idv.setUint16(8, 9, true); idv.setUint16(10, 1, true); idb[12] = 9; // if_tsresol = 10^-9
  const parts = [block(0x0a0d0d0a, new Uint8Array(shb.buffer)), block(1, idb)];
  for (const f of frames) {
    const body = new Uint8Array(20 + f.data.length);
    const dv = new DataView(body.buffer);
    dv.setUint32(4, Number(f.tsNs >> 32n), true); dv.setUint32(8, Number(f.tsNs & 0xffffffffn), true);
    dv.setUint32(12, f.data.length, true); dv.setUint32(16, f.data.length, true);
    body.set(f.data, 20);
    parts.push(block(6, body));
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
