// Capture files: the classic pcap format (both byte orders, µs and ns timestamps) and pcapng
// (Section Header, Interface Description, Enhanced and Simple Packet blocks; others skipped).
// No npm parser reads both and is maintained (pcap-parser 0.2.1 reads pcap only; `pcap` binds
// libpcap), so this is ours. Returns the captured frames with their link type.

export interface CapturedFrame {
  /** LINKTYPE_* of the interface (1 Ethernet, 113 Linux SLL, 276 SLL2, 101 raw IP, ...). */
  linktype: number;
  /** Timestamp in ns since the epoch (as the capture says; 0 for Simple Packet Blocks). */
  tsNs: bigint;
  data: Uint8Array;
  /** The frame was longer on the wire than captured (snaplen). */
  truncated: boolean;
  /** 1-based number of the frame in the file (as Wireshark counts). */
  number: number;
}

export class CaptureError extends Error {
  override name = 'CaptureError';
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

export function readCapture(bytes: Uint8Array, file: string): CapturedFrame[] {
  if (bytes.length < 4) throw new CaptureError(`${file}: ${bytes.length} bytes: too short for a pcap or pcapng file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getUint32(0, false);
  if (m === PCAPNG_SHB) return readPcapng(bytes, dv, file);
  const ml = dv.getUint32(0, true);
  if (ml === PCAP_US || ml === PCAP_NS) return readPcap(bytes, dv, file, true, ml === PCAP_NS);
  if (m === PCAP_US || m === PCAP_NS) return readPcap(bytes, dv, file, false, m === PCAP_NS);
  throw new CaptureError(`${file}: not a pcap or pcapng capture (magic 0x${m.toString(16).padStart(8, '0')}); write one with tcpdump -w or Wireshark`);
}

function readPcap(bytes: Uint8Array, dv: DataView, file: string, le: boolean, ns: boolean): CapturedFrame[] {
  if (bytes.length < 24) throw new CaptureError(`${file}: pcap header cut short (${bytes.length} of 24 bytes)`);
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  const out: CapturedFrame[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) throw new CaptureError(`${file}: record ${out.length + 1} at byte ${off}: header cut short (the capture ends early)`);
    const sec = dv.getUint32(off, le), frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le), orig = dv.getUint32(off + 12, le);
    if (off + 16 + incl > bytes.length) throw new CaptureError(`${file}: record ${out.length + 1} at byte ${off}: ${incl} bytes announced, ${bytes.length - off - 16} left (the capture ends early)`);
    out.push({
      linktype, tsNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (ns ? 1n : 1000n),
      data: bytes.subarray(off + 16, off + 16 + incl), truncated: orig > incl, number: out.length + 1,
    });
    off += 16 + incl;
  }
  return out;
}

interface Iface { linktype: number; tsUnitNs: number }

function readPcapng(bytes: Uint8Array, dv: DataView, file: string): CapturedFrame[] {
  const out: CapturedFrame[] = [];
  let le = true;
  let ifaces: Iface[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) throw new CaptureError(`${file}: block at byte ${off} cut short (the capture ends early)`);
    const typeBE = dv.getUint32(off, false);
    if (typeBE === PCAPNG_SHB) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (dv.getUint32(off + 8, false) === PCAPNG_BOM) le = false;
      else throw new CaptureError(`${file}: section header at byte ${off} has no byte-order magic`);
      ifaces = [];
    }
    const type = dv.getUint32(off, le);
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > bytes.length) throw new CaptureError(`${file}: block at byte ${off} has length ${len} (${bytes.length - off} bytes left): a broken pcapng file`);
    const body = off + 8;
    if (type === 1) { // Interface Description Block
      const linktype = dv.getUint16(body, le);
      let tsUnitNs = 1000;
      for (let o = body + 8; o + 4 <= off + len - 4;) {
        const code = dv.getUint16(o, le), olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) { // if_tsresol
          const r = bytes[o + 4]!;
          tsUnitNs = r & 0x80 ? 1e9 / 2 ** (r & 0x7f) : 1e9 / 10 ** r;
        }
        o += 4 + Math.ceil(olen / 4) * 4;
      }
      ifaces.push({ linktype, tsUnitNs });
    } else if (type === 6) { // Enhanced Packet Block
      const id = dv.getUint32(body, le);
      const iface = ifaces[id];
      if (!iface) throw new CaptureError(`${file}: packet block at byte ${off} names interface ${id}, which no interface block described`);
      const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
      const caplen = dv.getUint32(body + 12, le), orig = dv.getUint32(body + 16, le);
      if (body + 20 + caplen > off + len) throw new CaptureError(`${file}: packet block at byte ${off}: ${caplen} bytes announced past the block`);
      out.push({
        linktype: iface.linktype, tsNs: tsMul(ts, iface.tsUnitNs),
        data: bytes.subarray(body + 20, body + 20 + caplen), truncated: orig > caplen, number: out.length + 1,
      });
    } else if (type === 3) { // Simple Packet Block: interface 0, no timestamp
      const iface = ifaces[0];
      if (!iface) throw new CaptureError(`${file}: simple packet block at byte ${off} before any interface block`);
      const orig = dv.getUint32(body, le);
      const caplen = Math.min(orig, len - 16);
      out.push({ linktype: iface.linktype, tsNs: 0n, data: bytes.subarray(body + 4, body + 4 + caplen), truncated: orig > caplen, number: out.length + 1 });
    }
    off += len;
  }
  return out;
}

function tsMul(ts: bigint, unitNs: number): bigint {
  return Number.isInteger(unitNs) ? ts * BigInt(unitNs) : BigInt(Math.round(Number(ts) * unitNs));
}
