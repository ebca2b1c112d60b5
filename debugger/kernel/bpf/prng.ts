// Deterministic stand-ins for the kernel's clocks and PRNG: the same seed gives the same run.

/** xorshift128+ seeded by splitmix64: bpf_get_prandom_u32() of the simulation (the kernel uses
 *  a per-cpu prandom state; the values are ours, only the determinism matters). */
export class Prng {
  private s0: bigint;
  private s1: bigint;
  constructor(seed: number) {
    let x = BigInt.asUintN(64, BigInt(seed >>> 0) | (BigInt(Math.floor(seed / 2 ** 32) >>> 0) << 32n));
    const next = () => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return z ^ (z >> 31n);
    };
    this.s0 = next();
    this.s1 = next();
  }
  /** The generator's state (the debugger's checkpoints) and putting it back. */
  get state(): [bigint, bigint] { return [this.s0, this.s1]; }
  set state(s: [bigint, bigint]) { this.s0 = s[0]; this.s1 = s[1]; }
  nextU32(): number {
    let a = this.s0;
    const b = this.s1;
    this.s0 = b;
    a = BigInt.asUintN(64, a ^ (a << 23n));
    this.s1 = a ^ b ^ (a >> 17n) ^ (b >> 26n);
    return Number(BigInt.asUintN(64, this.s1 + b) >> 32n);
  }
}

/** A virtual clock: starts at 1 s (a monotonic clock is never 0 after boot) and advances 1 µs per
 *  read so that two reads in one run differ, as real ones would. Our choice. */
export class VirtualClock {
  private t = 1_000_000_000n;
  nowNs(): bigint {
    const v = this.t;
    this.t += 1000n;
    return v;
  }
}
