// bpf_conformance .data files: parsing, running through the VM, and the upstream runner's
// plugin protocol (program hex on stdin, memory hex as argv[1], r0 in hex on stdout).
import type { CallTable, Insn } from './api';
import { assemble, AsmError } from './asm';
import { decodeBytes, encodeInsns, validate, ValidationError } from './decode';
import { Vm, type Tier } from './interp';

export interface ConformanceCase {
  file: string;
  /** Assembled (or raw) program; null when the file could not be turned into one (see problem). */
  insns: Insn[] | null;
  /** Why the file gave no program: parse or assembly error, naming the line. */
  problem?: string;
  /** Where the problem was found: the .data file structure, or the assembler. */
  problemStage?: 'parse' | 'assemble';
  /** Both -- asm and -- raw present and they disagree. */
  rawMismatch?: string;
  mem: Uint8Array;
  result?: bigint;
  /** -- error section present (negative test); '' when it names no message. */
  error?: string;
}

export type ConformanceOutcome =
  | { ok: true; r0: bigint; insns: number }
  | { ok: false; stage: 'validate' | 'run'; message: string };

function hexBytes(s: string, where: string): Uint8Array {
  const toks = s.split(/\s+/).filter(Boolean);
  const out = new Uint8Array(toks.length);
  toks.forEach((t, i) => {
    if (!/^(0x)?[0-9a-fA-F]{1,2}$/.test(t)) throw new Error(`${where}: '${t}' is not a hex byte`);
    out[i] = parseInt(t.replace(/^0x/, ''), 16);
  });
  return out;
}

/** Parse one .data file. Never throws: problems are reported in the result. */
export function parseConformanceData(text: string, file: string): ConformanceCase {
  const c: ConformanceCase = { file, insns: null, mem: new Uint8Array(0), problemStage: 'parse' };
  type Sec = 'ignore' | 'asm' | 'raw' | 'mem' | 'result' | 'error';
  let sec: Sec = 'ignore';
  const asm: string[] = [];
  const raw: { line: number; text: string }[] = [];
  let mem = '';
  let result: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const dm = /^--\s*(.*?)\s*$/.exec(line);
    if (dm) {
      const d = dm[1];
      if (d === 'asm') sec = 'asm';
      else if (d === 'raw') sec = 'raw';
      else if (d === 'mem') sec = 'mem';
      else if (d === 'result') sec = 'result';
      else if (d === 'error') { sec = 'error'; c.error = ''; }
      else if (d === 'c' || d === 'no register offset') sec = 'ignore';
      else { c.problem = `${file}:${i + 1}: unknown directive '${line.trim()}' (expected -- asm, -- raw, -- mem, -- result, -- error)`; return c; }
      if (sec === 'asm') asm.length = 0, asm.push(...new Array(i + 1).fill('')); // keep line numbers
      continue;
    }
    switch (sec) {
      case 'asm': asm[i] = line; break;
      case 'raw': if (line.replace(/#.*/, '').trim()) raw.push({ line: i + 1, text: line.replace(/#.*/, '').trim() }); break;
      case 'mem': mem += ' ' + line.replace(/#.*/, ''); break;
      case 'result': if (line.trim()) result = line.trim(); break;
      case 'error': if (line.trim()) c.error = line.trim(); break;
      default: break;
    }
  }
  try { c.mem = hexBytes(mem, `${file}: -- mem`); } catch (e) { c.problem = (e as Error).message; return c; }
  if (result !== undefined) {
    if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(result)) { c.problem = `${file}: -- result '${result}' is not a number`; return c; }
    c.result = BigInt.asUintN(64, BigInt(result));
  }
  if (c.result === undefined && c.error === undefined) { c.problem = `${file}: no -- result and no -- error section`; return c; }
  let rawInsns: Insn[] | null = null;
  if (raw.length) {
    try { rawInsns = parseRaw(raw, file); } catch (e) { c.problem = (e as Error).message; return c; }
  }
  const asmText = asm.join('\n');
  let asmInsns: Insn[] | null = null;
  if (asmText.trim()) {
    try { asmInsns = assemble(asmText, file); } catch (e) {
      if (e instanceof AsmError) { c.problem = e.message; c.problemStage = 'assemble'; return c; }
      throw e;
    }
  }
  if (asmInsns && rawInsns) {
    const a = Buffer.from(encodeInsns(asmInsns)).toString('hex'), b = Buffer.from(encodeInsns(rawInsns)).toString('hex');
    if (a !== b) c.rawMismatch = `assembled ${a} but -- raw says ${b}`;
  }
  c.insns = rawInsns ?? asmInsns;
  c.problemStage = 'parse';
  if (!c.insns || c.insns.length === 0) { c.problem = `${file}: no instructions`; c.insns = null; return c; }
  delete c.problemStage;
  return c;
}

function parseRaw(raw: { line: number; text: string }[], file: string): Insn[] {
  const bytes: number[] = [];
  for (const r of raw) {
    const toks = r.text.split(/\s+/);
    if (toks.length === 1 && /^0x[0-9a-fA-F]{1,16}$/.test(toks[0])) {
      // one 64-bit word, little-endian in memory
      let v = BigInt(toks[0]);
      for (let k = 0; k < 8; k++) { bytes.push(Number(v & 0xffn)); v >>= 8n; }
      continue;
    }
    for (const t of toks) {
      if (!/^[0-9a-fA-F]{2}$/.test(t)) throw new Error(`${file}:${r.line}: -- raw: '${t}' is neither a hex byte nor a 0x 64-bit word`);
      bytes.push(parseInt(t, 16));
    }
  }
  if (bytes.length % 8) throw new Error(`${file}: -- raw has ${bytes.length} bytes, not a multiple of 8`);
  return decodeBytes(Uint8Array.from(bytes), `${file} -- raw`);
}

/** The one helper the conformance programs may call: #5, which returns its argument (the uBPF
 *  test helper; the upstream "unwind" flavour stops the program when it returns 0). */
export const conformanceCalls: CallTable = {
  helper: (id) => (id === 5 ? (_ctx, r1) => r1 : undefined),
  kfunc: () => undefined,
  helperName: (id) => (id === 5 ? 'conformance test helper' : 'not provided by the conformance runner'),
};

/** Validate and run a program as the conformance suite does: r1 = the memory (or 0), r2 = its length. */
export function runConformanceProgram(insns: Insn[], mem: Uint8Array, opts: { tier?: Tier } = {}): ConformanceOutcome {
  const errs = validate(insns, { entryRegs: [1, 2, 10] });
  if (errs.length) return { ok: false, stage: 'validate', message: errs.map((e) => e.message).join('; ') };
  let vm: Vm;
  try {
    vm = new Vm({ insns }, conformanceCalls, { tier: opts.tier ?? 'interp', validate: { entryRegs: [1, 2, 10] } });
  } catch (e) {
    if (e instanceof ValidationError) return { ok: false, stage: 'validate', message: e.message };
    throw e;
  }
  let r1 = 0n;
  if (mem.length) r1 = vm.memory.map({ name: 'mem', kind: 'other', bytes: mem.slice(), writable: true });
  vm.start(r1, {});
  vm.setReg(2, BigInt(mem.length));
  const st = vm.resume({});
  if (st.status === 'exit') return { ok: true, r0: st.r0, insns: st.insns };
  if (st.status === 'fault') return { ok: false, stage: 'run', message: `${st.fault.kind} at insn ${st.fault.pc}: ${st.fault.message}` };
  return { ok: false, stage: 'run', message: `paused at insn ${st.pc}` };
}

/** Core of `bpf-sockops conformance-plugin`: the upstream bpf_conformance plugin protocol. */
export function conformancePlugin(programHex: string, memHex = '', opts: { tier?: Tier } = {}): { stdout: string; stderr: string; code: number } {
  const clean = programHex.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) return { stdout: '', stderr: 'program: expected hex bytes on stdin\n', code: 1 };
  const memClean = memHex.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(memClean)) return { stdout: '', stderr: 'memory (argv[1]): expected hex bytes\n', code: 1 };
  let insns: Insn[];
  try { insns = decodeBytes(Buffer.from(clean, 'hex')); } catch (e) { return { stdout: '', stderr: (e as Error).message + '\n', code: 1 }; }
  const out = runConformanceProgram(insns, new Uint8Array(Buffer.from(memClean, 'hex')), opts);
  if (out.ok) return { stdout: out.r0.toString(16) + '\n', stderr: '', code: 0 };
  return { stdout: '', stderr: out.message + '\n', code: 1 };
}
