// The frames oracle, checked after every event of a delivery (issue 14 §2), and what a finding
// is. With "frames" declared: no early wakeup (epoll readable because of sk_rcvlowat => the next
// whole frame is readable, unless the hook gave up: RCVQ_CB_FLAG cleared and rcvlowat 1) and no
// stall (the next whole frame readable => epoll reports it). Facts only; cli/explore.ts writes
// the sentences around them.
import type { Expectation } from '../scenario/index';
import type { TcpSock } from '../kernel/tcp/index';

export type FindingKind = 'early-wakeup' | 'stall' | 'expect' | 'fault' | 'helper-error';

export interface Finding {
  kind: FindingKind;
  message: string;
  /** The expect that fails under `run` at the end of the counterexample (none for faults and
   *  ignored helper errors: `run` reports a fault itself). */
  expect?: Expectation;
  /** The call instruction of an ignored helper error. */
  pc?: number;
}

/** Where the reader stands against the declared frames. */
export interface FrameView {
  /** Stream bytes copied to the application / received (data only, the FIN not counted). */
  copied: number;
  received: number;
  /** Bytes of the next whole frame still to read (0: past the declared frames). */
  need: number;
  /** Offset where that frame ends. */
  frameEnd: number;
}

/** The first frame end > copied (binary search). */
export function frameView(sock: TcpSock, seq0: number, frameEnds: readonly number[]): FrameView {
  const received = ((sock.rcv_nxt - seq0) >>> 0) - (sock.rcvShutdown ? 1 : 0);
  const copied = Math.min((sock.copied_seq - seq0) >>> 0, received);
  let lo = 0, hi = frameEnds.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (frameEnds[mid]! > copied) hi = mid; else lo = mid + 1; }
  const frameEnd = lo < frameEnds.length ? frameEnds[lo]! : 0;
  return { copied, received, need: frameEnd ? frameEnd - copied : 0, frameEnd };
}

/** The oracle after one event; null when it holds. `rcvqFlag`: RCVQ_CB_FLAG of the profile. */
export function checkFrames(sock: TcpSock, seq0: number, frameEnds: readonly number[], rcvqFlag: number): Finding | null {
  if (frameEnds.length === 0) return null;
  const v = frameView(sock, seq0, frameEnds);
  if (v.need === 0) return null;
  const avail = v.received - v.copied;
  const whole = avail >= v.need;
  const epoll = sock.epollIn();
  const lowat = sock.sk_rcvlowat;
  if (epoll && !whole && !sock.rcvShutdown && avail >= lowat) {
    const flagOn = (sock.bpf_sock_ops_cb_flags & rcvqFlag) !== 0;
    if (!flagOn && lowat === 1) return null; // the hook gave up (or was never on): every byte wakes
    return {
      kind: 'early-wakeup',
      message: `early wakeup: epoll reports the socket readable with ${avail} of the ${v.need} bytes left of the frame ending at ${v.frameEnd} (rcvlowat ${lowat}${lowat === 1 && flagOn ? ', RCVQ_CB_FLAG still on: a hook that gives up clears it' : ''})`,
      expect: { epoll: 0 },
    };
  }
  if (whole && !epoll) {
    return {
      kind: 'stall',
      message: `stall: the frame ending at ${v.frameEnd} is readable (${avail} bytes, ${v.need} needed) but epoll does not report it (rcvlowat ${lowat})`,
      expect: { epoll: 1 },
    };
  }
  return null;
}
