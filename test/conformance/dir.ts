// Where the bpf_conformance data files are: $BPF_CONFORMANCE_DIR, else ../shared/conformance beside
// the checkout, else /work/shared/conformance (where these machines keep the project's reference data;
// it is not vendored here). null when none exists.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function conformanceDir(): string | null {
  if (process.env.BPF_CONFORMANCE_DIR) return existsSync(process.env.BPF_CONFORMANCE_DIR) ? process.env.BPF_CONFORMANCE_DIR : null;
  const candidates = [resolve(join(__dirname, '..', '..', '..', 'shared', 'conformance')), '/work/shared/conformance'];
  return candidates.find((d) => existsSync(d)) ?? null;
}

export const CONFORMANCE_HINT = 'set BPF_CONFORMANCE_DIR to the folder of the bpf_conformance .data files (tests/ and negative/)';
