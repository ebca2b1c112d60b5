// The one place that opens the files a user (or a file the user chose) names, for every entry
// point: the CLI, the debug adapter, the language server and the extension. A file is read once
// and the bytes handed on; only a regular file is read (after following symlinks: the check is on
// the opened file, so a symlink to /dev/zero or a FIFO is refused); each kind of file has a size
// cap, checked before reading and again while reading (a file that grows is cut off). Errors name
// the file, what is wrong, the limit and what to do.
//
// Limits (also in README.md, "Limits"):
//   object    64 MiB  a BPF object: the kernel takes at most 1M instructions (8 MiB) and a .BTF of
//                     16 MiB (kernel/bpf/btf.c BTF_MAX_SIZE); clang -g objects of real hooks are KiB
//   source    32 MiB  a C source (about 800,000 lines of 40 characters)
//   scenario  16 MiB  a scenario JSON file (its stream holds at most 64 MiB: "zeros" costs no input)
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { open as openAsync, realpath as realpathAsync } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

export type FileKind = 'object' | 'source' | 'scenario';

const MiB = 1 << 20;

/** The most bytes read from one file of each kind. */
export const FILE_LIMITS: Readonly<Record<FileKind, number>> = Object.freeze({
  object: 64 * MiB,
  source: 32 * MiB,
  scenario: 16 * MiB,
});

const KIND_TEXT: Record<FileKind, string> = { object: 'BPF object', source: 'C source', scenario: 'scenario file' };

export type FileProblem = 'missing' | 'not-regular' | 'too-large' | 'outside' | 'unreadable';

/** A file that could not be read, with a message naming it, what is wrong and what to do. */
export class FileReadError extends Error {
  override name = 'FileReadError';
  constructor(readonly file: string, readonly problem: FileProblem, readonly detail: string, readonly limit?: number) {
    super(`${file}: ${detail}`);
  }
}

export interface ReadOptions {
  /** Overrides the kind's cap (tests, callers with a tighter bound). */
  limit?: number;
  /** The file, after following symlinks, must lie under one of these directories (Restricted Mode). */
  within?: readonly string[];
}

export interface ReadResult {
  /** The path as given, made absolute. */
  path: string;
  /** The file actually read (symlinks followed). */
  real: string;
  bytes: Buffer;
}

/** "1.5 GiB", "64 MiB", "300 bytes": sizes in messages. */
export function sizeText(n: number): string {
  if (n >= 1 << 30) return `${+(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} byte${n === 1 ? '' : 's'}`;
}

function typeText(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function limitOf(kind: FileKind, opts: ReadOptions): number {
  return opts.limit ?? FILE_LIMITS[kind];
}

function tooLarge(file: string, kind: FileKind, size: number | null, limit: number): FileReadError {
  const what = size === null ? `more than ${sizeText(limit)}` : `${sizeText(size)} (${size} bytes)`;
  return new FileReadError(file, 'too-large', `the ${KIND_TEXT[kind]} is ${what}, over the limit of ${sizeText(limit)} for a ${KIND_TEXT[kind]}; check that this is the right file`, limit);
}

function openProblem(file: string, kind: FileKind, e: unknown): FileReadError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new FileReadError(file, 'missing', `cannot read the ${KIND_TEXT[kind]} (${code}): no such file; check the path`);
  if (code === 'ELOOP') return new FileReadError(file, 'unreadable', 'too many levels of symbolic links (ELOOP)');
  if (code === 'EACCES' || code === 'EPERM') return new FileReadError(file, 'unreadable', `cannot read the ${KIND_TEXT[kind]}: permission denied (${code})`);
  if (code === 'EISDIR') return new FileReadError(file, 'not-regular', `is a directory, not a ${KIND_TEXT[kind]}; name a file`);
  return new FileReadError(file, 'unreadable', `cannot read the ${KIND_TEXT[kind]} (${code ?? (e as Error).message})`);
}

function checkStat(file: string, kind: FileKind, st: Stats, limit: number): void {
  if (!st.isFile()) throw new FileReadError(file, 'not-regular', `is ${typeText(st)}, not a regular file; only a regular ${KIND_TEXT[kind]} is read`);
  if (st.size > limit) throw tooLarge(file, kind, st.size, limit);
}

/** A folder with its symlinks resolved (as given, made absolute, when it does not exist). */
export function realRoot(root: string): string {
  try { return realpathSync(root); } catch { return resolve(root); }
}

/** Whether the symlink-free path `real` is `root` (itself symlink-free) or lies under it. */
export function isUnder(realRootDir: string, real: string): boolean {
  const r = relative(realRootDir, real);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

function checkWithin(file: string, real: string, within: readonly string[] | undefined): void {
  if (!within) return;
  const inside = within.some((root) => isUnder(realRoot(root), real));
  if (!inside) throw new FileReadError(file, 'outside', `resolves to ${real}, outside the workspace; it is not read here (a file outside the workspace is read only when you open or choose it)`);
}

/** Flags for open(2): O_NONBLOCK so that opening a FIFO never waits for a writer, O_NOCTTY so a
 *  terminal never becomes ours. The fstat of the opened file then refuses what is not regular. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Reads one file of `kind` whole; throws FileReadError. */
export function readFileBounded(file: string, kind: FileKind, opts: ReadOptions = {}): ReadResult {
  const path = resolve(file);
  const limit = limitOf(kind, opts);
  let real = path;
  if (opts.within) {
    try { real = realpathSync(path); } catch (e) { throw openProblem(file, kind, e); }
    checkWithin(file, real, opts.within);
  }
  let fd: number;
  try { fd = openSync(opts.within ? real : path, OPEN_FLAGS); } catch (e) { throw openProblem(file, kind, e); }
  try {
    let st: Stats;
    try { st = fstatSync(fd); } catch (e) { throw openProblem(file, kind, e); }
    checkStat(file, kind, st, limit);
    // One byte more than the cap tells a file that grew past it since the fstat.
    let buf = Buffer.allocUnsafe(Math.min(st.size, limit) + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > limit) throw tooLarge(file, kind, null, limit);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, limit + 1));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      let n: number;
      try { n = readSync(fd, buf, got, buf.length - got, null); } catch (e) { throw openProblem(file, kind, e); }
      if (n === 0) break;
      got += n;
    }
    if (got > limit) throw tooLarge(file, kind, null, limit);
    if (!opts.within) { try { real = realpathSync(path); } catch { /* removed since: keep the path */ } }
    return { path, real, bytes: buf.subarray(0, got) };
  } finally {
    closeSync(fd);
  }
}

/** The same, without blocking the thread (the extension host, the CLI's disasm). */
export async function readFileBoundedAsync(file: string, kind: FileKind, opts: ReadOptions = {}): Promise<ReadResult> {
  const path = resolve(file);
  const limit = limitOf(kind, opts);
  let real = path;
  if (opts.within) {
    try { real = await realpathAsync(path); } catch (e) { throw openProblem(file, kind, e); }
    checkWithin(file, real, opts.within);
  }
  let fh;
  try { fh = await openAsync(opts.within ? real : path, OPEN_FLAGS); } catch (e) { throw openProblem(file, kind, e); }
  try {
    let st: Stats;
    try { st = await fh.stat(); } catch (e) { throw openProblem(file, kind, e); }
    checkStat(file, kind, st, limit);
    let buf = Buffer.allocUnsafe(Math.min(st.size, limit) + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > limit) throw tooLarge(file, kind, null, limit);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, limit + 1));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      let n: number;
      try { ({ bytesRead: n } = await fh.read(buf, got, buf.length - got, null)); } catch (e) { throw openProblem(file, kind, e); }
      if (n === 0) break;
      got += n;
    }
    if (got > limit) throw tooLarge(file, kind, null, limit);
    if (!opts.within) { try { real = await realpathAsync(path); } catch { /* keep the path */ } }
    return { path, real, bytes: buf.subarray(0, got) };
  } finally {
    await fh.close();
  }
}

/** A text file (UTF-8; a byte order mark is dropped), read as readFileBounded does. */
export function readTextBounded(file: string, kind: FileKind, opts: ReadOptions = {}): ReadResult & { text: string } {
  const r = readFileBounded(file, kind, opts);
  return { ...r, text: utf8(r.bytes) };
}

export async function readTextBoundedAsync(file: string, kind: FileKind, opts: ReadOptions = {}): Promise<ReadResult & { text: string }> {
  const r = await readFileBoundedAsync(file, kind, opts);
  return { ...r, text: utf8(r.bytes) };
}

function utf8(b: Buffer): string {
  const s = b.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Checks that `file` is a regular file of at most the kind's cap without reading it (a source
 *  that another program, clang, reads next). Throws FileReadError. */
export function checkRegularFile(file: string, kind: FileKind, opts: ReadOptions = {}): string {
  const path = resolve(file);
  let real = path;
  if (opts.within) {
    try { real = realpathSync(path); } catch (e) { throw openProblem(file, kind, e); }
    checkWithin(file, real, opts.within);
  }
  let fd: number;
  try { fd = openSync(real, OPEN_FLAGS); } catch (e) { throw openProblem(file, kind, e); }
  try {
    let st: Stats;
    try { st = fstatSync(fd); } catch (e) { throw openProblem(file, kind, e); }
    checkStat(file, kind, st, limitOf(kind, opts));
  } finally {
    closeSync(fd);
  }
  return real;
}
