// Reads facts out of a UAPI <linux/bpf.h> text: the BPF_FUNC_* ids (the ___BPF_FUNC_MAPPER list) and
// the helper prototypes written in the header's doc comment. Used by gen-uapi-helpers.ts to produce
// ../data/uapi-helpers.ts and by the tests to check the committed table against the mirror's header.

export interface UapiHelperProto {
  id: number;
  name: string; // without the bpf_ prefix, as in BPF_FUNC_<name>
  ret?: string;
  params?: { name: string; ctype: string }[];
}

/** FN(name, id) entries of ___BPF_FUNC_MAPPER, in order. */
export function parseFuncIds(header: string): { name: string; id: number }[] {
  const start = header.indexOf('#define ___BPF_FUNC_MAPPER');
  if (start < 0) throw new Error('uapi bpf.h: ___BPF_FUNC_MAPPER not found');
  const end = header.indexOf('\n\n', start);
  const body = header.slice(start, end < 0 ? undefined : end);
  const out: { name: string; id: number }[] = [];
  for (const m of body.matchAll(/FN\((\w+),\s*(\d+)/g)) out.push({ name: m[1], id: Number(m[2]) });
  return out;
}

/** Prototype lines ` * <ret> bpf_<name>(<params>)` of the helper documentation comment. */
export function parsePrototypes(header: string): Map<string, { ret: string; params: { name: string; ctype: string }[] }> {
  const out = new Map<string, { ret: string; params: { name: string; ctype: string }[] }>();
  const re = /^ \* ((?:const |unsigned |struct |enum )*[\w]+(?: \*+| )\s*)bpf_(\w+)\(([^)]*)\)\s*$/gm;
  for (const m of header.matchAll(re)) {
    const ret = m[1].replace(/\s+$/, '').replace(/\s+\*/g, ' *');
    const name = m[2];
    if (out.has(name)) continue;
    const list = m[3].trim();
    const params = list === 'void' || list === '' ? [] : list.split(',').map((p) => splitParam(p.trim()));
    out.set(name, { ret, params });
  }
  return out;
}

function splitParam(p: string): { name: string; ctype: string } {
  if (p === '...') return { name: '...', ctype: '' };
  const m = /^(.*?)(\w+)(\[\d*\])?$/.exec(p);
  if (!m) return { name: p, ctype: p };
  const ctype = (m[1] + (m[3] ?? '')).trim().replace(/\s+\*/g, ' *');
  return { name: m[2], ctype };
}
