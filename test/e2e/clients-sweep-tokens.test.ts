// Credentials and private packages with pnpm 11 and Yarn 4, as their users meet them: granular tokens limited
// to a scope, read-only, stage-only (the plain publish each client sends is refused with the reason; `pnpm
// stage publish` stages), CIDR-limited, expired and revoked tokens; an org's private package for a team member
// and for a non-member (with Yarn, the same answer as an absent name, `yarn npm info` too); dist-tags and
// deprecations made with one client seen by the other; the scoped tarball URL each client asks for; Yarn with
// and without npmAlwaysAuth for a public package.
//
// What the clients print of a 401: pnpm's install shows only "Unauthorized - 401", Yarn always
// "Invalid authentication (as an unknown user)"; pnpm's publish prints the challenge, whose RFC 6750
// error_description carries the registry's reason.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makePackage, makeProject } from '../helpers/npm.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc, type ClientEnv } from '../helpers/clients.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { adminRevoke } from '../../src/services/tokens.ts';
import { createOrg } from '../../src/services/orgs.ts';
import type { Grants } from '../../src/domain/principal.ts';
import { grants } from '../helpers/grants.ts';

/** pnpm's boxed and wrapped error lines, joined back into one. */
const flat = (out: string) => out.replace(/\s*│\s*/g, ' ').replace(/\s+/g, ' ');

describe('pnpm 11 and Yarn 4 with every kind of credential', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  let pnpm: ClientEnv;
  let yarn: ClientEnv;
  const t: Record<string, string> = {};
  const doc = async (name: string) =>
    (await (
      await fetch(`${s.url}${name.replace('/', '%2f')}`, { headers: { authorization: `Bearer ${t.alice}` } })
    ).json()) as Record<string, any>;
  /** A pnpm project depending on `deps`, with `token` for the registry. */
  const pnpmProject = (token: string | undefined, deps: Record<string, string> = {}) => {
    const dir = makeProject(deps);
    writeNpmrc(dir, s.url, token);
    return dir;
  };
  /** A Yarn project depending on `deps`, with `token` for the registry and the @acme scope. */
  const yarnProject = (token: string | undefined, deps: Record<string, string> = {}, alwaysAuth = false) => {
    const dir = makeProject(deps);
    writeYarnrc(dir, s.url, { token, scope: '@acme' });
    if (alwaysAuth) appendFileSync(join(dir, '.yarnrc.yml'), 'npmAlwaysAuth: true\n');
    return dir;
  };

  before(async () => {
    s = await startServer({}, { recordRequests: true });
    for (const u of ['alice', 'bob', 'carol']) {
      await s.addUser(u);
      t[u] = await s.token({ user: u, expiresInMs: 30 * 86_400_000 });
    }
    await createOrg(s.ctx, 'acme', 'alice');
    // What npm publish, npm org set, npm team create|add and npm access grant send, as alice.
    const put = async (path: string, body: unknown) => {
      const res = await fetch(`${s.url}${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${t.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(res.status < 300, `${path}: ${res.status} ${await res.text()}`);
    };
    for (const [name, version] of [
      ['cs-pad', '1.0.0'],
      ['cs-pad', '1.1.0'],
      ['@acme/lib', '1.0.0'],
      ['@acme/lib', '1.1.0'],
    ]) {
      await put(escaped(name), await publishBody(name, version));
    }
    await put('-/org/acme/user', { user: 'bob', role: 'developer' });
    await put('-/org/acme/user', { user: 'carol', role: 'developer' });
    await put('-/org/acme/team', { name: 'devs' });
    await put('-/team/acme/devs/user', { user: 'bob' });
    await put('-/team/acme/devs/package', { package: '@acme/lib', permissions: 'read-only' });
    const granular = (g: Partial<Grants>, more: { readonly?: boolean; cidr?: string[] } = {}) =>
      s.token({ user: 'alice', kind: 'granular', grants: grants(g), ...more });
    t.scoped = await granular({ scopes: ['@other'] });
    t.readOnly = await granular({ packagesAll: true, permission: 'read-only' }, { readonly: true });
    t.cidr = await granular({ packagesAll: true }, { cidr: ['10.0.0.0/8'] });
    t.stageOnly = await granular({ packagesAll: true, permission: 'read-write-stage-only' });
    t.expired = await s.token({ user: 'alice', expiresInMs: 1_000 });
    t.revoked = await s.token({ user: 'alice' });
    await adminRevoke(s.ctx, t.revoked);
    s.clock.advance(5_000);
    pnpm = makePnpm();
    yarn = makeYarn();
  });
  after(async () => {
    await s.close();
  });

  test('pnpm publish with a token limited to a scope, read-only, CIDR-limited, stage-only, expired, revoked', async () => {
    const cases: [string, RegExp][] = [
      [
        'scoped',
        /403 Forbidden - PUT \S+\/@acme%2flib - This token is limited to @other\/\* and cannot publish @acme\/lib/,
      ],
      [
        'readOnly',
        /403 Forbidden - PUT \S+ - This token is read-only and cannot publish @acme\/lib\. Create a read-write token/,
      ],
      ['cidr', /\[EAUTHIP\] Login is not allowed from your IP address/],
      [
        'stageOnly',
        /403 Forbidden - PUT \S+ - This token may only stage releases, so it cannot publish @acme\/lib\. Stage/,
      ],
      [
        'expired',
        /\[E401\] Unable to authenticate, need: Bearer realm="tessera", error="invalid_token", error_description="The access token expired on \d{4}-\d\d-\d\dT[\d:.]+Z\. Run `npm login` or create a new token \(http:\/\/127\.0\.0\.1:\d+\/-\/help\/token-expired\)"/,
      ],
      [
        'revoked',
        /\[E401\] Unable to authenticate, need: Bearer realm="tessera", error="invalid_token", error_description="The access token was revoked \(revoked by an administrator\)\. Run `npm login`/,
      ],
    ];
    const dir = makePackage('@acme/lib', '2.0.0');
    for (const [kind, shown] of cases) {
      writeNpmrc(dir, s.url, t[kind]);
      const r = await pnpm.run(['publish', '--no-git-checks'], { cwd: dir });
      assert.equal(r.code, 1, `${kind}: ${r.output}`);
      assert.match(flat(r.output), shown, kind);
    }
    assert.deepEqual(Object.keys((await doc('@acme/lib')).versions), ['1.0.0', '1.1.0']);
    // The stage-only token stages the same folder.
    writeNpmrc(dir, s.url, t.stageOnly);
    const staged = await pnpm.run(['stage', 'publish', '--no-git-checks'], { cwd: dir });
    assert.equal(staged.code, 0, staged.output);
    assert.match(staged.output, /\+ @acme\/lib@2\.0\.0 \(staged with id [0-9a-f-]{36}\)/);
    // A missing token is no invalid one: the bare challenge (RFC 6750 §3.1).
    const res = await fetch(`${s.url}-/whoami`);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="tessera"');
  });

  test("Yarn npm publish with a limited, read-only, stage-only or CIDR-limited token: the 403s' reasons, Yarn's words for 401s", async () => {
    const dir = makePackage('cs-pad', '2.0.0');
    writeYarnrc(dir, s.url, { token: t.alice });
    assert.equal((await yarn.run(['install'], { cwd: dir })).code, 0);
    for (const [kind, shown] of [
      [
        'scoped',
        /YN0035: This token is limited to @other\/\* and cannot publish cs-pad \(http:\S+\/-\/help\/token-package-restricted\)/,
      ],
      ['readOnly', /YN0035: This token is read-only and cannot publish cs-pad\. Create a read-write token/],
      [
        'stageOnly',
        /YN0035: This token may only stage releases, so it cannot publish cs-pad\. Stage with `npm stage publish`/,
      ],
      ['cidr', /YN0041: Invalid authentication \(as an unknown user\)/],
    ] as const) {
      writeYarnrc(dir, s.url, { token: t[kind] });
      const r = await yarn.run(['npm', 'publish'], { cwd: dir });
      assert.equal(r.code, 1, `${kind}: ${r.output}`);
      assert.match(r.output, shown, kind);
    }
    assert.deepEqual(Object.keys((await doc('cs-pad')).versions), ['1.0.0', '1.1.0']);
  });

  test('an org private package: a team member installs it with Yarn; to a non-member it is absent (install, info)', async () => {
    // npmAlwaysAuth: the token goes with the public package's requests too.
    const member = await yarn.run(['install'], {
      cwd: yarnProject(t.bob, { 'cs-pad': '^1.0.0', '@acme/lib': '^1.0.0' }, true),
    });
    assert.equal(member.code, 0, member.output);
    assert.match(member.output, /YN0085: .*\+ @acme\/lib@npm:1\.1\.0, cs-pad@npm:1\.1\.0/);

    // carol is in the org, not in the team: every answer equals the one for a name that does not exist
    // (privacy-sweep-cli.test.ts shows the same for npm and pnpm).
    const same = async (run: (name: string) => Promise<{ code: number; output: string }>) => {
      const hidden = await run('@acme/lib');
      const absent = await run('@acme/nil');
      assert.notEqual(hidden.code, 0, hidden.output);
      assert.equal(hidden.code, absent.code);
      const norm = (o: string, n: string) => o.replace(/ in \d+s \d+ms/g, '').replace(new RegExp(n, 'g'), 'X');
      assert.equal(norm(hidden.output, 'lib'), norm(absent.output, 'nil'));
      return hidden.output;
    };
    let out = await same((n) => yarn.run(['install'], { cwd: yarnProject(t.carol, { [n]: '^1.0.0' }) }));
    assert.match(out, /YN0035: .*@acme\/X@npm:\^1\.0\.0: Package not found|Package not found/);
    out = await same((n) => yarn.run(['npm', 'info', n], { cwd: yarnProject(t.carol) }));
    assert.match(out, /YN0035: Package not found\n.*Response Code: 404 \(Not Found\)/);
  });

  test('dist-tags and deprecations made with one client show in the other; each client asks its own tarball URL', async () => {
    let r = await pnpm.run(['dist-tag', 'add', '@acme/lib@1.0.0', 'lts'], { cwd: pnpmProject(t.alice) });
    assert.equal(r.code, 0, r.output);
    r = await yarn.run(['npm', 'tag', 'add', '@acme/lib@1.1.0', 'next'], { cwd: yarnProject(t.alice) });
    assert.equal(r.code, 0, r.output);
    r = await pnpm.run(['deprecate', '@acme/lib@1.0.0', 'use 1.1'], { cwd: pnpmProject(t.alice) });
    assert.equal(r.code, 0, r.output);
    r = await pnpm.run(['view', '@acme/lib', 'dist-tags', '--json'], { cwd: pnpmProject(t.bob) });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), { latest: '1.1.0', lts: '1.0.0', next: '1.1.0' });
    r = await yarn.run(['npm', 'info', '@acme/lib@lts', '--fields', 'deprecated', '--json'], {
      cwd: yarnProject(t.bob),
    });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(JSON.parse(r.stdout), { name: '@acme/lib', deprecated: 'use 1.1' });

    // bob installs by the tag with each client: pnpm follows dist.tarball, Yarn escapes the scope's slash.
    s.requests.length = 0;
    r = await makePnpm().run(['install'], { cwd: pnpmProject(t.bob, { '@acme/lib': 'lts' }) });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /WARN.*deprecated @acme\/lib@1\.0\.0: use 1\.1|deprecated/);
    const y = yarnProject(t.bob, { '@acme/lib': 'lts' });
    r = await makeYarn().run(['install'], { cwd: y });
    assert.equal(r.code, 0, r.output);
    const v = JSON.parse(readFileSync(join(y, 'node_modules/@acme/lib/package.json'), 'utf8')).version;
    assert.equal(v, '1.0.0');
    const tarballs = s.requests.filter((x) => x.endsWith('.tgz'));
    assert.deepEqual(tarballs, ['GET /@acme/lib/-/lib-1.0.0.tgz', 'GET /@acme%2flib/-/lib-1.0.0.tgz']);
    // Every spelling of the scoped tarball URL: the member gets the same bytes, the non-member a 404.
    const bytes = new Set<string>();
    for (const path of ['@acme/lib', '@acme%2flib', '@acme%2Flib', '%40acme%2flib', '%40acme/lib']) {
      const url = `${s.url}${path}/-/lib-1.0.0.tgz`;
      const got = await fetch(url, { headers: { authorization: `Bearer ${t.bob}` } });
      assert.equal(got.status, 200, path);
      bytes.add(Buffer.from(await got.arrayBuffer()).toString('base64'));
      const denied = await fetch(url, { headers: { authorization: `Bearer ${t.carol}` } });
      assert.equal(denied.status, 404, path);
      await denied.body?.cancel();
    }
    assert.equal(bytes.size, 1);
  });

  test('Yarn with and without npmAlwaysAuth: a public package, a stale token', async () => {
    // Without npmAlwaysAuth Yarn sends no token for an unscoped public package: a revoked one goes unnoticed.
    const quiet = makeProject({ 'cs-pad': '^1.0.0' });
    writeYarnrc(quiet, s.url, { token: t.revoked });
    let r = await yarn.run(['install'], { cwd: quiet });
    assert.equal(r.code, 0, r.output);
    // With it, every request carries the token (the lockfile's tarball too), and the registry refuses the
    // revoked one even for a public read.
    appendFileSync(join(quiet, '.yarnrc.yml'), 'npmAlwaysAuth: true\n');
    r = await makeYarn().run(['install'], { cwd: quiet });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /YN0041: .*cs-pad@npm:1\.1\.0: Invalid authentication \(as an unknown user\)/);
  });
});
