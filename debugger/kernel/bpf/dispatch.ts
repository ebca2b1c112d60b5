// Call dispatch: resolves a program's helper and kfunc calls to their implementations on first
// use, applies the sockops table's per-op verdict (the errno the kernel returns at this op, its
// argument checks first where the table says so), runs the implementation with a CallCtx, traces
// the call and refreshes the kernel objects after helpers that can change the socket.
import type { HelperInfo, KfuncInfo, OpRule } from '../../../sockops/types';
import type { CallResult, SockopsTable } from '../../../sockops';
import type { HelperContext, HelperCoroutine, HelperFn } from '../../vm/api';
import { GuestFaultError } from '../../vm';
import type { HelperCallTrace } from '../types';
import { ERRNO_NAMES } from './consts';
import { ARG_CHECKS, HELPERS, KFUNCS, PURE } from './helpers';
import { zeroFill } from './helpers/common';
import { notModelledMessage } from './helpers/notmodelled';
import { i32, r64, u32, type ActiveRun, type CallCtx, type CallEntry, type Impl, type KernelHost, type ProgEnv } from './run';

const OK: CallResult = { result: 'ok' };

/** What the dispatch needs from the kernel. */
export interface DispatchDeps {
  table: SockopsTable;
  host: KernelHost;
  kfuncNames: readonly string[];
  /** The run in progress, if any. */
  active(): ActiveRun | null;
  /** Rewrite the kernel objects after a call (full: everything). */
  refresh(run: ActiveRun, full: boolean): void;
  refreshAlways: boolean;
}

export class CallDispatch {
  constructor(private readonly deps: DispatchDeps) {}

  helperFn(env: ProgEnv, id: number): HelperFn | undefined {
    let e = env.helpers[id];
    if (e === undefined) {
      const info = this.deps.table.helper(id);
      let impl = info ? HELPERS[info.name] : undefined;
      const notModelled = info && !impl ? notModelledMessage(info.name, info.id) : undefined;
      if (notModelled !== undefined) impl = (c) => c.hc.fault(notModelled);
      e = info && impl ? this.entry(env, info, info.name, impl) : null;
      if (id >= 0 && id < 0x10000) env.helpers[id] = e;
    }
    return e ? e.fn : undefined;
  }

  kfuncFn(env: ProgEnv, index: number): HelperFn | undefined {
    let e = env.kfuncs[index];
    if (e === undefined) {
      const name = this.deps.kfuncNames[index];
      const impl = name ? KFUNCS[name] : undefined;
      e = name && impl ? this.entry(env, this.deps.table.kfunc(name) ?? null, name, impl) : null;
      if (index >= 0 && index < 0x10000) env.kfuncs[index] = e;
    }
    return e ? e.fn : undefined;
  }

  entry(env: ProgEnv, info: HelperInfo | KfuncInfo | null, name: string, impl: Impl): CallEntry {
    const e: CallEntry = {
      name, info, impl,
      fn: (hc, r1, r2, r3, r4, r5) => this.call(env, e, hc, r1, r2, r3, r4, r5),
      nparams: info ? Math.min(5, info.params.filter((p) => p.name !== '...').length || 5) : 5,
      returnsInt: returnsInt(info),
      pure: PURE.has(name),
      gates: [],
    };
    return e;
  }

  /** The table's verdict on this call at the run's op: cached per op unless a rule of the op
   *  looks at the arguments or at the skb. */
  gate(e: CallEntry, info: HelperInfo | KfuncInfo, run: ActiveRun, a: bigint[]): CallResult {
    const op = run.op;
    const cacheable = op < 256;
    let g = cacheable ? e.gates[op] : null;
    if (g === undefined) {
      const varies = info.sockOpsRules.some((r) => (r.when?.length || r.whenNoSkb) && r.ops.includes(op));
      g = varies ? null : this.deps.table.callAt(info, op);
      e.gates[op] = g;
    }
    if (g) return g;
    return this.deps.table.callAt(info, op, a.map((x) => i32(x)), { skb: run.skb !== null });
  }

  /** The CallCtx of `env`, pointing at the VM's HelperContext through a wrapper that notes a
   *  fault raised on purpose (env.faulting). */
  callCtx(env: ProgEnv, hc: HelperContext, run: ActiveRun): CallCtx {
    let c = env.callCtx;
    if (!c || (c.hc as HelperContext & { raw?: HelperContext }).raw !== hc) {
      const hcx: HelperContext & { raw: HelperContext } = {
        raw: hc,
        memory: hc.memory,
        reg: (i) => hc.reg(i),
        get pc() { return hc.pc; },
        fault: (message: string): never => {
          env.faulting = true;
          return hc.fault(message);
        },
        callbackTarget: (v: bigint) => (hc.callbackTarget ? hc.callbackTarget(v) : null),
      };
      c = env.callCtx = { hc: hcx, host: this.deps.host, run, env, info: null };
    }
    c.run = run;
    return c;
  }

  call(env: ProgEnv, e: CallEntry, hc: HelperContext, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint | HelperCoroutine {
    const run = this.deps.active();
    const name = e.name;
    if (!run || run.env !== env) return hc.fault(`${name} called outside a simulated run`);
    const info = e.info;
    const a = [r1, r2, r3, r4, r5];
    const c = this.callCtx(env, hc, run);
    c.info = info;
    env.faulting = false;
    let ret: bigint | HelperCoroutine;
    let ran = false;
    try {
      const gate = info && run.op >= 0 ? this.gate(e, info, run, a) : OK;
      if (gate.result === 'ok') {
        ran = true;
        ret = e.impl(c, a);
      } else {
        // A rule that follows the kernel function's own argument checks: those come first.
        const bad = gate.rule.afterArgChecks ? ARG_CHECKS[name]?.(c, a) : undefined;
        ret = bad ?? gateFailure(c, gate.rule, a, gate.result);
      }
    } catch (err) {
      return this.helperError(env, hc, name, err);
    }
    if (typeof ret !== 'bigint') return this.withCallbacks(env, e, hc, run, a, ret);
    return this.finishCall(env, e, hc.pc, run, a, ran, ret);
  }

  helperError(env: ProgEnv, hc: HelperContext, name: string, err: unknown): never {
    if (env.faulting) throw err;
    if (err instanceof GuestFaultError) return hc.fault(`${name}: ${err.message}`);
    // A bug on our side (or in the socket model) ends this program run as a helper fault
    // naming the call, rather than crashing the host.
    return hc.fault(`internal error in ${name}: ${(err as Error).message ?? String(err)}`);
  }

  /** A helper with callbacks: the VM drives `it`; its trace entry and refresh come when it ends
   *  (after the entries of the helpers its callbacks called). */
  *withCallbacks(env: ProgEnv, e: CallEntry, hc: HelperContext, run: ActiveRun, a: bigint[], it: HelperCoroutine): HelperCoroutine {
    const pc = hc.pc;
    let ret: bigint;
    try {
      env.faulting = false;
      let y = it.next();
      while (!y.done) {
        const r0 = yield y.value;
        env.faulting = false;
        y = it.next(r0);
      }
      ret = y.value;
    } catch (err) {
      return this.helperError(env, hc, e.name, err);
    }
    return this.finishCall(env, e, pc, run, a, true, ret);
  }

  finishCall(env: ProgEnv, e: CallEntry, pc: number, run: ActiveRun, a: bigint[], ran: boolean, ret: bigint): bigint {
    ret = BigInt.asUintN(64, ret);
    const trace = run.info.trace;
    const calls = trace.calls;
    if (calls === undefined || ret >= 0x8000000000000000n) {
      const t: HelperCallTrace = { pc, name: e.name, args: e.nparams === 5 ? a : a.slice(0, e.nparams), ret };
      // a negative errno: -4095..-1 as u64
      if (e.returnsInt && ret > 0xfffffffffffff000n) t.errno = this.errnoName(Number(BigInt.asIntN(64, ret)));
      trace.helpers.push(t);
    }
    // trace level 'brief': pc and r0's low byte, without a BigInt operation below 2^53 (a double
    // holds r0 exactly there, and `& 0xff` takes its low bits exactly)
    if (calls !== undefined) calls.push(pc * 256 + (ret < 0x20000000000000n ? Number(ret) & 0xff : Number(ret & 0xffn)));
    if (this.deps.refreshAlways) this.deps.refresh(run, true);
    else if ((ran && !e.pure) || run.dirty) this.deps.refresh(run, false);
    return ret;
  }

  errnoName(errno: number): string {
    const n = this.deps.table.errnoName(errno);
    return n.startsWith('errno ') ? ERRNO_NAMES[Math.abs(errno)] ?? n : n;
  }

}

function returnsInt(info: HelperInfo | KfuncInfo | null): boolean {
  if (!info) return true;
  return !/\*/.test(info.ret);
}

/** A per-op rule said no: the helper returns the errno without doing its work, zeroing its
 *  output buffer first where the rule says so (the table's `zeroes`). */
function gateFailure(c: CallCtx, rule: OpRule, a: bigint[], errno: number): bigint {
  if (rule.zeroes) zeroFill(c, a[rule.zeroes.arg]!, u32(a[rule.zeroes.lenArg]!));
  return r64(errno);
}
