// The sweep of "a package the caller may not read answers exactly like one that does not exist", with what
// private-absent.test.ts does not vary: the credentials that fail before any package is looked at (a token
// from outside its CIDR ranges, revoked, expired, a disabled user's), a classic read-only token, an org
// member in a team without a grant, an unscoped private package (a Verdaccio import makes them), the web
// pages and their forms in a browser's session, and every spelling of a request: HEAD, ?write=true, a
// trailing slash, encoded and upper-case names, an existing and a missing version's tarball, a guessed
// ETag, Range, and each Accept npm and browsers send. Each answer is compared with the one for a name that
// was never published, of the same length: status, headers (all but Date) and body, the name swapped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { webSignIn } from '../helpers/web-session.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { createOrg, setMember } from '../../src/services/orgs.ts';
import { disableUser, userByName } from '../../src/services/accounts.ts';
import { revokeTokens } from '../../src/store/tokens.ts';
import { issueToken } from '../../src/services/tokens.ts';
import { lockPackage } from '../../src/store/locks.ts';
import { setPackageSettings } from '../../src/store/package-rows.ts';
import { rerender } from '../../src/store/packages.ts';
import { defaults } from '../../src/config/config.ts';
import type { Grants, Principal } from '../../src/domain/principal.ts';
import { grants as granular } from '../helpers/grants.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { comparable, type Answer } from '../helpers/comparable.ts';

/** Hidden package → a name never published, of the same length and scope. */
const PAIRS: [string, string][] = [
  ['@acme/secret', '@acme/sacret'],
  ['@alice/secret', '@alice/sacret'],
  ['secret-tool', 'sacret-tool'],
];
const esc = (n: string) => n.replace('/', '%2f');
const base = (n: string) => n.split('/').pop()!;
const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const HOOK = 'http://127.0.0.1:9/hook';
/** The ETags alice's reads of the hidden packages got: what a caller who once could read them may still send. */
const seenEtags: string[] = [];

type Req = { method: string; path: string; body?: unknown; headers?: Record<string, string>; form?: object };

/** What npm, pnpm, Yarn and the doctor send about a package, in the spellings people and tools use. */
function apiRequests(name: string, stageId: string): [string, Req][] {
  const e = esc(name);
  const b = base(name);
  const scoped = name.startsWith('@');
  const tgz = `/${name}/-/${b}-1.0.0.tgz`;
  const doc = { _id: name, name, _rev: '1-x' };
  return [
    ['packument', { method: 'GET', path: `/${e}` }],
    ['packument, %2F', { method: 'GET', path: `/${name.replace('/', '%2F')}` }],
    ['packument, %40', { method: 'GET', path: `/${scoped ? `%40${e.slice(1)}` : e}` }],
    ['packument, raw slash', { method: 'GET', path: `/${name}` }],
    ['packument, trailing slash', { method: 'GET', path: `/${e}/` }],
    ['packument, upper case', { method: 'GET', path: `/${esc(name.toUpperCase())}` }],
    ['packument for write', { method: 'GET', path: `/${e}?write=true` }],
    ['packument for write, trailing slash', { method: 'GET', path: `/${e}/?write=true` }],
    ['HEAD packument', { method: 'HEAD', path: `/${e}` }],
    ['HEAD packument for write', { method: 'HEAD', path: `/${e}?write=true` }],
    ['corgi', { method: 'GET', path: `/${e}`, headers: { accept: CORGI } }],
    ['HEAD corgi', { method: 'HEAD', path: `/${e}`, headers: { accept: CORGI } }],
    ['Accept: text/html', { method: 'GET', path: `/${e}`, headers: { accept: BROWSER } }],
    ['Accept: */*', { method: 'GET', path: `/${e}`, headers: { accept: '*/*' } }],
    ['guessed ETag', { method: 'GET', path: `/${e}`, headers: { 'if-none-match': '"1-0123456789abcdef"' } }],
    ['If-None-Match: *', { method: 'GET', path: `/${e}`, headers: { 'if-none-match': '*' } }],
    ['a real ETag', { method: 'GET', path: `/${e}`, headers: { 'if-none-match': seenEtags.join(', ') } }],
    ['a real ETag, corgi', { method: 'GET', path: `/${e}`, headers: { accept: CORGI, 'if-none-match': seenEtags[0] } }],
    ['Range', { method: 'GET', path: `/${e}`, headers: { range: 'bytes=0-9' } }],
    ['version', { method: 'GET', path: `/${e}/1.0.0` }],
    ['missing version', { method: 'GET', path: `/${e}/9.9.9` }],
    ['version range', { method: 'GET', path: `/${e}/%5E1.0.0` }],
    ['dist-tag as version', { method: 'GET', path: `/${e}/latest` }],
    ['HEAD version', { method: 'HEAD', path: `/${e}/1.0.0` }],
    ['tarball', { method: 'GET', path: tgz }],
    ['tarball, escaped name', { method: 'GET', path: `/${e}/-/${b}-1.0.0.tgz` }],
    ['tarball, scoped file name', { method: 'GET', path: `/${name}/-/${name}-1.0.0.tgz` }],
    ['missing version tarball', { method: 'GET', path: `/${name}/-/${b}-9.9.9.tgz` }],
    ['HEAD tarball', { method: 'HEAD', path: tgz }],
    ['tarball Range', { method: 'GET', path: tgz, headers: { range: 'bytes=0-1' } }],
    ['tarball guessed ETag', { method: 'GET', path: tgz, headers: { 'if-none-match': '"x"' } }],
    ['tarball with a query', { method: 'GET', path: `${tgz}?cache=1` }],
    ['tarball delete without revision', { method: 'DELETE', path: tgz }],
    ['unpublish without revision', { method: 'DELETE', path: `/${e}` }],
    ['DELETE a version', { method: 'DELETE', path: `/${e}/1.0.0` }],
    ['PUT a version', { method: 'PUT', path: `/${e}/1.0.0`, body: {} }],
    [
      'deprecate',
      { method: 'PUT', path: `/${e}/-rev/1-x`, body: { ...doc, versions: { '1.0.0': { deprecated: 'gone' } } } },
    ],
    ['PUT bad JSON', { method: 'PUT', path: `/${e}`, body: '{bad' }],
    ['star (pnpm)', { method: 'PUT', path: `/-/user/package/${e}/star` }],
    ['unstar (pnpm)', { method: 'DELETE', path: `/-/user/package/${e}/star` }],
    ['star (v1)', { method: 'PUT', path: '/-/user/v1/star', body: { package: name } }],
    ['unstar (v1)', { method: 'DELETE', path: '/-/user/v1/star', body: { package: name } }],
    ['owner add (pnpm)', { method: 'PUT', path: `/-/package/${e}/owners`, body: { user: 'bob' } }],
    ['owner rm (pnpm)', { method: 'DELETE', path: `/-/package/${e}/owners/alice` }],
    ['dist-tag ls', { method: 'GET', path: `/-/package/${e}/dist-tags` }],
    ['dist-tag ls, %2F', { method: 'GET', path: `/-/package/${name.replace('/', '%2F')}/dist-tags` }],
    ['dist-tag add', { method: 'PUT', path: `/-/package/${e}/dist-tags/beta`, body: '1.0.0' }],
    ['dist-tag add, missing version', { method: 'PUT', path: `/-/package/${e}/dist-tags/beta`, body: '9.9.9' }],
    ['dist-tag rm latest', { method: 'DELETE', path: `/-/package/${e}/dist-tags/latest` }],
    ['collaborators', { method: 'GET', path: `/-/package/${e}/collaborators` }],
    ['access get status', { method: 'GET', path: `/-/package/${e}/visibility` }],
    ['access set mfa', { method: 'POST', path: `/-/package/${e}/access`, body: { publish_requires_tfa: true } }],
    ['trust list', { method: 'GET', path: `/-/package/${e}/trust` }],
    ['OIDC exchange without a token', { method: 'POST', path: `/-/npm/v1/oidc/token/exchange/package/${e}` }],
    ['attestations, escaped', { method: 'GET', path: `/-/npm/v1/attestations/${e}@1.0.0` }],
    ['attestations, no version', { method: 'GET', path: `/-/npm/v1/attestations/${e}` }],
    ['stage list', { method: 'GET', path: `/-/stage?package=${e}` }],
    ['stage view', { method: 'GET', path: `/-/stage/${stageId}` }],
    [
      'hook add',
      { method: 'POST', path: '/-/npm/v1/hooks/hook', body: { type: 'package', name, endpoint: HOOK, secret: 's' } },
    ],
    ['hook ls', { method: 'GET', path: `/-/npm/v1/hooks?package=${e}` }],
    ['audit (bulk)', { method: 'POST', path: '/-/npm/v1/security/advisories/bulk', body: { [name]: ['1.0.0'] } }],
    [
      'access grant',
      { method: 'PUT', path: '/-/team/acme/devs/package', body: { package: name, permissions: 'read-only' } },
    ],
    ['access revoke', { method: 'DELETE', path: '/-/team/acme/devs/package', body: { package: name } }],
    ['explain trust-list', { method: 'GET', path: `/-/tessera/v1/auth/explain?action=trust-list&package=${e}` }],
    ['search', { method: 'GET', path: `/-/v1/search?text=${encodeURIComponent(name)}` }],
    // The same request for both names: a listing that shows the hidden package fails the comparison.
    ['org packages', { method: 'GET', path: '/-/org/acme/package' }],
    ['team packages', { method: 'GET', path: '/-/team/acme/devs/package' }],
    ["another team's packages", { method: 'GET', path: '/-/team/acme/writers/package' }],
    ["alice's packages", { method: 'GET', path: '/-/user/alice/package' }],
    ["alice's stars", { method: 'GET', path: '/-/user/alice/stars' }],
    ['starredByUser', { method: 'GET', path: '/-/_view/starredByUser?key=%22alice%22' }],
    ['every staged version', { method: 'GET', path: '/-/stage' }],
  ];
}

/** The web pages and forms, as a browser sends them (forms carry the session's form token). */
function webRequests(name: string, stageId: string): [string, Req][] {
  const e = esc(name);
  const form = (action: string, f: object): Req => ({ method: 'POST', path: `/-/web/settings/${action}`, form: f });
  return [
    ['package page', { method: 'GET', path: `/-/web/package/${name}` }],
    ['package page, escaped', { method: 'GET', path: `/-/web/package/${e}` }],
    ['version page', { method: 'GET', path: `/-/web/package/${name}/v/1.0.0` }],
    ['missing version page', { method: 'GET', path: `/-/web/package/${name}/v/9.9.9` }],
    ['README image', { method: 'GET', path: `/-/web/file/${e}/1.0.0/logo.png` }],
    ['settings page', { method: 'GET', path: `/-/web/settings/${name}` }],
    ['search page', { method: 'GET', path: `/-/web/search?q=${encodeURIComponent(name)}` }],
    ['staged version page', { method: 'GET', path: `/-/web/staged/${stageId}` }],
    ['settings: access', form('access', { package: name, access: 'public' })],
    ['settings: owner add', form('owner-add', { package: name, user: 'bob' })],
    ['settings: owner remove', form('owner-remove', { package: name, user: 'alice' })],
    ['settings: tag add', form('tag-add', { package: name, tag: 'beta', version: '1.0.0' })],
    ['settings: deprecate', form('deprecate', { package: name, version: '1.0.0', message: 'gone' })],
    ['settings: trust revoke', form('trust-revoke', { package: name, id: randomUUID() })],
    [
      'hook form',
      { method: 'POST', path: '/-/web/hooks', form: { type: 'package', name, endpoint: HOOK, secret: 's' } },
    ],
    ['grant form', { method: 'POST', path: '/-/web/org/acme/grants', form: { team: 'devs', package: name } }],
    ['approve form', { method: 'POST', path: `/-/web/staged/${stageId}/approve`, form: {} }],
    ['home page', { method: 'GET', path: '/-/web/' }],
    ['org page', { method: 'GET', path: '/-/web/org/acme' }],
    ['staging queue page', { method: 'GET', path: '/-/web/staged' }],
  ];
}

const grants = (g: Partial<Grants>): Grants => granular({ packages: ['@alice/other'], ...g });

describe('private answers like absent: every credential, every spelling, the web pages', {
  skip: onceInSqlitePass,
}, () => {
  let s: TestServer;
  const stageIds: Record<string, string> = {};
  const api: Record<string, Record<string, string>> = {};
  const web: Record<string, Record<string, string>> = {};

  async function send(r: Req, headers: Record<string, string>): Promise<Answer> {
    const h: Record<string, string> = { accept: 'application/json', ...headers, ...r.headers };
    let body: string | undefined;
    if (r.form) {
      // The form token is an HMAC of the session (or pre-session) cookie, as the page would have carried it.
      const secret = /tessera-(?:session|csrf)=([^;]+)/.exec(h.cookie ?? '')?.[1] ?? '';
      const csrf = createHmac('sha256', secret).update('tessera web form').digest('base64url');
      h['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({ ...(r.form as Record<string, string>), _csrf: csrf }).toString();
    } else if (r.body !== undefined) {
      h['content-type'] = 'application/json';
      body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    }
    const res = await fetch(new URL(r.path.slice(1), s.url), {
      method: r.method,
      headers: h,
      body,
      redirect: 'manual',
    });
    return comparable(res);
  }

  /** The answer with the name in every spelling (and its staged id) replaced by placeholders. */
  function neutral(a: Answer, name: string): Answer {
    const spellings = [esc(name.toUpperCase()), name.toUpperCase(), esc(name), name.replace('/', '%2F')];
    spellings.push(encodeURIComponent(name), name);
    const swap = (t: string) => {
      let out = t.split(stageIds[name]).join('<stage>');
      for (const sp of spellings) out = out.split(sp).join('<pkg>');
      return out.replace(new RegExp(`${base(name)}-(?=\\d)`, 'g'), '<base>-');
    };
    const headers = Object.fromEntries(Object.entries(a.headers).map(([k, v]) => [k, swap(v)]));
    return { status: a.status, headers, body: swap(a.body) };
  }

  before(async () => {
    // Classic tokens on, for the classic read-only token (they are off by default).
    s = await startServer({ defaultScopedAccess: 'restricted', tokens: { ...defaults.tokens, classic: true } });
    for (const u of ['alice', 'bob', 'dan', 'tess', 'zed']) await s.addUser(u);
    await createOrg(s.ctx, 'acme', 'alice');
    const alice = (await userByName(s.ctx, 'alice'))!;
    const asAlice = { user: { ...alice, tfa: null }, credential: { type: 'password' } } as unknown as Principal;
    for (const u of ['dan', 'tess']) await setMember(s.ctx, asAlice, 'acme', u, 'developer');
    const auth = { authorization: `Bearer ${await s.token({ user: 'alice' })}` };
    const as = async (method: string, path: string, body: unknown, status = 201) => {
      const res = await send({ method, path, body }, auth);
      assert.equal(res.status, status, `${method} ${path}: ${res.body}`);
      return res.body;
    };
    // tess is in a team whose grant is on another package: the org's own packages stay hidden from her.
    await as('PUT', '/-/org/acme/team', { name: 'devs' });
    await as('PUT', '/-/team/acme/devs/user', { user: 'tess' });
    await as('PUT', '/@acme%2fother', await publishBody('@acme/other', '1.0.0'));
    await as('PUT', '/-/team/acme/devs/package', { package: '@acme/other', permissions: 'read-only' });
    for (const [hidden, absent] of PAIRS) {
      await as('PUT', `/${esc(hidden)}`, await publishBody(hidden, '1.0.0'));
      if (hidden.startsWith('@acme/')) {
        // A team dan and tess are not in holds the hidden package: the org's listings have it to leave out.
        await as('PUT', '/-/org/acme/team', { name: 'writers' });
        await as('PUT', '/-/team/acme/writers/package', { package: hidden, permissions: 'read-write' });
      }
      const staged = await as('POST', `/-/stage/package/${esc(hidden)}`, await publishBody(hidden, '1.1.0'));
      stageIds[hidden] = (JSON.parse(staged) as { stageId: string }).stageId;
      stageIds[absent] = randomUUID();
      await as('PUT', `/${esc(hidden)}`, { _id: hidden, users: { alice: true } });
      // Reads by a maintainer first, so the caches the install fast path answers from hold the package.
      await as('GET', `/${esc(hidden)}`, undefined, 200);
      for (const accept of ['application/json', CORGI]) {
        seenEtags.push(
          (await send({ method: 'GET', path: `/${esc(hidden)}`, headers: { accept } }, auth)).headers.etag,
        );
      }
    }
    const again = await send(
      { method: 'GET', path: '/@acme%2fsecret', headers: { 'if-none-match': seenEtags[0] } },
      auth,
    );
    assert.equal(again.status, 304, 'the ETags are the ones a reader revalidates with');
    // npm refuses an unscoped private package; a Verdaccio import (or an older registry) can still make one.
    await s.ctx.store.transaction(async (trx) => {
      await lockPackage(trx, 'secret-tool');
      await setPackageSettings(trx, 'secret-tool', { access: 'restricted' });
      await rerender(trx, 'secret-tool', s.clock.now());
    });
    const bearer = async (spec: Parameters<TestServer['token']>[0]) => ({
      authorization: `Bearer ${await s.token(spec)}`,
    });
    api.anonymous = {};
    api["bob's session"] = await bearer({ user: 'bob' });
    api["bob's password (Basic)"] = { authorization: `Basic ${Buffer.from('bob:bob-password').toString('base64')}` };
    api["bob's classic read-only token"] = await bearer({ user: 'bob', kind: 'classic-readonly' });
    api["alice's read-only token for @alice/other"] = await bearer({
      user: 'alice',
      kind: 'granular',
      grants: grants({ permission: 'read-only' }),
    });
    api["alice's token from outside its CIDR"] = await bearer({ user: 'alice', cidr: ['10.0.0.0/8'] });
    api["alice's expired token"] = await bearer({ user: 'alice', expiresInMs: 1_000 });
    const revoked = await issueToken(s.ctx, { user: 'alice', kind: 'session', expiresInMs: null });
    api["alice's revoked token"] = { authorization: `Bearer ${revoked.token}` };
    api["dan's session (acme developer, no grant)"] = await bearer({ user: 'dan' });
    api["tess's session (acme team without a grant)"] = await bearer({ user: 'tess' });
    api["zed's session (disabled)"] = await bearer({ user: 'zed' });
    api["zed's password (disabled)"] = { authorization: `Basic ${Buffer.from('zed:zed-password').toString('base64')}` };
    // Used once, so its decisions are cached, then revoked; the expired one is used, then its time passes.
    for (const who of ["alice's revoked token", "alice's expired token"]) {
      assert.equal((await send({ method: 'GET', path: '/@alice%2fsecret' }, api[who])).status, 200);
    }
    await revokeTokens(s.ctx.store.db, { id: revoked.id }, 'revoked by its owner', s.clock.now());
    s.clock.advance(5_000);
    await disableUser(s.ctx, 'zed');
    web['a browser, signed out'] = { cookie: 'tessera-csrf=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' };
    for (const u of ['bob', 'dan', 'tess']) web[`${u}'s web session`] = { cookie: await webSignIn(s.url, u) };
  });
  after(() => s?.close());

  async function compare(headers: Record<string, string>, requests: typeof apiRequests, pairs: typeof PAIRS, n = 999) {
    for (const [hidden, absent] of pairs) {
      const onHidden = requests(hidden, stageIds[hidden]).slice(0, n);
      const onAbsent = requests(absent, stageIds[absent]);
      for (const [i, [what, r]] of onHidden.entries()) {
        const h = neutral(await send(r, headers), hidden);
        const a = neutral(await send(onAbsent[i][1], headers), absent);
        assert.deepEqual(h, a, `${hidden}, ${what}: ${r.method} ${r.path} differs from ${absent}'s answer`);
      }
    }
  }

  test('the credentials are what they say (a read of the hidden package fails as the credential should)', async () => {
    const expect: Record<string, [number, string]> = {
      "alice's token from outside its CIDR": [401, 'ip-not-allowed'],
      "alice's expired token": [401, 'token-expired'],
      "alice's revoked token": [401, 'token-revoked'],
      "zed's session (disabled)": [401, 'token-revoked'],
      "zed's password (disabled)": [401, 'user-disabled'],
    };
    for (const [who, headers] of Object.entries(api)) {
      const r = await send({ method: 'GET', path: '/@alice%2fsecret' }, headers);
      assert.deepEqual([r.status, r.headers['x-tessera-reason']], expect[who] ?? [404, 'not-found'], who);
    }
  });

  for (const who of [
    'anonymous',
    "bob's session",
    "bob's password (Basic)",
    "bob's classic read-only token",
    "alice's read-only token for @alice/other",
    "alice's token from outside its CIDR",
    "alice's expired token",
    "alice's revoked token",
    "dan's session (acme developer, no grant)",
    "tess's session (acme team without a grant)",
    "zed's session (disabled)",
    "zed's password (disabled)",
  ]) {
    test(`${who}: every API request about a hidden package answers as for a missing one`, async () => {
      // Basic authentication hashes a password on every request: one pair is enough for it. A disabled
      // account's attempts are failed logins, throttled after a few: the first ones show the answer.
      const basic = who.includes('password');
      await compare(api[who], apiRequests, basic ? PAIRS.slice(0, 1) : PAIRS, who.startsWith('zed') ? 4 : undefined);
    });
  }

  for (const who of ['a browser, signed out', "bob's web session", "dan's web session", "tess's web session"]) {
    test(`${who}: every web page and form about a hidden package answers as for a missing one`, async () => {
      await compare(web[who], webRequests, PAIRS);
    });
  }
});
