// The bundled CLI (esbuild, as `npm run build` makes dist/cli.js) serves DAP through `main(['dap'])`,
// the entry bin/bpf-sockops.js calls. Built into a temporary folder so the test never depends on a stale dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import { FRAMES_C, FRAMES_SCENARIO, ROOT, launch, top } from './client';

test('bundled cli.js: `dap` runs the same adapter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dap-bundle-'));
  await esbuild.build({ entryPoints: { cli: join(ROOT, 'cli/main.ts') }, bundle: true, platform: 'node', target: 'node20', format: 'cjs', outdir: dir, logLevel: 'silent' });
  const launcher = join(dir, 'launch-dap.js');
  writeFileSync(launcher, "require('./cli.js').main(['dap']).then((c) => { process.exitCode = c; });\n");
  const dc = new DebugClient(process.execPath, launcher, 'bpf-sockops', { cwd: ROOT });
  dc.defaultTimeout = 20000;
  await dc.start();
  try {
    const s = await launch(dc, { scenario: FRAMES_SCENARIO }, () => dc.setBreakpointsRequest({ source: { path: FRAMES_C }, breakpoints: [{ line: 63 }] }));
    assert.equal(s?.body.reason, 'breakpoint');
    assert.equal((await top(dc))[0]!.name, 'consume');
  } finally {
    await dc.stop().catch(() => {});
  }
});
