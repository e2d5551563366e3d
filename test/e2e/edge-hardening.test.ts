// The edge: slow requests are cut, every 4xx names its reason (Fastify's and Node's own too), anonymous
// refusals do not grow the audit log without bound, e-mail links go to publicUrl only, and the
// verification token never reaches the access log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { defaults } from '../../src/config/config.ts';

type Raw = { status: number; headers: Record<string, string>; body: string; ms: number };

/** Sends `parts` over a raw socket, one every `gapMs`, and reads until the server closes (at most `waitMs`). */
function rawRequest(s: TestServer, parts: string[], gapMs = 0, waitMs = 5_000): Promise<Raw> {
  const port = Number(s.host.split(':')[1]);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    let i = 0;
    const timer = setInterval(
      () => {
        if (i < parts.length && socket.writable) socket.write(parts[i++]);
      },
      Math.max(gapMs, 1),
    );
    const give = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${waitMs} ms: ${JSON.stringify(out.slice(0, 200))}`));
    }, waitMs);
    socket.on('data', (d) => {
      out += d;
    });
    socket.on('error', () => {
      /* the server may reset after its answer */
    });
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(give);
      const [head, ...rest] = out.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: rest.join('\r\n\r\n'),
        ms: Date.now() - started,
      });
    });
  });
}

const close = 'Host: x\r\nConnection: close\r\n';

describe('request timeouts', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ requestTimeoutMs: 1_000 });
  });
  after(async () => {
    await s.close();
  });

  test('a body that trickles in is cut with 408 request-timeout', async () => {
    const head = `PUT /-/user/org.couchdb.user:trickle HTTP/1.1\r\n${close}Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n{`;
    const r = await rawRequest(s, [head, ...Array(100).fill(' ')], 100);
    assert.equal(r.status, 408);
    assert.equal(r.headers['x-tessera-reason'], 'request-timeout');
    assert.match(JSON.parse(r.body).error, /not received in time \(requestTimeout 1 s\)/);
    assert.ok(r.ms < 3_000, `cut after ${r.ms} ms`);
  });

  test('headers that trickle in are cut too', async () => {
    const r = await rawRequest(s, ['GET / HTTP/1.1\r\n', ...Array(100).fill('X-Slow: 1\r\n')], 100);
    assert.equal(r.status, 408);
    assert.equal(r.headers['x-tessera-reason'], 'request-timeout');
  });

  test('the default is 60 s, and the file key is requestTimeout', async () => {
    assert.equal(defaults.requestTimeoutMs, 60_000);
    const { applyFile } = await import('../../src/config/config.ts');
    assert.equal(applyFile(defaults, { requestTimeout: '5m' }, '.').requestTimeoutMs, 300_000);
    assert.throws(() => applyFile(defaults, { requestTimeout: '10ms' }, '.'), /at least 1s/);
  });
});

describe('every 4xx carries x-tessera-reason', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ maxBodyBytes: 2048 });
  });
  after(async () => {
    await s.close();
  });

  const cases: [string, string, number, string][] = [
    ['a malformed URL escape', `GET /%zz HTTP/1.1\r\n${close}\r\n`, 400, 'bad-url'],
    ['a broken UTF-8 escape', `GET /foo%E0%A4%A HTTP/1.1\r\n${close}\r\n`, 400, 'bad-url'],
    [
      'a parameter over the router limit',
      `DELETE /-/user/token/${'a'.repeat(3000)} HTTP/1.1\r\n${close}\r\n`,
      404,
      'route-not-found',
    ],
    [
      'a malformed content type',
      `PUT /-/user/org.couchdb.user:foo HTTP/1.1\r\n${close}Content-Type: ;;;\r\nContent-Length: 2\r\n\r\n{}`,
      400,
      'invalid-request',
    ],
    [
      'a body over maxBodyBytes',
      `PUT /-/user/org.couchdb.user:foo HTTP/1.1\r\n${close}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`,
      413,
      'body-too-large',
    ],
    ['a request that is not HTTP', 'GARBAGE\r\n\r\n', 400, 'invalid-request'],
    ['a bad Content-Length', `PUT /foo HTTP/1.1\r\n${close}Content-Length: abc\r\n\r\n`, 400, 'invalid-request'],
    [
      'headers over the limit',
      `GET / HTTP/1.1\r\n${close}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers-too-large',
    ],
    [
      'an unknown verification link (HTML page)',
      `GET /-/tessera/v1/email/verify/nope HTTP/1.1\r\n${close}\r\n`,
      400,
      'invalid-request',
    ],
    ['an expired web login (HTML page)', `GET /-/v1/login/cli/nope HTTP/1.1\r\n${close}\r\n`, 404, 'web-login-expired'],
  ];
  for (const [what, request, status, reason] of cases) {
    test(what, async () => {
      const r = await rawRequest(s, [request]);
      assert.equal(r.status, status, r.body);
      assert.equal(r.headers['x-tessera-reason'], reason, JSON.stringify(r.headers));
      if (r.headers['content-type']?.startsWith('application/json')) assert.equal(JSON.parse(r.body).reason, reason);
    });
  }
});

describe('anonymous refusals in the audit log', () => {
  test('a flood of anonymous publishes adds one counted row per reason and minute', async () => {
    const s = await startServer();
    try {
      const rows = () => s.ctx.store.db.selectFrom('audit').selectAll().where('event', '=', 'denied').execute();
      const before = (await rows()).length;
      for (let i = 0; i < 40; i++) {
        const name = `flood-${i % 12}`;
        const res = await fetch(`${s.url}${name}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(await publishBody(name, '1.0.0')),
        });
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('x-tessera-reason'), 'auth-required');
      }
      const after = await rows();
      assert.equal(after.length - before, 1, 'one row for the whole minute');
      const detail = JSON.parse(after.at(-1)!.detail!);
      assert.equal(detail.count, 40);
      assert.equal(detail.packages.length, 10, 'the first ten package names, no more');
      assert.equal(after.at(-1)!.reason, 'auth-required');
      s.clock.advance(60_000);
      await fetch(`${s.url}flood-0`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(await publishBody('flood-0', '1.0.0')),
      });
      assert.equal((await rows()).length - before, 2, 'the next minute starts a new row');
    } finally {
      await s.close();
    }
  });
});

describe('e-mail links and the access log', () => {
  const email = { ...defaults.email, requireVerified: true };
  const outbox = (s: TestServer) => {
    try {
      return readdirSync(join(s.dataDir, 'outbox'));
    } catch {
      return [];
    }
  };

  test('without publicUrl no link is sent: a clear refusal, and a logged error at sign-up', async () => {
    const s = await startServer({ signup: 'open', email });
    try {
      const res = await fetch(`${s.url}-/user/org.couchdb.user:nola`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', host: 'evil.example' },
        body: JSON.stringify({ name: 'nola', password: 'nola-password-1', email: 'nola@example.com' }),
      });
      assert.equal(res.status, 201, await res.text());
      assert.deepEqual(outbox(s), []);
      await new Promise((r) => setTimeout(r, 200));
      assert.match(readFileSync(s.logFile, 'utf8'), /verification e-mail NOT sent: set publicUrl/);
      const token = await s.token({ user: 'nola' });
      const again = await fetch(`${s.url}-/tessera/v1/email/verify`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(again.status, 403);
      assert.equal(again.headers.get('x-tessera-reason'), 'email-link-unavailable');
      assert.deepEqual(outbox(s), []);
    } finally {
      await s.close();
    }
  });

  test('with publicUrl the link points there whatever Host says', async () => {
    const s = await startServer({ signup: 'open', email, publicUrl: 'https://npm.example.com/' });
    try {
      const res = await fetch(`${s.url}-/user/org.couchdb.user:pia`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', host: 'evil.example' },
        body: JSON.stringify({ name: 'pia', password: 'pia-password-1', email: 'pia@example.com' }),
      });
      assert.equal(res.status, 201, await res.text());
      const [file] = outbox(s);
      const text = readFileSync(join(s.dataDir, 'outbox', file), 'utf8');
      assert.match(text, /https:\/\/npm\.example\.com\/-\/tessera\/v1\/email\/verify\/\S+/);
      assert.ok(!text.includes('evil.example'));
    } finally {
      await s.close();
    }
  });

  test('the verification token is redacted from the access log', async () => {
    const s = await startServer({ accessLog: true });
    try {
      await fetch(`${s.url}-/tessera/v1/email/verify/SECRET-PATH-TOKEN`);
      await fetch(`${s.url}-/tessera/v1/email/verify?token=SECRET-QUERY-TOKEN&x=1`);
      await new Promise((r) => setTimeout(r, 200));
      const log = readFileSync(s.logFile, 'utf8');
      assert.ok(log.includes('/-/tessera/v1/email/verify/[redacted]'), 'the request is logged, redacted');
      assert.ok(!log.includes('SECRET-PATH-TOKEN'));
      assert.ok(!log.includes('SECRET-QUERY-TOKEN'));
    } finally {
      await s.close();
    }
  });
});
