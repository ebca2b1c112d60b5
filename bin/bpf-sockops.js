#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is bundled to dist/cli.js by `npm run build` (run by `npm install` via "prepare").
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`bpf-sockops: ${bundle} is missing; run \`npm run build\` in ${path.join(__dirname, '..')} first.\n`);
  process.exit(2);
}
require(bundle).main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  process.stderr.write(`bpf-sockops: internal error: ${err && err.stack || err}\n`);
  process.exitCode = 70;
});
