// Helpers that read kernel or user memory, and the string, lock, clock and cgroup-id helpers of
// kernel/bpf/helpers.c: bpf_probe_read_kernel{,_str} (kernel/trace/bpf_trace.c, over
// copy_from_kernel_nofault / strncpy_from_kernel_nofault), bpf_probe_read_user{,_str},
// bpf_strncmp, bpf_spin_lock/unlock, bpf_jiffies64, bpf_ktime_get_tai_ns,
// bpf_get_current_cgroup_id, bpf_get_current_ancestor_cgroup_id.
import { getProfile } from '../../../../sockops';
import { EFAULT } from '../consts';
import { i32, r64, u32, type CallCtx, type Impl } from '../run';
import { readBytes, zeroFill } from './common';

/** ERANGE from the table's errnos (consts.ts does not export it). */
const ERANGE = getProfile('linux-7.1.5').errnos.find((e) => e.name === 'ERANGE')?.value ?? 34;
/** x86_64: copy_from_kernel_nofault_allowed() refuses the user half (below TASK_SIZE_MAX + PAGE_SIZE). */
const USER_END = 0x0000_8000_0000_0000n;

/** Kernel bytes at [addr, addr+len) if a mapped region holds them all, else the errno
 *  copy_from_kernel_nofault returns. */
function kernelBytes(c: CallCtx, addr: bigint, len: number): Uint8Array | number {
  if (len === 0) return new Uint8Array(0);
  if (addr < USER_END) return -ERANGE;
  return c.hc.memory.find(addr, len) ? c.hc.memory.readBytes(addr, len) : -EFAULT;
}

export const MEMORY_HELPERS: Record<string, Impl> = {
  bpf_probe_read_kernel(c, a) {
    // bpf_probe_read_kernel_common: the copy, or a zeroed dst and the error
    const size = u32(a[1]!);
    const src = kernelBytes(c, a[2]!, size);
    if (typeof src === 'number') {
      zeroFill(c, a[0]!, size);
      return r64(src);
    }
    if (size) c.hc.memory.writeBytes(a[0]!, src);
    return 0n;
  },
  bpf_probe_read_kernel_str(c, a) {
    // strncpy_from_kernel_nofault: at most size-1 bytes then a NUL; returns the bytes copied with
    // the NUL; a fault zeroes dst and returns -EFAULT (-ERANGE in the user half)
    const size = u32(a[1]!);
    if (size === 0) return 0n;
    const dst = a[0]!;
    const src = a[2]!;
    if (src < USER_END) {
      zeroFill(c, dst, size);
      return r64(-ERANGE);
    }
    const out = new Uint8Array(size);
    let n = 0;
    for (; n < size - 1; n++) {
      if (!c.hc.memory.find(src + BigInt(n), 1)) {
        zeroFill(c, dst, size);
        return r64(-EFAULT);
      }
      const b = c.hc.memory.readBytes(src + BigInt(n), 1)[0]!;
      if (b === 0) break;
      out[n] = b;
    }
    c.hc.memory.writeBytes(dst, out.subarray(0, n + 1));
    return BigInt(n + 1);
  },
  // copy_from_user_nofault / strncpy_from_user_nofault: every address a program holds in the
  // simulation is a kernel one (there is no user address space): access_ok() fails, dst is zeroed
  bpf_probe_read_user(c, a) {
    zeroFill(c, a[0]!, u32(a[1]!));
    return r64(-EFAULT);
  },
  bpf_probe_read_user_str(c, a) {
    const size = u32(a[1]!);
    if (size === 0) return 0n;
    zeroFill(c, a[0]!, size);
    return r64(-EFAULT);
  },
  bpf_strncmp(c, a) {
    // kernel/bpf/helpers.c bpf_strncmp -> strncmp(s1, s2, s1_sz): -1, 0 or 1 (lib/string.c)
    const n = u32(a[1]!);
    const s1 = readBytes(c, a[0]!, n);
    for (let i = 0; i < n; i++) {
      const c1 = s1[i]!;
      const c2 = c.hc.memory.readBytes(a[2]! + BigInt(i), 1)[0]!;
      if (c1 !== c2) return c1 < c2 ? r64(-1) : 1n;
      if (!c1) break;
    }
    return 0n;
  },
  // one CPU and runs that never interleave: the lock is always free
  bpf_spin_lock: () => 0n,
  bpf_spin_unlock: () => 0n,
  // get_jiffies_64() with HZ = 1000 (assumed CONFIG_HZ) on the simulation's clock
  bpf_jiffies64: (c) => c.host.now() / 1_000_000n,
  // ktime_get_tai_fast_ns(): the simulation keeps TAI = its monotonic clock (offset 0, assumed)
  bpf_ktime_get_tai_ns: (c) => c.host.now(),
  // cgroup_id(task_dfl_cgroup(current)): the current task is in the simulation's one cgroup,
  // the one the programs are attached to (assumed: the root of the default hierarchy, id 1,
  // level 0; in softirq the kernel reads whichever task is current)
  bpf_get_current_cgroup_id: () => BigInt(SIM_CGROUP_ID),
  // the ancestor at `level`: the cgroup itself at level 0, none (0) deeper
  bpf_get_current_ancestor_cgroup_id: (_c, a) => (i32(a[0]!) === 0 ? BigInt(SIM_CGROUP_ID) : 0n),
};

/** kernfs id of the simulation's one cgroup (assumed: the root cgroup's, 1). */
export const SIM_CGROUP_ID = 1;
