// skb dynptrs as the kernel has them (include/linux/bpf.h struct bpf_dynptr_kern: data, size,
// offset; kernel/bpf/helpers.c: the top bits of size hold the type and the read-only bit):
// bpf_dynptr_from_skb (net/core/filter.c), bpf_dynptr_read (helper, __bpf_dynptr_read),
// bpf_dynptr_slice and bpf_dynptr_size (kfuncs). The only dynptrs modelled are over the skb of
// the run (a struct_ops enqueue_rcvq's skb): its bytes are the packet region mapped for the run.
import { E2BIG, EFAULT, EINVAL } from './consts';
import { r64, u32, type CallCtx, type Impl } from './run';
import { readBytes } from './helpers/common';


const DYNPTR_TYPE_SHIFT = 28; // kernel/bpf/helpers.c
const DYNPTR_SIZE_MASK = 0xffffff;
const DYNPTR_RDONLY_BIT = 0x80000000;
const BPF_DYNPTR_TYPE_SKB = 3; // include/linux/bpf.h enum bpf_dynptr_type
const DYNPTR_BYTES = 16; // sizeof(struct bpf_dynptr)

interface Kern { data: bigint; size: number; offset: number }

function readKern(c: CallCtx, addr: bigint): Kern {
  const b = readBytes(c, addr, DYNPTR_BYTES);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { data: dv.getBigUint64(0, true), size: dv.getUint32(8, true), offset: dv.getUint32(12, true) };
}

function writeKern(c: CallCtx, addr: bigint, k: Kern): void {
  const b = new Uint8Array(DYNPTR_BYTES);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, k.data, true);
  dv.setUint32(8, k.size >>> 0, true);
  dv.setUint32(12, k.offset >>> 0, true);
  c.hc.memory.writeBytes(addr, b);
}

const typeOf = (k: Kern) => ((k.size & ~DYNPTR_RDONLY_BIT) >>> DYNPTR_TYPE_SHIFT) >>> 0;
/** __bpf_dynptr_size */
const sizeOf = (k: Kern) => k.size & DYNPTR_SIZE_MASK;
/** bpf_dynptr_check_off_len */
const offLenBad = (k: Kern, off: number, len: number) => len > sizeOf(k) || off > sizeOf(k) - len;

/** The bytes of the skb a dynptr's data names: the run's packet (skb->data onwards). */
function skbBytes(c: CallCtx, k: Kern): Uint8Array {
  if (k.data !== c.run.skbBase || !c.run.pkt) return c.hc.fault(`dynptr data 0x${k.data.toString(16)} is not the skb of this run`);
  return c.run.pkt.subarray(0, c.run.skbLen);
}

export const DYNPTR_HELPERS: Record<string, Impl> = {
  bpf_dynptr_read(c, a) {
    // __bpf_dynptr_read(dst, len, src, offset, flags)
    const len = Number(a[1]! & 0xffffffffn);
    const k = readKern(c, a[2]!);
    const off = Number(BigInt.asUintN(64, a[3]!) > 0xffffffffn ? 0xffffffffn : a[3]!);
    if (k.data === 0n || a[4] !== 0n) return r64(-EINVAL);
    if (offLenBad(k, off, len)) return r64(-E2BIG);
    if (typeOf(k) !== BPF_DYNPTR_TYPE_SKB) return c.hc.fault('only skb dynptrs are modelled');
    const bytes = skbBytes(c, k);
    const from = k.offset + off;
    // __bpf_skb_load_bytes: skb_header_pointer fails past skb->len -> -EFAULT
    if (from + len > bytes.length) return r64(-EFAULT);
    if (len) c.hc.memory.writeBytes(a[0]!, bytes.subarray(from, from + len));
    return 0n;
  },
};

export const DYNPTR_KFUNCS: Record<string, Impl> = {
  bpf_dynptr_from_skb(c, a) {
    // net/core/filter.c: flags -> bpf_dynptr_set_null + -EINVAL; else bpf_dynptr_init(ptr, skb, SKB, 0, skb->len)
    if (a[1] !== 0n) {
      writeKern(c, a[2]!, { data: 0n, size: 0, offset: 0 });
      return r64(-EINVAL);
    }
    if (a[0] !== c.run.skbBase || c.run.skbBase === 0n) return c.hc.fault(`0x${a[0]!.toString(16)} is not the skb of this run: bpf_dynptr_from_skb wants a trusted struct __sk_buff *`);
    writeKern(c, a[2]!, { data: a[0]!, size: (c.run.skbLen | (BPF_DYNPTR_TYPE_SKB << DYNPTR_TYPE_SHIFT)) >>> 0, offset: 0 });
    return 0n;
  },
  bpf_dynptr_size(c, a) {
    return BigInt(sizeOf(readKern(c, a[0]!)));
  },
  bpf_dynptr_slice(c, a) {
    // kernel/bpf/helpers.c bpf_dynptr_slice: NULL for a NULL dynptr or off/len out of range; skb:
    // skb_header_pointer into the buffer, or a direct pointer when linear (ours always is).
    const k = readKern(c, a[0]!);
    const off = u32(a[1]!);
    const len = Number(a[3]! & 0xffffffffn);
    if (k.data === 0n || offLenBad(k, off, len)) return 0n;
    if (typeOf(k) !== BPF_DYNPTR_TYPE_SKB) return c.hc.fault('only skb dynptrs are modelled');
    skbBytes(c, k);
    return c.run.packetBase + BigInt(k.offset + off);
  },
};
