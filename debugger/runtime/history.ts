// What each position of the current scenario step was (program run, pc, BPF frame depth), for
// stepping back, inline chains and helper-error stops. Only the step in progress is kept: a step
// back never needs more than the run it is in and the position before it, so memory is bounded
// by one step's instructions however long the scenario.
export class History {
  /** Absolute position of entry 0. */
  private base = 0;
  private len = 0;
  private run = new Int32Array(1024);
  private pc = new Int32Array(1024);
  private depth = new Int8Array(1024);

  /** Start over at absolute position `base` (a step boundary). */
  reset(base: number): void {
    this.base = base;
    this.len = 0;
  }

  /** Position `pos` (the next one, base + len) was run `run` (-1: a boundary) at pc, depth. */
  record(pos: number, run: number, pc: number, depth: number): void {
    const i = pos - this.base;
    if (i < 0) return;
    if (i >= this.run.length) {
      const size = Math.max(i + 1, this.run.length * 2);
      const r = new Int32Array(size); r.set(this.run); this.run = r;
      const p = new Int32Array(size); p.set(this.pc); this.pc = p;
      const d = new Int8Array(size); d.set(this.depth); this.depth = d;
    }
    this.run[i] = run;
    this.pc[i] = pc;
    this.depth[i] = depth;
    if (i >= this.len) this.len = i + 1;
  }

  has(q: number): boolean {
    return q >= this.base && q < this.base + this.len;
  }
  /** Run index at q; -2 when q is outside what is kept. */
  runAt(q: number): number {
    return this.has(q) ? this.run[q - this.base]! : -2;
  }
  pcAt(q: number): number {
    return this.has(q) ? this.pc[q - this.base]! : -1;
  }
  depthAt(q: number): number {
    return this.has(q) ? this.depth[q - this.base]! : 0;
  }
  get first(): number {
    return this.base;
  }
}
