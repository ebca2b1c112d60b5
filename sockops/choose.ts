// Which profile a hook is checked and run against when nobody says: a file or object whose
// struct_ops variables are instances of a profile's struct_ops type (struct bpf_tcp_ops) goes
// to that profile; anything else to the default. One rule for the editor, `check` and `run`.
import { getProfile, profileNames } from './index';
import type { StructOpsProfile } from './types';

/** The profile whose struct_ops type is one of `structs`, if any. */
export function profileForStructs(structs: Iterable<string>): string | undefined {
  const want = new Set(structs);
  for (const n of profileNames()) {
    const so = (getProfile(n) as Partial<StructOpsProfile>).structOps;
    if (so && want.has(so.struct)) return n;
  }
  return undefined;
}

/** The struct types of a C file's SEC(".struct_ops") / SEC(".struct_ops.link") variables, e.g.
 *  `SEC(".struct_ops.link") struct bpf_tcp_ops my_ops = {...}` (either order of SEC and type). */
export function structOpsTypesInSource(text: string): string[] {
  const out: string[] = [];
  const re = /SEC\(\s*"\.struct_ops(?:\.link)?"\s*\)\s*(?:static\s+)?struct\s+(\w+)|struct\s+(\w+)\s+\w+\s+SEC\(\s*"\.struct_ops(?:\.link)?"\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push((m[1] ?? m[2])!);
  return out;
}

/** The profile a C file is checked against without --profile. */
export function profileForSource(text: string): string | undefined {
  return profileForStructs(structOpsTypesInSource(text));
}
