// A scenario file (design.md §5, schema in syntaxes/scenario.schema.json) after parsing.

export interface SocketSpec {
  family: 'inet' | 'inet6';
  /** Sequence number of the first stream byte (rcv_nxt after the handshake). */
  seq: number;
  mss?: number;
  /** Initial sk_rcvbuf (sysctl_tcp_rmem[1]). */
  rcvbuf?: number;
  /** sysctl_tcp_rmem[2]. */
  tcpRmemMax?: number;
  /** Bytes of the stream carried by the SYN (TCP Fast Open). */
  fastopen?: number;
  memoryPressure?: boolean;
  mptcp?: boolean;
  localPort?: number;
  remotePort?: number;
  /** `seq` was written in the file (absolute sequence numbers in outputs); otherwise the first
   *  stream byte is the default peer ISN + 1 and outputs count from it. */
  seqExplicit?: boolean;
  /** The peer's ISN (seq = peerIsn + 1); like `seq`, absolute in outputs. */
  peerIsn?: number;
  /** Our ISN (tcp_request_sock.snt_isn). */
  isn?: number;
  /** Round-trip time of each RTT sample, µs. */
  rttUs?: number;
  /** How the peer's SYN asks for ECN. */
  synEcn?: 'none' | 'ecn' | 'ect';
  /** TCP option bytes the peer appends to each of its segments. */
  peerOptions?: Uint8Array;
}

export interface Expectation {
  rcvlowat?: number;
  epoll?: 0 | 1;
  readable?: number;
  wakeups?: number;
  /** Return value of the previous recv/setsockopt/getsockopt/op step. */
  ret?: number;
  cbFlags?: number;
  rcvbuf?: number;
  state?: string;
  /** Number of skbs on the receive queue. */
  receiveQueue?: number;
  /** Bytes the previous recv returned, as text. */
  data?: string;
  /** A substring of the bpf_printk output of the run so far. */
  printk?: string;
}

export type Step =
  | { kind: 'send'; len: number; offset: number; fin: boolean }
  | { kind: 'segment'; offset: number; len: number; fin: boolean }
  | { kind: 'fin'; offset: number }
  | { kind: 'recv'; len: number; peek: boolean }
  | { kind: 'setsockopt'; level: number; optname: number; optval: Uint8Array; display: string }
  /** The application's getsockopt(2) with `optlen` bytes of room. */
  | { kind: 'getsockopt'; level: number; optname: number; optlen: number; display: string }
  | { kind: 'expect'; expect: Expectation; always?: boolean }
  | { kind: 'op'; op: number | string; args: number[] }
  | { kind: 'advanceTime'; ns: bigint }
  | { kind: 'rcvbuf'; bytes: number }
  | { kind: 'window'; bytes: number }
  | { kind: 'memoryPressure'; on: boolean }
  | { kind: 'sockmap'; on: boolean }
  | { kind: 'close' };

export interface ScenarioStep {
  step: Step;
  /** Index in `steps` and the JSON path: 'steps[3]'. */
  index: number;
  path: string;
  line?: number;
  /** The step as written, for the debugger. */
  json: unknown;
  /** Short label: 'send 100', 'recv 50'. */
  label: string;
}

export interface Scenario {
  file: string; // absolute path of the scenario file
  dir: string;
  description?: string;
  /** Absolute path of the program (.o or .c). */
  program: string;
  sockops?: string;
  setsockopt?: string;
  /** Function name of a SEC("cgroup/getsockopt") program to attach. */
  getsockopt?: string;
  /** struct_ops profiles: the SEC(".struct_ops.link") variable whose members run (instead of "sockops"). */
  structOps?: string;
  profile?: string;
  seed?: number;
  /** Byte lengths of the application messages that make up the stream, in order (`explore`'s oracle). */
  frames?: number[];
  socket: SocketSpec;
  stream: Uint8Array;
  steps: ScenarioStep[];
  /** The "printk" substrings the expect steps look for, each once (the parser fills it; without
   *  it a Simulation keeps every bpf_printk line to answer them). */
  printks?: string[];
}

/** A broken scenario file: names the file, the JSON path and its line, and what to do. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(readonly file: string, readonly path: string, readonly line: number | undefined, readonly detail: string, readonly col?: number) {
    super(`${file}${line ? ':' + line + (col ? ':' + col : '') : ''}: ${path ? path + ': ' : ''}${detail}`);
  }
}
