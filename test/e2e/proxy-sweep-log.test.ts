// The access log through the proxy: one line per request (method, URL, status, time), whichever way the
// answer went — from memory, the full route, a tarball streamed from the upstream or read from the store.
// Behind a trusted reverse proxy, an upstream package's ETag follows the forwarded base URL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
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

describe('an upstream package behind a trusted reverse proxy', () => {
  let up: TestServer;
  let down: TestServer;
  before(async () => {
    up = await startServer({});
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage('@pub/forwarded', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    const upstream = { ...defaults.upstream, url: up.url };
    down = await startServer({ upstream, trustedProxies: ['127.0.0.1/32'], accessLog: true });
  });
  after(async () => {
    await down.close();
    await up.close();
  });

  /** A GET with headers fetch would not send as given (Host). */
  const get = (headers: Record<string, string>) =>
    new Promise<{ status: number; etag: string; body: string }>((resolve, reject) => {
      const req = request(`${down.url}@pub%2fforwarded`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag), body: `${Buffer.concat(chunks)}` }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  test('forwarded scheme and host: their own tarball links and ETag; a crossed ETag gets the body', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'registry.example.test' };
    const outside = await get(forwarded);
    const inside = await get({});
    assert.equal(outside.status, 200);
    assert.match(
      outside.body,
      /"tarball":"https:\/\/registry\.example\.test\/@pub\/forwarded\/-\/forwarded-1\.0\.0\.tgz"/,
    );
    assert.match(inside.body, /"tarball":"http:\/\/127\.0\.0\.1:/);
    assert.notEqual(outside.etag, inside.etag);
    assert.equal((await get({ ...forwarded, 'if-none-match': inside.etag })).status, 200);
    assert.equal((await get({ ...forwarded, 'if-none-match': outside.etag })).status, 304);
    assert.equal((await get({ 'if-none-match': outside.etag })).status, 200);
  });
});
