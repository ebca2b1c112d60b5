// Public surface of the BPF side of the simulated kernel (contexts, helpers, kfuncs, maps,
// kernel objects). The TCP model calls BpfKernel through the BpfHooks seam (../types.ts).
export {
  BpfKernel, IMPLEMENTED_HELPERS, IMPLEMENTED_KFUNCS,
  type BpfKernelOptions, type RunInfo, type InsnHook, type SetsockoptOutcome, type MapView, type PrintkLine, type KernelCheckpoint, type TraceLevel,
} from './kernel';
export { LoadError } from './errors';
export { formatPrintk, type PrintkResult, type PrintkMemory } from './printk';
export { bpfSetsockopt, bpfGetsockopt } from './sockopt';
export { scanProgram, sockoptAccessError } from './prepare';
export { Prng, VirtualClock } from './prng';
