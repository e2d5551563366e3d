// Each client's dialect for the everyday maintainer commands, beyond what clients.test.ts shows: npm 11's
// `publish --tag` (a prerelease, and a first version), `dist-tag add/rm` (latest cannot go), `deprecate` of a
// range, `unpublish pkg@version`; pnpm's `publish --tag`; Yarn 4's `npm publish --tag` and `npm tag
// add/remove/list` with a top-level npmAuthToken, then installs of what they tagged.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc } from '../helpers/clients.ts';

describe('maintainer commands in each dialect', () => {
  let s: TestServer;
  let token = '';
  let npm: NpmEnv;
  const doc = async (name: string) =>
    (await (
      await fetch(`${s.url}${name.replace('/', '%2f')}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as Record<string, any>;

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    token = await s.token({ user: 'alice' });
    npm = makeNpm(s.url);
    npm.setToken(s.host, token);
  });
  after(async () => {
    await s.close();
  });

  test('npm 11: publish --tag, dist-tag add/rm, deprecate a range, unpublish one version', async () => {
    for (const v of ['1.0.0', '1.0.1', '1.1.0']) {
      const r = await npm.run(['publish'], { cwd: makePackage('dia-npm', v) });
      assert.equal(r.code, 0, r.output);
    }
    let r = await npm.run(['publish', '--tag', 'next'], { cwd: makePackage('dia-npm', '2.0.0-beta.1') });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual((await doc('dia-npm'))['dist-tags'], { latest: '1.1.0', next: '2.0.0-beta.1' });

    r = await npm.run(['dist-tag', 'add', 'dia-npm@1.0.1', 'lts']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /^\+lts: dia-npm@1\.0\.1$/m);
    r = await npm.run(['dist-tag', 'rm', 'dia-npm', 'lts']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /^-lts: dia-npm@1\.0\.1$/m);
    r = await npm.run(['dist-tag', 'rm', 'dia-npm', 'latest']);
    assert.notEqual(r.code, 0, 'latest cannot be removed');
    assert.equal((await doc('dia-npm'))['dist-tags'].latest, '1.1.0');

    r = await npm.run(['deprecate', 'dia-npm@<1.1.0', 'upgrade to 1.1']);
    assert.equal(r.code, 0, r.output);
    const d = await doc('dia-npm');
    assert.equal(d.versions['1.0.0'].deprecated, 'upgrade to 1.1');
    assert.equal(d.versions['1.0.1'].deprecated, 'upgrade to 1.1');
    assert.equal(d.versions['1.1.0'].deprecated, undefined);
    assert.equal(d.versions['2.0.0-beta.1'].deprecated, undefined);

    r = await npm.run(['unpublish', 'dia-npm@1.0.1']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /^- dia-npm@1\.0\.1$/m);
    const after = await doc('dia-npm');
    assert.deepEqual(Object.keys(after.versions).sort(), ['1.0.0', '1.1.0', '2.0.0-beta.1']);
    assert.equal(after.versions['1.0.0'].deprecated, 'upgrade to 1.1', 'the rest is untouched');
    const proj = makeProject({ 'dia-npm': 'next' });
    const i = await npm.run(['install'], { cwd: proj });
    assert.equal(i.code, 0, i.output);
    assert.equal(
      JSON.parse(readFileSync(join(proj, 'node_modules/dia-npm/package.json'), 'utf8')).version,
      '2.0.0-beta.1',
    );
  });

  test('npm 11: unpublishing the latest version moves latest to the highest one left, not a prerelease', async () => {
    for (const v of ['1.0.0', '1.1.0', '2.0.0-rc.0', '1.2.0']) {
      const r = await npm.run(['publish', ...(v.includes('-') ? ['--tag', 'rc'] : [])], {
        cwd: makePackage('dia-latest', v),
      });
      assert.equal(r.code, 0, r.output);
    }
    const r = await npm.run(['unpublish', 'dia-latest@1.2.0']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual((await doc('dia-latest'))['dist-tags'], { latest: '1.1.0', rc: '2.0.0-rc.0' });
    const proj = makeProject({ 'dia-latest': 'latest' });
    const i = await npm.run(['install'], { cwd: proj });
    assert.equal(i.code, 0, i.output);
    assert.equal(JSON.parse(readFileSync(join(proj, 'node_modules/dia-latest/package.json'), 'utf8')).version, '1.1.0');
  });

  test('npm 11: unpublishing a version a dist-tag names drops the tag; the last version goes only with --force', async () => {
    for (const v of ['1.0.0', '1.1.0']) {
      const r = await npm.run(['publish'], { cwd: makePackage('dia-tagged', v) });
      assert.equal(r.code, 0, r.output);
    }
    let r = await npm.run(['dist-tag', 'add', 'dia-tagged@1.0.0', 'lts']);
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['unpublish', 'dia-tagged@1.0.0']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual((await doc('dia-tagged'))['dist-tags'], { latest: '1.1.0' });
    r = await npm.run(['unpublish', 'dia-tagged@1.1.0']);
    assert.notEqual(r.code, 0, 'npm asks for --force before the last version');
    r = await npm.run(['unpublish', 'dia-tagged@1.1.0', '--force']);
    assert.equal(r.code, 0, r.output);
    const gone = await fetch(`${s.url}dia-tagged`);
    assert.equal(gone.status, 404);
    r = await npm.run(['view', 'dia-tagged']);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /E404/);
  });

  test("npm 11: a package's first version published with --tag is installable by that tag and by a range", async () => {
    const r = await npm.run(['publish', '--tag', 'beta'], { cwd: makePackage('@alice/dia-first', '0.1.0') });
    assert.equal(r.code, 0, r.output);
    assert.equal((await doc('@alice/dia-first'))['dist-tags'].beta, '0.1.0');
    const proj = makeProject({ '@alice/dia-first': '^0.1.0' });
    const i = await npm.run(['install'], { cwd: proj });
    assert.equal(i.code, 0, i.output);
  });

  test('pnpm 11: publish --tag', async () => {
    const pnpm = makePnpm();
    for (const [v, tag] of [
      ['1.0.0', null],
      ['1.1.0-rc.0', 'rc'],
    ] as const) {
      const pkg = makePackage('dia-pnpm', v);
      writeNpmrc(pkg, s.url, token);
      const r = await pnpm.run(['publish', '--no-git-checks', ...(tag ? ['--tag', tag] : [])], { cwd: pkg });
      assert.equal(r.code, 0, r.output);
    }
    assert.deepEqual((await doc('dia-pnpm'))['dist-tags'], { latest: '1.0.0', rc: '1.1.0-rc.0' });
  });

  test('Yarn 4 with a top-level npmAuthToken: npm publish --tag, npm tag add/list/remove, install by tag', async () => {
    const yarn = makeYarn();
    for (const [v, tag] of [
      ['1.0.0', null],
      ['1.1.0-beta.0', 'beta'],
    ] as const) {
      const dir = makePackage('dia-yarn', v);
      writeYarnrc(dir, s.url, { token });
      assert.equal((await yarn.run(['install'], { cwd: dir })).code, 0);
      const r = await yarn.run(['npm', 'publish', ...(tag ? ['--tag', tag] : [])], { cwd: dir });
      assert.equal(r.code, 0, r.output);
    }
    assert.deepEqual((await doc('dia-yarn'))['dist-tags'], { latest: '1.0.0', beta: '1.1.0-beta.0' });

    const proj = makeProject({ 'dia-yarn': 'beta' });
    writeYarnrc(proj, s.url, { token });
    let r = await yarn.run(['npm', 'tag', 'add', 'dia-yarn@1.0.0', 'stable'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    r = await yarn.run(['npm', 'tag', 'list', 'dia-yarn'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /dia-yarn@stable → 1\.0\.0/);
    r = await yarn.run(['npm', 'tag', 'remove', 'dia-yarn', 'stable'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.equal((await doc('dia-yarn'))['dist-tags'].stable, undefined);
    r = await yarn.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.equal(
      JSON.parse(readFileSync(join(proj, 'node_modules/dia-yarn/package.json'), 'utf8')).version,
      '1.1.0-beta.0',
    );
  });
});
