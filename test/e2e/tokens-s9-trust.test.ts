// Session 9 sweep of trusted publishing (#7) with real OIDC id tokens from a local issuer: GitHub's owner,
// repository and environment names match without case, as on GitHub, while the workflow file keeps its case;
// and an `oidc.audience` that names this registry lets Yarn 4 (which asks for `npm:<host:port>`) publish too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { makeYarn, writeYarnrc } from '../helpers/clients.ts';
import { startIssuer, githubEnv, type Issuer } from '../helpers/oidc-issuer.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { rowRequest } from '../helpers/matrix-table.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { defaults } from '../../src/config/config.ts';
import { disableUser } from '../../src/services/accounts.ts';

describe('trusted publishing: names as GitHub compares them, audiences as clients ask', {
  skip: onceInSqlitePass,
}, () => {
  let s: TestServer;
  let gh: Issuer;
  let token = '';
  let secret = '';
  const api = async (method: string, path: string, body?: unknown, otp?: string) => {
    const res = await rowRequest(s.url, method, path, `Bearer ${token}`, body, otp);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const versions = async (name: string) => Object.keys((await api('GET', name)).body.versions ?? {}).sort();
  /** The id token a GitHub job of acme/lib's release.yml would get, dated by the server's clock. */
  const claims = (over: object = {}) => {
    const now = Math.floor(s.clock.now() / 1000);
    return {
      repository: 'Acme/Lib',
      repository_owner: 'Acme',
      workflow_ref: 'Acme/Lib/.github/workflows/release.yml@refs/heads/main',
      environment: 'production',
      iat: now,
      exp: now + 300,
      ...over,
    };
  };
  const exchange = async (pkg: string, aud: string, over: object = {}) => {
    const jwt = await gh.sign({ aud, ...claims(over) }, { expiresIn: claims().exp });
    const res = await fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/${pkg}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    return { status: res.status, body: (await res.json()) as { token?: string; error?: string } };
  };

  before(async () => {
    gh = await startIssuer();
    s = await startServer({
      oidc: {
        ...defaults.oidc,
        audience: 'npm:127.0.0.1',
        issuers: [{ name: 'github', type: 'github', issuer: gh.url, jwksUri: null }],
      },
    });
    s.ctx.config.publicUrl = s.url.replace(/\/$/, '');
    await s.addUser('alice');
    token = await s.token({ user: 'alice', expiresInMs: 86_400_000 });
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    for (const name of ['tp-case', 'tp-yarn']) {
      const r = await npm.run(['publish'], { cwd: makePackage(name, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    const url = (await api('POST', '-/npm/v1/user', { tfa: { mode: 'auth-only', password: 'alice-password' } })).body
      .tfa as string;
    secret = new URL(url).searchParams.get('secret')!;
    assert.equal((await api('POST', '-/npm/v1/user', { tfa: [codeAt(secret, s.clock.now())] })).status, 200);
    // What `npm trust github <pkg> --repository acme/lib --file release.yml --environment Production` sends: the
    // names as the person typed them.
    const trust = {
      type: 'github',
      claims: { repository: 'acme/lib', workflow_ref: { file: 'release.yml' }, environment: 'Production' },
      permissions: ['createPackage'],
    };
    for (const name of ['tp-case', 'tp-yarn']) {
      s.clock.advance(30_000);
      const r = await api('POST', `-/package/${name}/trust`, [trust], codeAt(secret, s.clock.now()));
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });
  after(async () => {
    await s.close();
    await gh.close();
  });

  test('npm publish from GitHub Actions: repository and environment match without case', async () => {
    gh.githubClaims = claims();
    const r = await makeNpm(s.url).run(['publish', '--provenance=false'], {
      cwd: makePackage('tp-case', '1.1.0'),
      env: githubEnv(gh),
    });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(gh.audiences, ['npm:127.0.0.1']);
    assert.deepEqual(await versions('tp-case'), ['1.0.0', '1.1.0']);
    // Lists of environments (a generic rule's form) match the same way; other names still do not.
    assert.equal((await exchange('tp-case', 'npm:127.0.0.1', { environment: 'PRODUCTION' })).status, 201);
    const staging = await exchange('tp-case', 'npm:127.0.0.1', { environment: 'staging' });
    assert.equal(staging.status, 401);
    assert.match(staging.body.error ?? '', /the claim environment \(staging\)/);
    const other = await exchange('tp-case', 'npm:127.0.0.1', { repository: 'Acme/Lib2' });
    assert.match(other.body.error ?? '', /the claim repository \(Acme\/Lib2\)/);
  });

  test('the workflow file name keeps its case', async () => {
    const r = await exchange('tp-case', 'npm:127.0.0.1', {
      workflow_ref: 'Acme/Lib/.github/workflows/Release.yml@refs/heads/main',
    });
    assert.equal(r.status, 401);
    assert.match(r.body.error ?? '', /the claim workflow_ref \(Acme\/Lib\/\.github\/workflows\/Release\.yml/);
  });

  test('oidc.audience naming this registry: Yarn 4 asks for npm:<host:port> and publishes', async () => {
    const yarn = makeYarn();
    const dir = makePackage('tp-yarn', '1.1.0');
    writeYarnrc(dir, s.url);
    let r = await yarn.run(['install'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    gh.audiences.length = 0;
    gh.githubClaims = claims();
    r = await yarn.run(['npm', 'publish'], { cwd: dir, env: { ...githubEnv(gh), CI: 'true' } });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(gh.audiences, [`npm:${s.host}`]);
    assert.deepEqual(await versions('tp-yarn'), ['1.0.0', '1.1.0']);
    // The same host on another port is another service.
    const port = await exchange('tp-yarn', 'npm:127.0.0.1:1');
    assert.equal(port.status, 401);
    assert.match(port.body.error ?? '', /audience must be "npm:127\.0\.0\.1"/);
    // An audience of the administrator's own, not this registry's host: it alone is accepted.
    s.ctx.config.oidc.audience = 'npm:registry.internal';
    try {
      assert.equal((await exchange('tp-yarn', `npm:${s.host}`)).status, 401);
      assert.equal((await exchange('tp-yarn', 'npm:127.0.0.1')).status, 401);
      assert.equal((await exchange('tp-yarn', 'npm:registry.internal')).status, 201);
      // Set to the port form, it names this registry too: npm's form is accepted beside it.
      s.ctx.config.oidc.audience = `npm:${s.host}`;
      assert.equal((await exchange('tp-yarn', 'npm:127.0.0.1')).status, 201);
    } finally {
      s.ctx.config.oidc.audience = 'npm:127.0.0.1';
    }
  });

  test('the author of a trusted publisher is disabled: the publish says so, and a maintainer configures it again', async () => {
    // bob maintains tp-dis beside alice, with 2FA; alice made its trusted publisher.
    await s.addUser('bob');
    const bobToken = await s.token({ user: 'bob', expiresInMs: 86_400_000 });
    const alice = makeNpm(s.url);
    alice.setToken(s.host, token);
    let r = await alice.run(['publish'], { cwd: makePackage('tp-dis', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await alice.run(['owner', 'add', 'bob', 'tp-dis']);
    assert.equal(r.code, 0, r.output);
    const bobSecret = await enable2fa(s.url, `Bearer ${bobToken}`, {
      mode: 'auth-only',
      password: 'bob-password',
      code: (seed) => codeAt(seed, s.clock.now()),
    });
    const gha = ['--repository', 'acme/lib', '--file', 'release.yml', '--environment', 'production'];
    // npm trust github for tp-dis, by `who` with a fresh code from their authenticator.
    const trustGithub = (who: typeof alice, seed: string) => {
      s.clock.advance(30_000);
      const otp = `--otp=${codeAt(seed, s.clock.now())}`;
      return who.run(['trust', 'github', 'tp-dis', ...gha, '--allow-publish', '--yes', otp]);
    };
    r = await trustGithub(alice, secret);
    assert.equal(r.code, 0, r.output);

    await disableUser(s.ctx, 'alice');
    gh.githubClaims = claims();
    const ci = () =>
      makeNpm(s.url).run(['publish', '--provenance=false'], {
        cwd: makePackage('tp-dis', '1.1.0'),
        env: githubEnv(gh),
      });
    r = await ci();
    assert.equal(r.code, 1);
    assert.match(
      r.output,
      /403 Forbidden - PUT \S+ - The trusted publisher of tp-dis was configured by alice, whose account is disabled/,
    );
    // npm masks UUIDs in what it prints: the id is read as `npm trust list` reads it.
    const listed = await fetch(`${s.url}-/package/tp-dis/trust`, { headers: { authorization: `Bearer ${bobToken}` } });
    const [{ id }] = (await listed.json()) as { id: string }[];

    const bob = makeNpm(s.url);
    bob.setToken(s.host, bobToken);
    s.clock.advance(30_000);
    r = await bob.run(['trust', 'revoke', 'tp-dis', '--id', id, `--otp=${codeAt(bobSecret, s.clock.now())}`]);
    assert.equal(r.code, 0, r.output);
    r = await trustGithub(bob, bobSecret);
    assert.equal(r.code, 0, r.output);
    gh.githubClaims = claims();
    r = await ci();
    assert.equal(r.code, 0, r.output);
    const doc = (await (await fetch(`${s.url}tp-dis`)).json()) as { versions: object };
    assert.deepEqual(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0']);
  });
});
