// Staged publishing with the real npm 11 CLI: `npm stage publish|list|view|approve|reject|download`,
// the version namespace staged and published versions share, invisibility until approval, expiry on the
// server's test clock, stage-only granular tokens, trusted-publishing tokens that may stage, and the
// second-approver rule. Also registry scenario 12 (scoped first publish, --access public vs restricted).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { startIssuer, githubEnv, type Issuer } from '../helpers/oidc-issuer.ts';
import { applyFile, defaults } from '../../src/config/config.ts';
import { grants } from '../helpers/grants.ts';
import { userWith2fa } from '../helpers/two-factor.ts';

const DAY = 86_400_000;
const LONG = 60 * DAY; // tokens outlive the 7-day clock jump of the expiry test

type Item = {
  id: string;
  packageName: string;
  version: string;
  tag: string;
  actor: string;
  actorType: string;
  shasum: string;
  createdAt: string;
};

function stageIdOf(output: string): string {
  const m = /\(staged with id ([0-9a-f-]{36})\)/.exec(output);
  assert.ok(m, `no stage id in:\n${output}`);
  return m[1];
}

describe('staged publishing with npm 11', () => {
  let s: TestServer;
  let gh: Issuer;
  let alice: Awaited<ReturnType<typeof userWith2fa>>;
  let bob: NpmEnv;
  let carol: NpmEnv;
  let anon: NpmEnv;
  let staged = ''; // st-pkg@1.1.0
  const api = (path: string, token: string, init: RequestInit = {}) =>
    fetch(`${s.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    });

  before(async () => {
    gh = await startIssuer();
    s = await startServer(
      {
        oidc: {
          ...defaults.oidc,
          audience: 'npm:127.0.0.1',
          issuers: [{ name: 'github', type: 'github', issuer: gh.url, jwksUri: null }],
        },
      },
      { recordRequests: true },
    );
    alice = await userWith2fa(s, 'alice', 'auth-only', LONG);
    for (const name of ['bob', 'carol']) await s.addUser(name);
    bob = makeNpm(s.url);
    bob.setToken(s.host, await s.token({ user: 'bob', kind: 'session', expiresInMs: LONG }));
    carol = makeNpm(s.url);
    carol.setToken(s.host, await s.token({ user: 'carol', kind: 'session', expiresInMs: LONG }));
    anon = makeNpm(s.url);
    for (const [pkg, extra] of [
      ['st-pkg', []],
      ['@alice/st-private', []],
    ] as const) {
      const r = await alice.npm.run(['publish', ...extra], { cwd: makePackage(pkg, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    const r = await alice.npm.run(['owner', 'add', 'bob', 'st-pkg']);
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
    await gh.close();
  });

  test('npm stage publish: staged with an id, no one-time password asked', async () => {
    const r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-pkg', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /npm notice Staging to http:\/\/127\.0\.0\.1:\d+\/ with tag latest and default access/);
    staged = stageIdOf(r.output);
    assert.match(r.output, /\+ st-pkg@1\.1\.0 \(staged with id /);
    assert.match(r.output, /package st-pkg@1\.1\.0 has been staged with tag latest/);
  });

  test('a staged version is invisible to installs: packument, tarball, search', async () => {
    let r = await anon.run(['view', 'st-pkg', 'versions', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), ['1.0.0']);
    r = await anon.run(['install', 'st-pkg@1.1.0'], { cwd: makeProject() });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /ETARGET/);
    assert.match(r.output, /No matching version found for st-pkg@1\.1\.0/);
    const tgz = await fetch(`${s.url}st-pkg/-/st-pkg-1.1.0.tgz`);
    assert.equal(tgz.status, 404);
    const manifest = await fetch(`${s.url}st-pkg/1.1.0`);
    assert.equal(manifest.status, 404);
    const found = (await (await fetch(`${s.url}-/v1/search?text=st-pkg`)).json()) as {
      objects: { package: { name: string; version: string } }[];
    };
    assert.equal(found.objects.find((o) => o.package.name === 'st-pkg')?.package.version, '1.0.0');
  });

  test('npm stage list and view show it to maintainers', async () => {
    let r = await alice.npm.run(['stage', 'list']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`id: ${staged}`));
    assert.match(r.stdout, /package name: st-pkg/);
    assert.match(r.stdout, /version: 1\.1\.0/);
    assert.match(r.stdout, /staged by: alice \(user\)/);
    r = await bob.run(['stage', 'list', 'st-pkg', '--json']);
    assert.equal(r.code, 0, r.output);
    const items = JSON.parse(r.stdout) as Item[];
    assert.deepEqual(
      items.map((i) => [i.id, i.packageName, i.version, i.tag]),
      [[staged, 'st-pkg', '1.1.0', 'latest']],
    );
    assert.match(items[0].shasum, /^[0-9a-f]{40}$/);
    r = await alice.npm.run(['stage', 'view', staged]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /tag: latest/);
    assert.match(r.stdout, /date staged: \d{4}-\d\d-\d\dT/);
    r = await alice.npm.run(['stage', 'view', staged, '--json']);
    assert.equal((JSON.parse(r.stdout) as Item).version, '1.1.0');
  });

  test('others see nothing: not a maintainer, anonymous, a private package', async () => {
    let r = await carol.run(['stage', 'list']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /No staged packages found\./);
    r = await carol.run(['stage', 'list', 'st-pkg']);
    assert.match(r.stdout, /No staged versions of package name "st-pkg"\./);
    r = await carol.run(['stage', 'view', staged]);
    assert.notEqual(r.code, 0);
    // (npm masks the id in the URL it prints.)
    assert.match(r.output, /404 Not Found - GET .*\/-\/stage\/\S+ - Not found/);
    r = await carol.run(['stage', 'download', staged], { cwd: mkdtempSync(join(tmpdir(), 'st-dl-')) });
    assert.match(r.output, /E404/);
    r = await anon.run(['stage', 'list']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /E401/);
    // A private package's staged version: its id tells an outsider nothing.
    r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('@alice/st-private', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    r = await carol.run(['stage', 'view', id]);
    assert.match(r.output, /404 Not Found - GET .* - Not found$/m);
    r = await carol.run(['stage', 'list', '@alice/st-private', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  test('npm stage download writes the staged tarball', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-dl-'));
    const r = await bob.run(['stage', 'download', staged], { cwd: dir });
    assert.equal(r.code, 0, r.output);
    const file = `st-pkg-1.1.0-${staged}.tgz`;
    assert.match(r.stdout, new RegExp(file.replace(/\./g, '\\.')));
    assert.ok(existsSync(join(dir, file)));
    assert.match(r.output, /package\.json/);
    const listed = (await (await api(`-/stage/${staged}`, alice.token)).json()) as Item;
    const { createHash } = await import('node:crypto');
    assert.equal(
      createHash('sha1')
        .update(readFileSync(join(dir, file)))
        .digest('hex'),
      listed.shasum,
    );
  });

  test('staging a package that does not exist is refused', async () => {
    const r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-brand-new', '1.0.0') });
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /404 Not Found - POST .*\/-\/stage\/package\/st-brand-new - st-brand-new has no published version on this registry yet/,
    );
  });

  test('approve: EOTP without a code, needs 2FA, then the version is published with its tag', async () => {
    let r = await alice.npm.run(['stage', 'approve', staged]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /npm notice Approving staged package/);
    assert.match(r.output, /npm error code EOTP/);
    r = await bob.run(['stage', 'approve', staged, '--otp=123456']);
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /403 Forbidden - POST .*\/approve - Turn on two-factor authentication before you approve or reject staged versions/,
    );
    r = await alice.npm.run(['stage', 'approve', staged, `--otp=${alice.code()}`]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`Staged package ${staged} approved and published successfully\\.`));
    r = await anon.run(['view', 'st-pkg', 'dist-tags', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { latest: '1.1.0' });
    const proj = makeProject({ 'st-pkg': '1.1.0' });
    r = await anon.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    assert.equal(
      readFileSync(join(proj, 'node_modules/st-pkg/index.js'), 'utf8'),
      'module.exports = "st-pkg@1.1.0";\n',
    );
    r = await alice.npm.run(['stage', 'view', staged]);
    assert.match(r.output, /E404/, 'an approved item leaves staging');
    r = await alice.npm.run(['stage', 'approve', staged, `--otp=${alice.code()}`]);
    assert.match(r.output, /E404/);
  });

  test('a staged prerelease keeps its tag', async () => {
    let r = await alice.npm.run(['stage', 'publish', '--tag', 'next'], { cwd: makePackage('st-pkg', '2.0.0-rc.1') });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    r = await alice.npm.run(['stage', 'approve', id, `--otp=${alice.code()}`]);
    assert.equal(r.code, 0, r.output);
    r = await anon.run(['view', 'st-pkg', 'dist-tags', '--json']);
    assert.deepEqual(JSON.parse(r.stdout), { latest: '1.1.0', next: '2.0.0-rc.1' });
  });

  test('reject: EOTP without a code; deletes the item; the version number is free again', async () => {
    let r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-pkg', '1.2.0') });
    const id = stageIdOf(r.output);
    r = await alice.npm.run(['stage', 'reject', id]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /EOTP/);
    r = await alice.npm.run(['stage', 'reject', id, `--otp=${alice.code()}`]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Rejecting will permanently delete this staged publish record and tarball/);
    assert.match(r.stdout, new RegExp(`Staged package ${id} has been rejected\\.`));
    r = await alice.npm.run(['stage', 'view', id]);
    assert.match(r.output, /E404/);
    assert.equal((await api(`-/stage/${id}/tarball`, alice.token)).status, 404);
    r = await alice.npm.run(['publish'], { cwd: makePackage('st-pkg', '1.2.0') });
    assert.equal(r.code, 0, r.output);
  });

  test('one version namespace: no publish over a staged version, no stage over a published or staged one', async () => {
    let r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-pkg', '1.3.0') });
    assert.equal(r.code, 0, r.output);
    r = await alice.npm.run(['publish'], { cwd: makePackage('st-pkg', '1.3.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /409 Conflict - PUT .*\/st-pkg - Cannot publish over previously staged version "1\.3\.0"/);
    r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-pkg', '1.3.0') });
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /409 Conflict - POST .*\/-\/stage\/package\/st-pkg - Cannot stage previously published version "1\.3\.0"/,
    );
    // npm refuses a published version itself unless --force; the registry refuses it too.
    r = await alice.npm.run(['stage', 'publish', '--force'], { cwd: makePackage('st-pkg', '1.0.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /409 Conflict - POST .* - Cannot stage previously published version "1\.0\.0"/);
    // The database, not only the early check, keeps them apart.
    const db = s.ctx.store.db;
    await assert.rejects(
      db.insertInto('version_claims').values({ package: 'st-pkg', version: '1.3.0', state: 'published' }).execute(),
      /UNIQUE|duplicate key/,
    );
  });

  test('stage list pages with perPage and always sends total; npm follows the pages', async () => {
    let r = await alice.npm.run(['publish'], { cwd: makePackage('st-many', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    const N = 105;
    for (let i = 1; i <= N; i++) {
      const res = await api(`-/stage/package/${escaped('st-many')}`, alice.token, {
        method: 'POST',
        body: JSON.stringify(await publishBody('st-many', `1.0.${i}`)),
      });
      assert.equal(res.status, 201, await res.clone().text());
    }
    const page0 = (await (await api('-/stage?page=0&perPage=40&package=st-many', alice.token)).json()) as {
      items: Item[];
      page: number;
      perPage: number;
      total: number;
    };
    assert.equal(page0.items.length, 40);
    assert.deepEqual([page0.page, page0.perPage, page0.total], [0, 40, N]);
    assert.equal(page0.items[0].version, `1.0.${N}`, 'newest first');
    const page2 = (await (await api('-/stage?page=2&perPage=40&package=st-many', alice.token)).json()) as {
      items: Item[];
      total: number;
    };
    assert.equal(page2.items.length, N - 80);
    const beyond = (await (await api('-/stage?page=9&perPage=40', alice.token)).json()) as {
      items: Item[];
      total: number;
    };
    assert.deepEqual(beyond.items, []);
    assert.ok(beyond.total >= N);
    r = await alice.npm.run(['stage', 'list', 'st-many', '--json']);
    assert.equal(r.code, 0, r.output);
    assert.equal((JSON.parse(r.stdout) as Item[]).length, N);
    assert.ok(
      s.requests.some((q) => q.includes('/-/stage?page=1&perPage=100')),
      'npm asked for the second page',
    );
  });

  test('a read-write-stage-only granular token stages, but neither publishes nor approves', async () => {
    const stageOnly = grants({ packages: ['st-pkg'], permission: 'read-write-stage-only' });
    const ci = makeNpm(s.url);
    ci.setToken(s.host, await s.token({ user: 'alice', kind: 'granular', grants: stageOnly, expiresInMs: LONG }));
    let r = await ci.run(['stage', 'publish'], { cwd: makePackage('st-pkg', '1.4.0') });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    r = await ci.run(['stage', 'list', 'st-pkg', '--json']);
    assert.ok((JSON.parse(r.stdout) as Item[]).some((i) => i.id === id));
    r = await ci.run(['publish'], { cwd: makePackage('st-pkg', '1.5.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /403 Forbidden - PUT .* - This token may only stage releases, so it cannot publish st-pkg/);
    r = await ci.run(['stage', 'approve', id, `--otp=${alice.code()}`]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /403 Forbidden - POST .* - This token may only stage releases, so it cannot approve or reject staged versions of st-pkg/,
    );
    r = await ci.run(['stage', 'reject', id, `--otp=${alice.code()}`]);
    assert.match(r.output, /403 Forbidden - DELETE/);
    r = await alice.npm.run(['stage', 'approve', id, `--otp=${alice.code()}`]);
    assert.equal(r.code, 0, r.output);
  });

  test('a trusted publisher allowed to stage (createStagedPackage) stages from CI, and can do nothing else', async () => {
    let r = await alice.npm.run([
      'trust',
      'github',
      'st-pkg',
      '--repository',
      'acme/app',
      '--file',
      'release.yml',
      '--allow-stage-publish',
      '--yes',
      `--otp=${alice.code()}`,
    ]);
    assert.equal(r.code, 0, r.output);
    gh.githubClaims = {
      repository: 'acme/app',
      workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
    };
    const ci = makeNpm(s.url);
    r = await ci.run(['stage', 'publish', '--provenance=false'], {
      cwd: makePackage('st-pkg', '1.6.0'),
      env: githubEnv(gh),
    });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    const item = (await (await api(`-/stage/${id}`, alice.token)).json()) as Item;
    assert.deepEqual([item.actor, item.actorType], ['github:acme/app', 'trusted-publisher']);
    // The same job cannot publish directly: its trust configuration only allows staging.
    r = await ci.run(['publish', '--provenance=false'], { cwd: makePackage('st-pkg', '1.7.0'), env: githubEnv(gh) });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /403 Forbidden - PUT .* - This token may only stage releases, so it cannot publish st-pkg/);
    // Nor list, view or approve: those are for maintainers.
    const jwt = await gh.sign({ aud: 'npm:127.0.0.1', ...gh.githubClaims });
    const ex = await fetch(`${s.url}-/npm/v1/oidc/token/exchange/package/st-pkg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}` },
    });
    const { token } = (await ex.json()) as { token: string };
    for (const [method, path] of [
      ['GET', '-/stage'],
      ['GET', `-/stage/${id}`],
      ['POST', `-/stage/${id}/approve`],
      ['DELETE', `-/stage/${id}`],
    ]) {
      const res = await api(path, token, { method, headers: { 'npm-otp': alice.code() } });
      const body = (await res.json()) as { error: string };
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(
        body.error,
        /A trusted-publishing token can only publish st-pkg; it cannot see the staged versions of it/,
      );
    }
    r = await alice.npm.run(['stage', 'approve', id, `--otp=${alice.code()}`]);
    assert.equal(r.code, 0, r.output);
    const events = (
      await s.ctx.store.db.selectFrom('audit').select('event').where('event', 'like', 'stage-%').execute()
    ).map((e) => e.event);
    for (const e of ['stage-created', 'stage-approved', 'stage-rejected']) assert.ok(events.includes(e), e);
  });

  test('unpublishing the whole package rejects its staged versions and frees their numbers', async () => {
    let r = await alice.npm.run(['publish'], { cwd: makePackage('st-gone', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-gone', '1.1.0') });
    const id = stageIdOf(r.output);
    r = await alice.npm.run(['unpublish', 'st-gone', '--force']);
    assert.equal(r.code, 0, r.output);
    r = await alice.npm.run(['stage', 'view', id]);
    assert.match(r.output, /E404/);
    r = await alice.npm.run(['publish'], { cwd: makePackage('st-gone', '1.1.0') });
    assert.match(r.output, /E403[\s\S]*cannot be republished until/, 'the name is reserved after a whole unpublish');
    // Once the reservation is over (here: turned off), the staged version's number is free again.
    const reserve = s.ctx.config.unpublish.reserveForMs;
    s.ctx.config.unpublish.reserveForMs = 0;
    try {
      r = await alice.npm.run(['publish'], { cwd: makePackage('st-gone', '1.1.0') });
    } finally {
      s.ctx.config.unpublish.reserveForMs = reserve;
    }
    assert.equal(r.code, 0, r.output);
    const rejected = await s.ctx.store.db
      .selectFrom('audit')
      .select('reason')
      .where('event', '=', 'stage-rejected')
      .where('detail', 'like', `%${id}%`)
      .execute();
    assert.deepEqual(
      rejected.map((e) => e.reason),
      ['package-unpublished'],
    );
  });

  // Last: it moves the server's clock past stage.ttl (7 days by default).
  test('stages expire after stage.ttl: gone from the list, not approvable, the version number is free', async () => {
    let r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('st-pkg', '3.0.0') });
    assert.equal(r.code, 0, r.output);
    const id = stageIdOf(r.output);
    s.clock.advance(defaults.stage.ttlMs - 60_000);
    r = await alice.npm.run(['stage', 'view', id]);
    assert.equal(r.code, 0, 'still there a minute before');
    s.clock.advance(120_000);
    r = await alice.npm.run(['stage', 'list', 'st-pkg', '--json']);
    assert.ok(!(JSON.parse(r.stdout) as Item[]).some((i) => i.id === id));
    r = await alice.npm.run(['stage', 'approve', id, `--otp=${alice.code()}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /E404/);
    r = await alice.npm.run(['publish'], { cwd: makePackage('st-pkg', '3.0.0') });
    assert.equal(r.code, 0, r.output);
    const expired = await s.ctx.store.db
      .selectFrom('audit')
      .select('detail')
      .where('event', '=', 'stage-expired')
      .execute();
    assert.ok(expired.some((e) => (e.detail ?? '').includes(id)));
  });
});

describe('staged publishing: stage.requireSecondApprover', () => {
  let s: TestServer;
  let alice: Awaited<ReturnType<typeof userWith2fa>>;
  let bob: Awaited<ReturnType<typeof userWith2fa>>;

  before(async () => {
    s = await startServer({ stage: { ...defaults.stage, requireSecondApprover: true } });
    alice = await userWith2fa(s, 'alice', 'auth-only', LONG);
    bob = await userWith2fa(s, 'bob', 'auth-only', LONG);
    let r = await alice.npm.run(['publish'], { cwd: makePackage('two-pkg', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await alice.npm.run(['owner', 'add', 'bob', 'two-pkg']);
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('the maintainer who staged cannot approve; another maintainer can; rejecting your own is allowed', async () => {
    let r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('two-pkg', '1.1.0') });
    const id = stageIdOf(r.output);
    r = await alice.npm.run(['stage', 'approve', id, `--otp=${alice.code()}`]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.output,
      /403 Forbidden - POST .* - two-pkg@1\.1\.0 was staged by alice; this registry requires another maintainer to approve it/,
    );
    r = await bob.npm.run(['stage', 'approve', id, `--otp=${bob.code()}`]);
    assert.equal(r.code, 0, r.output);
    r = await alice.npm.run(['stage', 'publish'], { cwd: makePackage('two-pkg', '1.2.0') });
    r = await alice.npm.run(['stage', 'reject', stageIdOf(r.output), `--otp=${alice.code()}`]);
    assert.equal(r.code, 0, r.output);
  });
});

describe('registry scenario 12: scoped first publish, --access public vs restricted', () => {
  let s: TestServer;
  let alice: NpmEnv;
  let anon: NpmEnv;

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    alice = makeNpm(s.url);
    alice.setToken(s.host, await s.token({ user: 'alice', kind: 'session', expiresInMs: LONG }));
    anon = makeNpm(s.url);
  });
  after(async () => {
    await s.close();
  });

  test('--access public is installable by anyone; --access restricted and the default are not; unscoped cannot be restricted', async () => {
    let r = await alice.run(['publish', '--access', 'public'], { cwd: makePackage('@alice/open', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /with tag latest and public access/);
    r = await alice.run(['publish', '--access', 'restricted'], { cwd: makePackage('@alice/closed', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /with tag latest and restricted access/);
    r = await alice.run(['publish'], { cwd: makePackage('@alice/default', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /with tag latest and default access/);
    r = await anon.run(['install'], { cwd: makeProject({ '@alice/open': '1.0.0' }) });
    assert.equal(r.code, 0, r.output);
    for (const name of ['@alice/closed', '@alice/default']) {
      r = await anon.run(['install'], { cwd: makeProject({ [name]: '1.0.0' }) });
      assert.notEqual(r.code, 0);
      assert.match(r.output, new RegExp(`404 Not Found - GET .*${name.replace('/', '%2f')} - Not found`));
      r = await alice.run(['install'], { cwd: makeProject({ [name]: '1.0.0' }) });
      assert.equal(r.code, 0, r.output);
    }
    r = await alice.run(['access', 'get', 'status', '@alice/closed']);
    assert.match(r.stdout, /@alice\/closed: private/);
    r = await alice.run(['publish', '--access', 'restricted'], { cwd: makePackage('unscoped-closed', '1.0.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /EUNSCOPED|Can't restrict access to unscoped packages/);
  });
});

test('stage.ttl and stage.requireSecondApprover in the configuration file', () => {
  const c = applyFile(defaults, { stage: { ttl: '2d', requireSecondApprover: true } }, '/');
  assert.deepEqual(c.stage, { ttlMs: 2 * DAY, requireSecondApprover: true });
  assert.equal(defaults.stage.ttlMs, 7 * DAY);
  assert.equal(defaults.stage.requireSecondApprover, false);
  assert.throws(() => applyFile(defaults, { stage: { ttl: 'soon' } }, '/'), /config: stage\.ttl: invalid duration/);
  assert.throws(
    () => applyFile(defaults, { stage: { requireSecondApprover: 'yes' } }, '/'),
    /stage\.requireSecondApprover: must be true or false/,
  );
  assert.throws(
    () => applyFile(defaults, { stage: { ttl: '7d', approvers: 2 } }, '/'),
    /stage\.approvers: unknown key/,
  );
});
