// Every helper the emulator implements, by kernel name, with the facts the call dispatch needs
// about them (./dispatch.ts): the argument checks that come before a table rule, and which
// helpers cannot change the socket.
import { KFUNCS } from '../kfuncs';
import type { CallCtx, Impl } from '../run';
import { HDROPT_HELPERS, loadHdrOptArgs } from './hdropt';
import { CGRP_STORAGE_HELPERS, MAP_HELPERS } from './maps';
import { MEMORY_HELPERS } from './memory';
import { MISC_HELPERS } from './misc';
import { SOCK_HELPERS } from './sock';

import { DYNPTR_HELPERS } from '../dynptr';
export const HELPERS: Record<string, Impl> = { ...DYNPTR_HELPERS, ...MAP_HELPERS, ...CGRP_STORAGE_HELPERS, ...SOCK_HELPERS, ...HDROPT_HELPERS, ...MISC_HELPERS, ...MEMORY_HELPERS };
export { KFUNCS };
export { searchTcpOpt } from './hdropt';
export { NOT_MODELLED } from './notmodelled';

/** Argument checks that run before a table rule marked afterArgChecks (by kernel name). */
export const ARG_CHECKS: Record<string, (c: CallCtx, a: bigint[]) => bigint | undefined> = {
  bpf_load_hdr_opt: loadHdrOptArgs,
};

/** Helpers and kfuncs that cannot change the socket, the ctx or bpf_sock_ops_kern: the kernel
 *  objects need no refresh after them. Anything not listed refreshes (the safe default). */
export const PURE = new Set([
  'bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_ktime_get_ns', 'bpf_ktime_get_boot_ns',
  'bpf_ktime_get_coarse_ns', 'bpf_get_prandom_u32', 'bpf_get_smp_processor_id', 'bpf_get_numa_node_id',
  'bpf_trace_printk', 'bpf_trace_vprintk', 'bpf_perf_event_output', 'bpf_skb_load_bytes', 'bpf_get_socket_cookie',
  'bpf_get_netns_cookie', 'bpf_getsockopt', 'bpf_tcp_sock', 'bpf_skc_to_tcp_sock', 'bpf_sk_storage_get',
  'bpf_sk_storage_delete', 'bpf_load_hdr_opt', 'bpf_get_retval', 'bpf_set_retval',
  'bpf_cast_to_kern_ctx', 'bpf_rdonly_cast', 'bpf_sock_ops_enable_tx_tstamp',
  'bpf_skc_to_tcp6_sock', 'bpf_skc_to_tcp_timewait_sock', 'bpf_skc_to_tcp_request_sock', 'bpf_skc_to_udp6_sock',
  'bpf_skc_to_unix_sock', 'bpf_skc_to_mptcp_sock', 'bpf_cgrp_storage_get', 'bpf_cgrp_storage_delete',
  'bpf_probe_read_kernel', 'bpf_probe_read_kernel_str', 'bpf_probe_read_user', 'bpf_probe_read_user_str',
  'bpf_strncmp', 'bpf_spin_lock', 'bpf_spin_unlock', 'bpf_jiffies64', 'bpf_ktime_get_tai_ns',
  'bpf_get_current_cgroup_id', 'bpf_get_current_ancestor_cgroup_id',
  // change nothing themselves; the helpers their callbacks call refresh after themselves
  'bpf_loop', 'bpf_for_each_map_elem',
]);

/** Names of the helpers and kfuncs the emulator implements. */
export const IMPLEMENTED_HELPERS: readonly string[] = Object.keys(HELPERS);
export const IMPLEMENTED_KFUNCS: readonly string[] = Object.keys(KFUNCS);
