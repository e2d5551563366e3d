// An upstream tarball streams to the client while it arrives; it is kept only once it matched its
// integrity; a mismatch cuts the client's connection, keeps nothing and counts against the breaker;
// a request that comes while the tarball is on its way waits for it instead of fetching it again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { upstreamHealth } from '../../src/services/upstream.ts';

const good = randomBytes(200_000);
/** What the upstream sends for `bad`: other bytes than its packument's integrity names. */
const tampered = randomBytes(200_000);
let up: Server;
let base = '';
let s: TestServer;
const asked: string[] = [];
/** Tarball answers send their first half, then wait for this to be called. */
let release: () => void = () => {};
let held = Promise.resolve();

before(async () => {
  up = createServer((req, res) => {
    const url = req.url ?? '/';
    asked.push(url);
    const tgz = /^\/(good|bad|kept-late)\/-\/[\w-]+-1\.0\.0\.tgz$/.exec(url);
    if (tgz) {
      const body = tgz[1] === 'bad' ? tampered : good;
      res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
      res.write(body.subarray(0, 100_000));
      void held.then(() => res.end(body.subarray(100_000)));
      return;
    }
    const name = url.slice(1);
    const dist = { tarball: `${base}/${name}/-/${name}-1.0.0.tgz`, integrity: ssri.fromData(good).toString() };
    res.setHeader('content-type', 'application/json');
    const versions = { '1.0.0': { name, version: '1.0.0', dist } };
    res.end(JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions }));
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(up.address() as AddressInfo).port}`;
  s = await startServer({ upstream: { ...defaults.upstream, url: `${base}/`, timeoutMs: 10_000 } });
});
after(async () => {
  release();
  await s.close();
  up.closeAllConnections();
  await new Promise((r) => up.close(r));
});

function hold() {
  held = new Promise((r) => {
    release = r;
  });
}

const tarballs = () => asked.filter((u) => u.endsWith('.tgz')).length;

test('the client has bytes before the upstream sent the last; a request meanwhile waits for that fetch', async () => {
  hold();
  const first = await fetch(`${s.url}good/-/good-1.0.0.tgz`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('content-length'), String(good.length));
  const reader = first.body!.getReader();
  let got = 0;
  const parts: Uint8Array[] = [];
  // Bytes arrive while the upstream still holds back its second half (all but the last chunk are passed on).
  while (got === 0) {
    const { value, done } = await reader.read();
    assert.equal(done, false, 'the stream went on before the upstream finished');
    parts.push(value);
    got += value.length;
  }
  assert.ok(got < good.length);
  const second = fetch(`${s.url}good/-/good-1.0.0.tgz`);
  await new Promise((r) => setTimeout(r, 100));
  release();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  assert.deepEqual(Buffer.concat(parts), good);
  const other = await second;
  assert.equal(other.status, 200);
  assert.deepEqual(Buffer.from(await other.arrayBuffer()), good);
  assert.equal(tarballs(), 1, 'one upstream fetch for both');
  const again = await fetch(`${s.url}good/-/good-1.0.0.tgz`);
  assert.deepEqual(Buffer.from(await again.arrayBuffer()), good);
  assert.equal(tarballs(), 1, 'kept: not fetched again');
});

test('a tarball failing its integrity check cuts the connection, is not kept, counts against the breaker', async () => {
  hold();
  const before = upstreamHealth(s.ctx, base).failures;
  const res = await fetch(`${s.url}bad/-/bad-1.0.0.tgz`);
  assert.equal(res.status, 200);
  const body = res.arrayBuffer();
  release();
  await assert.rejects(body, 'the client does not get a whole body');
  assert.equal(upstreamHealth(s.ctx, base).failures, before + 1);
  const row = await s.ctx.store.db
    .selectFrom('versions')
    .select('version')
    .where('package', '=', 'bad')
    .executeTakeFirst();
  assert.equal(row, undefined, 'nothing kept');
  hold();
  const again = fetch(`${s.url}bad/-/bad-1.0.0.tgz`).then((r) => r.arrayBuffer());
  release();
  await assert.rejects(again);
  assert.equal(tarballs(), 3, 'asked again, since nothing was kept');
});

test('a tarball whose bytes match is served whole even when it cannot be kept; the next request fetches it again', async () => {
  // The store refuses one write (a full disk, a bucket gone): a fault put in by hand, since neither can be
  // made to happen here on demand.
  const blobs = s.ctx.store.blobs;
  const put = blobs.put;
  let refused = 0;
  blobs.put = async () => {
    refused++;
    throw new Error('no space left on device');
  };
  const before = tarballs();
  try {
    const res = await fetch(`${s.url}kept-late/-/kept-late-1.0.0.tgz`);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), good);
  } finally {
    blobs.put = put;
  }
  assert.equal(refused, 1);
  await waitFor(() => readFileSync(s.logFile, 'utf8').includes('an upstream tarball could not be kept'));
  const again = await fetch(`${s.url}kept-late/-/kept-late-1.0.0.tgz`);
  assert.deepEqual(Buffer.from(await again.arrayBuffer()), good);
  assert.equal(tarballs(), before + 2, 'fetched again, since the first was not kept');
  const third = await fetch(`${s.url}kept-late/-/kept-late-1.0.0.tgz`);
  assert.deepEqual(Buffer.from(await third.arrayBuffer()), good);
  assert.equal(tarballs(), before + 2, 'kept the second time');
});

async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ok(), 'the condition came true');
}
