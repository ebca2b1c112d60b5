// Public surface of the debug adapter: run a DAP session over a pair of streams.
import { readSync } from 'node:fs';
import { Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { Response } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FrameParser } from '../../io/frames';
import { BpfSockopsSession } from './session';
import { messageProblem } from './validate';

export { BpfSockopsSession } from './session';

/** Serve one debug session on the streams; resolves (with an exit code) when the client disconnects
 *  or closes. `pollInput`: see BpfSockopsSession.setPauseSource. `say`: where protocol problems
 *  are reported (stderr by default: stdout carries the protocol). */
export function runAdapter(input: Readable, output: Writable, pollInput?: () => Uint8Array | null, say: (line: string) => void = stderrLine): Promise<number> {
  return new Promise((resolve) => {
    const session = new BpfSockopsSession(() => resolve(0));
    if (pollInput) session.setPauseSource(pollInput);
    // The session reads no bytes itself: frames are read here (no malformed one ends or deafens the
    // session) and only well-formed messages reach it. `closed` tells it the input ended.
    const closed = new PassThrough();
    session.start(closed, output);
    const parser = new FrameParser({
      message: (msg) => deliver(session, msg, say),
      problem: (text) => say(text),
    });
    input.on('data', (b: Buffer) => parser.push(b));
    const end = (why: string) => { if (closed.destroyed) return; say(why); closed.destroy(); };
    input.on('end', () => end('the input ended; the session ends'));
    input.on('error', (e) => end(`the input failed (${e.message}); the session ends`));
  });
}

function stderrLine(line: string): void {
  try { process.stderr.write(`bpf-sockops dap: ${line}\n`); } catch { /* stderr closed */ }
}

/** One decoded message to the session, or an error response naming what is wrong with it. */
function deliver(session: BpfSockopsSession, msg: unknown, say: (line: string) => void): void {
  const problem = messageProblem(msg);
  if (problem) {
    say(problem.text);
    if (problem.reply) session.sendResponse(errorResponse(problem.reply.seq, problem.reply.command, problem.text));
    return;
  }
  try {
    session.handleMessage(msg as DebugProtocol.ProtocolMessage);
  } catch (e) {
    const m = msg as { seq: number; command?: string; type: string };
    say(`${m.command ?? m.type} failed inside the adapter: ${(e as Error).message}`);
    if (m.type === 'request') session.sendResponse(errorResponse(m.seq, m.command ?? 'unknown', `${m.command}: the adapter could not handle this request`));
  }
}

function errorResponse(seq: number, command: string, text: string): DebugProtocol.Response {
  const r = new Response({ seq, command, type: 'request' } as DebugProtocol.Request) as DebugProtocol.ErrorResponse;
  r.success = false;
  r.message = text;
  r.body = { error: { id: 1010, format: text, variables: {}, showUser: false } };
  return r;
}

/**
 * Serve one session on this process's stdin/stdout, with pause requests seen during long runs:
 * a run holds the thread, so while it runs the runtime's hook reads stdin itself and hands what it
 * read on to the protocol reader, in order. Only for a pipe or socket, which Node has switched to
 * O_NONBLOCK (a read with nothing there fails with EAGAIN instead of waiting).
 */
export function runAdapterOnStdio(): Promise<number> {
  const stdin = process.stdin;
  if (!(stdin instanceof Socket) || (stdin as { isTTY?: boolean }).isTTY) return runAdapter(stdin, process.stdout);
  const input = new PassThrough();
  stdin.pipe(input);
  let eof = false;
  const buf = Buffer.alloc(65536);
  // A run holds the thread: a disconnect seen in what the run's poll read is answered at once and
  // ends the adapter (it would otherwise wait for the run to finish).
  const peek = new FrameParser({
    message: (m) => {
      const r = m as { type?: unknown; command?: unknown; seq?: unknown };
      if (r?.type !== 'request' || r.command !== 'disconnect' || !Number.isSafeInteger(r.seq)) return;
      const res = new Response(r as DebugProtocol.Request);
      process.stdout.write(frame({ ...res, seq: 0 }));
      stderrLine('disconnect during a run: answered, the adapter ends');
      process.exit(0);
    },
    problem: () => { /* the protocol reader reports these */ },
  });
  return runAdapter(input, process.stdout, () => {
    if (eof) return null;
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') eof = true; // not pollable: stop trying
      return null;
    }
    if (n === 0) { eof = true; return null; }
    const bytes = Buffer.from(buf.subarray(0, n));
    peek.push(bytes);
    input.write(bytes);
    return bytes;
  });
}

function frame(msg: object): string {
  const json = JSON.stringify(msg);
  return `Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`;
}
