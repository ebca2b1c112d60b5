// The one place the server reaches the sock_ops table (sockops/). Every kernel fact the server
// shows or checks comes through here; the server itself knows only C syntax.
import { table as loadTable, profileNames } from '../../sockops/index';

export type SockopsTable = ReturnType<typeof loadTable>;

const tables = new Map<string, SockopsTable>();

/** The table of a kernel profile (default: the table's own default profile). */
export function sockopsTable(profile?: string): SockopsTable {
  const key = profile ?? '';
  let t = tables.get(key);
  if (!t) {
    t = profile ? loadTable(profile) : loadTable();
    tables.set(key, t);
  }
  return t;
}

/** A name another kernel profile defines but this one lacks (e.g. BPF_SOCK_OPS_RCVQ_CB and the
 *  AutoLOWAT kfunc under profile linux-7.1.5): what it is there, and in which profile. */
export interface ForeignName { kind: 'op' | 'cbFlag' | 'helper' | 'kfunc'; name: string; value?: number; profile: string }

const foreignMemo = new Map<SockopsTable, Map<string, ForeignName>>();

/** Names of the other profiles that `t` lacks (memoised; empty for the largest profile). */
export function foreignNames(t: SockopsTable): Map<string, ForeignName> {
  let m = foreignMemo.get(t);
  if (m) return m;
  m = new Map();
  for (const p of profileNames()) {
    if (p === t.profile.name) continue;
    const o = sockopsTable(p).profile;
    for (const op of o.ops) if (!t.op(op.name) && !m.has(op.name)) m.set(op.name, { kind: 'op', name: op.name, value: op.value, profile: p });
    for (const f of o.cbFlags) if (!t.cbFlag(f.name) && !m.has(f.name)) m.set(f.name, { kind: 'cbFlag', name: f.name, value: f.value, profile: p });
    for (const h of o.helpers) if (!t.helper(h.name) && !m.has(h.name)) m.set(h.name, { kind: 'helper', name: h.name, profile: p });
    for (const k of o.kfuncs) if (!t.kfunc(k.name) && !m.has(k.name)) m.set(k.name, { kind: 'kfunc', name: k.name, profile: p });
  }
  foreignMemo.set(t, m);
  return m;
}
