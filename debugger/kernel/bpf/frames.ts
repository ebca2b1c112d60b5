// Run frames: the regions of a program run (the ctx, struct bpf_sock_ops_kern, the sk_buff, the
// packet and optval buffers), mapped once per program and refilled run after run.
import type { SockopsTable } from '../../../sockops';
import { sockoptAccessError, SOCKOPT_CTX_SIZE } from './prepare';
import type { ActiveRun, Mapped, ProgEnv, SockOpsFrame, SockoptFrame } from './run';

/** Packet/optval bytes kept per program in regions reused by length (explore's segments come in
 *  hundreds of lengths: a region mapped and unmapped per run cost ~20% of its time); past it, new
 *  lengths get a region per run. */
const MAX_CACHED_BYTES = 1 << 20;
/** Bytes held by each such cache. */
const cachedBytes = new WeakMap<Map<number, Mapped>, number>();

export class RunFrames {
  private readonly sockoptMemo = new Map<number, string | null>();

  constructor(
    private readonly table: SockopsTable,
    private readonly kernLayout: { size: number },
    private readonly skbLayout: { size: number },
    private readonly txhashOff: number,
    /** bpf_sock_ops_kern.args after a store to the ctx's reply/args. */
    private readonly refreshKernArgs: (run: ActiveRun) => void,
  ) {}


  /** A program's VM runs one program run at a time: a run cannot start from inside a helper
   *  call of a run of the same program (the registers and stack are the VM's). */
  notRunning(env: ProgEnv, frame: { run: ActiveRun | null } | null): void {
    if (frame?.run) throw new Error(`${env.prog.name} is already running: a program run cannot start from inside one of its own helper calls`);
  }

  sockOpsFrame(env: ProgEnv): SockOpsFrame {
    const f = env.sockOpsFrame;
    this.notRunning(env, f);
    if (f) return f;
    const mem = env.vm.memory;
    const ctx = new Uint8Array(this.table.profile.ctxSize);
    const kern = new Uint8Array(this.kernLayout.size);
    const skbBuf = new Uint8Array(this.skbLayout.size);
    const dv = new DataView(ctx.buffer);
    const txhash = this.txhashOff;
    const frame: SockOpsFrame = {
      ctx, dv, ctxBase: 0n, kern, kdv: new DataView(kern.buffer), kernBase: 0n, args: ctx.subarray(4, 20), skbBuf, sdv: new DataView(skbBuf.buffer), skbBase: 0n,
      packets: new Map(), run: null,
    };
    frame.ctxBase = mem.map({
      name: 'ctx struct bpf_sock_ops',
      kind: 'ctx',
      bytes: ctx,
      writable: true,
      check: (off, size, write) => this.table.ctxAccessError(off, size, write),
      onWrite: (off) => {
        const run = frame.run;
        if (!run) return;
        if (off === 4 && run.kern) this.refreshKernArgs(run);
        // SOCK_OPS_SET_FIELD: the store reaches sk only under is_locked_tcp_sock; otherwise skipped.
        if (off === txhash) {
          if (run.locked) {
            run.objs.sock.sk_txhash = dv.getUint32(txhash, true);
            run.dirty = true;
          } else dv.setUint32(txhash, 0, true);
        }
      },
    });
    frame.kernBase = mem.map({ name: 'struct bpf_sock_ops_kern', kind: 'kernel', bytes: kern, writable: false });
    frame.skbBase = mem.map({ name: 'struct sk_buff (the skb of the run)', kind: 'kernel', bytes: skbBuf, writable: false });
    env.sockOpsFrame = frame;
    return frame;
  }

  sockoptFrame(env: ProgEnv, getsockopt = false): SockoptFrame {
    const f = env.sockoptFrame;
    this.notRunning(env, f);
    if (f) return f;
    const ctx = new Uint8Array(SOCKOPT_CTX_SIZE);
    const frame: SockoptFrame = { ctx, dv: new DataView(ctx.buffer), ctxBase: 0n, optvals: new Map(), run: null };
    frame.ctxBase = env.vm.memory.map({
      name: 'ctx struct bpf_sockopt', kind: 'ctx', bytes: ctx, writable: true,
      check: getsockopt ? (off, size, write) => sockoptAccessError(off, size, write, false) : (off, size, write) => this.sockoptAccessError(off, size, write),
    });
    env.sockoptFrame = frame;
    return frame;
  }

  /** sockoptAccessError for a cgroup/setsockopt program, memoized (asked on every ctx access). */
  sockoptAccessError(off: number, size: number, write: boolean): string | null {
    if (!(off >= 0 && off < 256 && size >= 1 && size <= 8)) return sockoptAccessError(off, size, write, true);
    const key = (off << 5) | (size << 1) | (write ? 1 : 0);
    let m = this.sockoptMemo.get(key);
    if (m === undefined) this.sockoptMemo.set(key, (m = sockoptAccessError(off, size, write, true)));
    return m;
  }

  /** A region of exactly `len` bytes holding a copy of `data` (the packet, the optval buffer),
   *  reused by later runs of the same length; beyond MAX_CACHED_BYTES in all, mapped for this
   *  run only (`transient`). `name` names a new region (a region keeps the name it was mapped
   *  with). */
  scratchRegion(env: ProgEnv, cache: Map<number, Mapped>, data: Uint8Array, len: number,
    name: (len: number) => string, writable: boolean, transient: bigint[]): Mapped {
    let m = cache.get(len);
    if (!m) {
      const bytes = new Uint8Array(len);
      m = { bytes, base: env.vm.memory.map({ name: name(len), kind: 'packet', writable, bytes }) };
      const used = (cachedBytes.get(cache) ?? 0) + len;
      if (used <= MAX_CACHED_BYTES) {
        cache.set(len, m);
        cachedBytes.set(cache, used);
      } else transient.push(m.base);
    } else if (data.length < len) m.bytes.fill(0, data.length);
    m.bytes.set(data.length > len ? data.subarray(0, len) : data);
    return m;
  }
}
