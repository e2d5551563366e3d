// The OIDC exchange against hostile id tokens (issue #11): look-alike issuers, CircleCI's per-organization
// issuers, the audience never taken from Host, junk refused before any fetch, discovery fetched once, empty
// claim lists, and trusted-publishing tokens that publish and do nothing else. Local issuers count every
// request they get, so "refused before any fetch" and "never asked the attacker" are asserted, not assumed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { exportSPKI, importJWK, SignJWT, type JWK } from 'jose';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { startIssuer, type Issuer } from '../helpers/oidc-issuer.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { defaults } from '../../src/config/config.ts';
import { DISCOVERY_TTL_MS } from '../../src/services/oidc-keys.ts';

type Answer = { status: number; reason: string | undefined; message: string; token?: string };

/** POSTs an exchange over node:http, so the test chooses the Host header (fetch may not). */
function exchangeAt(s: TestServer, pkg: string, jwt: string, host = s.host): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(s.host.split(':')[1]),
        method: 'POST',
        path: `/-/npm/v1/oidc/token/exchange/package/${pkg.replace('/', '%2f')}`,
        headers: { host, authorization: `Bearer ${jwt}`, 'content-length': 0 },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => {
          const body = JSON.parse(text) as { message?: string; token?: string };
          const reason = res.headers['x-tessera-reason'];
          resolve({
            status: res.statusCode ?? 0,
            reason: typeof reason === 'string' ? reason : undefined,
            message: body.message ?? '',
            token: body.token,
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const CIRCLE = 'oidc.circleci.com/';
const ORG = '5f2e3a1c-0b7d-4e0a-9c1e-2d3f4a5b6c7d';
const circleClaims = (org = ORG) => ({
  [`${CIRCLE}org-id`]: org,
  [`${CIRCLE}project-id`]: 'p-1',
  [`${CIRCLE}pipeline-definition-id`]: 'd-1',
  [`${CIRCLE}vcs-origin`]: 'github.com/acme/app',
});
const githubClaims = { repository: 'acme/app', workflow_ref: 'acme/app/.github/workflows/publish.yml@refs/heads/main' };

describe('OIDC exchange hardening', () => {
  let s: TestServer;
  let gh: Issuer;
  let circle: Issuer;
  let forge: Issuer;
  let evil: Issuer;
  let alice: NpmEnv;
  let session = '';
  let secret = '';
  // The registry's public URL decides the audience; requests still arrive for 127.0.0.1.
  const AUD = 'npm:registry.example.test';
  const ghIss = () => `${gh.url}/a`;
  const circleIss = (org = ORG) => `${circle.url}/org/${org}`;
  const code = () => {
    s.clock.advance(30_000);
    return codeAt(secret, s.clock.now());
  };
  /** The attacker listens on a port whose digits extend the one a configured CircleCI prefix names. */
  const lookalikePrefix = () => evil.url.slice(0, -1);

  async function refused(jwt: string, message: RegExp, pkg = 'oh-pkg') {
    const r = await exchangeAt(s, pkg, jwt);
    assert.equal(r.status, 401, r.message);
    assert.equal(r.reason, 'oidc-exchange-failed');
    assert.match(r.message, message);
  }
  async function addTrust(pkg: string, configs: object[]) {
    return fetch(`${s.url}-/package/${pkg}/trust`, {
      method: 'POST',
      body: JSON.stringify(configs),
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json', 'npm-otp': code() },
    });
  }

  before(async () => {
    [gh, circle, forge, evil] = await Promise.all([startIssuer(), startIssuer(), startIssuer(), startIssuer()]);
    s = await startServer({
      publicUrl: 'http://registry.example.test/',
      oidc: {
        ...defaults.oidc,
        issuers: [
          { name: 'github', type: 'github', issuer: ghIss(), jwksUri: null },
          { name: 'circleci', type: 'circleci', issuer: `${circle.url}/org`, jwksUri: null },
          { name: 'circle-origin', type: 'circleci', issuer: lookalikePrefix(), jwksUri: null },
          { name: 'forge', type: 'generic', issuer: forge.url, jwksUri: null },
        ],
      },
    });
    await s.addUser('alice');
    session = await s.token({ user: 'alice', expiresInMs: 30 * 86_400_000 });
    alice = makeNpm(s.url);
    alice.setToken(s.host, session);
    secret = await enable2fa(s.url, `Bearer ${session}`, {
      mode: 'auth-only',
      password: 'alice-password',
      code: (k) => codeAt(k, s.clock.now()),
    });
    for (const pkg of ['oh-pkg', 'oh-circle', 'oh-forge']) {
      const r = await alice.run(['publish'], { cwd: makePackage(pkg, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    const permissions = ['createPackage'];
    const claims = { repository: 'acme/app', workflow_ref: { file: 'publish.yml' } };
    const gitHub = { type: 'github', claims, permissions };
    assert.equal((await addTrust('oh-pkg', [gitHub])).status, 201);
    const circleCi = { type: 'circleci', claims: circleClaims(), permissions };
    assert.equal((await addTrust('oh-circle', [circleCi])).status, 201);
    const generic = { type: 'generic', issuer: 'forge', claims: { repository: 'team/lib' }, permissions };
    assert.equal((await addTrust('oh-forge', [generic])).status, 201);
  });
  after(async () => {
    await s.close();
    await Promise.all([gh, circle, forge, evil].map((i) => i.close()));
  });

  test('an iss that only looks like a configured issuer is refused, and nothing is fetched for it', async () => {
    const before = gh.requests.length;
    const lookalikes = [`${ghIss()}.evil`, `${gh.url}/ab`, `${ghIss()}/b`, gh.url, `${evil.url}/a`, evil.url];
    for (const iss of [...lookalikes, ` ${ghIss()}`]) {
      const jwt = await gh.sign({ aud: AUD, ...githubClaims }, { iss });
      await refused(jwt, /issuer ".*" is not configured on this registry/);
    }
    // A CircleCI prefix ends at a path boundary: the attacker's port extends the configured one.
    const viaPort = await evil.sign({ aud: AUD, ...circleClaims() }, { iss: `${evil.url}/${ORG}` });
    await refused(viaPort, /is not configured/, 'oh-circle');
    assert.equal(gh.requests.length, before, gh.requests.join(', '));
    assert.equal(evil.requests.length, 0, evil.requests.join(', '));
  });

  test('CircleCI: the per-organization issuer is the configured prefix plus one path segment', async () => {
    const base = circle.url;
    for (const iss of [
      `${base}/org`,
      `${base}/org/`,
      `${base}/org.evil/${ORG}`,
      `${base}/orgs/${ORG}`,
      `${circleIss()}/x`,
      `${base}/org/..`,
      `${base}/org/a%2f..`,
      `${base}/org/${ORG}?x=1`,
    ]) {
      await refused(await circle.sign({ aud: AUD, ...circleClaims() }, { iss }), /is not configured/, 'oh-circle');
    }
    // The organization in the issuer must be the one the token's claims name.
    const otherOrg = await circle.sign({ aud: AUD, ...circleClaims() }, { iss: circleIss('other-org') });
    await refused(otherOrg, /name different organizations/, 'oh-circle');
    assert.equal(circle.requests.length, 0, 'nothing was fetched for a refused issuer');
    const good = await circle.sign({ aud: AUD, ...circleClaims() }, { iss: circleIss() });
    const ok = await exchangeAt(s, 'oh-circle', good);
    assert.equal(ok.status, 201, ok.message);
    assert.ok(circle.requests.includes(`GET /org/${ORG}/.well-known/openid-configuration`), circle.requests.join(', '));
    assert.equal(evil.requests.length, 0, evil.requests.join(', '));
  });

  test('malformed id tokens are refused before anything is fetched', async () => {
    const before = gh.requests.length;
    const good = await gh.sign({ aud: AUD, ...githubClaims }, { iss: ghIss() });
    const [h, p, sig] = good.split('.');
    await refused(`${h}.${p}`, /not a JWT/);
    await refused(`${good}.${sig}`, /not a JWT/);
    await refused(`${h}.${p}!.${sig}`, /not a JWT/);
    await refused(`${h}.${p}.${sig}=`, /not a JWT/);
    await refused(`${h}.bm90IGpzb24.${sig}`, /not a JWT/);
    await refused(await gh.sign({ aud: AUD, ...githubClaims }, { iss: ghIss(), kid: null }), /names no key id/);
    const long = await gh.sign({ aud: AUD, ...githubClaims, padding: 'x'.repeat(9_000) }, { iss: ghIss() });
    await refused(long, /longer than 8192 characters/);
    assert.equal(gh.requests.length, before, gh.requests.join(', '));
  });

  test("alg=none and HS256 signed with the issuer's public key are refused before anything is fetched", async () => {
    const jwks = (await (await fetch(`${gh.url}/.well-known/jwks`)).json()) as { keys: JWK[] };
    const before = gh.requests.length;
    const pem = await exportSPKI((await importJWK(jwks.keys[0], 'RS256')) as CryptoKey);
    const now = Math.floor(Date.now() / 1000);
    const kid = jwks.keys[0].kid;
    const hs = await new SignJWT({ aud: AUD, ...githubClaims })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer(ghIss())
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(pem));
    await refused(hs, /signing algorithm is not accepted/);
    const good = await gh.sign({ aud: AUD, ...githubClaims }, { iss: ghIss() });
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid })).toString('base64url')}.${good.split('.')[1]}.`;
    await refused(none, /signing algorithm is not accepted/);
    assert.equal(gh.requests.length, before, gh.requests.join(', '));
  });

  test('the audience comes from publicUrl, whatever Host the request carries', async () => {
    const sign = (aud: string) => gh.sign({ aud, ...githubClaims }, { iss: ghIss() });
    let r = await exchangeAt(s, 'oh-pkg', await sign(AUD), 'attacker.example:8080');
    assert.equal(r.status, 201, r.message);
    r = await exchangeAt(s, 'oh-pkg', await sign('npm:attacker.example'), 'attacker.example');
    assert.equal(r.status, 401);
    assert.match(r.message, /audience must be "npm:registry\.example\.test"/);
    r = await exchangeAt(s, 'oh-pkg', await sign('npm:127.0.0.1'));
    assert.match(r.message, /audience must be "npm:registry\.example\.test"/);
  });

  test('without publicUrl or oidc.audience, every exchange is refused with a reason that says to set one', async () => {
    const bare = await startServer({
      oidc: { ...defaults.oidc, issuers: [{ name: 'github', type: 'github', issuer: ghIss(), jwksUri: null }] },
    });
    try {
      const before = gh.requests.length;
      const jwt = () => gh.sign({ aud: 'npm:127.0.0.1', ...githubClaims }, { iss: ghIss() });
      const r = await exchangeAt(bare, 'oh-pkg', await jwt());
      assert.equal(r.status, 403);
      assert.equal(r.reason, 'oidc-audience-unset');
      assert.match(r.message, /set publicUrl \(or oidc\.audience\)/);
      assert.match(r.message, /\/-\/help\/oidc-audience-unset/);
      assert.equal(gh.requests.length, before);
      bare.ctx.config.oidc.audience = 'npm:127.0.0.1';
      const configured = await exchangeAt(bare, 'oh-pkg', await jwt());
      assert.equal(configured.status, 404, 'past the audience (no such package on this server)');
    } finally {
      await bare.close();
    }
  });

  test('a trust configuration with an empty claim list is refused when it is created', async () => {
    const cases: [object, RegExp][] = [
      [{ repository: [], workflow_ref: { file: 'x.yml' } }, /claim repository is an empty list, which would match any/],
      [{ repository: 'acme/app', workflow_ref: { file: '' } }, /claim workflow_ref must be a non-empty string/],
      [{ repository: ['acme/app', ''], workflow_ref: { file: 'x.yml' } }, /claim repository must be a non-empty/],
      [{ repository: 'acme/app', workflow_ref: { file: 'x.yml' }, environment: [] }, /claim environment is an empty/],
    ];
    for (const [claims, detail] of cases) {
      const res = await addTrust('oh-forge', [{ type: 'github', claims, permissions: ['createPackage'] }]);
      const body = (await res.json()) as { message: string };
      assert.equal(res.status, 400, body.message);
      assert.match(body.message, /^Invalid trust configuration: /);
      assert.match(body.message, detail);
    }
    const headers = { authorization: `Bearer ${session}` };
    const list = await (await fetch(`${s.url}-/package/oh-forge/trust`, { headers })).json();
    assert.equal((list as unknown[]).length, 1, 'only the generic configuration from before');
  });

  test('a trusted-publishing token publishes; no whoami, profile, token list or dist-tags', async () => {
    const r0 = await exchangeAt(s, 'oh-pkg', await gh.sign({ aud: AUD, ...githubClaims }, { iss: ghIss() }));
    assert.equal(r0.status, 201, r0.message);
    const ci = makeNpm(s.url);
    ci.setToken(s.host, r0.token!);
    let r = await ci.run(['publish'], { cwd: makePackage('oh-pkg', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const notUser = (what: string) =>
      new RegExp(`403 Forbidden.*stands for a CI job publishing oh-pkg, not for a user: it cannot ${what}`);
    r = await ci.run(['whoami']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, notUser('ask who you are'));
    r = await ci.run(['profile', 'get']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, notUser('read your profile'));
    r = await ci.run(['token', 'list']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, notUser('list tokens'));
    r = await ci.run(['dist-tag', 'add', 'oh-pkg@1.0.0', 'beta']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /403 Forbidden.*can only publish oh-pkg; it cannot change dist-tags of it/);
    const tags = (await (await fetch(`${s.url}-/package/oh-pkg/dist-tags`)).json()) as Record<string, string>;
    assert.deepEqual(tags, { latest: '1.1.0' });
    // Nor does it send mail in the name of the user who set up the trusted publisher.
    const verify = await fetch(`${s.url}-/tessera/v1/email/verify`, {
      method: 'POST',
      headers: { authorization: `Bearer ${r0.token}` },
    });
    assert.deepEqual([verify.status, verify.headers.get('x-tessera-reason')], [403, 'oidc-not-a-user']);
    const denied = await s.ctx.store.db.selectFrom('audit').select('reason').where('event', '=', 'denied').execute();
    assert.ok(
      denied.some((d) => d.reason === 'oidc-not-a-user'),
      'refusals of a credential are audited',
    );
  });

  // Last: it moves the server's clock past the discovery cache's lifetime.
  test('discovery is fetched once for several exchanges, and again after its lifetime', async () => {
    const discoveries = () => forge.requests.filter((r) => r.endsWith('/.well-known/openid-configuration')).length;
    // Expiry on the server's clock, which this test moves.
    const expiresIn = () => Math.floor(s.clock.now() / 1000) + 300;
    const sign = () => forge.sign({ aud: AUD, repository: 'team/lib' }, { expiresIn: expiresIn() });
    const first = await Promise.all([1, 2, 3].map(async () => exchangeAt(s, 'oh-forge', await sign())));
    assert.deepEqual(
      first.map((r) => r.status),
      [201, 201, 201],
      first.map((r) => r.message).join('; '),
    );
    for (let i = 0; i < 2; i++) assert.equal((await exchangeAt(s, 'oh-forge', await sign())).status, 201);
    assert.equal(discoveries(), 1, forge.requests.join(', '));
    s.clock.advance(DISCOVERY_TTL_MS - 60_000);
    assert.equal((await exchangeAt(s, 'oh-forge', await sign())).status, 201);
    assert.equal(discoveries(), 1);
    s.clock.advance(120_000);
    assert.equal((await exchangeAt(s, 'oh-forge', await sign())).status, 201);
    assert.equal(discoveries(), 2);
  });
});
