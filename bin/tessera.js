#!/usr/bin/env node
// Thin launcher: Tessera's sources are TypeScript run by Node's type stripping (Node >= 22.18).
// The compile cache keeps the stripped sources between runs, which halves start-up time.
import module from 'node:module';

module.enableCompileCache?.();
await import('../src/cli/main.ts');
