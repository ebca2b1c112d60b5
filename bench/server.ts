// Language server latency (issue 4): diagnostics after a one-character edit in a 3,000-line
// file (target <= 30 ms) and a cold full check of that file (target <= 150 ms). Prints medians.
// Run: `npm run bench -- server`, or directly `node --import tsx bench/server.ts`.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DocumentAnalyzer } from '../server/analysis/engine';

const FIXTURES = path.join(__dirname, '..', 'test/fixtures/check');

/** A ~3,000-line sock_ops source: the fixtures' hooks repeated under fresh names. */
export function bigSource(lines = 3000): string {
  const parts = ['rcvq_cb_helpers.bpf.c', 'ok_rcvq_autolowat.bpf.c', 'op_inference.bpf.c', 'ok_established_rtt_state.bpf.c']
    .map((f) => readFileSync(path.join(FIXTURES, f), 'utf8'));
  const out: string[] = [];
  let n = 0;
  for (let i = 0; out.join('\n').split('\n').length < lines; i++) {
    const src = parts[i % parts.length]!;
    // Rename every function and map so that the copies are distinct definitions.
    out.push(src.replace(/\b(rcvq_helpers|tcp_autolowat_setsockopt|tcp_autolowat|disable|rpc_map|set_lowat|only_established|recurse|by_op|shared|inference|bpf_testcb|count|counters|socket_storage_map)\b/g, `$1_${n}`));
    n++;
  }
  return out.join('\n').split('\n').slice(0, lines).join('\n');
}

/** CPU time of this process (user + system), ms: wall times swing with the machine's load. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function benchServer(): Promise<{ editMs: number; coldMs: number; lines: number; findings: number }> {
  const text = bigSource();
  const lines = text.split('\n').length;
  // Warm up the wasm runtime and the JIT once.
  const warm = await DocumentAnalyzer.create();
  warm.update(text);
  warm.dispose();

  const cold: number[] = [];
  const coldCpu: number[] = [];
  let findings = 0;
  for (let i = 0; i < 9; i++) {
    const d = await DocumentAnalyzer.create();
    const t0 = performance.now();
    const c0 = cpuMs();
    findings = d.update(text).findings.length;
    coldCpu.push(cpuMs() - c0);
    cold.push(performance.now() - t0);
    d.dispose();
  }

  const d = await DocumentAnalyzer.create();
  d.update(text);
  // One-character edits in the middle of the file: a digit of `bpf_sock_ops_tcp_set_rcvlowat(kern, 8)` flips.
  const mid = text.indexOf('set_rcvlowat(kern, 8)', text.length >> 1);
  const at = mid + 'set_rcvlowat(kern, '.length;
  const edit: number[] = [];
  const editCpu: number[] = [];
  let cur = text;
  for (let i = 0; i < 41; i++) {
    cur = cur.slice(0, at) + String(i % 10) + cur.slice(at + 1);
    const t0 = performance.now();
    const c0 = cpuMs();
    d.update(cur);
    editCpu.push(cpuMs() - c0);
    edit.push(performance.now() - t0);
  }
  d.dispose();
  const r = { editMs: median(edit), coldMs: median(cold), lines, findings };
  console.log(`server: ${lines}-line file, ${findings} findings`);
  console.log(`  diagnostics after a one-character edit: median ${r.editMs.toFixed(1)} ms wall, ${median(editCpu).toFixed(1)} ms CPU (target <= 30 ms, ${edit.length} edits)`);
  console.log(`  cold full check:                        median ${r.coldMs.toFixed(1)} ms wall, ${median(coldCpu).toFixed(1)} ms CPU (target <= 150 ms, ${cold.length} runs)`);
  return r;
}

if (require.main === module) {
  benchServer().catch((e) => { console.error(e); process.exit(1); });
}
