// loadObject(): ELF -> programs with .text subprograms appended, relocations applied (maps,
// global data, bpf-to-bpf calls, kfunc externs), CO-RE resolved against the object's own BTF,
// line/func info mapped to program slots. The call/reloc arithmetic follows what libbpf does in
// tools/lib/bpf/libbpf.c (bpf_program__record_reloc, bpf_object__reloc_code): for a relocated
// call the target slot in the symbol's section is sym.value / 8 + imm + 1; for an unrelocated
// pseudo call it is the call's own slot + imm + 1 in the same section.
import { collectStructOps, isStructOpsSection } from './structops';
import type { Insn } from '../vm/api';
import { parseBtf, type ParsedBtf } from './btf';
import { parseBtfExt, type BtfExt } from './btfext';
import { ByteView, cstring, hex } from './bytes';
import { patchCoreInsn, resolveCoreRelo, type CoreResult } from './core';
import {
  parseElf, R_BPF_64_32, R_BPF_64_64, R_BPF_NONE, RELOC_NAMES, SHF_EXECINSTR, SHN_UNDEF, SHT_PROGBITS,
  STT_FUNC, STT_SECTION, type ElfFile, type ElfRel, type ElfSection, type ElfSymbol,
} from './elf';
import { BTF_MAX_SIZE, kernelStructProblem } from './limits';
import { collectMaps, type MapSlot } from './maps';
import {
  ObjectError, type BpfObject, type BpfProgram, type CoreRelo, type FuncInfo, type LineInfo, type ResolvedReloc,
} from './types';

export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;
const CODE_LD_IMM64 = 0x18;
const CODE_CALL = 0x85;

/** A function symbol and its slots inside an executable section. */
export interface ElfFunc {
  name: string;
  sec: ElfSection;
  start: number; // first slot index in the section
  end: number; // exclusive
  sym: ElfSymbol;
}

/** Decodes raw 8-byte slots (little-endian: code, dst:4|src:4, off s16, imm s32). */
export function decodeSlots(data: Uint8Array): Insn[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = Math.floor(data.length / 8);
  const out: Insn[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 8;
    const regs = data[o + 1];
    out[i] = { code: data[o], dst: regs & 0xf, src: regs >> 4, off: dv.getInt16(o + 2, true), imm: dv.getInt32(o + 4, true) };
  }
  return out;
}

/** Function symbols of every executable section, sorted by position. */
export function collectFuncs(elf: ElfFile): Map<number, ElfFunc[]> {
  const fail = (w: string, d: string): never => elf.view.fail(w, d);
  const out = new Map<number, ElfFunc[]>();
  for (const sec of elf.sections) {
    if (sec.type !== SHT_PROGBITS || (sec.flags & SHF_EXECINSTR) === 0) continue;
    if (sec.size % 8 !== 0) fail(`section ${sec.name}`, `code size ${sec.size} is not a multiple of 8 (one BPF instruction)`);
    const nslots = sec.size / 8;
    const syms = elf.symbols.filter((s) => s.shndx === sec.index && s.type === STT_FUNC).sort((a, b) => a.value - b.value);
    const funcs: ElfFunc[] = [];
    for (let i = 0; i < syms.length; i++) {
      const s = syms[i];
      const w = `section ${sec.name}, function ${s.name}`;
      if (s.value % 8 !== 0) fail(w, `starts at byte 0x${hex(s.value)}, not on an instruction boundary`);
      const start = s.value / 8;
      let end = s.size > 0 ? start + Math.ceil(s.size / 8) : (i + 1 < syms.length ? syms[i + 1].value / 8 : nslots);
      if (start >= nslots || end > nslots) fail(w, `bytes 0x${hex(s.value)}..0x${hex(end * 8)} lie outside the ${sec.size}-byte section`);
      if (end <= start) end = start + 1;
      if (funcs.length && funcs[funcs.length - 1].end > start) fail(w, `overlaps function ${funcs[funcs.length - 1].name}`);
      funcs.push({ name: s.name, sec, start, end, sym: s });
    }
    out.set(sec.index, funcs);
  }
  return out;
}

export function loadObject(bytes: Uint8Array, file: string): BpfObject {
  try {
    return load(bytes, file);
  } catch (e) {
    if (e instanceof ObjectError) throw e;
    // Last line of defence: a bug of ours on odd input still surfaces as an ObjectError.
    throw new ObjectError(file, 'loader', `internal error while reading the object (${e instanceof Error ? e.message : String(e)}); please report it with the file`);
  }
}

function load(bytes: Uint8Array, file: string): BpfObject {
  const view = new ByteView(bytes, file);
  const elf = parseElf(view);
  const warnings: string[] = [...elf.warnings];
  const secByName = new Map<string, ElfSection>();
  for (const s of elf.sections) if (!secByName.has(s.name)) secByName.set(s.name, s);

  let btf: ParsedBtf | null = null;
  let ext: BtfExt | null = null;
  const btfSec = secByName.get('.BTF');
  if (btfSec && btfSec.data.length > BTF_MAX_SIZE) throw new ObjectError(file, 'section .BTF', `${btfSec.data.length} bytes, over BTF_MAX_SIZE (16 MiB): the kernel refuses it with -E2BIG (kernel/bpf/btf.c)`);
  if (btfSec) btf = parseBtf(btfSec.data, file);
  const kstruct = btf && kernelStructProblem(btf);
  if (kstruct) throw new ObjectError(file, `section .BTF, ${kstruct.name}`, kstruct.detail);
  else warnings.push('no .BTF section: no map types, CO-RE or source lines (compile with -g)');
  const extSec = secByName.get('.BTF.ext');
  if (extSec && btf) ext = parseBtfExt(extSec.data, btf, file);
  else if (btf) warnings.push('no .BTF.ext section: no line info, func info or CO-RE relocations');

  const licSec = secByName.get('license');
  let license = '';
  if (licSec) {
    const s = cstring(licSec.data, 0);
    license = s ?? new TextDecoder().decode(licSec.data);
  } else warnings.push('no license section: GPL-only helpers would be refused by the kernel');

  if (btf) fixupDatasecSizes(btf, elf);
  const maps = collectMaps(elf, btf, file, warnings);
  const funcs = collectFuncs(elf);
  checkRelocTargets(elf, funcs, warnings);

  const kfuncs: string[] = [];
  const programs: BpfProgram[] = [];
  const coreCache = new Map<number, CoreResult | Error>();
  for (const [, list] of funcs) {
    for (const fn of list) {
      if (fn.sec.name === '.text') continue;
      programs.push(link(elf, fn, funcs, maps, kfuncs, btf, ext, coreCache, warnings));
    }
  }
  if (programs.length === 0) warnings.push('no programs: no function in a SEC("...") section other than .text');

  // Dedupe warnings from shared subprograms.
  const obj: BpfObject = { file, license, btf, programs, maps: maps.map((m) => m.def), kfuncs, warnings: [...new Set(warnings)] };
  const structOps = collectStructOps(elf, btf, file);
  if (structOps.length) obj.structOps = structOps;
  return obj;
}

/** clang leaves DATASEC sizes (and some variable offsets) 0 in objects; like libbpf's
 *  btf_fixup_datasec, take the ELF section size and each variable's symbol value. */
function fixupDatasecSizes(btf: ParsedBtf, elf: ElfFile) {
  for (const t of btf.types) {
    if (t.kind !== 'datasec') continue;
    const sec = elf.sections.find((s) => s.name === t.name);
    if (!sec) continue;
    if (!t.size) t.size = sec.size;
    for (const vi of t.secinfo ?? []) {
      const v = btf.types[vi.type];
      if (v.kind !== 'var') continue;
      const sym = elf.symbols.find((s) => s.shndx === sec.index && s.name === v.name && s.type !== STT_SECTION);
      if (sym) vi.offset = sym.value;
    }
  }
}

/** Relocation offsets must land on an instruction slot of their code section. */
function checkRelocTargets(elf: ElfFile, funcs: Map<number, ElfFunc[]>, warnings: string[]) {
  for (const [shndx, rels] of elf.rels) {
    const sec = elf.sections[shndx];
    const code = funcs.has(shndx);
    for (let i = 0; i < rels.length; i++) {
      const r = rels[i];
      const w = `relocation #${i} for section ${sec.name}`;
      if (code) {
        if (r.offset % 8 !== 0 || r.offset + 8 > sec.size) elf.view.fail(w, `offset 0x${hex(r.offset)} is not an instruction of the ${sec.size}-byte section`);
      } else if (sec.name === '.BTF' || sec.name === '.BTF.ext' || sec.name.startsWith('.debug_') || sec.name === '.maps' || isStructOpsSection(sec.name)) {
        // Data relocations for a linker (.BTF/.BTF.ext ABS32/ABS64 on DATASEC/func addresses that clang
        // already wrote as section offsets; DWARF; .maps ABS64 for map-in-map `values`): not needed here.
      } else if (r.type !== R_BPF_NONE) {
        warnings.push(`ignored ${RELOC_NAMES[r.type] ?? 'relocation type ' + r.type} in section ${sec.name} at 0x${hex(r.offset)} (function pointers in data are not supported)`);
      }
    }
  }
}

interface Placed { fn: ElfFunc; start: number }

function link(
  elf: ElfFile, entry: ElfFunc, funcs: Map<number, ElfFunc[]>, maps: MapSlot[], kfuncs: string[],
  btf: ParsedBtf | null, ext: BtfExt | null, coreCache: Map<number, CoreResult | Error>, warnings: string[],
): BpfProgram {
  const file = elf.view.file;
  const insns: Insn[] = [];
  const placed: Placed[] = [];
  const relocs: ResolvedReloc[] = [];
  const relIndex = new Map<number, Map<number, ElfRel>>();
  const relsOf = (shndx: number) => {
    let m = relIndex.get(shndx);
    if (!m) {
      m = new Map();
      for (const r of elf.rels.get(shndx) ?? []) if (r.type !== R_BPF_NONE) m.set(r.offset, r);
      relIndex.set(shndx, m);
    }
    return m;
  };
  const place = (fn: ElfFunc): Placed => {
    const have = placed.find((p) => p.fn === fn);
    if (have) return have;
    if (insns.length + (fn.end - fn.start) > 1_000_000) throw new ObjectError(file, `program ${entry.name}`, 'more than 1,000,000 instructions after appending subprograms');
    const p = { fn, start: insns.length };
    placed.push(p);
    for (const x of decodeSlots(fn.sec.data.subarray(fn.start * 8, fn.end * 8))) insns.push(x);
    return p;
  };
  const funcAt = (sec: ElfSection, slot: number, where: string): ElfFunc => {
    const list = funcs.get(sec.index);
    if (!list) throw new ObjectError(file, where, `call target is in section ${sec.name}, which holds no code`);
    const f = list.find((x) => slot >= x.start && slot < x.end);
    if (!f) throw new ObjectError(file, where, `call target slot ${slot} of section ${sec.name} is inside no function`);
    return f;
  };
  const where = (p: Placed, i: number) => `program ${entry.name}, function ${p.fn.name} (section ${p.fn.sec.name}, insn ${p.fn.start + i}, offset 0x${hex((p.fn.start + i) * 8)})`;

  place(entry);
  for (let k = 0; k < placed.length; k++) {
    const p = placed[k];
    const rels = relsOf(p.fn.sec.index);
    const n = p.fn.end - p.fn.start;
    for (let i = 0; i < n; i++) {
      const pc = p.start + i;
      const insn = insns[pc];
      const w = () => where(p, i);
      const rel = rels.get((p.fn.start + i) * 8);
      const isLd = insn.code === CODE_LD_IMM64;
      if (isLd && i + 1 >= n) throw new ObjectError(file, w(), 'ld_imm64 is missing its second slot');
      if (rel) {
        const sym = elf.symbols[rel.sym];
        if (rel.type === R_BPF_64_64) {
          if (!isLd) throw new ObjectError(file, w(), `R_BPF_64_64 against ${sym.name} on opcode 0x${hex(insn.code)}, not ld_imm64`);
          relocLdImm64(pc, sym, w);
        } else if (rel.type === R_BPF_64_32) {
          if (insn.code !== CODE_CALL) throw new ObjectError(file, w(), `R_BPF_64_32 against ${sym.name} on opcode 0x${hex(insn.code)}, not a call`);
          if (sym.shndx === SHN_UNDEF) {
            let idx = kfuncs.indexOf(sym.name);
            if (idx < 0) idx = kfuncs.push(sym.name) - 1;
            insn.src = BPF_PSEUDO_KFUNC_CALL;
            insn.imm = idx;
            insn.off = 0;
            relocs.push({ pc, kind: 'kfunc', symbol: sym.name, kfuncIndex: idx });
          } else {
            const sec = elf.sections[sym.shndx];
            if (!sec || (sec.flags & SHF_EXECINSTR) === 0) throw new ObjectError(file, w(), `call to ${sym.name}, which is not in a code section`);
            if (sym.value % 8 !== 0) throw new ObjectError(file, w(), `call to ${sym.name} at byte 0x${hex(sym.value)}, not an instruction boundary`);
            callTo(pc, sec, sym.value / 8 + insn.imm + 1, w);
          }
        } else {
          throw new ObjectError(file, w(), `relocation ${RELOC_NAMES[rel.type] ?? 'type ' + rel.type} against ${sym.name} is not valid in code`);
        }
      } else if (insn.code === CODE_CALL && insn.src === BPF_PSEUDO_CALL) {
        callTo(pc, p.fn.sec, p.fn.start + i + insn.imm + 1, w);
      } else if (isLd && insn.src !== 0) {
        warnings.push(`${w()}: ld_imm64 with src ${insn.src} and no relocation is left as is`);
      }
      if (isLd) i++;
    }
  }

  function relocLdImm64(pc: number, sym: ElfSymbol, w: () => string) {
    const insn = insns[pc];
    const next = insns[pc + 1];
    if (sym.shndx === SHN_UNDEF) {
      // An extern variable (__ksym/__kconfig): its address is unknown here; loads 0.
      relocs.push({ pc, kind: 'ksym', symbol: sym.name });
      insn.src = BPF_PSEUDO_BTF_ID;
      insn.imm = 0;
      next.imm = 0;
      warnings.push(`extern variable ${sym.name} is not supported: its ld_imm64 loads 0`);
      return;
    }
    const sec = elf.sections[sym.shndx];
    if (!sec) throw new ObjectError(file, w(), `symbol ${sym.name} is in section #${sym.shndx}, which does not exist`);
    if ((sec.flags & SHF_EXECINSTR) !== 0) {
      // Address of a function (a callback for bpf_loop & co): BPF_PSEUDO_FUNC, imm relative like a call.
      const byteOff = sym.value + insn.imm;
      if (byteOff % 8 !== 0) throw new ObjectError(file, w(), `function address ${sym.name}+0x${hex(insn.imm)} is not an instruction boundary`);
      const f = funcAt(sec, byteOff / 8, w());
      const q = place(f);
      const target = q.start + (byteOff / 8 - f.start);
      insn.src = BPF_PSEUDO_FUNC;
      insn.imm = target - (pc + 1);
      next.imm = 0;
      relocs.push({ pc, kind: 'call', symbol: f.name, targetPc: target });
      return;
    }
    const isSecSym = sym.type === STT_SECTION;
    const mi = maps.findIndex((m) => m.shndx === sym.shndx && (m.global || m.offset === sym.value));
    if (mi < 0) {
      throw new ObjectError(file, w(), `ld_imm64 refers to ${sym.name} in section ${sec.name}, which is neither a map definition nor global data`);
    }
    const m = maps[mi];
    if (m.global) {
      const offset = sym.value + insn.imm;
      if (offset < 0 || offset > m.size) throw new ObjectError(file, w(), `global ${sym.name}+${insn.imm} is outside section ${sec.name} (${m.size} bytes)`);
      insn.src = BPF_PSEUDO_MAP_VALUE;
      insn.imm = mi;
      next.imm = offset;
      relocs.push({ pc, kind: 'global', symbol: isSecSym ? `${sec.name}+0x${hex(offset)}` : sym.name, mapIndex: mi, offset });
    } else {
      insn.src = BPF_PSEUDO_MAP_FD;
      insn.imm = mi;
      next.imm = 0;
      relocs.push({ pc, kind: 'map', symbol: m.def.name, mapIndex: mi });
    }
  }

  function callTo(pc: number, sec: ElfSection, slot: number, w: () => string) {
    const f = funcAt(sec, slot, w());
    const q = place(f);
    const target = q.start + (slot - f.start);
    const insn = insns[pc];
    insn.src = BPF_PSEUDO_CALL;
    insn.imm = target - (pc + 1);
    relocs.push({ pc, kind: 'call', symbol: f.name, targetPc: target });
  }

  // Function table, line info, CO-RE: per placed function, from the records of its section.
  const funcInfos: FuncInfo[] = [];
  const lineInfo: LineInfo[] = [];
  const coreRelos: CoreRelo[] = [];
  for (const p of placed) {
    const lo = p.fn.start * 8, hi = p.fn.end * 8;
    const toPc = (off: number) => p.start + (off - lo) / 8;
    const inFn = (off: number) => off >= lo && off < hi && off % 8 === 0;
    const fi = ext?.funcInfo.get(p.fn.sec.name)?.find((r) => r.insnOff === lo);
    funcInfos.push({ name: p.fn.name, startPc: p.start, endPc: p.start + (p.fn.end - p.fn.start), btfTypeId: fi?.typeId ?? 0, section: p.fn.sec.name, secInsn: p.fn.start });
    for (const r of ext?.lineInfo.get(p.fn.sec.name) ?? []) {
      if (inFn(r.insnOff)) lineInfo.push({ pc: toPc(r.insnOff), file: r.file, line: r.line, col: r.col, text: r.text });
    }
    for (const r of ext?.coreRelo.get(p.fn.sec.name) ?? []) {
      if (!inFn(r.insnOff)) continue;
      const pc = toPc(r.insnOff);
      const w = `program ${entry.name}, CO-RE relocation #${r.index} at insn ${r.insnOff / 8} of section ${p.fn.sec.name} (function ${p.fn.name})`;
      let res = coreCache.get(r.index);
      if (!res) {
        try {
          res = resolveCoreRelo(btf!, r);
        } catch (e) {
          res = e instanceof Error ? e : new Error(String(e));
        }
        coreCache.set(r.index, res);
      }
      if (res instanceof Error) throw new ObjectError(file, w, res.message);
      if (insns[pc].code === CODE_LD_IMM64 && pc + 1 >= p.start + (p.fn.end - p.fn.start)) throw new ObjectError(file, w, 'ld_imm64 is missing its second slot');
      const err = patchCoreInsn(insns, pc, res);
      if (err) throw new ObjectError(file, w, `${res.spec}: ${err}`);
      coreRelos.push({ pc, kind: res.kind, typeId: r.typeId, accessStr: r.accessStr, spec: res.spec, value: Number(BigInt.asIntN(53, res.value)) });
    }
  }
  lineInfo.sort((a, b) => a.pc - b.pc);
  coreRelos.sort((a, b) => a.pc - b.pc);
  relocs.sort((a, b) => a.pc - b.pc);
  return { name: entry.name, section: entry.sec.name, insns, funcs: funcInfos, lineInfo, coreRelos, relocs };
}
