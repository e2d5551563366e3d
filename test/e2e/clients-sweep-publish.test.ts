// Publishing journeys with pnpm 11 and Yarn 4 beyond npm's: trusted publishing in a GitHub Actions job (pnpm
// asks for npm's audience `npm:<hostname>`; Yarn asks for `npm:<host>`, the port included, and posts the
// exchange under the registry's path), what each prints when the exchange is refused, `pnpm stage
// publish|view|download|approve|reject`, and a publish with 2FA for writes: `--otp` right, wrong and reused.
//
// In a terminal: `yarn npm login` with a one-time password, Yarn's OTP prompt, pnpm's web login and web OTP.
//
// What the clients show of an OTP refusal: Yarn prints the registry's npm-notice (wrong or used code) before
// its own YN0033 (at its prompt, only "Invalid OTP token"); pnpm without a terminal prints only
// ERR_PNPM_OTP_NON_INTERACTIVE, even after `--otp`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc, type ClientEnv } from '../helpers/clients.ts';
import { startIssuer, githubEnv, type Issuer } from '../helpers/oidc-issuer.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { rowRequest } from '../helpers/matrix-table.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { defaults } from '../../src/config/config.ts';

/** pnpm's wrapped lines, joined back into one. */
const flat = (out: string) => out.replace(/\s+/g, ' ');

const GOOD = {
  repository: 'acme/app',
  workflow_ref: 'acme/app/.github/workflows/publish.yml@refs/heads/main',
  repository_visibility: 'private',
};

describe('pnpm 11 and Yarn 4: trusted, staged and two-factor publishing', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let gh: Issuer;
  let token = '';
  let secret = '';
  let pnpm: ClientEnv;
  let yarn: ClientEnv;
  const code = () => {
    s.clock.advance(30_000);
    return codeAt(secret, s.clock.now());
  };
  const api = async (method: string, path: string, body?: unknown, otp?: string) => {
    const res = await rowRequest(s.url, method, path, `Bearer ${token}`, body, otp);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const versions = async (name: string) =>
    Object.keys((await api('GET', name.replace('/', '%2f'))).body.versions ?? {}).sort();
  /** A package folder whose .npmrc names the registry, with `token` or none (trusted publishing). */
  const pnpmPackage = (name: string, version: string, withToken = true) => {
    const dir = makePackage(name, version);
    writeNpmrc(dir, s.url, withToken ? token : undefined);
    return dir;
  };
  const yarnPackage = async (name: string, version: string, withToken = true) => {
    const dir = makePackage(name, version);
    writeYarnrc(dir, s.url, withToken ? { token } : {});
    const r = await yarn.run(['install'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    return dir;
  };
  const inGithubActions = () => ({ ...githubEnv(gh), CI: 'true' });

  before(async () => {
    gh = await startIssuer();
    gh.githubClaims = GOOD;
    s = await startServer(
      { oidc: { ...defaults.oidc, issuers: [{ name: 'github', type: 'github', issuer: gh.url, jwksUri: null }] } },
      { recordRequests: true },
    );
    // The audience comes from publicUrl: the address the clients use, port included.
    s.ctx.config.publicUrl = s.url.replace(/\/$/, '');
    await s.addUser('alice');
    await s.addUser('bob');
    token = await s.token({ user: 'alice', expiresInMs: 30 * 86_400_000 });
    const npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    for (const [name, access] of [
      ['cs-pnpm-tp', 'public'],
      ['cs-yarn-tp', 'public'],
      ['@alice/cs-tp', 'restricted'],
      ['cs-stage', 'public'],
      ['cs-tfa', 'public'],
    ]) {
      const r = await npm.run(['publish', '--access', access], { cwd: makePackage(name, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    secret = await enable2fa(s.url, `Bearer ${token}`, {
      mode: 'auth-and-writes',
      password: 'alice-password',
      code: (k) => codeAt(k, s.clock.now()),
    });
    // What `npm trust github <pkg> --repository acme/app --file publish.yml` sends (it needs 2FA on).
    const trust = { type: 'github', claims: { repository: 'acme/app', workflow_ref: { file: 'publish.yml' } } };
    for (const name of ['cs-pnpm-tp', 'cs-yarn-tp', '@alice/cs-tp']) {
      const r = await api(
        'POST',
        `-/package/${name.replace('/', '%2f')}/trust`,
        [{ ...trust, permissions: ['createPackage'] }],
        code(),
      );
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    pnpm = makePnpm();
    yarn = makeYarn();
  });
  after(async () => {
    await s.close();
    await gh.close();
  });

  test('pnpm in GitHub Actions: trusted publishing, and a refused exchange named in its warning', async () => {
    s.requests.length = 0;
    gh.audiences.length = 0;
    let r = await pnpm.run(['publish', '--no-git-checks'], {
      cwd: pnpmPackage('cs-pnpm-tp', '1.1.0', false),
      env: inGithubActions(),
    });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Published package cs-pnpm-tp@1\.1\.0/);
    assert.deepEqual(gh.audiences, ['npm:127.0.0.1']);
    assert.deepEqual(s.requests, ['POST /-/npm/v1/oidc/token/exchange/package/cs-pnpm-tp', 'PUT /cs-pnpm-tp']);
    assert.deepEqual(await versions('cs-pnpm-tp'), ['1.0.0', '1.1.0']);
    // `pnpm stage publish` exchanges too; this trusted publisher may publish, not stage.
    r = await pnpm.run(['stage', 'publish', '--no-git-checks'], {
      cwd: pnpmPackage('cs-pnpm-tp', '1.1.1', false),
      env: inGithubActions(),
    });
    assert.equal(r.code, 1, r.output);
    assert.match(
      flat(r.output),
      /\[E403\] 403 Forbidden - POST \S+\/-\/stage\/package\/cs-pnpm-tp - A trusted-publishing token can only publish cs-pnpm-tp; it cannot stage versions of it \(\S+\/-\/help\/oidc-publish-only\)/,
    );

    // Another repository: pnpm warns with the registry's reason, then publishes with no token and is refused.
    gh.githubClaims = { ...GOOD, repository: 'acme/fork' };
    r = await pnpm.run(['publish', '--no-git-checks'], {
      cwd: pnpmPackage('cs-pnpm-tp', '1.2.0', false),
      env: inGithubActions(),
    });
    gh.githubClaims = GOOD;
    assert.equal(r.code, 1, r.output);
    assert.match(
      r.output,
      /Skipped OIDC: ERR_PNPM_AUTH_TOKEN_EXCHANGE: Failed token exchange request with body message: OIDC token exchange error - unauthorized: the claim repository \(acme\/fork\) does not match the trusted publisher configured for cs-pnpm-tp \(http:\/\/127\.0\.0\.1:\d+\/-\/help\/oidc-exchange-failed\) \(status code 401\)/,
    );
    assert.deepEqual(await versions('cs-pnpm-tp'), ['1.0.0', '1.1.0']);
  });

  test('Yarn in GitHub Actions: trusted publishing with the audience Yarn asks for (host and port)', async () => {
    const dir = await yarnPackage('cs-yarn-tp', '1.1.0', false);
    s.requests.length = 0;
    gh.audiences.length = 0;
    const r = await yarn.run(['npm', 'publish'], { cwd: dir, env: inGithubActions() });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Package archive published/);
    assert.deepEqual(gh.audiences, [`npm:${s.host}`]);
    assert.deepEqual(s.requests, ['POST /-/npm/v1/oidc/token/exchange/package/cs-yarn-tp', 'PUT /cs-yarn-tp']);
    assert.deepEqual(await versions('cs-yarn-tp'), ['1.0.0', '1.1.0']);
    // A scoped package: Yarn escapes the slash in the exchange's path.
    const scoped = await yarnPackage('@alice/cs-tp', '1.1.0', false);
    const y = await yarn.run(['npm', 'publish'], { cwd: scoped, env: inGithubActions() });
    assert.equal(y.code, 0, y.output);
    assert.deepEqual(await versions('@alice/cs-tp'), ['1.0.0', '1.1.0']);
    // The port is part of the audience: an id token for the same host on another port is still refused.
    const other = await gh.sign({ ...GOOD, aud: 'npm:127.0.0.1:1' });
    const res = await fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/cs-yarn-tp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /the id token's audience must be "npm:127\.0\.0\.1"/);
    // The challenge names the cause too (RFC 6750), cut short where the claim quoted in it is long.
    const long = await gh.sign({ ...GOOD, aud: 'npm:127.0.0.1', repository: `acme/${'x'.repeat(4000)}` });
    const refused = await fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/cs-yarn-tp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${long}` },
    });
    const challenge = refused.headers.get('www-authenticate') ?? '';
    assert.match(
      challenge,
      /^Bearer realm="tessera", error="invalid_token", error_description="OIDC token exchange error - unauthorized: the claim repository \(acme\/x+~"$/,
    );
    assert.ok(challenge.length < 500, `${challenge.length}`);
    assert.match(((await refused.json()) as { error: string }).error, /x{4000}/);
  });

  test('pnpm stage publish, view, download, then approve (a one-time password) and reject', async () => {
    let r = await pnpm.run(['stage', 'publish', '--no-git-checks'], { cwd: pnpmPackage('cs-stage', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const id = /staged with id ([0-9a-f-]{36})/.exec(r.output)?.[1];
    assert.ok(id, r.output);
    assert.deepEqual(await versions('cs-stage'), ['1.0.0'], 'not visible before approval');
    const cwd = pnpmPackage('cs-stage', '9.9.9');
    r = await pnpm.run(['stage', 'view', id], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`id: ${id}\\npackage name: cs-stage\\nversion: 1\\.1\\.0\\n`));
    assert.match(r.output, /staged by: alice \(user\)\nshasum: [0-9a-f]{40}\nstatus: pending/);
    const dl = mkdtempSync(join(tmpdir(), 'cs-stage-dl-'));
    writeNpmrc(dl, s.url, token);
    r = await pnpm.run(['stage', 'download', id], { cwd: dl });
    assert.equal(r.code, 0, r.output);
    assert.ok(existsSync(join(dl, `cs-stage-1.1.0-${id}.tgz`)), r.output);

    // Someone who may not see it gets the answer of an id that does not exist.
    const bob = makeProject();
    writeNpmrc(bob, s.url, await s.token({ user: 'bob' }));
    const hidden = await pnpm.run(['stage', 'view', id], { cwd: bob });
    const absent = await pnpm.run(['stage', 'view', '00000000-0000-4000-8000-000000000000'], { cwd: bob });
    assert.equal(hidden.code, 1, hidden.output);
    assert.match(hidden.output, /status 404 Not Found\): \{"error":"Not found"/);
    assert.equal(hidden.output.replace(id, 'ID'), absent.output.replace(/00000000-[0-9-]+/, 'ID'));

    r = await pnpm.run(['stage', 'approve', id], { cwd });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /ERR_PNPM_OTP_NON_INTERACTIVE/);
    r = await pnpm.run(['stage', 'approve', id, '--otp', code()], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /approved and published successfully/);
    assert.deepEqual(await versions('cs-stage'), ['1.0.0', '1.1.0']);

    r = await pnpm.run(['stage', 'publish', '--no-git-checks'], { cwd: pnpmPackage('cs-stage', '1.2.0') });
    const second = /staged with id ([0-9a-f-]{36})/.exec(r.output)?.[1];
    assert.ok(second, r.output);
    r = await pnpm.run(['stage', 'reject', second, '--otp', code()], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.equal((await api('GET', `-/stage/${second}`)).status, 404, 'a rejected version is deleted');
    assert.deepEqual(await versions('cs-stage'), ['1.0.0', '1.1.0']);
  });

  test('pnpm publish with 2FA for writes: --otp publishes; a wrong or reused code publishes nothing', async () => {
    const used = code();
    let r = await pnpm.run(['publish', '--no-git-checks', '--otp', used], { cwd: pnpmPackage('cs-tfa', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    for (const otp of ['000000', used]) {
      r = await pnpm.run(['publish', '--no-git-checks', '--otp', otp], { cwd: pnpmPackage('cs-tfa', '1.2.0') });
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /ERR_PNPM_OTP_NON_INTERACTIVE/);
    }
    assert.deepEqual(await versions('cs-tfa'), ['1.0.0', '1.1.0']);
    r = await pnpm.run(['dist-tag', 'add', 'cs-tfa@1.0.0', 'old', '--otp', code()], { cwd: pnpmPackage('x', '0.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.equal((await api('GET', 'cs-tfa')).body['dist-tags'].old, '1.0.0');
  });

  test("Yarn npm publish with 2FA for writes: the registry's reason for a wrong or reused code is printed", async () => {
    const used = code();
    const dir = await yarnPackage('cs-tfa', '2.0.0');
    let r = await yarn.run(['npm', 'publish', '--otp', used], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    const next = await yarnPackage('cs-tfa', '2.1.0');
    for (const [otp, why] of [
      ['000000', /YN0000: The one-time password you gave is wrong or expired\. Use the current code/],
      [used, /YN0000: That one-time password was already used\. Wait for your authenticator to show the next code/],
    ] as const) {
      r = await yarn.run(['npm', 'publish', '--otp', otp], { cwd: next });
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, why);
    }
    // `yarn npm tag` has no --otp: outside a terminal it cannot answer the challenge, and changes nothing.
    r = await yarn.run(['npm', 'tag', 'add', 'cs-tfa@2.0.0', 'two'], { cwd: next });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /YN0033: The registry requires additional authentication/);
    const doc = (await api('GET', 'cs-tfa')).body;
    assert.deepEqual(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0', '2.0.0']);
    assert.equal(doc['dist-tags'].two, undefined);
  });

  test('in a terminal: yarn npm login and pnpm login with a one-time password, their OTP prompts on publish, pnpm logout', async () => {
    const otp: [RegExp, () => string] = [/One-time password:/, code];
    const yarnHome = makeYarn();
    let cwd = makeProject();
    writeYarnrc(cwd, s.url);
    let r = await yarnHome.runTty(['npm', 'login'], [[/Username:/, 'alice'], [/Password:/, 'alice-password'], otp], {
      cwd,
    });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /YN0000: Successfully logged in/);
    r = await yarnHome.run(['npm', 'whoami'], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /YN0000: alice\n/);
    // Yarn's prompt: a wrong code is Yarn's own "Invalid OTP token"; the next one publishes.
    cwd = await yarnPackage('cs-tfa', '3.0.0');
    r = await yarn.runTty(['npm', 'publish'], [[/One-time password:/, '000000']], { cwd });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /YN0041: Invalid OTP token/);
    r = await yarn.runTty(['npm', 'publish'], [otp], { cwd });
    assert.equal(r.code, 0, r.output);

    // pnpm logs in on the web page and answers a publish's challenge there too (it sends npm-auth-type: web).
    const pnpmHome = makePnpm();
    cwd = makeProject();
    writeNpmrc(cwd, s.url);
    let page: Promise<Response> | undefined;
    let printed = '';
    const onStdout = (signIn: boolean) => (chunk: string) => {
      printed += chunk;
      const url = /(http:\/\/\S+\/-\/v1\/login\/cli\/[\w-]{32})/.exec(printed)?.[1];
      if (!url || page) return;
      const form: Record<string, string> = signIn
        ? { name: 'alice', password: 'alice-password', otp: code() }
        : { otp: code() };
      page = fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    };
    r = await pnpmHome.run(['login'], { cwd, onStdout: onStdout(true) });
    assert.equal(r.code, 0, r.output);
    assert.equal((await page!).status, 200);
    r = await pnpmHome.run(['whoami'], { cwd });
    assert.equal(r.stdout.trim(), 'alice', r.output);
    [page, printed] = [undefined, ''];
    cwd = pnpmPackage('cs-tfa', '3.1.0', false); // the login's token, from pnpm's auth.ini
    r = await pnpmHome.runTty(['publish', '--no-git-checks'], [], { cwd, onStdout: onStdout(false) });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Authenticate your account at:[\s\S]*Published package cs-tfa@3\.1\.0/);
    assert.equal((await page!).status, 200);
    assert.ok((await versions('cs-tfa')).includes('3.1.0'));
    // pnpm logout revokes the login's token on the registry, as npm logout does.
    const ini = readFileSync(join(pnpmHome.home, '.config', 'pnpm', 'auth.ini'), 'utf8');
    const session = /_authToken=(tsr_\w+)/.exec(ini)?.[1];
    assert.ok(session, ini);
    r = await pnpmHome.run(['logout'], { cwd });
    assert.equal(r.code, 0, r.output);
    const who = await fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${session}` } });
    assert.equal(who.status, 401);
    assert.match(((await who.json()) as { error: string }).error, /The access token was revoked \(logged out\)/);
  });
});
