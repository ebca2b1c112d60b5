// The kfuncs of our program types (kernel/bpf/helpers.c bpf_cast_to_kern_ctx, bpf_rdonly_cast;
// net/core/filter.c bpf_sock_ops_enable_tx_tstamp; the AutoLOWAT series' bpf_sock_ops_tcp_set_rcvlowat).
import { EINVAL, INT_MAX } from './consts';
import { i32, r64, type Impl } from './run';
import { DYNPTR_KFUNCS } from './dynptr';
import { TCP_OPS_KFUNCS } from './structops';

export const KFUNCS: Record<string, Impl> = {
  ...DYNPTR_KFUNCS, // bpf_dynptr_from_skb, bpf_dynptr_slice, bpf_dynptr_size (./dynptr.ts)
  ...TCP_OPS_KFUNCS, // the struct_ops AutoLOWAT kfuncs (./structops.ts)
  bpf_cast_to_kern_ctx(c, a) {
    if (a[0] !== c.run.info.ctxBase || c.run.info.kernCtxBase === undefined) return a[0]!;
    return c.run.info.kernCtxBase;
  },
  bpf_rdonly_cast: (_c, a) => a[0]!, // the pointer itself: reads go to the object's region
  bpf_sock_ops_enable_tx_tstamp(_c, a) {
    // net/core/filter.c after the op check (TSTAMP_SENDMSG_CB only): flags must be 0.
    return a[1] !== 0n ? r64(-EINVAL) : 0n;
  },
  bpf_sock_ops_tcp_set_rcvlowat(c, a) {
    // design.md §4.4 (seed): negative -> INT_MAX, then the tcp_set_rcvlowat() rules; wake up only
    // on the recvmsg path (skb NULL), the enqueue path's tcp_data_ready() follows the hook.
    let val = i32(a[1]!);
    if (val < 0) val = INT_MAX;
    return r64(c.run.objs.sock.setRcvlowat(val, { wakeup: c.run.skb === null }));
  },
};
