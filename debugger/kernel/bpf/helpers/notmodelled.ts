// Helpers the sockops table allows in our program types that the emulator does not run: each
// with what the kernel would do, so a call ends the run with a fault that says so (never a bare
// "no implementation"). Facts from the Linux 7.1.5 tree; the file and function are named.
// test/unit/kernel/audit.test.ts checks that every helper the table makes available is either
// implemented (./index.ts HELPERS) or listed here.

/** Kernel name -> what the kernel returns (completes "in the kernel it ..."). */
export const NOT_MODELLED: Record<string, string> = {
  bpf_tail_call: 'jumps to the program in slot `index` of the BPF_MAP_TYPE_PROG_ARRAY and never returns, or falls through to the next instruction when the slot is empty or the tail-call limit (33) is reached (kernel/bpf/core.c ___bpf_prog_run JMP_TAIL_CALL); the simulation has no program arrays',
  bpf_get_current_pid_tgid: 'returns (tgid << 32) | pid of the task that happens to be current: the application for cgroup/{set,get}sockopt and for sock_ops ops run from a syscall, an arbitrary task (often the idle task, 0) for ops run from softirq (kernel/bpf/helpers.c bpf_get_current_pid_tgid); the simulation has no tasks',
  bpf_get_current_uid_gid: 'returns (gid << 32) | uid of the current task, or -EINVAL without one (kernel/bpf/helpers.c bpf_get_current_uid_gid); the simulation has no tasks',
  bpf_get_current_comm: 'copies the current task\'s comm (16 bytes, NUL-padded) and returns 0 (kernel/bpf/helpers.c bpf_get_current_comm); the simulation has no tasks',
  bpf_get_cgroup_classid: 'returns the net_cls classid of the current task\'s cgroup (net/core/filter.c bpf_get_cgroup_classid_curr); not modelled',
  bpf_perf_event_read: 'returns the counter value of a perf event in a BPF_MAP_TYPE_PERF_EVENT_ARRAY slot, or a negative errno (kernel/trace/bpf_trace.c bpf_perf_event_read); the simulation has no perf events',
  bpf_perf_event_read_value: 'fills struct bpf_perf_event_value from a perf event, or zeroes it and returns a negative errno (kernel/trace/bpf_trace.c); the simulation has no perf events',
  bpf_get_current_task: 'returns the address of the current task_struct (kernel/trace/bpf_trace.c bpf_get_current_task); the simulation has no tasks',
  bpf_get_current_task_btf: 'returns a trusted pointer to the current task_struct (kernel/trace/bpf_trace.c); the simulation has no tasks',
  bpf_current_task_under_cgroup: 'returns 1 if the current task is in the cgroup of the BPF_MAP_TYPE_CGROUP_ARRAY slot, 0 if not, or a negative errno (kernel/trace/bpf_trace.c); not modelled',
  bpf_get_local_storage: 'returns the BPF_MAP_TYPE_CGROUP_STORAGE value of the attached cgroup (never NULL; kernel/bpf/helpers.c bpf_get_local_storage); cgroup local storage maps are not modelled',
  bpf_map_push_elem: 'pushes into a BPF_MAP_TYPE_QUEUE/STACK map: 0, or -E2BIG when full without BPF_EXIST (kernel/bpf/queue_stack_maps.c); queue and stack maps are not modelled',
  bpf_map_pop_elem: 'pops from a BPF_MAP_TYPE_QUEUE/STACK map: 0, or -ENOENT when empty (kernel/bpf/queue_stack_maps.c); queue and stack maps are not modelled',
  bpf_map_peek_elem: 'reads the head of a BPF_MAP_TYPE_QUEUE/STACK map: 0, or -ENOENT when empty (kernel/bpf/queue_stack_maps.c); queue and stack maps are not modelled',
  bpf_strtol: 'parses a signed integer: the number of characters consumed, -EINVAL without digits, -ERANGE on overflow (kernel/bpf/helpers.c bpf_strtol); not modelled',
  bpf_strtoul: 'parses an unsigned integer: the number of characters consumed, -EINVAL without digits, -ERANGE on overflow (kernel/bpf/helpers.c bpf_strtoul); not modelled',
  bpf_send_signal: 'sends the signal to the current process: 0, -EPERM for a kernel thread, -EBUSY in NMI context (kernel/trace/bpf_trace.c bpf_send_signal_common); the simulation has no tasks',
  bpf_send_signal_thread: 'sends the signal to the current thread: 0, -EPERM for a kernel thread (kernel/trace/bpf_trace.c); the simulation has no tasks',
  bpf_get_ns_current_pid_tgid: 'fills struct bpf_pidns_info for the current task in the given pid namespace, or zeroes it and returns -EINVAL/-ENOENT (kernel/bpf/helpers.c); the simulation has no tasks',
  bpf_ringbuf_output: 'copies the data into a BPF_MAP_TYPE_RINGBUF: 0, or -EAGAIN when full (kernel/bpf/ringbuf.c); ring buffers are not modelled',
  bpf_ringbuf_reserve: 'returns a pointer to `size` bytes reserved in a BPF_MAP_TYPE_RINGBUF, or NULL when full (kernel/bpf/ringbuf.c); ring buffers are not modelled',
  bpf_ringbuf_submit: 'commits a reservation (void; kernel/bpf/ringbuf.c); ring buffers are not modelled',
  bpf_ringbuf_discard: 'drops a reservation (void; kernel/bpf/ringbuf.c); ring buffers are not modelled',
  bpf_ringbuf_query: 'returns a ring buffer property (available data, size, positions) or 0 (kernel/bpf/ringbuf.c); ring buffers are not modelled',
  bpf_get_task_stack: 'fills the buffer with a task\'s kernel stack trace and returns its size in bytes, or a negative errno (kernel/bpf/stackmap.c); the simulation has no tasks',
  bpf_copy_from_user: 'copies user memory of the current task (sleepable programs only; kernel/bpf/helpers.c); the simulation has no user memory',
  bpf_copy_from_user_task: 'copies user memory of another task (sleepable programs only; kernel/bpf/helpers.c); the simulation has no user memory',
  bpf_snprintf_btf: 'writes a BTF-typed value as text into the buffer and returns its length (kernel/trace/bpf_trace.c); not modelled',
  bpf_per_cpu_ptr: 'returns the address of a per-CPU kernel variable (__ksym) on the given CPU, or NULL for a CPU past nr_cpu_ids (kernel/bpf/helpers.c); __ksym variables are not modelled',
  bpf_this_cpu_ptr: 'returns the address of a per-CPU kernel variable (__ksym) on this CPU (kernel/bpf/helpers.c); __ksym variables are not modelled',
  bpf_task_storage_get: 'returns the task\'s BPF_MAP_TYPE_TASK_STORAGE value (created with the flag), or NULL (kernel/bpf/bpf_task_storage.c); the simulation has no tasks',
  bpf_task_storage_delete: 'deletes the task\'s storage: 0 or -ENOENT (kernel/bpf/bpf_task_storage.c); the simulation has no tasks',
  bpf_snprintf: 'formats into the buffer like bpf_trace_printk and returns the length the whole output needs with its NUL, or -EINVAL for a bad format (kernel/bpf/helpers.c bpf_snprintf); not modelled',
  bpf_timer_init: 'initialises a struct bpf_timer in a map value: 0, -EBUSY when already initialised (kernel/bpf/helpers.c); timers are not modelled',
  bpf_timer_set_callback: 'sets the timer\'s callback: 0, or -EINVAL before bpf_timer_init (kernel/bpf/helpers.c); timers are not modelled',
  bpf_timer_start: 'arms the timer: 0, or -EINVAL before bpf_timer_init (kernel/bpf/helpers.c); timers are not modelled',
  bpf_timer_cancel: 'cancels the timer: 1 if it was active, 0 if not, -EDEADLK from its own callback (kernel/bpf/helpers.c); timers are not modelled',
  bpf_task_pt_regs: 'returns the saved user registers of a task (kernel/trace/bpf_trace.c); the simulation has no tasks',
  bpf_get_branch_snapshot: 'fills the buffer with last-branch records, -ENOENT without LBR hardware (kernel/trace/bpf_trace.c); not modelled',
  bpf_find_vma: 'calls back with the vma holding an address of a task, or returns -ENOENT (kernel/bpf/task_iter.c); the simulation has no tasks',
  bpf_kptr_xchg: 'swaps a referenced kernel pointer stored in a map value and returns the old one (kernel/bpf/helpers.c); kptrs are not modelled',
  bpf_map_lookup_percpu_elem: 'returns the value of a per-CPU map on the given CPU, NULL past nr_cpu_ids (kernel/bpf/arraymap.c, hashtab.c); not modelled',
  bpf_dynptr_from_mem: 'makes a local dynptr over memory: 0, or -E2BIG/-EINVAL (kernel/bpf/helpers.c); dynptrs are not modelled',
  bpf_ringbuf_reserve_dynptr: 'reserves ring buffer space as a dynptr: 0, or -EAGAIN/-EINVAL (kernel/bpf/ringbuf.c); not modelled',
  bpf_ringbuf_submit_dynptr: 'commits a ring buffer dynptr (void; kernel/bpf/ringbuf.c); not modelled',
  bpf_ringbuf_discard_dynptr: 'drops a ring buffer dynptr (void; kernel/bpf/ringbuf.c); not modelled',
  bpf_dynptr_write: 'copies into a dynptr: 0, or -E2BIG/-EINVAL (kernel/bpf/helpers.c); dynptrs are not modelled',
  bpf_dynptr_data: 'returns a pointer into a dynptr\'s data, or NULL out of bounds (kernel/bpf/helpers.c); dynptrs are not modelled',
  bpf_user_ringbuf_drain: 'calls back once per sample of a BPF_MAP_TYPE_USER_RINGBUF and returns the count (kernel/bpf/ringbuf.c); not modelled',
};

/** The fault text of a call to a helper that is not modelled. */
export function notModelledMessage(name: string, id: number): string | undefined {
  const what = NOT_MODELLED[name];
  return what === undefined ? undefined : `${name}#${id} is not modelled by the emulator: in the kernel it ${what}`;
}
