#!/usr/bin/env node
// Thin launcher: Tessera's sources are TypeScript run by Node's type stripping (Node >= 22.18).
import '../src/cli/main.ts';
