// Profile `autolowat-tcp-ops-v5`: Linux 7.1.5 plus the struct_ops revision of the AutoLOWAT
// series (v5, posted 2026-10; its selftest program is S3 in ../../../shared/docs/kernel-facts.md
// §0). There is no receive-queue sock_ops op: the hooks are the members of `struct bpf_tcp_ops`,
// enabled per socket with a kfunc. What S3 shows is `seed`; what neither S3 nor the newsletters
// settle is `assumed` and cites docs/abi.md §5.N. Everything added is marked addedByProfile.
import type { KfuncInfo, OpRule, Source, StructOpsInfo, StructOpsProfile } from '../types';
import { clone, HELPERS_C, FILTER_C, seed, src } from './common';
import { linux715 } from './linux-7.1.5';

export const TCP_OPS_PROFILE = 'autolowat-tcp-ops-v5';
export const BPF_TCP_OPS_FLAG_RCVQ = 1;

const S3 = 'S3 (kernel-patches/bpf-rc progs/tcp_autolowat.c, the series\' struct_ops selftest)';

function assumed5(n: number, func: string, note: string): Source {
  return src(`docs/abi.md §5.${n}`, func, note, 'assumed');
}

/** What every bpf_tcp_ops member may call beyond the kfuncs below (assumed, §5.4): map and
 *  storage helpers, printk, time and random numbers, the socket casts, and bpf_dynptr_read. */
const MEMBER_HELPERS = [
  'bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem', 'bpf_sk_storage_get', 'bpf_sk_storage_delete',
  'bpf_trace_printk', 'bpf_trace_vprintk', 'bpf_ktime_get_ns', 'bpf_ktime_get_boot_ns', 'bpf_get_prandom_u32',
  'bpf_get_smp_processor_id', 'bpf_tcp_sock', 'bpf_skc_to_tcp_sock', 'bpf_dynptr_read', 'bpf_probe_read_kernel',
  'bpf_loop',
];
const COMMON_KFUNCS = ['bpf_rdonly_cast', 'bpf_tcp_ops_set_flags', 'bpf_tcp_ops_set_rcvlowat', 'bpf_dynptr_size', 'bpf_dynptr_slice'];

const structOps: StructOpsInfo = {
  struct: 'bpf_tcp_ops',
  members: [
    {
      name: 'enqueue_rcvq',
      args: [
        { name: 'sk', ctype: 'struct sock *', doc: 'the receiving socket (trusted, locked)' },
        { name: 'skb', ctype: 'struct sk_buff *', doc: 'the skb just queued in order on sk_receive_queue; TCP_SKB_CB(skb)->seq is its first payload byte' },
      ],
      ret: 'void',
      fires: 'after an skb is queued in order on sk_receive_queue and rcv_nxt advanced (the in-order path, each skb moved out of the out-of-order queue, Fast Open data), before tcp_data_ready(); only on sockets with BPF_TCP_OPS_FLAG_RCVQ',
      helpers: MEMBER_HELPERS,
      kfuncs: [...COMMON_KFUNCS, 'bpf_dynptr_from_skb'],
      source: seed(S3, 'enqueue_rcvq', 'SEC("struct_ops") void BPF_PROG(..., struct sock *sk, struct sk_buff *skb); placement assumed as RCVQ_CB\'s enqueue (docs/abi.md §5.3)'),
    },
    {
      name: 'dequeue_rcvq',
      args: [{ name: 'sk', ctype: 'struct sock *', doc: 'the socket whose reader just copied data (trusted, locked)' }],
      ret: 'void',
      fires: 'once per recvmsg() that copied data, after copied_seq moved (after tcp_cleanup_rbuf()); only on sockets with BPF_TCP_OPS_FLAG_RCVQ',
      helpers: MEMBER_HELPERS,
      kfuncs: COMMON_KFUNCS,
      source: seed(S3, 'dequeue_rcvq', 'SEC("struct_ops") void BPF_PROG(..., struct sock *sk); placement assumed as RCVQ_CB\'s recvmsg run (docs/abi.md §5.3)'),
    },
  ],
  enabledBy: {
    flag: 'BPF_TCP_OPS_FLAG_RCVQ', value: BPF_TCP_OPS_FLAG_RCVQ, kfunc: 'bpf_tcp_ops_set_flags',
    source: assumed5(1, 'BPF_TCP_OPS_FLAG_RCVQ', 'S3 uses the name only; the value 1 (bit 0) is ours'),
  },
  source: seed(S3, 'struct bpf_tcp_ops', 'members enqueue_rcvq(sk, skb) and dequeue_rcvq(sk), registered from SEC(".struct_ops.link"); member order assumed (docs/abi.md §5.2)'),
};

const ALL_OPS = linux715.ops.map((o) => o.value);

/** A kfunc callable only from bpf_tcp_ops members and cgroup/setsockopt: it never runs at a sock_ops op. */
function notAtSockOps(name: string): OpRule[] {
  return [{
    ops: ALL_OPS, result: -95,
    why: `${name}() is not registered for sock_ops programs in this profile`,
    source: assumed5(4, name, 'registered for the bpf_tcp_ops members and cgroup/setsockopt only'),
    addedByProfile: true,
  }];
}

const kfuncs: KfuncInfo[] = [
  {
    name: 'bpf_tcp_ops_set_flags',
    ret: 'int',
    params: [
      { name: 'tp', ctype: 'struct tcp_sock *', doc: 'the socket (a trusted pointer: a member\'s sk, or bpf_tcp_sock(ctx->sk) in cgroup/setsockopt)' },
      { name: 'set', ctype: 'u32', doc: 'flags to turn on (BPF_TCP_OPS_FLAG_RCVQ)' },
      { name: 'clear', ctype: 'u32', doc: 'flags to turn off' },
    ],
    doc: 'Turns the socket\'s bpf_tcp_ops hooks on or off: with BPF_TCP_OPS_FLAG_RCVQ set, enqueue_rcvq runs for every skb queued in order and dequeue_rcvq after every recvmsg() that copied data. Without it the hooks never run. Turning the flag on while bytes wait on the receive queue fails with -EUCLEAN, as do unknown bits (-EINVAL). Returns 0 or a negative errno.',
    progTypes: ['cgroup_setsockopt'],
    sockOpsRules: notAtSockOps('bpf_tcp_ops_set_flags'),
    errors: [
      { errno: -22, when: 'set or clear has a bit other than BPF_TCP_OPS_FLAG_RCVQ, or both name the same bit (-EINVAL, assumed: docs/abi.md §5.5)' },
      { errno: -117, when: 'turning BPF_TCP_OPS_FLAG_RCVQ on while the receive queue is not empty (-EUCLEAN, carried over from the sock_ops revision: docs/abi.md §5.5)' },
      { errno: -16, when: 'turning it on for a socket in a SOCKMAP/SOCKHASH (-EBUSY, docs/abi.md §5.5)' },
      { errno: -95, when: 'turning it on for an MPTCP subflow (-EOPNOTSUPP, docs/abi.md §5.5)' },
    ],
    flags: ['KF_TRUSTED_ARGS'],
    addedByProfile: true,
    source: seed(S3, 'bpf_tcp_ops_set_flags', 'called as bpf_tcp_ops_set_flags(tp, BPF_TCP_OPS_FLAG_RCVQ, 0) from cgroup/setsockopt and (tp, 0, BPF_TCP_OPS_FLAG_RCVQ) from a member; errors assumed (docs/abi.md §5.5)'),
  },
  {
    name: 'bpf_tcp_ops_set_rcvlowat',
    ret: 'int',
    params: [
      { name: 'sk', ctype: 'struct sock *', doc: 'the socket (a member\'s sk)' },
      { name: 'val', ctype: 'int', doc: 'new sk_rcvlowat in bytes; negative means INT_MAX' },
    ],
    doc: 'Sets sk->sk_rcvlowat with the rules of the sock_ops revision\'s bpf_sock_ops_tcp_set_rcvlowat(): negative val becomes INT_MAX, then tcp_set_rcvlowat()\'s cap, 0 becomes 1, and an unlocked sk_rcvbuf grows to fit. From enqueue_rcvq it does not wake the reader (tcp_data_ready() follows the hook); from dequeue_rcvq and cgroup/setsockopt it checks for a wakeup itself. Returns 0.',
    progTypes: ['cgroup_setsockopt'],
    sockOpsRules: notAtSockOps('bpf_tcp_ops_set_rcvlowat'),
    errors: [],
    flags: ['KF_TRUSTED_ARGS'],
    addedByProfile: true,
    source: seed(S3, 'bpf_tcp_ops_set_rcvlowat', 'called as bpf_tcp_ops_set_rcvlowat(sk, val) from both members; the rules follow bpf_sock_ops_tcp_set_rcvlowat (docs/abi.md §5.6)'),
  },
  {
    name: 'bpf_dynptr_from_skb',
    ret: 'int',
    params: [
      { name: 's', ctype: 'struct __sk_buff *', doc: 'the skb (enqueue_rcvq\'s skb, cast)' },
      { name: 'flags', ctype: 'u64', doc: 'must be 0' },
      { name: 'ptr__uninit', ctype: 'struct bpf_dynptr *', doc: 'the dynptr to initialise (on the stack)' },
    ],
    doc: 'Makes a read-only dynptr over the skb\'s bytes, offset 0 = skb->data (here the first payload byte: the TCP header is already pulled), size skb->len. Returns 0, or -EINVAL for non-zero flags (the dynptr is then NULL and every read of it fails with -EINVAL).',
    progTypes: [],
    sockOpsRules: notAtSockOps('bpf_dynptr_from_skb'),
    errors: [{ errno: -22, when: 'flags is not 0: the dynptr is set to NULL (-EINVAL)' }],
    flags: [],
    addedByProfile: true,
    // The function is 7.1.5's (net/core/filter.c bpf_dynptr_from_skb: bpf_dynptr_init(ptr, skb,
    // BPF_DYNPTR_TYPE_SKB, 0, skb->len); flags -> -EINVAL and bpf_dynptr_set_null); 7.1.5 does not
    // register bpf_kfunc_set_skb for struct_ops: S3 calls it from enqueue_rcvq, so the series does.
    source: seed(S3, 'bpf_dynptr_from_skb', `bpf_dynptr_from_skb((struct __sk_buff *)skb, 0, &dptr) in enqueue_rcvq; semantics from ${FILTER_C} bpf_dynptr_from_skb`),
  },
  {
    name: 'bpf_dynptr_slice',
    ret: 'void *',
    params: [
      { name: 'p', ctype: 'const struct bpf_dynptr *' },
      { name: 'offset', ctype: 'u64' },
      { name: 'buffer__nullable', ctype: 'void *', doc: 'a buffer of buffer__szk bytes the data is copied to when it is not linear; may be NULL' },
      { name: 'buffer__szk', ctype: 'u64', doc: 'the slice length: a constant' },
    ],
    doc: 'A read-only pointer to buffer__szk bytes of the dynptr at offset: straight into the skb when they are linear, else a copy into the buffer. NULL for a NULL dynptr or when offset + len is past its size. Check the result for NULL before use.',
    progTypes: ['cgroup_setsockopt', 'cgroup_getsockopt'],
    sockOpsRules: [],
    errors: [],
    flags: ['KF_RET_NULL'],
    source: src(HELPERS_C, 'bpf_dynptr_slice', 'common_btf_ids (every program type); skb: skb_header_pointer(buffer) or skb_pointer_if_linear'),
  },
  {
    name: 'bpf_dynptr_size',
    ret: 'u64',
    params: [{ name: 'p', ctype: 'const struct bpf_dynptr *' }],
    doc: 'The dynptr\'s size in bytes (skb->len for an skb dynptr), 0 for a NULL dynptr.',
    progTypes: ['cgroup_setsockopt', 'cgroup_getsockopt'],
    sockOpsRules: [],
    errors: [],
    flags: [],
    source: src(HELPERS_C, 'bpf_dynptr_size', 'common_btf_ids; __bpf_dynptr_size: size & DYNPTR_SIZE_MASK'),
  },
];

function build(): StructOpsProfile {
  const p = clone(linux715) as StructOpsProfile;
  p.name = TCP_OPS_PROFILE;
  p.description = 'Linux 7.1.5 plus the AutoLOWAT series v5 (struct_ops): struct bpf_tcp_ops { enqueue_rcvq(sk, skb); dequeue_rcvq(sk); }, BPF_TCP_OPS_FLAG_RCVQ (1), kfuncs bpf_tcp_ops_set_flags and bpf_tcp_ops_set_rcvlowat, the payload through bpf_dynptr_from_skb/bpf_dynptr_read.';
  p.baseline = linux715.name;
  p.structOps = structOps;
  // kfuncs the baseline already has (bpf_rdonly_cast...) stay; ours are appended.
  const have = new Set(p.kfuncs.map((k) => k.name));
  for (const k of kfuncs) if (!have.has(k.name)) p.kfuncs.push(k);
  p.constants.push({ name: 'BPF_TCP_OPS_FLAG_RCVQ', value: BPF_TCP_OPS_FLAG_RCVQ, source: structOps.enabledBy.source, addedByProfile: true });
  // bpf_dynptr_read is in bpf_base_func_proto (kernel/bpf/helpers.c, CAP_BPF): the members reach it.
  const dr = p.helpers.find((h) => h.name === 'bpf_dynptr_read');
  if (dr) {
    dr.doc = 'Copies len bytes of the dynptr at offset into dst. Returns 0; -EINVAL for a NULL dynptr or non-zero flags; -E2BIG when offset + len is past the dynptr\'s size; for an skb dynptr -EFAULT when the bytes cannot be read. dst is left as it was on error.';
    dr.errors = [
      { errno: -22, when: 'the dynptr is NULL (bpf_dynptr_from_skb failed) or flags is not 0 (-EINVAL)' },
      { errno: -7, when: 'offset + len is past the dynptr\'s size (-E2BIG, bpf_dynptr_check_off_len)' },
    ];
    dr.source = src(HELPERS_C, '__bpf_dynptr_read', '!src->data || flags -> -EINVAL; bpf_dynptr_check_off_len -> -E2BIG; SKB: __bpf_skb_load_bytes');
  }
  return p;
}

export const autolowatTcpOpsV5: StructOpsProfile = build();

/** The profile's struct_ops type when `p` has one. */
export function structOpsOf(p: { structOps?: StructOpsInfo }): StructOpsInfo | undefined {
  return p.structOps;
}
