// The served ETag covers everything the packument's bytes depend on, the base URL among them: a client
// that reached the registry under another host name or port must not get a 304 for links it cannot use.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';

const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

/** A GET with an explicit Host header (fetch would not send one of our choosing). */
type Answer = { status: number; etag: string; body: string };

function get(s: TestServer, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          etag: String(res.headers.etag),
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ETags per base URL', () => {
  let s: TestServer;
  let port: string;

  before(async () => {
    s = await startServer({}, { recordRequests: true });
    await s.addUser('alice');
    const token = await s.token({ user: 'alice' });
    const res = await fetch(`${s.url}etag-pkg`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody('etag-pkg', '1.0.0')),
    });
    assert.equal(res.status, 201, await res.text());
    port = s.host.split(':')[1];
  });
  after(async () => {
    await s.close();
  });

  for (const [label, accept] of [
    ['full', 'application/json'],
    ['abbreviated', CORGI],
  ]) {
    test(`${label} packument: two base URLs give two ETags, and the other's ETag gets the whole body`, async () => {
      const a = { host: `127.0.0.1:${port}`, accept };
      const b = { host: `localhost:${port}`, accept };
      // Twice each: the first read takes the full route, the second is answered from memory.
      for (let i = 0; i < 2; i++) {
        const fromA = await get(s, 'etag-pkg', a);
        const fromB = await get(s, 'etag-pkg', b);
        assert.equal(fromA.status, 200);
        assert.match(fromA.body, new RegExp(`http://127\\.0\\.0\\.1:${port}/etag-pkg/-/etag-pkg-1\\.0\\.0\\.tgz`));
        assert.match(fromB.body, new RegExp(`http://localhost:${port}/etag-pkg/-/etag-pkg-1\\.0\\.0\\.tgz`));
        assert.notEqual(fromA.etag, fromB.etag);
        const crossed = await get(s, 'etag-pkg', { ...b, 'if-none-match': fromA.etag });
        assert.equal(crossed.status, 200);
        assert.equal(crossed.body, fromB.body);
        const own = await get(s, 'etag-pkg', { ...b, 'if-none-match': fromB.etag });
        assert.equal(own.status, 304);
        assert.equal(own.etag, fromB.etag);
      }
    });
  }
});
