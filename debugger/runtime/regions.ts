// Guest memory as copied at a stop: reads within the copied regions, the region of an address.
import type { Region } from '../vm/api';

export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Read from copied regions; throws with the address when it is outside them. */
export function readRegions(regions: Region[], addr: bigint, len: number): Uint8Array {
  for (const r of regions) {
    if (addr >= r.base && addr + BigInt(len) <= r.base + BigInt(r.bytes.length)) {
      const off = Number(addr - r.base);
      return r.bytes.slice(off, off + len);
    }
  }
  throw new Error(`0x${addr.toString(16)} (${len} bytes) is not inside any guest region`);
}

export function regionOf(regions: Region[], addr: bigint): { region: Region; offset: number } | null {
  for (const r of regions) if (addr >= r.base && addr < r.base + BigInt(r.bytes.length)) return { region: r, offset: Number(addr - r.base) };
  return null;
}

