// A scenario's steps: each checked and compiled from the step as written (compileStep), and the
// compact list the parser returns for them (lazySteps): one small object per step that reads its
// step again from the scenario's text when asked (a few recent ones cached), so that a
// 100,000-step scenario costs its text and a few typed arrays, not a million objects.
import type { JsonDocument } from './json';
import type { Expectation, ScenarioStep, Step } from './types';
import { type Checks, type Obj, hexBytes, isObj, parseDuration } from './values';

export const STEP_KINDS = ['send', 'recv', 'setsockopt', 'getsockopt', 'expect', 'segment', 'fin', 'op', 'advanceTime', 'rcvbuf', 'window', 'memoryPressure', 'sockmap', 'close'];
const EXPECT_KEYS: (keyof Expectation)[] = ['rcvlowat', 'epoll', 'readable', 'wakeups', 'ret', 'cbFlags', 'rcvbuf', 'state', 'receiveQueue', 'data', 'printk'];

/** What the peer has sent so far, as the steps before this one left it: the parser's (which
 *  checks each step against the stream) or, when a step is read again, the offset found then. */
export interface Sender {
  /** Errs when the peer already sent FIN. */
  noFinYet(vp: string): void;
  /** The first stream byte not sent yet (where a "send" starts). */
  firstUnsent(): number;
  /** Errs when the stream has no bytes from..from+len. */
  need(vp: string, from: number, len: number, what: string): void;
  /** Bytes from..to were sent (with FIN when `fin`). */
  sent(from: number, to: number, fin: boolean): void;
  /** A bare FIN: it follows the furthest byte sent; returns that offset. */
  fin(): number;
}

export interface CompiledStep {
  step: Step;
  /** Short label: 'send 100', 'recv 50'. */
  label: string;
}

/** steps[index] as written (`raw`) -> the step and its label; errors name `steps[index]...`. */
export function compileStep(raw: unknown, index: number, k: Checks, sender: Sender): CompiledStep {
  const { err, str, int, intOrName, bool } = k;
  const path = `steps[${index}]`;
  if (!isObj(raw)) err(path, `a step is an object with one of: ${STEP_KINDS.join(', ')}`);
  const o = raw as Obj;
  const keys = Object.keys(o).filter((k) => k !== 'comment');
  // "fin" is a step kind and also the flag of a send step: the send wins whatever the key order
  const kind = keys.find((k) => STEP_KINDS.includes(k) && k !== 'fin') ?? keys.find((k) => k === 'fin');
  if (!kind) err(path, keys.length ? `unknown step kind "${keys[0]}"; use one of ${STEP_KINDS.join(', ')}` : `empty step; use one of ${STEP_KINDS.join(', ')}`);
  const extra = keys.filter((k) => k !== kind && !(kind === 'send' && k === 'fin') && !(kind === 'recv' && k === 'peek') && !(kind === 'expect' && k === 'always'));
  if (extra.length) err(`${path}.${extra[0]}`, `a step has one kind; "${extra[0]}" does not belong with "${kind}" (split it into two steps)`);
  const v = o[kind!];
  const vp = `${path}.${kind}`;
  let step: Step;
  let label: string;
  switch (kind) {
    case 'send': {
      const len = int(vp, v, '"send" (a byte count)', 0, 1 << 26);
      const fin = o.fin === undefined ? false : bool(`${path}.fin`, o.fin, '"fin"');
      sender.noFinYet(vp);
      const offset = sender.firstUnsent();
      sender.need(vp, offset, len, `"send": ${len}`);
      if (len === 0 && !fin) err(vp, '"send": 0 sends nothing; give a byte count, or use {"fin": true}');
      sender.sent(offset, offset + len, fin);
      step = { kind: 'send', len, offset, fin };
      label = plainLabel(step);
      break;
    }
    case 'segment': {
      if (!isObj(v)) err(vp, '"segment" is {"offset": N, "len": M} (stream offsets; "fin": true to set FIN)');
      const s = v as Obj;
      for (const k of Object.keys(s)) if (!['offset', 'len', 'fin'].includes(k)) err(`${vp}.${k}`, `unknown segment property "${k}"; use offset, len, fin`);
      const offset = int(`${vp}.offset`, s.offset, '"offset"', 0, 1 << 26);
      const len = int(`${vp}.len`, s.len, '"len"', 0, 1 << 26);
      const fin = s.fin === undefined ? false : bool(`${vp}.fin`, s.fin, '"fin"');
      sender.need(vp, offset, len, `"segment"`);
      if (len === 0 && !fin) err(vp, 'a segment needs "len" > 0 or "fin": true');
      sender.sent(offset, offset + len, fin);
      step = { kind: 'segment', offset, len, fin };
      label = plainLabel(step);
      break;
    }
    case 'fin': {
      if (v !== true) err(vp, '"fin" takes true (a bare FIN after the last byte sent)');
      const offset = sender.fin();
      step = { kind: 'fin', offset };
      label = plainLabel(step);
      break;
    }
    case 'close': {
      if (v !== true) err(vp, '"close" takes true (the application closes the socket; the peer ACKs our FIN)');
      step = { kind: 'close' };
      label = plainLabel(step);
      break;
    }
    case 'recv': {
      const len = int(vp, v, '"recv" (a byte count)', 1, 1 << 26);
      const peek = o.peek === undefined ? false : bool(`${path}.peek`, o.peek, '"peek"');
      step = { kind: 'recv', len, peek };
      label = plainLabel(step);
      break;
    }
    case 'setsockopt': {
      if (!isObj(v)) err(vp, '"setsockopt" is {"level": L, "optname": N, "int": V}');
      const s = v as Obj;
      for (const k of Object.keys(s)) if (!['level', 'optname', 'int', 'hex'].includes(k)) err(`${vp}.${k}`, `unknown setsockopt property "${k}"; use level, optname, int (or hex)`);
      if (s.level === undefined) err(vp, 'missing "level" (a number or SOL_SOCKET, SOL_TCP...)');
      if (s.optname === undefined) err(vp, 'missing "optname"');
      const level = intOrName(`${vp}.level`, s.level, '"level"');
      const optname = intOrName(`${vp}.optname`, s.optname, '"optname"');
      let optval: Uint8Array;
      let shown: string;
      if (s.int !== undefined && s.hex !== undefined) err(`${vp}.hex`, 'give either "int" or "hex", not both');
      if (s.hex !== undefined) {
        const h = hexBytes(str(`${vp}.hex`, s.hex, '"hex"'));
        if (typeof h === 'string' || h.length === 0) err(`${vp}.hex`, `"hex" must hold pairs of hex digits${typeof h === 'string' ? ` (${h})` : ''}`);
        optval = h as Uint8Array;
        shown = '0x' + Buffer.from(optval).toString('hex');
      } else {
        if (s.int === undefined) err(vp, 'missing "int" (the int option value)');
        const n = int(`${vp}.int`, s.int, '"int"', -0x80000000, 0xffffffff) | 0;
        optval = new Uint8Array(4);
        new DataView(optval.buffer).setInt32(0, n, true);
        shown = String(n);
      }
      const disp = (x: unknown, n: number) => typeof x === 'string' ? x : (n >>> 0) > 0xffff ? '0x' + (n >>> 0).toString(16) : String(n);
      const display = `${disp(s.level, level)}, ${disp(s.optname, optname)}, ${shown}`;
      step = { kind: 'setsockopt', level, optname, optval, display };
      label = `setsockopt(${display})`;
      break;
    }
    case 'getsockopt': {
      if (!isObj(v)) err(vp, '"getsockopt" is {"level": L, "optname": N, "optlen": BYTES (default 4)}');
      const s = v as Obj;
      for (const k of Object.keys(s)) if (!['level', 'optname', 'optlen'].includes(k)) err(`${vp}.${k}`, `unknown getsockopt property "${k}"; use level, optname, optlen`);
      if (s.level === undefined) err(vp, 'missing "level" (a number or SOL_SOCKET, SOL_TCP...)');
      if (s.optname === undefined) err(vp, 'missing "optname"');
      const level = intOrName(`${vp}.level`, s.level, '"level"');
      const optname = intOrName(`${vp}.optname`, s.optname, '"optname"');
      const optlen = s.optlen === undefined ? 4 : int(`${vp}.optlen`, s.optlen, '"optlen" (bytes of room the application gives)', 0, 65536);
      const disp = (x: unknown, n: number) => typeof x === 'string' ? x : (n >>> 0) > 0xffff ? '0x' + (n >>> 0).toString(16) : String(n);
      const display = `${disp(s.level, level)}, ${disp(s.optname, optname)}, optlen ${optlen}`;
      step = { kind: 'getsockopt', level, optname, optlen, display };
      label = `getsockopt(${display})`;
      break;
    }
    case 'expect': {
      if (!isObj(v)) err(vp, `"expect" is an object with some of ${EXPECT_KEYS.join(', ')}`);
      const e = v as Obj;
      const ex: Expectation = {};
      if (Object.keys(e).length === 0) err(vp, `an empty "expect" checks nothing; add some of ${EXPECT_KEYS.join(', ')}`);
      for (const [k, x] of Object.entries(e)) {
        const kp = `${vp}.${k}`;
        switch (k) {
          case 'epoll': { const n = int(kp, x, '"epoll" (0 or 1)', 0, 1); ex.epoll = n as 0 | 1; break; }
          case 'rcvlowat': case 'readable': case 'wakeups': case 'cbFlags': case 'rcvbuf': case 'receiveQueue':
            ex[k] = int(kp, x, `"${k}"`, 0, 0x7fffffff); break;
          case 'ret': ex.ret = int(kp, x, '"ret"', -0x80000000, 0x7fffffff); break;
          case 'state': ex.state = str(kp, x, '"state" (ESTABLISHED, CLOSE_WAIT...)'); break;
          case 'data': if (typeof x !== 'string') err(kp, '"data" must be a string'); ex.data = x as string; break;
          case 'printk': ex.printk = str(kp, x, '"printk"'); break;
          default: err(kp, `unknown expectation "${k}"; use ${EXPECT_KEYS.join(', ')}`);
        }
      }
      step = { kind: 'expect', expect: ex };
      if (o.always !== undefined && bool(`${path}.always`, o.always, '"always" (check after every event while exploring)')) step.always = true;
      label = 'expect ' + Object.entries(e).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(' ') + (step.always ? ' (always)' : '');
      break;
    }
    case 'op': {
      let op: number | string;
      let args: number[] = [];
      if (typeof v === 'string' || typeof v === 'number') op = typeof v === 'number' ? int(vp, v, '"op"', 0, 255) : v;
      else if (isObj(v)) {
        const s = v as Obj;
        for (const k of Object.keys(s)) if (!['op', 'args'].includes(k)) err(`${vp}.${k}`, `unknown op property "${k}"; use op, args`);
        if (s.op === undefined) err(vp, 'missing "op" (a name such as BPF_SOCK_OPS_RTO_CB or a number)');
        op = typeof s.op === 'number' ? int(`${vp}.op`, s.op, '"op"', 0, 255) : str(`${vp}.op`, s.op, '"op"');
        if (s.args !== undefined) {
          if (!Array.isArray(s.args) || s.args.length > 4) err(`${vp}.args`, '"args" is an array of up to 4 numbers (args[0..3])');
          args = (s.args as unknown[]).map((x, j) => int(`${vp}.args[${j}]`, x, 'an arg', 0, 0xffffffff));
        }
      } else return err(vp, '"op" is a name, a number, or {"op": ..., "args": [...]}');
      if (typeof op === 'string' && k.constant) {
        const n = k.constant(op) ?? k.constant('BPF_SOCK_OPS_' + op);
        if (n === undefined) err(vp, `unknown op "${op}"; write a name such as BPF_SOCK_OPS_RTO_CB (or RTO_CB) or a number`);
      }
      step = { kind: 'op', op, args };
      label = `op ${op}${args.length ? ' (' + args.join(', ') + ')' : ''}`;
      break;
    }
    case 'advanceTime': {
      const ns = parseDuration(v);
      if (ns === null) err(vp, '"advanceTime" is nanoseconds (a number) or a string such as "10ms", "250us", "1s"');
      step = { kind: 'advanceTime', ns: ns! };
      label = `advance time ${typeof v === 'string' ? v : v + 'ns'}`;
      break;
    }
    case 'rcvbuf': {
      const n = int(vp, v, '"rcvbuf" (bytes, as setsockopt SO_RCVBUF)', 0, 0x7fffffff);
      step = { kind: 'rcvbuf', bytes: n };
      label = plainLabel(step);
      break;
    }
    case 'window': {
      const n = int(vp, v, '"window" (bytes the next ACK advertises)', 0, 0x3fffffff);
      step = { kind: 'window', bytes: n };
      label = plainLabel(step);
      break;
    }
    case 'memoryPressure': step = { kind: 'memoryPressure', on: bool(vp, v, '"memoryPressure"') }; label = plainLabel(step); break;
    case 'sockmap': step = { kind: 'sockmap', on: bool(vp, v, '"sockmap"') }; label = plainLabel(step); break;
    default: return err(path, `unknown step kind "${kind}"`);
  }
  return { step, label };
}

/** The label of a step of a kind whose label is its numbers alone (the rest: compileStep). */
function plainLabel(s: Step): string {
  switch (s.kind) {
    case 'send': return `send ${s.len}${s.fin ? ' + FIN' : ''}`;
    case 'segment': return `segment ${s.offset}..${s.offset + s.len}${s.fin ? ' + FIN' : ''}`;
    case 'fin': return 'FIN';
    case 'close': return 'close';
    case 'recv': return `recv ${s.len}${s.peek ? ' (MSG_PEEK)' : ''}`;
    case 'rcvbuf': return `SO_RCVBUF ${s.bytes}`;
    case 'window': return `advertise window ${s.bytes}`;
    case 'memoryPressure': return `tcp memory pressure ${s.on ? 'on' : 'off'}`;
    case 'sockmap': return s.on ? 'socket joins a sockmap' : 'socket leaves the sockmap';
    default: throw new Error(`plainLabel: a ${s.kind} step's label is written by compileStep`);
  }
}

/** Codes of the kinds kept as numbers (0: read again from the text); FLAG: fin, peek or on. */
const PLAIN = ['', 'send', 'segment', 'fin', 'close', 'recv', 'rcvbuf', 'window', 'memoryPressure', 'sockmap'] as const;
const FLAG = 0x80;

/** A step that is read again sends nothing ("send", "segment" and "fin" are kept as numbers). */
const NO_SENDER: Sender = {
  noFinYet: () => {}, firstUnsent: () => { throw new Error('a step read again has no stream offset'); }, need: () => {}, sent: () => {}, fin: () => { throw new Error('a step read again has no stream offset'); },
};

/** Steps read again lately, by index modulo this: a run reads each step once, in order; explore
 *  reads a short scenario's steps many times. Small, so that in a long run an entry is garbage
 *  before the collector moves it to the old generation. */
const CACHE = 64;

interface Cached {
  index: number;
  json: unknown;
  compiled: CompiledStep | null;
}

/** The scenario's text, where each step starts in it, and the steps of the common kinds as
 *  numbers (kind, x, y): those need no reading again but for their JSON. */
export class StepTable {
  private readonly cache: (Cached | undefined)[] = new Array(CACHE);
  private readonly kinds: Uint8Array;
  private readonly x: Uint32Array;
  private readonly y: Uint32Array;
  constructor(private readonly doc: JsonDocument, private readonly starts: Uint32Array, private readonly checks: Checks) {
    this.kinds = new Uint8Array(starts.length);
    this.x = new Uint32Array(starts.length);
    this.y = new Uint32Array(starts.length);
  }

  get length(): number {
    return this.starts.length;
  }

  /** Keep steps[index] as numbers when its kind allows (the parser, as it checks each step). */
  note(index: number, s: Step): void {
    let k = 0, x = 0, y = 0, flag = false;
    switch (s.kind) {
      case 'send': case 'segment': k = PLAIN.indexOf(s.kind); x = s.offset; y = s.len; flag = s.fin; break;
      case 'fin': k = 3; x = s.offset; break;
      case 'close': k = 4; break;
      case 'recv': k = 5; x = s.len; flag = s.peek; break;
      case 'rcvbuf': case 'window': k = PLAIN.indexOf(s.kind); x = s.bytes; break;
      case 'memoryPressure': case 'sockmap': k = PLAIN.indexOf(s.kind); flag = s.on; break;
      default: return;
    }
    this.kinds[index] = k | (flag ? FLAG : 0);
    this.x[index] = x;
    this.y[index] = y;
  }

  compiled(index: number): CompiledStep {
    const code = this.kinds[index]!;
    if (code === 0) return this.read(index, true).compiled!;
    const f = (code & FLAG) !== 0, x = this.x[index]!, y = this.y[index]!;
    let step: Step;
    switch (PLAIN[code & ~FLAG]) {
      case 'send': step = { kind: 'send', len: y, offset: x, fin: f }; break;
      case 'segment': step = { kind: 'segment', offset: x, len: y, fin: f }; break;
      case 'fin': step = { kind: 'fin', offset: x }; break;
      case 'close': step = { kind: 'close' }; break;
      case 'recv': step = { kind: 'recv', len: x, peek: f }; break;
      case 'rcvbuf': step = { kind: 'rcvbuf', bytes: x }; break;
      case 'window': step = { kind: 'window', bytes: x }; break;
      case 'memoryPressure': step = { kind: 'memoryPressure', on: f }; break;
      default: step = { kind: 'sockmap', on: f }; break;
    }
    return { step, label: plainLabel(step) };
  }

  json(index: number): unknown {
    return this.read(index, false).json;
  }

  line(index: number): number {
    return this.doc.posAt(this.starts[index]!).line;
  }

  /** steps[index] read from the text again (`compile`: and compiled). */
  private read(index: number, compile: boolean): Cached {
    const slot = index & (CACHE - 1);
    let c = this.cache[slot];
    if (!c || c.index !== index) {
      // an element of "steps" sits two levels deep (the root object, the array)
      const el = this.doc.parseAt(this.starts[index]!, `steps[${index}]`, 2);
      c = { index, json: el.value, compiled: null };
      this.cache[slot] = c;
      if (compile) this.checks.where = (p) => el.positions.get(p);
    }
    if (compile && !c.compiled) c.compiled = compileStep(c.json, index, this.checks, NO_SENDER);
    return c;
  }
}

/** A step of a parsed scenario, read from the text when one of its properties is. */
class LazyStep implements ScenarioStep {
  constructor(private readonly table: StepTable, readonly index: number) {}
  get step(): Step { return this.table.compiled(this.index).step; }
  get label(): string { return this.table.compiled(this.index).label; }
  get json(): unknown { return this.table.json(this.index); }
  get path(): string { return `steps[${this.index}]`; }
  get line(): number { return this.table.line(this.index); }
  toJSON(): ScenarioStep {
    return { step: this.step, index: this.index, path: this.path, line: this.line, json: this.json, label: this.label };
  }
}

/** The parsed scenario's steps, each read from `table` when asked. */
export function lazySteps(table: StepTable): ScenarioStep[] {
  const out: ScenarioStep[] = new Array(table.length);
  for (let k = 0; k < out.length; k++) out[k] = new LazyStep(table, k);
  return out;
}
