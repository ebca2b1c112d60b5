// The output path of our socket (net/ipv4/tcp_output.c): the segments it sends without payload
// — ACKs, window updates, the SYN-ACK, FIN and RST — with the header-option hooks
// (bpf_skops_hdr_opt_len / bpf_skops_write_hdr_opt) and the window tcp_select_window() offers.
import type { Skb } from '../types';
import type { TcpModel } from './model';
import { WSCALE, progOk } from './model';
import { BPF_WRITE_HDR_TCP_CURRENT_MSS, MAX_TCP_OPTION_SPACE, concat, synOptions, tcpHeader, tsOptions } from './header';
import { TCPHDR_ACK, TCPHDR_FIN, TCPHDR_SYN } from './constants';
import { after } from './sock';
import type { SynHeaders } from './sockopt';

const u32 = (x: number) => x >>> 0;

/** net/ipv4/tcp_output.c __tcp_transmit_skb() for a segment the (full) socket sends without
 *  payload: tcp_established_options() (timestamps 12 bytes, SACK blocks), and with
 *  WRITE_HDR_OPT_CB_FLAG bpf_skops_hdr_opt_len(sk, skb) on the skb before its header is pushed
 *  (skb->len 0, skb_data_end = skb->data) with 40 - those bytes left, then, if the program
 *  reserved some, bpf_skops_write_hdr_opt() on the pushed header; segs_out++.
 *  `currentMss`: tcp_current_mss() ran first (tcp_send_fin -> __tcp_push_pending_frames):
 *  HDR_OPT_LEN_CB with no skb and args[0] BPF_WRITE_HDR_TCP_CURRENT_MSS. */
export function transmit(m: TcpModel, flags: number, what: string, currentMss = false): void {
  const s = m.sock;
  const seq = flags & TCPHDR_FIN ? s.write_seq : s.snd_nxt;
  const tsval = m.tsval();
  if (!s.testFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')) { s.segs_out++; return; }
  const kopts = tsOptions(tsval, m.peer.tsLast, sackBlocks(m));
  const remaining = MAX_TCP_OPTION_SPACE - kopts.length;
  if (remaining > 0) {
    if (currentMss) m.callOpFull('BPF_SOCK_OPS_HDR_OPT_LEN_CB', [BPF_WRITE_HDR_TCP_CURRENT_MSS], null, 'HDR_OPT_LEN_CB (tcp_current_mss, no skb)', true, { remainingOptLen: remaining });
    const skb: Skb = { seq, endSeq: u32(seq + (flags & TCPHDR_FIN ? 1 : 0)), tcpFlags: flags, payload: new Uint8Array(0), id: m.nextSkbId++ };
    hdrOptHooks(m, skb, kopts, what, true, s.rcv_nxt, Math.min(s.receiveWindow() >> WSCALE, 0xffff));
  }
  s.segs_out++; // after the header-option hooks, as __tcp_transmit_skb counts it
}

/** net/ipv4/tcp_output.c bpf_skops_hdr_opt_len() on `skb` with the option space the kernel's
 *  own options `kopts` leave, then, if the program reserved some (rounded up to 4),
 *  bpf_skops_write_hdr_opt() on the header built with that space. Shared by the SYN-ACK (request
 *  sock, is_fullsock 0, the SYN's header for BPF_LOAD_HDR_OPT_TCP_SYN) and our other segments. */
export function hdrOptHooks(m: TcpModel, skb: Skb, kopts: Uint8Array, what: string, fullsock: boolean, ack: number, window: number, syn?: SynHeaders): void {
  const s = m.sock;
  const remaining = MAX_TCP_OPTION_SPACE - kopts.length;
  const extra = syn ? { syn } : {};
  const r = m.callOpFull('BPF_SOCK_OPS_HDR_OPT_LEN_CB', [0], skb, `HDR_OPT_LEN_CB (${what})`, fullsock, { remainingOptLen: remaining, ...extra });
  if (!progOk(r) || r!.remainingOptLen === undefined || r!.remainingOptLen >= remaining) return;
  const bpfLen = (remaining - r!.remainingOptLen + 3) & ~3;
  const header = tcpHeader({ sport: s.local_port, dport: s.remote_port, seq: skb.seq, ack, flags: skb.tcpFlags, window, options: concat(kopts, new Uint8Array(bpfLen)) });
  const wskb: Skb = { ...skb, id: m.nextSkbId++, header, dataEnd: header.length - bpfLen };
  const w = m.callOpFull('BPF_SOCK_OPS_WRITE_HDR_OPT_CB', [0], wskb, `WRITE_HDR_OPT_CB (${what})`, fullsock, { remainingOptLen: bpfLen, ...extra });
  const written = progOk(w) ? w!.written : undefined;
  if (written?.length) s.log({ kind: 'hdr-opts-written', segment: what, bytes: written });
}

/** SACK blocks our ACKs carry: the out-of-order queue's ranges, at most 3 with timestamps
 *  (tcp_established_options: (40 - 12 - 4) / 8). */
export function sackBlocks(m: TcpModel): [number, number][] {
  const out: [number, number][] = [];
  for (const skb of m.sock.ofo) {
    const last = out[out.length - 1];
    if (last && !after(skb.seq, last[1])) { if (after(skb.endSeq, last[1])) last[1] = skb.endSeq; } // touching or overlapping
    else if (out.length === 3) break; // a fourth block: no room (the walk stops: O(1) per segment)
    else out.push([skb.seq, skb.endSeq]);
  }
  return out;
}

/** Our ACK after receiving data (we ACK every segment: no delayed ACK in the model):
 *  rcv_wup = rcv_nxt and the window tcp_select_window() offers — tcp_space() free space
 *  (tcp_win_from_space(rcvbuf - rmem_alloc)), at most window_clamp, 0 below rcv_mss, never
 *  shrinking what was offered (simplified: no rcv_ssthresh, no window scaling rounding). */
export function sendAck(m: TcpModel): void {
  const s = m.sock;
  const cur = s.receiveWindow();
  let win = Math.min(s.tcpWinFromSpace(s.sk_rcvbuf - s.sk_rmem_alloc), s.window_clamp);
  if (win < s.rcv_mss) win = 0;
  if (win < cur) win = cur;
  s.rcv_wup = s.rcv_nxt;
  s.rcv_wnd = win;
  if (m.ackPending) return; // tcp_fin: pingpong mode, the ACK is delayed (tcp_send_delayed_ack)
  transmit(m, TCPHDR_ACK, 'ACK');
}

/** net/ipv4/tcp_output.c tcp_make_synack() + tcp_v4_send_synack()/tcp_v6_send_synack() on the
 *  request sock: tcp_synack_options() (MSS, SACK_PERM + TS, WS: 20 bytes) then, with
 *  WRITE_HDR_OPT_CB_FLAG on the listener, bpf_skops_hdr_opt_len(req, syn_skb) with the 20
 *  bytes left; bpf_skops_write_hdr_opt() only when the program reserved some (the header is
 *  pushed: skb->len = its length, skb_data_end at the BPF space); then, the listener's tos not
 *  being ECN-capable, tcp_bpf_ca_needs_ecn(req): NEEDS_ECN on every SYN-ACK. */
export function sendSynack(m: TcpModel, syn: SynHeaders, peerTs: number): void {
  const s = m.sock;
  const kopts = synOptions(s.advmss, m.tsval(), peerTs, WSCALE);
  const seq = s.isn;
  if (s.testFlag('BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG')) {
    const skb: Skb = { seq, endSeq: u32(seq + 1), tcpFlags: TCPHDR_SYN | TCPHDR_ACK, payload: new Uint8Array(0), id: m.nextSkbId++ };
    hdrOptHooks(m, skb, kopts, 'SYN-ACK', false, s.peerIsn + 1, 65535, syn);
  }
  m.callOp('BPF_SOCK_OPS_NEEDS_ECN', [], null, 'NEEDS_ECN (request sock, SYN-ACK)', false);
}
