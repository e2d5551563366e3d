// Upstream failure shapes as a proxy in front of a real network meets them, at the socket: connection
// refused, a reset in the middle of a body, 500, 503 with Retry-After, a hang before the headers and one in the
// middle of a body, a Content-Length that lies either way, invalid JSON, a tarball whose bytes are not its
// integrity's. Each one gives the client the reason (never a hang or a 200 of broken bytes), keeps nothing,
// and leaves the kept-alive connections able to answer the next request.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { freePort } from '../helpers/ports.ts';

/** Any name is a package `<name>@1.0.0`; a name `<shape>--<rest>` answers its packument in that shape, and
 *  `tgz-<shape>--<rest>` answers its tarball so (`tgz-bad-bytes--…` sends bytes other than its integrity's). */
function shapedUpstream() {
  let base = '';
  const sockets = new Set<Socket>();
  const tarball = (name: string) => Buffer.from(`the tarball of ${name} `.repeat(400));
  const head = (status: number, length: number | undefined, extra = '') =>
    `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\n${length === undefined ? '' : `content-length: ${length}\r\n`}` +
    `connection: keep-alive\r\n${extra}\r\n`;
  const answer = (socket: Socket, path: string) => {
    const url = decodeURIComponent(path).slice(1);
    const tgz = /^(.+)\/-\/.+-1\.0\.0\.tgz$/.exec(url);
    const name = tgz ? tgz[1] : url;
    const shaped = /^(?:@[^/]+\/)?(?:tgz-)?([a-z0-9-]+?)--/.exec(name);
    const forTarball = name.replace(/^@[^/]+\//, '').startsWith('tgz-');
    const shape = shaped && forTarball === Boolean(tgz) ? shaped[1] : 'ok';
    let body: Buffer;
    if (tgz) {
      body = shape === 'bad' ? Buffer.from(tarball(name).toString().toUpperCase()) : tarball(name);
    } else {
      const dist = {
        tarball: `${base}${name}/-/${name.split('/').pop()}-1.0.0.tgz`,
        integrity: ssri.fromData(tarball(name)).toString(),
      };
      const versions = { '1.0.0': { name, version: '1.0.0', dist } };
      body = Buffer.from(JSON.stringify({ name, 'dist-tags': { latest: '1.0.0' }, versions }));
    }
    const half = body.subarray(0, body.length >> 1);
    switch (shape) {
      case 'reset':
        socket.write(head(200, body.length));
        socket.write(half, () => socket.resetAndDestroy());
        return;
      case '500':
        socket.write(head(500, 5) + 'oops!');
        return;
      case '503':
        socket.write(head(503, 4, 'retry-after: 120\r\n') + 'busy');
        return;
      case 'hang-head':
        return;
      case 'hang-body':
        socket.write(head(200, body.length));
        socket.write(half);
        return;
      case 'long-length':
        // Says more than it sends, then closes.
        socket.write(head(200, body.length + 100));
        socket.end(body);
        return;
      case 'short-length':
        // Says less than it sends, and keeps the connection: the rest arrives as if it began the next answer.
        socket.write(head(200, half.length));
        socket.write(body);
        return;
      case 'bad-json':
        socket.write(head(200, 9) + '{"name": ');
        return;
      default:
        socket.write(head(200, body.length));
        socket.write(body);
    }
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const request = pending.slice(0, end);
        pending = pending.slice(end + 4);
        answer(socket, request.split(' ')[1] ?? '/');
      }
    });
  });
  return {
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const addr = server.address();
      base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
      return base;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const reasonOf = (res: Response) => res.headers.get('x-tessera-reason');

/** The whole answer, or how it broke: a tarball refused after its first bytes ends in a cut connection. */
async function read(url: string): Promise<{ status: number; reason: string | null; body?: Buffer; cut: boolean }> {
  const res = await fetch(url).catch(() => undefined);
  if (!res) return { status: 0, reason: null, cut: true };
  try {
    return { status: res.status, reason: reasonOf(res), body: Buffer.from(await res.arrayBuffer()), cut: false };
  } catch {
    return { status: res.status, reason: reasonOf(res), cut: true };
  }
}

describe('upstream failure shapes', { skip: onceInSqlitePass }, () => {
  const up = shapedUpstream();
  let down: TestServer;
  // Enough failures in a row never open the breaker here: each shape is seen on its own.
  const upstream = { ...defaults.upstream, timeoutMs: 1_500, breakerFailures: 1000, maxConnections: 2 };

  before(async () => {
    down = await startServer({ upstream: { ...upstream, url: await up.start() } });
  });
  after(async () => {
    await down?.close();
    await up.close();
  });

  const shapes = ['reset', '500', '503', 'hang-head', 'hang-body', 'long-length', 'short-length', 'bad-json'];

  test('an uncached packument in each shape: the reason, nothing kept, and the next request answered', async () => {
    for (const shape of shapes) {
      for (const name of [`${shape}--plain`, `@pub/${shape}--scoped`]) {
        const got = await read(`${down.url}${name.replace('/', '%2f')}`);
        assert.equal(got.status, 502, `${shape}: ${name} gave ${got.status} ${got.body}`);
        assert.equal(got.reason, 'upstream-unavailable', shape);
        // Both connections of the pool: whatever the broken answer left on one, the next answers are whole.
        const next = await Promise.all(
          ['fine', '@pub/fine'].map((n) => fetch(`${down.url}${n.replace('/', '%2f')}-after-${shape}`)),
        );
        for (const res of next) {
          const text = await res.text();
          assert.equal(res.status, 200, `after ${shape}: ${res.url} gave ${res.status} ${text}`);
          assert.equal(
            (JSON.parse(text) as { name: string }).name,
            decodeURIComponent(new URL(res.url).pathname.slice(1)),
          );
        }
      }
    }
  });

  test('an uncached tarball in each shape, and one failing its integrity: never whole, not kept, then fetched whole', async () => {
    for (const shape of [...shapes.filter((s) => s !== 'bad-json'), 'bad']) {
      const name = `tgz-${shape}--pkg`;
      assert.equal((await fetch(`${down.url}${name}`)).status, 200);
      const url = `${down.url}${name}/-/${name}-1.0.0.tgz`;
      const expected = Buffer.from(`the tarball of ${name} `.repeat(400));
      const got = await read(url);
      assert.ok(got.cut || got.status === 502, `${shape}: ${got.status}, ${got.body?.length} bytes`);
      if (!got.cut) assert.equal(got.reason, 'upstream-unavailable', shape);
      const next = await read(`${down.url}fine-tgz-after-${shape}/-/fine-tgz-after-${shape}-1.0.0.tgz`);
      assert.equal(next.status, 200, `after ${shape}`);
      assert.equal(next.body?.length, Buffer.from(`the tarball of fine-tgz-after-${shape} `.repeat(400)).length);
      // Nothing of the broken answer was kept: asked again, the upstream is asked again (and still breaks).
      const again = await read(url);
      assert.ok(again.cut || again.status === 502, `${shape} again: ${again.status}`);
      assert.ok(!again.body?.equals(expected) || shape === 'short-length', `${shape}: a broken tarball was kept`);
    }
  });

  test('an upstream refusing connections: the reason with the cause, and a cached copy still answers', async () => {
    assert.equal((await fetch(`${down.url}@pub%2fkept`)).status, 200);
    const saved = down.ctx.config.upstream;
    down.ctx.config.upstream = { ...saved, url: `http://127.0.0.1:${await freePort()}/`, cacheTtlMs: 0 };
    try {
      for (const path of ['refused', '@pub%2frefused', '@pub/refused/-/refused-1.0.0.tgz']) {
        const res = await fetch(`${down.url}${path}`);
        assert.equal(res.status, 502, path);
        assert.equal(reasonOf(res), 'upstream-unavailable', path);
        assert.match(await res.text(), /ECONNREFUSED/, path);
      }
      const kept = await fetch(`${down.url}@pub%2fkept`);
      assert.equal(kept.status, 200, 'a stale copy while the upstream refuses connections');
      assert.equal(((await kept.json()) as { name: string }).name, '@pub/kept');
    } finally {
      down.ctx.config.upstream = saved;
    }
  });
});
