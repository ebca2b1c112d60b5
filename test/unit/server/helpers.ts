// Shared by the server tests: fixtures and their `// expect: CODE severity` marks.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/check');

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.c')).sort().map((f) => path.join(FIXTURES, f));
}

/** Hooks of the emulator's tests that are correct and use helper callbacks (bpf_loop,
 *  bpf_for_each_map_elem): the server must stay quiet on them too. */
export const CALLBACK_HOOKS = ['test/fixtures/kernel/loop_frames.bpf.c', 'test/fixtures/kernel/foreach.bpf.c'];

/** Correct hooks: the fixtures marked `expect-none`, the example AutoLOWAT hook(s) and the
 *  callback hooks above. */
export function correctHooks(): string[] {
  const out = fixtureFiles().filter((f) => /\/\/ expect-none/.test(readFileSync(f, 'utf8')));
  for (const dir of ['examples/autolowat', 'examples/autolowat-tcp-ops']) {
    const ex = path.join(ROOT, dir);
    if (existsSync(ex)) for (const f of readdirSync(ex)) if (f.endsWith('.c')) out.push(path.join(ex, f));
  }
  for (const f of CALLBACK_HOOKS) out.push(path.join(ROOT, f));
  return out;
}

/** `line:CODE:severity` for every expectation written beside the code (1-based lines). */
export function expectations(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /\/\/ expect: (SOCKOPS.*)$/.exec(l);
    if (!m) return;
    for (const part of m[1]!.split(',')) {
      const [code, sev] = part.trim().split(/\s+/);
      out.push(`${i + 1}:${code}:${sev}`);
    }
  });
  return out.sort();
}

export function read(f: string): string {
  return readFileSync(f, 'utf8');
}

/** The kernel profile a fixture asks for with a `// profile: NAME` line (else the default). */
export function profileOf(text: string): string | undefined {
  return /^\/\/ profile: (\S+)/m.exec(text)?.[1];
}
