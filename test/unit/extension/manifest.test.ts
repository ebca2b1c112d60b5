// The extension manifest (package.json) against what the code and the files provide: every command
// it shows is registered, every file it points at exists, the restricted settings are real
// settings, and the debugger's attributes are the adapter's launch contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const c = pkg.contributes;
const src = fs.readdirSync('extension', { recursive: true }).filter((f) => String(f).endsWith('.ts')).map((f) => fs.readFileSync(path.join('extension', String(f)), 'utf8')).join('\n');

test('every contributed command is registered by the extension, and every menu entry is contributed', () => {
  const ids = c.commands.map((x: { command: string }) => x.command);
  for (const id of ids) assert.ok(src.includes(`'${id}'`), `${id} is contributed but never registered`);
  for (const [menu, entries] of Object.entries(c.menus) as [string, { command: string }[]][]) {
    for (const e of entries) assert.ok(ids.includes(e.command), `${menu}: ${e.command} is not a contributed command`);
  }
});

test('files the manifest points at exist', () => {
  for (const f of [pkg.icon, ...c.grammars.map((g: { path: string }) => g.path), ...c.jsonValidation.map((j: { url: string }) => j.url)]) {
    assert.ok(fs.existsSync(f), `${f} is missing`);
  }
  const g = JSON.parse(fs.readFileSync(c.grammars[0].path, 'utf8'));
  assert.equal(g.scopeName, c.grammars[0].scopeName);
  assert.deepEqual(c.grammars[0].injectTo, ['source.c']);
});

test('restricted settings exist, and every setting has a description', () => {
  const props = c.configuration.properties;
  for (const k of pkg.capabilities.untrustedWorkspaces.restrictedConfigurations) assert.ok(props[k], `${k} is restricted but not a setting`);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  for (const [k, v] of Object.entries(props) as [string, Record<string, unknown>][]) {
    assert.ok(v.description || v.markdownDescription, `${k} has no description`);
    assert.ok(src.includes(`'${k.replace(/^bpfSockops\./, '')}'`), `${k} is never read by the extension`);
  }
});

test('the kernel profile setting offers exactly the profiles of the sockops table', async () => {
  const { profileNames } = await import('../../../sockops/index');
  assert.deepEqual([...c.configuration.properties['bpfSockops.kernelProfile'].enum].sort(), [...profileNames()].sort());
});

test('the debugger contribution matches the launch contract of the adapter', () => {
  const d = c.debuggers.find((x: { type: string }) => x.type === 'bpf-sockops');
  assert.ok(d);
  const props = d.configurationAttributes.launch.properties;
  assert.deepEqual(Object.keys(props).sort(), ['compiler', 'compilerArgs', 'ignoreVerifier', 'program', 'scenario', 'sourceRoots', 'stopOnEntry']);
  assert.deepEqual(d.configurationAttributes.launch.required, ['program', 'scenario']);
  for (const [k, v] of Object.entries(props) as [string, Record<string, unknown>][]) assert.ok(v.markdownDescription || v.description, `${k} has no description`);
  assert.ok(d.initialConfigurations.every((x: { type: string }) => x.type === 'bpf-sockops'));
  assert.ok(d.configurationSnippets.length >= 1);
  assert.deepEqual(c.breakpoints, [{ language: 'c' }]);
  assert.ok(pkg.activationEvents.includes('onDebugResolve:bpf-sockops'));
  assert.ok(pkg.activationEvents.includes('onLanguage:c'));
});
