// Public surface of the eBPF VM. Everything other folders use is exported here.
export type {
  Insn, FaultKind, Fault, RegionSpec, Region, MemoryApi, HelperContext, HelperFn, CallTable,
  ExecutableSpec, Frame, RunOptions, RunStatus, VmApi, GuestCall, HelperCoroutine,
} from './api';
export { callbackValue, callbackPc, CALLBACK_HI } from './ops/call';
export {
  BPF_CLASS, OPS, opInfo, type OpInfo, type OpKind,
} from './opcodes';
export {
  validate, assertValid, ValidationError, decodeBytes, encodeInsns, type ValidateOptions,
} from './decode';
export { Memory, GuestFaultError } from './memory';
export { Vm, createVm, DEFAULT_BUDGET, STACK_SIZE, MAX_FRAMES, type VmOptions, type Tier } from './interp';
export { formatInsn, type FormatOptions } from './disasm';
export { assemble, AsmError } from './asm';
export {
  parseConformanceData, runConformanceProgram, conformancePlugin,
  type ConformanceCase, type ConformanceOutcome,
} from './conformance';
