// Private equals absent for trusted publishing's token exchange. Any CI job can get an id token from a
// configured issuer (GitHub Actions hands one to every repository, with the audience it asks for), so the
// exchange is open to strangers: for a private package, a token that no trust configuration accepts must be
// answered as for a name that does not exist, or the answer tells the stranger that the package exists,
// that it has a trusted publisher, and claim by claim which repository and workflow it trusts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { startIssuer, type Issuer } from '../helpers/oidc-issuer.ts';
import { defaults } from '../../src/config/config.ts';
import { userByName } from '../../src/services/accounts.ts';
import { insertTrustConfigs } from '../../src/store/trust.ts';

const AUD = 'npm:127.0.0.1';
const TRUSTED = {
  repository: 'acme/app',
  workflow_ref: 'acme/app/.github/workflows/publish.yml@refs/heads/main',
};

describe('the OIDC token exchange answers for a private package as for a missing one', () => {
  let s: TestServer;
  let gh: Issuer;

  const exchange = async (pkg: string, jwt: string) => {
    const res = await fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/${pkg.replace('/', '%2f')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k !== 'date') headers[k] = v;
    });
    const body = (await res.text()).split(pkg).join('<pkg>');
    return { status: res.status, headers, body };
  };

  before(async () => {
    gh = await startIssuer();
    s = await startServer({
      defaultScopedAccess: 'restricted',
      oidc: {
        ...defaults.oidc,
        audience: AUD,
        issuers: [{ name: 'github', type: 'github', issuer: gh.url, jwksUri: null }],
      },
    });
    await s.addUser('alice');
    const token = await s.token({ user: 'alice' });
    for (const [name, access] of [
      ['@alice/secret', 'restricted'],
      ['@alice/shown', 'public'],
    ] as const) {
      const put = await fetch(`${s.url}${name.replace('/', '%2f')}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(await publishBody(name, '1.0.0', { access })),
      });
      assert.equal(put.status, 201, await put.text());
      const config = {
        id: randomUUID(),
        type: 'github' as const,
        issuer: null,
        claims: { repository: TRUSTED.repository, workflow_ref: { file: 'publish.yml' } },
        permissions: ['createPackage' as const],
      };
      const alice = (await userByName(s.ctx, 'alice'))!;
      await insertTrustConfigs(s.ctx.store.db, name, [config], alice.id, s.clock.now());
    }
  });
  after(async () => {
    await s?.close();
    await gh?.close();
  });

  for (const [what, claims] of [
    [
      "another repository's job",
      { repository: 'evil/app', workflow_ref: 'evil/app/.github/workflows/x.yml@refs/heads/x' },
    ],
    [
      'the trusted repository with another workflow',
      { ...TRUSTED, workflow_ref: 'acme/app/.github/workflows/x.yml@x' },
    ],
  ] as const) {
    test(`${what}: the same answer for the private package and a missing name`, async () => {
      const jwt = await gh.sign({ aud: AUD, ...claims });
      const hidden = await exchange('@alice/secret', jwt);
      const absent = await exchange('@alice/sacret', jwt);
      assert.deepEqual(hidden, absent);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.headers['x-tessera-reason'], 'not-found');
    });
  }

  test('the trusted job still gets its token for the private package', async () => {
    const res = await exchange('@alice/secret', await gh.sign({ aud: AUD, ...TRUSTED }));
    assert.equal(res.status, 201, res.body);
    assert.match(res.body, /"token":"tsr_/);
  });

  test('a public package still says which claim did not match (its maintainers debug CI with it)', async () => {
    const jwt = await gh.sign({ aud: AUD, ...TRUSTED, repository: 'evil/app' });
    const res = await exchange('@alice/shown', jwt);
    assert.equal(res.status, 401, res.body);
    assert.match(res.body, /the claim repository \(evil\/app\) does not match/);
  });
});
