// Assembler for the bpf_conformance dialect (see /work/shared/conformance/README.md).
import type { Insn } from './api';
export class AsmError extends Error {
  constructor(readonly line: number, readonly detail: string) { super(`line ${line}: ${detail}`); this.name = 'AsmError'; }
}
export function assemble(_text: string): Insn[] { throw new AsmError(0, 'not implemented yet'); }
