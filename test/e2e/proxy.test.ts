// Proxying public packages from an upstream registry (a second Tessera), cached, with namespace
// protection: names declared private, local scopes and local users' scopes are never fetched upstream.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';

describe('proxying an upstream registry', () => {
  let up: TestServer;
  let down: TestServer;
  let npm: NpmEnv;
  /** What the upstream was asked after setup (the setup itself published there). */
  const asked = () => up.requests.slice(setupRequests);
  let setupRequests = 0;

  before(async () => {
    up = await startServer({}, { recordRequests: true });
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const [name, v] of [
      ['left-padder', '1.0.0'],
      ['left-padder', '1.1.0'],
      ['internal-tools', '6.6.6'],
      ['@corp/evil', '9.9.9'],
      ['@dana/evil', '9.9.9'],
    ]) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, v) });
      assert.equal(r.code, 0, r.output);
    }
    setupRequests = up.requests.length;
    const upstream = { ...defaults.upstream, url: up.url, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    down = await startServer({ upstream, privateNamespaces: ['internal-*'] });
    await down.addUser('dana');
    npm = makeNpm(down.url);
    npm.setToken(down.host, await down.token({ user: 'dana' }));
    const r = await npm.run(['publish'], { cwd: makePackage('@corp/app', '1.0.0') });
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await down.close();
    await up.close();
  });

  test('a public package installs through the proxy, with tarballs served by the proxy', async () => {
    const proj = makeProject({ 'left-padder': '^1.0.0' });
    const r = await npm.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    const lock = JSON.parse(readFileSync(join(proj, 'package-lock.json'), 'utf8'));
    assert.equal(lock.packages['node_modules/left-padder'].version, '1.1.0');
    assert.equal(lock.packages['node_modules/left-padder'].resolved, `${down.url}left-padder/-/left-padder-1.1.0.tgz`);
    assert.ok(up.requests.some((r) => r.startsWith('GET /left-padder/-/left-padder-1.1.0.tgz')));
  });

  test('a cached package is served without asking upstream again', async () => {
    const before = up.requests.length;
    const proj = makeProject({ 'left-padder': '1.1.0' });
    const r = await npm.run(['install', '--prefer-online'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.equal(up.requests.length, before, up.requests.slice(before).join('\n'));
  });

  test('a name declared private is never fetched upstream', async () => {
    const r = await npm.run(['view', 'internal-tools']);
    assert.match(r.output, /E404/);
    assert.ok(!asked().some((x) => x.includes('internal-tools')), 'upstream was asked for a private name');
  });

  test('a scope that exists locally is never fetched upstream (dependency confusion)', async () => {
    const r = await npm.run(['install', '@corp/evil'], { cwd: makeProject() });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /E404/);
    assert.ok(!asked().some((x) => x.includes('evil')), 'upstream was asked for a name in a local scope');
  });

  test("a local user's own scope is never fetched upstream", async () => {
    const r = await npm.run(['view', '@dana/evil']);
    assert.match(r.output, /E404/);
    assert.ok(!asked().some((x) => x.includes('dana')), "upstream was asked for a local user's scope");
  });

  test('publishing a name that exists upstream makes it local from then on', async () => {
    const r = await npm.run(['publish'], { cwd: makePackage('left-padder', '5.0.0') });
    assert.equal(r.code, 0, r.output);
    const v = await npm.run(['view', 'left-padder', 'versions', '--json']);
    assert.deepEqual([JSON.parse(v.stdout)].flat(), ['5.0.0']);
  });
});
