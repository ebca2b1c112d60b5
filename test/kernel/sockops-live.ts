// Issue 7 part 3: the recording sock_ops program (progs/record_sockops.bpf.o) attached to a cgroup
// v2 made for the test, one loopback connection from inside it and a fresh netns
// (tools/bpfrun/sockops_live.c), against the same object in our simulator (debugger/sim.ts) over
// the scenario runtime's passive open, then data, recv and the peer's FIN. The live record
// decides what is compared: the passive side's ops, in order; per op is_fullsock, sk != NULL,
// the helper results and which ctx fields read as 0.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Simulation } from '../../debugger/sim';
import { table } from '../../sockops';
import { buildNative } from './native';

const HERE = dirname(fileURLToPath(import.meta.url));
export const RECORD_OBJ = resolve(HERE, 'progs/record_sockops.bpf.o');
const PORT = 40123;
const PAYLOAD = 100;

/** Bit i of zero_mask: FIELDS[i] read as 0 (order of record_sockops.bpf.c). */
export const FIELDS = ['snd_cwnd', 'srtt_us', 'bpf_sock_ops_cb_flags', 'rcv_nxt', 'snd_nxt', 'snd_una', 'mss_cache', 'segs_in', 'segs_out', 'bytes_received', 'bytes_acked', 'skb_len', 'skb_tcp_flags', 'rtt_min', 'local_ip4', 'remote_ip4', 'local_port', 'remote_port', 'state', 'family'];

export interface Rec {
  op: number; is_fullsock: number; state: number; local_port: number; remote_port: number;
  args: number[];
  cb_flags_set: number; setsockopt: number; getsockopt: number; load_hdr_opt: number; reserve_hdr_opt: number;
  cookie_nonzero: number; has_sk: number; zero_mask: number; getsockopt_val: number;
}

/** struct rec of record_sockops.bpf.c, as our simulator's array map holds it. */
function decodeRec(v: Uint8Array): Rec {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const u = (i: number) => dv.getUint32(i * 4, true), s = (i: number) => dv.getInt32(i * 4, true);
  return {
    op: u(0), is_fullsock: u(1), state: u(2), local_port: u(4), remote_port: u(5) >>> 16,
    args: [u(6), u(7), u(8), u(9)],
    cb_flags_set: s(10), setsockopt: s(11), getsockopt: s(12), load_hdr_opt: s(13), reserve_hdr_opt: s(14),
    cookie_nonzero: u(15), has_sk: u(16), zero_mask: u(17), getsockopt_val: u(18),
  };
}

function cgroup2Mount(): string | null {
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mnt, fs] = line.split(' ');
      if (fs === 'cgroup2') return mnt;
    }
  } catch { /* not Linux */ }
  return null;
}

export function simRecords(): { recs: Rec[]; steps: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-sockops-oracle-'));
  try {
    const file = join(dir, 'live.scenario.json');
    writeFileSync(file, JSON.stringify({
      // the live peer is the same program on the active side: it reserves 4 option bytes on
      // every segment it sends (HDR_OPT_LEN_CB) and writes none, so they go out as 4 NOPs; ISNs
      // are random in the kernel, any non-zero pair will do here
      program: RECORD_OBJ, sockops: 'record', profile: 'linux-7.1.5',
      socket: { family: 'inet', peerIsn: 0x6b8b4567, isn: 0x327b23c6, peerOptions: '01010101' },
      stream: [{ zeros: PAYLOAD }], steps: [{ send: PAYLOAD }, { recv: PAYLOAD }, { fin: true }, { close: true }],
    }));
    const sim = Simulation.fromFile(file);
    const steps: string[] = [];
    while (!sim.done) { const r = sim.stepOnce(); steps.push(`${r.step.label}: ${r.text}`); }
    const maps = sim.kernel.maps();
    const byName = (n: string) => maps.find((m) => m.def.name === n);
    const cnt = byName('count')?.entries()[0]?.value;
    const n = cnt ? new DataView(cnt.buffer, cnt.byteOffset).getUint32(0, true) : 0;
    const recs = (byName('recs')?.entries() ?? []).slice(0, n).map((e) => decodeRec(e.value));
    return { recs, steps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What differs between a live and a simulated record of the same op (empty: the same). */
function compareRec(live: Rec, sim: Rec): string[] {
  const out: string[] = [];
  for (const k of ['is_fullsock', 'has_sk', 'cookie_nonzero', 'cb_flags_set', 'setsockopt', 'getsockopt', 'load_hdr_opt', 'reserve_hdr_opt'] as const) {
    if (live[k] !== sim[k]) out.push(`${k} live ${live[k]} sim ${sim[k]}`);
  }
  const zl = live.zero_mask, zs = sim.zero_mask;
  // rtt_min is loaded with no gate (net/core/filter.c sock_ops_convert_ctx_access: sk->rtt_min through
  // the tcp_sock layout); on a request sock (is_fullsock 0) that load lands past struct request_sock,
  // so the live value is whatever memory follows it: not comparable, it differs from run to run.
  const undefinedHere = (f: string) => f === 'rtt_min' && live.is_fullsock === 0;
  const zdiff = FIELDS.filter((f, i) => ((zl >> i) & 1) !== ((zs >> i) & 1) && !undefinedHere(f));
  for (const f of zdiff) out.push(`read as 0 differs: ${f} (live ${(zl >> FIELDS.indexOf(f)) & 1 ? '0' : '!=0'}, sim ${(zs >> FIELDS.indexOf(f)) & 1 ? '0' : '!=0'})`);
  return out;
}

/** Known simulator gaps, found by this comparison and reported to the lead; each is printed as
 *  KNOWN GAP, and anything else fails. op '*' matches every op. Closed so far (the simulator now
 *  does what the kernel does, and the comparison checks it): GAP-1 request socks on the passive
 *  open, GAP-2 rtt_min, GAP-3 the listener's peer, GAP-4 the send side and ISNs
 *  (tcp_create_openreq_child, tcp_rtt_estimator, __tcp_transmit_skb), GAP-5 skbs with their TCP
 *  header (bpf_skops_established, bpf_skops_write_hdr_opt), GAP-6 header options
 *  (bpf_sock_ops_load_hdr_opt over the modeled headers). */
export const EXPLAINED: { op: string; k?: number; match: RegExp; why: string }[] = [];

/** Ops whose args the comparison checks (deterministic in both: state numbers, the
 *  HDR_OPT_LEN_CB/WRITE_HDR_OPT_CB reason in args[0]); RTT_CB's args are times, not compared. */
const ARGS_CHECKED = new Set(['STATE_CB', 'HDR_OPT_LEN_CB', 'WRITE_HDR_OPT_CB']);

export async function sockopsLive(_bin: string, opts: { log: (s: string) => void }): Promise<boolean> {
  const log = opts.log;
  log('\n[3] sock_ops in the live kernel');
  const mnt = cgroup2Mount();
  if (!mnt) { log('  skipped: no cgroup2 mount in /proc/mounts (mount cgroup2 to run this part)'); return true; }
  let bin: string;
  try { bin = buildNative('sockops_live', ['-lbpf']); } catch (e) { log(`  skipped: cannot build tools/bpfrun/sockops_live.c against libbpf: ${(e as Error).message.split('\n')[0]} (install libbpf-dev)`); return true; }
  const r = spawnSync(bin, [RECORD_OBJ, mnt, String(PORT), String(PAYLOAD)], { encoding: 'utf8', timeout: 30_000 });
  const lines = (r.stdout ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const setup = lines.find((l) => 'setup' in l);
  if (setup || r.status !== 0) {
    log(`  FAILED to run the live connection: ${setup ? `${setup.setup}: ${setup.error}` : `exit ${r.status} ${r.signal ?? ''} ${r.stderr}`} (cgroup ${mnt}/bpf-sockops-oracle-*)`);
    return false;
  }
  const live = lines.filter((l) => 'op' in l) as unknown as Rec[];
  const t = table('linux-7.1.5');
  const opName = (op: number) => t.op(op)?.short ?? `op ${op}`;
  // the passive side: the listener, the request sock and the child all have local_port == PORT
  const passive = live.filter((x) => x.local_port === PORT);
  const active = live.filter((x) => x.local_port !== PORT);
  const sim = simRecords();
  log(`  live: ${live.length} ops (${passive.length} passive side, ${active.length} active side) on kernel connection 127.0.0.1:${PORT}, ${PAYLOAD} bytes, close from the client`);
  log(`  sim:  ${sim.recs.length} ops over: ${sim.steps.map((s) => s.split(':')[0]).join(', ')}`);
  log(`  live active-side op order: ${active.map((x) => opName(x.op)).join(' ')}`);
  log(`  live passive-side op order: ${passive.map((x) => opName(x.op)).join(' ')}`);
  log(`  sim  passive-side op order: ${sim.recs.map((x) => opName(x.op)).join(' ')}`);
  // match the k-th occurrence of each op
  const seen = new Map<number, number>();
  const simByOp = new Map<number, Rec[]>();
  for (const s of sim.recs) simByOp.set(s.op, [...(simByOp.get(s.op) ?? []), s]);
  let compared = 0, unexplained = 0, notModeled = 0;
  const rows: string[] = [];
  for (const l of passive) {
    const k = seen.get(l.op) ?? 0;
    seen.set(l.op, k + 1);
    const s = simByOp.get(l.op)?.[k];
    const name = `${opName(l.op)}#${k + 1}`.padEnd(18);
    const liveTxt = `fullsock ${l.is_fullsock} sk ${l.has_sk} cb_flags_set ${l.cb_flags_set} set ${l.setsockopt} get ${l.getsockopt} load_hdr ${l.load_hdr_opt} reserve ${l.reserve_hdr_opt}`;
    if (!s) { notModeled++; rows.push(`  ${name} ${liveTxt} | sim: not run (not modeled${opName(l.op) === 'STATE_CB' && l.args[0] === 10 ? ': the listener closing, LISTEN -> CLOSE; the simulator models the connection\'s socket only' : ''})`); continue; }
    compared++;
    const d = compareRec(l, s);
    if (ARGS_CHECKED.has(opName(l.op)) && (l.args[0] !== s.args[0] || l.args[1] !== s.args[1])) d.push(`args live [${l.args.slice(0, 2)}] sim [${s.args.slice(0, 2)}]`);
    const explained = d.map((x) => EXPLAINED.find((e) => (e.op === '*' || e.op === opName(l.op)) && (e.k === undefined || e.k === k + 1) && e.match.test(x)));
    const bad = d.filter((_, i) => !explained[i]);
    unexplained += bad.length;
    rows.push(`  ${name} ${liveTxt} | sim: ${d.length ? d.map((x, i) => (explained[i] ? `${explained[i]!.why.slice(0, 5)} ${x}` : `DIFFERS ${x}`)).join('; ') : 'same'}`);
  }
  // the order: the simulator's ops must be the live passive side's, in order, up to the ops
  // it does not model (which come last)
  const liveOrder = passive.map((x) => opName(x.op));
  const simOrder = sim.recs.map((x) => opName(x.op));
  const orderOk = simOrder.every((o, i) => o === liveOrder[i]);
  if (!orderOk) rows.push(`  DIFFERS op order: live ${liveOrder.join(' ')} | sim ${simOrder.join(' ')}`);
  const extra: string[] = [];
  for (const [op, list] of simByOp) if (list.length > (seen.get(op) ?? 0)) extra.push(`${opName(op)} x${list.length - (seen.get(op) ?? 0)}`);
  log('  passive side, live record vs simulator (k-th run of each op):');
  for (const row of rows) log(row);
  if (extra.length) log(`  DIFFERS: ops the simulator ran that the live kernel did not: ${extra.join(', ')}`);
  const gaps = new Set<string>();
  for (const row of rows) for (const m of row.matchAll(/(GAP-\d) /g)) gaps.add(m[1]);
  for (const g of [...gaps].sort()) log(`  KNOWN GAP (reported to the lead): ${EXPLAINED.find((e) => e.why.startsWith(g))!.why}`);
  const bad = unexplained + extra.length + (orderOk ? 0 : 1);
  log(`  sock_ops ops compared: ${compared}, in the live order: ${orderOk ? 'yes' : 'NO'} (${notModeled} live ops not modeled by the simulator); unexplained differences: ${bad}`);
  return bad === 0;
}
