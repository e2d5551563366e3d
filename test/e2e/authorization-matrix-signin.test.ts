// The authorization matrix's rows for provider-managed users (docs/authorization.md, "Company sign-in"),
// each asserted over HTTP against a real server, after asking auth/explain the same question: an SSO
// registry (auth.oidc, passwords off, a break-glass administrator) and an LDAP registry (a real slapd).
// The provider's users are made by the service functions a browser sign-in runs (bindAccount, then the
// groups): the matrix tests decisions, test/e2e/signin-*.test.ts the flows. The document is the source
// of truth: a failing row is a bug or a rule to settle, never something to re-record here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody, escaped } from '../helpers/publish-body.ts';
import { assertAnswers, readSection, SIGNIN_SECTION } from '../helpers/matrix-table.ts';
import { slapdLdapConfig, startSlapd, type Slapd } from '../helpers/slapd.ts';
import { authDefaults, type AuthConfig } from '../../src/config/auth.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { bindAccount } from '../../src/services/signin-oidc.ts';
import { applyGroups, deprovision } from '../../src/services/directory-groups.ts';

const FIVE_MINUTES = 5 * 60_000;
const MAPPING = { 'npm-acme-dev': 'acme:developers', 'npm-acme-writers': 'acme:writers' };
const BOTH = ['npm-acme-dev', 'npm-acme-writers'];

const EXISTING: Record<string, string> = {
  'public inside': 'acme-cli',
  'private inside': '@acme/secret',
  'public in @acme': '@acme/open',
};
const NEW: Record<string, (n: number) => string> = { 'new inside': (n) => `@acme/new-${n}` };
const ACTIONS = [
  'read',
  'publish new',
  'publish existing',
  'dist-tag add',
  'owner add',
  'token create',
  'login',
  'adduser',
] as const;
type ActionName = (typeof ACTIONS)[number];
const noPackage = (a: string) => a === 'token create' || a === 'login' || a === 'adduser';
/** Matrix action → the auth/explain action that decides it (none for the password sign-ins). */
const EXPLAINED: Partial<Record<ActionName, string>> = {
  read: 'read',
  'publish new': 'publish',
  'publish existing': 'publish',
  'dist-tag add': 'dist-tag',
  'owner add': 'owner',
  'token create': 'token-create',
};

type Cred = { server: 'sso' | 'ldap'; authorization: string | null; user: string; password: string };
const CREDENTIALS = [
  "SSO writer's session",
  "SSO leaver's session",
  "SSO ex-member's session",
  'SSO deprovisioned session',
  'password (passwords off)',
  'session (passwords off)',
  "break-glass admin's password",
  "LDAP writer's password",
  "LDAP developer's session",
  'LDAP removed password',
  'LDAP removed session',
] as const;

const { rows, problems } = readSection(SIGNIN_SECTION, (row, where, problems) => {
  if (!(CREDENTIALS as readonly string[]).includes(row.credential))
    problems.push(`${where}: unknown credential "${row.credential}"`);
  if (!(ACTIONS as readonly string[]).includes(row.action)) problems.push(`${where}: unknown action "${row.action}"`);
  const fits = noPackage(row.action)
    ? row.pkg === '-'
    : row.action === 'publish new'
      ? row.pkg in NEW
      : row.pkg in EXISTING;
  if (!fits) problems.push(`${where}: package "${row.pkg}" does not fit action "${row.action}"`);
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authorization matrix: company sign-in (docs/authorization.md)', () => {
  let sso: TestServer;
  let ldap: TestServer;
  let slapd: Slapd;
  const owner = { sso: '', ldap: '' };
  const inspector = { sso: '', ldap: '' };
  const creds = new Map<string, Cred>();
  let n = 0;
  const server = (w: 'sso' | 'ldap') => (w === 'sso' ? sso : ldap);

  function call(w: 'sso' | 'ldap', method: string, path: string, authorization: string | null, body?: unknown) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    return fetch(`${server(w).url}${path}`, init);
  }
  async function setup(w: 'sso' | 'ldap', method: string, path: string, body?: unknown): Promise<Response> {
    const res = await call(w, method, path, owner[w], body);
    if (res.status >= 300) throw new Error(`setup ${method} /${path} failed: ${res.status} ${await res.text()}`);
    return res;
  }
  type Doc = Record<string, any>;
  /** The package as an administrator sees it; null when it does not exist. */
  async function inspect(w: 'sso' | 'ldap', name: string): Promise<Doc | null> {
    const res = await call(w, 'GET', `${escaped(name)}?write=true`, inspector[w]);
    return res.status === 404 ? null : ((await res.json()) as Doc);
  }

  /** The registry as docs/authorization.md's fixture describes it: alice's packages, acme and its writers. */
  async function fixture(s: TestServer, w: 'sso' | 'ldap'): Promise<void> {
    await s.addUser('alice');
    await s.addUser('carol', { admin: true });
    await s.addUser('dave');
    owner[w] = `Bearer ${await s.token({ user: 'alice' })}`;
    inspector[w] = `Bearer ${await s.token({ user: 'carol' })}`;
    for (const [key, name] of Object.entries(EXISTING)) {
      const access = key.startsWith('private') ? 'restricted' : name.startsWith('@') ? 'public' : null;
      await setup(w, 'PUT', escaped(name), await publishBody(name, '1.0.0', { access }));
    }
    await createOrg(s.ctx, 'acme', 'alice');
    await setup(w, 'PUT', '-/org/acme/team', { name: 'writers' });
    for (const p of ['@acme/secret', '@acme/open'])
      await setup(w, 'PUT', '-/team/acme/writers/package', { package: p, permissions: 'read-write' });
  }

  /** What the callback does once the provider's answer is verified: the account bound, the groups applied. */
  async function providerSignIn(name: string, groups: string[]): Promise<string> {
    const o = sso.ctx.config.auth.oidc!;
    const claims = { sub: `sub-${name}`, preferred_username: name, email: `${name}@acme.test`, email_verified: true };
    const user = await bindAccount(sso.ctx, o, { ...claims, groups }, undefined);
    await applyGroups(sso.ctx, user.name, groups, 'oidc', sso.ctx.config.auth.groups);
    return `Bearer ${await sso.token({ user: name })}`;
  }

  before(async () => {
    slapd = await startSlapd(
      [
        { uid: 'lena', password: 'lena-pw', mail: 'lena@acme.test' },
        { uid: 'levi', password: 'levi-pw', mail: 'levi@acme.test' },
        { uid: 'lars', password: 'lars-pw', mail: 'lars@acme.test' },
      ],
      [
        { cn: 'npm-acme-dev', members: ['lena', 'levi', 'lars'] },
        { cn: 'npm-acme-writers', members: ['lena', 'lars'] },
      ],
    );
    const oidc = {
      // Never reached: the fixture's users are bound without a browser, and the refresh waits an hour.
      issuer: 'http://127.0.0.1:9',
      clientId: 'tessera',
      clientSecret: null,
      scopes: 'openid profile email groups',
      userClaim: 'preferred_username',
      groupsClaim: 'groups',
      trustMfa: false,
      name: 'Acme SSO',
      refreshIntervalMs: 3_600_000,
    };
    const ldapConfig = slapdLdapConfig(slapd, { syncIntervalMs: FIVE_MINUTES });
    const ssoAuth: AuthConfig = { ...authDefaults, local: false, oidc, groups: MAPPING };
    [sso, ldap] = await Promise.all([
      startServer({ auth: ssoAuth }),
      startServer({ auth: { ...authDefaults, ldap: ldapConfig, groups: MAPPING } }),
    ]);
    await Promise.all([fixture(sso, 'sso'), fixture(ldap, 'ldap')]);
    const set = (k: (typeof CREDENTIALS)[number], c: Cred) => creds.set(k, c);
    const ssoSession = async (name: string) => ({
      server: 'sso' as const,
      authorization: await providerSignIn(name, BOTH),
      user: name,
      password: `${name}-password`,
    });

    set("SSO writer's session", await ssoSession('sam'));
    // The refresh (refreshIdentities) applies the groups of the new ID token, as here.
    set("SSO leaver's session", await ssoSession('lee'));
    await applyGroups(sso.ctx, 'lee', ['npm-acme-dev'], 'oidc', MAPPING);
    set("SSO ex-member's session", await ssoSession('eli'));
    await applyGroups(sso.ctx, 'eli', [], 'oidc', MAPPING);
    // A refresh answered invalid_grant deprovisions, as refreshIdentities does.
    set('SSO deprovisioned session', await ssoSession('dora'));
    await deprovision(sso.ctx, 'dora', 'oidc', 'Acme SSO refused the refresh (invalid_grant)');
    set('password (passwords off)', {
      server: 'sso',
      authorization: basic('alice', 'alice-password'),
      user: 'alice',
      password: 'alice-password',
    });
    set('session (passwords off)', {
      server: 'sso',
      authorization: owner.sso,
      user: 'alice',
      password: 'alice-password',
    });
    set("break-glass admin's password", {
      server: 'sso',
      authorization: basic('carol', 'carol-password'),
      user: 'carol',
      password: 'carol-password',
    });

    // The directory's users: a first sign-in with the directory password makes each account.
    for (const u of ['lena', 'levi', 'lars']) {
      const res = await call('ldap', 'GET', '-/whoami', basic(u, `${u}-pw`));
      assert.equal(res.status, 200, `${u} signs in: ${await res.text()}`);
    }
    const ldapCred = (user: string, session?: string): Cred => ({
      server: 'ldap',
      authorization: session ?? basic(user, `${user}-pw`),
      user,
      password: `${user}-pw`,
    });
    set("LDAP writer's password", ldapCred('lena'));
    set("LDAP developer's session", ldapCred('levi', `Bearer ${await ldap.token({ user: 'levi' })}`));
    set('LDAP removed session', ldapCred('lars', `Bearer ${await ldap.token({ user: 'lars' })}`));
    set('LDAP removed password', ldapCred('lars'));
    await slapd.deleteUser('lars');
    ldap.clock.advance(FIVE_MINUTES);
    const until = Date.now() + 10_000;
    const disabled = async () =>
      (await ldap.ctx.store.db.selectFrom('users').select('disabled').where('name', '=', 'lars').executeTakeFirst())
        ?.disabled === 1;
    while (!(await disabled())) {
      if (Date.now() > until) throw new Error("the directory's periodic check never disabled lars");
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await Promise.all([sso?.close(), ldap?.close()]);
    await slapd?.stop();
  });

  /** The row's request; `done` tells whether it took effect (undefined where the 2xx is the effect). */
  async function perform(c: Cred, action: ActionName, name: string) {
    const id = ++n;
    const auth = c.authorization;
    const path = escaped(name);
    const after = (check: (d: Doc) => boolean) => async () => {
      const d = await inspect(c.server, name);
      return d !== null && check(d);
    };
    switch (action) {
      case 'read':
        return { res: await call(c.server, 'GET', path, auth) };
      case 'publish new':
      case 'publish existing': {
        const v = action === 'publish new' ? '1.0.0' : `1.1.${id}`;
        return {
          res: await call(c.server, 'PUT', path, auth, await publishBody(name, v)),
          done: after((d) => v in d.versions),
        };
      }
      case 'dist-tag add':
        return {
          res: await call(c.server, 'PUT', `-/package/${path}/dist-tags/t${id}`, auth, '1.0.0'),
          done: after((d) => d['dist-tags'][`t${id}`] === '1.0.0'),
        };
      case 'owner add': {
        const d = (await inspect(c.server, name))!;
        const maintainers = [...d.maintainers.filter((m: { name: string }) => m.name !== 'dave'), { name: 'dave' }];
        const body = { _id: d._id, _rev: d._rev, maintainers };
        return {
          res: await call(c.server, 'PUT', `${path}/-rev/${d._rev}`, auth, body),
          done: after((x) => x.maintainers.some((m: { name: string }) => m.name === 'dave')),
        };
      }
      case 'token create': {
        const body = { password: c.password, name: `matrix-${id}`, packages: ['acme-cli'] };
        return { res: await call(c.server, 'POST', '-/npm/v1/tokens', auth, body) };
      }
      case 'login':
      case 'adduser': {
        const user = action === 'login' ? c.user : `newbie-${id}`;
        const body = { _id: `org.couchdb.user:${user}`, name: user, password: c.password, type: 'user', roles: [] };
        const extra = action === 'adduser' ? { email: `${user}@example.com` } : {};
        return { res: await call(c.server, 'PUT', `-/user/org.couchdb.user:${user}`, null, { ...body, ...extra }) };
      }
    }
  }

  test(`the company sign-in rows are well-formed (${rows.length})`, () => {
    assert.deepEqual(problems, []);
    assert.ok(rows.length >= 40, `only ${rows.length} rows`);
  });

  for (const row of rows) {
    const title = `${row.credential} | ${row.action} | ${row.pkg} → ${row.status} ${row.reason} (line ${row.line})`;
    test(title, async () => {
      const c = creds.get(row.credential)!;
      const action = row.action as ActionName;
      const name = EXISTING[row.pkg] ?? NEW[row.pkg]?.(++n) ?? '';
      const asked = EXPLAINED[action];
      if (asked) {
        // auth/explain, asked first, gives the row's verdict (a bad credential: the same refusal as the row).
        const q = `-/tessera/v1/auth/explain?action=${asked}${name ? `&package=${encodeURIComponent(name)}` : ''}`;
        const res = await call(c.server, 'GET', q, c.authorization);
        const e = (await res.json()) as { allowed?: boolean; reason?: string | null };
        const verdict = res.status === 200 ? (e.allowed ? '-' : e.reason) : res.headers.get('x-tessera-reason');
        assert.equal(verdict, row.reason, `auth/explain answered ${res.status}: ${JSON.stringify(e)}`);
      }
      const { res, done } = await perform(c, action, name);
      await assertAnswers(res, row);
      if (done)
        assert.equal(
          await done(),
          res.status < 300,
          res.status < 300 ? 'allowed, but nothing changed' : 'refused, but changed',
        );
    });
  }
});
