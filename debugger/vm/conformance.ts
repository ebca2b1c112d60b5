// bpf_conformance .data files: parsing, running through the VM, and the upstream plugin protocol.
import type { Insn } from './api';
export interface ConformanceCase { file: string; insns: Insn[] | null; asmError?: string; mem: Uint8Array; result?: bigint; error?: string }
export type ConformanceOutcome = { ok: true; r0: bigint } | { ok: false; stage: 'validate' | 'run'; message: string };
export function parseConformanceData(_text: string, _file: string): ConformanceCase { throw new Error('not implemented yet'); }
export function runConformanceProgram(_insns: Insn[], _mem: Uint8Array, _opts?: { tier?: 'interp' | 'fast' }): ConformanceOutcome { throw new Error('not implemented yet'); }
export function conformancePlugin(_programHex: string, _memHex?: string): { stdout: string; stderr: string; code: number } { throw new Error('not implemented yet'); }
