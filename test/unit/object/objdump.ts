// Reads the committed `llvm-objdump-19 -d -S -r` dumps of the fixtures: per section, the
// function labels, each instruction (slot, raw bytes, text), the source lines printed before it
// and the relocation annotations after it.
import { readFileSync } from 'node:fs';

export interface DumpInsn {
  slot: number;
  bytes: number[];
  text: string;
  source: string[]; // '; ' lines printed just before this instruction
  relocs: string[]; // annotation lines after it, e.g. 'R_BPF_64_64\tmax_frame' or 'CO-RE <byte_off> [24] ...'
}
export interface DumpSection {
  name: string;
  funcs: { name: string; slot: number }[];
  insns: Map<number, DumpInsn>;
}

export function readDump(path: string): Map<string, DumpSection> {
  const out = new Map<string, DumpSection>();
  let sec: DumpSection | null = null;
  let pending: string[] = [];
  let last: DumpInsn | null = null;
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    let m = /^Disassembly of section (.*):$/.exec(l);
    if (m) {
      sec = { name: m[1], funcs: [], insns: new Map() };
      out.set(m[1], sec);
      pending = [];
      last = null;
      continue;
    }
    if (!sec) continue;
    m = /^([0-9a-f]{16}) <(.*)>:$/.exec(l);
    if (m) {
      sec.funcs.push({ name: m[2], slot: parseInt(m[1], 16) / 8 });
      continue;
    }
    if (l.startsWith('; ')) {
      pending.push(l.slice(2));
      continue;
    }
    m = /^\t\t[0-9a-f]{16}:  (.*)$/.exec(l);
    if (m && last) {
      last.relocs.push(m[1]);
      continue;
    }
    m = /^\s+(\d+):\t((?:[0-9a-f]{2} ?)+)\t(.*)$/.exec(l);
    if (m) {
      last = { slot: Number(m[1]), bytes: m[2].trim().split(' ').map((h) => parseInt(h, 16)), text: m[3], source: pending, relocs: [] };
      sec.insns.set(last.slot, last);
      pending = [];
    }
  }
  return out;
}

/** The source lines objdump most recently printed at or before `slot`, not before `from`. */
export function sourceAt(sec: DumpSection, slot: number, from: number): string[] {
  for (let k = slot; k >= from; k--) {
    const i = sec.insns.get(k);
    if (i && i.source.length) return i.source;
  }
  return [];
}
