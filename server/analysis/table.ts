// The one place the server reaches the sock_ops table (sockops/). Every kernel fact the server
// shows or checks comes through here; the server itself knows only C syntax.
import { table as loadTable } from '../../sockops/index';

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
