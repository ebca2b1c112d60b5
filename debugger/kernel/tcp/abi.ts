// The ABI numbers the TCP model needs (op values, cb flags, socket option names, TCP states,
// errnos), read from the sock_ops table (sockops/) so that the model and the language server
// agree. Nothing here is hard-coded: a profile that lacks a name is a load-time error.
import type { SockopsTable } from '../../../sockops/index';

export interface TcpAbi {
  /** Profile name, for messages. */
  readonly profile: string;
  op(name: string): number; // 'BPF_SOCK_OPS_RCVQ_CB'
  opName(value: number): string; // 21 -> 'RCVQ_CB'
  flag(name: string): number; // 'BPF_SOCK_OPS_RCVQ_CB_FLAG'
  constant(name: string): number; // 'SOL_SOCKET', 'BPF_TCP_ESTABLISHED'
  /** Negative errno: errno('EUCLEAN') === -117. */
  errno(name: string): number;
  errnoName(errno: number): string;
  /** Whether the profile has the op at all (the baseline kernel has no RCVQ_CB). */
  hasOp(name: string): boolean;
}

export class AbiError extends Error {
  override name = 'AbiError';
}

/** Build the model's view of the ABI from the table. Values are looked up once. */
export function abiFromTable(t: SockopsTable): TcpAbi {
  const caches = new Map<string, Map<string, number>>();
  const get = (kind: string, name: string, f: () => number | undefined): number => {
    let cache = caches.get(kind);
    if (!cache) caches.set(kind, (cache = new Map()));
    let v = cache.get(name);
    if (v === undefined) {
      v = f();
      if (v === undefined) throw new AbiError(`kernel profile ${t.profile.name} has no ${kind} ${name}`);
      cache.set(name, v);
    }
    return v;
  };
  return {
    profile: t.profile.name,
    op: (name) => get('op', name, () => t.op(name)?.value),
    opName: (value) => t.op(value)?.short ?? `op ${value}`,
    flag: (name) => get('cb flag', name, () => t.cbFlag(name)?.value),
    constant: (name) => get('constant', name, () => t.constant(name)),
    errno: (name) => get('errno', name, () => {
      const e = t.profile.errnos.find((x) => x.name === name);
      return e === undefined ? undefined : -Math.abs(e.value);
    }),
    errnoName: (errno) => t.errnoName(errno),
    hasOp: (name) => t.op(name) !== undefined,
  };
}
