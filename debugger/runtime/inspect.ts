// What a stop shows, as a plain tree (the adapter turns it into DAP variables): the scopes Event,
// Context, Socket, Registers, Stack and Maps, each node possibly settable (through a replayed
// edit) and possibly watchable (a data breakpoint).
import type { Skb, SockModel } from '../kernel/types';
import type { Frame, Region } from '../vm/api';
import { frameRegs } from './locals';
import { type FrameView, globalsOf, regionsView, valueNode, type ViewCtx } from './cview';
import type { DataWatch, DebugRuntime, Paused } from './runtime';
import { hex, readRegions, regionOf } from './runtime';
import { decodeBtf, type LeafFn, rawNode } from './btfvalue';
import { le, sockValue } from './env';
import { funcAt, lineAt } from './lines';
import { namedTarget, RAW64, type Setter, STACK_WORD } from './assign';

export interface VarNode {
  name: string;
  value: string;
  type?: string;
  memoryReference?: string;
  evaluateName?: string;
  children?: () => VarNode[];
  /** Settable: the place's C type (every value is range-checked against it, ./assign.ts) and its writer. */
  set?: Setter;
  /** Why it cannot be set, when that is not the kernel's rule (optimized out, a caller's register, ...). */
  readOnly?: string;
  watch?: DataWatch;
}

export interface Scope {
  name: string;
  expensive?: boolean;
  presentationHint?: 'arguments' | 'locals' | 'registers';
  nodes: () => VarNode[];
}

export function addr(v: bigint): string {
  return '0x' + v.toString(16);
}

/** 'ctx+0x10', 'stack of tcp_autolowat+0x1f8', ... for a guest address, or '' */
export function pointsTo(regions: Region[], v: bigint): string {
  const r = regionOf(regions, v);
  if (r) return `${r.region.name}+${r.offset}`;
  // one past the end: a frame pointer (r10) at the top of its stack
  const e = regionOf(regions, v - 1n);
  return e ? `${e.region.name}+${e.offset + 1} (end)` : '';
}

export function opName(rt: DebugRuntime, op: number | undefined): string {
  if (op === undefined) return '';
  const o = rt.profile?.ops.find((x) => x.value === op);
  return o ? `${o.name} (${op})` : `${op}`;
}

export function cbFlagNames(rt: DebugRuntime, flags: number): string {
  const names = (rt.profile?.cbFlags ?? []).filter((f) => (flags & f.value) !== 0).map((f) => f.name);
  const known = (rt.profile?.cbFlags ?? []).reduce((a, f) => a | f.value, 0);
  const rest = flags & ~known;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return `${names.join(' | ') || '0'} (0x${flags.toString(16)})`;
}

/** One frame of the stack view, innermost first. */
export interface FrameDesc {
  name: string;
  file?: string;
  line?: number;
  col?: number;
  program?: string;
  pc?: number;
  synthetic: boolean;
  /** A C function inlined into the BPF function of the frame below it. */
  inlined?: boolean;
  /** Index of its BPF frame in the stop's frames (0: the entry function). */
  bpf?: number;
}

export function frames(rt: DebugRuntime, at: Paused): FrameDesc[] {
  const out: FrameDesc[] = [];
  const stepDesc = at.sim.steps[at.step];
  if (at.kind === 'insn' && at.run) {
    const prog = at.run.program;
    const fr = at.frames;
    const inl = rt.inlineOf(prog);
    const chains = rt.inlineAt(at);
    const src = rt.sourceFuncs;
    for (let i = fr.length - 1; i >= 0; i--) {
      const pc = i === fr.length - 1 ? at.pc : fr[i + 1]!.returnPc - 1;
      const f = funcAt(prog, pc);
      // after a failed helper call, the line of the call (the next instruction may be on another line)
      const li = lineAt(prog, i === fr.length - 1 && at.stop.callPc !== undefined ? at.stop.callPc : pc);
      const ch = chains[i];
      // inlined frames only where this pc's own line lies in the innermost function of the chain
      const here = inl.line[pc] ? inl.cfunc[pc]! : -1;
      if (src && ch && ch.chain.length > 1 && here >= 0 && ch.chain[ch.chain.length - 1] === here) {
        for (let j = ch.chain.length - 1; j >= 1; j--) {
          const cf = src.funcs[ch.chain[j]!]!;
          const line = j === ch.chain.length - 1 ? li?.line : ch.lines[j] || src.callLine(cf.id, ch.chain[j + 1]!);
          out.push({ name: `${cf.name} (inlined)`, file: cf.file, line, col: j === ch.chain.length - 1 ? li?.col || undefined : undefined, program: prog.name, pc, synthetic: false, inlined: true, bpf: i });
        }
        const base = ch.chain[0]!;
        const line = ch.lines[0] || (base >= 0 ? src.callLine(base, ch.chain[1]!) : undefined);
        out.push({ name: f?.name ?? prog.name, file: base >= 0 ? src.funcs[base]!.file : li?.file, line, program: prog.name, pc, synthetic: false, bpf: i });
        continue;
      }
      if (!inl.line[pc] && ch?.lines[0]) {
        // code of no source line (DWARF line 0: shared by several statements): the function's last line run
        out.push({ name: f?.name ?? prog.name, file: li?.file, line: ch.lines[0], program: prog.name, pc, synthetic: false, bpf: i });
        continue;
      }
      out.push({ name: f?.name ?? prog.name, file: li?.file, line: li?.line, col: li?.col || undefined, program: prog.name, pc, synthetic: false, bpf: i });
    }
    out.push({ name: at.run.label || `${prog.section} run`, synthetic: true });
  } else if (at.kind === 'boundary') {
    out.push({ name: `before ${stepName(at.sim, at.step)}: ${stepDesc?.label ?? ''}`.trim(), synthetic: true });
  } else {
    out.push({ name: 'end of the scenario', synthetic: true });
  }
  return out;
}

/** The C frame, registers and memory of frame `index` of the stack view (null: no DWARF or a synthetic frame). */
export function frameViewAt(rt: DebugRuntime, at: Paused, index: number, live?: { regs: (i: number) => bigint; frames: Frame[]; regions: () => Region[]; read: (a: bigint, n: number) => Uint8Array }): FrameView | null {
  const info = rt.debugInfo();
  if (!info || at.kind !== 'insn' || !at.run) return null;
  const d = frames(rt, at)[index];
  if (!d || d.bpf === undefined || d.pc === undefined) return null;
  const prog = at.run.program;
  const fr = live?.frames ?? at.frames;
  const regs = frameRegs(fr, d.bpf, live?.regs ?? ((i) => at.regs[i] ?? 0n));
  const cfs = info.cframes(prog, d.pc);
  const want = d.name.replace(/ \(inlined\)$/, '');
  let cframe = cfs[0] ?? null;
  if (d.inlined) for (let k = cfs.length - 1; k >= 1; k--) if (cfs[k]!.name === want) { cframe = cfs[k]!; break; }
  const regions = live?.regions ?? (() => at.regions);
  const rv = regionsView(regions, live?.read ?? ((a, n) => readRegions(at.regions, a, n)));
  return { info, prog, pc: d.pc, regs, cframe, globals: globalsOf(regions, () => at.sim.maps()), mem: rv.mem };
}

/** The Locals scope of a frame: its parameters and variables in scope at the pc, from DWARF. */
function localNodes(rt: DebugRuntime, at: Paused, index: number, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void): VarNode[] {
  const f = frameViewAt(rt, at, index);
  if (!f?.cframe) return [{ name: '(locals)', value: rt.debugInfoError() ?? 'no DWARF scope covers this instruction' }];
  const rv = regionsView(() => at.regions, (a, n) => readRegions(at.regions, a, n));
  const cx: ViewCtx = { ...rv, liveRegs: f.regs.live, edit: (fn) => edit((vm) => fn(vm)) };
  return f.info.visible(f.cframe).map((v) => valueNode(v.name, f.info.locate(v, f.prog, f.pc, f.regs, f.mem, f.globals), cx, v.name));
}

export function scopes(rt: DebugRuntime, at: Paused, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void, frameIndex = 0): Scope[] {
  const list: Scope[] = [];
  if (at.kind === 'insn' && at.run) list.push({ name: 'Locals', presentationHint: 'locals', nodes: () => localNodes(rt, at, frameIndex, edit) });
  list.push({ name: 'Event', nodes: () => eventNodes(rt, at) });
  if (at.kind === 'insn' && at.run) {
    list.push({ name: 'Context', presentationHint: 'arguments', nodes: () => contextNodes(rt, at, edit) });
  }
  list.push({ name: 'Socket', nodes: () => socketNodes(rt, at, edit) });
  if (at.kind === 'insn') {
    list.push({ name: 'Registers', presentationHint: 'registers', nodes: () => registerNodes(at, edit) });
    list.push({ name: 'Stack', nodes: () => stackNodes(at, edit) });
  }
  list.push({ name: 'Maps', nodes: () => mapNodes(rt, at, edit) });
  return list;
}

function eventNodes(rt: DebugRuntime, at: Paused): VarNode[] {
  const step = at.sim.steps[at.step];
  const out: VarNode[] = [
    { name: 'step', value: at.kind === 'end' ? 'end (all steps done)' : stepNumber(at.sim, at.step) < 0 ? '-1 (the passive open)' : `${stepNumber(at.sim, at.step)}`, evaluateName: 'step' },
  ];
  if (at.kind === 'end') out.push({ name: 'result', value: rt.endText(at.sim).replace(/^scenario finished: /, '') });
  if (step) {
    out.push({ name: 'what', value: step.label });
    out.push({ name: 'json', value: JSON.stringify(step.json) });
    if (step.line) out.push({ name: 'line', value: `${rt.scenarioPath}:${step.line}` });
  }
  if (at.run) {
    out.push({ name: 'event', value: at.run.label });
    out.push({ name: 'program', value: `${at.run.program.name} (SEC("${at.run.program.section}"))` });
    if (at.run.op !== undefined) out.push({ name: 'op', value: opName(rt, at.run.op) });
    out.push({ name: 'run', value: `#${at.run.index}, instruction ${at.pos - at.run.firstPos + 1}` });
  }
  return out;
}

function contextNodes(rt: DebugRuntime, at: Paused, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void): VarNode[] {
  const run = at.run!;
  const base = run.ctxBase;
  if (base === undefined) return [{ name: '(context)', value: 'unknown address' }];
  const r = regionOf(at.regions, base);
  if (!r) return [{ name: '(context)', value: `${addr(base)} is not mapped` }];
  const bytes = r.region.bytes.subarray(r.offset);
  const profile = rt.profile;
  const isSockOps = run.program.section === 'sockops' || run.op !== undefined;
  const writeAt = (off: number, size: number, value: bigint) => {
    edit((vm) => {
      if (!vm) return;
      vm.memory.write(base + BigInt(off), size as 1 | 2 | 4 | 8, BigInt.asUintN(size * 8, value));
    });
  };
  if (isSockOps && profile) {
    return profile.ctxFields.map((f) => {
      const p = rt.paramName;
      const node: VarNode = { name: f.name, value: '', type: f.ctype, evaluateName: `${p}->${f.name}` };
      const elem = f.elemSize ?? Math.min(f.size, 8);
      const read = (o: number, n: number) => le(bytes.subarray(o, o + n));
      if (f.elemSize && f.size > f.elemSize) {
        const n = f.size / f.elemSize;
        const vals = Array.from({ length: n }, (_, i) => read(f.offset + i * elem, elem));
        node.value = `[${vals.join(', ')}]`;
        node.children = () => vals.map((v, i) => {
          const c: VarNode = { name: `[${i}]`, value: `${v}`, evaluateName: `${p}->${f.name}[${i}]`, watch: { kind: 'ctx', offset: f.offset + i * elem, size: elem, name: `${p}->${f.name}[${i}]` } };
          if (f.writeSize) c.set = { target: namedTarget(f.ctype, elem), write: (x) => writeAt(f.offset + i * elem, elem, x) };
          return c;
        });
        return node;
      }
      const v = read(f.offset, Math.min(f.size, 8));
      if (f.name === 'op') node.value = opName(rt, Number(v));
      else if (f.name === 'bpf_sock_ops_cb_flags') node.value = cbFlagNames(rt, Number(v));
      else if (f.size === 8 && /\*/.test(f.ctype)) {
        node.value = v === 0n ? 'NULL' : `${addr(v)}${pointsTo(at.regions, v) ? ` (${pointsTo(at.regions, v)})` : ''}`;
        if (v) node.memoryReference = addr(v);
      } else if (/ip4$/.test(f.name)) node.value = `${v} (${[0, 1, 2, 3].map((i) => Number((v >> BigInt(8 * i)) & 0xffn)).join('.')})`;
      else node.value = `${v}`;
      node.watch = { kind: 'ctx', offset: f.offset, size: Math.min(f.size, 8), name: `${p}->${f.name}` };
      if (f.writeSize) node.set = { target: namedTarget(f.ctype, f.writeSize), write: (x) => writeAt(f.offset, f.writeSize!, x) };
      return node;
    });
  }
  // other program types: the context struct from the program's BTF, else raw bytes
  const btf = rt.object.btf;
  const sname = run.program.section.startsWith('cgroup/') && /sockopt/.test(run.program.section) ? 'bpf_sockopt' : 'bpf_sock_ops';
  const t = btf?.find(sname, 'struct');
  const leaf: LeafFn = (n, off, size, target) => {
    if ([1, 2, 4, 8].includes(size)) { n.set = { target, write: (x) => writeAt(off, size, x) }; n.watch = { kind: 'ctx', offset: off, size, name: `ctx+${off}` }; }
  };
  if (btf && t) return decodeBtf(btf, t.id, bytes, 0, 'ctx', { leaf }).children?.() ?? [];
  return rawNode('ctx', bytes.subarray(0, Math.min(bytes.length, 256)), { leaf }).children!();
}

/** The socket's fields; the settable ones with their C type in the kernel (include/net/sock.h, struct sock: int sk_rcvlowat, int sk_rcvbuf). */
const SOCK_FIELDS: { name: string; settable?: 'int' }[] = [
  { name: 'sk_rcvlowat', settable: 'int' }, { name: 'rcv_nxt' }, { name: 'copied_seq' }, { name: 'readable' },
  { name: 'epoll' }, { name: 'wakeups' }, { name: 'bpf_sock_ops_cb_flags' }, { name: 'sk_rcvbuf', settable: 'int' },
  { name: 'sk_rmem_alloc' }, { name: 'rcv_wnd' }, { name: 'rcv_wup' }, { name: 'rcv_mss' }, { name: 'state' },
  { name: 'done' }, { name: 'bytes_received' }, { name: 'segs_in' }, { name: 'data_segs_in' }, { name: 'in_sockmap' },
  { name: 'is_mptcp_subflow' },
];

function skbNodes(q: readonly Skb[]): VarNode[] {
  return q.map((s) => ({
    name: `skb#${s.id}`,
    value: `seq ${s.seq}..${s.endSeq} (${s.payload.length} bytes)${s.tcpFlags & 1 ? ' FIN' : ''}`,
    children: () => [
      { name: 'seq', value: `${s.seq >>> 0}` },
      { name: 'end_seq', value: `${s.endSeq >>> 0}` },
      { name: 'len', value: `${s.payload.length}` },
      { name: 'tcp_flags', value: `0x${s.tcpFlags.toString(16)}` },
      { name: 'payload', value: hex(s.payload.subarray(0, 64)) + (s.payload.length > 64 ? '…' : '') },
    ],
  }));
}

function socketNodes(rt: DebugRuntime, at: Paused, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void): VarNode[] {
  const sock: SockModel | null = at.sim.socket();
  if (!sock) return [{ name: '(socket)', value: 'not created yet' }];
  const out: VarNode[] = [];
  for (const f of SOCK_FIELDS) {
    const v = sockValue(sock, f.name);
    if (v === undefined) continue;
    const node: VarNode = { name: f.name, value: `${v}`, evaluateName: f.name, watch: { kind: 'sock', field: f.name === 'epoll' ? 'epoll' : f.name } };
    if (f.name === 'epoll') node.value = v ? '1 (EPOLLIN)' : '0';
    if (f.name === 'bpf_sock_ops_cb_flags') node.value = cbFlagNames(rt, Number(v));
    if (f.name === 'readable') node.value = `${v} (rcv_nxt - copied_seq)`;
    if (f.name === 'epoll' || f.name === 'readable') delete node.watch; // derived, not a field
    if (f.settable) {
      const name = f.name;
      node.type = f.settable;
      node.set = { target: namedTarget(f.settable, 4), write: (x) => edit((_vm, sim) => { const s = sim.socket() as unknown as Record<string, number> | null; if (s) s[name] = Number(x); }) };
    }
    out.push(node);
  }
  out.push({ name: 'receive queue', value: `${sock.receiveQueue.length} skbs`, children: () => skbNodes(sock.receiveQueue) });
  out.push({ name: 'out-of-order queue', value: `${sock.ofoQueue.length} skbs`, children: () => skbNodes(sock.ofoQueue) });
  return out;
}

function registerNodes(at: Paused, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void): VarNode[] {
  return at.regs.map((v, i) => {
    const to = pointsTo(at.regions, v);
    const signed = BigInt.asIntN(64, v);
    const node: VarNode = {
      name: `r${i}`, value: to ? `${addr(v)} (${to})` : `${addr(v)} (${signed})`, evaluateName: `r${i}`, type: to ? 'pointer' : 'u64',
    };
    if (to) node.memoryReference = addr(v);
    if (i !== 10) node.set = { target: RAW64, write: (x) => edit((vm) => vm?.setReg(i, BigInt.asUintN(64, x))) };
    return node;
  });
}

function stackNodes(at: Paused, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void): VarNode[] {
  const f = at.frames[at.frames.length - 1];
  if (!f) return [];
  let bytes: Uint8Array;
  try { bytes = readRegions(at.regions, f.stackBase, 512); } catch (e) { return [{ name: '(stack)', value: (e as Error).message }]; }
  const out: VarNode[] = [];
  for (let off = 504; off >= 0; off -= 8) {
    const v = le(bytes.subarray(off, off + 8));
    const a = f.stackBase + BigInt(off);
    const to = pointsTo(at.regions, v);
    out.push({
      name: `[r10-${512 - off}]`, value: `${addr(v)}${to ? ` (${to})` : ''}`, memoryReference: addr(a),
      set: { target: STACK_WORD, write: (x) => edit((vm) => vm?.memory.write(a, 8, BigInt.asUintN(64, x))) },
    });
  }
  return out;
}

/** Write `size` bytes of `value` at `off` of the value of map `map`'s entry `keyHex` in the simulation; throws when the map keeps no such entry. */
function writeMapValue(sim: Paused['sim'], map: string, keyHex: string, off: number, size: number, value: bigint): void {
  const find = () => sim.maps().find((m) => m.def.name === map)?.entries().find((e) => hex(e.key) === keyHex);
  const e = find();
  if (!e) throw new Error(`${map} has no entry with key ${keyHex} at this point`);
  const v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) e.value[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  // an array slot never written is shown as zeros the map does not keep: the write would be lost
  if (find()?.value !== e.value) throw new Error(`${map}[${keyHex}] holds no value yet (an array slot no program has written): nothing to set`);
}

/** Maps whose values a program cannot write (.rodata is frozen at load, .kconfig is filled by the loader; kernel/bpf/syscall.c map_freeze). */
const READONLY_MAP = /^\.(rodata|kconfig)/;

function mapNodes(rt: DebugRuntime, at: Paused, edit: (fn: Parameters<DebugRuntime['addEdit']>[0]) => void): VarNode[] {
  const btf = rt.object.btf;
  return at.sim.maps().map((m) => {
    const d = m.def;
    const entries = m.entries();
    const writable = !READONLY_MAP.test(d.name) && d.typeName !== 'BPF_MAP_TYPE_PERF_EVENT_ARRAY';
    return {
      name: d.name, value: `${d.typeName}, ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`,
      children: () => entries.map((e, i) => {
        const keyHex = hex(e.key);
        const watchLeaf: LeafFn = (n, off, size, target) => {
          n.watch = { kind: 'map', map: d.name, keyHex, offset: off, size, name: `${d.name}[${e.owner ?? keyHex}].${n.name}` };
          if (writable && [1, 2, 4, 8].includes(size)) n.set = { target, write: (x) => edit((_vm, sim) => writeMapValue(sim, d.name, keyHex, off, size, x)) };
        };
        let keyText = e.owner ?? keyHex;
        if (!e.owner && btf && d.keyTypeId) {
          const k = decodeBtf(btf, d.keyTypeId, e.key, 0, 'key');
          keyText = k.value;
        }
        if (d.name.startsWith('.') && btf) {
          // global data: one child per variable of the datasec
          const ds = btf.find(d.name, 'datasec');
          if (ds?.secinfo) {
            return {
              name: `[${i}]`, value: `${e.value.length} bytes`,
              children: () => ds.secinfo!.map((v) => {
                const vt = btf.types[v.type]!;
                return decodeBtf(btf, vt.type ?? 0, e.value, v.offset, vt.name, { leaf: watchLeaf });
              }),
            };
          }
        }
        const val = btf && d.valueTypeId ? decodeBtf(btf, d.valueTypeId, e.value, 0, `[${keyText}]`, { leaf: watchLeaf }) : rawNode(`[${keyText}]`, e.value, { leaf: watchLeaf });
        return val;
      }),
    };
  });
}

/** A step's number as `bpf-sockops run`, the timeline and the Testing view show it: its index in
 *  the scenario's "steps" (-1: the passive open); the end is one past the last. */
export function stepNumber(sim: { steps: readonly { number: number }[] }, simIndex: number): number {
  const d = sim.steps[simIndex];
  return d ? d.number : (sim.steps[sim.steps.length - 1]?.number ?? -1) + 1;
}

/** 'step 3', or 'the passive open'. */
export function stepName(sim: { steps: readonly { number: number }[] }, simIndex: number): string {
  const n = stepNumber(sim, simIndex);
  return n < 0 ? 'the passive open' : `step ${n}`;
}

/** The C line of the stop, for messages: 'autolowat.bpf.c:57' */
export function whereText(at: Paused): string {
  if (at.kind !== 'insn' || !at.run) return at.kind === 'end' ? 'end of the scenario' : `before ${stepName(at.sim, at.step)}`;
  const li = lineAt(at.run.program, at.stop.callPc ?? at.pc);
  return li ? `${li.file}:${li.line}` : `${at.run.program.name} pc ${at.pc}`;
}
