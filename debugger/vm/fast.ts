// Fast tier placeholder: until block compilation lands, runs the interpreter loop.
import type { Vm } from './interp';
import { interpreterLoop } from './loop';
export interface FastCode { run(vm: Vm, limit: number): number }
export function compileFast(_vm: Vm): FastCode {
  return { run: (vm, limit) => interpreterLoop()(vm, vm._pc, vm.count, limit) };
}
