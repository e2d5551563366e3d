// Install reads answered from memory, before Fastify (src/http/install-reads.ts): the answer must be the
// very one the full route gives, and everything the full route decides — a private package, a revoked,
// expired or address-limited token, a change to the package — must still be decided by it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { adminRevoke } from '../../src/services/tokens.ts';

const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

type Answer = { status: number; headers: Record<string, string>; body: Buffer };

async function get(s: TestServer, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const res = await fetch(`${s.url}${path}`, { headers, method });
  const body = Buffer.from(await res.arrayBuffer());
  const h: Record<string, string> = {};
  for (const [k, v] of res.headers) if (k !== 'date') h[k] = v;
  return { status: res.status, headers: h, body };
}

/** GETs `path` and reports whether the request went through Fastify's routes. */
async function routedGet(
  s: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer & { routed: boolean }> {
  const before = s.routed.length;
  const answer = await get(s, path, headers);
  return { ...answer, routed: s.routed.length > before };
}

async function publish(s: TestServer, token: string, name: string, version: string, access?: string): Promise<void> {
  const res = await fetch(`${s.url}${name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(await publishBody(name, version, { access })),
  });
  assert.equal(res.status, 201, await res.text());
}

describe('install reads answered from memory', () => {
  let s: TestServer;
  let token: string;

  before(async () => {
    s = await startServer({}, { recordRequests: true });
    await s.addUser('alice');
    token = await s.token({ user: 'alice' });
    await publish(s, token, 'fast-pkg', '1.0.0');
    await publish(s, token, '@alice/fast', '1.0.0', 'public');
    await publish(s, token, '@alice/secret', '1.0.0', 'restricted');
  });
  after(async () => {
    await s.close();
  });

  const cases: [string, string, (t: string) => Record<string, string>][] = [
    ['abbreviated packument with a token', 'fast-pkg', (t) => ({ authorization: `Bearer ${t}`, accept: CORGI })],
    ['full packument, anonymous', 'fast-pkg', () => ({ accept: 'application/json' })],
    ['scoped packument, %2f-escaped', '@alice%2ffast', (t) => ({ authorization: `Bearer ${t}`, accept: CORGI })],
    ['scoped packument, slash form', '@alice/fast', () => ({})],
    ['tarball with a token', 'fast-pkg/-/fast-pkg-1.0.0.tgz', (t) => ({ authorization: `Bearer ${t}` })],
    ['scoped tarball, anonymous', '@alice/fast/-/fast-1.0.0.tgz', () => ({})],
  ];
  for (const [label, path, headers] of cases) {
    test(`${label}: the second GET is answered before Fastify, with the same status, headers and bytes`, async () => {
      const first = await routedGet(s, path, headers(token));
      const second = await routedGet(s, path, headers(token));
      assert.equal(first.status, 200, first.body.toString());
      assert.equal(second.routed, false, 'the repeated read should not need the full route');
      assert.equal(second.status, first.status);
      assert.deepEqual(second.headers, first.headers);
      assert.ok(second.body.equals(first.body));
    });
  }

  test('If-None-Match with the current ETag: a 304 from memory, with the headers the full route gives', async () => {
    const h = { authorization: `Bearer ${token}`, accept: CORGI };
    const full = await get(s, 'fast-pkg', h);
    const viaRoute = await get(s, 'fast-pkg?cache=1', { ...h, 'if-none-match': full.headers.etag });
    const fast = await routedGet(s, 'fast-pkg', { ...h, 'if-none-match': full.headers.etag });
    assert.equal(fast.routed, false);
    assert.equal(fast.status, 304);
    assert.equal(viaRoute.status, 304);
    assert.deepEqual(fast.headers, viaRoute.headers);
    assert.equal(fast.body.length, 0);
  });

  test('a restricted package: from memory only for a token the full route already let read it', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const first = await routedGet(s, '@alice%2fsecret', auth);
    const second = await routedGet(s, '@alice%2fsecret', auth);
    assert.equal(first.status, 200);
    assert.equal(second.routed, false);
    assert.deepEqual(second.headers, first.headers);
    assert.ok(second.body.equals(first.body));
    assert.equal(second.headers['cache-control'], 'private, max-age=0, must-revalidate');
    await routedGet(s, '@alice/secret/-/secret-1.0.0.tgz', auth);
    assert.equal((await routedGet(s, '@alice/secret/-/secret-1.0.0.tgz', auth)).routed, false);

    await s.addUser('mallory');
    const other = await s.token({ user: 'mallory' });
    for (let i = 0; i < 2; i++) {
      for (const path of ['@alice%2fsecret', '@alice/secret/-/secret-1.0.0.tgz']) {
        const anon = await routedGet(s, path);
        assert.equal(anon.status, 404);
        assert.equal(anon.routed, true);
        const stranger = await routedGet(s, path, { authorization: `Bearer ${other}` });
        assert.equal(stranger.status, 404);
        assert.equal(stranger.routed, true);
      }
    }
  });

  test('what needs more always takes the full route: ?write=true, HEAD, a version URL', async () => {
    const auth = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 2; i++) {
      assert.equal((await routedGet(s, 'fast-pkg?write=true', auth)).routed, true);
      assert.equal((await routedGet(s, 'fast-pkg/1.0.0', auth)).routed, true);
    }
    const before = s.routed.length;
    const head = await get(s, 'fast-pkg', auth, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(s.routed.length, before + 1);
  });

  test('a bad token is refused by the full route even for a package in memory', async () => {
    const bad = await routedGet(s, 'fast-pkg', { authorization: 'Bearer tsr_notarealtoken' });
    assert.equal(bad.status, 401);
    assert.equal(bad.routed, true);
  });

  test('a token revoked after it was cached is refused at once', async () => {
    const t = await s.token({ user: 'alice' });
    const auth = { authorization: `Bearer ${t}` };
    await routedGet(s, 'fast-pkg', auth);
    assert.equal((await routedGet(s, 'fast-pkg', auth)).routed, false);
    await adminRevoke(s.ctx, t);
    const after = await routedGet(s, 'fast-pkg', auth);
    assert.equal(after.status, 401);
    assert.equal(after.headers['x-tessera-reason'], 'token-revoked');
  });

  test('a token that expired after it was cached is refused', async () => {
    const t = await s.token({ user: 'alice', expiresInMs: 60_000 });
    const auth = { authorization: `Bearer ${t}` };
    await routedGet(s, 'fast-pkg', auth);
    assert.equal((await routedGet(s, 'fast-pkg', auth)).routed, false);
    s.clock.advance(61_000);
    try {
      const after = await routedGet(s, 'fast-pkg', auth);
      assert.equal(after.status, 401);
      assert.equal(after.headers['x-tessera-reason'], 'token-expired');
    } finally {
      s.clock.advance(-61_000);
    }
  });

  test('a token limited to other addresses is refused with its reason, every time', async () => {
    const t = await s.token({ user: 'alice', cidr: ['10.0.0.0/8'] });
    for (let i = 0; i < 2; i++) {
      const r = await routedGet(s, 'fast-pkg', { authorization: `Bearer ${t}` });
      assert.equal(r.status, 401);
      assert.equal(r.headers['x-tessera-reason'], 'ip-not-allowed');
      assert.equal(r.routed, true);
    }
    const ok = await s.token({ user: 'alice', cidr: ['127.0.0.0/8'] });
    await routedGet(s, 'fast-pkg', { authorization: `Bearer ${ok}` });
    const fast = await routedGet(s, 'fast-pkg', { authorization: `Bearer ${ok}` });
    assert.equal(fast.status, 200);
    assert.equal(fast.routed, false);
  });

  test('a new version, a deprecation and an unpublish are seen by the next read', async () => {
    const auth = { authorization: `Bearer ${token}`, accept: 'application/json' };
    await get(s, 'fast-pkg', auth);
    await publish(s, token, 'fast-pkg', '1.1.0');
    const after = JSON.parse((await get(s, 'fast-pkg', auth)).body.toString()) as {
      'dist-tags': Record<string, string>;
    };
    assert.equal(after['dist-tags'].latest, '1.1.0');
    assert.equal((await get(s, 'fast-pkg/-/fast-pkg-1.1.0.tgz', auth)).status, 200);
    assert.equal((await routedGet(s, 'fast-pkg/-/fast-pkg-1.1.0.tgz', auth)).routed, false);

    const doc = JSON.parse((await get(s, 'fast-pkg?write=true', auth)).body.toString()) as Record<string, unknown> & {
      versions: Record<string, Record<string, unknown>>;
    };
    doc.versions['1.1.0'].deprecated = 'use 2';
    const put = await fetch(`${s.url}fast-pkg/-rev/${doc._rev as string}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(doc),
    });
    assert.equal(put.status, 201, await put.text());
    const deprecated = JSON.parse((await get(s, 'fast-pkg', auth)).body.toString()) as {
      versions: Record<string, { deprecated?: string }>;
    };
    assert.equal(deprecated.versions['1.1.0'].deprecated, 'use 2');

    const current = JSON.parse((await get(s, 'fast-pkg?write=true', auth)).body.toString()) as { _rev: string };
    const del = await fetch(`${s.url}fast-pkg/-rev/${current._rev}`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 200, await del.text());
    assert.equal((await get(s, 'fast-pkg', auth)).status, 404);
    assert.equal((await get(s, 'fast-pkg/-/fast-pkg-1.1.0.tgz', auth)).status, 404);
  });
});

describe('install reads with the access log on', () => {
  test('reads from memory are logged too: one line each, with status, URL and address, never the token', async () => {
    const s = await startServer({ accessLog: true }, { recordRequests: true });
    try {
      await s.addUser('bob');
      const token = await s.token({ user: 'bob' });
      await publish(s, token, 'logged-pkg', '1.0.0');
      const auth = { authorization: `Bearer ${token}` };
      const first = await routedGet(s, 'logged-pkg', auth);
      const fast = [await routedGet(s, 'logged-pkg', auth), await routedGet(s, 'logged-pkg', auth)];
      assert.equal(first.routed, true);
      assert.deepEqual(
        fast.map((r) => r.routed),
        [false, false],
      );
      const notModified = await routedGet(s, 'logged-pkg', { ...auth, 'if-none-match': first.headers.etag });
      assert.equal(notModified.status, 304);
      const { readFileSync } = await import('node:fs');
      await new Promise((r) => setTimeout(r, 200));
      const log = readFileSync(s.logFile, 'utf8');
      assert.ok(!log.includes(token), 'the token never reaches the log');
      const lines = log
        .split('\n')
        .filter((l) => l.includes('"method":"GET","url":"/logged-pkg"') && l.includes('request completed'))
        .map(
          (l) =>
            JSON.parse(l) as {
              reqId: string;
              req: { method: string; ip: string };
              res: { statusCode: number };
              responseTime: number;
            },
        );
      assert.deepEqual(
        lines.map((l) => l.res.statusCode),
        [200, 200, 200, 304],
      );
      assert.equal(lines.filter((l) => l.reqId.startsWith('mem-')).length, 3, 'three answered from memory');
      assert.equal(new Set(lines.map((l) => l.reqId)).size, 4);
      for (const l of lines) {
        assert.equal(l.req.method, 'GET');
        assert.match(l.req.ip, /127\.0\.0\.1/);
        assert.equal(typeof l.responseTime, 'number');
      }
    } finally {
      await s.close();
    }
  });
});

describe('install reads behind a trusted reverse proxy', () => {
  test('with publicUrl set, reads come from memory; a CIDR-limited token is judged on the forwarded address by the full route', async () => {
    const s = await startServer(
      { trustedProxies: ['127.0.0.1/32'], publicUrl: 'https://registry.example.test/' },
      { recordRequests: true },
    );
    try {
      await s.addUser('carol');
      const token = await s.token({ user: 'carol' });
      await publish(s, token, 'proxied-read', '1.0.0');
      const h = { authorization: `Bearer ${token}`, 'x-forwarded-for': '10.1.2.3' };
      const first = await routedGet(s, 'proxied-read', h);
      const second = await routedGet(s, 'proxied-read', h);
      assert.equal(second.routed, false);
      assert.ok(second.body.equals(first.body));
      assert.match(
        second.body.toString(),
        /"tarball":"https:\/\/registry\.example\.test\/proxied-read\/-\/proxied-read-1\.0\.0\.tgz"/,
      );

      const limited = await s.token({ user: 'carol', cidr: ['10.0.0.0/8'] });
      for (const [ip, status] of [
        ['10.1.2.3', 200],
        ['192.0.2.1', 401],
        ['10.1.2.3', 200],
      ] as const) {
        const r = await routedGet(s, 'proxied-read', { authorization: `Bearer ${limited}`, 'x-forwarded-for': ip });
        assert.equal(r.status, status, `from ${ip}`);
        assert.equal(r.routed, true);
      }
    } finally {
      await s.close();
    }
  });

  test('without publicUrl, the public URL comes from forwarded headers: every read takes the full route', async () => {
    const s = await startServer({ trustedProxies: ['127.0.0.1/32'] }, { recordRequests: true });
    try {
      await s.addUser('dave');
      const token = await s.token({ user: 'dave' });
      await publish(s, token, 'forwarded-host', '1.0.0');
      for (const host of ['a.example.test', 'b.example.test']) {
        const r = await routedGet(s, 'forwarded-host', { 'x-forwarded-host': host, 'x-forwarded-proto': 'https' });
        assert.equal(r.routed, true);
        assert.match(r.body.toString(), new RegExp(`"tarball":"https://${host.replace(/\./g, '\\.')}/forwarded-host/`));
      }
    } finally {
      await s.close();
    }
  });
});

describe('restricted packages: a change of who may read is seen by the next read', () => {
  let s: TestServer;
  let owner: string;
  let member: string;
  const call = async (method: string, path: string, token: string, body: unknown) => {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.text()}`);
  };
  /** Reads twice (the second may come from memory) and returns both statuses. */
  const reads = async (token: string) => {
    const h = { authorization: `Bearer ${token}`, accept: CORGI };
    return [
      (await get(s, '@acme%2fapp', h)).status,
      (await get(s, '@acme/app/-/app-1.0.0.tgz', h)).status,
      (await get(s, '@acme%2fapp', h)).status,
    ];
  };

  before(async () => {
    s = await startServer({}, { recordRequests: true });
    await s.addUser('olga');
    await s.addUser('mika');
    const { createOrg } = await import('../../src/services/orgs.ts');
    await createOrg(s.ctx, 'acme', 'olga');
    owner = await s.token({ user: 'olga' });
    member = await s.token({ user: 'mika' });
    await publish(s, owner, '@acme/app', '1.0.0', 'restricted');
    await call('PUT', '-/org/acme/team', owner, { name: 'readers' });
  });
  after(async () => {
    await s.close();
  });

  test('org membership, team membership and team grants, each way', async () => {
    assert.deepEqual(await reads(member), [404, 404, 404]);
    await call('PUT', '-/org/acme/user', owner, { user: 'mika', role: 'developer' });
    assert.deepEqual(await reads(member), [404, 404, 404], 'a developer sees only what a team was granted');
    await call('PUT', '-/team/acme/readers/user', owner, { user: 'mika' });
    assert.deepEqual(await reads(member), [404, 404, 404]);
    await call('PUT', '-/team/acme/readers/package', owner, { package: '@acme/app', permissions: 'read-only' });
    assert.deepEqual(await reads(member), [200, 200, 200], 'granted');
    const fast = await routedGet(s, '@acme%2fapp', { authorization: `Bearer ${member}`, accept: CORGI });
    assert.equal(fast.routed, false);
    await call('DELETE', '-/team/acme/readers/package', owner, { package: '@acme/app' });
    assert.deepEqual(await reads(member), [404, 404, 404], 'grant revoked');
    await call('PUT', '-/team/acme/readers/package', owner, { package: '@acme/app', permissions: 'read-only' });
    assert.deepEqual(await reads(member), [200, 200, 200]);
    await call('DELETE', '-/team/acme/readers/user', owner, { user: 'mika' });
    assert.deepEqual(await reads(member), [404, 404, 404], 'removed from the team');
    await call('PUT', '-/org/acme/user', owner, { user: 'mika', role: 'admin' });
    assert.deepEqual(await reads(member), [200, 200, 200], 'org admins read every org package');
    await call('DELETE', '-/org/acme/user', owner, { user: 'mika' });
    assert.deepEqual(await reads(member), [404, 404, 404], 'removed from the org');
  });

  test('the package made public and restricted again', async () => {
    assert.deepEqual(await reads(member), [404, 404, 404]);
    await call('POST', '-/package/@acme%2fapp/access', owner, { access: 'public' });
    assert.deepEqual(await reads(member), [200, 200, 200]);
    await call('POST', '-/package/@acme%2fapp/access', owner, { access: 'restricted' });
    assert.deepEqual(await reads(member), [404, 404, 404]);
    assert.deepEqual(await reads(owner), [200, 200, 200]);
  });
});

describe('install reads: what callers control cannot grow memory or change answers', () => {
  test('without publicUrl, every Host gets its own tarball URLs, but only a few are kept per document', async () => {
    const s = await startServer();
    try {
      await s.addUser('erin');
      const token = await s.token({ user: 'erin' });
      await publish(s, token, 'many-hosts', '1.0.0');
      const { readCache } = await import('../../src/services/read-cache.ts');
      const cache = readCache(s.ctx.store);
      const sizes: number[] = [];
      for (let i = 0; i < 40; i++) {
        const { request } = await import('node:http');
        const body = await new Promise<string>((resolve, reject) => {
          const req = request(
            `${s.url}many-hosts`,
            { headers: { host: `h${i}.example.test`, accept: 'application/json' } },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => {
                text += c;
              });
              res.on('end', () => resolve(text));
            },
          );
          req.on('error', reject);
          req.end();
        });
        assert.match(
          body,
          new RegExp(`"tarball":"http://h${i}\\.example\\.test/many-hosts/-/many-hosts-1\\.0\\.0\\.tgz"`),
        );
        sizes.push(cache.documentBytes);
      }
      assert.ok(sizes[39] > 0);
      assert.equal(sizes[39], sizes[30], 'after a few hosts, each new one replaces an old one');
      assert.ok(sizes[39] < 2 * sizes[3], 'bounded');
    } finally {
      await s.close();
    }
  });

  test("a malformed escape gets the full route's answer every time", async () => {
    const s = await startServer({}, { recordRequests: true });
    try {
      await s.addUser('fay');
      const token = await s.token({ user: 'fay' });
      await publish(s, token, 'esc-pkg', '1.0.0');
      await get(s, 'esc-pkg/-/esc-pkg-1.0.0.tgz');
      for (let i = 0; i < 2; i++) {
        const r = await get(s, 'esc-pkg/-/%zz/esc-pkg-1.0.0.tgz');
        assert.ok(r.status >= 400 && r.status < 500, `read ${i + 1}: ${r.status}`);
      }
    } finally {
      await s.close();
    }
  });
});
