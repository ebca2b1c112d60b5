// `bpf-sockops check` on the kernel's BPF selftests that have sock_ops / cgroup sockopt programs
// (issue 10: "check raises no false alarm on them"). Nothing of the kernel tree is committed:
// give a Linux tree as a git directory and this extracts tools/testing/selftests/bpf to a temp
// dir, takes every progs/*.c with SEC("sockops"), SEC("cgroup/setsockopt") or
// SEC("cgroup/getsockopt") (also through a progs/*.h it includes, as test_sockmap_kern.h), and
// checks each as the selftests' Makefile compiles it: -I progs -I .. (their local headers, e.g.
// test_tcp_hdr_options.h, live one folder up). Each diagnostic is either one of REVIEWED below
// (true: the kernel does what it says, the selftest even asserts it) or printed as UNREVIEWED: a
// possible false alarm to look at. Exit 1 when there is one.
//
//   node --import tsx scripts/selftest-check.ts /work/.mirror/danayer+linux-7.1.5/repo
//
// Without a tree it says so and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCommand, type CheckDiagnostic } from '../cli/check';

const SELFTESTS = 'tools/testing/selftests/bpf';
const PROGRAM_SEC = /SEC\("(sockops|cgroup\/setsockopt|cgroup\/getsockopt)"\)/;

/** Diagnostics read against the kernel source and the selftest's own assertions: file, code, and
 *  a pattern of the message (the op or helper), with why the diagnostic is right. */
export const REVIEWED: { file: string; code: string; match: RegExp; why: string }[] = [
  { file: 'net_timestamping.c', code: 'SOCKOPS003', match: /^bpf_[gs]etsockopt\(\) fails at TSTAMP_/,
    why: 'bpf_test_sockopt() expects -EOPNOTSUPP at the TSTAMP_* callbacks (unlocked socket: is_locked_tcp_sock_ops(), net/core/filter.c)' },
  { file: 'net_timestamping.c', code: 'SOCKOPS002', match: /^bpf_(load_hdr_opt|sock_ops_cb_flags_set)\(\) fails at every op .*TSTAMP_/,
    why: 'bpf_test_access_load_hdr_opt() / bpf_test_access_cb_flags_set() expect -EOPNOTSUPP at the TSTAMP_* callbacks' },
  { file: 'test_misc_tcp_hdr_options.c', code: 'SOCKOPS002', match: /^bpf_setsockopt\(\) fails at every op reaching this call \((HDR_OPT_LEN_CB|WRITE_HDR_OPT_CB)\).*TCP_NODELAY/,
    why: 'the test records nodelay_hdr_len_reject / nodelay_write_hdr_reject: TCP_NODELAY is refused there (net/core/filter.c bpf_sol_tcp_setsockopt)' },
  { file: 'test_tcpbpf_kern.c', code: 'SOCKOPS006', match: /handles BPF_SOCK_OPS_(RTO|RETRANS)_CB/,
    why: 'nothing sets RTO_CB_FLAG / RETRANS_CB_FLAG; prog_tests/tcpbpf_user.c asserts event_map has neither op' },
  { file: 'verifier_sockmap_mutate.c', code: 'SOCKOPS003', match: /^bpf_sock_(map|hash)_update\(\) fails at /,
    why: 'a verifier-only test run at no op in particular; sock_map_op_okay() refuses ops other than ESTABLISHED/LISTEN' },
];

async function main(): Promise<number> {
  const tree = process.argv[2];
  if (!tree || !existsSync(tree)) { console.log('selftest-check skipped: give a Linux source tree (git dir) as the argument'); return 0; }
  const work = mkdtempSync(join(tmpdir(), 'selftest-check-'));
  try {
    const tar = spawnSync('git', ['-C', tree, 'archive', 'HEAD', SELFTESTS], { maxBuffer: 1 << 30 });
    if (tar.status !== 0) { console.log(`selftest-check skipped: git archive failed: ${tar.stderr}`); return 0; }
    spawnSync('tar', ['x', '-C', work], { input: tar.stdout });
    const bpf = join(work, SELFTESTS);
    const progs = join(bpf, 'progs');
    const all = readdirSync(progs);
    const headers = all.filter((f) => f.endsWith('.h') && PROGRAM_SEC.test(readFileSync(join(progs, f), 'utf8')));
    const files = all.filter((f) => {
      if (!f.endsWith('.c')) return false;
      const text = readFileSync(join(progs, f), 'utf8');
      return PROGRAM_SEC.test(text) || headers.some((h) => new RegExp(`#\\s*include\\s*"(\\./)?${h.replace(/\./g, '\\.')}"`).test(text));
    }).sort();
    let json = '';
    const errs: string[] = [];
    await checkCommand(['--format', 'json', '-I', progs, '-I', bpf, ...files.map((f) => join(progs, f))],
      { out: (s) => { json += s; }, err: (s) => { errs.push(s); } });
    if (errs.length) console.log(errs.join(''));
    const diags = JSON.parse(json) as CheckDiagnostic[];
    const perCode = new Map<string, number>();
    let unreviewed = 0;
    for (const d of diags) {
      const file = d.file.slice(progs.length + 1);
      perCode.set(d.code, (perCode.get(d.code) ?? 0) + 1);
      const r = REVIEWED.find((x) => x.file === file && x.code === d.code && x.match.test(d.message));
      if (!r) unreviewed++;
      console.log(`${r ? 'reviewed  ' : 'UNREVIEWED'} ${file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message.length > 200 ? d.message.slice(0, 197) + '...' : d.message}`);
      if (r) console.log(`           (${r.why})`);
    }
    const codes = [...perCode].sort().map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
    console.log(`selftest-check: ${files.length} files checked (${headers.length} shared header${headers.length === 1 ? '' : 's'} with programs); ${diags.length} diagnostics (${codes}); ${diags.length - unreviewed} reviewed as right, ${unreviewed} unreviewed`);
    return unreviewed ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; });
