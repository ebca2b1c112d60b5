// Scenario files (design.md §5) -> Scenario, with every mistake reported as a ScenarioError that
// names the file, the JSON path (`steps[3].send`), its line, and what to do.
import { dirname, resolve } from 'node:path';
import { FileReadError, readTextBounded } from '../../io/files';
import { JsonSyntaxError, parseJsonLocated, type Pos } from './json';
import { ScenarioError, type Expectation, type Scenario, type ScenarioStep, type SocketSpec, type Step } from './types';

export interface ParseOptions {
  /** Resolves names such as 'SOL_SOCKET' or 'BPF_SOCK_OPS_RCVQ_CB' (the sock_ops table). */
  constant?: (name: string) => number | undefined;
}

type Obj = Record<string, unknown>;

const STEP_KINDS = ['send', 'recv', 'setsockopt', 'getsockopt', 'expect', 'segment', 'fin', 'op', 'advanceTime', 'rcvbuf', 'window', 'memoryPressure', 'sockmap', 'close'];
const EXPECT_KEYS: (keyof Expectation)[] = ['rcvlowat', 'epoll', 'readable', 'wakeups', 'ret', 'cbFlags', 'rcvbuf', 'state', 'receiveQueue', 'data', 'printk'];
/** Bytes a stream may hold in all (64 MiB; a "send" or "zeros" piece is bounded by it too). */
const MAX_STREAM = 1 << 26;
const STREAM_KINDS = ['u32le', 'u32be', 'u16le', 'u16be', 'u8', 'hex', 'text', 'zeros'];

export function readScenario(file: string, opts: ParseOptions = {}): Scenario {
  const { path, text } = readScenarioText(file);
  return parseScenario(text, path, opts);
}

/** The scenario file's text, read once through io/files (a regular file of at most 16 MiB).
 *  Throws ScenarioError naming the file. */
export function readScenarioText(file: string): { path: string; text: string } {
  const abs = resolve(file);
  try {
    return { path: abs, text: readTextBounded(abs, 'scenario').text };
  } catch (e) {
    if (e instanceof FileReadError) throw new ScenarioError(abs, '', undefined, e.detail);
    throw e;
  }
}

export function parseScenario(text: string, file: string, opts: ParseOptions = {}): Scenario {
  let located;
  try {
    located = parseJsonLocated(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ScenarioError(file, '', e.pos.line, `not valid JSON: ${e.detail}`, e.pos.col);
    throw e;
  }
  const pos = located.positions;
  const err = (path: string, detail: string): never => {
    const p: Pos | undefined = pos.get(path);
    throw new ScenarioError(file, path, p?.line, detail, p?.col);
  };
  const root = located.value;
  if (!isObj(root)) err('', 'a scenario is a JSON object with "program", "stream" and "steps"');
  const r = root as Obj;
  const known = ['$schema', 'description', 'program', 'sockops', 'setsockopt', 'getsockopt', 'socket', 'stream', 'steps', 'profile', 'seed', 'frames', 'structOps'];
  for (const k of Object.keys(r)) if (!known.includes(k)) err(k, `unknown property "${k}"; a scenario has ${known.filter((x) => x !== '$schema').join(', ')}`);

  const str = (path: string, v: unknown, what: string): string => {
    if (typeof v !== 'string' || v === '') err(path, `${what} must be a non-empty string`);
    return v as string;
  };
  const int = (path: string, v: unknown, what: string, min = 0, max = 0xffffffff): number => {
    if (typeof v !== 'number' || !Number.isInteger(v)) err(path, `${what} must be an integer, got ${shown(v)}`);
    const n = v as number;
    if (n < min || n > max) err(path, `${what} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
  const intOrName = (path: string, v: unknown, what: string): number => {
    if (typeof v === 'string') {
      const n = opts.constant?.(v);
      if (n === undefined) err(path, `unknown constant name "${v}" for ${what}; write a number or a name such as SOL_SOCKET, SO_RCVLOWAT, SOL_TCP`);
      return n as number;
    }
    return int(path, v, what, -0x80000000, 0xffffffff) | 0;
  };
  const bool = (path: string, v: unknown, what: string): boolean => {
    if (typeof v !== 'boolean') err(path, `${what} must be true or false`);
    return v as boolean;
  };

  if (r.program === undefined) err('', 'missing "program": the .o or .c of the hook, relative to the scenario file');
  const dir = dirname(file);
  const program = resolve(dir, str('program', r.program, '"program"'));
  if (!/\.(o|c)$/.test(program)) err('program', `"program" must name a .o (clang -target bpf object) or a .c file, got ${JSON.stringify(r.program)}`);
  const sockops = r.sockops === undefined ? undefined : str('sockops', r.sockops, '"sockops" (a function name)');
  const setsockopt = r.setsockopt === undefined ? undefined : str('setsockopt', r.setsockopt, '"setsockopt" (a function name)');
  const getsockopt = r.getsockopt === undefined ? undefined : str('getsockopt', r.getsockopt, '"getsockopt" (a function name)');
  const profile = r.profile === undefined ? undefined : str('profile', r.profile, '"profile"');
  const structOps = r.structOps === undefined ? undefined : str('structOps', r.structOps, '"structOps" (a variable of SEC(".struct_ops.link"))');
  if (structOps !== undefined && sockops !== undefined) err('structOps', '"structOps" and "sockops" name different kinds of hook: keep one (struct_ops profiles such as autolowat-tcp-ops-v5 use "structOps")');
  const seed = r.seed === undefined ? undefined : int('seed', r.seed, '"seed"');
  const description = r.description === undefined ? undefined : str('description', r.description, '"description"');

  // socket
  const socket: SocketSpec = { family: 'inet6', seq: 0 };
  if (r.socket !== undefined) {
    if (!isObj(r.socket)) err('socket', '"socket" must be an object such as {"family": "inet6"}');
    const s = r.socket as Obj;
    const sk = ['family', 'seq', 'mss', 'rcvbuf', 'tcpRmemMax', 'fastopen', 'memoryPressure', 'mptcp', 'localPort', 'remotePort', 'isn', 'peerIsn', 'rttUs', 'synEcn', 'peerOptions'];
    for (const k of Object.keys(s)) if (!sk.includes(k)) err(`socket.${k}`, `unknown socket property "${k}"; known: ${sk.join(', ')}`);
    if (s.family !== undefined) {
      if (s.family !== 'inet' && s.family !== 'inet6') err('socket.family', `"family" must be "inet" or "inet6", got ${JSON.stringify(s.family)}`);
      socket.family = s.family as 'inet' | 'inet6';
    }
    if (s.seq !== undefined) { socket.seq = int('socket.seq', s.seq, '"seq"'); socket.seqExplicit = true; }
    if (s.peerIsn !== undefined) {
      const isn = int('socket.peerIsn', s.peerIsn, '"peerIsn" (the peer\'s initial sequence number, u32)', 0, 0xffffffff);
      if (socket.seqExplicit && ((isn + 1) >>> 0) !== (socket.seq >>> 0)) err('socket.peerIsn', `"peerIsn" ${isn} and "seq" ${socket.seq} disagree: seq is peerIsn + 1 (the SYN takes one number); give one of them`);
      socket.peerIsn = isn;
    }
    if (s.isn !== undefined) socket.isn = int('socket.isn', s.isn, '"isn" (our initial sequence number, u32)', 0, 0xffffffff);
    if (s.rttUs !== undefined) socket.rttUs = int('socket.rttUs', s.rttUs, '"rttUs" (round-trip time of each RTT sample, microseconds)', 1, 60_000_000);
    if (s.synEcn !== undefined) {
      if (s.synEcn !== 'none' && s.synEcn !== 'ecn' && s.synEcn !== 'ect') err('socket.synEcn', `"synEcn" must be "none", "ecn" (ECE+CWR) or "ect" (ECE+CWR on an ECT packet), got ${JSON.stringify(s.synEcn)}`);
      socket.synEcn = s.synEcn as 'none' | 'ecn' | 'ect';
    }
    if (s.peerOptions !== undefined) {
      const b = hexBytes(str('socket.peerOptions', s.peerOptions, '"peerOptions" (hex bytes)'));
      if (typeof b === 'string' || (b.length !== 0 && b.length !== 4 && b.length !== 8)) err('socket.peerOptions', '"peerOptions" must be 0, 4 or 8 bytes of hex (TCP options the peer appends to each segment, e.g. "01010101" for 4 NOPs)');
      socket.peerOptions = b as Uint8Array;
    }
    if (s.mss !== undefined) socket.mss = int('socket.mss', s.mss, '"mss"', 88, 65535);
    if (s.rcvbuf !== undefined) socket.rcvbuf = int('socket.rcvbuf', s.rcvbuf, '"rcvbuf"', 2304, 0x7fffffff);
    if (s.tcpRmemMax !== undefined) socket.tcpRmemMax = int('socket.tcpRmemMax', s.tcpRmemMax, '"tcpRmemMax"', 4096, 0x7fffffff);
    if (s.fastopen !== undefined) socket.fastopen = int('socket.fastopen', s.fastopen, '"fastopen" (bytes of the stream in the SYN)', 0, 65535);
    if (s.memoryPressure !== undefined) socket.memoryPressure = bool('socket.memoryPressure', s.memoryPressure, '"memoryPressure"');
    if (s.mptcp !== undefined) socket.mptcp = bool('socket.mptcp', s.mptcp, '"mptcp"');
    if (s.localPort !== undefined) socket.localPort = int('socket.localPort', s.localPort, '"localPort"', 1, 65535);
    if (s.remotePort !== undefined) socket.remotePort = int('socket.remotePort', s.remotePort, '"remotePort"', 1, 65535);
  }

  // stream: at most MAX_STREAM bytes in all, checked before a piece is made (a "zeros" count costs no input)
  const pieces: Uint8Array[] = [];
  let streamLen = 0;
  const take = (p: string, n: number): void => {
    if (streamLen + n > MAX_STREAM) err(p, `the stream would be ${streamLen + n} bytes; at most ${MAX_STREAM} in all: shorten "stream"`);
    streamLen += n;
  };
  if (r.stream === undefined) err('', 'missing "stream": the bytes the peer sends, e.g. [{"u32le": [100, 150]}, {"zeros": 250}]');
  if (!Array.isArray(r.stream)) err('stream', '"stream" must be an array of pieces such as {"u32le": [100, 150]} or {"zeros": 250}');
  (r.stream as unknown[]).forEach((piece, k) => {
    const p = `stream[${k}]`;
    if (!isObj(piece) || Object.keys(piece as Obj).length !== 1) err(p, `each stream piece is an object with one of ${STREAM_KINDS.join(', ')}`);
    const [kind, v] = Object.entries(piece as Obj)[0]!;
    const vp = `${p}.${kind}`;
    /** The array's numbers, each `bytes` wide, in the byte order asked for. */
    const nums = (bytes: 1 | 2 | 4, le: boolean): Uint8Array => {
      if (!Array.isArray(v)) err(vp, `"${kind}" takes an array of numbers`);
      const max = bytes === 4 ? 0xffffffff : (1 << (8 * bytes)) - 1;
      const out = new Uint8Array((v as unknown[]).length * bytes);
      const dv = new DataView(out.buffer);
      (v as unknown[]).forEach((x, j) => {
        const n = int(`${vp}[${j}]`, x, `a ${kind} value`, 0, max);
        if (bytes === 4) dv.setUint32(4 * j, n, le); else if (bytes === 2) dv.setUint16(2 * j, n, le); else out[j] = n;
      });
      return out;
    };
    let b: Uint8Array;
    switch (kind) {
      case 'u32le': b = nums(4, true); break;
      case 'u32be': b = nums(4, false); break;
      case 'u16le': b = nums(2, true); break;
      case 'u16be': b = nums(2, false); break;
      case 'u8': b = nums(1, true); break;
      case 'hex': {
        const h = hexBytes(str(vp, v, '"hex"'));
        if (typeof h === 'string') err(vp, `"hex" must hold pairs of hex digits, e.g. "0a0b0c" (${h})`);
        b = h as Uint8Array;
        break;
      }
      case 'text': {
        if (typeof v !== 'string') err(vp, '"text" must be a string');
        b = new TextEncoder().encode(v as string);
        break;
      }
      case 'zeros': { const n = int(vp, v, '"zeros" (a byte count)', 0, MAX_STREAM); take(p, n); pieces.push(new Uint8Array(n)); return; }
      default: return err(p, `unknown stream piece "${kind}"; use one of ${STREAM_KINDS.join(', ')}`);
    }
    take(p, b.length);
    pieces.push(b);
  });
  const stream = new Uint8Array(streamLen);
  let at = 0;
  for (const b of pieces) { stream.set(b, at); at += b.length; }
  if (socket.fastopen !== undefined && socket.fastopen > stream.length) err('socket.fastopen', `the SYN would carry ${socket.fastopen} bytes but the stream has only ${stream.length}; add to "stream" or lower "fastopen"`);

  // steps, with the sender's position checked statically
  if (r.steps === undefined) err('', 'missing "steps": e.g. [{"send": 100}, {"expect": {"epoll": 1}}]');
  if (!Array.isArray(r.steps)) err('steps', '"steps" must be an array');
  // What the peer sent so far: the stream offset up to which every byte was sent (in order or
  // filled in later), the ranges sent beyond it, and the end of the furthest range.
  let inOrder = 0;
  let furthest = 0;
  // ranges sent beyond inOrder, a min-heap on their start: 10,000 out-of-order segments cost
  // n log n, not a rescan of all of them for each one filled in
  const ahead: [number, number][] = [];
  const heapPush = (r: [number, number]) => {
    let k = ahead.push(r) - 1;
    while (k > 0) {
      const up = (k - 1) >> 1;
      if (ahead[up]![0] <= r[0]) break;
      ahead[k] = ahead[up]!; k = up;
    }
    ahead[k] = r;
  };
  const heapPop = (): [number, number] => {
    const top = ahead[0]!;
    const last = ahead.pop()!;
    if (ahead.length) {
      let k = 0;
      for (;;) {
        let c = 2 * k + 1;
        if (c >= ahead.length) break;
        if (c + 1 < ahead.length && ahead[c + 1]![0] < ahead[c]![0]) c++;
        if (ahead[c]![0] >= last[0]) break;
        ahead[k] = ahead[c]!; k = c;
      }
      ahead[k] = last;
    }
    return top;
  };
  const markSent = (a: number, b: number) => {
    furthest = Math.max(furthest, b);
    if (a > inOrder) { heapPush([a, b]); return; }
    inOrder = Math.max(inOrder, b);
    while (ahead.length && ahead[0]![0] <= inOrder) inOrder = Math.max(inOrder, heapPop()[1]);
  };
  if (socket.fastopen) markSent(0, socket.fastopen);
  const firstUnsent = (): number => inOrder;
  const maxSent = () => furthest;
  let finSent = false;
  const steps: ScenarioStep[] = [];
  (r.steps as unknown[]).forEach((raw, index) => {
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
    const needBytes = (from: number, len: number, what: string) => {
      if (from + len > stream.length) err(vp, `${what} needs stream bytes ${from}..${from + len} but the stream has only ${stream.length} bytes; add to "stream" or send fewer bytes`);
    };
    const noFinYet = () => { if (finSent) err(vp, 'the peer already sent FIN in an earlier step; no data can follow it'); };
    switch (kind) {
      case 'send': {
        const len = int(vp, v, '"send" (a byte count)', 0, 1 << 26);
        const fin = o.fin === undefined ? false : bool(`${path}.fin`, o.fin, '"fin"');
        noFinYet();
        const offset = firstUnsent();
        needBytes(offset, len, `"send": ${len}`);
        if (len === 0 && !fin) err(vp, '"send": 0 sends nothing; give a byte count, or use {"fin": true}');
        markSent(offset, offset + len);
        if (fin) finSent = true;
        step = { kind: 'send', len, offset, fin };
        label = `send ${len}${fin ? ' + FIN' : ''}`;
        break;
      }
      case 'segment': {
        if (!isObj(v)) err(vp, '"segment" is {"offset": N, "len": M} (stream offsets; "fin": true to set FIN)');
        const s = v as Obj;
        for (const k of Object.keys(s)) if (!['offset', 'len', 'fin'].includes(k)) err(`${vp}.${k}`, `unknown segment property "${k}"; use offset, len, fin`);
        const offset = int(`${vp}.offset`, s.offset, '"offset"', 0, 1 << 26);
        const len = int(`${vp}.len`, s.len, '"len"', 0, 1 << 26);
        const fin = s.fin === undefined ? false : bool(`${vp}.fin`, s.fin, '"fin"');
        needBytes(offset, len, `"segment"`);
        if (len === 0 && !fin) err(vp, 'a segment needs "len" > 0 or "fin": true');
        markSent(offset, offset + len);
        if (fin) finSent = true;
        step = { kind: 'segment', offset, len, fin };
        label = `segment ${offset}..${offset + len}${fin ? ' + FIN' : ''}`;
        break;
      }
      case 'fin': {
        if (v !== true) err(vp, '"fin" takes true (a bare FIN after the last byte sent)');
        const offset = maxSent();
        finSent = true;
        step = { kind: 'fin', offset };
        label = 'FIN';
        break;
      }
      case 'close': {
        if (v !== true) err(vp, '"close" takes true (the application closes the socket; the peer ACKs our FIN)');
        step = { kind: 'close' };
        label = 'close';
        break;
      }
      case 'recv': {
        const len = int(vp, v, '"recv" (a byte count)', 1, 1 << 26);
        const peek = o.peek === undefined ? false : bool(`${path}.peek`, o.peek, '"peek"');
        step = { kind: 'recv', len, peek };
        label = `recv ${len}${peek ? ' (MSG_PEEK)' : ''}`;
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
        if (typeof op === 'string' && opts.constant) {
          const n = opts.constant(op) ?? opts.constant('BPF_SOCK_OPS_' + op);
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
        label = `SO_RCVBUF ${n}`;
        break;
      }
      case 'window': {
        const n = int(vp, v, '"window" (bytes the next ACK advertises)', 0, 0x3fffffff);
        step = { kind: 'window', bytes: n };
        label = `advertise window ${n}`;
        break;
      }
      case 'memoryPressure': step = { kind: 'memoryPressure', on: bool(vp, v, '"memoryPressure"') }; label = `tcp memory pressure ${v ? 'on' : 'off'}`; break;
      case 'sockmap': step = { kind: 'sockmap', on: bool(vp, v, '"sockmap"') }; label = v ? 'socket joins a sockmap' : 'socket leaves the sockmap'; break;
      default: return err(path, `unknown step kind "${kind}"`);
    }
    steps.push({ step, index, path, line: pos.get(path)?.line, json: raw, label });
  });
  // frames: the application message lengths (explore's oracle); they lie within the stream
  let frames: number[] | undefined;
  if (r.frames !== undefined) {
    if (!Array.isArray(r.frames) || r.frames.length === 0) err('frames', '"frames" is a non-empty array of message lengths in bytes, e.g. [258, 258]');
    let sum = 0;
    frames = (r.frames as unknown[]).map((x, j) => { const n = int(`frames[${j}]`, x, 'a frame length', 1, MAX_STREAM); sum += n; return n; });
    if (sum > stream.length) err('frames', `the frames add up to ${sum} bytes but the stream has only ${stream.length}; fix "frames" or "stream"`);
  }
  const res: Scenario = { file, dir, program, socket, stream, steps };
  if (frames !== undefined) res.frames = frames;
  if (description !== undefined) res.description = description;
  if (sockops !== undefined) res.sockops = sockops;
  if (setsockopt !== undefined) res.setsockopt = setsockopt;
  if (getsockopt !== undefined) res.getsockopt = getsockopt;
  if (structOps !== undefined) res.structOps = structOps;
  if (profile !== undefined) res.profile = profile;
  if (seed !== undefined) res.seed = seed;
  return res;
}

/** A value as an error message shows it: short, and saying when a number overflowed. */
function shown(v: unknown): string {
  if (v === undefined) return 'nothing (the property is missing)';
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (the number is too large)`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  return JSON.stringify(v) ?? String(v);
}

const HEX_DIGIT = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let k = 0; k < 16; k++) t['0123456789abcdef'.charCodeAt(k)] = k;
  for (let k = 10; k < 16; k++) t['ABCDEF'.charCodeAt(k - 10)] = k;
  return t;
})();

/** Hex digits in pairs, white space anywhere ignored -> bytes; or why not (a loop: no regular
 *  expression, whose backtracking overflowed the stack on a 10 MB string). */
export function hexBytes(h: string): Uint8Array | string {
  const out = new Uint8Array(h.length >>> 1);
  let n = 0;
  let hi = -1;
  for (let k = 0; k < h.length; k++) {
    const c = h.charCodeAt(k);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    const d = c < 128 ? HEX_DIGIT[c]! : -1;
    if (d < 0) return `character ${k + 1} is ${JSON.stringify(h[k])}`;
    if (hi < 0) hi = d; else { out[n++] = (hi << 4) | d; hi = -1; }
  }
  if (hi >= 0) return 'an odd number of digits';
  return out.subarray(0, n);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 1500, "10ms", "250us", "2s", "100ns" -> nanoseconds. */
export function parseDuration(v: unknown): bigint | null {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string') return null;
  const m = /^\s*(\d+)\s*(ns|us|ms|s)\s*$/.exec(v);
  if (!m) return null;
  const mult = { ns: 1n, us: 1000n, ms: 1000000n, s: 1000000000n }[m[2] as 'ns' | 'us' | 'ms' | 's'];
  return BigInt(m[1]!) * mult;
}
