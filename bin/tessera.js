#!/usr/bin/env node
// Thin launcher. It checks the Node version first, in code every Node since 14 runs, so an old Node gets
// a clear message instead of a syntax error from deep inside. From a clone it runs the TypeScript sources
// (Node's type stripping); installed as a package it runs the JavaScript that `npm pack` built into dist/.
import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [wantMajor, wantMinor] = /(\d+)\.(\d+)/.exec(pkg.engines.node).slice(1).map(Number);
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
  process.stderr.write(
    `tessera: this is Node.js ${process.version} (${process.execPath}); Tessera needs Node.js ${pkg.engines.node}.\n` +
      'Install Node.js 22 or 24 (LTS) and run tessera with it.\n',
  );
  process.exit(1);
}

// Node 22 calls node:sqlite experimental and says so on every run (Node 24 does not); an operator can do
// nothing about it, so only that warning is dropped.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) =>
  /^SQLite is an experimental feature/.test(String(warning)) ? undefined : emitWarning.call(process, warning, ...rest);

// The compile cache keeps compiled (and, from a clone, stripped) modules between runs: start-up halves.
module.enableCompileCache?.();
const sources = new URL('../src/cli/main.ts', import.meta.url);
await import(existsSync(sources) ? sources.href : '../dist/cli/main.js');
