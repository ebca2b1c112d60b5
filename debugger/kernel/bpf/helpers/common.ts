// What every helper implementation uses: guest memory access through the VM's HelperContext,
// with the kernel's rules for output buffers.
import { GuestFaultError } from '../../../vm';
import type { CallCtx } from '../run';

/** Guest bytes at addr (a bad address faults). */
export const readBytes = (c: CallCtx, addr: bigint, len: number) => c.hc.memory.readBytes(addr, len);

/** Guest memory as %s/%pI4 read it: a bad address gives null (the kernel prints nothing). */
export class PrintkMem {
  constructor(readonly c: CallCtx) {}
  cstring(addr: bigint, max: number): string | null {
    try {
      return this.c.hc.memory.readCString(addr, max);
    } catch {
      return null;
    }
  }
  bytes(addr: bigint, len: number): Uint8Array | null {
    try {
      return this.c.hc.memory.readBytes(addr, len);
    } catch {
      return null;
    }
  }
}

/** One PrintkMem per CallCtx (the CallCtx of a program is reused from call to call). */
export const printkMems = new WeakMap<CallCtx, PrintkMem>();
export function printkMemory(c: CallCtx): PrintkMem {
  let m = printkMems.get(c);
  if (!m) printkMems.set(c, (m = new PrintkMem(c)));
  return m;
}

/** Zero a guest output buffer (checked first, as outBuf). */
export function zeroFill(c: CallCtx, addr: bigint, len: number): void {
  if (len > 0) c.hc.memory.writeBytes(addr, new Uint8Array(outBuf(c, addr, len)));
}

/** The length of a guest buffer a helper is about to fill, checked against the buffer first:
 *  the verifier bounds an ARG_CONST_SIZE by its buffer, so a longer one (up to 4 GiB from a
 *  register) is a program the kernel refuses, and faults here before the host allocates it. */
export function outBuf(c: CallCtx, addr: bigint, len: number): number {
  if (len > 0 && !c.hc.memory.find(addr, len)) {
    throw new GuestFaultError(`store of ${len} bytes at 0x${addr.toString(16)} is outside any region`, 'bad-access', addr);
  }
  return len;
}
