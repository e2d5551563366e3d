// The installable package bundles every runtime dependency (an install must work offline, on the machine
// that is about to become the registry): a dependency added without bundling it would break `npm install -g`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
  bundleDependencies: string[];
};

test('bundleDependencies lists exactly the dependencies', () => {
  assert.deepEqual([...pkg.bundleDependencies].sort(), Object.keys(pkg.dependencies).sort());
});
