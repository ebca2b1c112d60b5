// Where the bpf_conformance data files are: $BPF_CONFORMANCE_DIR, else ../shared/conformance beside
// the checkout (the project's reference data, not vendored here). null when absent.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function conformanceDir(): string | null {
  const dir = process.env.BPF_CONFORMANCE_DIR ?? resolve(join(__dirname, '..', '..', '..', 'shared', 'conformance'));
  return existsSync(dir) ? dir : null;
}

export const CONFORMANCE_HINT = 'set BPF_CONFORMANCE_DIR to the folder of the bpf_conformance .data files (tests/ and negative/)';
