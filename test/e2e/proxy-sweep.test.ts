// Proxy behaviours as a platform team meets them, with real clients: the dist-tags endpoint of cached and
// uncached upstream packages, and private namespaces cutting it off like the packument.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';

describe('the proxy, swept with real clients', () => {
  let up: TestServer;
  let down: TestServer;
  let npm: NpmEnv;

  before(async () => {
    up = await startServer({}, { recordRequests: true });
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const [name, v] of [
      ['kind-of', '6.0.3'],
      ['@pub/widget', '1.0.0'],
      ['@corp/secret', '1.0.0'],
    ]) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, v) });
      assert.equal(r.code, 0, r.output);
    }
    const r = await upNpm.run(['dist-tag', 'add', '@pub/widget@1.0.0', 'stable']);
    assert.equal(r.code, 0, r.output);
    const upstream = { ...defaults.upstream, url: up.url, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    down = await startServer({ upstream, privateNamespaces: [] }, { recordRequests: true });
    npm = makeNpm(down.url);
  });
  after(async () => {
    await down.close();
    await up.close();
  });

  test('npm dist-tag ls answers for upstream packages, cached or not, and not once the name is private', async () => {
    // Not cached yet: the endpoint fetches the packument like a read of it would.
    const cold = await npm.run(['dist-tag', 'ls', '@pub/widget']);
    assert.equal(cold.code, 0, cold.output);
    assert.match(cold.stdout, /^latest: 1\.0\.0$/m);
    assert.match(cold.stdout, /^stable: 1\.0\.0$/m);
    assert.equal((await fetch(`${down.url}kind-of`)).status, 200);
    const cached = await fetch(`${down.url}-/package/kind-of/dist-tags`);
    assert.equal(cached.status, 200);
    assert.deepEqual(await cached.json(), { latest: '6.0.3' });
    down.ctx.config.privateNamespaces = ['kind-*', '@corp'];
    try {
      const asked = up.requests.length;
      assert.equal((await fetch(`${down.url}-/package/kind-of/dist-tags`)).status, 404);
      const secret = await npm.run(['dist-tag', 'ls', '@corp/secret']);
      assert.notEqual(secret.code, 0, secret.output);
      assert.match(secret.output, /E404|404 Not Found/);
      assert.deepEqual(up.requests.slice(asked), [], 'the upstream was asked for a private name');
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });
});
