// `tessera doctor` with pnpm 11's own settings, second sweep: pnpm 11 takes `registries` from
// pnpm-workspace.yaml, which npm never reads. The doctor says where pnpm sends those scopes, warns when no
// credential in .npmrc (nor in pnpm's own auth.ini, where `pnpm login` writes) reaches that registry, and
// says nothing about a registry that has one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runDoctor } from '../../src/doctor/doctor.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const HOST = 'npm.corp.example.test';
const WORKSPACE = `packages:\n  - "packages/*"\nregistries:\n  '@acme': https://${HOST}/\n  '@other': https://npm.other.example.test/\n`;

async function doctor(files: Record<string, string>, cwd = 'project') {
  const root = mkdtempSync(join(tmpdir(), 'explain-sweep2-doctor-'));
  const all: Record<string, string> = {
    'project/package.json': JSON.stringify({
      name: 'app',
      version: '1.0.0',
      packageManager: 'pnpm@11.28.10',
      dependencies: { '@acme/ui': '^1.0.0' },
    }),
    'project/pnpm-workspace.yaml': WORKSPACE,
    ...files,
  };
  mkdirSync(join(root, 'home'), { recursive: true });
  for (const [file, body] of Object.entries(all)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), body);
  }
  const r = await runDoctor({
    cwd: join(root, cwd),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', NPM_TOKEN: 'tsr_x' },
    offline: true,
    publish: false,
    packages: [],
    npmPath: join(root, 'npm'),
  });
  const pnpm = r.report.findings.filter((f) => f.id === 'pnpm-config');
  return { pnpm, root, dump: JSON.stringify(r.report.findings, null, 1) };
}

describe("doctor: pnpm 11's registries in pnpm-workspace.yaml", { skip: onceInSqlitePass }, () => {
  test('the scopes pnpm sends elsewhere are named, with the line; a registry with no credential is a warning', async () => {
    const r = await doctor({ 'home/.npmrc': '//npm.other.example.test/:_authToken=${NPM_TOKEN}\n' });
    const info = r.pnpm.find((f) => f.severity === 'info');
    assert.ok(info, r.dump);
    assert.match(info.message, new RegExp(`@acme → https://${HOST}/`));
    assert.equal(info.source?.file, join(r.root, 'project/pnpm-workspace.yaml'));
    const warnings = r.pnpm.filter((f) => f.severity === 'warning');
    assert.equal(warnings.length, 1, r.dump);
    assert.match(warnings[0].message, /@acme/);
    assert.equal(warnings[0].source?.line, 4);
    assert.ok(warnings[0].fix.includes(`//${HOST}/:_authToken=`), warnings[0].fix);
    assert.ok(!r.pnpm.some((f) => f.severity === 'error'), r.dump);
  });

  test('run from a workspace package, the file above is found; `pnpm login`’s auth.ini counts as a credential', async () => {
    const r = await doctor(
      {
        'project/packages/web/package.json': '{"name":"web","version":"1.0.0"}',
        'home/.config/pnpm/auth.ini': `//${HOST}/:_authToken=tsr_y\n//npm.other.example.test/:_authToken=tsr_z\n`,
      },
      'project/packages/web',
    );
    assert.ok(
      r.pnpm.some((f) => f.severity === 'info'),
      r.dump,
    );
    assert.ok(!r.pnpm.some((f) => f.severity === 'warning'), r.dump);
  });
});
