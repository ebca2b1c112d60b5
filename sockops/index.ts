// The sock_ops ABI table: lookups over the rows of a profile (./profiles/). The language server's
// diagnostics and the simulated kernel's run-time results both come from here, so they agree.
// Every lookup is a Map access: the server calls these on each keystroke.
import type { CbFlagInfo, CtxFieldInfo, HelperInfo, KfuncInfo, OpInfo, OpRule, ProgType, Profile, Source } from './types';
import { linux715 } from './profiles/linux-7.1.5';
import { autolowatV3 } from './profiles/autolowat-sockops-v3';
import { autolowatTcpOpsV5 } from './profiles/autolowat-tcp-ops-v5';

export type * from './types';

export const DEFAULT_PROFILE = 'autolowat-sockops-v3';

const PROFILES = new Map<string, Profile>([
  [autolowatV3.name, autolowatV3],
  [linux715.name, linux715],
  [autolowatTcpOpsV5.name, autolowatTcpOpsV5],
]);

export function profileNames(): string[] {
  return [...PROFILES.keys()];
}

export function getProfile(name?: string): Profile {
  const p = PROFILES.get(name ?? DEFAULT_PROFILE);
  if (!p) throw new Error(`unknown sock_ops profile "${name}": known profiles are ${profileNames().join(', ')}`);
  return p;
}

const tables = new Map<string, SockopsTable>();
export function table(profile?: string): SockopsTable {
  const name = profile ?? DEFAULT_PROFILE;
  let t = tables.get(name);
  if (!t) {
    t = new SockopsTable(getProfile(name));
    tables.set(name, t);
  }
  return t;
}

export type CallResult = { result: 'ok' } | { result: number; rule: OpRule; conditional: boolean };
export type LoadVerdict = { ok: true; needs?: string } | { ok: false; why: string };
/** 'empty': a packet pointer with an empty window (skb_data == skb_data_end), not necessarily 0. */
export type CtxRead = { kind: 'value' } | { kind: 'zero' | 'null' | 'empty'; why: string; hint?: string; source: Source };

/** Kernel names of our program types, for messages. */
export const PROG_TYPE_NAMES: Record<ProgType, string> = {
  sock_ops: 'BPF_PROG_TYPE_SOCK_OPS (SEC("sockops"))',
  cgroup_setsockopt: 'BPF_PROG_TYPE_CGROUP_SOCKOPT attached as BPF_CGROUP_SETSOCKOPT (SEC("cgroup/setsockopt"))',
  cgroup_getsockopt: 'BPF_PROG_TYPE_CGROUP_SOCKOPT attached as BPF_CGROUP_GETSOCKOPT (SEC("cgroup/getsockopt"))',
};

const VALID_ACCESS = 'net/core/filter.c sock_ops_is_valid_access';

export class SockopsTable {
  readonly profile: Profile;
  private readonly opsByValue = new Map<number, OpInfo>();
  private readonly opsByName = new Map<string, OpInfo>();
  private readonly helpersById = new Map<number, HelperInfo>();
  private readonly helpersByName = new Map<string, HelperInfo>();
  private readonly kfuncsByName = new Map<string, KfuncInfo>();
  private readonly fieldsByName = new Map<string, CtxFieldInfo>();
  /** ctx byte offset -> field covering it (224 entries). */
  private readonly fieldAtByte: (CtxFieldInfo | undefined)[];
  private readonly constants = new Map<string, number>();
  private readonly flagsByName = new Map<string, CbFlagInfo>();
  private readonly flagsByValue = new Map<number, CbFlagInfo>();
  private readonly errnoNames = new Map<number, string>();
  private readonly ruleOps = new WeakMap<OpRule, Set<number>>();
  private readonly allOpValues: number[];
  private readonly accessMemo = new Map<number, string | null>();

  constructor(profile: Profile) {
    this.profile = profile;
    for (const o of profile.ops) {
      this.opsByValue.set(o.value, o);
      this.opsByName.set(o.name, o);
      this.opsByName.set(o.short, o);
    }
    this.allOpValues = profile.ops.map((o) => o.value).sort((a, b) => a - b);
    for (const h of profile.helpers) {
      this.helpersById.set(h.id, h);
      this.helpersByName.set(h.name, h);
      this.helpersByName.set(h.name.replace(/^bpf_/, ''), h);
      this.indexRules(h.sockOpsRules);
    }
    for (const k of profile.kfuncs) {
      this.kfuncsByName.set(k.name, k);
      this.indexRules(k.sockOpsRules);
    }
    this.fieldAtByte = new Array(profile.ctxSize).fill(undefined);
    for (const f of profile.ctxFields) {
      this.fieldsByName.set(f.name, f);
      for (let b = f.offset; b < f.offset + f.size && b < profile.ctxSize; b++) this.fieldAtByte[b] = f;
    }
    // Union aliases of args: reply is args[0], replylong the same 16 bytes.
    const args = this.fieldsByName.get('args');
    if (args) {
      if (!this.fieldsByName.has('reply')) this.fieldsByName.set('reply', args);
      if (!this.fieldsByName.has('replylong')) this.fieldsByName.set('replylong', args);
    }
    for (const e of profile.errnos) {
      this.errnoNames.set(e.value, e.name);
      this.constants.set(e.name, e.value);
    }
    for (const o of profile.ops) this.constants.set(o.name, o.value);
    for (const f of profile.cbFlags) {
      this.flagsByName.set(f.name, f);
      this.flagsByName.set(f.name.replace(/^BPF_SOCK_OPS_/, ''), f);
      this.flagsByValue.set(f.value, f);
      this.constants.set(f.name, f.value);
    }
    for (const c of profile.constants) this.constants.set(c.name, c.value);
  }

  private indexRules(rules: OpRule[]): void {
    for (const r of rules) this.ruleOps.set(r, new Set(r.ops));
  }

  op(valueOrName: number | string): OpInfo | undefined {
    return typeof valueOrName === 'number' ? this.opsByValue.get(valueOrName) : this.opsByName.get(valueOrName);
  }

  allOps(): number[] {
    return [...this.allOpValues];
  }

  /** The ops the kernel can run a program with: allOps() without those marked neverFires
   *  (BPF_SOCK_OPS_VOID). What analyses use as the set of ops a program may see. */
  firingOps(): number[] {
    return this.allOpValues.filter((v) => !this.opsByValue.get(v)?.neverFires);
  }

  helper(idOrName: number | string): HelperInfo | undefined {
    return typeof idOrName === 'number' ? this.helpersById.get(idOrName) : this.helpersByName.get(idOrName);
  }

  kfunc(name: string): KfuncInfo | undefined {
    return this.kfuncsByName.get(name);
  }

  ctxField(name: string): CtxFieldInfo | undefined {
    return this.fieldsByName.get(name);
  }

  ctxFieldAt(offset: number): CtxFieldInfo | undefined {
    return Number.isInteger(offset) && offset >= 0 ? this.fieldAtByte[offset] : undefined;
  }

  constant(name: string): number | undefined {
    return this.constants.get(name);
  }

  cbFlag(nameOrValue: string | number): CbFlagInfo | undefined {
    return typeof nameOrValue === 'number' ? this.flagsByValue.get(nameOrValue) : this.flagsByName.get(nameOrValue);
  }

  /** What `fn` returns at `op` before doing its work (first matching rule). `args`: the C call's
   *  argument values where known; `run`: what the emulator knows of the run in progress (whether
   *  it has an skb), absent for static analysis. */
  callAt(fn: HelperInfo | KfuncInfo, op: number, args?: (number | undefined)[], run?: { skb: boolean }): CallResult {
    for (const rule of fn.sockOpsRules) {
      const ops = this.ruleOps.get(rule) ?? new Set(rule.ops);
      if (!ops.has(op)) continue;
      if (rule.whenNoSkb && (run ? run.skb : this.opsByValue.get(op)?.hasSkb !== false)) continue;
      let unknown = false;
      let mismatch = false;
      for (const w of rule.when ?? []) {
        const a = args?.[w.arg];
        if (a === undefined) unknown = true;
        else if (a !== w.equals) mismatch = true;
      }
      if (mismatch) continue;
      if (unknown) {
        if (rule.result === 'ok') continue; // cannot be sure it applies: keep looking
        return { result: rule.result, rule, conditional: true };
      }
      return rule.result === 'ok' ? { result: 'ok' } : { result: rule.result, rule, conditional: false };
    }
    return { result: 'ok' };
  }

  failingOps(fn: HelperInfo | KfuncInfo, ops: number[], args?: (number | undefined)[]): { errno: number; ops: number[]; rule: OpRule; conditional: boolean }[] {
    const groups = new Map<OpRule, { errno: number; ops: number[]; rule: OpRule; conditional: boolean }>();
    for (const op of ops) {
      const r = this.callAt(fn, op, args);
      if (r.result === 'ok') continue;
      let g = groups.get(r.rule);
      if (!g) groups.set(r.rule, (g = { errno: r.result, ops: [], rule: r.rule, conditional: r.conditional }));
      if (!g.ops.includes(op)) g.ops.push(op);
    }
    const out = [...groups.values()];
    for (const g of out) g.ops.sort((a, b) => a - b);
    return out.sort((a, b) => a.errno - b.errno || a.ops[0] - b.ops[0]);
  }

  availableAtLoad(fn: HelperInfo | KfuncInfo, prog: ProgType): LoadVerdict {
    const progName = PROG_TYPE_NAMES[prog];
    if ('id' in fn) {
      const avail = fn.progTypes[prog];
      if (!avail) {
        const where = fn.otherProgTypes?.length ? `; it is available to ${fn.otherProgTypes.join(', ')}` : '';
        const ours = (Object.keys(fn.progTypes) as ProgType[]).filter((p) => fn.progTypes[p]);
        const alt = ours.length ? `; among the hooks this tool knows it works in ${ours.map((p) => PROG_TYPE_NAMES[p]).join(' and ')}` : '';
        const src = fn.source.confidence === 'kernel-7.1.5' ? `${fn.source.file} ${fn.source.func}` : fn.source.file;
        return {
          ok: false,
          why: `${fn.name} is not available to ${progName} in profile ${this.profile.name} (verifier: "program of this type cannot use helper ${fn.name}#${fn.id}"; ${src})${alt}${where}`,
        };
      }
      if (fn.sleepableOnly) {
        return { ok: false, why: `${fn.name} may sleep and ${progName} programs are not sleepable (verifier: "sleepable helper ${fn.name}#${fn.id} in non-sleepable prog")` };
      }
      const needs: string[] = [];
      if (avail !== true) needs.push(avail.needs);
      if (fn.gplOnly) needs.push('a GPL-compatible license (gpl_only helper)');
      return needs.length ? { ok: true, needs: needs.join('; ') } : { ok: true };
    }
    if (!fn.progTypes.includes(prog)) {
      return { ok: false, why: `kfunc ${fn.name} is not registered for ${progName} in profile ${this.profile.name} (verifier: "calling kernel function ${fn.name} is not allowed")` };
    }
    return { ok: true, needs: 'a GPL-compatible license (every kfunc call)' };
  }

  ctxReadAt(field: CtxFieldInfo, op: number): CtxRead {
    const info = this.opsByValue.get(op);
    if (info) {
      const where = `${info.name} (${info.value})`;
      if (field.gate === 'locked_tcp_sock' && info.isLockedTcpSock === false) {
        return {
          kind: 'zero',
          why: `bpf_sock_ops.${field.name} reads as 0 at ${where}: the program runs with is_locked_tcp_sock = 0 there, and TCP fields are only read under the socket lock`,
          source: { file: 'net/core/filter.c', func: 'sock_ops_convert_ctx_access', confidence: info.source.confidence === 'kernel-7.1.5' ? 'kernel-7.1.5' : info.source.confidence, note: `gate is_locked_tcp_sock; ${info.source.file} ${info.source.func}` },
        };
      }
      if (field.gate === 'fullsock' && info.isFullsock === false) {
        return {
          kind: 'null',
          why: `bpf_sock_ops.${field.name} is NULL at ${where}: the op runs on a request socket (is_fullsock = 0)`,
          source: { file: 'net/core/filter.c', func: 'sock_ops_convert_ctx_access', confidence: info.source.confidence, note: 'SOCK_OPS_GET_SK: NULL unless is_fullsock' },
        };
      }
      if (field.gate === 'skb' && info.hasSkb === false) {
        return {
          kind: 'zero',
          why: `bpf_sock_ops.${field.name} is 0 at ${where}: the op has no skb`,
          source: { file: 'net/core/filter.c', func: 'sock_ops_convert_ctx_access', confidence: info.source.confidence, note: 'skb-based fields read 0 when bpf_sock_ops_kern.skb is NULL' },
        };
      }
    }
    for (const z of field.zeroAt ? [field.zeroAt, ...(field.alsoZeroAt ?? [])] : field.alsoZeroAt ?? []) {
      if (z.ops.includes(op)) {
        const r: CtxRead = { kind: z.kind ?? 'zero', why: `bpf_sock_ops.${field.name} at ${info ? info.name : `op ${op}`}: ${z.why}`, source: z.source };
        if (z.hint) r.hint = z.hint;
        return r;
      }
    }
    return { kind: 'value' };
  }

  /** The verifier's verdict on a ctx access (null: allowed), memoized: the emulator asks on
   *  every ctx load and store. */
  ctxAccessError(offset: number, size: number, write: boolean): string | null {
    if (Number.isInteger(offset) && offset >= 0 && offset < this.profile.ctxSize && size >= 1 && size <= 8) {
      const key = ((offset << 5) | (size << 1) | (write ? 1 : 0)); // size 8 << 1 needs bits 1-4
      const hit = this.accessMemo.get(key);
      if (hit !== undefined) return hit;
      const msg = this.ctxAccessCheck(offset, size, write);
      this.accessMemo.set(key, msg);
      return msg;
    }
    return this.ctxAccessCheck(offset, size, write);
  }

  private ctxAccessCheck(offset: number, size: number, write: boolean): string | null {
    const ctxSize = this.profile.ctxSize;
    const verifier = `(verifier: "invalid bpf_context access off=${offset} size=${size}")`;
    const kind = write ? 'write to' : 'read of';
    if (!Number.isInteger(offset) || offset < 0 || offset >= ctxSize) {
      return `${kind} bpf_sock_ops at offset ${offset} (${size} bytes) is out of bounds: struct bpf_sock_ops is ${ctxSize} bytes ${verifier} (${VALID_ACCESS})`;
    }
    if (![1, 2, 4, 8].includes(size)) return `${kind} bpf_sock_ops at offset ${offset}: invalid access size ${size} ${verifier}`;
    const field = this.fieldAtByte[offset];
    const label = field ? this.label(field, offset) : `offset ${offset}`;
    const what = `${kind} bpf_sock_ops.${label} (offset ${offset}, ${size} byte${size === 1 ? '' : 's'})`;
    if (offset % size !== 0) return `${what} is rejected by the verifier: the access is not aligned to its size ${verifier} (${VALID_ACCESS})`;
    if (write) {
      const reply = this.fieldsByName.get('args')?.offset ?? 4;
      const txhash = this.fieldsByName.get('sk_txhash')?.offset ?? 164;
      if (offset !== reply && offset !== txhash) {
        return `${what} is rejected by the verifier: only reply/args[0] and sk_txhash are writable (${VALID_ACCESS})`;
      }
      if (size !== 4) return `${what} is rejected by the verifier: reply and sk_txhash are written as 4-byte values (${VALID_ACCESS})`;
      return null;
    }
    if (!field) return `${what} is rejected by the verifier ${verifier} (${VALID_ACCESS})`;
    if (field.readSizes.length > 1 || field.readSizes[0] !== 4 || field.size === 8) {
      // Fields with their own rule: 8-byte pointers/counters and skb_tcp_flags (narrow loads at its first byte only).
      if (field.size === 8) {
        if (size !== 8) return `${what} is rejected by the verifier: ${field.name} must be read as a whole 8-byte value ${verifier} (${VALID_ACCESS})`;
        return null;
      }
      if (offset === field.offset && field.readSizes.includes(size)) return null;
      return `${what} is rejected by the verifier: ${field.name} allows ${field.readSizes.join('/')}-byte loads at its first byte (offset ${field.offset}) only ${verifier} (${VALID_ACCESS})`;
    }
    if (size !== 4) return `${what} is rejected by the verifier: ${field.name} must be read with a 4-byte load, narrower or wider loads are refused ${verifier} (${VALID_ACCESS})`;
    return null;
  }

  errnoName(errno: number): string {
    return this.errnoNames.get(Math.abs(errno)) ?? `errno ${errno}`;
  }

  private label(f: CtxFieldInfo, offset: number): string {
    if (f.elemSize && f.size > f.elemSize) {
      const i = Math.floor((offset - f.offset) / f.elemSize);
      if (f.name === 'args' && i === 0) return 'reply/args[0]';
      return `${f.name}[${i}]`;
    }
    return f.name;
  }
}
