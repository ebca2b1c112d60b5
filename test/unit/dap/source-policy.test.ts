// Which sources the debugger reads and shows (debugger/runtime/source-policy.ts): the object's
// line info names them, so one is shown only under a folder the user chose (cwd, the program's or
// the scenario's folder, "sourceRoots"); any other frame names where its source is and why it is
// not shown (a deemphasized Source without a path, and one console line). The objects are copies
// of frames.bpf.o made here with the source name patched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebugClient } from '@vscode/debugadapter-testsupport';
import { collectOutput, FIX, FRAMES_C, launch, top, withClient } from './client';
import { SourcePolicy } from '../../../debugger/runtime/source-policy';

/** A scenario in a fresh folder running a copy of frames.bpf.o whose source names are `to` (at most 12 characters), or unpatched. */
function objectNaming(to: string | null): { dir: string; scenario: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dap-policy-'));
  const b = Buffer.from(readFileSync(join(FIX, 'frames.bpf.o')));
  if (to !== null) {
    const name = Buffer.from('frames.bpf.c\0');
    let n = 0;
    for (let at = b.indexOf(name); at >= 0; at = b.indexOf(name, at + 1)) {
      let start = at;
      while (start > 0 && b[start - 1] !== 0) start--;
      assert.ok(to.length < at + name.length - start, `${to} fits in place of the name`);
      b.fill(0, start, at + name.length - 1);
      b.write(to, start, 'latin1');
      n++;
    }
    assert.ok(n > 0);
  }
  writeFileSync(join(dir, 'frames.bpf.o'), b);
  const sc = JSON.parse(readFileSync(join(FIX, 'frames.scenario.json'), 'utf8'));
  sc.program = 'frames.bpf.o';
  writeFileSync(join(dir, 'frames.scenario.json'), JSON.stringify(sc));
  return { dir, scenario: join(dir, 'frames.scenario.json') };
}

/** A folder /tmp/qXXXX (short: its file's path must fit in the object's string) holding the source as f. */
function shortOutsideSource(): { dir: string; file: string } {
  const dir = `/tmp/q${randomBytes(3).toString('hex').slice(0, 4)}`;
  mkdirSync(dir);
  const file = `${dir}/f`;
  copyFileSync(FRAMES_C, file);
  return { dir, file };
}

async function firstFrame(dc: DebugClient, args: Record<string, unknown>) {
  const s = await launch(dc, args, () => dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'dap_frames' }] }));
  assert.equal(s?.body.reason, 'function breakpoint');
  return (await top(dc))[0]!;
}

test('a source outside the chosen folders is neither read nor shown: the frame names it, deemphasized, and the console says why once', async () => {
  const out = shortOutsideSource();
  const { dir, scenario } = objectNaming(out.file);
  try {
    await withClient(async (dc) => {
      const log = collectOutput(dc);
      const f = await firstFrame(dc, { scenario });
      assert.equal(f.name, 'dap_frames');
      assert.equal(f.source?.path, undefined, 'no path: the editor opens nothing');
      assert.equal(f.source?.sourceReference ?? 0, 0);
      assert.equal(f.source?.name, `${out.file} (not shown)`);
      assert.equal(f.source?.presentationHint, 'deemphasize');
      assert.match(f.source?.origin ?? '', /^not shown: it is outside the folders sources are read from: .*the program's folder \(/);
      await top(dc);
      await dc.disassembleRequest({ memoryReference: f.instructionPointerReference!, instructionCount: 4 });
      const notes = log.lines.filter((l) => l.includes(`names the source ${out.file}`));
      assert.equal(notes.length, 1, notes.join(''));
      assert.match(notes[0]!, /neither read nor shown: it is outside the folders sources are read from: the debug adapter's folder \(.*\), the program's folder \(.*\), the scenario's folder \(.*\)\. .*add its folder to "sourceRoots"/);
    });
    // listed in "sourceRoots": read and shown
    await withClient(async (dc) => {
      const log = collectOutput(dc);
      const f = await firstFrame(dc, { scenario, sourceRoots: [out.dir] });
      assert.equal(f.source?.path, out.file);
      assert.notEqual(f.source?.presentationHint, 'deemphasize');
      assert.equal(log.lines.filter((l) => l.includes('neither read nor shown')).length, 0);
    });
  } finally {
    rmSync(out.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symlink in the program\'s folder to a source elsewhere is not followed out', async () => {
  const out = shortOutsideSource();
  const { dir, scenario } = objectNaming(null);
  symlinkSync(out.file, join(dir, 'frames.bpf.c'));
  try {
    await withClient(async (dc) => {
      const log = collectOutput(dc);
      const f = await firstFrame(dc, { scenario });
      assert.equal(f.source?.path, undefined);
      assert.equal(f.source?.name, `${join(dir, 'frames.bpf.c')} (not shown)`);
      assert.match(f.source?.origin ?? '', new RegExp(`it resolves to ${out.file}, which is outside`));
      // the inline reader did not read it either: one line, which also says what follows from it
      const notes = log.lines.filter((l) => l.includes('neither read nor shown'));
      assert.equal(notes.length, 1, notes.join(''));
      assert.match(notes[0]!, /Inlined functions of it are not shown/);
    });
  } finally {
    rmSync(out.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('"sourceRoots" is checked at launch: a list of folders', async () => {
  const { dir, scenario } = objectNaming(null);
  try {
    await withClient(async (dc) => {
      await assert.rejects(dc.launch({ scenario, sourceRoots: '/tmp' } as never), /'sourceRoots' must be a list of folder paths/);
      await assert.rejects(dc.launch({ scenario, sourceRoots: [join(dir, 'nope')] } as never), new RegExp(`"sourceRoots": ${join(dir, 'nope')} is not a folder`));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the policy: roots after symlinks, regular files only, the first readable candidate wins', () => {
  const base = mkdtempSync(join(tmpdir(), 'policy-'));
  try {
    const inside = join(base, 'ws');
    const outside = join(base, 'elsewhere');
    mkdirSync(inside); mkdirSync(outside);
    writeFileSync(join(outside, 'a.c'), 'int x;\n');
    writeFileSync(join(inside, 'b.c'), 'int y;\n');
    mkdirSync(join(inside, 'sub'));
    symlinkSync(join(inside, 'b.c'), join(inside, 'sub', 'link.c'));
    const p = new SourcePolicy([{ dir: inside, why: 'the workspace' }]);
    assert.deepEqual(p.find('b.c', [inside]), { path: join(inside, 'b.c') });
    assert.deepEqual(p.find('link.c', [join(inside, 'sub')]), { path: join(inside, 'sub', 'link.c') }, 'a symlink within the roots is fine');
    const r = p.find(join(outside, 'a.c'), [inside]);
    assert.ok(r && 'refused' in r && /outside the folders sources are read from: the workspace/.test(r.why));
    assert.deepEqual(p.find('../elsewhere/a.c', [inside]), { refused: join(outside, 'a.c'), why: `it is outside the folders sources are read from: the workspace (${inside})` });
    assert.equal(p.find('missing.c', [inside]), null);
    assert.deepEqual(p.find(join(inside, 'sub'), [inside]), { refused: join(inside, 'sub'), why: 'it is not a regular file' });
    // an outside candidate first, a readable one later: the readable one
    assert.deepEqual(new SourcePolicy([{ dir: inside, why: 'w' }]).find('b.c', [outside, inside]), { path: join(inside, 'b.c') });
    const once = p.noteOnce({ refused: '/x.c', why: 'it is outside' });
    assert.match(once ?? '', /names the source \/x\.c/);
    assert.equal(p.noteOnce({ refused: '/x.c', why: 'it is outside' }), null);
    assert.doesNotMatch(p.noteOnce({ refused: '/dev/zero', why: 'it is not a regular file' }) ?? '', /sourceRoots/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
