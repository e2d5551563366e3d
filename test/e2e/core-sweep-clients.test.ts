// The registry core as npm 11, pnpm 11 and Yarn 4 users drive it, with the variations the older tests leave
// out: `npm pack` then a publish of the .tgz, `--dry-run` (nothing written), bundled dependencies installed
// with and without a lockfile, undeprecate, pnpm's prerelease publish, deprecate of a range with a unicode
// message, unpublish and a refused republish, Yarn's tagged publish and its view of both, and a whole
// unpublish within and past the name's reservation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc, type ClientEnv } from '../helpers/clients.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const MESSAGE = 'Veraltet: nimm 2.x — 使わないで ✓';

describe('every client, the variations', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let token: string;
  let npm: NpmEnv;
  let pnpm: ClientEnv;
  let yarn: ClientEnv;

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    // Long-lived: one test moves the registry's clock past the name reservation.
    token = await s.token({ user: 'alice', expiresInMs: 30 * 86_400_000 });
    npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    pnpm = makePnpm();
    yarn = makeYarn();
  });
  after(() => s.close());

  const doc = async (name: string) => {
    const res = await fetch(`${s.url}${name.replace('/', '%2f')}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (res.status === 200 ? await res.json() : {}) as Record<string, any> };
  };

  test('npm: pack and publish the .tgz, --dry-run, bundled dependencies with and without a lockfile', async () => {
    const dir = makePackage('@cv/packed', '1.0.0', {
      dependencies: { inner: '1.0.0' },
      bundleDependencies: ['inner'],
    });
    mkdirSync(join(dir, 'node_modules', 'inner'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'inner', 'package.json'), '{"name":"inner","version":"1.0.0"}');
    writeFileSync(join(dir, 'node_modules', 'inner', 'index.js'), 'module.exports = "inner";\n');
    let r = await npm.run(['pack'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['publish', join(dir, 'cv-packed-1.0.0.tgz'), '--access', 'public']);
    assert.equal(r.code, 0, r.output);
    const dry = makePackage('@cv/packed', '1.1.0');
    r = await npm.run(['publish', '--dry-run'], { cwd: dry });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\(dry-run\)/);
    assert.deepEqual(Object.keys((await doc('@cv/packed')).body.versions), ['1.0.0']);

    const proj = makeProject({ '@cv/packed': '^1.0.0' });
    r = await npm.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    const inner = join(proj, 'node_modules', '@cv', 'packed', 'node_modules', 'inner', 'index.js');
    assert.equal(readFileSync(inner, 'utf8'), 'module.exports = "inner";\n');
    rmSync(join(proj, 'node_modules'), { recursive: true });
    r = await npm.run(['ci'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.ok(existsSync(inner), 'npm ci from the lockfile installs the bundled dependency too');
  });

  test('pnpm: prerelease with --tag, deprecate a range in unicode, unpublish, republish refused', async () => {
    for (const [version, args] of [
      ['1.0.0', ['--access', 'public']],
      ['1.1.0', []],
      ['2.0.0-rc.1', ['--tag', 'next']],
    ] as const) {
      const dir = makePackage('@cv/pn', version);
      writeNpmrc(dir, s.url, token);
      const r = await pnpm.run(['publish', '--no-git-checks', ...args], { cwd: dir });
      assert.equal(r.code, 0, r.output);
    }
    const cwd = makeProject();
    writeNpmrc(cwd, s.url, token);
    let r = await pnpm.run(['deprecate', '@cv/pn@<2', MESSAGE], { cwd });
    assert.equal(r.code, 0, r.output);
    r = await pnpm.run(['unpublish', '@cv/pn@1.1.0'], { cwd });
    assert.equal(r.code, 0, r.output);
    const { body } = await doc('@cv/pn');
    assert.deepEqual(body['dist-tags'], { latest: '1.0.0', next: '2.0.0-rc.1' });
    assert.deepEqual(Object.keys(body.versions), ['1.0.0', '2.0.0-rc.1']);
    assert.equal(body.versions['1.0.0'].deprecated, MESSAGE);
    assert.equal(body.versions['2.0.0-rc.1'].deprecated, undefined);
    const again = makePackage('@cv/pn', '1.1.0');
    writeNpmrc(again, s.url, token);
    r = await pnpm.run(['publish', '--no-git-checks'], { cwd: again });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /403 Forbidden - PUT .* You cannot publish over the previously published versions: 1\.1\.0/);
    // npm's undeprecate puts the version back as it was.
    r = await npm.run(['undeprecate', '@cv/pn@1.0.0']);
    assert.equal(r.code, 0, r.output);
    assert.equal((await doc('@cv/pn')).body.versions['1.0.0'].deprecated, undefined);
  });

  test('Yarn: npm publish --tag, npm info of tags and deprecations, install then --immutable', async () => {
    const cwd = makePackage('@cv/yn', '3.0.0-beta.0');
    writeYarnrc(cwd, s.url, { token, scope: '@cv' });
    let r = await yarn.run(['install'], { cwd });
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['publish', '--access', 'public'], { cwd: makePackage('@cv/yn', '2.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await yarn.run(['npm', 'publish', '--tag', 'beta'], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /with tag beta/);
    r = await npm.run(['deprecate', '@cv/yn@2.0.0', MESSAGE]);
    assert.equal(r.code, 0, r.output);
    r = await yarn.run(['npm', 'info', '@cv/yn@2.0.0', '--fields', 'dist-tags,deprecated', '--json'], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), {
      name: '@cv/yn',
      'dist-tags': { latest: '2.0.0', beta: '3.0.0-beta.0' },
      deprecated: MESSAGE,
    });
    const proj = makeProject({ '@cv/yn': 'beta' });
    writeYarnrc(proj, s.url, { token, scope: '@cv' });
    r = await yarn.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    rmSync(join(proj, 'node_modules'), { recursive: true });
    r = await yarn.run(['install', '--immutable'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.match(readFileSync(join(proj, 'node_modules', '@cv', 'yn', 'index.js'), 'utf8'), /3\.0\.0-beta\.0/);
  });

  test('a whole unpublish: the name is reserved for a day; after it, only new versions may be published', async () => {
    let r = await npm.run(['publish'], { cwd: makePackage('cv-gone', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['unpublish', 'cv-gone', '--force']);
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['publish'], { cwd: makePackage('cv-gone', '2.0.0') });
    assert.match(r.output, /cv-gone was unpublished on .* and cannot be republished until /, r.output);
    s.clock.advance(24 * 3_600_000 + 1_000);
    r = await npm.run(['publish'], { cwd: makePackage('cv-gone', '1.0.0') });
    assert.match(r.output, /You cannot publish over the previously published versions: 1\.0\.0/, r.output);
    r = await npm.run(['publish'], { cwd: makePackage('cv-gone', '2.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(Object.keys((await doc('cv-gone')).body.versions), ['2.0.0']);
  });
});
