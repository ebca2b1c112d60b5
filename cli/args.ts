// The command line options of every `bpf-sockops` command, declared once and parsed by one
// parser: flags, options with a value (`--opt VALUE`, `--opt=VALUE`, and for one-letter options
// `-I DIR` or `-IDIR`), repeatable options, positional arguments, `--` (everything after it is
// positional), `-h`/`--help`. Values are checked as they are read (an enum such as --format, the
// profile names, integer ranges, K/N), and a bad argument is an ArgError whose message names the
// option and what it accepts; parseCommand prints it as every command does
// (`bpf-sockops CMD: MESSAGE` then the usage, on stderr) and gives exit status 2.
import { profileNames } from '../sockops';

export class ArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgError';
  }
}

/** The output formats of check, run, verify and explore. */
export const FORMATS = ['text', 'json'] as const;
export type Format = (typeof FORMATS)[number];

interface Names {
  /** Every spelling ('-v', '--verbose'); the first is the one messages use. */
  names: readonly string[];
}
export interface FlagDef extends Names { kind: 'flag' }
export interface ValueDef<T> extends Names {
  kind: 'value';
  /** What the option takes, for "--out needs a file name". */
  needs: string;
  /** The value checked and converted; throws ArgError naming the option and what it accepts. */
  parse: (v: string, name: string) => T;
  repeat: boolean;
}
export type OptDef = FlagDef | ValueDef<unknown>;
export type Spec = Record<string, OptDef>;

/** What a spec parses to: a flag is true when given, a value option its last value (a repeatable one: all of them, in order). */
export type Values<S extends Spec> = {
  [K in keyof S]: S[K] extends ValueDef<infer T> ? (S[K] extends { repeat: true } ? T[] : T | undefined) : boolean;
};

export interface Positional {
  /** At most this many (more: "one NOUN at a time (got A and B)"). */
  max?: number;
  noun?: string;
  /** The message when there is none (absent: none is fine). */
  missing?: string;
}

export interface Parsed<S extends Spec> {
  opts: Values<S>;
  positional: string[];
  /** -h or --help was given (parsing stopped there). */
  help: boolean;
}

const list = (names: string | readonly string[]) => (typeof names === 'string' ? [names] : names);

export function flag(...names: string[]): FlagDef {
  return { kind: 'flag', names };
}

function valueDef<T>(names: string | readonly string[], needs: string, parse: (v: string, name: string) => T): ValueDef<T> & { repeat: false } {
  return { kind: 'value', names: list(names), needs, parse, repeat: false };
}

/** Any of these options may be given again: all its values are kept, in order. */
export function repeated<T>(def: ValueDef<T>): ValueDef<T> & { repeat: true } {
  return { ...def, repeat: true };
}

/** A non-empty string ('a file name', 'a function name'). */
export function text(names: string | readonly string[], needs: string): ValueDef<string> & { repeat: false } {
  return valueDef(names, needs, (v, name) => {
    if (v === '') throw new ArgError(`${name} needs ${needs}`);
    return v;
  });
}

/** "a or b", "a, b or c" */
function either(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** One of a fixed list (--format text|json). */
export function oneOf<C extends string>(names: string | readonly string[], choices: readonly C[]): ValueDef<C> & { repeat: false } {
  return valueDef(names, either(choices), (v, name) => {
    if (!(choices as readonly string[]).includes(v)) throw new ArgError(`${name} must be ${either(choices)}, not ${JSON.stringify(v)}`);
    return v as C;
  });
}

/** --format text|json */
export function format(): ValueDef<Format> & { repeat: false } {
  return oneOf('--format', FORMATS);
}

/** --profile NAME, one of the kernel profiles (sockops/): checked when read. */
export function profile(): ValueDef<string> & { repeat: false } {
  return valueDef('--profile', 'a profile name', (v) => {
    const known = profileNames();
    if (!known.includes(v)) throw new ArgError(`unknown profile ${JSON.stringify(v)}: known profiles are ${known.join(', ')}`);
    return v;
  });
}

/** A value of a shape of its own: `parse` gives it, or null when `v` is not one
 *  ("--enable takes LEVEL:OPTNAME (...), not \"x\""). */
export function custom<T>(names: string | readonly string[], needs: string, parse: (v: string) => T | null): ValueDef<T> & { repeat: false } {
  return valueDef(names, needs, (v, name) => {
    const r = parse(v);
    if (r === null) throw new ArgError(`${name} takes ${needs}, not ${JSON.stringify(v)}`);
    return r;
  });
}

/** A decimal integer in [min, max]. */
export function int(names: string | readonly string[], min: number, max: number): ValueDef<number> & { repeat: false } {
  return custom(names, `an integer from ${min} to ${max}`, (v) => (/^-?\d+$/.test(v) && +v >= min && +v <= max ? +v : null));
}

/** Shard K of N: 'K/N' with 1 <= K <= N <= maxN. */
export function shard(names: string | readonly string[] = '--shard', maxN = 1e6): ValueDef<{ k: number; n: number }> & { repeat: false } {
  return custom(names, 'K/N with 1 <= K <= N (e.g. 2/8)', (v) => {
    const m = /^(\d+)\/(\d+)$/.exec(v);
    return m && +m[1]! >= 1 && +m[1]! <= +m[2]! && +m[2]! <= maxN ? { k: +m[1]!, n: +m[2]! } : null;
  });
}

/** Parse `args` by `spec`. Throws ArgError on a bad argument. */
export function parseArgs<S extends Spec>(args: readonly string[], spec: S, positional: Positional = {}): Parsed<S> {
  const byName = new Map<string, [string, OptDef]>();
  for (const [key, def] of Object.entries(spec)) for (const n of def.names) byName.set(n, [key, def]);
  const opts: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(spec)) opts[key] = def.kind === 'flag' ? false : def.repeat ? [] : undefined;
  const pos: string[] = [];
  let help = false;
  let rest = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (rest || a === '-' || !a.startsWith('-')) { pos.push(a); continue; }
    if (a === '--') { rest = true; continue; }
    if (a === '-h' || a === '--help') { help = true; break; }
    let name = a;
    let inline: string | undefined;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) { name = a.slice(0, eq); inline = a.slice(eq + 1); }
    let found = byName.get(name);
    // a one-letter option with its value attached: -Iinclude
    if (!found && !a.startsWith('--') && a.length > 2) {
      const short = byName.get(a.slice(0, 2));
      if (short && short[1].kind === 'value') { found = short; name = a.slice(0, 2); inline = a.slice(2); }
    }
    if (!found) throw new ArgError(`unknown option ${a}`);
    const [key, def] = found;
    if (def.kind === 'flag') {
      if (inline !== undefined) throw new ArgError(`${name} takes no value`);
      opts[key] = true;
      continue;
    }
    const v = inline ?? args[++i];
    if (v === undefined) throw new ArgError(`${name} needs ${def.needs}`);
    const value = def.parse(v, name);
    if (def.repeat) (opts[key] as unknown[]).push(value); else opts[key] = value;
  }
  if (!help) {
    if (positional.max !== undefined && pos.length > positional.max) {
      throw new ArgError(positional.max === 1 ? `one ${positional.noun ?? 'argument'} at a time (got ${pos[0]} and ${pos[1]})` : `at most ${positional.max} ${positional.noun ?? 'argument'}s (got ${pos.length})`);
    }
    if (positional.missing && pos.length === 0) throw new ArgError(positional.missing);
  }
  return { opts: opts as Values<S>, positional: pos, help };
}

export interface CommandIo { out: (s: string) => void; err: (s: string) => void }

/** parseArgs as a command uses it: -h prints `usage` on stdout (exit 0); a bad argument prints
 *  `bpf-sockops CMD: MESSAGE` and the usage on stderr (exit 2). A number is that exit status. */
export function parseCommand<S extends Spec>(cmd: string, usage: string, args: readonly string[], spec: S, io: CommandIo, positional: Positional = {}): Parsed<S> | number {
  let p: Parsed<S>;
  try {
    p = parseArgs(args, spec, positional);
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    io.err(`bpf-sockops ${cmd}: ${e.message}\n${usage}\n`);
    return 2;
  }
  if (p.help) { io.out(`${usage}\n`); return 0; }
  return p;
}
