// .BTF.ext: func_info, line_info and CO-RE relocation records, grouped by ELF section name.
// Layout per include/uapi/linux/btf.h and tools/lib/bpf/libbpf_internal.h (struct btf_ext_header,
// bpf_func_info, bpf_line_info, bpf_core_relo). insn_off values in an object file are byte offsets.
import { ByteView, hex } from './bytes';
import type { ParsedBtf } from './btf';

export interface ExtFuncInfo { insnOff: number; typeId: number }
export interface ExtLineInfo { insnOff: number; file: string; text: string; line: number; col: number }
export interface ExtCoreRelo { insnOff: number; typeId: number; accessStr: string; kind: number; index: number }

export interface BtfExt {
  funcInfo: Map<string, ExtFuncInfo[]>;
  lineInfo: Map<string, ExtLineInfo[]>;
  coreRelo: Map<string, ExtCoreRelo[]>;
}

// BPF_LINE_INFO_LINE_NUM / _LINE_COL: line in the upper 22 bits, column in the lower 10.
export const lineOf = (lineCol: number) => lineCol >>> 10;
export const colOf = (lineCol: number) => lineCol & 0x3ff;

export function parseBtfExt(data: Uint8Array, btf: ParsedBtf, file: string): BtfExt {
  const v: ByteView = new ByteView(data, file);
  const W = 'section .BTF.ext';
  const out: BtfExt = { funcInfo: new Map(), lineInfo: new Map(), coreRelo: new Map() };
  if (data.length < 24) v.fail(W, `${data.length} bytes is shorter than the .BTF.ext header (24)`);
  const magic = v.u16(0, W);
  if (magic !== 0xeb9f) v.fail(`${W}, offset 0x0`, `bad magic 0x${hex(magic)} (expected 0xeb9f)`);
  if (v.u8(2, W) !== 1) v.fail(`${W}, offset 0x2`, `version ${v.u8(2, W)} is not 1`);
  const hdrLen = v.u32(4, W);
  if (hdrLen < 24 || hdrLen > data.length) v.fail(`${W}, offset 0x4`, `header length ${hdrLen} is invalid`);
  const str = (off: number, at: string, what: string): string => {
    const s = btf.str(off);
    if (s === undefined) v.fail(at, `${what} string offset 0x${hex(off)} is outside the .BTF string section`);
    return s;
  };

  // Walks one info area: u32 record size, then per section {sec_name_off, num_info, records}.
  const area = (name: string, off: number, len: number, minRec: number, rec: (p: number, sec: string, at: string, i: number) => void) => {
    if (len === 0) return;
    const base = hdrLen + off;
    v.check(base, len, `${W} ${name} (offset 0x${hex(off)}, length ${len})`);
    const end = base + len;
    if (len < 4) v.fail(`${W} ${name}`, 'too short for the record size field');
    const recSize = v.u32(base, `${W} ${name}`);
    if (recSize < minRec || recSize > 1024 || recSize % 4 !== 0) v.fail(`${W} ${name}, offset 0x${hex(off)}`, `record size ${recSize} is invalid (at least ${minRec})`);
    let p = base + 4;
    while (p < end) {
      const at = `${W} ${name}, offset 0x${hex(p - hdrLen)}`;
      if (p + 8 > end) v.fail(at, 'truncated section block header');
      const sec = str(v.u32(p, at), at, 'section name');
      const num = v.u32(p + 4, at);
      p += 8;
      if (num === 0) v.fail(at, `section ${sec} has zero records`);
      if (num * recSize > end - p) v.fail(at, `${num} records of ${recSize} bytes for section ${sec} overrun the ${name} area`);
      for (let i = 0; i < num; i++, p += recSize) rec(p, sec, `${W} ${name}, offset 0x${hex(p - hdrLen)}`, i);
    }
  };
  const push = <T>(m: Map<string, T[]>, k: string, x: T) => {
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  };
  const H = 'section .BTF.ext header';
  area('func_info', v.u32(8, H), v.u32(12, H), 8, (p, sec, at) => {
    const typeId = v.u32(p + 4, at);
    if (typeId >= btf.types.length || btf.types[typeId].kind !== 'func') v.fail(at, `func_info type id ${typeId} is not a BTF FUNC`);
    push(out.funcInfo, sec, { insnOff: v.u32(p, at), typeId });
  });
  area('line_info', v.u32(16, H), v.u32(20, H), 16, (p, sec, at) => {
    const lc = v.u32(p + 12, at);
    push(out.lineInfo, sec, {
      insnOff: v.u32(p, at),
      file: str(v.u32(p + 4, at), at, 'file name'),
      text: str(v.u32(p + 8, at), at, 'source line'),
      line: lineOf(lc),
      col: colOf(lc),
    });
  });
  if (hdrLen >= 32) {
    let idx = 0;
    area('core_relo', v.u32(24, H), v.u32(28, H), 16, (p, sec, at) => {
      const typeId = v.u32(p + 4, at);
      if (typeId >= btf.types.length) v.fail(at, `CO-RE relocation type id ${typeId} is beyond the last BTF type`);
      push(out.coreRelo, sec, { insnOff: v.u32(p, at), typeId, accessStr: str(v.u32(p + 8, at), at, 'access'), kind: v.u32(p + 12, at), index: idx++ });
    });
  }
  return out;
}
