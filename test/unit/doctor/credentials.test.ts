// Nerf-darts and npm's two credential lookups (reference §2.1–2.3), on a real @npmcli/config load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNpmConfig } from '../../../src/doctor/npm-config.ts';
import {
  credentialForRegistry,
  credentialForRequest,
  nerfDart,
  registryForSpec,
  redact,
} from '../../../src/doctor/credentials.ts';

async function load(userrc: string, projectrc = '', env: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-cred-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'home/.npmrc'), userrc);
  writeFileSync(join(root, 'proj/.npmrc'), projectrc);
  writeFileSync(join(root, 'proj/package.json'), '{}');
  return loadNpmConfig({
    cwd: join(root, 'proj'),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', ...env },
    npmPath: join(root, 'npm'),
  });
}

test('nerfDart follows npm', () => {
  assert.equal(nerfDart('https://host.example/api/npm/repo/'), '//host.example/api/npm/repo/');
  assert.equal(nerfDart('https://host.example/api/npm/repo'), '//host.example/api/npm/');
  assert.equal(nerfDart('https://Host.Example:443/a/b?x=1#f'), '//host.example/a/');
  assert.equal(nerfDart('http://localhost:4873'), '//localhost:4873/');
  assert.equal(nerfDart('https://user:pw@host.example/npm/'), '//host.example/npm/');
});

test('lookup A: longest key wins, with file and line', async () => {
  const cfg = await load('; c\n//reg.example.com/:_authToken=SHORT\n//reg.example.com/npm/repo/:_authToken=LONG\n');
  const c = credentialForRequest(cfg, 'https://reg.example.com/npm/repo/pkg');
  assert.equal(c.kind, 'token');
  assert.equal(c.value, 'LONG');
  assert.equal(c.origin?.line, 3);
  assert.match(c.origin!.file, /home\/\.npmrc$/);
  assert.equal(credentialForRequest(cfg, 'https://reg.example.com/other/x.tgz').value, 'SHORT');
});

test('lookup A: host case, default port and scheme in the key never match', async () => {
  for (const key of ['//Reg.Example.com/', '//reg.example.com:443/', 'https://reg.example.com/']) {
    const cfg = await load(`${key}:_authToken=T\n`);
    assert.equal(credentialForRequest(cfg, 'https://reg.example.com/pkg').kind, 'none', key);
  }
  const port = await load('//reg.example.com/:_authToken=T\n');
  assert.equal(credentialForRequest(port, 'https://reg.example.com:8443/pkg').kind, 'none');
  assert.equal(credentialForRequest(port, 'http://reg.example.com/pkg').kind, 'token', 'scheme is not part of the key');
});

test('lookup A: empty value is skipped, Bearer beats _auth, same-host fallback', async () => {
  const cfg = await load(
    'registry=https://reg.example.com/npm/repo/\n//reg.example.com/:_auth=QUJD\n//reg.example.com/:_authToken=T\n//reg.example.com/npm/repo/:_authToken=\n',
  );
  const c = credentialForRequest(cfg, 'https://reg.example.com/npm/repo/pkg');
  assert.equal(c.kind, 'token');
  assert.equal(c.regKey, '//reg.example.com/');
  const other = await load('registry=https://reg.example.com/npm/repo/\n//reg.example.com/npm/repo/:_authToken=T\n');
  const fb = credentialForRequest(other, 'https://reg.example.com/other/x.tgz');
  assert.equal(fb.kind, 'token');
  assert.equal(fb.sameHostFallback, true);
});

test('lookup A: tarball on another host for a scoped registry gets nothing but a scopeAuthKey', async () => {
  const cfg = await load('@corp:registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=T\n');
  const c = credentialForRequest(cfg, 'https://cdn.example.com/x.tgz', '@corp/x');
  assert.equal(c.kind, 'none');
  assert.equal(c.scopeAuthKey, '//npm.corp.example/');
});

test('lookup B: exact nerf-dart; a registry without trailing slash finds nothing', async () => {
  const cfg = await load('registry=http://127.0.0.1:4873/sub\n//127.0.0.1:4873/sub/:_authToken=T\n');
  assert.equal(credentialForRequest(cfg, 'http://127.0.0.1:4873/sub/pkg').kind, 'token');
  const b = credentialForRegistry(cfg, 'http://127.0.0.1:4873/sub');
  assert.equal(b.kind, 'none');
  assert.equal(b.regKey, '//127.0.0.1:4873/');
  assert.equal(credentialForRegistry(cfg, 'http://127.0.0.1:4873/sub/').kind, 'token');
});

test('project layer beats user layer, and env expansion keeps unset vars literal', async () => {
  const cfg = await load('//r.example.com/:_authToken=USER\n', '//r.example.com/:_authToken=${NOPE}\n');
  const c = credentialForRequest(cfg, 'https://r.example.com/x');
  assert.equal(c.value, '${NOPE}');
  assert.equal(c.origin?.where, 'project');
  assert.deepEqual(
    cfg.origins('//r.example.com/:_authToken').map((o) => o.where),
    ['project', 'user'],
  );
  const set = await load('', '//r.example.com/:_authToken=${YES}\n', { YES: 'abc' });
  assert.equal(credentialForRequest(set, 'https://r.example.com/x').value, 'abc');
});

test('registryForSpec uses the spec scope, including aliases', async () => {
  const cfg = await load('@acme:registry=https://npm.acme.example/\n');
  assert.equal(registryForSpec(cfg, '@acme/x@1').registry, 'https://npm.acme.example/');
  assert.equal(registryForSpec(cfg, 'y@npm:@acme/x@1').registry, 'https://npm.acme.example/');
  assert.equal(registryForSpec(cfg, 'lodash').registry, cfg.defaultRegistry);
});

test('env layer provenance names the variable', async () => {
  const cfg = await load('', '', { 'npm_config_//e.example.com/:_authToken': 'T' });
  const c = credentialForRequest(cfg, 'https://e.example.com/x');
  assert.equal(c.origin?.where, 'env');
  assert.equal(c.origin?.file, 'environment variable npm_config_//e.example.com/:_authToken');
});

test('redact never shows a usable secret', () => {
  assert.equal(redact('tsr_wl0oYSZlKNfelb9N5yXVVdOQ2nHrFW2dhEs3'), 'tsr_***');
  assert.equal(redact('${NPM_TOKEN}'), '${NPM_TOKEN}');
  assert.ok(!redact('abcdefghijkl').includes('cdef'));
});
