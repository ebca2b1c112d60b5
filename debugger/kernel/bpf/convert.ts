// Load-time conversion of accesses through the UAPI socket views, as the verifier's
// convert_ctx_accesses does (net/core/filter.c bpf_sock_convert_ctx_access,
// bpf_tcp_sock_convert_ctx_access): every pointer to a socket is the socket's own address, so a
// load through a `struct bpf_sock *` or `struct bpf_tcp_sock *` cannot read the UAPI layout there.
// The pointer-kind pass (../../verifier/kinds.ts) says which loads go through which view; each is
// pointed at the converted field values kept in the object's tail (./objects.ts UapiOffsets).
// The program keeps its instruction count and pcs (line info, breakpoints): only `off` changes.
import type { BpfProgram } from '../../object/types';
import type { Insn } from '../../vm/api';
import type { KindsResult } from '../../verifier/types';
import { BPF_SOCK_SIZE, BPF_TCP_SOCK_SIZE, type UapiOffsets } from './objects';

export interface ConvertIssue { pc: number; message: string }

const VIEWS = new Set(['PTR_TO_SOCKET', 'PTR_TO_SOCK_COMMON', 'PTR_TO_TCP_SOCK']);

/** The instructions the VM runs, and the accesses the kernel would refuse (a load-time error). */
export function convertSockAccesses(prog: BpfProgram, kinds: KindsResult, uapi: UapiOffsets): { insns: Insn[]; issues: ConvertIssue[]; converted: number; unsure: ConvertIssue[] } {
  const insns = prog.insns.slice();
  const issues: ConvertIssue[] = [];
  const unsure: ConvertIssue[] = [];
  let converted = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const a = kinds.accessAt(pc);
    if (!a) continue;
    const t = a.base.type;
    if (t === 'CONFLICT' && a.base.conflictOf?.some((k) => VIEWS.has(k))) {
      // the kernel refuses one insn used with different pointer types (save_aux_ptr_type: "same
      // insn cannot be used with different pointers"); our pass joins paths, so it may also be
      // a path the kernel knows to be dead: not converted, and said
      unsure.push({ pc, message: `R${a.reg} is ${a.base.conflictOf.join(' or ')} depending on the path: the access is not converted (a struct bpf_sock/bpf_tcp_sock read here reads the kernel object instead)` });
      continue;
    }
    if (t !== 'PTR_TO_SOCKET' && t !== 'PTR_TO_SOCK_COMMON' && t !== 'PTR_TO_TCP_SOCK') continue;
    const view = t === 'PTR_TO_TCP_SOCK' ? 'bpf_tcp_sock' : 'bpf_sock';
    const size = view === 'bpf_tcp_sock' ? BPF_TCP_SOCK_SIZE : BPF_SOCK_SIZE;
    if (a.off === undefined) {
      // check_sock_access -> __check_ptr_off_reg: no variable offset into a socket view
      issues.push({ pc, message: `R${a.reg} invalid variable offset into struct ${view} (the verifier wants a constant offset: "dereference of modified ${t.toLowerCase().replace('ptr_to_', '')} ptr")` });
      continue;
    }
    if (a.write) {
      issues.push({ pc, message: `R${a.reg} invalid ${view} access off=${a.off} size=${a.size}: struct ${view} is read-only (bpf_${view === 'bpf_sock' ? 'sock' : 'tcp_sock'}_is_valid_access)` });
      continue;
    }
    if (a.off < 0 || a.off + a.size > size) {
      issues.push({ pc, message: `R${a.reg} invalid ${view} access off=${a.off} size=${a.size}: struct ${view} has ${size} bytes (check_sock_access)` });
      continue;
    }
    const insn = insns[pc]!;
    insns[pc] = { ...insn, off: insn.off + (view === 'bpf_tcp_sock' ? uapi.tcpSock : uapi.sock) };
    converted++;
  }
  return { insns, issues, converted, unsure };
}
