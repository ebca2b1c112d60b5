// The one option parser of the CLI (cli/args.ts): spellings, values, repetition, `--`, positional
// counts, and errors that name the option and what it accepts (exit 2 through parseCommand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgError, custom, flag, format, int, oneOf, parseArgs, parseCommand, profile, repeated, shard, text } from '../../../cli/args';
import { profileNames } from '../../../sockops';

const SPEC = {
  format: format(), profile: profile(), verbose: flag('-v', '--verbose'), seed: int('--seed', 0, 0xffffffff),
  shard: shard(), out: text('--out', 'a file name'), include: repeated(text('-I', 'a directory')), mcpu: oneOf('--mcpu', ['v1', 'v2', 'v3', 'v4']),
  pair: custom('--pair', 'A:B (numbers)', (v) => { const m = /^(\d+):(\d+)$/.exec(v); return m ? [+m[1]!, +m[2]!] as const : null; }),
};

const err = (args: string[], re: RegExp, pos = {}) => assert.throws(() => parseArgs(args, SPEC, pos), (e: Error) => e instanceof ArgError && re.test(e.message), args.join(' '));

test('spellings: --opt VALUE, --opt=VALUE, -I DIR, -IDIR, flags, the last value wins, repeatable options keep all', () => {
  const p = parseArgs(['a.c', '--format', 'json', '--seed=7', '-v', '-I', 'x', '-Iy', '--format=text', '--shard', '2/8', '--pair=1:2', 'b.c'], SPEC);
  assert.deepEqual(p.positional, ['a.c', 'b.c']);
  assert.equal(p.opts.format, 'text');
  assert.equal(p.opts.seed, 7);
  assert.equal(p.opts.verbose, true);
  assert.deepEqual(p.opts.include, ['x', 'y']);
  assert.deepEqual(p.opts.shard, { k: 2, n: 8 });
  assert.deepEqual(p.opts.pair, [1, 2]);
  assert.equal(p.opts.out, undefined);
  assert.equal(p.help, false);
  const none = parseArgs([], SPEC);
  assert.deepEqual([none.opts.verbose, none.opts.include, none.opts.format], [false, [], undefined]);
});

test('-- ends the options; a lone - is a positional; a value may start with -', () => {
  const p = parseArgs(['--out', '-weird', '--', '--format', '-v', '-'], SPEC);
  assert.equal(p.opts.out, '-weird');
  assert.deepEqual(p.positional, ['--format', '-v', '-']);
  assert.equal(p.opts.format, undefined);
  assert.deepEqual(parseArgs(['-'], SPEC).positional, ['-']);
});

test('-h and --help stop the parse (later bad arguments are not reported)', () => {
  assert.equal(parseArgs(['--help', '--nope'], SPEC).help, true);
  assert.equal(parseArgs(['x', 'y', '-h'], SPEC, { max: 1 }).help, true);
  err(['--nope', '-h'], /^unknown option --nope$/);
});

test('errors name the option and what it accepts', () => {
  err(['--format', 'xml'], /^--format must be text or json, not "xml"$/);
  err(['--format'], /^--format needs text or json$/);
  err(['--mcpu=v5'], /^--mcpu must be v1, v2, v3 or v4, not "v5"$/);
  err(['--profile', 'nope'], new RegExp(`^unknown profile "nope": known profiles are ${profileNames().join(', ')}$`));
  err(['--seed', '-1'], /^--seed takes an integer from 0 to 4294967295, not "-1"$/);
  err(['--seed', '4294967296'], /^--seed takes an integer from 0 to 4294967295, not "4294967296"$/);
  err(['--seed=1e3'], /not "1e3"/);
  err(['--seed'], /^--seed needs an integer from 0 to 4294967295$/);
  err(['--shard', '3/2'], /^--shard takes K\/N with 1 <= K <= N \(e\.g\. 2\/8\), not "3\/2"$/);
  err(['--shard', '0/2'], /--shard takes K\/N/);
  err(['--out='], /^--out needs a file name$/);
  err(['-I'], /^-I needs a directory$/);
  err(['--verbose=1'], /^--verbose takes no value$/);
  err(['--pair', '1-2'], /^--pair takes A:B \(numbers\), not "1-2"$/);
  err(['--frobnicate'], /^unknown option --frobnicate$/);
  err(['-x'], /^unknown option -x$/);
  err(['-vx'], /^unknown option -vx$/, 'a flag takes nothing attached');
});

test('positional counts: at most one, and the message when there is none', () => {
  err(['a', 'b'], /^one scenario at a time \(got a and b\)$/, { max: 1, noun: 'scenario' });
  err([], /^give the scenario$/, { max: 1, missing: 'give the scenario' });
  assert.deepEqual(parseArgs(['a'], SPEC, { max: 1, missing: 'give the scenario' }).positional, ['a']);
});

test('parseCommand: help on stdout with exit 0; a bad argument as "bpf-sockops CMD: MESSAGE" and the usage, exit 2', () => {
  const out: string[] = [], errs: string[] = [];
  const io = { out: (s: string) => { out.push(s); }, err: (s: string) => { errs.push(s); } };
  assert.equal(parseCommand('demo', 'usage: demo X', ['-h'], SPEC, io), 0);
  assert.deepEqual(out, ['usage: demo X\n']);
  assert.equal(parseCommand('demo', 'usage: demo X', ['--seed', 'x'], SPEC, io), 2);
  assert.deepEqual(errs, ['bpf-sockops demo: --seed takes an integer from 0 to 4294967295, not "x"\nusage: demo X\n']);
  const p = parseCommand('demo', 'usage: demo X', ['f', '--format', 'json'], SPEC, io);
  assert.ok(typeof p !== 'number' && p.opts.format === 'json' && p.positional[0] === 'f');
});
