// Scenario files (`*.scenario.json`) checked as `bpf-sockops run` would read them, without
// running anything: the scenario parser's own errors (steps against the stream, values, names),
// the program file, and the programs it names (in the object, or among the C file's SEC
// functions). Plain data with 0-based positions; server/scenarios.ts publishes them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseScenario, ScenarioError, parseJsonLocated } from '../../debugger/scenario/index';
import { loadObject } from '../../debugger/object/load';
import { sockopsTable } from './table';
import { cPrograms, type ProgramInfo } from './cprograms';

export { cPrograms, type ProgramInfo };

export interface ScenarioFinding {
  code: 'SCENARIO001' | 'SCENARIO002' | 'SCENARIO003';
  severity: 'error' | 'warning';
  message: string;
  /** 0-based line and UTF-16 columns. */
  line: number; character: number; endLine: number; endCharacter: number;
}


/** Where the named programs are looked up: the text of a C file (open in the editor or on disk). */
export interface ScenarioCheckHost {
  /** The current text of a file (an editor's unsaved text first), or undefined. */
  read(file: string): string | undefined;
}

const ROLES = [
  { key: 'sockops', section: 'sockops' },
  { key: 'setsockopt', section: 'cgroup/setsockopt' },
  { key: 'getsockopt', section: 'cgroup/getsockopt' },
] as const;

const objectCache = new Map<string, { key: string; programs: ProgramInfo[] | string }>();

/** Programs of a BPF object, or why it cannot be read (cached per size and mtime). */
export function objectPrograms(file: string): ProgramInfo[] | string {
  let key: string;
  try { const st = statSync(file); key = `${st.size}:${st.mtimeMs}`; } catch (e) { return (e as Error).message; }
  const hit = objectCache.get(file);
  if (hit?.key === key) return hit.programs;
  let programs: ProgramInfo[] | string;
  try {
    programs = loadObject(new Uint8Array(readFileSync(file)), file).programs.map((p) => ({ name: p.name, section: p.section }));
  } catch (e) {
    programs = (e as Error).message;
  }
  objectCache.set(file, { key, programs });
  return programs;
}

function span(text: string, line1: number | undefined, col1: number | undefined): Pick<ScenarioFinding, 'line' | 'character' | 'endLine' | 'endCharacter'> {
  const lines = text.split('\n');
  const line = Math.max(0, Math.min((line1 ?? 1) - 1, lines.length - 1));
  const character = Math.max(0, (col1 ?? 1) - 1);
  const rest = lines[line]!.slice(character);
  // The value there: a string, a number or a word; else to the end of the line.
  const tok = /^("(?:\\.|[^"\\])*"|-?\d[\w.+-]*|\w+)/.exec(rest)?.[0];
  const endCharacter = character + (tok ? tok.length : Math.max(1, rest.trimEnd().length));
  return { line, character, endLine: line, endCharacter };
}

export function checkScenario(text: string, file: string, host: ScenarioCheckHost, profile?: string): ScenarioFinding[] {
  const out: ScenarioFinding[] = [];
  let located: ReturnType<typeof parseJsonLocated>;
  try { located = parseJsonLocated(text); } catch { located = undefined as never; }
  const at = (p: string) => { const pos = located?.positions.get(p); return span(text, pos?.line, pos?.col); };
  let t;
  try { t = sockopsTable(profile); } catch { t = sockopsTable(); }
  let sc;
  try {
    sc = parseScenario(text, file, { constant: (n) => t.constant(n) });
    if (sc.profile && !profile) {
      try { const t2 = sockopsTable(sc.profile); sc = parseScenario(text, file, { constant: (n) => t2.constant(n) }); } catch { /* the parser names a bad profile */ }
    }
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    out.push({ code: 'SCENARIO001', severity: 'error', message: `${e.path ? `${e.path}: ` : ''}${e.detail}`, ...span(text, e.line, e.col) });
    return out;
  }
  const root = located?.value as Record<string, unknown> | undefined;
  const rel = (p: string) => path.relative(path.dirname(file), p) || path.basename(p);
  // The program file.
  const prog = sc.program;
  let programs: ProgramInfo[] | undefined;
  let from = rel(prog);
  if (!existsSync(prog)) {
    const sibling = /\.o$/.test(prog) ? prog.replace(/\.o$/, '.c') : prog.replace(/\.c$/, '.o');
    if (/\.o$/.test(prog) && existsSync(sibling)) {
      out.push({ code: 'SCENARIO002', severity: 'warning', ...at('program'),
        message: `${rel(prog)} does not exist yet: compile ${rel(sibling)} (clang -target bpf -O2 -g -c ${rel(sibling)} -o ${rel(prog)}), or set "program" to ${JSON.stringify(rel(sibling))} to compile it on each run.` });
      const text2 = host.read(sibling);
      if (text2 !== undefined) { programs = cPrograms(text2); from = rel(sibling); }
    } else {
      out.push({ code: 'SCENARIO002', severity: 'error', ...at('program'),
        message: `program file not found: ${rel(prog)} (resolved to ${prog}; paths are relative to the scenario file).${existsSync(sibling) ? ` ${rel(sibling)} exists: use it.` : ''}` });
    }
  } else if (/\.c$/.test(prog)) {
    const c = host.read(prog);
    if (c !== undefined) programs = cPrograms(c);
  } else {
    const p = objectPrograms(prog);
    if (typeof p === 'string') out.push({ code: 'SCENARIO002', severity: 'error', ...at('program'), message: `${rel(prog)} cannot be loaded: ${p}` });
    else programs = p;
  }
  if (!programs) return out;
  const list = programs.map((p) => `${p.name} (SEC("${p.section}"))`).join(', ') || 'none';
  for (const role of ROLES) {
    const named = root?.[role.key];
    const inSection = programs.filter((p) => p.section === role.section);
    if (typeof named === 'string' && named) {
      const p = programs.find((x) => x.name === named);
      if (!p) {
        out.push({ code: 'SCENARIO003', severity: 'error', ...at(role.key),
          message: `no program named ${named} in ${from}; programs there: ${list}.${inSection.length ? ` Did you mean ${inSection.map((x) => JSON.stringify(x.name)).join(' or ')}?` : ''}` });
      } else if (p.section !== role.section) {
        out.push({ code: 'SCENARIO003', severity: 'error', ...at(role.key),
          message: `${named} is in SEC("${p.section}"), but the "${role.key}" program must be SEC("${role.section}").` });
      }
    } else if (named === undefined && role.key === 'sockops' && inSection.length > 1) {
      out.push({ code: 'SCENARIO003', severity: 'error', ...at('program'),
        message: `${from} has ${inSection.length} SEC("sockops") programs (${inSection.map((x) => x.name).join(', ')}): add "sockops" naming the one to attach.` });
    }
  }
  return out;
}
