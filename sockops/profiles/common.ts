// Small builders shared by the profiles: they turn compact row specs into the rows of ../types.ts,
// filling BPF_FUNC ids and prototypes from the UAPI table (../data/uapi-helpers.ts).
import type { Confidence, HelperInfo, ParamInfo, ProgType, Source } from '../types';
import { UAPI_HELPERS } from '../data/uapi-helpers';

export const FILTER_C = 'net/core/filter.c';
export const UAPI_BPF_H = 'include/uapi/linux/bpf.h';
export const HELPERS_C = 'kernel/bpf/helpers.c';
export const CGROUP_C = 'kernel/bpf/cgroup.c';
export const TCP_H = 'include/net/tcp.h';

export function src(file: string, func: string, note?: string, confidence: Confidence = 'kernel-7.1.5'): Source {
  return note === undefined ? { file, func, confidence } : { file, func, confidence, note };
}
export function seed(subject: string, func: string, note?: string): Source {
  return src(`seed: ${subject}`, func, note, 'seed');
}
export function assumed(func: string, note: string): Source {
  return src('docs/abi.md §4', func, note, 'assumed');
}

const byName = new Map<string, readonly [number, string, string, string]>();
for (const row of UAPI_HELPERS) byName.set(row[1], row);

/** id, return type and parameters of `bpf_<name>` as the UAPI header documents them. */
export function uapiProto(name: string): { id: number; ret: string; params: ParamInfo[] } {
  const short = name.startsWith('bpf_') ? name.slice(4) : name;
  const row = byName.get(short);
  if (!row) throw new Error(`sockops profile: bpf_${short} is not in the UAPI helper list (sockops/data/uapi-helpers.ts)`);
  const params: ParamInfo[] = row[3] === '' ? [] : row[3].split('; ').map(splitCParam);
  return { id: row[0], ret: row[2], params };
}

function splitCParam(p: string): ParamInfo {
  if (p === '...') return { name: '...', ctype: '...' };
  const m = /^(.*?)(\w+)$/.exec(p);
  return m ? { name: m[2], ctype: m[1].trim() } : { name: p, ctype: p };
}

export type Avail = true | { needs: 'CAP_BPF' | 'CAP_PERFMON' | 'CAP_SYS_ADMIN' };

export interface HelperSpec {
  doc: string;
  progTypes: Partial<Record<ProgType, Avail>>;
  source: Source;
  rules?: HelperInfo['sockOpsRules'];
  errors?: HelperInfo['errors'];
  gplOnly?: boolean;
  sleepableOnly?: boolean;
  otherProgTypes?: string[];
  paramDocs?: Record<string, string>;
  progSource?: HelperInfo['progSource'];
}

export function helper(name: string, spec: HelperSpec): HelperInfo {
  const p = uapiProto(name);
  const params = p.params.map((x) => (spec.paramDocs?.[x.name] ? { ...x, doc: spec.paramDocs[x.name] } : x));
  const row: HelperInfo = {
    id: p.id,
    name: `bpf_${name.replace(/^bpf_/, '')}`,
    ret: p.ret,
    params,
    doc: spec.doc,
    progTypes: spec.progTypes,
    sockOpsRules: spec.rules ?? [],
    source: spec.source,
  };
  if (spec.errors) row.errors = spec.errors;
  if (spec.gplOnly) row.gplOnly = true;
  if (spec.sleepableOnly) row.sleepableOnly = true;
  if (spec.otherProgTypes) row.otherProgTypes = spec.otherProgTypes;
  if (spec.progSource) row.progSource = spec.progSource;
  return row;
}

/** A row for a UAPI helper that none of our program types may call (for "not allowed" messages). */
export function unavailableHelper(id: number, short: string): HelperInfo {
  const p = uapiProto(short);
  return {
    id,
    name: `bpf_${short}`,
    ret: p.ret,
    params: p.params,
    doc: `BPF_FUNC_${short} (${id}): not offered to sock_ops or cgroup sockopt programs.`,
    progTypes: {},
    sockOpsRules: [],
    source: src(FILTER_C, 'sock_ops_func_proto', 'not returned by sock_ops_func_proto, cg_sockopt_func_proto nor the base protos they fall back to'),
  };
}

/** Deep copy of plain data rows (profiles derive from the baseline without mutating it). */
export function clone<T>(x: T): T {
  return structuredClone(x);
}
