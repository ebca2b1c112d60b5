// Guest memory: a table of regions, each at its own 4 GiB-aligned guest base, so that the
// interpreter finds a region from the high 32 bits of an address with one array index.
import type { FaultKind, MemoryApi, Region, RegionSpec } from './api';

/** Thrown by host-side accessors (and by helpers) for a bad guest address; the VM turns it into a Fault. */
export class GuestFaultError extends Error {
  constructor(message: string, readonly kind: FaultKind = 'bad-access', readonly addr?: bigint) {
    super(message);
    this.name = 'GuestFaultError';
  }
}

/** High word of the first region's base; region k (k >= 1) has base (HI_BASE + k) << 32. */
export const HI_BASE = 0xff00;
const MAX_REGION = 0xffffffff; // bytes; offsets are the low 32 bits

/** What the interpreter keeps per region (a Region plus its fast-path view). */
export interface RegionSlot extends Region {
  readonly hi: number; // high word of base
  readonly len: number;
  readonly dv: DataView;
  /** No check/onWrite hook: plain loads and stores skip the slow path. */
  readonly plain: boolean;
  /** plain and writable: plain stores skip the slow path. */
  readonly plainW: boolean;
}

export const fmtAddr = (a: bigint) => '0x' + a.toString(16);

export class Memory implements MemoryApi {
  /** slots[hi - HI_BASE]; never reused after unmap, so a stale pointer faults. */
  readonly slots: (RegionSlot | undefined)[] = [undefined];

  map(spec: RegionSpec): bigint {
    if (spec.bytes.length > MAX_REGION) throw new RangeError(`region ${spec.name}: ${spec.bytes.length} bytes is larger than 4 GiB`);
    const idx = this.slots.length;
    const hi = HI_BASE + idx;
    const base = BigInt(hi) << 32n;
    // one object shape for every region (the same properties in the same order), so the
    // interpreter's region accesses stay monomorphic whatever the callers' spec objects look like
    const slot: RegionSlot = {
      name: spec.name,
      kind: spec.kind,
      bytes: spec.bytes,
      writable: spec.writable,
      check: spec.check,
      onWrite: spec.onWrite,
      base,
      hi,
      len: spec.bytes.length,
      dv: new DataView(spec.bytes.buffer, spec.bytes.byteOffset, spec.bytes.byteLength),
      plain: !spec.check && !spec.onWrite,
      plainW: !spec.check && !spec.onWrite && spec.writable,
    };
    for (const k of Object.keys(spec)) if (!(k in slot)) (slot as unknown as Record<string, unknown>)[k] = (spec as unknown as Record<string, unknown>)[k];
    this.slots.push(slot);
    return base;
  }

  unmap(base: bigint): void {
    const idx = Number(base >> 32n) - HI_BASE;
    if (idx > 0 && idx < this.slots.length) this.slots[idx] = undefined;
  }

  slotAt(addr: bigint): RegionSlot | undefined {
    const hi = Number((addr >> 32n) & 0xffffffffn);
    return this.slots[hi - HI_BASE];
  }

  find(addr: bigint, len: number): { region: Region; offset: number } | null {
    if (addr < 0n || addr >= 1n << 64n) return null;
    const r = this.slotAt(addr);
    if (!r) return null;
    const offset = Number(addr & 0xffffffffn);
    if (len < 0 || offset + len > r.len) return null;
    return { region: r, offset };
  }

  regions(): Region[] {
    return this.slots.filter((s): s is RegionSlot => s !== undefined);
  }

  private locate(addr: bigint, len: number, write: boolean): { r: RegionSlot; off: number } {
    const f = this.find(addr, len);
    if (!f) throw new GuestFaultError(`${write ? 'store' : 'load'} of ${len} bytes at ${fmtAddr(addr)} is outside any region`, 'bad-access', addr);
    const r = f.region as RegionSlot;
    if (write && !r.writable) throw new GuestFaultError(`store of ${len} bytes into read-only region ${r.name} at ${fmtAddr(addr)}`, 'bad-access', addr);
    return { r, off: f.offset };
  }

  read(addr: bigint, size: 1 | 2 | 4 | 8): bigint {
    const { r, off } = this.locate(addr, size, false);
    switch (size) {
      case 1: return BigInt(r.dv.getUint8(off));
      case 2: return BigInt(r.dv.getUint16(off, true));
      case 4: return BigInt(r.dv.getUint32(off, true));
      default: return r.dv.getBigUint64(off, true);
    }
  }

  write(addr: bigint, size: 1 | 2 | 4 | 8, value: bigint): void {
    const { r, off } = this.locate(addr, size, true);
    const v = BigInt.asUintN(64, value);
    switch (size) {
      case 1: r.dv.setUint8(off, Number(v & 0xffn)); break;
      case 2: r.dv.setUint16(off, Number(v & 0xffffn), true); break;
      case 4: r.dv.setUint32(off, Number(v & 0xffffffffn), true); break;
      default: r.dv.setBigUint64(off, v, true);
    }
    r.onWrite?.(off, size);
  }

  readBytes(addr: bigint, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const { r, off } = this.locate(addr, len, false);
    return r.bytes.slice(off, off + len);
  }

  writeBytes(addr: bigint, data: Uint8Array): void {
    if (data.length === 0) return;
    const { r, off } = this.locate(addr, data.length, true);
    r.bytes.set(data, off);
    r.onWrite?.(off, data.length);
  }

  readCString(addr: bigint, max: number): string {
    const r = this.slotAt(addr);
    const off = Number(addr & 0xffffffffn);
    if (!r || off >= r.len) throw new GuestFaultError(`string read at ${fmtAddr(addr)} is outside any region`, 'bad-access', addr);
    const end = Math.min(r.len, off + max);
    let i = off;
    while (i < end && r.bytes[i] !== 0) i++;
    return new TextDecoder().decode(r.bytes.subarray(off, i));
  }
}
