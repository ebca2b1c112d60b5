// Invariants of the sock_ops ABI table, checked against the mirrored kernel tree when it is present
// (else against the committed expectations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROFILE, getProfile, profileNames, table, SockopsTable } from '../../../sockops/index';
import type { Profile, ProgType, Source } from '../../../sockops/types';
import { UAPI_HELPERS } from '../../../sockops/data/uapi-helpers';
import { parseFuncIds, parsePrototypes } from '../../../sockops/tools/uapi';
import { HOST_ASM_INCLUDE, cFunctionBody, funcCases, mirrorFile, which } from './kernel-src';

const uapi = mirrorFile('include/uapi/linux/bpf.h');
const filterC = mirrorFile('net/core/filter.c');
const helpersC = mirrorFile('kernel/bpf/helpers.c');
const cgroupC = mirrorFile('kernel/bpf/cgroup.c');
const profiles = profileNames().map((n) => getProfile(n));
const CONF = new Set(['kernel-7.1.5', 'seed', 'assumed']);

test('profiles: names, default, unknown name, cached tables', () => {
  assert.deepEqual(new Set(profileNames()), new Set(['autolowat-sockops-v3', 'linux-7.1.5', 'autolowat-tcp-ops-v5']));
  assert.equal(DEFAULT_PROFILE, 'autolowat-sockops-v3');
  assert.equal(getProfile().name, DEFAULT_PROFILE);
  assert.throws(() => getProfile('linux-6.1'), /unknown sock_ops profile "linux-6.1".*autolowat-sockops-v3.*linux-7\.1\.5/);
  assert.equal(table(), table(DEFAULT_PROFILE));
  assert.notEqual(table('linux-7.1.5'), table());
  assert.equal(getProfile('autolowat-sockops-v3').baseline, 'linux-7.1.5');
});

test('committed UAPI helper list matches the mirror header (ids and prototypes)', { skip: !uapi && 'mirror not present' }, () => {
  const ids = parseFuncIds(uapi!);
  assert.ok(ids.length > 200);
  assert.deepEqual(UAPI_HELPERS.map((r) => [r[0], r[1]]), ids.map((x) => [x.id, x.name]));
  const protos = parsePrototypes(uapi!);
  for (const [, name, ret] of UAPI_HELPERS) if (protos.has(name)) assert.equal(ret, protos.get(name)!.ret, name);
});

test('helper ids are unique, named bpf_<name> and equal the UAPI BPF_FUNC_* values', () => {
  const expected = new Map<string, number>(
    uapi ? parseFuncIds(uapi).map((x) => [x.name, x.id]) : UAPI_HELPERS.map((r) => [r[1], r[0]]),
  );
  // A few ids written down independently of any parser.
  for (const [n, id] of [['map_lookup_elem', 1], ['skb_load_bytes', 26], ['setsockopt', 49], ['sock_ops_cb_flags_set', 59], ['getsockopt', 57], ['sk_storage_get', 107], ['load_hdr_opt', 142], ['store_hdr_opt', 143], ['reserve_hdr_opt', 144]] as const) {
    assert.equal(expected.get(n), id, n);
  }
  for (const p of profiles) {
    const seen = new Set<number>();
    for (const h of p.helpers) {
      assert.ok(!seen.has(h.id), `${p.name}: duplicate helper id ${h.id}`);
      seen.add(h.id);
      assert.match(h.name, /^bpf_\w+$/);
      assert.equal(expected.get(h.name.slice(4)), h.id, `${p.name}: ${h.name}`);
    }
    assert.equal(seen.size, expected.size - 1, `${p.name}: every UAPI helper but unspec has a row`);
  }
});

test('op and cb flag values match the UAPI enums; RCVQ_CB only in the AutoLOWAT profile', () => {
  const base = getProfile('linux-7.1.5');
  const v3 = getProfile('autolowat-sockops-v3');
  const enumValues = new Map<string, number>();
  if (uapi) {
    for (const m of uapi.matchAll(/^\s*(BPF_SOCK_OPS_\w+)\s*=\s*\(?\s*(\w+)(?:\s*<<\s*(\d+))?\s*\)?\s*,/gm)) {
      const v = m[3] !== undefined ? Number(m[2]) << Number(m[3]) : Number(m[2]);
      if (!Number.isNaN(v)) enumValues.set(m[1], v);
    }
    // Ops after VOID are implicit; count them in order.
    const opsBlock = uapi.slice(uapi.indexOf('BPF_SOCK_OPS_VOID'), uapi.indexOf('BPF_SOCK_OPS_TSTAMP_SENDMSG_CB') + 40);
    let n = 0;
    for (const m of opsBlock.matchAll(/^\s*(BPF_SOCK_OPS_\w+)(?:\s*=\s*0)?,/gm)) enumValues.set(m[1], n++);
  } else {
    base.ops.forEach((o, i) => enumValues.set(o.name, i));
    enumValues.set('BPF_SOCK_OPS_ALL_CB_FLAGS', 0x7f);
  }
  assert.deepEqual(base.ops.map((o) => o.value), [...Array(21).keys()]);
  for (const o of base.ops) assert.equal(enumValues.get(o.name), o.value, o.name);
  if (uapi) for (const f of base.cbFlags) assert.equal(enumValues.get(f.name), f.value, f.name);
  assert.equal(base.allCbFlags, 0x7f);
  assert.equal(base.cbFlags.reduce((a, f) => a | f.value, 0), base.allCbFlags);
  assert.equal(v3.allCbFlags, 0xff);
  assert.equal(v3.cbFlags.reduce((a, f) => a | f.value, 0), v3.allCbFlags);
  assert.equal(table('autolowat-sockops-v3').op('RCVQ_CB')?.value, 21);
  assert.equal(table('autolowat-sockops-v3').op(21)?.name, 'BPF_SOCK_OPS_RCVQ_CB');
  assert.equal(table('linux-7.1.5').op(21), undefined);
  assert.equal(table('linux-7.1.5').op('BPF_SOCK_OPS_RCVQ_CB'), undefined);
  assert.equal(table().cbFlag(0x80)?.name, 'BPF_SOCK_OPS_RCVQ_CB_FLAG');
  assert.equal(table().cbFlag('RCVQ_CB_FLAG')?.ops[0], 21);
  assert.equal(table('linux-7.1.5').cbFlag(0x80), undefined);
  assert.deepEqual(table().allOps(), [...Array(22).keys()]);
  for (const o of v3.ops) if (o.enabledBy?.startsWith('BPF_SOCK_OPS_')) assert.ok(table().cbFlag(o.enabledBy)!.ops.includes(o.value), o.name);
});

test('struct bpf_sock_ops: fields contiguous, sizeof 224, lookups by name and offset', () => {
  for (const p of profiles) {
    let off = 0;
    for (const f of p.ctxFields) {
      assert.equal(f.offset, off, `${p.name}: ${f.name} offset`);
      off += f.size;
      if (f.elemSize) assert.equal(f.size % f.elemSize, 0);
      for (const s of f.readSizes) assert.ok(s <= f.size || f.name === 'skb_tcp_flags');
    }
    assert.equal(off, 224);
    assert.equal(p.ctxSize, 224);
  }
  const t = table();
  assert.equal(t.ctxFieldAt(0)?.name, 'op');
  assert.equal(t.ctxFieldAt(8)?.name, 'args');
  assert.equal(t.ctxFieldAt(40)?.name, 'remote_ip6');
  assert.equal(t.ctxFieldAt(223)?.name, 'skb_hwtstamp');
  assert.equal(t.ctxFieldAt(224), undefined);
  assert.equal(t.ctxFieldAt(-4), undefined);
  assert.equal(t.ctxField('reply'), t.ctxField('args'));
  assert.equal(t.ctxField('skb_data')?.regType, 'PTR_TO_PACKET');
  assert.equal(t.ctxField('sk')?.gate, 'fullsock');
  assert.equal(t.ctxField('snd_cwnd')?.gate, 'locked_tcp_sock');
  assert.equal(t.ctxField('rtt_min')?.gate, 'none');
});

test('ctx offsets and constants agree with the mirror UAPI header compiled by clang', { skip: (!uapi && 'mirror not present') || (!which('clang-19') && 'clang-19 missing') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sockops-uapi-'));
  try {
    mkdirSync(join(dir, 'linux'));
    writeFileSync(join(dir, 'linux', 'bpf.h'), uapi!);
    const p = getProfile('linux-7.1.5');
    const lines = ['#include <stddef.h>', '#include <linux/bpf.h>', '#include <sys/socket.h>', '#include <netinet/in.h>', '#include <netinet/tcp.h>', '#include <asm-generic/socket.h>'];
    for (const f of p.ctxFields) {
      lines.push(`_Static_assert(offsetof(struct bpf_sock_ops, ${f.name}) == ${f.offset}, "${f.name} offset");`);
      lines.push(`_Static_assert(sizeof(((struct bpf_sock_ops *)0)->${f.name}) == ${f.size}, "${f.name} size");`);
    }
    lines.push('_Static_assert(sizeof(struct bpf_sock_ops) == 224, "sizeof");');
    for (const c of p.constants) lines.push(`_Static_assert(${c.name} == ${c.value}, "${c.name}");`);
    for (const o of p.ops) lines.push(`_Static_assert(${o.name} == ${o.value}, "${o.name}");`);
    for (const f of p.cbFlags) lines.push(`_Static_assert(${f.name} == ${f.value}, "${f.name}");`);
    writeFileSync(join(dir, 'check.c'), lines.join('\n') + '\n');
    const r = spawnSync('clang-19', ['-fsyntax-only', `-I${dir}`, `-I${HOST_ASM_INCLUDE}`, join(dir, 'check.c')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function assertSource(s: Source, where: string): void {
  assert.ok(s && typeof s.file === 'string' && s.file.length > 0, `${where}: source.file`);
  assert.ok(typeof s.func === 'string' && s.func.length > 0, `${where}: source.func`);
  assert.ok(CONF.has(s.confidence), `${where}: confidence ${s.confidence}`);
  if (s.confidence === 'seed') assert.match(s.file, /^seed: /, where);
}

function everySource(p: Profile): [string, Source, boolean][] {
  const out: [string, Source, boolean][] = [];
  for (const o of p.ops) out.push([`op ${o.name}`, o.source, !!o.addedByProfile]);
  for (const f of p.cbFlags) out.push([`flag ${f.name}`, f.source, !!f.addedByProfile]);
  for (const f of p.ctxFields) {
    out.push([`field ${f.name}`, f.source, false]);
    if (f.zeroAt) out.push([`field ${f.name} zeroAt`, f.zeroAt.source, false]);
    for (const z of f.alsoZeroAt ?? []) out.push([`field ${f.name} alsoZeroAt`, z.source, !!z.addedByProfile]);
  }
  for (const h of [...p.helpers, ...p.kfuncs]) {
    out.push([h.name, h.source, !!h.addedByProfile]);
    for (const r of h.sockOpsRules) out.push([`${h.name} rule ${r.ops.join(',')}`, r.source, !!r.addedByProfile]);
    for (const [k, s] of Object.entries('progSource' in h ? h.progSource ?? {} : {})) out.push([`${h.name} progSource ${k}`, s!, false]);
  }
  for (const c of p.constants) out.push([`constant ${c.name}`, c.source, !!c.addedByProfile]);
  return out;
}

test('every row cites a source; addedByProfile rows are seed or assumed; the baseline adds nothing', () => {
  for (const p of profiles) {
    for (const [where, s, added] of everySource(p)) {
      assertSource(s, `${p.name} ${where}`);
      if (added) assert.notEqual(s.confidence, 'kernel-7.1.5', `${p.name} ${where} is addedByProfile but cites the kernel`);
      if (p.name === 'linux-7.1.5') {
        assert.equal(added, false, `${where} marked addedByProfile in the baseline`);
        assert.equal(s.confidence, 'kernel-7.1.5', `${where}: the baseline cites the kernel only`);
      }
    }
  }
  const v3 = getProfile('autolowat-sockops-v3');
  const added = everySource(v3).filter(([, , a]) => a).map(([w]) => w);
  for (const w of ['op BPF_SOCK_OPS_RCVQ_CB', 'flag BPF_SOCK_OPS_RCVQ_CB_FLAG', 'bpf_skb_load_bytes', 'bpf_sock_ops_tcp_set_rcvlowat', 'constant BPF_SOCK_OPS_ALL_CB_FLAGS']) {
    assert.ok(added.includes(w), `${w} should be addedByProfile`);
  }
  // The profile must not have touched the baseline's rows.
  assert.equal(getProfile('linux-7.1.5').ops.length, 21);
  assert.equal(table('linux-7.1.5').helper('skb_load_bytes')!.addedByProfile, undefined);
});

test('lookups: helpers by id, bpf_ name and short name; kfuncs; constants incl. op, flag and errno names', () => {
  const t = table();
  const s = t.helper('bpf_setsockopt')!;
  assert.equal(t.helper(49), s);
  assert.equal(t.helper('setsockopt'), s);
  assert.equal(s.params.length, 5);
  assert.equal(s.params[1].name, 'level');
  assert.equal(t.helper('no_such_helper'), undefined);
  assert.equal(t.kfunc('bpf_sock_ops_tcp_set_rcvlowat')?.params[1].ctype, 'int');
  assert.equal(table('linux-7.1.5').kfunc('bpf_sock_ops_tcp_set_rcvlowat'), undefined);
  assert.ok(table('linux-7.1.5').kfunc('bpf_cast_to_kern_ctx'));
  const expect: [string, number][] = [
    ['SOL_SOCKET', 1], ['SOL_TCP', 6], ['SOL_IP', 0], ['SOL_IPV6', 41], ['SO_RCVLOWAT', 18], ['SO_RCVBUF', 8], ['SO_SNDBUF', 7], ['TCP_NODELAY', 1],
    ['TCP_BPF_IW', 1001], ['TCP_BPF_SOCK_OPS_CB_FLAGS', 1008], ['SK_BPF_CB_FLAGS', 1009], ['SK_BPF_BYPASS_PROT_MEM', 1010], ['BPF_SK_STORAGE_GET_F_CREATE', 1],
    ['BPF_TCP_ESTABLISHED', 1], ['BPF_TCP_LISTEN', 10], ['BPF_TCP_BOUND_INACTIVE', 13], ['BPF_TCP_MAX_STATES', 14],
    ['BPF_WRITE_HDR_TCP_CURRENT_MSS', 1], ['BPF_WRITE_HDR_TCP_SYNACK_COOKIE', 2],
    ['BPF_SOCK_OPS_RCVQ_CB', 21], ['BPF_SOCK_OPS_RCVQ_CB_FLAG', 0x80], ['BPF_SOCK_OPS_ALL_CB_FLAGS', 0xff], ['BPF_SOCK_OPS_STATE_CB_FLAG', 4], ['EOPNOTSUPP', 95], ['EUCLEAN', 117],
  ];
  for (const [n, v] of expect) assert.equal(t.constant(n), v, n);
  assert.equal(table('linux-7.1.5').constant('BPF_SOCK_OPS_ALL_CB_FLAGS'), 0x7f);
  assert.equal(table('linux-7.1.5').constant('BPF_SOCK_OPS_RCVQ_CB'), undefined);
  for (const [e, n] of [[-95, 'EOPNOTSUPP'], [-1, 'EPERM'], [-14, 'EFAULT'], [-117, 'EUCLEAN'], [-22, 'EINVAL'], [-16, 'EBUSY'], [95, 'EOPNOTSUPP']] as const) assert.equal(t.errnoName(e), n);
  assert.equal(t.errnoName(-4242), 'errno -4242');
  assert.ok(new SockopsTable(getProfile('linux-7.1.5')).helper(26));
});

// The load-time helper set, recomputed from the kernel's func_proto switches.
test('load-time availability equals the kernel func_proto switches', { skip: (!filterC || !helpersC || !cgroupC) && 'mirror not present' }, () => {
  const sockOpsExplicit = funcCases(cFunctionBody(filterC!, 'sock_ops_func_proto'));
  const skBase = cFunctionBody(filterC!, 'bpf_sk_base_func_proto');
  const skBasePerfmon = funcCases(skBase).filter((n) => n.startsWith('skc_to_'));
  const skBaseFree = funcCases(skBase).filter((n) => !n.startsWith('skc_to_'));
  const base = cFunctionBody(helpersC!, 'bpf_base_func_proto');
  const iBpf = base.indexOf('CAP_BPF');
  const iPerf = base.indexOf('CAP_PERFMON');
  const baseFree = funcCases(base.slice(0, iBpf));
  const baseBpf = funcCases(base.slice(iBpf, iPerf));
  const basePerf = funcCases(base.slice(iPerf));
  const common = funcCases(cFunctionBody(cgroupC!, 'cgroup_common_func_proto'));
  const cgSockopt = funcCases(cFunctionBody(cgroupC!, 'cg_sockopt_func_proto'));
  assert.ok(sockOpsExplicit.includes('setsockopt') && baseFree.includes('map_lookup_elem') && basePerf.includes('probe_read_kernel'));

  type Want = Map<string, 'free' | 'CAP_BPF' | 'CAP_PERFMON'>;
  const mk = (parts: [string[], 'free' | 'CAP_BPF' | 'CAP_PERFMON'][]): Want => {
    const m: Want = new Map();
    for (const [names, need] of parts) for (const n of names) if (!m.has(n)) m.set(n, need);
    return m;
  };
  const baseParts: [string[], 'free' | 'CAP_BPF' | 'CAP_PERFMON'][] = [[baseFree, 'free'], [baseBpf, 'CAP_BPF'], [basePerf, 'CAP_PERFMON']];
  // get_retval/set_retval return NULL for expected_attach_type BPF_CGROUP_SOCK_OPS.
  const commonForSockOps = common.filter((n) => n !== 'get_retval' && n !== 'set_retval');
  const want: Record<ProgType, Want> = {
    sock_ops: mk([[commonForSockOps, 'free'], [sockOpsExplicit, 'free'], [skBaseFree, 'free'], [skBasePerfmon, 'CAP_PERFMON'], ...baseParts]),
    cgroup_setsockopt: mk([[common, 'free'], [cgSockopt, 'free'], ...baseParts]),
    cgroup_getsockopt: mk([[common, 'free'], [cgSockopt.filter((n) => n !== 'setsockopt' && n !== 'getsockopt'), 'free'], ...baseParts]),
  };
  for (const name of ['linux-7.1.5', 'autolowat-sockops-v3']) {
    const p = getProfile(name);
    for (const prog of ['sock_ops', 'cgroup_setsockopt', 'cgroup_getsockopt'] as ProgType[]) {
      const w = new Map(want[prog]);
      if (name === 'autolowat-sockops-v3' && prog === 'sock_ops') w.set('skb_load_bytes', 'free');
      const got = new Map<string, string>();
      for (const h of p.helpers) {
        const a = h.progTypes[prog];
        if (a) got.set(h.name.slice(4), a === true ? 'free' : a.needs);
      }
      assert.deepEqual([...got.entries()].sort(), [...w.entries()].sort(), `${name} ${prog}`);
    }
  }
});

test('availableAtLoad: capabilities, GPL, sleepable, program types, kfuncs', () => {
  const t = table();
  const base = table('linux-7.1.5');
  const h = (n: string) => t.helper(n)!;
  assert.deepEqual(t.availableAtLoad(h('get_current_pid_tgid'), 'sock_ops'), { ok: true });
  assert.deepEqual(t.availableAtLoad(h('setsockopt'), 'cgroup_setsockopt'), { ok: true });
  const getSet = t.availableAtLoad(h('setsockopt'), 'cgroup_getsockopt');
  assert.equal(getSet.ok, false);
  const pr = t.availableAtLoad(h('probe_read_kernel'), 'sock_ops');
  assert.ok(pr.ok && pr.needs?.includes('CAP_PERFMON') && pr.needs.includes('GPL'));
  const skc = t.availableAtLoad(h('skc_to_tcp_sock'), 'sock_ops');
  assert.ok(skc.ok && skc.needs === 'CAP_PERFMON');
  assert.equal(t.availableAtLoad(h('skc_to_tcp_sock'), 'cgroup_setsockopt').ok, false);
  const peo = t.availableAtLoad(h('perf_event_output'), 'sock_ops');
  assert.ok(peo.ok && peo.needs?.includes('GPL'));
  const retval = t.availableAtLoad(h('get_retval'), 'sock_ops');
  assert.ok(!retval.ok && /BPF_PROG_TYPE_SOCK_OPS/.test(retval.why) && /cgroup\/setsockopt/.test(retval.why));
  assert.deepEqual(t.availableAtLoad(h('set_retval'), 'cgroup_getsockopt'), { ok: true });
  const cfu = t.availableAtLoad(h('copy_from_user'), 'sock_ops');
  assert.ok(!cfu.ok && /sleep/.test(cfu.why));
  for (const n of ['skb_store_bytes', 'redirect']) {
    const r = t.availableAtLoad(h(n), 'sock_ops');
    assert.ok(!r.ok && r.why.includes(`bpf_${n}#`) && /sched_cls/.test(r.why), n);
  }
  const lbBase = base.availableAtLoad(base.helper('skb_load_bytes')!, 'sock_ops');
  assert.ok(!lbBase.ok && lbBase.why.includes('program of this type cannot use helper bpf_skb_load_bytes#26'));
  assert.deepEqual(t.availableAtLoad(h('skb_load_bytes'), 'sock_ops'), { ok: true });
  assert.equal(t.availableAtLoad(h('skb_load_bytes'), 'cgroup_setsockopt').ok, false);
  const kf = t.availableAtLoad(t.kfunc('bpf_sock_ops_tcp_set_rcvlowat')!, 'sock_ops');
  assert.ok(kf.ok && /GPL/.test(kf.needs ?? ''));
  assert.equal(t.availableAtLoad(t.kfunc('bpf_sock_ops_tcp_set_rcvlowat')!, 'cgroup_setsockopt').ok, false);
  assert.equal(t.availableAtLoad(t.kfunc('bpf_cast_to_kern_ctx')!, 'cgroup_getsockopt').ok, true);
  assert.equal(t.availableAtLoad(h('ktime_get_coarse_ns'), 'cgroup_setsockopt').ok, false);
  assert.equal(t.availableAtLoad(h('get_socket_cookie'), 'cgroup_setsockopt').ok, false);
});
