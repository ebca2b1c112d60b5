// The TCP receive model of the simulated kernel: one passively opened socket (TcpSock, the
// SockModel of ../types.ts) and the receive path that calls the BPF side at the kernel's hook
// points (TcpModel).
export { TcpSock, before, after } from './sock';
export type { QueuedSkb, TcpLogEntry, TcpSockOptions, SockSnapshot, SkbSummary } from './sock';
export { TcpModel, DEFAULT_ISN, DEFAULT_PEER_ISN } from './stack';
export type { ModelEvent, PassiveOpenOptions, RecvResult } from './stack';
export { abiFromTable, AbiError } from './abi';
export type { TcpAbi } from './abi';
export * as tcpConstants from './constants';
