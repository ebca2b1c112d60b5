// `bpf-sockops check FILE... [--format text|json]`: the language server's diagnostics without an
// editor (design.md §5). Same engine as the server (server/analysis/). Exit 1 if any error.
import { FileReadError, readTextBounded } from '../io/files';
import { DocumentAnalyzer, positioned } from '../server/analysis/engine';

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

const USAGE = 'usage: bpf-sockops check FILE... [--format text|json] [--profile NAME]';

export async function checkCommand(args: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  let format: 'text' | 'json' = 'text';
  let profile: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--format' || a.startsWith('--format=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v !== 'text' && v !== 'json') { io.err(`bpf-sockops check: --format must be text or json, not ${v ?? '(nothing)'}\n${USAGE}\n`); return 2; }
      format = v;
    } else if (a === '--profile' || a.startsWith('--profile=')) {
      profile = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (!profile) { io.err(`bpf-sockops check: --profile needs a name\n${USAGE}\n`); return 2; }
    } else if (a === '-h' || a === '--help') {
      io.out(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-') && a !== '-') {
      io.err(`bpf-sockops check: unknown option ${a}\n${USAGE}\n`);
      return 2;
    } else files.push(a);
  }
  if (!files.length) { io.err(`bpf-sockops check: no input files\n${USAGE}\n`); return 2; }

  let analyzer: DocumentAnalyzer;
  try {
    analyzer = await DocumentAnalyzer.create({ profile });
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
  if (format === 'json') io.out(JSON.stringify(all, null, 2) + '\n');
  else for (const d of all) io.out(`${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}\n`);
  if (all.some((d) => d.severity === 'error')) return 1;
  return unreadable ? 1 : 0;
}
