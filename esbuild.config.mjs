// Bundles the entry points: the CLI (also the DAP and LSP servers), and the VS Code extension.
import * as esbuild from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

const entries = [
  { in: 'cli/main.ts', out: 'cli' },
  { in: 'server/main.ts', out: 'server' },
  { in: 'extension/main.ts', out: 'extension', external: ['vscode'] },
];

const watch = process.argv.includes('--watch');
for (const e of entries) {
  const ctx = await esbuild.context({
    entryPoints: { [e.out]: e.in },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: 'dist',
    sourcemap: true,
    external: e.external ?? [],
    logLevel: 'warning',
    define: { __VERSION__: JSON.stringify(version) },
  });
  if (watch) await ctx.watch();
  else { await ctx.rebuild(); await ctx.dispose(); }
}
