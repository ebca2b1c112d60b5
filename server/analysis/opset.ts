// Sets of sock_ops op values as bit masks over the table's op list, each op carrying the `case`
// label or guard that admitted it (for related information in diagnostics).

/** The syntax that narrowed the op set to include an op: a `case` label or an `if` guard. */
export interface Admit {
  start: number;
  end: number;
  /** How it reads in a message: `case BPF_SOCK_OPS_RCVQ_CB` or `if (skops->op != ...)`. */
  label: string;
}

export class OpUniverse {
  readonly values: number[];
  private index = new Map<number, number>();
  readonly all: OpState;
  readonly none: OpState;

  constructor(values: number[]) {
    // Masks are 32-bit: a profile with more than 32 ops would need a wider set.
    this.values = [...values].sort((a, b) => a - b).slice(0, 32);
    this.values.forEach((v, i) => this.index.set(v, i));
    const full = this.values.length === 32 ? 0xffffffff : ((1 << this.values.length) >>> 0) - 1;
    this.all = new OpState(this, full >>> 0, []);
    this.none = new OpState(this, 0, []);
  }

  bit(op: number): number {
    const i = this.index.get(op);
    return i === undefined ? 0 : (1 << i) >>> 0;
  }

  ops(mask: number): number[] {
    const r: number[] = [];
    for (let i = 0; i < this.values.length; i++) if (mask & (1 << i)) r.push(this.values[i]!);
    return r;
  }

  indexOf(op: number): number {
    return this.index.get(op) ?? -1;
  }
}

/** Immutable: the ops that can reach a point, with their admitting syntax. */
export class OpState {
  constructor(readonly u: OpUniverse, readonly mask: number, readonly admits: readonly (Admit | undefined)[]) {}

  get empty(): boolean { return this.mask === 0; }
  ops(): number[] { return this.u.ops(this.mask); }
  has(op: number): boolean { return (this.mask & this.u.bit(op)) !== 0; }
  admitOf(op: number): Admit | undefined { return this.admits[this.u.indexOf(op)]; }

  union(o: OpState): OpState {
    if (o.mask === 0 || o === this) return this;
    if (this.mask === 0) return o;
    const mask = (this.mask | o.mask) >>> 0;
    const admits: (Admit | undefined)[] = [];
    const n = this.u.values.length;
    for (let i = 0; i < n; i++) {
      const b = (1 << i) >>> 0;
      admits.push(this.mask & b ? this.admits[i] ?? o.admits[i] : o.mask & b ? o.admits[i] : undefined);
    }
    return new OpState(this.u, mask, admits);
  }

  /** Keeps the ops for which `keep` holds; those kept get `admit` when the set shrank. */
  filter(keep: (op: number) => boolean, admit?: Admit): OpState {
    let mask = 0;
    const n = this.u.values.length;
    for (let i = 0; i < n; i++) {
      const b = (1 << i) >>> 0;
      if (this.mask & b && keep(this.u.values[i]!)) mask |= b;
    }
    mask >>>= 0;
    if (mask === this.mask) return this;
    if (!admit) return new OpState(this.u, mask, this.admits);
    const admits = this.admits.slice();
    for (let i = 0; i < n; i++) if (mask & (1 << i)) admits[i] = admit;
    return new OpState(this.u, mask, admits);
  }

  equals(o: OpState): boolean { return this.mask === o.mask; }
}
