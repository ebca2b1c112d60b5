// Helper prototypes as the verifier sees them (struct bpf_func_proto: argN_type, ret_type), for
// the helpers the sockops/ table offers to our program types. Which helper a program type may
// call comes from the table (availableAtLoad); this file only says how its arguments are checked.
// Sources: the *_proto definitions in net/core/filter.c, kernel/bpf/helpers.c,
// net/core/bpf_sk_storage.c, kernel/trace/bpf_trace.c, kernel/bpf/ringbuf.c, kernel/bpf/cgroup.c,
// kernel/bpf/local_storage.c, kernel/bpf/bpf_iter.c (Linux 7.1.5). Helpers missing here are
// checked as "every argument the C prototype names must be initialised" and return an unknown
// scalar (assumed; see the note in README "Verifier").

export type ArgType =
  | 'ANYTHING' | 'CONST_MAP_PTR' | 'PTR_TO_MAP_KEY' | 'PTR_TO_MAP_VALUE' | 'PTR_TO_MAP_VALUE_OR_NULL'
  | 'PTR_TO_CTX' | 'PTR_TO_CTX_OR_NULL' | 'PTR_TO_SOCK_COMMON' | 'PTR_TO_BTF_ID_SOCK_COMMON'
  | 'PTR_TO_MEM' | 'PTR_TO_MEM_OR_NULL' | 'PTR_TO_UNINIT_MEM' | 'CONST_SIZE' | 'CONST_SIZE_OR_ZERO' | 'CONST_ALLOC_SIZE_OR_ZERO'
  | 'PTR_TO_FUNC' | 'PTR_TO_STACK_OR_NULL' | 'PTR_TO_RINGBUF_MEM_RELEASE' | 'PTR_TO_CONST_STR' | 'PTR_TO_BTF_ID';

export type RetType =
  | 'INTEGER' | 'VOID' | 'PTR_TO_MAP_VALUE_OR_NULL' | 'PTR_TO_MAP_VALUE' | 'PTR_TO_TCP_SOCK_OR_NULL'
  | 'PTR_TO_SOCKET_OR_NULL' | 'PTR_TO_BTF_ID_OR_NULL' | 'PTR_TO_RINGBUF_MEM_OR_NULL';

export interface VerifierProto {
  args: ArgType[];
  ret: RetType;
  /** RET_PTR_TO_BTF_ID_OR_NULL: the struct (btf_sock_ids). */
  retStruct?: string;
  /** Per program type variant (bpf_get_netns_cookie has one proto per type). */
}

const INT0: VerifierProto = { args: [], ret: 'INTEGER' };
const SKC = (s: string): VerifierProto => ({ args: ['PTR_TO_BTF_ID_SOCK_COMMON'], ret: 'PTR_TO_BTF_ID_OR_NULL', retStruct: s });

export const PROTOS: Record<string, VerifierProto> = {
  bpf_map_lookup_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY'], ret: 'PTR_TO_MAP_VALUE_OR_NULL' },
  bpf_map_update_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'PTR_TO_MAP_VALUE', 'ANYTHING'], ret: 'INTEGER' },
  bpf_map_delete_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY'], ret: 'INTEGER' },
  bpf_map_push_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_MAP_VALUE', 'ANYTHING'], ret: 'INTEGER' },
  bpf_map_pop_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_UNINIT_MEM'], ret: 'INTEGER' },
  bpf_map_peek_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_UNINIT_MEM'], ret: 'INTEGER' },
  bpf_ktime_get_ns: INT0, bpf_ktime_get_boot_ns: INT0, bpf_ktime_get_coarse_ns: INT0, bpf_ktime_get_tai_ns: INT0,
  bpf_get_prandom_u32: INT0, bpf_get_smp_processor_id: INT0, bpf_get_numa_node_id: INT0, bpf_jiffies64: INT0,
  bpf_get_current_pid_tgid: INT0, bpf_get_current_uid_gid: INT0, bpf_get_current_cgroup_id: INT0, bpf_get_current_task: INT0,
  bpf_get_retval: INT0,
  bpf_set_retval: { args: ['ANYTHING'], ret: 'INTEGER' },
  bpf_trace_printk: { args: ['PTR_TO_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
  bpf_trace_vprintk: { args: ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'], ret: 'INTEGER' },
  bpf_get_current_comm: { args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
  bpf_get_socket_cookie: { args: ['PTR_TO_CTX'], ret: 'INTEGER' },
  bpf_get_netns_cookie: { args: ['PTR_TO_CTX_OR_NULL'], ret: 'INTEGER' },
  bpf_setsockopt: { args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
  bpf_getsockopt: { args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
  bpf_sock_ops_cb_flags_set: { args: ['PTR_TO_CTX', 'ANYTHING'], ret: 'INTEGER' },
  bpf_sock_map_update: { args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING'], ret: 'INTEGER' },
  bpf_sock_hash_update: { args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING'], ret: 'INTEGER' },
  bpf_get_local_storage: { args: ['CONST_MAP_PTR', 'ANYTHING'], ret: 'PTR_TO_MAP_VALUE' },
  bpf_tcp_sock: { args: ['PTR_TO_SOCK_COMMON'], ret: 'PTR_TO_TCP_SOCK_OR_NULL' },
  bpf_sk_storage_get: { args: ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_SOCK_COMMON', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING'], ret: 'PTR_TO_MAP_VALUE_OR_NULL' },
  // kernel/bpf/bpf_cgrp_storage.c bpf_cgrp_storage_get_proto: arg2 ARG_PTR_TO_BTF_ID (struct cgroup)
  bpf_cgrp_storage_get: { args: ['CONST_MAP_PTR', 'PTR_TO_BTF_ID', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING'], ret: 'PTR_TO_MAP_VALUE_OR_NULL' },
  bpf_cgrp_storage_delete: { args: ['CONST_MAP_PTR', 'PTR_TO_BTF_ID'], ret: 'INTEGER' },
  bpf_sk_storage_delete: { args: ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_SOCK_COMMON'], ret: 'INTEGER' },
  bpf_probe_read_kernel: { args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], ret: 'INTEGER' },
  bpf_probe_read_user: { args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], ret: 'INTEGER' },
  bpf_probe_read_kernel_str: { args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], ret: 'INTEGER' },
  bpf_probe_read_user_str: { args: ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], ret: 'INTEGER' },
  bpf_perf_event_output: { args: ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], ret: 'INTEGER' },
  bpf_ringbuf_output: { args: ['CONST_MAP_PTR', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], ret: 'INTEGER' },
  bpf_ringbuf_reserve: { args: ['CONST_MAP_PTR', 'CONST_ALLOC_SIZE_OR_ZERO', 'ANYTHING'], ret: 'PTR_TO_RINGBUF_MEM_OR_NULL' },
  bpf_ringbuf_submit: { args: ['PTR_TO_RINGBUF_MEM_RELEASE', 'ANYTHING'], ret: 'VOID' },
  bpf_ringbuf_discard: { args: ['PTR_TO_RINGBUF_MEM_RELEASE', 'ANYTHING'], ret: 'VOID' },
  bpf_ringbuf_query: { args: ['CONST_MAP_PTR', 'ANYTHING'], ret: 'INTEGER' },
  bpf_skc_to_tcp_sock: SKC('tcp_sock'), bpf_skc_to_tcp6_sock: SKC('tcp6_sock'), bpf_skc_to_tcp_timewait_sock: SKC('tcp_timewait_sock'),
  bpf_skc_to_tcp_request_sock: SKC('tcp_request_sock'), bpf_skc_to_udp6_sock: SKC('udp6_sock'), bpf_skc_to_unix_sock: SKC('unix_sock'),
  bpf_skc_to_mptcp_sock: { args: ['PTR_TO_SOCK_COMMON'], ret: 'PTR_TO_BTF_ID_OR_NULL', retStruct: 'mptcp_sock' },
  bpf_load_hdr_opt: { args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], ret: 'INTEGER' },
  bpf_store_hdr_opt: { args: ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], ret: 'INTEGER' },
  bpf_reserve_hdr_opt: { args: ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], ret: 'INTEGER' },
  bpf_loop: { args: ['ANYTHING', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING'], ret: 'INTEGER' },
  bpf_for_each_map_elem: { args: ['CONST_MAP_PTR', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING'], ret: 'INTEGER' },
  bpf_strncmp: { args: ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_CONST_STR'], ret: 'INTEGER' },
  bpf_snprintf: { args: ['PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'PTR_TO_CONST_STR', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'], ret: 'INTEGER' },
  // the AutoLOWAT profile's helper (seed: same proto as the tc/sk_skb one, with ctx = the sock_ops ctx)
  bpf_skb_load_bytes: { args: ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
};

/** Protos that differ by program type: cg_sockopt_func_proto (kernel/bpf/cgroup.c) gives
 *  cgroup/setsockopt bpf_sk_setsockopt_proto / bpf_sk_getsockopt_proto (net/core/filter.c), whose
 *  first argument is the socket (ctx->sk), not the ctx. */
export const PROTOS_BY_TYPE: Partial<Record<string, Record<string, VerifierProto>>> = {
  cgroup_setsockopt: {
    bpf_setsockopt: { args: ['PTR_TO_BTF_ID_SOCK_COMMON', 'ANYTHING', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
    bpf_getsockopt: { args: ['PTR_TO_BTF_ID_SOCK_COMMON', 'ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], ret: 'INTEGER' },
  },
};

/** compatible_reg_types lists, in the kernel's order (printed after "expected="). */
export const EXPECTED: Partial<Record<ArgType, string>> = {
  CONST_MAP_PTR: 'map_ptr',
  PTR_TO_CTX: 'ctx',
  PTR_TO_CTX_OR_NULL: 'ctx',
  PTR_TO_SOCK_COMMON: 'sock_common, sock, tcp_sock, xdp_sock',
  PTR_TO_BTF_ID_SOCK_COMMON: 'sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_',
  PTR_TO_MAP_KEY: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_, ctx',
  PTR_TO_MAP_VALUE: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_, ctx',
  PTR_TO_MAP_VALUE_OR_NULL: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_, ctx',
  PTR_TO_MEM: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_, ctx',
  PTR_TO_MEM_OR_NULL: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_, ctx',
  PTR_TO_UNINIT_MEM: 'fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_, ctx',
  CONST_SIZE: 'scalar', CONST_SIZE_OR_ZERO: 'scalar', CONST_ALLOC_SIZE_OR_ZERO: 'scalar',
  PTR_TO_FUNC: 'func',
  PTR_TO_STACK_OR_NULL: 'fp',
  PTR_TO_RINGBUF_MEM_RELEASE: 'ringbuf_mem',
  PTR_TO_CONST_STR: 'map_value',
  PTR_TO_BTF_ID: 'ptr_, trusted_ptr_, rcu_ptr_',
};

/** The kfuncs of our program types: argument kinds and return, from their BTF declarations
 *  (kernel/bpf/helpers.c bpf_cast_to_kern_ctx / bpf_rdonly_cast, net/core/filter.c
 *  bpf_sock_ops_enable_tx_tstamp; the AutoLOWAT seed's bpf_sock_ops_tcp_set_rcvlowat). */
export interface KfuncProto { args: ('ctx' | 'trusted_kern_ctx' | 'scalar' | 'any_ptr' | 'const_btf_id')[]; ret: 'kern_ctx' | 'rdonly_cast' | 'int' }
export const KFUNC_PROTOS: Record<string, KfuncProto> = {
  bpf_cast_to_kern_ctx: { args: ['ctx'], ret: 'kern_ctx' },
  bpf_rdonly_cast: { args: ['any_ptr', 'const_btf_id'], ret: 'rdonly_cast' },
  bpf_sock_ops_enable_tx_tstamp: { args: ['trusted_kern_ctx', 'scalar'], ret: 'int' },
  bpf_sock_ops_tcp_set_rcvlowat: { args: ['trusted_kern_ctx', 'scalar'], ret: 'int' },
};
