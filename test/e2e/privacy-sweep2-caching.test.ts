// A restricted package's bytes, read by a maintainer, must never be marked for a shared cache: a company's
// HTTP proxy or a CDN in front of the registry keeps an answer marked `public` even though the request
// carried Authorization (RFC 9111, 3.5), and hands it to the next caller, anonymous or not. So every answer
// about a restricted package is `private` or `no-store`, whichever path serves it (the full route, the
// install fast path from memory, a stream), while a public package's stay shared-cacheable.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { makeTarball, publishBody } from '../helpers/publish-body.ts';
import { webSignIn } from '../helpers/web-session.ts';
import { createOrg, setMember } from '../../src/services/orgs.ts';
import { userByName } from '../../src/services/accounts.ts';
import type { Principal } from '../../src/domain/principal.ts';

const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
const BUNDLE = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  dsseEnvelope: {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify({ predicateType: 'https://slsa.dev/provenance/v1' })).toString('base64'),
    signatures: [],
  },
});

describe('cache headers of a restricted package', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let auth: Record<string, string>;
  let cookie: string;

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { ...auth, ...headers };
    if (!h.authorization) delete h.authorization;
    const res = await fetch(new URL(path.slice(1), s.url), { headers: h });
    await res.arrayBuffer();
    return { status: res.status, cacheControl: res.headers.get('cache-control') ?? '' };
  };

  /** Every read of `name` a maintainer's client makes, as npm, pnpm, Yarn and a browser ask. */
  const reads = (name: string): [string, string, Record<string, string>?][] => {
    const e = name.replace('/', '%2f');
    const tgz = `/${name}/-/${name.split('/')[1]}-1.0.0.tgz`;
    return [
      ['packument', `/${e}`],
      ['packument, corgi', `/${e}`, { accept: CORGI }],
      ['version', `/${e}/1.0.0`],
      ['tarball (full route)', tgz],
      ['tarball again (from memory)', tgz],
      ['tarball, escaped name', `/${e}/-/${name.split('/')[1]}-1.0.0.tgz`],
      ['attestations', `/-/npm/v1/attestations/${e}@1.0.0`],
      ['attestations, raw slash', `/-/npm/v1/attestations/${name}@1.0.0`],
      ['dist-tags', `/-/package/${e}/dist-tags`],
      ['visibility', `/-/package/${e}/visibility`],
      ['collaborators', `/-/package/${e}/collaborators`],
      ['search', `/-/v1/search?text=${encodeURIComponent(name)}`],
      ['web package page', `/-/web/package/${name}`, { authorization: '', cookie }],
      ['README image', `/-/web/file/${e}/1.0.0/logo.png`, { authorization: '', cookie }],
    ];
  };

  before(async () => {
    s = await startServer();
    for (const u of ['alice', 'bob', 'tess']) await s.addUser(u);
    auth = { authorization: `Bearer ${await s.token({ user: 'alice' })}` };
    await createOrg(s.ctx, 'acme', 'alice');
    const alice = (await userByName(s.ctx, 'alice'))!;
    const asAlice = { user: { ...alice, tfa: null }, credential: { type: 'password' } } as unknown as Principal;
    await setMember(s.ctx, asAlice, 'acme', 'tess', 'developer');
    cookie = await webSignIn(s.url, 'alice');
    for (const [name, access] of [
      ['@alice/secret', 'restricted'],
      ['@alice/open', 'public'],
      ['@acme/tool', 'restricted'],
    ]) {
      const tarball = await makeTarball({
        'package/package.json': JSON.stringify({ name, version: '1.0.0' }),
        'package/logo.png': 'not really a PNG',
      });
      const body = await publishBody(name, '1.0.0', { access, tarball });
      (body._attachments as Record<string, unknown>)[`${name}@1.0.0.sigstore`] = {
        content_type: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        data: BUNDLE,
        length: BUNDLE.length,
      };
      const res = await fetch(new URL(name.replace('/', '%2f'), s.url), {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.text());
    }
    for (const [method, path, body] of [
      ['PUT', '/-/org/acme/team', { name: 'readers' }],
      ['PUT', '/-/team/acme/readers/user', { user: 'tess' }],
      ['PUT', '/-/team/acme/readers/package', { package: '@acme/tool', permissions: 'read-only' }],
    ] as const) {
      const res = await fetch(new URL(path.slice(1), s.url), {
        method,
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.text());
    }
  });
  after(() => s?.close());

  test('no answer about a restricted package may be kept by a shared cache', async () => {
    for (const [what, path, headers] of reads('@alice/secret')) {
      const r = await get(path, headers);
      assert.equal(r.status, 200, `${what}: ${path}`);
      assert.doesNotMatch(r.cacheControl, /public|s-maxage/, `${what}: ${path} says ${r.cacheControl}`);
      assert.match(r.cacheControl, /private|no-store/, `${what}: ${path} says ${r.cacheControl}`);
    }
    // Made public, the same bytes may be shared again; made restricted, they may not any more.
    for (const [access, shared] of [
      ['public', true],
      ['restricted', false],
    ] as const) {
      const res = await fetch(new URL('-/package/@alice%2fsecret/access', s.url), {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ access }),
      });
      assert.equal(res.status, 200, await res.text());
      for (const path of ['/@alice/secret/-/secret-1.0.0.tgz', '/-/npm/v1/attestations/@alice%2fsecret@1.0.0']) {
        const r = await get(path);
        assert.equal(/^public/.test(r.cacheControl), shared, `${access}: ${path} says ${r.cacheControl}`);
      }
    }
  });

  test('a reader who loses access is refused at once, also where the answer came from memory', async () => {
    const tess = { authorization: `Bearer ${await s.token({ user: 'tess' })}` };
    const bob = { authorization: `Bearer ${await s.token({ user: 'bob' })}` };
    const reads = (name: string) => [`/${name.replace('/', '%2f')}`, `/${name}/-/${name.split('/')[1]}-1.0.0.tgz`];
    const statuses = async (name: string, headers: Record<string, string>) => {
      const out: number[] = [];
      // Twice each: the second is answered from memory (install-reads.ts) when the first was allowed.
      for (const path of [...reads(name), ...reads(name)]) {
        const res = await fetch(new URL(path.slice(1), s.url), { headers });
        await res.arrayBuffer();
        out.push(res.status);
      }
      return out;
    };
    const as = async (method: string, path: string, body: unknown) => {
      const res = await fetch(new URL(path.slice(1), s.url), {
        method,
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(res.ok, `${method} ${path}: ${await res.text()}`);
    };
    assert.deepEqual(await statuses('@acme/tool', tess), [200, 200, 200, 200], 'tess reads through her team');
    await as('DELETE', '/-/team/acme/readers/package', { package: '@acme/tool' });
    assert.deepEqual(await statuses('@acme/tool', tess), [404, 404, 404, 404], 'the grant is gone');
    await as('PUT', '/-/team/acme/readers/package', { package: '@acme/tool', permissions: 'read-only' });
    assert.deepEqual(await statuses('@acme/tool', tess), [200, 200, 200, 200], 'granted again');
    await as('DELETE', '/-/team/acme/readers/user', { user: 'tess' });
    assert.deepEqual(await statuses('@acme/tool', tess), [404, 404, 404, 404], 'out of the team');
    for (const headers of [bob, {}]) assert.deepEqual(await statuses('@alice/open', headers), [200, 200, 200, 200]);
    await as('POST', '/-/package/@alice%2fopen/access', { access: 'restricted' });
    for (const headers of [bob, {}]) assert.deepEqual(await statuses('@alice/open', headers), [404, 404, 404, 404]);
    await as('POST', '/-/package/@alice%2fopen/access', { access: 'public' });
  });

  test("a public package's tarball and attestations stay cacheable by anyone", async () => {
    for (const path of ['/@alice/open/-/open-1.0.0.tgz', '/-/npm/v1/attestations/@alice%2fopen@1.0.0']) {
      for (const headers of [auth, { authorization: '' }]) {
        const res = await fetch(new URL(path.slice(1), s.url), { headers: headers.authorization ? headers : {} });
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get('cache-control') ?? '', /^public/, path);
      }
    }
  });
});
