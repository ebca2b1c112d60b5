// The TCP model of the simulated kernel: one passively opened socket (TcpSock, the SockModel of
// ../types.ts) and the kernel code around it, split as the kernel's files are (model.ts says
// which file holds what). The model returns facts (outcomes, ModelEvents with drop reasons);
// debugger/sim.ts turns them into sentences.
//
// Checkpoints for time travel: `model.checkpoint()` between steps copies the socket's fields
// and the skb records of both queues (O(skbs queued); payload bytes are shared, never copied:
// they are views the model never writes), the model's and the peer's counters;
// `model.restore(cp)` puts the model back exactly, any number of times. The BPF side (maps,
// sk_storage, the VM) and the simulation's clock are checkpointed by their owners.
export { TcpSock, before, after } from './sock';
export type { QueuedSkb, TcpLogEntry, TcpSockOptions, SockSnapshot, SkbSummary } from './sock';
export { TcpModel, DEFAULT_ISN, DEFAULT_PEER_ISN } from './model';
export type { ModelEvent, DropReason, TcpCheckpoint } from './model';
export type { PassiveOpenOptions } from './open';
export type { SegmentOutcome } from './input';
export type { RecvResult, CloseOutcome, SetsockoptOutcome, GetsockoptResult } from './socket';
export { fmtOpt } from './socket';
export { sockoptDefaults, type SockoptFields, type SynHeaders } from './sockopt';
export { abiFromTable, AbiError } from './abi';
export type { TcpAbi } from './abi';
export * as tcpConstants from './constants';
