// Map helpers: lookups and updates (kernel/bpf/helpers.c, kernel/bpf/hashtab.c, arraymap.c),
// bpf_for_each_map_elem, socket maps (net/core/sock_map.c) and socket storage
// (net/core/bpf_sk_storage.c).
import { BPF_EXIST, BPF_SK_STORAGE_GET_F_CREATE, E2BIG, EBUSY, EINVAL, ENOENT, MapType } from '../consts';
import { forEachMapElem, type ElemPtrs } from '../callbacks';
import { r64, type CallCtx, type Impl } from '../run';
import { readBytes } from './common';

/** BPF_SK_STORAGE_GET_F_CREATE as a bigint (made once: compared on every call). */
const F_CREATE = BigInt(BPF_SK_STORAGE_GET_F_CREATE);

export const MAP_HELPERS: Record<string, Impl> = {
  bpf_map_lookup_elem(c, a) {
    const m = c.host.map(c, a[0]!);
    if (m.kind === 'unsupported' || m.kind === 'perf_event_array') return c.hc.fault(`bpf_map_lookup_elem on ${m.def.typeName} map ${m.def.name} is not modeled`);
    const v = m.lookup(readBytes(c, a[1]!, m.def.keySize));
    return v ? c.host.valuePtr(c, m, v) : 0n;
  },
  bpf_map_update_elem(c, a) {
    const m = c.host.map(c, a[0]!);
    if (m.kind === 'unsupported') return c.hc.fault(`bpf_map_update_elem on ${m.def.typeName} map ${m.def.name} is not modeled`);
    return r64(m.update(readBytes(c, a[1]!, m.def.keySize), readBytes(c, a[2]!, m.def.valueSize), a[3]!));
  },
  bpf_map_delete_elem(c, a) {
    const m = c.host.map(c, a[0]!);
    if (m.kind === 'unsupported') return c.hc.fault(`bpf_map_delete_elem on ${m.def.typeName} map ${m.def.name} is not modeled`);
    const r = m.delete(readBytes(c, a[1]!, m.def.keySize));
    if (r.removed) c.host.forget(c, r.removed);
    return r64(r.ret);
  },
  bpf_for_each_map_elem(c, a) {
    const m = c.host.map(c, a[0]!);
    if (m.kind !== 'array' && m.kind !== 'hash' && m.kind !== 'global') {
      return c.hc.fault(`bpf_for_each_map_elem on ${m.def.typeName} map ${m.def.name}: the verifier refuses it ("callback function not allowed for map"); only array and hash maps have map_for_each_callback`);
    }
    const depth = c.env.forEachDepth;
    const elems = function* (): Generator<ElemPtrs> {
      c.env.forEachDepth = depth + 1;
      try {
        for (const e of m.liveEntries()) yield { key: c.host.keyPtr(c, depth, e.key), value: c.host.valuePtr(c, m, e.value) };
      } finally {
        c.env.forEachDepth = depth;
      }
    };
    return forEachMapElem(c.hc, a[0]!, a[1]!, a[2]!, a[3]!, elems);
  },
  bpf_sock_map_update: (c, a) => sockmapUpdate(c, a, 'bpf_sock_map_update', MapType.SOCKMAP),
  bpf_sock_hash_update: (c, a) => sockmapUpdate(c, a, 'bpf_sock_hash_update', MapType.SOCKHASH),
  bpf_sk_storage_get(c, a) {
    // net/core/bpf_sk_storage.c bpf_sk_storage_get: NULL for a NULL/non-full sk or unknown flags.
    const m = c.host.map(c, a[0]!);
    const o = c.host.sock(c, a[1]!);
    const flags = a[3]!;
    if (!o || !c.run.fullsock || flags > F_CREATE) return 0n;
    let v = m.storage.get(o.sock.id);
    if (!v && flags & 1n) {
      v = new Uint8Array(m.def.valueSize);
      if (a[2]! !== 0n) v.set(readBytes(c, a[2]!, m.def.valueSize));
      m.storage.set(o.sock.id, v);
    }
    return v ? c.host.valuePtr(c, m, v, () => `sk_storage sock#${o.sock.id}`) : 0n;
  },
  bpf_sk_storage_delete(c, a) {
    const m = c.host.map(c, a[0]!);
    const o = c.host.sock(c, a[1]!);
    if (!o || !c.run.fullsock) return r64(-EINVAL);
    const v = m.storage.get(o.sock.id);
    if (!v) return r64(-ENOENT);
    m.storage.delete(o.sock.id);
    c.host.forget(c, v);
    return 0n;
  },
};

function sockmapUpdate(c: CallCtx, a: bigint[], name: string, type: number): bigint {
  // net/core/sock_map.c bpf_sock_map_update/bpf_sock_hash_update after the op check:
  // sock_{map,hash}_update_common: unknown flags, (sockmap) an index past max_entries, the link
  // (where the AutoLOWAT rule goes, design §4.6: a socket with the RCVQ_CB flag on cannot join,
  // -EBUSY, assumed), then BPF_NOEXIST/BPF_EXIST and (sockhash) a full map.
  const m = c.host.map(c, a[1]!);
  if (m.def.type !== type) {
    // kernel/bpf/verifier.c check_map_func_compatibility refuses the program
    return c.hc.fault(`cannot pass map_type ${m.def.type} into func ${name} (map ${m.def.name}, ${m.def.typeName}); the verifier refuses it: ${name} takes a BPF_MAP_TYPE_${type === MapType.SOCKMAP ? 'SOCKMAP' : 'SOCKHASH'}`);
  }
  const flags = a[3]!;
  if (flags > BigInt(BPF_EXIST)) return r64(-EINVAL);
  const key = readBytes(c, a[2]!, m.def.keySize);
  if (type === MapType.SOCKMAP && !m.sockmapIndexOk(key)) return r64(-E2BIG);
  const sock = c.run.objs.sock;
  const rcvq = c.host.rcvqFlag;
  if (rcvq && sock.bpf_sock_ops_cb_flags & rcvq) return r64(-EBUSY);
  const r = m.sockmapUpdate(key, sock.id, Number(flags));
  if (r < 0) return r64(r);
  sock.in_sockmap = true;
  return 0n;
}

/** kernel/bpf/bpf_cgrp_storage.c bpf_cgrp_storage_get / bpf_cgrp_storage_delete: storage of the
 *  cgroup a `struct cgroup *` names (the simulation has one: the cgroup the programs are attached
 *  to, the one every socket's sk_cgrp_data.cgroup points at). */
export const CGRP_STORAGE_HELPERS: Record<string, Impl> = {
  bpf_cgrp_storage_get(c, a) {
    const m = cgrpMap(c, a[0]!, 'bpf_cgrp_storage_get');
    const flags = a[3]!;
    if (flags & ~BigInt(BPF_LOCAL_STORAGE_GET_F_CREATE)) return 0n;
    const id = c.host.cgroup(c, a[1]!);
    if (id === null) return 0n;
    let v = m.storage.get(id);
    if (!v && flags & 1n) {
      v = new Uint8Array(m.def.valueSize);
      if (a[2]! !== 0n) v.set(readBytes(c, a[2]!, m.def.valueSize));
      m.storage.set(id, v);
    }
    return v ? c.host.valuePtr(c, m, v, () => `cgrp_storage cgroup#${id}`) : 0n;
  },
  bpf_cgrp_storage_delete(c, a) {
    const m = cgrpMap(c, a[0]!, 'bpf_cgrp_storage_delete');
    const id = c.host.cgroup(c, a[1]!);
    if (id === null) return r64(-EINVAL);
    const v = m.storage.get(id);
    if (!v) return r64(-ENOENT);
    m.storage.delete(id);
    c.host.forget(c, v);
    return 0n;
  },
};

/** BPF_LOCAL_STORAGE_GET_F_CREATE (include/uapi/linux/bpf.h; the same bit as BPF_SK_STORAGE_GET_F_CREATE). */
const BPF_LOCAL_STORAGE_GET_F_CREATE = BPF_SK_STORAGE_GET_F_CREATE;

function cgrpMap(c: CallCtx, handle: bigint, name: string) {
  const m = c.host.map(c, handle);
  if (m.kind !== 'cgrp_storage') {
    // kernel/bpf/verifier.c check_map_func_compatibility
    return c.hc.fault(`cannot pass map_type ${m.def.type} into func ${name} (map ${m.def.name}, ${m.def.typeName}); the verifier refuses it: ${name} takes a BPF_MAP_TYPE_CGRP_STORAGE`);
  }
  return m;
}
