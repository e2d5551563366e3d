// Company sign-in through a real OpenLDAP slapd (test/helpers/slapd.ts): legacy `npm login` with a
// directory password, wrong passwords refused and throttled, directory groups mapped to teams and a
// removal applied by the periodic check (moved along by the test clock), a user deleted from the
// directory disabled with their tokens revoked, and StartTLS/LDAPS against the configured CA.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/raw-request.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { slapdLdapConfig, startSlapd, type Slapd } from '../helpers/slapd.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { ADDRESS_LIMIT } from '../../src/services/login-throttle.ts';
import { applyFile, defaults, type Config } from '../../src/config/config.ts';
import { authDefaults, type LdapConfig } from '../../src/config/auth.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const legacyLogin = (s: TestServer, name: string, password: string, from?: string) =>
  send(s, 'PUT', `/-/user/org.couchdb.user:${name}`, {
    from,
    body: { _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [] },
  });
const whoami = (s: TestServer, authorization: string) => send(s, 'GET', '/-/whoami', { headers: { authorization } });
const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
const FIVE_MINUTES = 5 * 60_000;

let slapd: Slapd;

function ldapConfig(over: Partial<LdapConfig> = {}): LdapConfig {
  return slapdLdapConfig(slapd, { syncIntervalMs: FIVE_MINUTES, ...over });
}

/** A registry signing in through the test directory, with the organization acme (owned by a local admin),
 *  its team `devs` allowed to publish @acme/widget, and the directory's groups mapped onto both. */
async function registry(ldap: Partial<LdapConfig> = {}): Promise<TestServer> {
  const groups = { 'npm-acme-dev': 'acme:devs', 'npm-acme-admins': 'acme:admin' };
  const s = await startServer({ auth: { ...authDefaults, ldap: ldapConfig(ldap), groups } });
  await s.addUser('root', { admin: true });
  await createOrg(s.ctx, 'acme', 'root');
  const now = s.clock.now();
  await s.ctx.store.db
    .insertInto('teams')
    .values({ org: 'acme', name: 'devs', description: null, created_at: now })
    .execute();
  const npm = makeNpm(s.url);
  npm.setToken(s.host, await s.token({ user: 'root' }));
  const first = await npm.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.0') });
  assert.equal(first.code, 0, first.output);
  await s.ctx.store.db
    .insertInto('team_packages')
    .values({ org: 'acme', team: 'devs', package: '@acme/widget', permission: 'read-write' })
    .execute();
  return s;
}

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`not within 10 s: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const teamsOf = async (s: TestServer, name: string) =>
  (
    await s.ctx.store.db
      .selectFrom('team_members')
      .innerJoin('users', 'users.id', 'team_members.user_id')
      .select(['org', 'team'])
      .where('users.name', '=', name)
      .orderBy('team')
      .execute()
  ).map((r) => `${r.org}:${r.team}`);

before(async () => {
  slapd = await startSlapd(
    [
      { uid: 'alice', password: 'alice-directory-pw', mail: 'alice@corp.test' },
      { uid: 'bob', password: 'bob-directory-pw', mail: 'bob@corp.test' },
      { uid: 'carol', password: 'carol-directory-pw', mail: 'carol@corp.test' },
      { uid: 'dave', password: 'dave-directory-pw', mail: 'dave@corp.test' },
    ],
    [
      { cn: 'npm-acme-dev', members: ['alice', 'carol'] },
      { cn: 'npm-acme-admins', members: ['carol'] },
    ],
  );
});
after(async () => {
  await slapd?.stop();
});

describe('LDAP sign-in', { skip: onceInSqlitePass }, () => {
  test(
    'legacy npm login with the directory password makes the account; groups give team access, and a removal ' +
      'takes it away at the next periodic check',
    async () => {
      const s = await registry();
      try {
        const npm = makeNpm(s.url);
        const login = await npm.runTty(
          ['login', '--auth-type=legacy'],
          [
            [/Username:/, 'alice'],
            [/Password:/, 'alice-directory-pw'],
          ],
        );
        assert.equal(login.code, 0, login.output);
        assert.equal((await npm.run(['whoami'])).stdout.trim(), 'alice');
        const row = await s.ctx.store.db
          .selectFrom('users')
          .selectAll()
          .where('name', '=', 'alice')
          .executeTakeFirstOrThrow();
        assert.equal(row.email, 'alice@corp.test');
        assert.equal(row.email_verified, 1);
        assert.equal(row.password_hash, null, 'no registry password is kept for a directory account');
        assert.deepEqual(await teamsOf(s, 'alice'), ['acme:developers', 'acme:devs']);
        const published = await npm.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.1') });
        assert.equal(published.code, 0, published.output);

        // carol's groups make her an admin of acme; the local admin keeps signing in with the registry password.
        assert.equal((await legacyLogin(s, 'carol', 'carol-directory-pw')).status, 201);
        const carol = await s.ctx.store.db
          .selectFrom('org_members')
          .innerJoin('users', 'users.id', 'org_members.user_id')
          .select('role')
          .where('users.name', '=', 'carol')
          .executeTakeFirstOrThrow();
        assert.equal(carol.role, 'admin');
        assert.equal((await legacyLogin(s, 'root', 'root-password')).status, 201);

        await slapd.removeFromGroup('npm-acme-dev', 'alice');
        // Nothing changes before the interval has passed on the registry's clock…
        s.clock.advance(FIVE_MINUTES - 60_000);
        await new Promise((r) => setTimeout(r, 1_500));
        assert.deepEqual(await teamsOf(s, 'alice'), ['acme:developers', 'acme:devs']);
        // …and within a second of it, the periodic check takes the team (and, her only group, acme) away.
        s.clock.advance(60_000);
        await eventually('alice leaves acme', async () => (await teamsOf(s, 'alice')).length === 0);
        const refused = await npm.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.2') });
        assert.notEqual(refused.code, 0, refused.output);
        assert.match(refused.output, /E403|E404/);
        // The shared directory mapping (services/directory-groups.ts) acts as `directory:ldap`.
        const audit = await s.ctx.store.db
          .selectFrom('audit')
          .select(['event', 'detail'])
          .where('user_name', '=', 'directory:ldap')
          .where('event', '=', 'org-member-removed')
          .where('detail', 'like', '%"member":"alice"%')
          .execute();
        assert.equal(audit.length, 1);
      } finally {
        await s.close();
      }
    },
  );

  test('a wrong directory password is refused with its reason and counts toward the login throttle', async () => {
    const s = await registry();
    try {
      const npm = makeNpm(s.url);
      const wrong = await npm.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, 'dave'],
          [/Password:/, 'not-it'],
        ],
      );
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.output, /E401/);
      const unknown = await legacyLogin(s, 'nobody', 'whatever', '127.0.0.7');
      assert.deepEqual([unknown.status, unknown.reason], [401, 'directory-refused'], 'an unknown name answers alike');
      assert.match(unknown.body, /company directory did not accept/);
      for (let i = 1; i < ADDRESS_LIMIT; i++) {
        const r = await legacyLogin(s, 'dave', `guess-${i}`, '127.0.0.7');
        assert.deepEqual([r.status, r.reason], [401, 'directory-refused']);
      }
      const locked = await legacyLogin(s, 'dave', 'dave-directory-pw', '127.0.0.7');
      assert.deepEqual([locked.status, locked.reason], [429, 'login-throttled']);
      const basicLocked = { from: '127.0.0.7', headers: { authorization: basic('dave', 'dave-directory-pw') } };
      assert.equal((await send(s, 'GET', '/-/whoami', basicLocked)).status, 429);
      // From another address the right password works, over Basic auth too.
      const ok = await whoami(s, basic('dave', 'dave-directory-pw'));
      assert.equal(ok.status, 200, ok.body);
      assert.equal(JSON.parse(ok.body).username, 'dave');
      // The typed name is a value in the search filter, never filter syntax: "al*" does not find alice.
      const star = await legacyLogin(s, 'al*', 'alice-directory-pw', '127.0.0.8');
      assert.deepEqual([star.status, star.reason], [401, 'directory-refused']);
      const none = await s.ctx.store.db
        .selectFrom('users')
        .select('name')
        .where('name', '=', 'nobody')
        .executeTakeFirst();
      assert.equal(none, undefined, 'a refused sign-in makes no account');
    } finally {
      await s.close();
    }
  });

  test("the web sign-in form and npm's web login page check the directory password", async () => {
    const s = await registry();
    try {
      // /-/web/signin: its pre-session cookie and the form's CSRF field, as a browser sends them.
      const page = await fetch(`${s.url}-/web/signin`);
      const jar = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      const signIn = (password: string) =>
        fetch(`${s.url}-/web/signin`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, name: 'carol', password }).toString(),
        });
      const wrong = await signIn('nope');
      assert.equal(wrong.headers.get('x-tessera-reason'), 'directory-refused');
      assert.match(await wrong.text(), /company directory did not accept/);
      const ok = await signIn('carol-directory-pw');
      assert.equal(ok.status, 303, await ok.text());
      assert.match(ok.headers.getSetCookie().join(';'), /tessera-session=/);
      // npm login's web flow: the page at loginUrl takes the directory password, doneUrl then hands the token.
      const start = (await (await fetch(`${s.url}-/v1/login`, { method: 'POST' })).json()) as Record<string, string>;
      const form = await fetch(start.loginUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'alice', password: 'alice-directory-pw' }).toString(),
      });
      assert.equal(form.status, 200, await form.text());
      const done = (await (await fetch(start.doneUrl)).json()) as { token: string };
      const who = await whoami(s, `Bearer ${done.token}`);
      assert.equal(JSON.parse(who.body).username, 'alice');
    } finally {
      await s.close();
    }
  });

  test('a user deleted from the directory is disabled, tokens revoked, at the next periodic check', async () => {
    const s = await registry();
    try {
      const login = await legacyLogin(s, 'bob', 'bob-directory-pw');
      assert.equal(login.status, 201, login.body);
      const token = JSON.parse(login.body).token as string;
      const cli = await s.token({ user: 'bob', kind: 'granular' });
      assert.equal((await whoami(s, `Bearer ${token}`)).status, 200);
      await slapd.deleteUser('bob');
      s.clock.advance(FIVE_MINUTES);
      await eventually("bob's session is refused", async () => (await whoami(s, `Bearer ${token}`)).status === 401);
      const session = await whoami(s, `Bearer ${token}`);
      assert.equal(session.reason, 'token-revoked');
      assert.match(session.body, /removed from the directory/);
      assert.equal((await whoami(s, `Bearer ${cli}`)).reason, 'token-revoked', 'every token, not only sessions');
      const user = await s.ctx.store.db
        .selectFrom('users')
        .select('disabled')
        .where('name', '=', 'bob')
        .executeTakeFirstOrThrow();
      assert.equal(user.disabled, 1);
      const again = await legacyLogin(s, 'bob', 'bob-directory-pw');
      assert.deepEqual([again.status, again.reason], [401, 'directory-user-removed']);
      const help = await send(s, 'GET', '/-/help/directory-user-removed');
      assert.equal(help.status, 200);
    } finally {
      await s.close();
    }
  });

  test('StartTLS and LDAPS trust the configured CA, and refuse a directory without it', async () => {
    const ca = readFileSync(slapd.caFile, 'utf8');
    for (const ldap of [{ tls: { ca, startTls: true } }, { url: slapd.ldapsUrl, tls: { ca, startTls: false } }]) {
      const s = await startServer({ auth: { ...authDefaults, ldap: ldapConfig(ldap), groups: {} } });
      try {
        const r = await legacyLogin(s, 'dave', 'dave-directory-pw');
        assert.equal(r.status, 201, `${JSON.stringify(ldap.tls)} ${ldap.url ?? ''}: ${r.body}`);
      } finally {
        await s.close();
      }
    }
    const s = await startServer({
      auth: { ...authDefaults, ldap: ldapConfig({ tls: { ca: null, startTls: true } }), groups: {} },
    });
    try {
      const r = await legacyLogin(s, 'dave', 'dave-directory-pw');
      assert.deepEqual([r.status, r.reason], [403, 'directory-unavailable']);
    } finally {
      await s.close();
    }
  });

  test('the auth section of the configuration file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ldap-config-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM TEXT');
    const base: Config = structuredClone(defaults);
    const c = applyFile(
      base,
      {
        auth: {
          ldap: {
            url: 'ldap://127.0.0.1:389',
            bindDN: 'cn=svc',
            bindPassword: 'x',
            userSearchBase: 'ou=people',
            groupSearchBase: 'ou=groups',
            tls: { ca: 'ca.pem', startTls: true },
            syncInterval: '2m',
          },
          groups: { 'npm-acme-admins': 'acme:owner' },
        },
      },
      dir,
    );
    assert.equal(c.auth.ldap?.tls.ca, 'PEM TEXT');
    assert.equal(c.auth.ldap?.syncIntervalMs, 120_000);
    assert.equal(c.auth.ldap?.userFilter, '(uid={{username}})');
    assert.deepEqual(c.auth.groups, { 'npm-acme-admins': 'acme:owner' });
    assert.throws(() => applyFile(base, { auth: { ldap: { url: 'http://x' } } }, dir), /auth\.ldap\.url/);
    assert.throws(() => applyFile(base, { auth: { groups: { g: 'no-colon' } } }, dir), /auth\.groups\.g/);
    assert.throws(() => applyFile(base, { auth: { ldapp: {} } }, dir), /auth\.ldapp: unknown key/);
  });
});
