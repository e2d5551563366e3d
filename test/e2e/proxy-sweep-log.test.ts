// The access log through the proxy: one line per request (method, URL, status, time), whichever way the
// answer went — from memory, the full route, a tarball streamed from the upstream or read from the store.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';

type Line = { reqId?: string; msg: string; req?: { method: string; url: string }; res?: { statusCode: number } };

describe('the access log behind the proxy', () => {
  let up: TestServer;
  let down: TestServer;

  before(async () => {
    up = await startServer({});
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const name of ['kind-of', '@pub/logged']) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    down = await startServer({ upstream: { ...defaults.upstream, url: up.url }, accessLog: true });
  });
  after(async () => {
    await down.close();
    await up.close();
  });

  test('each request is written once, with its URL and status', async () => {
    const paths = [
      'kind-of', // the full route, fetched from the upstream
      'kind-of', // from memory
      'kind-of/-/kind-of-1.0.0.tgz', // streamed from the upstream
      'kind-of/-/kind-of-1.0.0.tgz', // from the store
      '@pub%2flogged', // a scoped name: the full route every time
      'no-such-package-here',
      '-/package/kind-of/dist-tags',
    ];
    for (const p of paths) await (await fetch(`${down.url}${p}`)).arrayBuffer();
    const r = await makeNpm(down.url).run(['install'], { cwd: makeProject({ '@pub/logged': '1.0.0' }) });
    assert.equal(r.code, 0, r.output);
    await new Promise((res) => setTimeout(res, 300)); // pino writes the log file asynchronously
    const lines = readFileSync(down.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"reqId"'))
      .map((l) => JSON.parse(l) as Line);
    const byRequest = new Map<string, Line[]>();
    for (const l of lines) byRequest.set(l.reqId ?? '', [...(byRequest.get(l.reqId ?? '') ?? []), l]);
    for (const [id, of] of byRequest) assert.equal(of.length, 1, `${id}: ${JSON.stringify(of)}`);
    const logged = lines.map((l) => `${l.req?.method} /${l.req?.url.slice(1)} ${l.res?.statusCode}`);
    assert.deepEqual(logged.slice(0, paths.length), [
      'GET /kind-of 200',
      'GET /kind-of 200',
      'GET /kind-of/-/kind-of-1.0.0.tgz 200',
      'GET /kind-of/-/kind-of-1.0.0.tgz 200',
      'GET /@pub%2flogged 200',
      'GET /no-such-package-here 404',
      'GET /-/package/kind-of/dist-tags 200',
    ]);
    assert.ok(logged.includes('GET /@pub/logged/-/logged-1.0.0.tgz 200'), logged.join('\n'));
  });
});
