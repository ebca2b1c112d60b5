// Cheap text checks on C sources: is this a BPF program, and where are its sock_ops programs.
// Plain TS (no vscode): used by activation, the code lens and the language-client filter.
// Regexes, not a parse: they decide where to *offer* features; the language server does the checking.

/** Section names libbpf gives programs that this extension understands (SEC("...")). */
const SECTION = /\bSEC\s*\(\s*"(sockops|cgroup\/(?:setsockopt|getsockopt)|sk_msg|sk_skb[^"]*|struct_ops[^"]*)"\s*\)/;

/** True when the file is worth a language server: named `*.bpf.c`, or it holds a SEC() program we know.
 *  Looks at the first 256 KiB only, so a huge generated file costs nothing. */
export function looksLikeBpfSource(fileName: string, text: string): boolean {
  if (/\.bpf\.c$/i.test(fileName)) return true;
  return SECTION.test(text.length > 262144 ? text.slice(0, 262144) : text);
}

export interface BpfProgramDecl {
  /** Function name (`tcp_autolowat`). */
  name: string;
  /** Section string (`sockops`, `cgroup/setsockopt`). */
  section: string;
  /** 0-based line of the SEC(...) annotation. */
  line: number;
  /** 0-based line of the function name. */
  nameLine: number;
}

/** SEC("...") followed by a function definition. Comments between them are allowed. */
const PROGRAM = /\bSEC\s*\(\s*"([^"\n]+)"\s*\)(?:\s|\/\*[\s\S]*?\*\/|\/\/[^\n]*\n)*(?:static\s+|__always_inline\s+|inline\s+)*(?:int|__s32|long|__u32)\s+(\w+)\s*\(/g;

export function findBpfPrograms(text: string): BpfProgramDecl[] {
  const out: BpfProgramDecl[] = [];
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (off: number) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (lineStarts[mid]! <= off) lo = mid; else hi = mid - 1; }
    return lo;
  };
  for (const m of text.matchAll(PROGRAM)) {
    const start = m.index ?? 0;
    if (insideComment(text, start)) continue;
    const nameOff = start + m[0].lastIndexOf(m[2]!);
    out.push({ name: m[2]!, section: m[1]!, line: lineOf(start), nameLine: lineOf(nameOff) });
  }
  return out;
}

export const isSockOpsSection = (section: string) => section === 'sockops';

/** Whether `off` lies in a // or /* comment (scans the line and the nearest block comment). */
function insideComment(text: string, off: number): boolean {
  const lineStart = text.lastIndexOf('\n', off - 1) + 1;
  const before = text.slice(lineStart, off);
  if (/\/\//.test(before.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) return true;
  const open = text.lastIndexOf('/*', off);
  return open >= 0 && text.lastIndexOf('*/', off) < open;
}
