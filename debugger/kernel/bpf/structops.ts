// struct_ops on the simulated kernel (profile autolowat-tcp-ops-v5, docs/abi.md §5): which
// programs implement the profile's struct bpf_tcp_ops (the object's .struct_ops[.link] variable,
// members matched by name), the BPF_PROG() context (an array of u64 arguments, read-only, 8-byte
// loads: kernel/bpf/btf.c btf_ctx_access), the per-socket BPF_TCP_OPS_FLAG_RCVQ and the two
// kfuncs bpf_tcp_ops_set_flags / bpf_tcp_ops_set_rcvlowat.
import type { BpfObject, BpfProgram } from '../../object/types';
import type { StructOpsMap } from '../../object/structops';
import type { StructOpsInfo, StructOpsMemberInfo } from '../../../sockops/types';
import type { SockModel } from '../types';
import { EBUSY, EINVAL, EOPNOTSUPP, EUCLEAN, INT_MAX } from './consts';
import { LoadError } from './errors';
import { i32, r64, type Impl } from './run';

export interface TcpOpsMember { info: StructOpsMemberInfo; prog: BpfProgram }

/** The struct_ops variable to attach (named, else the only one) and its members' programs. */
export function resolveStructOps(obj: BpfObject, info: StructOpsInfo, name: string | undefined): { map: StructOpsMap; members: TcpOpsMember[] } {
  const all = obj.structOps ?? [];
  const list = all.map((m) => `${m.name} (struct ${m.struct}, SEC("${m.section}"))`).join(', ') || 'none';
  let map: StructOpsMap | undefined;
  if (name === undefined) {
    const cands = all.filter((m) => m.struct === info.struct);
    if (cands.length !== 1) throw new LoadError(obj.file, null, `${cands.length === 0 ? 'no' : cands.length} struct ${info.struct} variable${cands.length === 1 ? '' : 's'} in SEC(".struct_ops.link") or SEC(".struct_ops"); struct_ops variables there: ${list}. ${cands.length ? 'Name one with "structOps".' : 'Declare one: SEC(".struct_ops.link") struct ' + info.struct + ' my_ops = { .enqueue_rcvq = (void *)my_enqueue, ... };'}`);
    map = cands[0];
  } else {
    map = all.find((m) => m.name === name);
    if (!map) throw new LoadError(obj.file, null, `no struct_ops variable named ${name}; struct_ops variables there: ${list}. Check the "structOps" name.`);
  }
  if (map!.struct !== info.struct) throw new LoadError(obj.file, null, `struct_ops variable ${map!.name} is a struct ${map!.struct}; profile autolowat-tcp-ops-v5 knows struct ${info.struct} only.`);
  const members: TcpOpsMember[] = [];
  for (const m of map!.members) {
    const mi = info.members.find((x) => x.name === m.name);
    if (!mi) throw new LoadError(obj.file, null, `struct ${info.struct} member ${m.name} (in ${map!.name}) is not one the profile knows (${info.members.map((x) => x.name).join(', ')}): check the struct's declaration.`);
    if (!m.program) continue;
    const prog = obj.programs.find((p) => p.name === m.program);
    if (!prog) throw new LoadError(obj.file, m.program, `${map!.name}.${m.name} points at ${m.program}, which is not a program of the object.`);
    if (!prog.section.startsWith('struct_ops')) throw new LoadError(obj.file, prog.name, `${map!.name}.${m.name} points at ${prog.name} in SEC("${prog.section}"): a struct_ops member's program must be SEC("struct_ops") or SEC("struct_ops/...").`);
    members.push({ info: mi, prog });
  }
  if (!members.length) throw new LoadError(obj.file, null, `struct_ops variable ${map!.name} sets no member: nothing would run.`);
  return { map: map!, members };
}

/** btf_ctx_access on a BPF_PROG() context of `nargs` u64 arguments: 8-byte aligned reads only. */
export function structOpsCtxAccessError(member: StructOpsMemberInfo, off: number, size: number, write: boolean): string | null {
  const n = member.args.length;
  const what = `${write ? 'write to' : 'read of'} the ${member.name} context at offset ${off} (${size} bytes)`;
  if (write) return `${what}: the BPF_PROG() context is read-only (verifier: "invalid bpf_context access off=${off} size=${size}")`;
  if (off < 0 || off + size > n * 8) return `${what} is past its ${n} argument${n === 1 ? '' : 's'} (${member.args.map((a) => `${a.ctype}${a.name}`).join(', ')}) (verifier: "func '${member.name}' doesn't have ${Math.floor(off / 8) + 1}-th argument")`;
  if (off % 8 !== 0 || size !== 8) return `${what}: each argument is one u64, read whole (verifier: "invalid bpf_context access off=${off} size=${size}")`;
  return null;
}

/** Per-socket bpf_tcp_ops flags (BPF_TCP_OPS_FLAG_RCVQ), by socket id. */
export class TcpOpsFlags {
  private readonly flags = new Map<number, number>();
  constructor(readonly rcvq: number) {}

  get(sock: SockModel): number {
    return this.flags.get(sock.id) ?? 0;
  }

  /** bpf_tcp_ops_set_flags rules (docs/abi.md §5.5). */
  set(sock: SockModel, set: number, clear: number): number {
    if ((set | clear) & ~this.rcvq || (set & clear) !== 0) return -EINVAL;
    const cur = this.get(sock);
    if (set & this.rcvq && !(cur & this.rcvq)) {
      if (sock.is_mptcp_subflow) return -EOPNOTSUPP;
      if (sock.in_sockmap) return -EBUSY;
      if (sock.receiveQueue.length > 0) return -EUCLEAN;
    }
    this.flags.set(sock.id, (cur | set) & ~clear);
    return 0;
  }

  checkpoint(): [number, number][] {
    return [...this.flags];
  }

  restore(cp: [number, number][]): void {
    this.flags.clear();
    for (const [k, v] of cp) this.flags.set(k, v);
  }
}

/** The kfuncs (the kernel's TcpOpsFlags is KernelHost.tcpOps). */
export const TCP_OPS_KFUNCS: Record<string, Impl> = {
    bpf_tcp_ops_set_flags(c, a) {
      const f = c.host.tcpOps ?? null;
      const o = c.host.sock(c, a[0]!);
      if (!f || !o) return c.hc.fault(`bpf_tcp_ops_set_flags: 0x${a[0]!.toString(16)} is not a socket (a trusted struct tcp_sock * is required)`);
      return r64(f.set(o.sock, Number(a[1]! & 0xffffffffn), Number(a[2]! & 0xffffffffn)));
    },
    bpf_tcp_ops_set_rcvlowat(c, a) {
      // docs/abi.md §5.6: bpf_sock_ops_tcp_set_rcvlowat's rules; a wakeup check unless enqueue_rcvq (skb set).
      const o = c.host.sock(c, a[0]!);
      if (!o) return c.hc.fault(`bpf_tcp_ops_set_rcvlowat: 0x${a[0]!.toString(16)} is not a socket (a trusted struct sock * is required)`);
      let val = i32(a[1]!);
      if (val < 0) val = INT_MAX;
      return r64(o.sock.setRcvlowat(val, { wakeup: c.run.skb === null }));
    },
};
