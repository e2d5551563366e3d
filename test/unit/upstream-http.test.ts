// The wire under the proxy (services/upstream-http.ts) against a real loopback server: compressed
// documents decoded, one kept-alive connection for requests in a row, a JSON answer past its bound refused,
// and a kept-alive connection the server dropped retried once on a new one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { send } from '../../src/services/upstream-http.ts';

describe('upstream requests over node:http', () => {
  let connections = 0;
  let dropNext = false;
  const doc = { name: 'wire', versions: { '1.0.0': { name: 'wire', version: '1.0.0' } } };
  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    if (dropNext) {
      dropNext = false;
      req.socket.destroy();
      return;
    }
    const text = JSON.stringify(doc);
    if (req.url === '/gzip') return res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(text));
    if (req.url === '/br') return res.writeHead(200, { 'content-encoding': 'br' }).end(brotliCompressSync(text));
    res.writeHead(200, { 'content-length': Buffer.byteLength(text) }).end(text);
  });
  server.on('connection', () => connections++);
  let base = '';
  const get = (path: string) =>
    send(
      `${base}${path}`,
      { method: 'GET', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) },
      4,
    );

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('gzip and brotli answers are decoded; a plain one tells its length', async () => {
    for (const path of ['/gzip', '/br']) {
      const res = await get(path);
      assert.equal(res.length, undefined, 'an encoded body has no length as it is read');
      assert.deepEqual(await res.json(), doc);
    }
    const plain = await get('/plain');
    assert.equal(plain.length, JSON.stringify(doc).length);
    assert.deepEqual(await plain.json(), doc);
  });

  test('requests in a row share one kept-alive connection', async () => {
    const before = connections;
    for (let i = 0; i < 5; i++) await (await get('/plain')).json();
    assert.ok(connections - before <= 1, `${connections - before} connections for 5 requests`);
  });

  test('a JSON answer past its bound is refused', async () => {
    await assert.rejects((await get('/plain')).json(10), /larger than 10 bytes/);
  });

  test('a kept-alive connection dropped by the server is retried once on a new one', async () => {
    await (await get('/plain')).json(); // leaves a connection in the pool
    dropNext = true;
    assert.deepEqual(await (await get('/plain')).json(), doc);
  });
});
