// Public surface of the debug adapter: run a DAP session over a pair of streams.
import { readSync } from 'node:fs';
import { Socket } from 'node:net';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { BpfSockopsSession } from './session';

export { BpfSockopsSession } from './session';

/** Serve one debug session on the streams; resolves (with an exit code) when the client disconnects
 *  or closes. `pollInput`: see BpfSockopsSession.setPauseSource. */
export function runAdapter(input: Readable, output: Writable, pollInput?: () => Uint8Array | null): Promise<number> {
  return new Promise((resolve) => {
    const session = new BpfSockopsSession(() => resolve(0));
    if (pollInput) session.setPauseSource(pollInput);
    session.start(input, output);
  });
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
    input.write(bytes);
    return bytes;
  });
}
