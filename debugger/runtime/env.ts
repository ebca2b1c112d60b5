// Names the expression language resolves at a stop or inside a condition: registers, ctx fields
// (ctx.op, skops->args[1], or the program's own parameter name), socket fields (sk_rcvlowat,
// sk->rcv_nxt, readable, epoll), and the ABI's named constants (BPF_SOCK_OPS_RCVQ_CB, EOPNOTSUPP).
import type { SockModel } from '../kernel/types';
import type { Profile } from '../../sockops/types';
import type { ExprEnv } from '../expr/index';

export interface EnvSource {
  profile: Profile | null;
  paramName: string;
  reg?: (i: number) => bigint;
  read?: (addr: bigint, len: number) => Uint8Array;
  ctxBase?: bigint;
  sock: SockModel | null;
  step: number;
}

export function le(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/** Socket values by name, as the Socket scope shows them. */
export function sockValue(sock: SockModel, name: string): bigint | undefined {
  if (name === 'readable') return BigInt(sock.readable());
  if (name === 'epoll' || name === 'epollin') return sock.epollIn() ? 1n : 0n;
  if (name === 'queued') return BigInt(sock.receiveQueue.length);
  if (name === 'cb_flags') name = 'bpf_sock_ops_cb_flags';
  if (name === 'rcvlowat') name = 'sk_rcvlowat';
  if (name === 'rcvbuf') name = 'sk_rcvbuf';
  const v = (sock as unknown as Record<string, unknown>)[name];
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

export function ctxFieldValue(src: EnvSource, field: string, index?: number): bigint | undefined {
  if (!src.read || src.ctxBase === undefined || !src.profile) return undefined;
  let f = src.profile.ctxFields.find((x) => x.name === field);
  // union { args[4]; reply; replylong[4]; } (include/uapi/linux/bpf.h): reply is args[0]
  if (!f && (field === 'reply' || field === 'replylong')) {
    if (field === 'reply' && index !== undefined) return undefined;
    f = src.profile.ctxFields.find((x) => x.name === 'args');
    if (!f) return undefined;
  }
  if (!f) return undefined;
  const elem = f.elemSize ?? Math.min(f.size, 8);
  const off = f.offset + (index ?? 0) * elem;
  if (off + elem > f.offset + f.size) return undefined;
  return le(src.read(src.ctxBase + BigInt(off), elem));
}

export function constantValue(profile: Profile | null, name: string): bigint | undefined {
  if (!profile) return undefined;
  const op = profile.ops.find((o) => o.name === name);
  if (op) return BigInt(op.value);
  const fl = profile.cbFlags.find((f) => f.name === name);
  if (fl) return BigInt(fl.value);
  if (name === 'BPF_SOCK_OPS_ALL_CB_FLAGS') return BigInt(profile.allCbFlags);
  const c = profile.constants.find((x) => x.name === name);
  if (c) return BigInt(c.value);
  const e = profile.errnos.find((x) => x.name === name);
  if (e) return BigInt(e.value);
  return undefined;
}

export function makeEnv(src: EnvSource): ExprEnv {
  const ctxRoots = new Set(['ctx', 'skops', src.paramName]);
  return {
    lookup(path) {
      const [root, a, b] = path;
      if (path.length === 1) {
        const m = /^r(\d+)$/.exec(root!);
        if (m && Number(m[1]) <= 10) return src.reg ? src.reg(Number(m[1])) : undefined;
        if (root === 'step') return BigInt(src.step);
        if (src.sock) {
          const v = sockValue(src.sock, root!);
          if (v !== undefined) return v;
        }
        const k = constantValue(src.profile, root!);
        if (k !== undefined) return k;
        return ctxFieldValue(src, root!);
      }
      if (ctxRoots.has(root!)) return ctxFieldValue(src, a!, b !== undefined ? Number(b) : undefined);
      if ((root === 'sk' || root === 'tp' || root === 'sock' || root === 'socket') && src.sock && path.length === 2) return sockValue(src.sock, a!);
      return undefined;
    },
    hint() {
      return `r0..r10, ${src.paramName}->op (ctx fields), sk_rcvlowat, rcv_nxt, copied_seq, readable, epoll, or a constant such as BPF_SOCK_OPS_RCVQ_CB`;
    },
  };
}
