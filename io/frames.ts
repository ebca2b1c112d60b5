// Content-Length framing, as the Debug Adapter Protocol and the Language Server Protocol use it
// ("Content-Length: N\r\n\r\n" then N bytes of UTF-8 JSON), read so that no malformed frame leaves
// the reader deaf: a header without a usable length, a length that is negative, not a number or
// over the cap, a body that is not UTF-8 or not JSON, each is reported (with what was wrong) and
// the reader resynchronises on the next "Content-Length:" header. Memory is bounded by the cap.

/** The largest message body read (a 200,000-line document sent whole is about 8 MiB). */
export const MAX_FRAME_BYTES = 64 << 20;
/** A header block longer than this without its blank line is garbage, not a header. */
const MAX_HEADER_BYTES = 8192;

const CRLF2 = Buffer.from('\r\n\r\n');
const CL = Buffer.from('content-length:');

export interface FrameSink {
  /** A complete message, parsed: any JSON value (the caller checks its shape). */
  message(value: unknown): void;
  /** A frame that was dropped, and why (one line). */
  problem(text: string): void;
}

/** Finds "content-length:" (any case) at or after `from`; `lineStart`: only at the start of a line. */
function findHeader(buf: Buffer, from: number, lineStart = true): number {
  for (let i = from; i + CL.length <= buf.length; i++) {
    if ((!lineStart || i === 0 || buf[i - 1] === 10) && (buf[i]! | 0x20) === 0x63) {
      let k = 0;
      while (k < CL.length && (buf[i + k]! | (buf[i + k]! >= 0x41 && buf[i + k]! <= 0x5a ? 0x20 : 0)) === CL[k]) k++;
      if (k === CL.length) return i;
    }
  }
  return -1;
}

export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Body length of the frame being read, or -1 while reading a header. */
  private want = -1;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly sink: FrameSink, private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Chunks of a long body not yet joined (joined once it is complete: no quadratic copying). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Uint8Array): void {
    if (this.want >= 0 && this.buf.length + this.pendingBytes + chunk.length < this.want) {
      this.pending.push(Buffer.from(chunk));
      this.pendingBytes += chunk.length;
      return;
    }
    this.buf = Buffer.concat([this.buf, ...this.pending, chunk]);
    this.pending = [];
    this.pendingBytes = 0;
    for (;;) {
      if (this.want < 0) {
        if (!this.header()) return;
        continue;
      }
      if (this.buf.length < this.want) return;
      const body = this.buf.subarray(0, this.want);
      this.buf = this.buf.subarray(this.want);
      this.want = -1;
      this.body(body);
    }
  }

  /** Reads one header block; false when more bytes are needed. Every path consumes bytes. */
  private header(): boolean {
    const end = this.buf.indexOf(CRLF2);
    if (end < 0) {
      if (this.buf.length > MAX_HEADER_BYTES) {
        this.sink.problem(`${this.buf.length} bytes without a header's blank line; skipped to the next Content-Length header`);
        const next = findHeader(this.buf, 1, false);
        this.buf = this.buf.subarray(next > 0 ? next : this.buf.length - (CL.length - 1));
        return true;
      }
      return false;
    }
    const head = this.buf.subarray(0, end).toString('latin1');
    let length: number | undefined;
    let bad: string | undefined;
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
      const v = line.slice(colon + 1).trim();
      if (!/^\d{1,12}$/.test(v)) { bad = `Content-Length ${JSON.stringify(v.slice(0, 40))} is not a byte count`; continue; }
      length = Number(v);
    }
    if (length === undefined || length > this.maxBytes) {
      this.sink.problem(`${length !== undefined ? `Content-Length ${length} is over the limit of ${this.maxBytes} bytes` : bad ?? 'a header without Content-Length'}; skipped`);
      // bytes glued in front of a header ('{}Content-Length: 7'): read on from that header
      const glued = length === undefined && !bad ? findHeader(this.buf.subarray(0, end), 1, false) : -1;
      this.buf = this.buf.subarray(glued > 0 ? glued : end + CRLF2.length);
      return true;
    }
    this.buf = this.buf.subarray(end + CRLF2.length);
    this.want = length;
    return true;
  }

  private body(body: Buffer): void {
    let text: string;
    try {
      text = this.decoder.decode(body);
    } catch {
      this.sink.problem(`a message body of ${body.length} bytes is not valid UTF-8; dropped`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      // A short body swallows the next frame's header: pick the reading up from that header.
      const next = findHeader(body, 1, false);
      this.sink.problem(`a message body is not JSON (${(e as Error).message.slice(0, 80)})${next > 0 ? '; reading on from the Content-Length header inside it' : '; dropped'}`);
      if (next > 0) this.buf = Buffer.concat([body.subarray(next), this.buf]);
      return;
    }
    this.sink.message(value);
  }
}
