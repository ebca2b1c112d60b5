// Map storage of the simulated kernel. Values are plain byte arrays shared by every program of
// the object; each VM maps a value into its memory when a helper hands out a pointer to it.
// Semantics of kernel/bpf/hashtab.c htab_map_update_elem/check_flags and kernel/bpf/arraymap.c
// array_map_update_elem/array_map_delete_elem; per-cpu maps behave as one CPU (the simulation
// has one).
import type { MapDef } from '../../object/types';
import { BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, MapType } from './consts';

export interface MapEntry { key: Uint8Array; value: Uint8Array }

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export type MapKind = 'array' | 'hash' | 'global' | 'sk_storage' | 'cgrp_storage' | 'perf_event_array' | 'sockmap' | 'unsupported';

/** BPF_MAP_TYPE_CGRP_STORAGE (include/uapi/linux/bpf.h), not in consts.MapType. */
const CGRP_STORAGE = 32;

export function mapKind(def: MapDef): MapKind {
  if (def.initial !== undefined || def.name.startsWith('.')) return 'global';
  switch (def.type) {
    case MapType.ARRAY:
    case MapType.PERCPU_ARRAY:
      return 'array';
    case MapType.HASH:
    case MapType.PERCPU_HASH:
    case MapType.LRU_HASH:
    case MapType.LRU_PERCPU_HASH:
      return 'hash';
    case MapType.SK_STORAGE:
      return 'sk_storage';
    case CGRP_STORAGE:
      return 'cgrp_storage';
    case MapType.PERF_EVENT_ARRAY:
      return 'perf_event_array';
    case MapType.SOCKMAP:
    case MapType.SOCKHASH:
      return 'sockmap';
    default:
      return 'unsupported';
  }
}

/** BpfMap.checkpoint(): per container, the value objects with a copy of their bytes. */
export interface MapCheckpoint {
  slots: [number, Uint8Array, Uint8Array][];
  table: [string, MapEntry, Uint8Array][];
  storage: [number, Uint8Array, Uint8Array][];
  perf: number;
}

export class BpfMap {
  readonly kind: MapKind;
  /** array/global: index -> value (created on first touch; global: the section bytes). */
  private readonly slots = new Map<number, Uint8Array>();
  /** hash/sockmap: hex(key) -> entry, in insertion order. */
  private readonly table = new Map<string, MapEntry>();
  /** sk_storage: socket id -> value; cgrp_storage: cgroup id -> value. */
  readonly storage = new Map<number, Uint8Array>();
  /** perf_event_array: what bpf_perf_event_output wrote. */
  readonly perfOutput: { index: number; data: Uint8Array }[] = [];

  constructor(readonly def: MapDef, readonly index: number) {
    this.kind = mapKind(def);
    if (this.kind === 'global') {
      const b = new Uint8Array(Math.max(def.valueSize, def.initial?.length ?? 0));
      if (def.initial) b.set(def.initial);
      this.slots.set(0, b);
    }
  }

  /** The backing bytes of a global-data map (.data/.bss/.rodata). */
  globalBytes(): Uint8Array {
    return this.slots.get(0)!;
  }

  private arrayIndex(key: Uint8Array): number {
    return (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
  }

  private slot(i: number): Uint8Array {
    let v = this.slots.get(i);
    if (!v) {
      v = new Uint8Array(this.def.valueSize);
      this.slots.set(i, v);
    }
    return v;
  }

  /** bpf_map_lookup_elem: the value bytes, or null. */
  lookup(key: Uint8Array): Uint8Array | null {
    if (this.kind === 'array' || this.kind === 'global') {
      const i = this.arrayIndex(key);
      return i < Math.max(1, this.def.maxEntries) && (this.kind === 'array' || i === 0) ? this.slot(i) : null;
    }
    if (this.kind === 'hash') return this.table.get(hex(key))?.value ?? null;
    return null;
  }

  /** bpf_map_update_elem: 0 or a negative errno. */
  update(key: Uint8Array, value: Uint8Array, flags: bigint): number {
    const f = flags & ~BigInt(BPF_F_LOCK);
    if (f > BigInt(BPF_EXIST)) return -EINVAL;
    if (this.kind === 'array' || this.kind === 'global') {
      const i = this.arrayIndex(key);
      if (i >= Math.max(1, this.def.maxEntries)) return -E2BIG;
      if (f & BigInt(BPF_NOEXIST)) return -EEXIST;
      if (flags & BigInt(BPF_F_LOCK)) return -EINVAL; // no bpf_spin_lock in our values
      this.slot(i).set(value.subarray(0, this.def.valueSize));
      return 0;
    }
    if (this.kind === 'hash') {
      if (flags & BigInt(BPF_F_LOCK)) return -EINVAL;
      const k = hex(key);
      const old = this.table.get(k);
      if (old && f === BigInt(BPF_NOEXIST)) return -EEXIST;
      if (!old && f === BigInt(BPF_EXIST)) return -ENOENT;
      if (old) {
        old.value.set(value.subarray(0, this.def.valueSize));
        return 0;
      }
      if (this.table.size >= this.def.maxEntries) {
        const lru = this.def.type === MapType.LRU_HASH || this.def.type === MapType.LRU_PERCPU_HASH;
        if (!lru) return -E2BIG;
        // LRU maps evict instead of failing; we evict the oldest insertion (approximation).
        const first = this.table.keys().next().value as string;
        this.table.delete(first);
      }
      this.table.set(k, { key: key.slice(0, this.def.keySize), value: value.slice(0, this.def.valueSize) });
      return 0;
    }
    return -EINVAL;
  }

  /** bpf_map_delete_elem: 0 or a negative errno (arrays: -EINVAL, arraymap.c). */
  delete(key: Uint8Array): { ret: number; removed?: Uint8Array } {
    if (this.kind === 'array' || this.kind === 'global') return { ret: -EINVAL };
    if (this.kind === 'hash' || this.kind === 'sockmap') {
      const k = hex(key);
      const old = this.table.get(k);
      // net/core/sock_map.c sock_map_delete_elem: an index past max_entries or an empty slot is
      // -EINVAL (__sock_map_delete); sock_hash_delete_elem: a missing key -ENOENT
      if (!old) return { ret: this.def.type === MapType.SOCKMAP ? -EINVAL : -ENOENT };
      this.table.delete(k);
      return { ret: 0, removed: old.value };
    }
    return { ret: -EINVAL };
  }

  /** The elements bpf_for_each_map_elem visits, made as it goes: an array's indexes in order
   *  (kernel/bpf/arraymap.c bpf_for_each_array_elem: every index below max_entries), a global-data
   *  map's one value, a hash map's entries in insertion order (the kernel walks its buckets: the
   *  order is ours, assumed). Live: an entry deleted before it is reached is skipped. */
  *liveEntries(): Generator<MapEntry> {
    if (this.kind === 'global') {
      yield { key: new Uint8Array(4), value: this.slot(0) };
      return;
    }
    if (this.kind === 'array') {
      for (let i = 0; i < this.def.maxEntries; i++) {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, i, true);
        yield { key, value: this.slot(i) };
      }
      return;
    }
    if (this.kind === 'hash') for (const e of this.table.values()) yield e;
  }

  /** SOCKMAP: whether the key (a u32 index) is below max_entries (sock_map_update_common: -E2BIG). */
  sockmapIndexOk(key: Uint8Array): boolean {
    return this.arrayIndex(key) < this.def.maxEntries;
  }

  /** sockmap/sockhash: the socket id under the key with the checks of net/core/sock_map.c
   *  sock_map_update_common/sock_hash_update_common after the link: BPF_NOEXIST on a taken key
   *  -EEXIST, BPF_EXIST on a free one -ENOENT, a new key in a full sockhash -E2BIG
   *  (sock_hash_alloc_elem). 0 or a negative errno. */
  sockmapUpdate(key: Uint8Array, sockId: number, flags: number): number {
    const old = this.table.has(hex(key));
    if (old && flags === BPF_NOEXIST) return -EEXIST;
    if (!old && flags === BPF_EXIST) return -ENOENT;
    if (!old && this.def.type === MapType.SOCKHASH && this.table.size >= this.def.maxEntries) return -E2BIG;
    this.sockmapSet(key, sockId);
    return 0;
  }

  /** sockmap/sockhash: remember the socket id under the key. */
  sockmapSet(key: Uint8Array, sockId: number): void {
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, sockId, true);
    this.table.set(hex(key), { key: key.slice(), value: v });
  }

  /** The contents between steps, for the debugger's checkpoints: the value objects are kept (a
   *  value keeps its guest address across restores) with a copy of their bytes. */
  checkpoint(): MapCheckpoint {
    const copy = <K>(m: Map<K, Uint8Array>) => [...m].map(([k, v]): [K, Uint8Array, Uint8Array] => [k, v, v.slice()]);
    return {
      slots: copy(this.slots),
      table: [...this.table].map(([k, e]): [string, MapEntry, Uint8Array] => [k, e, e.value.slice()]),
      storage: copy(this.storage),
      perf: this.perfOutput.length,
    };
  }

  /** Put the contents back to `cp` (taken from this map); the checkpoint stays valid. */
  restore(cp: MapCheckpoint): void {
    this.slots.clear();
    for (const [k, v, b] of cp.slots) { v.set(b); this.slots.set(k, v); }
    this.table.clear();
    for (const [k, e, b] of cp.table) { e.value.set(b); this.table.set(k, e); }
    this.storage.clear();
    for (const [k, v, b] of cp.storage) { v.set(b); this.storage.set(k, v); }
    this.perfOutput.length = Math.min(this.perfOutput.length, cp.perf);
  }

  /** Decoded entries for the debugger: arrays list every index up to 1024 (zeros where untouched),
   *  hashes their entries, sk_storage one entry per socket (key = socket id as u32 LE). */
  entries(): MapEntry[] {
    const u32 = (n: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, n, true);
      return b;
    };
    if (this.kind === 'global') return [{ key: u32(0), value: this.slot(0) }];
    if (this.kind === 'array') {
      const n = this.def.maxEntries;
      const idx = n <= 1024 ? Array.from({ length: n }, (_, i) => i) : [...this.slots.keys()].sort((a, b) => a - b);
      return idx.map((i) => ({ key: u32(i), value: this.slots.get(i) ?? new Uint8Array(this.def.valueSize) }));
    }
    if (this.kind === 'hash' || this.kind === 'sockmap') return [...this.table.values()];
    if (this.kind === 'sk_storage') return [...this.storage.entries()].map(([id, v]) => ({ key: u32(id), value: v }));
    if (this.kind === 'perf_event_array') return this.perfOutput.map((o) => ({ key: u32(o.index), value: o.data }));
    return [];
  }
}
