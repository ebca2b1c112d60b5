// A counterexample as an ordinary scenario file: the original's program, socket, stream and
// frames, its setup steps as written, then the delivery's steps, ending with the expect that
// fails (none for a fault: `run` reports the fault itself). `bpf-sockops run`, the Testing view
// and the debugger open it directly.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Outcome } from './exec';
import type { Target } from './target';

export interface CounterexampleInfo {
  seed: number;
  /** Which delivery of the search found it (its iteration index). */
  iteration: number;
}

/** The scenario text for `outFile` (paths in it are relative to where it is written). */
export function counterexampleJson(t: Target, o: Outcome, outFile: string, info: CounterexampleInfo): string {
  const sc = t.prepared.scenario;
  let orig: Record<string, unknown> = {};
  try { orig = JSON.parse(readFileSync(sc.file, 'utf8')) as Record<string, unknown>; } catch { /* parsed before: cannot fail but for a race */ }
  const f = o.finding!;
  let prog = relative(dirname(outFile), t.prepared.programFile);
  if (isAbsolute(prog) || prog === '') prog = t.prepared.programFile;
  const schema = typeof orig.$schema === 'string' && !/^[a-z]+:/i.test(orig.$schema) ? relative(dirname(outFile), resolve(sc.dir, orig.$schema)) : orig.$schema;
  const res: Record<string, unknown> = {
    $schema: schema,
    description: `bpf-sockops explore counterexample for ${relative(dirname(outFile), sc.file) || sc.file} (seed ${info.seed}, delivery ${info.iteration}, shrunk): ${f.message}`,
    program: prog,
  };
  for (const k of ['sockops', 'setsockopt', 'getsockopt', 'profile', 'seed', 'socket', 'stream', 'frames']) if (orig[k] !== undefined) res[k] = orig[k];
  const steps: unknown[] = t.setup.map((s) => s.json);
  // "send" where the segment starts at the first byte not sent yet (as the parser counts it)
  let inOrder = 0;
  const ahead: [number, number][] = [];
  let finSent = false;
  for (const s of o.steps) {
    const st = s.step;
    if (st.kind === 'segment') {
      if (st.offset === inOrder && !finSent && st.len > 0) steps.push(st.fin ? { send: st.len, fin: true } : { send: st.len });
      else steps.push(s.json);
      if (st.fin) finSent = true;
      if (st.offset <= inOrder) inOrder = Math.max(inOrder, st.offset + st.len); else ahead.push([st.offset, st.offset + st.len]);
      for (let moved = true; moved;) {
        moved = false;
        for (let i = 0; i < ahead.length; i++) if (ahead[i]![0] <= inOrder) { inOrder = Math.max(inOrder, ahead[i]![1]); ahead.splice(i--, 1); moved = true; }
      }
    } else steps.push(s.json);
  }
  const last = o.steps[o.steps.length - 1];
  const failedHere = f.kind === 'expect' && last?.step.kind === 'expect';
  if (f.expect && !failedHere) steps.push({ expect: f.expect, comment: f.message });
  res.steps = steps;
  return JSON.stringify(res, null, 2) + '\n';
}
