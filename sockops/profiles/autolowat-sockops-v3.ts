// Profile `autolowat-sockops-v3` (default): Linux 7.1.5 plus the AutoLOWAT SOCK_OPS series v3
// (../../../shared/seed/autolowat-sockops-v3.txt) with the ABI choices of docs/abi.md §4.
// Everything this file adds or changes is marked addedByProfile and cites the seed or is `assumed`.
import type { CbFlagInfo, HelperInfo, KfuncInfo, OpInfo, OpRule, Profile } from '../types';
import { assumed, clone, seed } from './common';
import { linux715 } from './linux-7.1.5';

export const RCVQ_CB = 21;
export const RCVQ_CB_FLAG = 0x80;

// The seed text carries the commit messages, not their subject lines: we name each patch by what it does.
const P_HOOKS = 'patch "introduce BPF_SOCK_OPS_RCVQ_CB" (opt-in hooks, is_locked_tcp_sock_ops() unchanged)';
const P_LOAD_BYTES = 'patch "support bpf_skb_load_bytes() for BPF_SOCK_OPS_RCVQ_CB"';
const P_KFUNC = 'patch "add kfunc bpf_sock_ops_tcp_set_rcvlowat()"';
const P_SPLIT = 'patch "split out __tcp_set_rcvlowat()" (wakeup flag)';
const P_SOCKMAP = 'patch "make BPF_SOCK_OPS_RCVQ_CB and SOCKMAP mutually exclusive"';
const P_MPTCP = 'patch "disable BPF_SOCK_OPS_RCVQ_CB for MPTCP"';
const P_EUCLEAN = 'patch "fail enabling BPF_SOCK_OPS_RCVQ_CB with a non-empty receive queue" (-EUCLEAN)';
const P_CALL = 'patch "call BPF_SOCK_OPS_RCVQ_CB hooks" (tcp_queue_rcv, tcp_ofo_queue, tcp_fastopen_add_skb, __tcp_cleanup_rbuf)';

const rcvqOp: OpInfo = {
  value: RCVQ_CB,
  name: 'BPF_SOCK_OPS_RCVQ_CB',
  short: 'RCVQ_CB',
  args: ['', '', '', ''],
  fires:
    'after an skb is queued on sk_receive_queue and rcv_nxt advanced (tcp_queue_rcv, tcp_ofo_queue per skb moved, tcp_fastopen_add_skb), with skb = the arriving skb, before tcp_data_ready(); and once per recvmsg() that copied data (__tcp_cleanup_rbuf) with skb = NULL',
  enabledBy: 'BPF_SOCK_OPS_RCVQ_CB_FLAG',
  isFullsock: true,
  isLockedTcpSock: true,
  hasSkb: 'varies',
  addedByProfile: true,
  source: seed(P_CALL, 'tcp_bpf_rcvlowat', 'value 21 is assumed (next free op, docs/abi.md §4.1); is_fullsock = is_locked_tcp_sock = 1 inferred from the selftest reading sk and bpf_sock_ops_cb_flags (docs/abi.md §4.2)'),
};

const rcvqFlag: CbFlagInfo = {
  name: 'BPF_SOCK_OPS_RCVQ_CB_FLAG',
  value: RCVQ_CB_FLAG,
  ops: [RCVQ_CB],
  doc: 'Run the program with RCVQ_CB when data is queued on the receive queue and after each recvmsg(). Enabling it fails with -EUCLEAN while the receive queue is not empty.',
  addedByProfile: true,
  source: seed(P_HOOKS, 'BPF_SOCK_OPS_RCVQ_CB_FLAG', 'bit 7 (0x80) is assumed: the next free bit of the u8 tcp_sock.bpf_sock_ops_cb_flags (docs/abi.md §4.1)'),
};

const ENABLE_ERRORS: { errno: number; when: string }[] = [
  { errno: -117, when: `enabling BPF_SOCK_OPS_RCVQ_CB_FLAG while the receive queue is not empty (-EUCLEAN): the flag stays off (seed: ${P_EUCLEAN})` },
  { errno: -16, when: `enabling BPF_SOCK_OPS_RCVQ_CB_FLAG on a socket in a SOCKMAP/SOCKHASH (-EBUSY; refusal from seed: ${P_SOCKMAP}, errno assumed)` },
  { errno: -95, when: `enabling BPF_SOCK_OPS_RCVQ_CB_FLAG on an MPTCP subflow (-EOPNOTSUPP; refusal from seed: ${P_MPTCP}, errno assumed)` },
];

function rcvqLockedRule(fn: string, kernelFunc: string): OpRule {
  return {
    ops: [RCVQ_CB], result: -95,
    why: `${fn}() is not supported at RCVQ_CB: the series leaves is_locked_tcp_sock_ops() (op <= 15) unchanged`,
    source: seed(P_HOOKS, kernelFunc, '"is_locked_tcp_sock_ops() is left unchanged not to enable bpf_setsockopt() unnecessarily"'),
    addedByProfile: true,
  };
}

function patchHelpers(helpers: HelperInfo[]): HelperInfo[] {
  const byName = new Map(helpers.map((h) => [h.name, h]));
  const get = (n: string) => byName.get(n)!;

  get('bpf_setsockopt').sockOpsRules.push(rcvqLockedRule('bpf_setsockopt', 'bpf_sock_ops_setsockopt'));
  get('bpf_setsockopt').errors!.push(...ENABLE_ERRORS.map((e) => ({ ...e, when: `SOL_TCP/TCP_BPF_SOCK_OPS_CB_FLAGS: ${e.when}` })));
  get('bpf_getsockopt').sockOpsRules.push(rcvqLockedRule('bpf_getsockopt', 'bpf_sock_ops_getsockopt'));
  // right after the baseline's is_locked_tcp_sock_ops rule: the kernel checks the op before the arguments
  get('bpf_load_hdr_opt').sockOpsRules.splice(1, 0, rcvqLockedRule('bpf_load_hdr_opt', 'bpf_sock_ops_load_hdr_opt'));

  const cb = get('bpf_sock_ops_cb_flags_set');
  cb.sockOpsRules.unshift({
    ops: [RCVQ_CB], result: 'ok',
    why: 'bpf_sock_ops_cb_flags_set() is supported at RCVQ_CB so that the hook can disable itself',
    source: seed(P_HOOKS, 'bpf_sock_ops_cb_flags_set', '"bpf_sock_ops_cb_flags_set() is supported at BPF_SOCK_OPS_RCVQ_CB to disable by itself"'),
    addedByProfile: true,
  });
  cb.errors = [...(cb.errors ?? []), ...ENABLE_ERRORS];
  cb.doc = cb.doc.replace('It only works at ops 0-15', 'It works at ops 0-15 and, with this series, at RCVQ_CB');

  // The kernel's "op != X" checks hold for the new op too.
  for (const n of ['bpf_store_hdr_opt', 'bpf_reserve_hdr_opt', 'bpf_sock_map_update', 'bpf_sock_hash_update']) {
    for (const r of get(n).sockOpsRules) if (r.result !== 'ok' && !r.when) r.ops = [...r.ops, RCVQ_CB];
  }
  for (const n of ['bpf_sock_map_update', 'bpf_sock_hash_update']) {
    get(n).errors = [...(get(n).errors ?? []), { errno: -16, when: 'the socket has BPF_SOCK_OPS_RCVQ_CB_FLAG on (-EBUSY, assumed; seed: RCVQ_CB and SOCKMAP are mutually exclusive)' }];
  }

  const lb = get('bpf_skb_load_bytes');
  lb.progTypes = { sock_ops: true };
  lb.addedByProfile = true;
  lb.doc =
    'Copies len bytes of the skb queued at RCVQ_CB into to, offset counted from the skb\'s first payload byte (TCP_SKB_CB(skb)->seq). The series wires it for sock_ops because with header/data split the payload is not in the linear area, so skb_data..skb_data_end is left empty. len must be a verifier-known constant > 0. Returns 0, or -EFAULT with to zero-filled when the skb is NULL (the recvmsg call of the hook) or the range is out of bounds.';
  lb.params = [
    { name: 'skops', ctype: 'const void *', doc: 'the struct bpf_sock_ops * ctx' },
    { name: 'offset', ctype: 'u32', doc: 'byte offset from the first payload byte of the skb' },
    { name: 'to', ctype: 'void *', doc: 'destination buffer (stack or map value)' },
    { name: 'len', ctype: 'u32', doc: 'bytes to copy; a constant > 0' },
  ];
  lb.sockOpsRules = [{
    ops: linux715.ops.map((o) => o.value), result: -95, zeroes: { arg: 2, lenArg: 3 },
    why: 'bpf_skb_load_bytes() from sock_ops only works at RCVQ_CB',
    source: assumed('bpf_sock_ops_load_bytes', 'the series enables it for BPF_SOCK_OPS_RCVQ_CB; the result at other ops is our choice (docs/abi.md §4.3), and so is zeroing `to` there as its -EFAULT path does'),
    addedByProfile: true,
  }];
  lb.errors = [
    { errno: -14, when: 'skb is NULL (the recvmsg call of RCVQ_CB) or offset+len is beyond the skb; to is zero-filled (-EFAULT)' },
  ];
  lb.progSource = { sock_ops: seed(P_LOAD_BYTES, 'sock_ops_func_proto', '"Let\'s support bpf_skb_load_bytes() for BPF_SOCK_OPS_RCVQ_CB"; ____bpf_skb_load_bytes() on bpf_sock_ops_kern.skb') };
  lb.source = seed(P_LOAD_BYTES, 'bpf_skb_load_bytes', 'notes 1) skb NULL from recvmsg(), 2) bpf_sock_ops.data disabled via end_offset 0');
  return helpers;
}

function patchKfuncs(kfuncs: KfuncInfo[]): KfuncInfo[] {
  for (const k of kfuncs) if (k.name === 'bpf_sock_ops_enable_tx_tstamp') k.sockOpsRules[0].ops.push(RCVQ_CB);
  kfuncs.push({
    name: 'bpf_sock_ops_tcp_set_rcvlowat',
    ret: 'int',
    params: [
      { name: 'skops', ctype: 'struct bpf_sock_ops_kern *', doc: 'bpf_cast_to_kern_ctx(skops)' },
      { name: 'val', ctype: 'int', doc: 'new sk_rcvlowat in bytes; negative means INT_MAX' },
    ],
    doc:
      'Sets sk->sk_rcvlowat from RCVQ_CB with the tcp_set_rcvlowat() rules: negative val becomes INT_MAX, the value is capped (sk_rcvbuf/2 if SO_RCVBUF was set, else tcp_rmem[2]/2), 0 becomes 1, and an unlocked sk_rcvbuf grows to fit val. On the enqueue call it does not wake the reader (tcp_data_ready() follows the hook); on the recvmsg call (skb NULL) it checks for a wakeup itself. Returns 0.',
    progTypes: ['sock_ops'],
    sockOpsRules: [{
      ops: linux715.ops.map((o) => o.value), result: -95,
      why: 'bpf_sock_ops_tcp_set_rcvlowat() only works at RCVQ_CB',
      source: assumed('bpf_sock_ops_tcp_set_rcvlowat', 'the series calls it from RCVQ_CB only; the result at other ops is our choice (docs/abi.md §4.4)'),
      addedByProfile: true,
    }],
    errors: [],
    flags: [],
    addedByProfile: true,
    source: seed(P_KFUNC, 'bpf_sock_ops_tcp_set_rcvlowat', '"Negative values are clamped to INT_MAX"; wakeup = (skb == NULL), see also ' + P_SPLIT),
  });
  return kfuncs;
}

function build(): Profile {
  const p = clone(linux715);
  p.name = 'autolowat-sockops-v3';
  p.description = 'Linux 7.1.5 plus the AutoLOWAT SOCK_OPS series v3: BPF_SOCK_OPS_RCVQ_CB (21), BPF_SOCK_OPS_RCVQ_CB_FLAG (0x80), bpf_skb_load_bytes at RCVQ_CB, kfunc bpf_sock_ops_tcp_set_rcvlowat.';
  p.baseline = linux715.name;
  p.ops.push(rcvqOp);
  p.cbFlags.push(rcvqFlag);
  p.allCbFlags = 0xff;
  const all = p.constants.find((c) => c.name === 'BPF_SOCK_OPS_ALL_CB_FLAGS')!;
  all.value = 0xff;
  all.addedByProfile = true;
  all.source = assumed('BPF_SOCK_OPS_ALL_CB_FLAGS', 'mask of all cb flags including RCVQ_CB_FLAG 0x80 (docs/abi.md §4.1)');
  for (const name of ['skb_data', 'skb_data_end']) {
    const f = p.ctxFields.find((x) => x.name === name)!;
    (f.alsoZeroAt ??= []).push({
      ops: [RCVQ_CB],
      why: 'at RCVQ_CB the series passes end_offset 0 to bpf_skops_init_skb(), so skb_data == skb_data_end (no direct packet access); both are 0 on the recvmsg call (skb NULL)',
      hint: 'read the payload with bpf_skb_load_bytes(skops, offset, buf, len), offset from the skb\'s first payload byte',
      kind: 'empty',
      source: seed(P_CALL, 'bpf_skops_init_skb', '"direct access to bpf_sock_ops.data is intentionally disabled by passing 0 as end_offset"'),
      addedByProfile: true,
    });
  }
  patchHelpers(p.helpers);
  patchKfuncs(p.kfuncs);
  return p;
}

export const autolowatV3: Profile = build();
