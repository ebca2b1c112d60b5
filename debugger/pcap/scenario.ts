// A capture -> a scenario: the peer-to-us direction of one TCP connection, each data or FIN
// segment as captured (out of order, retransmitted, overlapping), as `send` steps where a
// segment starts at the first byte not sent yet and `segment` steps otherwise.
import { decodeTcp, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegmentCap } from './decode';
import { readCapture, CaptureError } from './read';

export { CaptureError } from './read';

export interface Endpoint { addr: string; port: number }

export interface Connection {
  family: 'inet' | 'inet6';
  /** The side that sends the bytes we replay (the client: the SYN's sender when captured). */
  peer: Endpoint;
  /** Our side: the passive opener. */
  us: Endpoint;
  /** How `us` was told: 'syn' (the peer's SYN), 'synack' (our SYN-ACK), 'port' (no handshake
   *  captured: the lower port is assumed to be the server's). */
  how: 'syn' | 'synack' | 'port';
  /** Segments from the peer to us, in capture order. */
  segments: TcpSegmentCap[];
  dataBytes: number;
}

export function flowText(c: Connection): string {
  const ep = (e: Endpoint) => (c.family === 'inet6' ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`);
  return `${ep(c.peer)}-${ep(c.us)}`;
}

export function connections(segs: TcpSegmentCap[]): Connection[] {
  const byKey = new Map<string, TcpSegmentCap[]>();
  for (const s of segs) {
    const a = `${s.src}|${s.sport}`, b = `${s.dst}|${s.dport}`;
    const key = a < b ? `${a}>${b}` : `${b}>${a}`;
    let l = byKey.get(key);
    if (!l) byKey.set(key, (l = []));
    l.push(s);
  }
  const out: Connection[] = [];
  for (const l of byKey.values()) {
    const first = l[0]!;
    const syn = l.find((s) => (s.flags & (TCP_SYN | 0x10)) === TCP_SYN);
    const synack = l.find((s) => (s.flags & (TCP_SYN | 0x10)) === (TCP_SYN | 0x10));
    let peer: Endpoint, us: Endpoint, how: Connection['how'];
    if (syn) { peer = { addr: syn.src, port: syn.sport }; us = { addr: syn.dst, port: syn.dport }; how = 'syn'; }
    else if (synack) { us = { addr: synack.src, port: synack.sport }; peer = { addr: synack.dst, port: synack.dport }; how = 'synack'; }
    else {
      const lowSrc = first.sport < first.dport;
      us = lowSrc ? { addr: first.src, port: first.sport } : { addr: first.dst, port: first.dport };
      peer = lowSrc ? { addr: first.dst, port: first.dport } : { addr: first.src, port: first.sport };
      how = 'port';
    }
    const segments = l.filter((s) => s.src === peer.addr && s.sport === peer.port);
    out.push({ family: first.family, peer, us, how, segments, dataBytes: segments.reduce((n, s) => n + s.payload.length, 0) });
  }
  return out;
}

export interface FromPcapOptions {
  /** "PEER:PORT-US:PORT" (IPv6 in brackets), or a 1-based number in the listing. */
  flow?: string;
  program?: string;
  sockops?: string;
  setsockopt?: string;
  /** A setsockopt(level, optname, 1) step first (the hook's enabling option), checked to return 0. */
  enable?: { level: number; optname: number };
}

export interface FromPcapResult {
  scenario: Record<string, unknown>;
  connection: Connection;
  /** Things the user should know (holes, conflicting retransmits, skipped frames). */
  notes: string[];
}

/** Reads the capture and builds the scenario. Throws CaptureError with what to do. */
export function scenarioFromCapture(bytes: Uint8Array, file: string, opts: FromPcapOptions = {}): FromPcapResult {
  const frames = readCapture(bytes, file);
  const { segments, skipped } = decodeTcp(frames);
  const conns = connections(segments).filter((c) => c.segments.some((s) => s.payload.length > 0 || s.flags & TCP_FIN));
  const listing = () => conns.map((c, i) => `  ${i + 1}: --flow ${flowText(c)}  (${c.dataBytes} payload bytes in ${c.segments.length} segments)`).join('\n');
  if (conns.length === 0) throw new CaptureError(`${file}: no TCP connection carries data in ${frames.length} frames${skipped.size ? ` (skipped: ${[...skipped].map(([w, n]) => `${n} ${w}`).join(', ')})` : ''}`);
  let conn: Connection;
  if (opts.flow !== undefined) {
    const n = /^\d+$/.test(opts.flow) ? +opts.flow : NaN;
    const c = Number.isInteger(n) ? conns[n - 1] : conns.find((x) => flowText(x) === opts.flow || flowText({ ...x, peer: x.us, us: x.peer }) === opts.flow);
    if (!c) throw new CaptureError(`${file}: no connection matches --flow ${opts.flow}; the capture has:\n${listing()}`);
    conn = c;
    // the other direction asked for: replay what "us" sent instead
    if (!Number.isInteger(n) && flowText(c) !== opts.flow) conn = { ...c, peer: c.us, us: c.peer, how: 'port', segments: segments.filter((s) => s.src === c.us.addr && s.sport === c.us.port && s.dst === c.peer.addr && s.dport === c.peer.port) };
  } else if (conns.length === 1) conn = conns[0]!;
  else throw new CaptureError(`${file}: ${conns.length} TCP connections carry data; choose one with --flow:\n${listing()}`);
  return { ...buildScenario(conn, file, opts), connection: conn };
}

function buildScenario(c: Connection, file: string, opts: FromPcapOptions): { scenario: Record<string, unknown>; notes: string[] } {
  const notes: string[] = [];
  const syn = c.segments.find((s) => s.flags & TCP_SYN);
  const data = c.segments.filter((s) => !(s.flags & TCP_SYN) && (s.payload.length > 0 || s.flags & (TCP_FIN | TCP_RST)));
  let base: number;
  if (syn) base = (syn.seq + 1) >>> 0;
  else {
    const ref = data[0]?.seq ?? 0;
    let min = 0;
    for (const s of data) min = Math.min(min, (s.seq - ref) | 0);
    base = (ref + min) >>> 0;
    notes.push('no SYN from the peer in the capture: the stream starts at the lowest sequence number seen');
  }
  if (syn && syn.payload.length) notes.push(`the SYN (frame ${syn.number}) carries ${syn.payload.length} bytes (TCP Fast Open): not replayed`);
  interface Seg { off: number; len: number; fin: boolean; number: number }
  const segs: Seg[] = [];
  let end = 0;
  for (const s of data) {
    if (s.flags & TCP_RST) { notes.push(`the peer reset the connection (frame ${s.number}): the scenario stops there`); break; }
    if (s.truncated) throw new CaptureError(`${file}: frame ${s.number} was captured shorter than it was sent (snaplen): its payload cannot be replayed; capture with tcpdump -s 0`);
    let off = (s.seq - base) | 0;
    let payload = s.payload;
    if (off < 0) { payload = payload.subarray(Math.min(payload.length, -off)); off = 0; }
    const fin = (s.flags & TCP_FIN) !== 0;
    if (payload.length === 0 && !fin) continue;
    segs.push({ off, len: payload.length, fin, number: s.number });
    end = Math.max(end, off + payload.length);
  }
  if (end > 1 << 26) throw new CaptureError(`${file}: the connection carries ${end} bytes; a scenario holds at most ${1 << 26}`);
  const stream = new Uint8Array(end);
  const have = new Uint8Array(end);
  let conflicts = 0;
  for (const s of data) {
    let off = (s.seq - base) | 0;
    let p = s.payload;
    if (off < 0) { p = p.subarray(Math.min(p.length, -off)); off = 0; }
    for (let i = 0; i < p.length && off + i < end; i++) {
      if (have[off + i]) { if (stream[off + i] !== p[i]) conflicts++; continue; }
      stream[off + i] = p[i]!;
      have[off + i] = 1;
    }
  }
  if (conflicts) notes.push(`${conflicts} retransmitted bytes differ from the first copy: the first is kept (the scenario replays one stream)`);
  const holes = have.reduce((n, h) => n + (h ? 0 : 1), 0);
  if (holes) notes.push(`${holes} stream bytes were never captured: they read as zeros and never arrive`);
  // steps: "send" where the segment starts at the first byte not sent yet, as the parser counts
  const steps: unknown[] = [];
  if (opts.enable) {
    steps.push({ setsockopt: { level: opts.enable.level, optname: opts.enable.optname, int: 1 } }, { expect: { ret: 0 } });
  }
  let inOrder = 0;
  const ahead: [number, number][] = [];
  let finSent = false;
  for (const s of segs) {
    const comment = `frame ${s.number}`;
    if (s.off === inOrder && !finSent && s.len > 0) steps.push(s.fin ? { send: s.len, fin: true, comment } : { send: s.len, comment });
    else steps.push({ segment: s.fin ? { offset: s.off, len: s.len, fin: true } : { offset: s.off, len: s.len }, comment });
    if (s.fin) finSent = true;
    if (s.off <= inOrder) inOrder = Math.max(inOrder, s.off + s.len); else ahead.push([s.off, s.off + s.len]);
    for (let moved = true; moved;) {
      moved = false;
      for (let i = 0; i < ahead.length; i++) if (ahead[i]![0] <= inOrder) { inOrder = Math.max(inOrder, ahead[i]![1]); ahead.splice(i--, 1); moved = true; }
    }
  }
  const socket: Record<string, unknown> = { family: c.family, localPort: c.us.port, remotePort: c.peer.port };
  if (syn) socket.peerIsn = syn.seq >>> 0;
  else socket.seq = base;
  if (syn?.mss !== undefined && syn.mss >= 88) socket.mss = syn.mss;
  const scenario: Record<string, unknown> = {
    description: `Replay of ${flowText(c)} from ${file.split('/').pop()} (peer to us: ${segs.length} segments, ${end} bytes${segs.some((s) => s.fin) ? ', FIN' : ''})${notes.length ? '. ' + notes.join('; ') : ''}`,
    program: opts.program ?? 'hook.bpf.o',
  };
  if (opts.sockops) scenario.sockops = opts.sockops;
  if (opts.setsockopt) scenario.setsockopt = opts.setsockopt;
  scenario.socket = socket;
  scenario.stream = streamPieces(stream);
  scenario.steps = steps;
  return { scenario, notes };
}

/** The bytes as stream pieces: runs of 32+ zeros as "zeros", the rest as hex of at most 64 bytes. */
export function streamPieces(b: Uint8Array): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  while (i < b.length) {
    let z = i;
    while (z < b.length && b[z] === 0) z++;
    if (z - i >= 32 || (z === b.length && z > i)) { out.push({ zeros: z - i }); i = z; continue; }
    let j = i;
    while (j < b.length && j - i < 64) {
      let k = j;
      while (k < b.length && b[k] === 0) k++;
      if (k - j >= 32) break;
      j = Math.max(j + 1, Math.min(k, i + 64));
    }
    out.push({ hex: Buffer.from(b.subarray(i, j)).toString('hex') });
    i = j;
  }
  return out;
}
