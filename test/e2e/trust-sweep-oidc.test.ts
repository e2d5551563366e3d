// Sweep of trusted publishing with the real npm 11 (issue #7), on an organization's private package: an org
// owner who does not maintain it configures GitHub Actions and CircleCI with `npm trust`, CI jobs publish with
// no token, and the exchanged token is held to its one package and its lifetime. A public package's refusal
// names the claim; a private one's is the 404 of a missing name.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, npmUsers, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { startIssuer, githubEnv, type Issuer } from '../helpers/oidc-issuer.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { defaults } from '../../src/config/config.ts';

const AUD = 'npm:127.0.0.1';
const CIRCLE_ORG = '5d3b1a52-7c1e-4f3a-9a57-0c8f6c1b2e11';
const circleClaims = {
  aud: AUD,
  'oidc.circleci.com/org-id': CIRCLE_ORG,
  'oidc.circleci.com/project-id': '0b7c9b7e-3f51-4a5e-8f55-4c1b9c2d7a01',
  'oidc.circleci.com/pipeline-definition-id': 'e4a7f3c2-1b2d-4c5e-9f80-7a6b5c4d3e21',
  'oidc.circleci.com/vcs-origin': 'github.com/acme/lib',
};

describe('trusted publishing sweep: an org package, configured by an org owner', () => {
  let s: TestServer;
  let gh: Issuer;
  let circle: Issuer;
  let npm: Record<string, NpmEnv>;
  let secret = '';
  const otp = () => {
    s.clock.advance(30_000);
    return `--otp=${codeAt(secret, s.clock.now())}`;
  };
  const good = {
    repository: 'acme/lib',
    workflow_ref: 'acme/lib/.github/workflows/release.yml@refs/tags/v1.1.0',
    environment: 'npm',
  };
  const exchange = async (pkg: string, jwt: string) => {
    const res = await fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/${pkg.replace('/', '%2f')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    return { status: res.status, body: (await res.json()) as { token?: string; message?: string } };
  };
  /** Id tokens are dated by the server's test clock, which the one-time passwords move on. */
  const now = () => Math.floor(s.clock.now() / 1000);
  const ghToken = (claims: object) => gh.sign({ aud: AUD, ...good, ...claims, iat: now() }, { expiresIn: now() + 300 });

  before(async () => {
    [gh, circle] = await Promise.all([startIssuer(), startIssuer()]);
    s = await startServer({
      oidc: {
        ...defaults.oidc,
        audience: AUD,
        issuers: [
          { name: 'github', type: 'github', issuer: gh.url, jwksUri: null },
          {
            name: 'circleci',
            type: 'circleci',
            issuer: `${circle.url}/org`,
            jwksUri: `${circle.url}/.well-known/jwks`,
          },
        ],
      },
    });
    const users = await npmUsers(s, ['olivia', 'dora'], { expiresInMs: 86_400_000 });
    npm = users.npm;
    await createOrg(s.ctx, 'acme', 'olivia');
    secret = await enable2fa(s.url, `Bearer ${users.token.olivia}`, {
      mode: 'auth-only',
      password: 'olivia-password',
      code: (k) => codeAt(k, s.clock.now()),
    });
    let r = await npm.olivia.run(['org', 'set', 'acme', 'dora']);
    assert.equal(r.code, 0, r.output);
    // dora (a developer) publishes the org's private packages and a public one; olivia maintains none of them.
    for (const [pkg, access] of [
      ['@acme/lib', 'restricted'],
      ['@acme/other', 'restricted'],
      ['@acme/open', 'public'],
    ]) {
      r = await npm.dora.run(['publish', '--access', access], { cwd: makePackage(pkg, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
  });
  after(async () => {
    await s.close();
    await Promise.all([gh.close(), circle.close()]);
  });

  test('the org owner configures GitHub Actions and CircleCI with npm trust; both jobs publish', async () => {
    const gha = ['--repository', 'acme/lib', '--file', 'release.yml', '--environment', 'npm'];
    let r = await npm.olivia.run(['trust', 'github', '@acme/lib', ...gha, '--allow-publish', '--yes', otp()]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Trust configuration created successfully for @acme\/lib/);
    const circleIds = [
      ['--org-id', CIRCLE_ORG],
      ['--project-id', circleClaims['oidc.circleci.com/project-id']],
      ['--pipeline-definition-id', circleClaims['oidc.circleci.com/pipeline-definition-id']],
      ['--vcs-origin', 'github.com/acme/lib'],
    ].flat();
    r = await npm.olivia.run(['trust', 'circleci', '@acme/lib', ...circleIds, '--allow-publish', '--yes', otp()]);
    assert.equal(r.code, 0, r.output);
    r = await npm.dora.run(['trust', 'list', '@acme/lib']);
    assert.match(r.stdout, /type: github[\s\S]*repository: acme\/lib/);
    assert.match(r.stdout, /type: circleci/);

    gh.githubClaims = { ...good, iat: now(), exp: now() + 300 };
    const ci = makeNpm(s.url);
    r = await ci.run(['publish', '--provenance=false'], { cwd: makePackage('@acme/lib', '1.1.0'), env: githubEnv(gh) });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ @acme\/lib@1\.1\.0/);
    const jwt = await circle.sign(
      { ...circleClaims, iat: now() },
      { iss: `${circle.url}/org/${CIRCLE_ORG}`, expiresIn: now() + 300 },
    );
    r = await makeNpm(s.url).run(['publish', '--provenance=false'], {
      cwd: makePackage('@acme/lib', '1.2.0'),
      env: { CIRCLECI: 'true', NPM_ID_TOKEN: jwt },
    });
    assert.equal(r.code, 0, r.output);
    r = await npm.dora.run(['view', '@acme/lib', 'versions', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), ['1.0.0', '1.1.0', '1.2.0']);
  });

  test('a job of another repository or environment: the 404 of a missing name for the private package', async () => {
    for (const claims of [{ repository: 'acme/lib-fork' }, { environment: 'staging' }]) {
      const { status } = await exchange('@acme/lib', await ghToken(claims));
      assert.equal(status, 404, JSON.stringify(claims));
    }
    // The same job's token for the public package, which trusts another repository, names the claim.
    let r = await npm.dora.run(['trust', 'github', '@acme/open', '--repository', 'acme/open', '--file', 'release.yml']);
    assert.notEqual(r.code, 0, 'dora has no 2FA');
    r = await npm.olivia.run([
      'trust',
      'github',
      '@acme/open',
      ...['--repository', 'acme/open', '--file', 'release.yml', '--allow-publish', '--yes', otp()],
    ]);
    assert.equal(r.code, 0, r.output);
    const refused = await exchange('@acme/open', await ghToken({}));
    assert.equal(refused.status, 401);
    assert.match(refused.body.message!, /the claim repository \(acme\/lib\) does not match/);
  });

  test('the exchanged token publishes its one package, reads no other, and dies with its lifetime', async () => {
    const { status, body } = await exchange('@acme/lib', await ghToken({}));
    assert.equal(status, 201);
    const ci = makeNpm(s.url);
    ci.setToken(s.host, body.token!);
    let r = await ci.run(['view', '@acme/other']);
    assert.match(r.output, /E404/);
    r = await ci.run(['publish'], { cwd: makePackage('@acme/other', '1.1.0') });
    assert.match(r.output, /E403|E404/);
    r = await ci.run(['publish'], { cwd: makePackage('@acme/lib', '1.3.0') });
    assert.equal(r.code, 0, r.output);
    s.clock.advance(defaults.oidc.tokenTtlMs + 1_000);
    r = await ci.run(['publish'], { cwd: makePackage('@acme/lib', '1.4.0') });
    assert.match(r.output, /E401/);
    // An id token from before that hour has expired too.
    const stale = await gh.sign({ aud: AUD, ...good }, { expiresIn: now() - 3_600 });
    const late = await exchange('@acme/lib', stale);
    assert.equal(late.status, 401);
    assert.match(late.body.message!, /has expired/);
  });
});
