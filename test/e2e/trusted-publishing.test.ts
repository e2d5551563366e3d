// Trusted publishing end to end (registry scenario 13): a local OIDC issuer (keys made here, JWKS on
// loopback), `npm trust github|gitlab` by a maintainer with 2FA, then the real `npm publish` in the
// environment of a GitHub Actions job and of a GitLab job, with no token configured. Every refusal of
// the exchange is its own test.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { UnsecuredJWT } from 'jose';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { startIssuer, githubEnv, type Issuer } from '../helpers/oidc-issuer.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { defaults } from '../../src/config/config.ts';

describe('trusted publishing with npm 11', () => {
  let s: TestServer;
  let gh: Issuer;
  let gl: Issuer;
  let forgejo: Issuer;
  let stranger: Issuer;
  let alice: NpmEnv;
  let secret = '';
  const AUD = 'npm:127.0.0.1';
  const code = () => {
    s.clock.advance(30_000);
    return codeAt(secret, s.clock.now());
  };
  const goodGithub = {
    repository: 'acme/app',
    workflow_ref: 'acme/app/.github/workflows/publish.yml@refs/heads/main',
    environment: 'prod',
    repository_visibility: 'private',
  };
  const exchangeRaw = (pkg: string, jwt: string) =>
    fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/${pkg.replace('/', '%2f')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
  async function refused(pkg: string, jwt: string, status: number, message: RegExp) {
    const res = await exchangeRaw(pkg, jwt);
    const body = (await res.json()) as { message: string; error: string };
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(body.message, message);
    assert.equal(body.error, body.message);
  }

  before(async () => {
    [gh, gl, forgejo, stranger] = await Promise.all([startIssuer(), startIssuer(), startIssuer(), startIssuer()]);
    s = await startServer({
      oidc: {
        ...defaults.oidc,
        // The audience never comes from the request's Host: without publicUrl it is configured.
        audience: AUD,
        issuers: [
          { name: 'github', type: 'github', issuer: gh.url, jwksUri: null },
          { name: 'gitlab', type: 'gitlab', issuer: gl.url, jwksUri: `${gl.url}/.well-known/jwks` },
          { name: 'forgejo', type: 'generic', issuer: forgejo.url, jwksUri: null },
        ],
      },
    });
    await s.addUser('alice');
    alice = makeNpm(s.url);
    const session = await s.token({ user: 'alice' });
    alice.setToken(s.host, session);
    // 2FA (auth-only) over the profile API, as npm profile enable-2fa would.
    secret = await enable2fa(s.url, `Bearer ${session}`, {
      mode: 'auth-only',
      password: 'alice-password',
      code: (k) => codeAt(k, s.clock.now()),
    });
    for (const pkg of ['tp-pkg', 'tp-other', 'tp-generic']) {
      const r = await alice.run(['publish'], { cwd: makePackage(pkg, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
  });
  after(async () => {
    await s.close();
    await Promise.all([gh, gl, forgejo, stranger].map((i) => i.close()));
  });

  test('npm trust github / gitlab need 2FA and create one configuration per provider', async () => {
    let r = await alice.run([
      'trust',
      'github',
      'tp-pkg',
      '--repository',
      'acme/app',
      '--file',
      'publish.yml',
      '--environment',
      'prod',
      '--allow-publish',
      '--yes',
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /EOTP/);
    r = await alice.run([
      'trust',
      'github',
      'tp-pkg',
      '--repository',
      'acme/app',
      '--file',
      'publish.yml',
      '--environment',
      'prod',
      '--allow-publish',
      '--yes',
      `--otp=${code()}`,
    ]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Trust configuration created successfully for tp-pkg/);
    r = await alice.run([
      'trust',
      'gitlab',
      'tp-pkg',
      '--project',
      'group/app',
      '--file',
      '.gitlab-ci.yml',
      '--allow-publish',
      '--yes',
      `--otp=${code()}`,
    ]);
    assert.equal(r.code, 0, r.output);
    r = await alice.run([
      'trust',
      'github',
      'tp-pkg',
      '--repository',
      'acme/other',
      '--file',
      'x.yml',
      '--allow-publish',
      '--yes',
      `--otp=${code()}`,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /409 Conflict.*already has a github trusted publisher/);
    r = await alice.run(['trust', 'list', 'tp-pkg']);
    assert.match(r.output, /acme\/app/);
    assert.match(r.output, /group\/app/);
  });

  test('scenario 13: a GitHub Actions job publishes with no token at all', async () => {
    gh.githubClaims = goodGithub;
    const ci = makeNpm(s.url);
    const r = await ci.run(['publish', '--provenance=false'], {
      cwd: makePackage('tp-pkg', '1.1.0'),
      env: githubEnv(gh),
    });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /\+ tp-pkg@1\.1\.0/);
    assert.deepEqual(gh.audiences.slice(-1), [AUD]);
    assert.doesNotMatch(ci.npmrc(), /_authToken/, 'nothing was written to .npmrc');
  });

  test('scenario 13: a job from another repository or workflow is refused', async () => {
    const ci = makeNpm(s.url);
    gh.githubClaims = {
      ...goodGithub,
      repository: 'evil/app',
      workflow_ref: 'evil/app/.github/workflows/publish.yml@refs/heads/main',
    };
    let r = await ci.run(['publish', '--provenance=false'], {
      cwd: makePackage('tp-pkg', '1.2.0'),
      env: githubEnv(gh),
    });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /ENEEDAUTH/);
    gh.githubClaims = { ...goodGithub, workflow_ref: 'acme/app/.github/workflows/other.yml@refs/heads/main' };
    r = await ci.run(['publish', '--provenance=false', '--loglevel=verbose'], {
      cwd: makePackage('tp-pkg', '1.2.0'),
      env: githubEnv(gh),
    });
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /Failed token exchange request with body message: OIDC token exchange error - unauthorized: the claim workflow_ref/,
    );
  });

  test('a GitLab job publishes with NPM_ID_TOKEN', async () => {
    const jwt = await gl.sign({
      aud: AUD,
      project_path: 'group/app',
      ci_config_ref_uri: 'gitlab.example.com/group/app//.gitlab-ci.yml@refs/heads/main',
    });
    const r = await makeNpm(s.url).run(['publish', '--provenance=false'], {
      cwd: makePackage('tp-pkg', '1.3.0'),
      env: { GITLAB_CI: 'true', NPM_ID_TOKEN: jwt },
    });
    assert.equal(r.code, 0, r.output);
  });

  test('refused: wrong repository, workflow, environment', async () => {
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub, repository: 'acme/other' }),
      401,
      /claim repository \(acme\/other\) does not match/,
    );
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub, workflow_ref: 'acme/app/.github/workflows/evil.yml@refs/heads/x' }),
      401,
      /claim workflow_ref/,
    );
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub, environment: 'staging' }),
      401,
      /claim environment \(staging\)/,
    );
  });

  test('refused: wrong audience, expired, not yet valid', async () => {
    await refused(
      'tp-pkg',
      await gh.sign({ ...goodGithub, aud: 'npm:registry.example.com' }),
      401,
      /audience must be "npm:127\.0\.0\.1"/,
    );
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
      401,
      /has expired/,
    );
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub }, { notBefore: Math.floor(Date.now() / 1000) + 600 }),
      401,
      /not valid yet/,
    );
  });

  test('refused: alg none, a key not in the JWKS, an issuer not configured', async () => {
    const none = new UnsecuredJWT({ aud: AUD, ...goodGithub })
      .setIssuer(gh.url)
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    await refused('tp-pkg', none, 401, /algorithm is not accepted|could not be verified/);
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub }, { key: gh.otherKey, kid: 'unknown-key' }),
      401,
      /key the issuer does not publish/,
    );
    await refused(
      'tp-pkg',
      await gh.sign({ aud: AUD, ...goodGithub }, { key: gh.otherKey }),
      401,
      /signature does not verify/,
    );
    await refused(
      'tp-pkg',
      await stranger.sign({ aud: AUD, ...goodGithub }),
      401,
      /issuer "http:\/\/127\.0\.0\.1:\d+" is not configured/,
    );
    await refused('tp-pkg', 'not-a-jwt', 401, /not a JWT/);
  });

  test('refused: a package without a trusted publisher; the token serves one package only', async () => {
    await refused('tp-other', await gh.sign({ aud: AUD, ...goodGithub }), 404, /Not found/);
    const res = await exchangeRaw('tp-pkg', await gh.sign({ aud: AUD, ...goodGithub }));
    assert.equal(res.status, 201);
    const body = (await res.json()) as { token: string; token_type: string; expires: string };
    assert.equal(body.token_type, 'oidc');
    const n = makeNpm(s.url);
    n.setToken(s.host, body.token);
    let r = await n.run(['publish'], { cwd: makePackage('tp-other', '1.1.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /403 Forbidden/);
    // Neither tagging (although npm exchanges for dist-tag too) nor deprecating is publishing.
    r = await n.run(['dist-tag', 'add', 'tp-pkg@1.0.0', 'beta']);
    assert.match(r.output, /A trusted-publishing token can only publish tp-pkg; it cannot change dist-tags of it/);
    r = await n.run(['deprecate', 'tp-pkg@1.0.0', 'old']);
    assert.match(r.output, /A trusted-publishing token can only publish tp-pkg; it cannot deprecate it/);
    r = await n.run(['token', 'create', '--password', 'x', '--packages-all']);
    assert.notEqual(r.code, 0);
  });

  test('a generic issuer (Forgejo) with a claim rule', async () => {
    const session = /_authToken=(\S+)/.exec(alice.npmrc())![1];
    const res = await fetch(`${s.url}-/package/tp-generic/trust`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json', 'npm-otp': code() },
      body: JSON.stringify([
        {
          type: 'generic',
          issuer: 'forgejo',
          claims: { repository: 'team/lib', ref: 'refs/heads/main' },
          permissions: ['createPackage'],
        },
      ]),
    });
    assert.equal(res.status, 201, await res.clone().text());
    await refused(
      'tp-generic',
      await forgejo.sign({ aud: AUD, repository: 'team/lib', ref: 'refs/heads/feature' }),
      401,
      /claim ref \(refs\/heads\/feature\)/,
    );
    const ok = await exchangeRaw(
      'tp-generic',
      await forgejo.sign({ aud: AUD, repository: 'team/lib', ref: 'refs/heads/main' }),
    );
    assert.equal(ok.status, 201);
    // The GitHub issuer's tokens do not match a generic configuration.
    await refused(
      'tp-generic',
      await gh.sign({ aud: AUD, repository: 'team/lib', ref: 'refs/heads/main' }),
      404,
      /Not found/,
    );
  });

  test('the issuer rotates its keys: new tokens verify, tokens from the old key do not', async () => {
    const before = await gh.sign({ aud: AUD, ...goodGithub });
    assert.equal((await exchangeRaw('tp-pkg', before)).status, 201);
    await gh.rotate();
    await new Promise((r) => setTimeout(r, 2_100)); // past the refetch cooldown
    const after = await gh.sign({ aud: AUD, ...goodGithub });
    assert.equal((await exchangeRaw('tp-pkg', after)).status, 201, 'the new key was fetched');
    await refused('tp-pkg', before, 401, /key the issuer does not publish|signature does not verify/);
  });

  test('revoking the trusted publisher ends its tokens', async () => {
    const res = await exchangeRaw('tp-pkg', await gh.sign({ aud: AUD, ...goodGithub }));
    const { token } = (await res.json()) as { token: string };
    const configs = (await (
      await fetch(`${s.url}-/package/tp-pkg/trust`, {
        headers: { authorization: `Bearer ${/_authToken=(\S+)/.exec(alice.npmrc())![1]}` },
      })
    ).json()) as { id: string; type: string }[];
    const ghId = configs.find((c) => c.type === 'github')!.id;
    assert.match(ghId, /^[0-9a-f-]{36}$/);
    const r = await alice.run(['trust', 'revoke', 'tp-pkg', '--id', ghId, `--otp=${code()}`]);
    assert.equal(r.code, 0, r.output);
    await new Promise((res2) => setTimeout(res2, 300));
    const who = await fetch(`${s.url}tp-pkg`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(who.status, 401);
    const events = await s.ctx.store.db.selectFrom('audit').select('event').where('event', 'like', 'oidc-%').execute();
    assert.ok(events.some((e) => e.event === 'oidc-exchange'));
    assert.ok(events.some((e) => e.event === 'oidc-exchange-denied'));
  });
});
