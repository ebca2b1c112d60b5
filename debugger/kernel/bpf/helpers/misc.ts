// Time, random numbers, printk, perf output, bpf_loop and the cgroup retval (kernel/bpf/helpers.c,
// kernel/trace/bpf_trace.c, kernel/bpf/cgroup.c).
import { E2BIG, EINVAL } from '../consts';
import { bpfLoop } from '../callbacks';
import { formatPrintk, formatPrintkAt, MAX_BPRINTF_VARARGS } from '../printk';
import { i32, r64, u32, type Impl } from '../run';
import { printkMemory, readBytes } from './common';

export const MISC_HELPERS: Record<string, Impl> = {
  bpf_ktime_get_ns: (c) => c.host.now(),
  bpf_ktime_get_boot_ns: (c) => c.host.now(),
  bpf_ktime_get_coarse_ns: (c) => c.host.now(),
  bpf_get_prandom_u32: (c) => BigInt(c.host.rand()),
  bpf_get_smp_processor_id: () => 0n,
  bpf_get_numa_node_id: () => 0n,
  bpf_trace_printk(c, a) {
    // the format read in place when it lies in one region (readBytes would copy it; a bad
    // address goes through readBytes for its fault)
    const size = u32(a[1]!);
    const hit = size > 0 ? c.hc.memory.find(a[0]!, size) : null;
    const args = [a[2]!, a[3]!, a[4]!];
    const r = hit ? formatPrintkAt(hit.region.bytes, hit.offset, size, args, printkMemory(c)) : formatPrintk(readBytes(c, a[0]!, size), args, printkMemory(c));
    if (!r.ok) return r64(r.errno);
    c.host.printk(c, r.text);
    return BigInt(r.ret);
  },
  bpf_trace_vprintk(c, a) {
    const dataLen = u32(a[3]!);
    if (dataLen & 7 || dataLen > MAX_BPRINTF_VARARGS * 8 || (dataLen && a[2] === 0n)) return r64(-EINVAL);
    const fmt = readBytes(c, a[0]!, u32(a[1]!));
    const raw = dataLen ? readBytes(c, a[2]!, dataLen) : new Uint8Array(0);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const args = Array.from({ length: dataLen / 8 }, (_, i) => dv.getBigUint64(8 * i, true));
    const r = formatPrintk(fmt, args, printkMemory(c));
    if (!r.ok) return r64(r.errno);
    c.host.printk(c, r.text);
    return BigInt(r.ret);
  },
  bpf_perf_event_output(c, a) {
    // bpf_event_output_data -> __bpf_perf_event_output: index from flags (BPF_F_INDEX_MASK), current CPU = 0.
    const m = c.host.map(c, a[1]!);
    const flags = a[2]!;
    if (flags & ~0xfffff_ffffffffn) return r64(-EINVAL); // only BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK
    let index = Number(flags & 0xffffffffn);
    if (index === 0xffffffff) index = 0;
    if (index >= (m.def.maxEntries || 1)) return r64(-E2BIG); // max_entries 0: libbpf sizes it to the CPUs (1 here)
    const data = readBytes(c, a[3]!, u32(a[4]!));
    m.perfOutput.push({ index, data });
    return 0n;
  },
  bpf_loop: (c, a) => bpfLoop(c.hc, a[0]!, a[1]!, a[2]!, a[3]!, c.env.loopInlined.has(c.hc.pc)),
  // kernel/bpf/cgroup.c: bpf_cg_run_ctx.retval of the cgroup hook in progress (int, sign-extended to r0).
  bpf_get_retval: (c) => r64(c.run.retval),
  bpf_set_retval(c, a) {
    c.run.retval = i32(a[0]!);
    return 0n;
  },
};
