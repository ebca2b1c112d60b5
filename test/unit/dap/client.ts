// Starts the debug adapter the way the extension does (`bpf-sockops dap`), from the sources
// (`node --import tsx cli/dap.ts`, the same dapCommand the bundle's `dap` runs), and drives it
// with the DebugClient of @vscode/debugadapter-testsupport.
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../../..');
export const FIX = join(ROOT, 'test/fixtures/dap');
export const EXAMPLE = join(ROOT, 'examples/autolowat');
export const FRAMES_C = join(FIX, 'frames.bpf.c');
export const FRAMES_SCENARIO = join(FIX, 'frames.scenario.json');
export const FAULT_SCENARIO = join(FIX, 'frames-fault.scenario.json');

export function newClient(): DebugClient {
  const dc = new DebugClient(process.execPath, join(ROOT, 'cli/dap.ts'), 'bpf-sockops', {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() },
  });
  dc.defaultTimeout = 20000; // a hang guard, not a speed assertion
  return dc;
}

export async function withClient(fn: (dc: DebugClient) => Promise<void>): Promise<void> {
  const dc = newClient();
  await dc.start();
  try {
    await fn(dc);
  } finally {
    await dc.stop().catch(() => {});
  }
}

/** initialize + launch, then `setup` (breakpoints), then configurationDone; returns the first stopped event (or null at termination). */
export async function launch(dc: DebugClient, args: Record<string, unknown>, setup: () => Promise<unknown> = async () => {}): Promise<DebugProtocol.StoppedEvent | null> {
  const initialized = dc.waitForEvent('initialized');
  await dc.launch({ type: 'bpf-sockops', request: 'launch', ...args } as DebugProtocol.LaunchRequestArguments);
  await initialized;
  await setup();
  const next = nextStop(dc);
  await dc.configurationDoneRequest();
  return next;
}

/** The next stopped event, or null when the session terminates first. */
export function nextStop(dc: DebugClient): Promise<DebugProtocol.StoppedEvent | null> {
  return new Promise((resolveStop, reject) => {
    let done = false;
    dc.waitForEvent('stopped').then((e) => { if (!done) { done = true; resolveStop(e as DebugProtocol.StoppedEvent); } }, (e) => { if (!done) { done = true; reject(e); } });
    dc.waitForEvent('terminated').then(() => { if (!done) { done = true; resolveStop(null); } }, () => {});
  });
}

/** Send a request that resumes, and wait for where it stops. */
export async function resume(dc: DebugClient, req: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent | null> {
  const stop = nextStop(dc);
  await req();
  return stop;
}

export async function top(dc: DebugClient) {
  const st = await dc.stackTraceRequest({ threadId: 1 });
  return st.body.stackFrames;
}

/** All variables of a scope by name ('Socket' -> {sk_rcvlowat: '14', ...}). */
export async function scope(dc: DebugClient, name: string, frameId?: number): Promise<{ ref: number; vars: DebugProtocol.Variable[]; map: Record<string, string> }> {
  const frames = await top(dc);
  const sc = await dc.scopesRequest({ frameId: frameId ?? frames[0]!.id });
  const s = sc.body.scopes.find((x) => x.name === name);
  if (!s) throw new Error(`no scope ${name}: ${sc.body.scopes.map((x) => x.name).join(', ')}`);
  const v = await dc.variablesRequest({ variablesReference: s.variablesReference });
  return { ref: s.variablesReference, vars: v.body.variables, map: Object.fromEntries(v.body.variables.map((x) => [x.name, x.value])) };
}

export async function evaluate(dc: DebugClient, expression: string): Promise<string> {
  const r = await dc.evaluateRequest({ expression, context: 'watch', frameId: (await top(dc))[0]!.id });
  return r.body.result;
}

/** Collect output events (category, text) for the session's life. */
export function collectOutput(dc: DebugClient): { lines: string[] } {
  const out = { lines: [] as string[] };
  dc.on('output', (e: DebugProtocol.OutputEvent) => { out.lines.push(e.body.output); });
  return out;
}
