// Public surface of the debug adapter: run a DAP session over a pair of streams.
import type { Readable, Writable } from 'node:stream';
import { BpfSockopsSession } from './session';

export { BpfSockopsSession } from './session';

/** Serve one debug session on the streams; resolves (with an exit code) when the client disconnects or closes. */
export function runAdapter(input: Readable, output: Writable): Promise<number> {
  return new Promise((resolve) => {
    const session = new BpfSockopsSession(() => resolve(0));
    session.start(input, output);
  });
}
