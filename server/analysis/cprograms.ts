// The SEC("...") programs of a C text, by a scan of the text (no parse): what scenario checks and
// the "New scenario for this hook" command need to name a hook's programs.
export interface ProgramInfo { name: string; section: string }

/** SEC("x") functions of a C text: `SEC("x") <type> name(`, comments skipped; maps and the
 *  licence left out. */
export function cPrograms(text: string): ProgramInfo[] {
  const out: ProgramInfo[] = [];
  const noComments = text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
  const re = /\bSEC\(\s*"([^"\n]*)"\s*\)\s*([A-Za-z_][\w\s*]*?)\b([A-Za-z_]\w*)\s*\(/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(noComments))) {
    if (m[1] === '.maps' || m[1] === 'license') continue;
    out.push({ section: m[1]!, name: m[3]! });
  }
  return out;
}
