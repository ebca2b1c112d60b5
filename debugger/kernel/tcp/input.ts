// The input path of our socket (net/ipv4/tcp_input.c): a segment from the peer through
// tcp_rcv_established() / tcp_data_queue() — in order (tcp_queue_rcv, tcp_try_coalesce), out of
// order (tcp_data_queue_ofo, tcp_ofo_queue), FIN (tcp_fin) — plus the RTT estimator and the
// received-segment hooks (PARSE_HDR_OPT_CB, the AutoLOWAT enqueue hook). Returns facts
// (SegmentOutcome, drop events); debugger/sim.ts says them in words.
//
// The out-of-order queue (ofo.ts) is sorted chunks: a segment's place is a binary search, an
// insert or removal moves at most one chunk, so n segments in any order cost O(n log n).
import type { Skb } from '../types';
import type { DropReason, TcpModel } from './model';
import { MAX_SKB_FRAGS, TCPHDR_ACK, TCPHDR_FIN, TCPHDR_PSH } from './constants';
import { sawUnknown } from './header';
import { after, appendPayload, before, type QueuedSkb } from './sock';
import { peerHeader, peerSegment } from './peer';
import type { OfoPos } from './ofo';
import { sendAck, transmit } from './output';

const u32 = (x: number) => x >>> 0;
/** '1 byte', '100 bytes': for the labels of program runs. */
const nBytes = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;

/** What happened to a segment from the peer (sequence numbers as traces show them). */
export type SegmentOutcome =
  | { kind: 'pure-ack' }
  /** A FIN in FIN_WAIT2: ACKed, TIME_WAIT (the socket is CLOSE). */
  | { kind: 'fin-wait2-fin'; seq: number }
  /** Queued on the receive queue; `overlap`: rcv_nxt when seq < rcv_nxt < end_seq; `moved`:
   *  skbs tcp_ofo_queue() then moved from the out-of-order queue. */
  | { kind: 'queued'; seq: number; endSeq: number; len: number; fin: boolean; overlap?: number; moved: number }
  /** Put on the out-of-order queue (rcv_nxt then): inserted, replacing or overlapping skb#`skb`,
   *  or coalesced into it (tcp_ooo_try_coalesce). */
  | { kind: 'ofo'; seq: number; endSeq: number; len: number; fin: boolean; rcvNxt: number; placed: 'inserted' | 'replaces' | 'overlaps' | 'coalesced'; skb?: number }
  | ({ kind: 'dropped'; seq: number; endSeq: number } & DropReason);

/** A data segment from the peer: tcp_rcv_established() -> tcp_data_queue(). `seq` is the
 *  sequence number of payload[0]. */
export function segment(m: TcpModel, seq: number, payload: Uint8Array, opts: { fin?: boolean; psh?: boolean } = {}): SegmentOutcome {
  const s = m.sock;
  const flags = TCPHDR_ACK | (opts.fin ? TCPHDR_FIN : 0) | (opts.psh ?? true ? TCPHDR_PSH : 0);
  const skb = peerSegment(m, seq, payload, flags, true);
  if (s.state !== m.st('CLOSE')) parseHdr(m, skb);
  if (s.state === m.st('FIN_WAIT2') && payload.length === 0 && opts.fin && seq === s.rcv_nxt) {
    // tcp_fin() in FIN_WAIT2: ACK it, tcp_time_wait() -> tcp_done(): CLOSE (STATE_CB)
    s.segs_in++;
    rcvNxtUpdate(m, u32(seq + 1));
    s.done = true;
    transmit(m, TCPHDR_ACK, 'ACK of the FIN');
    m.setState('CLOSE');
    return { kind: 'fin-wait2-fin', seq: m.r(seq) };
  }
  if (s.state !== m.st('ESTABLISHED')) {
    // tcp_rcv_state_process(): in CLOSE_WAIT/CLOSING/LAST_ACK data beyond the FIN is ignored
    return drop(m, skb, { reason: 'AFTER_FIN', state: m.stateName(s.state) });
  }
  s.segs_in++;
  if (payload.length > 0) s.data_segs_in++;
  return dataQueue(m, skb);
}

/** tcp_data_queue(). */
function dataQueue(m: TcpModel, skb: QueuedSkb): SegmentOutcome {
  const s = m.sock;
  if (skb.seq === skb.endSeq) return { kind: 'pure-ack' };
  const len = skb.payload.length;
  const fin = (skb.tcpFlags & TCPHDR_FIN) !== 0;
  if (skb.seq === s.rcv_nxt) {
    if (s.receiveWindow() === 0 && !(len === 0 && fin)) return drop(m, skb, { reason: 'TCP_ZEROWINDOW' });
    return queueAndOut(m, skb);
  }
  if (!after(skb.endSeq, s.rcv_nxt)) return drop(m, skb, { reason: 'TCP_OLD_DATA', rcvNxt: m.r(s.rcv_nxt) });
  if (!before(skb.seq, u32(s.rcv_nxt + s.receiveWindow()))) {
    return drop(m, skb, { reason: 'TCP_OVERWINDOW', rcvNxt: m.r(s.rcv_nxt), window: s.receiveWindow() });
  }
  if (before(skb.seq, s.rcv_nxt)) {
    // partial packet, seq < rcv_nxt < end_seq: queued as is (overlap kept, readers use offsets)
    if (s.receiveWindow() === 0) return drop(m, skb, { reason: 'TCP_ZEROWINDOW' });
    return queueAndOut(m, skb, m.r(s.rcv_nxt));
  }
  return dataQueueOfo(m, skb);
}

/** The skb is freed with a drop reason (tcp_drop_reason): the event, and the outcome. */
function drop(m: TcpModel, skb: QueuedSkb, why: DropReason): SegmentOutcome {
  const at = { seq: m.r(skb.seq), endSeq: m.r(skb.endSeq) };
  m.emit({ kind: 'drop', ...at, ...why });
  return { kind: 'dropped', ...at, ...why };
}

type OfoOutcome = Extract<SegmentOutcome, { kind: 'ofo' }>;
/** The 'ofo' outcome (its keys in one order, built without spreads: this runs per segment). */
function ofoOutcome(m: TcpModel, skb: QueuedSkb, placed: OfoOutcome['placed'], prev?: number): OfoOutcome {
  const o: OfoOutcome = { kind: 'ofo', seq: m.r(skb.seq), endSeq: m.r(skb.endSeq), len: skb.payload.length, fin: (skb.tcpFlags & TCPHDR_FIN) !== 0, rcvNxt: m.r(m.sock.rcv_nxt), placed };
  if (prev !== undefined) o.skb = prev;
  return o;
}

/** tcp_data_queue() queue_and_out: rmem check, tcp_queue_rcv(), tcp_event_data_recv(),
 *  tcp_fin(), tcp_ofo_queue(), tcp_data_ready(), then our ACK (window update). */
function queueAndOut(m: TcpModel, skb: QueuedSkb, overlap?: number): SegmentOutcome {
  const s = m.sock;
  if (rmemScheduleFails(m)) {
    // ICSK_ACK_NOMEM: the reader is woken unconditionally
    s.wakeups++;
    m.emit({ kind: 'wakeup', where: 'tcp_data_queue (receive buffer full)' });
    if (s.receiveQueue.length > 0 && skb.payload.length > 0) {
      return drop(m, skb, { reason: 'PROTO_MEM', rmemAlloc: s.sk_rmem_alloc, rcvbuf: s.sk_rcvbuf, queue: 'receive' });
    }
  }
  const fin = (skb.tcpFlags & TCPHDR_FIN) !== 0;
  const out: Extract<SegmentOutcome, { kind: 'queued' }> = overlap !== undefined
    ? { kind: 'queued', seq: m.r(skb.seq), endSeq: m.r(skb.endSeq), len: skb.payload.length, fin, overlap, moved: 0 }
    : { kind: 'queued', seq: m.r(skb.seq), endSeq: m.r(skb.endSeq), len: skb.payload.length, fin, moved: 0 };
  queueRcv(m, skb);
  if (skb.payload.length) measureRcvMss(m, skb.payload.length);
  if (skb.tcpFlags & TCPHDR_FIN) tcpFin(m);
  if (s.ofo.length > 0) out.moved = ofoQueue(m);
  s.dataReady('tcp_data_queue'); // unless SOCK_DEAD (never, in the model)
  sendAck(m);
  return out;
}

/** tcp_data_queue_ofo(): tcp_measure_rcv_mss(), then insert into the out-of-order queue (sorted
 *  by seq): coalesce into the skb ending where it starts (tcp_ooo_try_coalesce: done, no
 *  merge_right, so skbs the grown one now covers stay until tcp_ofo_queue drops them), drop it
 *  if an skb already covers it, replace an skb it covers from the same seq, then remove the
 *  skbs it covers (merge_right). We never coalesce into an skb carrying FIN (the kernel would;
 *  assumed: a peer sends nothing after its FIN). */
function dataQueueOfo(m: TcpModel, skb: QueuedSkb): SegmentOutcome {
  const s = m.sock;
  if (rmemScheduleFails(m)) {
    s.wakeups++;
    m.emit({ kind: 'wakeup', where: 'tcp_data_queue_ofo (receive buffer full)' });
    return drop(m, skb, { reason: 'PROTO_MEM', rmemAlloc: s.sk_rmem_alloc, rcvbuf: s.sk_rcvbuf, queue: 'ofo' });
  }
  measureRcvMss(m, skb.payload.length);
  const q = s.ofo;
  const p = q.findPrev(skb.seq);
  const prev = p ? q.at(p) : undefined;
  let at: OfoPos;
  let out: SegmentOutcome;
  if (p && prev && before(skb.seq, prev.endSeq)) {
    if (!after(skb.endSeq, prev.endSeq)) return drop(m, skb, { reason: 'TCP_OFO_DUP', coveredBy: prev.id });
    if (prev.seq === skb.seq) {
      // skb covers prev: replace it
      q.replace(p, skb);
      s.sk_rmem_alloc += skb.truesize - prev.truesize;
      at = p;
      out = ofoOutcome(m, skb, 'replaces', prev.id);
    } else {
      at = q.insertAfter(p, skb);
      s.sk_rmem_alloc += skb.truesize;
      out = ofoOutcome(m, skb, 'overlaps', prev.id);
    }
  } else if (prev && !(prev.tcpFlags & TCPHDR_FIN) && tryCoalesce(m, prev, skb)) {
    const o = ofoOutcome(m, skb, 'coalesced', prev.id);
    sendAck(m);
    return o;
  } else {
    at = q.insertAfter(p, skb);
    s.sk_rmem_alloc += skb.truesize;
    out = ofoOutcome(m, skb, 'inserted');
  }
  // merge_right: remove the skbs skb fully covers (they follow it)
  for (const gone of q.removeCoveredAfter(at, skb.endSeq)) s.sk_rmem_alloc -= gone.truesize;
  sendAck(m); // out-of-order data is ACKed at once (duplicate ACK with SACK)
  return out;
}

/** tcp_ofo_queue(): move skbs that became in order to the receive queue, in sequence order,
 *  one RCVQ_CB per skb moved (seed), stopping after a FIN. Returns how many moved. */
function ofoQueue(m: TcpModel): number {
  const s = m.sock;
  const q = s.ofo;
  let moved = 0;
  for (let skb = q.first(); skb && !after(skb.seq, s.rcv_nxt); skb = q.first()) {
    q.shift();
    if (!after(skb.endSeq, s.rcv_nxt)) {
      s.sk_rmem_alloc -= skb.truesize;
      drop(m, skb, { reason: 'TCP_OFO_DROP' });
      continue;
    }
    const tail = s.receiveQueue[s.receiveQueue.length - 1];
    // skb's truesize is already charged; tcp_try_coalesce charges the delta again and the
    // skb is freed (kfree_skb_partial): net effect -256
    s.sk_rmem_alloc -= skb.truesize;
    const eaten = tryCoalesce(m, tail, skb);
    rcvNxtUpdate(m, skb.endSeq);
    if (!eaten) {
      s.receiveQueue.push(skb);
      s.sk_rmem_alloc += skb.truesize;
    }
    moved++;
    rcvqEnqueue(m, skb, 'ofo drain');
    if (skb.tcpFlags & TCPHDR_FIN) {
      tcpFin(m);
      break;
    }
  }
  return moved;
}

/** tcp_fin(): RCV_SHUTDOWN, SOCK_DONE, ESTABLISHED -> CLOSE_WAIT (STATE_CB if flagged),
 *  purge the out-of-order queue. */
export function tcpFin(m: TcpModel): void {
  const s = m.sock;
  // inet_csk_schedule_ack + inet_csk_enter_pingpong_mode: the FIN's ACK is delayed
  if (s.state === m.st('ESTABLISHED')) m.ackPending = true;
  s.rcvShutdown = true;
  s.done = true;
  if (s.state === m.st('ESTABLISHED')) m.setState('CLOSE_WAIT');
  for (const skb of s.ofo.clear()) s.sk_rmem_alloc -= skb.truesize;
}

/** tcp_rcv_nxt_update(): bytes_received += delta, rcv_nxt = seq. */
export function rcvNxtUpdate(m: TcpModel, seq: number): void {
  const s = m.sock;
  const delta = u32(seq - s.rcv_nxt);
  s.bytes_received += BigInt(delta);
  s.rcv_nxt = u32(seq);
}

/** tcp_try_coalesce(): merge `from` into the queue tail when it starts at tail's end_seq and
 *  skb_try_coalesce() has room (frags bounded by MAX_SKB_FRAGS, assumed one per segment). */
export function tryCoalesce(m: TcpModel, to: QueuedSkb | undefined, from: QueuedSkb): boolean {
  if (!to || from.seq !== to.endSeq) return false;
  if (to.frags + from.frags > MAX_SKB_FRAGS) return false;
  appendPayload(to, from.payload);
  // skb_try_coalesce(): delta = from->truesize - SKB_DATA_ALIGN(sizeof(struct sk_buff)) (256, assumed build)
  const delta = Math.max(0, from.truesize - 256);
  to.truesize += delta;
  m.sock.sk_rmem_alloc += delta;
  to.frags += from.frags;
  to.endSeq = from.endSeq;
  to.tcpFlags |= from.tcpFlags;
  return true;
}

/** tcp_queue_rcv(): coalesce into the tail or append (skb_set_owner_r), rcv_nxt = end_seq;
 *  then the seed's RCVQ_CB hook on the arriving skb. */
function queueRcv(m: TcpModel, skb: QueuedSkb): void {
  const s = m.sock;
  const tail = s.receiveQueue[s.receiveQueue.length - 1];
  const eaten = tryCoalesce(m, tail, skb);
  rcvNxtUpdate(m, skb.endSeq);
  if (!eaten) {
    s.receiveQueue.push(skb);
    s.sk_rmem_alloc += skb.truesize;
  }
  rcvqEnqueue(m, skb, '');
}

/** tcp_measure_rcv_mss() (from tcp_event_data_recv): a segment at least rcv_mss long raises
 *  rcv_mss to min(len, advmss). */
function measureRcvMss(m: TcpModel, len: number): void {
  const s = m.sock;
  if (len >= s.rcv_mss) s.rcv_mss = Math.min(len, s.advmss);
}

/** tcp_try_rmem_schedule(): the model accepts while sk_rmem_alloc <= sk_rcvbuf (no
 *  tcp_prune_queue()/collapse, no protocol memory accounting: simplified). */
function rmemScheduleFails(m: TcpModel): boolean {
  return m.sock.sk_rmem_alloc > m.sock.sk_rcvbuf;
}

/** Received-segment hooks before the segment's data is handled: net/ipv4/tcp_input.c
 *  tcp_validate_incoming() -> bpf_skops_parse_hdr(): PARSE_HDR_OPT_CB with the skb (header
 *  on it) when PARSE_ALL_HDR_OPT_CB_FLAG is set, or PARSE_UNKNOWN_HDR_OPT_CB_FLAG and the
 *  segment has an option unknown to tcp_parse_options; never in SYN_RECV/SYN_SENT/LISTEN.
 *  In ESTABLISHED, tcp_rcv_established()'s header prediction (pred_flags: ACK only, PSH
 *  ignored, our expected header length 32; in-order; fast path on: no out-of-order data,
 *  window open, rmem below rcvbuf: tcp_fast_path_check) skips tcp_validate_incoming. */
export function parseHdr(m: TcpModel, skb: QueuedSkb): void {
  const s = m.sock;
  const flags = s.bpf_sock_ops_cb_flags;
  if (!flags) return;
  // the peer's options: timestamps (known) + peerOptions
  const unknown = m.peer.options.length > 0 && sawUnknown(m.peer.options);
  if (!s.testFlag('BPF_SOCK_OPS_PARSE_ALL_HDR_OPT_CB_FLAG') && !(unknown && s.testFlag('BPF_SOCK_OPS_PARSE_UNKNOWN_HDR_OPT_CB_FLAG'))) return;
  if (s.state === m.st('SYN_RECV') || s.state === m.st('SYN_SENT') || s.state === m.st('LISTEN')) return;
  if (s.state === m.st('ESTABLISHED')) {
    const fastPathOn = s.ofo.length === 0 && s.rcv_wnd > 0 && s.sk_rmem_alloc < s.sk_rcvbuf;
    const predicted = (skb.tcpFlags & ~TCPHDR_PSH) === TCPHDR_ACK && m.peer.options.length === 0; // doff 8: 20 + timestamps
    if (fastPathOn && predicted && skb.seq === s.rcv_nxt) return;
  }
  if (!skb.header) peerHeader(m, skb, m.peer.lazyTs);
  const len = skb.payload.length;
  m.callOp('BPF_SOCK_OPS_PARSE_HDR_OPT_CB', [], skb, `PARSE_HDR_OPT_CB (seq ${m.r(skb.seq)}..${m.r(skb.endSeq)}, ${nBytes(len)}${skb.tcpFlags & TCPHDR_FIN ? ' + FIN' : ''})`);
}

/** net/ipv4/tcp_input.c tcp_ack_update_rtt() -> tcp_update_rtt_min() and tcp_rtt_estimator()
 *  for one sample of `mrtt` µs: the first sets srtt = m << 3 and rtt_seq = snd_nxt and calls
 *  tcp_bpf_rtt; later ones update srtt by 1/8 and call tcp_bpf_rtt only once snd_una passed
 *  rtt_seq. RTT_CB (args mrtt_us, srtt) when RTT_CB_FLAG is set (include/net/tcp.h tcp_bpf_rtt). */
export function rttSample(m: TcpModel, mrtt: number): void {
  const s = m.sock;
  if (mrtt < s.rtt_min) s.rtt_min = mrtt;
  let srtt = s.srtt_us;
  let call = false;
  if (srtt !== 0) {
    let d = mrtt - (srtt >> 3);
    srtt += d;
    if (d < 0) { d = -d; d -= s.mdev_us >> 2; if (d > 0) d >>= 3; } else d -= s.mdev_us >> 2;
    s.mdev_us += d;
    if (after(s.snd_una, s.rtt_seq)) { s.rtt_seq = s.snd_nxt; call = true; }
  } else {
    srtt = mrtt << 3;
    s.mdev_us = mrtt << 1;
    s.rtt_seq = s.snd_nxt;
    call = true;
  }
  if (call && s.testFlag('BPF_SOCK_OPS_RTT_CB_FLAG')) m.callOp('BPF_SOCK_OPS_RTT_CB', [mrtt, srtt], null, `RTT_CB (sample ${mrtt} us)`);
  s.srtt_us = Math.max(1, srtt);
}

/** The seed's enqueue hook (tcp_bpf_rcvlowat): RCVQ_CB with the arriving skb, if the flag is on. */
export function rcvqEnqueue(m: TcpModel, skb: QueuedSkb, path: string): void {
  if (!m.rcvqOn()) return;
  const view: Skb = { seq: skb.seq, endSeq: skb.endSeq, tcpFlags: skb.tcpFlags, payload: skb.payload, id: skb.id };
  const fin = skb.tcpFlags & TCPHDR_FIN ? ' FIN' : '';
  m.rcvq(view, `${m.rcvqShort} enqueue${path ? ' (' + path + ')' : ''} seq ${m.r(skb.seq)}..${m.r(skb.endSeq)} (${nBytes(skb.payload.length)}${fin})`);
}
