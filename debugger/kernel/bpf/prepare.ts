// Load-time checks of the simulated kernel: what the verifier would reject before a program
// ever runs. A small forward data-flow over the instructions tracks which registers and stack
// slots hold the ctx pointer (and which hold a map), so that a store to bpf_sock_ops.op or a
// narrow load of a field without narrow loads is a load error naming the field, as in
// kernel/bpf/verifier.c check_ctx_access() -> sock_ops_is_valid_access(). Where this scan
// cannot tell (pointer arithmetic, spills through other registers), the run-time check on the
// ctx region catches the access.
import type { BpfObject, BpfProgram } from '../../object/types';
import type { Insn } from '../../vm/api';
import type { ProgType } from '../../../sockops/types';
import { LoadError } from './errors';
import { licenseIsGplCompatible } from './consts';
import { mapKind } from './maps';

const UNKNOWN = -1;
const CTX = -2;

interface AbsState { regs: number[]; stack: Map<number, number> }

const clone = (s: AbsState): AbsState => ({ regs: s.regs.slice(), stack: new Map(s.stack) });

function meet(into: AbsState, s: AbsState): boolean {
  let changed = false;
  for (let i = 0; i < 11; i++) {
    if (into.regs[i] !== s.regs[i] && into.regs[i] !== UNKNOWN) {
      into.regs[i] = UNKNOWN;
      changed = true;
    }
  }
  for (const [k, v] of into.stack) {
    if (s.stack.get(k) !== v) {
      into.stack.delete(k);
      changed = true;
    }
  }
  return changed;
}

const SIZE = [4, 2, 1, 8];
const sizeOf = (code: number) => SIZE[(code >> 3) & 3]!;

export interface ScanIssue { pc: number; message: string }

export interface ScanHooks {
  /** The verifier's verdict on a ctx access: null if allowed. */
  ctxAccessError(off: number, size: number, write: boolean): string | null;
  /** Extra checks of a helper call given the abstract r1 (map index or UNKNOWN). */
  helperCall?(pc: number, id: number, r1Map: number | null): string | null;
}

/** Forward must-analysis; returns every ctx access the verifier would reject. */
export function scanProgram(insns: Insn[], hooks: ScanHooks): ScanIssue[] {
  const n = insns.length;
  const states: (AbsState | undefined)[] = new Array(n);
  const entry: AbsState = { regs: new Array(11).fill(UNKNOWN), stack: new Map() };
  entry.regs[1] = CTX;
  states[0] = entry;
  const work: number[] = [0];
  const inWork = new Uint8Array(n);
  inWork[0] = 1;

  const flow = (to: number, s: AbsState) => {
    if (to < 0 || to >= n) return;
    const cur = states[to];
    if (!cur) states[to] = clone(s);
    else if (!meet(cur, s)) return;
    if (!inWork[to]) {
      inWork[to] = 1;
      work.push(to);
    }
  };

  const clearStack = (st: AbsState, off: number, size: number) => {
    for (const k of [...st.stack.keys()]) if (off < k + 8 && k < off + size) st.stack.delete(k);
  };

  // Transfer function; `check` collects issues on the final pass.
  const step = (pc: number, s: AbsState, check: ScanIssue[] | null): void => {
    const insn = insns[pc]!;
    const cls = insn.code & 7;
    const st = clone(s);
    const mode = insn.code & 0xe0;
    switch (cls) {
      case 0: // LD
        if (insn.code === 0x18) {
          st.regs[insn.dst] = insn.src === 1 ? insn.imm : UNKNOWN;
          flow(pc + 2, st);
          return;
        }
        st.regs[0] = UNKNOWN;
        flow(pc + 1, st);
        return;
      case 1: { // LDX
        const size = sizeOf(insn.code);
        if (s.regs[insn.src] === CTX && check && (mode === 0x60 || mode === 0x80)) {
          const e = hooks.ctxAccessError(insn.off, size, false);
          if (e) check.push({ pc, message: e });
        }
        let v = UNKNOWN;
        if (insn.src === 10 && size === 8 && mode === 0x60) v = s.stack.get(insn.off) ?? UNKNOWN;
        st.regs[insn.dst] = v;
        flow(pc + 1, st);
        return;
      }
      case 2: // ST
      case 3: { // STX
        const size = sizeOf(insn.code);
        if (s.regs[insn.dst] === CTX && check) {
          if (mode === 0xc0) check.push({ pc, message: `BPF_ATOMIC stores into R${insn.dst} ctx is not allowed (kernel/bpf/verifier.c check_atomic)` });
          else {
            const e = hooks.ctxAccessError(insn.off, size, true);
            if (e) check.push({ pc, message: e });
          }
        }
        if (insn.dst === 10) {
          clearStack(st, insn.off, size);
          if (cls === 3 && mode === 0x60 && size === 8 && s.regs[insn.src] !== UNKNOWN) st.stack.set(insn.off, s.regs[insn.src]!);
        }
        if (mode === 0xc0 && cls === 3) {
          // fetch forms write src (cmpxchg writes r0)
          if (insn.imm === 0xf1) st.regs[0] = UNKNOWN;
          else if (insn.imm & 1) st.regs[insn.src] = UNKNOWN;
        }
        flow(pc + 1, st);
        return;
      }
      case 4:
      case 7: // ALU, ALU64
        st.regs[insn.dst] = cls === 7 && insn.code === 0xbf && insn.off === 0 ? s.regs[insn.src]! : UNKNOWN;
        flow(pc + 1, st);
        return;
      case 5:
      case 6: { // JMP, JMP32
        const op = insn.code & 0xf0;
        if (op === 0x90 && cls === 5) return; // exit
        if (op === 0x80 && cls === 5) {
          if (insn.src === 1) {
            const callee: AbsState = { regs: new Array(11).fill(UNKNOWN), stack: new Map() };
            for (let r = 1; r <= 5; r++) callee.regs[r] = s.regs[r]!;
            flow(pc + 1 + insn.imm, callee);
          } else if (insn.src === 0 && check && hooks.helperCall) {
            const r1 = s.regs[1]!;
            const e = hooks.helperCall(pc, insn.imm, r1 >= 0 ? r1 : null);
            if (e) check.push({ pc, message: e });
          }
          for (let r = 0; r <= 5; r++) st.regs[r] = UNKNOWN;
          flow(pc + 1, st);
          return;
        }
        if (op === 0x00) {
          flow(pc + 1 + (cls === 6 ? insn.imm : insn.off), st);
          return;
        }
        flow(pc + 1, st);
        flow(pc + 1 + insn.off, st);
        return;
      }
    }
  };

  while (work.length) {
    const pc = work.pop()!;
    inWork[pc] = 0;
    step(pc, states[pc]!, null);
  }
  const issues: ScanIssue[] = [];
  for (let pc = 0; pc < n; pc++) if (states[pc]) step(pc, states[pc]!, issues);
  return issues;
}

// ---- bpf_sockopt (cgroup/setsockopt, cgroup/getsockopt): kernel/bpf/cgroup.c cg_sockopt_is_valid_access ----

export const SOCKOPT_CTX_SIZE = 40;
const SOCKOPT_FIELDS: { name: string; off: number; size: number }[] = [
  { name: 'sk', off: 0, size: 8 },
  { name: 'optval', off: 8, size: 8 },
  { name: 'optval_end', off: 16, size: 8 },
  { name: 'level', off: 24, size: 4 },
  { name: 'optname', off: 28, size: 4 },
  { name: 'optlen', off: 32, size: 4 },
  { name: 'retval', off: 36, size: 4 },
];

export function sockoptAccessError(off: number, size: number, write: boolean, setsockopt: boolean): string | null {
  const f = SOCKOPT_FIELDS.find((x) => off >= x.off && off < x.off + x.size);
  const where = f ? `bpf_sockopt.${f.name} (offset ${off}, ${size} bytes)` : `bpf_sockopt offset ${off} (${size} bytes)`;
  const cite = '(kernel/bpf/cgroup.c cg_sockopt_is_valid_access)';
  if (!f || off % size !== 0) return `invalid access to ${where} ${cite}`;
  const attach = setsockopt ? 'cgroup/setsockopt' : 'cgroup/getsockopt';
  if (write) {
    if (size !== 4 || off !== f.off) return `write to ${where} is rejected: stores must be 4 bytes ${cite}`;
    if (f.name === 'retval' && setsockopt) return `write to ${where} is rejected in a ${attach} program: only getsockopt programs set retval ${cite}`;
    if ((f.name === 'level' || f.name === 'optname') && !setsockopt) return `write to ${where} is rejected in a ${attach} program ${cite}`;
    if (f.name === 'sk' || f.name === 'optval' || f.name === 'optval_end') return `write to ${where} is rejected: it is read-only ${cite}`;
    return null;
  }
  if (f.size === 8 && (size !== 8 || off !== f.off)) return `read of ${where} is rejected: pointer fields need 8-byte loads ${cite}`;
  if (f.size === 4 && size !== 4) return `read of ${where} is rejected: narrow loads are not allowed here ${cite}`;
  if (f.name === 'retval' && setsockopt) return `read of ${where} is rejected in a ${attach} program ${cite}`;
  return null;
}

// ---- program selection ----

export function progTypeOf(section: string): ProgType | null {
  if (section === 'sockops') return 'sock_ops';
  if (section === 'cgroup/setsockopt') return 'cgroup_setsockopt';
  if (section === 'cgroup/getsockopt') return 'cgroup_getsockopt';
  return null;
}

export function pickProgram(obj: BpfObject, name: string | undefined, section: string, what: string): BpfProgram {
  const list = obj.programs.map((p) => `${p.name} (SEC("${p.section}"))`).join(', ') || 'none';
  if (name === undefined) {
    const cands = obj.programs.filter((p) => p.section === section);
    if (cands.length === 1) return cands[0]!;
    if (cands.length === 0) {
      throw new LoadError(obj.file, null, `no SEC("${section}") program in the object; programs there: ${list}. Add one, or name the ${what} program to use.`);
    }
    throw new LoadError(obj.file, null, `${cands.length} SEC("${section}") programs in the object (${cands.map((p) => p.name).join(', ')}); name the ${what} program to use.`);
  }
  const p = obj.programs.find((x) => x.name === name);
  if (!p) throw new LoadError(obj.file, name, `no program named ${name} in the object; programs there: ${list}. Check the "${what}" name.`);
  if (p.section !== section) {
    throw new LoadError(obj.file, name, `program ${name} is in SEC("${p.section}"), but the ${what} program must be SEC("${section}").`);
  }
  return p;
}

/** file:line of the instruction at pc, from BTF line_info. */
export function lineOf(prog: BpfProgram, pc: number): string | undefined {
  let best: { file: string; line: number } | undefined;
  for (const li of prog.lineInfo) {
    if (li.pc > pc) break;
    best = li;
  }
  return best ? `${best.file}:${best.line}` : undefined;
}

export interface CallCheck {
  helperName(id: number): string | undefined;
  /** null if allowed at load, else the reason. */
  helperAvailable(id: number): string | null;
  /** The helper's proto is gpl_only (the table's row): a non-GPL program cannot call it. */
  helperGplOnly(id: number): boolean;
  kfuncAllowed(name: string): string | null;
}

/** Load-time checks of every call instruction and the ld_imm64 forms. */
export function checkCalls(obj: BpfObject, prog: BpfProgram, cc: CallCheck): void {
  const gpl = licenseIsGplCompatible(obj.license);
  const fail = (pc: number, msg: string): never => {
    throw new LoadError(obj.file, prog.name, msg, lineOf(prog, pc), pc);
  };
  for (let pc = 0; pc < prog.insns.length; pc++) {
    const insn = prog.insns[pc]!;
    if (insn.code === 0x18) {
      if (insn.src === 1 || insn.src === 2) {
        if (!obj.maps[insn.imm]) fail(pc, `ld_imm64 names map #${insn.imm}, but the object has ${obj.maps.length} maps; rebuild the object.`);
      } else if (insn.src !== 0 && insn.src !== 4) { // 4: a callback's address (BPF_PSEUDO_FUNC), the VM's own
        fail(pc, `ld_imm64 pseudo form src=${insn.src} is not supported by the emulator (only maps, global data and callback functions).`);
      }
      pc++;
      continue;
    }
    if (insn.code !== 0x85) continue;
    if (insn.src === 0) {
      const name = cc.helperName(insn.imm);
      if (name === undefined) fail(pc, `invalid func unknown#${insn.imm}: no BPF helper has this id; check the helper declaration.`);
      const why = cc.helperAvailable(insn.imm);
      if (why) fail(pc, why);
      if (!gpl && cc.helperGplOnly(insn.imm)) {
        fail(pc, `cannot call GPL-restricted function ${name}#${insn.imm} from non-GPL compatible program (license "${obj.license}"); declare a GPL-compatible license.`);
      }
    } else if (insn.src === 2) {
      const name = obj.kfuncs[insn.imm];
      if (name === undefined) fail(pc, `kfunc call #${insn.imm} has no extern in the object; rebuild it.`);
      if (!gpl) fail(pc, `cannot call kernel function ${name} from non-GPL compatible program (license "${obj.license}"): kfuncs need a GPL-compatible license (kernel/bpf/verifier.c add_kfunc_call).`);
      const why = cc.kfuncAllowed(name!);
      if (why) fail(pc, why);
    }
  }
}

/** Map-type compatibility of map helpers (kernel/bpf/verifier.c check_map_func_compatibility). */
export function mapHelperError(obj: BpfObject, helperName: string, id: number, mapIndex: number | null, progType: ProgType): string | null {
  if (mapIndex === null) return null;
  const def = obj.maps[mapIndex];
  if (!def) return null;
  const kind = mapKind(def);
  const generic = ['bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_map_delete_elem'];
  if (kind === 'sk_storage' && generic.includes(helperName)) {
    return `cannot pass map_type ${def.type} into func ${helperName}#${id} (map ${def.name}); use bpf_sk_storage_get/bpf_sk_storage_delete.`;
  }
  if ((helperName === 'bpf_sk_storage_get' || helperName === 'bpf_sk_storage_delete') && kind !== 'sk_storage') {
    return `cannot pass map_type ${def.type} into func ${helperName}#${id} (map ${def.name} is not BPF_MAP_TYPE_SK_STORAGE).`;
  }
  if (helperName === 'bpf_map_update_elem' && kind === 'sockmap' && progType === 'sock_ops') {
    return `cannot update sockmap in this context (map ${def.name}); use bpf_sock_map_update/bpf_sock_hash_update at an established or listen op.`;
  }
  if (helperName === 'bpf_for_each_map_elem' && kind !== 'array' && kind !== 'hash' && kind !== 'global') {
    // kernel/bpf/verifier.c set_map_elem_callback_state: no map_for_each_callback in the map's ops
    return `callback function not allowed for map (map ${def.name}, map_type ${def.type}): bpf_for_each_map_elem walks array and hash maps only.`;
  }
  if (helperName === 'bpf_perf_event_output' && kind !== 'perf_event_array') {
    return `cannot pass map_type ${def.type} into func ${helperName}#${id} (map ${def.name} is not BPF_MAP_TYPE_PERF_EVENT_ARRAY).`;
  }
  return null;
}
