// The kernel selftests' sock_ops / cgroup sockopt programs against our verifier and the running
// kernel's (issue 11 "done when"). Nothing of the kernel tree is committed: give a Linux tree as a
// git directory and this extracts tools/testing/selftests/bpf/progs to a temp dir, makes a
// vmlinux.h from the running kernel's BTF with bpftool, compiles every progs/*.c that has such a
// program with clang-19, then compares verdicts and rejecting insns (with and without CAP_PERFMON).
//   node --import tsx test/kernel/verifier-selftests.ts /work/.mirror/danayer+linux-7.1.5/repo
// Without a tree argument, bpftool, clang or bpf(), it says why and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject } from '../../debugger/object';
import { progTypeOfSection } from '../../debugger/verifier';
import { buildVerifyload, kernelVerdicts, rejectingInsn, kernelMessage } from './verifyload';
import { ours } from './verifier-agree';

function sh(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}) {
  return spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 28 });
}

async function main(): Promise<number> {
  const tree = process.argv[2];
  if (!tree || !existsSync(tree)) { console.log('verifier-selftests skipped: give a Linux source tree (git dir) as the argument'); return 0; }
  const work = mkdtempSync(join(tmpdir(), 'verifier-selftests-'));
  const files = sh('git', ['-C', tree, 'grep', '-l', '-E', 'SEC\\("(sockops|cgroup/setsockopt|cgroup/getsockopt)', 'HEAD', '--', 'tools/testing/selftests/bpf/progs/']);
  if (files.status !== 0) { console.log(`verifier-selftests skipped: git grep failed: ${files.stderr}`); return 0; }
  const srcs = files.stdout.toString().trim().split('\n').map((l) => l.replace(/^HEAD:/, '')).filter((f) => f.endsWith('.c'));
  const tar = sh('git', ['-C', tree, 'archive', 'HEAD', 'tools/testing/selftests/bpf', 'tools/lib/bpf']);
  sh('tar', ['x', '-C', work], { input: tar.stdout });
  const btf = sh('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c']);
  if (btf.status !== 0) { console.log('verifier-selftests skipped: bpftool cannot dump /sys/kernel/btf/vmlinux'); return 0; }
  writeFileSync(join(work, 'vmlinux.h'), btf.stdout);
  // libbpf headers from the tree, the generated helper definitions from the installed libbpf
  mkdirSync(join(work, 'inc/bpf'), { recursive: true });
  mkdirSync(join(work, 'inc/gnu'), { recursive: true });
  for (const h of ['bpf_helpers.h', 'bpf_tracing.h', 'bpf_core_read.h', 'bpf_endian.h']) copyFileSync(join(work, 'tools/lib/bpf', h), join(work, 'inc/bpf', h));
  copyFileSync('/usr/include/bpf/bpf_helper_defs.h', join(work, 'inc/bpf/bpf_helper_defs.h'));
  writeFileSync(join(work, 'inc/gnu/stubs-32.h'), '');
  const progs = join(work, 'tools/testing/selftests/bpf/progs');
  const objs: string[] = [];
  let failed = 0;
  for (const src of srcs) {
    const out = join(work, src.split('/').pop()!.replace(/\.c$/, '.bpf.o'));
    const r = sh('clang-19', ['-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-D__TARGET_ARCH_x86', `-I${join(work, 'inc')}`, `-I${work}`, `-I${progs}`, `-I${join(work, 'tools/testing/selftests/bpf')}`, '-idirafter', '/usr/include/x86_64-linux-gnu', '-c', join(work, src), '-o', out]);
    if (r.status === 0) objs.push(out);
    else { failed++; console.log(`  not compiled: ${src}: ${r.stderr.toString().split('\n').find((l) => /error/.test(l)) ?? ''}`); }
  }
  console.log(`selftests: ${objs.length} objects compiled (${failed} not) from ${srcs.length} sources with such programs`);
  const bin = buildVerifyload();
  for (const perfmon of [true, false]) {
    const reqs: { file: string; program: string; bytes: Uint8Array }[] = [];
    for (const f of objs) {
      const bytes = new Uint8Array(readFileSync(f));
      for (const p of loadObject(bytes, f).programs) if (progTypeOfSection(p.section)) reqs.push({ file: f, program: p.name, bytes });
    }
    const kv = await kernelVerdicts(bin, reqs.map((r) => ({ elf: r.bytes, program: r.program })), { noPerfmon: !perfmon });
    let n = 0, agree = 0, rej = 0, insn = 0, prep = 0;
    kv.forEach((k, i) => {
      const r = reqs[i]!;
      if (k.err !== 0 && k.stage !== 'verifier') { prep++; return; }
      const kVerdict = k.err === 0 ? 'accepted' : 'rejected';
      const o = ours(loadObject(r.bytes, r.file), r.program, perfmon)!;
      n++;
      if (o.verdict === kVerdict) {
        agree++;
        if (kVerdict === 'rejected') { rej++; if (rejectingInsn(k.log) === o.insn) insn++; else console.log(`  insn differs: ${r.program}: kernel ${rejectingInsn(k.log)} (${kernelMessage(k.log)}), ours ${o.insn} (${o.message})`); }
      } else console.log(`  DISAGREEMENT ${r.file.split('/').pop()} ${r.program}${perfmon ? '' : ' (no CAP_PERFMON)'}: kernel ${kVerdict} ${kernelMessage(k.log)}, ours ${o.verdict} ${o.message}`);
    });
    console.log(`${perfmon ? 'with' : 'without'} CAP_PERFMON: ${agree}/${n} verdicts agree, ${insn}/${rej} rejections at the same insn (${prep} failed in libbpf before the verifier)`);
  }
  return 0;
}

main().then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; });
