// Scenario files (design.md §5) -> Scenario, with every mistake reported as a ScenarioError that
// names the file, the JSON path (`steps[3].send`), its line, and what to do.
import { dirname, resolve } from 'node:path';
import { FileReadError, readTextBounded } from '../../io/files';
import { JsonDocument, JsonSyntaxError, SkimmedArray, type Located } from './json';
import { ScenarioError, type Scenario, type SocketSpec } from './types';
import { StepTable, compileStep, lazySteps, type Sender } from './steps';
import { Checks, type Obj, hexBytes, isObj } from './values';

export { hexBytes, parseDuration } from './values';

export interface ParseOptions {
  /** Resolves names such as 'SOL_SOCKET' or 'BPF_SOCK_OPS_RCVQ_CB' (the sock_ops table). */
  constant?: (name: string) => number | undefined;
}

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
  // "stream" and "steps" are checked as the rest, but their elements are read one at a time
  // afterwards (a long scenario is never a tree of objects all at once)
  const doc = new JsonDocument(text);
  let located: Located;
  try {
    located = doc.parse({ skim: ['stream', 'steps'] });
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new ScenarioError(file, '', e.pos.line, `not valid JSON: ${e.detail}`, e.pos.col);
    throw e;
  }
  const pos = located.positions;
  /** The positions of the element of "stream" or "steps" being checked. */
  let local: Located['positions'] | null = null;
  const checks = new Checks(file, (p) => local?.get(p) ?? pos.get(p), opts.constant);
  const { err, str, int, bool } = checks;
  const root = located.value;
  if (!isObj(root)) err('', 'a scenario is a JSON object with "program", "stream" and "steps"');
  const r = root as Obj;
  const known = ['$schema', 'description', 'program', 'sockops', 'setsockopt', 'getsockopt', 'socket', 'stream', 'steps', 'profile', 'seed', 'frames', 'structOps'];
  for (const k of Object.keys(r)) if (!known.includes(k)) err(k, `unknown property "${k}"; a scenario has ${known.filter((x) => x !== '$schema').join(', ')}`);

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

  // stream: at most MAX_STREAM bytes in all, checked before a piece is made (a "zeros" count costs no input).
  // Read twice: the pieces checked and counted, then written into one array of that length (no
  // array per piece, no copies of the whole as it grows).
  if (r.stream === undefined) err('', 'missing "stream": the bytes the peer sends, e.g. [{"u32le": [100, 150]}, {"zeros": 250}]');
  if (!(r.stream instanceof SkimmedArray)) err('stream', '"stream" must be an array of pieces such as {"u32le": [100, 150]} or {"zeros": 250}');
  const pieces = r.stream as SkimmedArray;
  const readPieces = (bytes: StreamBytes): void => {
    const take = (p: string, n: number): void => {
      if (bytes.length + n > MAX_STREAM) err(p, `the stream would be ${bytes.length + n} bytes; at most ${MAX_STREAM} in all: shorten "stream"`);
    };
    for (let k = 0; k < pieces.length; k++) {
      const p = `stream[${k}]`;
      // an element of "stream" sits two levels deep (the root object, the array)
      const el = doc.parseAt(pieces.starts[k]!, p, 2);
      local = el.positions;
      const piece = el.value;
      if (!isObj(piece) || Object.keys(piece as Obj).length !== 1) err(p, `each stream piece is an object with one of ${STREAM_KINDS.join(', ')}`);
      const [kind, v] = Object.entries(piece as Obj)[0]!;
      const vp = `${p}.${kind}`;
      /** The array's numbers, each `width` bytes, in the byte order asked for. */
      const nums = (width: 1 | 2 | 4, le: boolean): void => {
        if (!Array.isArray(v)) err(vp, `"${kind}" takes an array of numbers`);
        const xs = v as unknown[];
        const max = width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
        for (let j = 0; j < xs.length; j++) {
          const x = xs[j];
          if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) int(`${vp}[${j}]`, x, `a ${kind} value`, 0, max);
        }
        take(p, xs.length * width);
        bytes.nums(xs as number[], width, le);
      };
      let b: Uint8Array;
      switch (kind) {
        case 'u32le': nums(4, true); continue;
        case 'u32be': nums(4, false); continue;
        case 'u16le': nums(2, true); continue;
        case 'u16be': nums(2, false); continue;
        case 'u8': nums(1, true); continue;
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
        case 'zeros': { const n = int(vp, v, '"zeros" (a byte count)', 0, MAX_STREAM); take(p, n); bytes.zeros(n); continue; }
        default: return err(p, `unknown stream piece "${kind}"; use one of ${STREAM_KINDS.join(', ')}`);
      }
      take(p, b.length);
      bytes.push(b);
    }
    local = null;
  };
  const counted = new StreamBytes(null);
  readPieces(counted);
  const stream = new Uint8Array(counted.length);
  readPieces(new StreamBytes(stream));
  if (socket.fastopen !== undefined && socket.fastopen > stream.length) err('socket.fastopen', `the SYN would carry ${socket.fastopen} bytes but the stream has only ${stream.length}; add to "stream" or lower "fastopen"`);

  // steps, with the sender's position checked statically
  if (r.steps === undefined) err('', 'missing "steps": e.g. [{"send": 100}, {"expect": {"epoll": 1}}]');
  if (!(r.steps instanceof SkimmedArray)) err('steps', '"steps" must be an array');
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
  let finSent = false;
  const sender: Sender = {
    noFinYet: (vp) => { if (finSent) err(vp, 'the peer already sent FIN in an earlier step; no data can follow it'); },
    firstUnsent: () => inOrder,
    need: (vp, from, len, what) => {
      if (from + len > stream.length) err(vp, `${what} needs stream bytes ${from}..${from + len} but the stream has only ${stream.length} bytes; add to "stream" or send fewer bytes`);
    },
    sent: (from, to, fin) => { markSent(from, to); if (fin) finSent = true; },
    fin: () => { finSent = true; return furthest; },
  };
  // Each step is read, checked and compiled, then dropped: the table keeps where it starts and
  // the common kinds as numbers (./steps.ts reads the rest again when asked).
  const stepStarts = (r.steps as SkimmedArray).starts;
  const table = new StepTable(doc, stepStarts, new Checks(file, () => undefined, opts.constant));
  const printks = new Set<string>();
  for (let index = 0; index < stepStarts.length; index++) {
    const el = doc.parseAt(stepStarts[index]!, `steps[${index}]`, 2);
    local = el.positions;
    const { step } = compileStep(el.value, index, checks, sender);
    table.note(index, step);
    if (step.kind === 'expect' && step.expect.printk !== undefined) printks.add(step.expect.printk);
  }
  local = null;
  const steps = lazySteps(table);
  // frames: the application message lengths (explore's oracle); they lie within the stream
  let frames: number[] | undefined;
  if (r.frames !== undefined) {
    if (!Array.isArray(r.frames) || r.frames.length === 0) err('frames', '"frames" is a non-empty array of message lengths in bytes, e.g. [258, 258]');
    let sum = 0;
    frames = (r.frames as unknown[]).map((x, j) => { const n = int(`frames[${j}]`, x, 'a frame length', 1, MAX_STREAM); sum += n; return n; });
    if (sum > stream.length) err('frames', `the frames add up to ${sum} bytes but the stream has only ${stream.length}; fix "frames" or "stream"`);
  }
  const res: Scenario = { file, dir, program, socket, stream, steps, printks: [...printks] };
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


/** The stream's bytes as the pieces add up: counted (out null), or written into `out`. */
class StreamBytes {
  length = 0;
  constructor(readonly out: Uint8Array | null) {}
  private view: DataView | null = null;
  push(b: Uint8Array): void {
    this.out?.set(b, this.length);
    this.length += b.length;
  }
  nums(xs: number[], width: 1 | 2 | 4, le: boolean): void {
    const out = this.out;
    if (out) {
      const dv = (this.view ??= new DataView(out.buffer, out.byteOffset, out.byteLength));
      let at = this.length;
      for (const n of xs) {
        if (width === 4) dv.setUint32(at, n, le); else if (width === 2) dv.setUint16(at, n, le); else out[at] = n;
        at += width;
      }
    }
    this.length += xs.length * width;
  }
  zeros(n: number): void {
    this.length += n; // a new array is zeros already
  }
}
