// `bpf-sockops disasm FILE.o`: the layout and instruction text of `llvm-objdump -d -r`, with the
// C source lines of the object's BTF line_info interleaved (like -S) and CO-RE relocations
// annotated. Disassembles the object's code sections as they are in the file (no linking), so
// addresses and labels match llvm-objdump's. Instruction text comes from the VM's formatInsn.
import { FileReadError, readFileBoundedAsync } from '../io/files';
import { formatInsn } from '../debugger/vm';
import {
  ByteView, CORE_KIND_OBJDUMP, CORE_KINDS, ObjectError, RELOC_NAMES, decodeSlots, parseBtf, parseBtfExt, parseElf,
  resolveCoreRelo, type BtfExt, type ElfFile, type ElfSection, type ParsedBtf,
} from '../debugger/object';
import { flag, oneOf, parseCommand } from './args';

export interface DisasmIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface DisasmOptions {
  source?: boolean; // interleave BTF line_info source lines (default true)
  relocs?: boolean; // relocation and CO-RE annotations (default true)
  alu32?: boolean; // instruction text of llvm-objdump --mcpu=v3 (w registers)
}

const USAGE = 'usage: bpf-sockops disasm FILE.o [--no-source] [--no-reloc] [--mcpu=v1|v2|v3|v4]';

const SPEC = { noSource: flag('--no-source'), noReloc: flag('--no-reloc'), mcpu: oneOf('--mcpu', ['v1', 'v2', 'v3', 'v4']) };

export async function disasmCommand(args: string[], io: DisasmIo): Promise<number> {
  const p = parseCommand('disasm', USAGE, args, SPEC, io, { missing: 'give the BPF object to disassemble' });
  if (typeof p === 'number') return p;
  const files = p.positional;
  const opts: DisasmOptions = {};
  if (p.opts.noSource) opts.source = false;
  if (p.opts.noReloc) opts.relocs = false;
  if (p.opts.mcpu) opts.alu32 = Number(p.opts.mcpu.slice(1)) >= 3;
  let status = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = (await readFileBoundedAsync(file, 'object')).bytes;
    } catch (e) {
      if (!(e instanceof FileReadError)) throw e;
      io.err(`bpf-sockops disasm: ${e.message}\n`);
      status = 1;
      continue;
    }
    try {
      io.out(disassemble(bytes, file, opts, (w) => io.err(`${file}: warning: ${w}\n`)));
    } catch (e) {
      if (!(e instanceof ObjectError)) throw e;
      io.err(`${e.message}\n`);
      status = 1;
    }
  }
  return status;
}

/** The whole listing for one object, as a string. Throws ObjectError on a malformed object. */
export function disassemble(bytes: Uint8Array, file: string, opts: DisasmOptions = {}, warn: (s: string) => void = () => {}): string {
  const elf = parseElf(new ByteView(bytes, file));
  let btf: ParsedBtf | null = null;
  let ext: BtfExt | null = null;
  const btfSec = elf.sections.find((s) => s.name === '.BTF');
  const extSec = elf.sections.find((s) => s.name === '.BTF.ext');
  try {
    if (btfSec) btf = parseBtf(btfSec.data, file);
    if (btf && extSec) ext = parseBtfExt(extSec.data, btf, file);
  } catch (e) {
    if (!(e instanceof ObjectError)) throw e;
    warn(`${e.where}: ${e.detail}; listing without source lines and CO-RE`);
    btf = null;
    ext = null;
  }
  const out: string[] = [`\n${file}:\tfile format elf64-bpf\n`];
  for (const sec of elf.sections) {
    if ((sec.flags & 0x4) === 0 || sec.type !== 1 || sec.size === 0) continue;
    out.push(`\nDisassembly of section ${sec.name}:\n`);
    section(out, elf, sec, btf, ext, opts);
  }
  return out.join('');
}

function section(out: string[], elf: ElfFile, sec: ElfSection, btf: ParsedBtf | null, ext: BtfExt | null, opts: DisasmOptions) {
  const insns = decodeSlots(sec.data);
  const hex16 = (n: number) => n.toString(16).padStart(16, '0');
  // Labels: function symbols (or the section symbol when there are none), by byte offset.
  const syms = elf.symbols.filter((s) => s.shndx === sec.index && (s.type === 2 || s.type === 0) && s.name !== '' && s.value < sec.size && s.value % 8 === 0);
  const byOff = new Map<number, string>();
  for (const s of syms.sort((a, b) => a.value - b.value || a.index - b.index)) if (!byOff.has(s.value)) byOff.set(s.value, s.name);
  if (!byOff.has(0)) byOff.set(0, sec.name);
  const starts = [...byOff.keys()].sort((a, b) => a - b);
  const funcOf = (byte: number) => {
    let lo = 0;
    for (const s of starts) if (s <= byte) lo = s;
    return lo;
  };
  // Jump-target labels the way llvm-objdump's symbolizer prints them: <func> or <func+0xOFF>.
  const labels = new Map<number, string>();
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i];
    const cls = x.code & 7;
    if ((cls === 5 || cls === 6) && (x.code & 0xf0) !== 0x80 && (x.code & 0xf0) !== 0x90) {
      const t = i + 1 + (x.code === 0x06 ? x.imm : x.off);
      if (t >= 0 && t <= insns.length) {
        const f = funcOf(t * 8);
        labels.set(t, t * 8 === f ? byOff.get(f)! : `${byOff.get(f)}+0x${(t * 8 - f).toString(16)}`);
      }
    }
    if (x.code === 0x18) i++;
  }
  const rels = new Map<number, string[]>();
  if (opts.relocs !== false) {
    for (const r of elf.rels.get(sec.index) ?? []) {
      const sym = elf.symbols[r.sym];
      const l = rels.get(r.offset) ?? [];
      l.push(`\t\t${hex16(r.offset)}:  ${RELOC_NAMES[r.type] ?? `R_BPF_${r.type}`}\t${sym.name}\n`);
      rels.set(r.offset, l);
    }
    for (const c of ext?.coreRelo.get(sec.name) ?? []) {
      const kind = CORE_KINDS[c.kind];
      let text: string;
      try {
        const res = resolveCoreRelo(btf!, c);
        text = res.kind.startsWith('field_') ? `${res.spec} (${c.accessStr})` : res.spec;
      } catch (e) {
        text = `<${(e as Error).message}>`;
      }
      const l = rels.get(c.insnOff) ?? [];
      l.push(`\t\t${hex16(c.insnOff)}:  CO-RE <${kind ? CORE_KIND_OBJDUMP[kind] : `kind ${c.kind}`}> [${c.typeId}] ${text}\n`);
      rels.set(c.insnOff, l);
    }
  }
  const lines = new Map<number, { file: string; line: number; text: string }>();
  if (opts.source !== false) for (const li of ext?.lineInfo.get(sec.name) ?? []) lines.set(li.insnOff, li);

  let last = '';
  for (let i = 0; i < insns.length; i++) {
    const off = i * 8;
    const label = byOff.get(off);
    if (label !== undefined) {
      out.push(`\n${hex16(off)} <${label}>:\n`);
      last = '';
    }
    const li = lines.get(off);
    if (li && `${li.file}:${li.line}` !== last) {
      out.push(`; ${li.text}\n`);
      last = `${li.file}:${li.line}`;
    }
    const wide = insns[i].code === 0x18 && i + 1 < insns.length;
    const raw = [...sec.data.subarray(off, off + (wide ? 16 : 8))].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    out.push(`${String(i).padStart(8)}:\t${raw}\t${formatInsn(insns, i, { labels, alu32: opts.alu32 })}\n`);
    for (const r of rels.get(off) ?? []) out.push(r);
    if (wide) i++;
  }
}
