// The option rows the live kernel answered (fixtures/sockopt-live.json) and the emulator must
// answer alike (sockopt.test.ts). Regenerate the answers on a machine where bpf() and cgroup v2
// work (root): node --import tsx test/unit/kernel/sockopt-rows.ts --live
// It builds tools/bpfrun/sockops_live.c with clang-19 and libbpf, runs it --rows on fixtures/sockopt_rows.bpf.o on
// one loopback connection per family and writes fixtures/sockopt-live.json.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** name, level, optname, a good value, a bad value (the good one again where none is bad).
 *  Timer values are multiples of 4 ms so that HZ 250 (the live kernel) and HZ 1000 (ours) agree. */
export const LIVE_ROWS: [string, number, number, number, number][] = [
  ['SO_REUSEADDR', 1, 2, 5, 5],
  ['SO_SNDBUF', 1, 7, 100000, 1 << 30],
  ['SO_RCVBUF', 1, 8, 1 << 20, -5],
  ['SO_KEEPALIVE', 1, 9, 1, 0],
  ['SO_PRIORITY', 1, 12, 5, 5],
  ['SO_REUSEPORT', 1, 15, 1, 1],
  ['SO_RCVLOWAT', 1, 18, -1, 1], // INT_MAX uncapped: no struct socket before accept()
  ['SO_MARK', 1, 36, 0xbeef, 0xbeef],
  ['SO_MAX_PACING_RATE', 1, 47, 125000, -1],
  ['SO_BINDTOIFINDEX', 1, 62, 1, -1],
  ['SO_TXREHASH', 1, 74, 0, 2],
  ['SK_BPF_CB_FLAGS', 1, 1009, 1, 2],
  ['TCP_NODELAY', 6, 1, 1, 1],
  ['TCP_MAXSEG', 6, 2, 1000, 50],
  ['TCP_KEEPIDLE', 6, 4, 30, 32768],
  ['TCP_KEEPINTVL', 6, 5, 10, 0],
  ['TCP_KEEPCNT', 6, 6, 3, 128],
  ['TCP_SYNCNT', 6, 7, 3, 0],
  ['TCP_WINDOW_CLAMP', 6, 10, 100000, 0],
  ['TCP_THIN_LINEAR_TIMEOUTS', 6, 16, 1, 2],
  ['TCP_USER_TIMEOUT', 6, 18, 5000, -1],
  ['TCP_NOTSENT_LOWAT', 6, 25, 16384, 16384],
  ['TCP_SAVE_SYN', 6, 27, 2, 3],
  ['TCP_RTO_MAX_MS', 6, 44, 60000, 999],
  ['TCP_BPF_IW', 6, 1001, 20, 0],
  ['TCP_BPF_SNDCWND_CLAMP', 6, 1002, 50, 0],
  ['TCP_BPF_DELACK_MAX', 6, 1003, 40000, 300000],
  ['TCP_BPF_RTO_MIN', 6, 1004, 40000, 1000],
  ['TCP_BPF_SOCK_OPS_CB_FLAGS', 6, 1008, 4, 0x100],
  ['IP_TOS', 0, 1, 0x13, 0x10],
  ['IPV6_TCLASS', 41, 67, 0x21, 256],
  ['IPV6_AUTOFLOWLABEL', 41, 70, 0, 0],
];

export interface LiveAnswer { level: number; optname: number; set: number; get: number; val: number; short_set: number; bad_set: number; get8: number; after_bad: number }
export interface LiveFile { kernel: string; note: string; inet: LiveAnswer[]; inet6: LiveAnswer[] }

function live(): void {
  const here = join(import.meta.dirname, 'fixtures');
  const dir = mkdtempSync(join(tmpdir(), 'sockopt-live-'));
  try {
    const tool = join(dir, 'sockops_live');
    const cc = spawnSync('clang-19', ['-O1', '-o', tool, join(here, '../../../../tools/bpfrun/sockops_live.c'), '-lbpf'], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(cc.stderr);
    const cg = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[2] === 'cgroup2')?.[1];
    if (!cg) throw new Error('no cgroup2 mount');
    const input = LIVE_ROWS.map((r) => `${r[1]} ${r[2]} ${r[3]} ${r[4]}`).join('\n') + '\n';
    const run = (v6: boolean, port: number): LiveAnswer[] => {
      const r = spawnSync(tool, ['--rows', join(here, 'sockopt_rows.bpf.o'), cg, String(port), '200'], { input, encoding: 'utf8', env: { ...process.env, ...(v6 ? { V6: '1' } : {}) } });
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
      if (r.status !== 0 || lines.at(-1)?.ran !== 1) throw new Error(`live run failed: ${r.stdout}${r.stderr}`);
      return lines.slice(0, -1) as unknown as LiveAnswer[];
    };
    const uname = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
    const out: LiveFile = { kernel: uname, note: 'bpf_setsockopt/bpf_getsockopt answers of a live kernel at PASSIVE_ESTABLISHED_CB (sockopt_rows.bpf.o, loopback); regenerate: node --import tsx test/unit/kernel/sockopt-rows.ts --live', inet: run(false, 40561), inet6: run(true, 40562) };
    const rows = (a: LiveAnswer[]) => a.map((x) => '  ' + JSON.stringify(x)).join(',\n');
    writeFileSync(join(here, 'sockopt-live.json'), `{\n "kernel": ${JSON.stringify(out.kernel)},\n "note": ${JSON.stringify(out.note)},\n "inet": [\n${rows(out.inet)}\n ],\n "inet6": [\n${rows(out.inet6)}\n ]\n}\n`);
    console.log(`wrote fixtures/sockopt-live.json (${uname}, ${out.inet.length} + ${out.inet6.length} rows)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--live')) live();
