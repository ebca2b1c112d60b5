// `bpf-sockops check FILE... [--format text|json] [--profile NAME] [-I DIR]...`: the language
// server's diagnostics without an editor (design.md §5). Same engine as the server
// (server/analysis/); -I adds folders for the local includes it follows. Exit 1 if any error.
import { FileReadError, readTextBounded } from '../io/files';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DocumentAnalyzer, positioned } from '../server/analysis/engine';
import { format, parseCommand, profile, repeated, text } from './args';

export interface CheckDiagnostic {
  file: string;
  line: number; // 1-based
  column: number; // 1-based, UTF-16 code units as LSP counts them
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning' | 'information' | 'hint';
  code: string;
  message: string;
}

const USAGE = 'usage: bpf-sockops check FILE... [--format text|json] [--profile NAME] [-I DIR]...';

const SPEC = { format: format(), profile: profile(), include: repeated(text('-I', 'a directory')) };

export async function checkCommand(args: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const p = parseCommand('check', USAGE, args, SPEC, io, { missing: 'no input files' });
  if (typeof p === 'number') return p;
  const files = p.positional;
  const fmt = p.opts.format ?? 'text';
  const profile = p.opts.profile;
  // -I DIR: searched for `#include "x.h"` after the including file's own folder, in the order
  // given, as clang searches them; relative to the current directory, as clang takes them
  const includePaths = p.opts.include.map((d) => resolve(d));
  for (const [i, d] of includePaths.entries()) {
    if (!isDirectory(d)) io.err(`bpf-sockops check: warning: -I ${p.opts.include[i]}: no such directory (ignored, as clang ignores it)\n`);
  }

  let analyzer: DocumentAnalyzer;
  try {
    analyzer = await DocumentAnalyzer.create({ profile, includePaths });
  } catch (e) {
    io.err(`bpf-sockops check: ${(e as Error).message}\n`);
    return 2;
  }
  const all: CheckDiagnostic[] = [];
  let unreadable = false;
  try {
    for (const file of files) {
      let text: string;
      try {
        text = readTextBounded(file, 'source').text;
      } catch (e) {
        if (!(e instanceof FileReadError)) throw e;
        io.err(`bpf-sockops check: ${e.message}\n`);
        unreadable = true;
        continue;
      }
      // Each file on its own: a fresh parse, not an incremental one from the previous file.
      analyzer.document.reset();
      for (const f of positioned(analyzer.update(text, file))) {
        all.push({
          file,
          line: f.range.start.line + 1,
          column: f.range.start.character + 1,
          endLine: f.range.end.line + 1,
          endColumn: f.range.end.character + 1,
          severity: f.severity,
          code: f.code,
          message: f.message,
        });
      }
    }
  } finally {
    analyzer.dispose();
  }
  if (fmt === 'json') io.out(JSON.stringify(all, null, 2) + '\n');
  else for (const d of all) io.out(`${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}\n`);
  if (all.some((d) => d.severity === 'error')) return 1;
  return unreadable ? 1 : 0;
}

function isDirectory(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}
