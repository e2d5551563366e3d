// Namespaces declared private after their upstream copies were cached, as the clean-up after a
// dependency-confusion incident declares them: a scope written as `@corp/*` and a glob (`*-internal`). The
// lockfiles of npm, pnpm and Yarn 4 made before still name those versions: `npm ci`, `pnpm install
// --frozen-lockfile` and `yarn install --immutable` fail on them with a 404, and the upstream is never asked.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc } from '../helpers/clients.ts';
import { gatedUpstream, type UpstreamGate } from '../helpers/upstream-gate.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

describe('private after cached, with old lockfiles of every client', { skip: onceInSqlitePass }, () => {
  let gate: UpstreamGate;
  let up: TestServer;
  let down: TestServer;
  const deps = { 'kind-of': '^6.0.0', '@corp/secret': '^1.0.0', 'data-internal': '^1.0.0' };

  before(async () => {
    ({ gate, up } = await gatedUpstream([
      ['kind-of', '6.0.3'],
      ['@corp/secret', '1.0.0'],
      ['data-internal', '1.0.0'],
    ]));
    down = await startServer({ upstream: { ...defaults.upstream, url: gate.url }, privateNamespaces: [] });
  });
  after(async () => {
    await down?.close();
    await up?.close();
    await gate?.close();
  });

  test('npm ci, pnpm --frozen-lockfile and yarn --immutable fail with 404 on the private names', async () => {
    const npmProject = makeProject(deps);
    const npmInstall = await makeNpm(down.url).run(['install', '--no-audit'], { cwd: npmProject });
    assert.equal(npmInstall.code, 0, npmInstall.output);
    const pnpmProject = makeProject(deps);
    writeNpmrc(pnpmProject, down.url);
    const pnpmInstall = await makePnpm().run(['install'], { cwd: pnpmProject });
    assert.equal(pnpmInstall.code, 0, pnpmInstall.output);
    const yarnProject = makeProject(deps);
    writeYarnrc(yarnProject, down.url);
    const yarnInstall = await makeYarn().run(['install'], { cwd: yarnProject });
    assert.equal(yarnInstall.code, 0, yarnInstall.output);

    down.ctx.config.privateNamespaces = ['@corp/*', '*-internal'];
    try {
      const asked = gate.got.length;
      // Each from an empty cache and no node_modules, as a CI machine runs it.
      for (const dir of [pnpmProject, yarnProject]) rmSync(join(dir, 'node_modules'), { recursive: true });
      const ci = await makeNpm(down.url).run(['ci', '--no-audit'], { cwd: npmProject });
      assert.notEqual(ci.code, 0, ci.output);
      assert.match(ci.output, /E404/);
      const frozen = await makePnpm().run(['install', '--frozen-lockfile'], { cwd: pnpmProject });
      assert.notEqual(frozen.code, 0, frozen.output);
      assert.match(frozen.output, /404/);
      const immutable = await makeYarn().run(['install', '--immutable'], { cwd: yarnProject });
      assert.notEqual(immutable.code, 0, immutable.output);
      assert.match(immutable.output, /404/);
      for (const path of [
        '@corp/secret/-/secret-1.0.0.tgz',
        '@corp%2fsecret/-/secret-1.0.0.tgz',
        '%40corp%2Fsecret/-/secret-1.0.0.tgz',
        '@corp/secret/-/@corp/secret-1.0.0.tgz',
        'data-internal/-/data-internal-1.0.0.tgz',
        '@corp%2fsecret',
        '@corp%2Fsecret/1.0.0',
        'data-internal',
        'data-internal/latest',
      ]) {
        assert.equal((await fetch(`${down.url}${path}`)).status, 404, path);
      }
      const out = gate.got.slice(asked).filter((r) => /corp|internal/.test(r));
      assert.deepEqual(out, [], 'a private name was asked of the upstream');
      // The public name of the same lockfile still installs.
      const pub = makeProject({ 'kind-of': '^6.0.0' });
      writeNpmrc(pub, down.url);
      const alone = await makePnpm().run(['install'], { cwd: pub });
      assert.equal(alone.code, 0, alone.output);
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });
});
