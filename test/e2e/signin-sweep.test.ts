// Sweep of the company sign-in (#16) as a company's developers meet it, against a real slapd
// (test/helpers/slapd.ts): a name typed in another case, two first sign-ins at once, a directory that is
// down, a password changed at the directory, groups that change between sign-ins, and a local account
// with the same name as a directory user.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Attribute, Change } from 'ldapts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/raw-request.ts';
import { freePort } from '../helpers/ports.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { PEOPLE, GROUPS, slapdLdapConfig, startSlapd, type Slapd } from '../helpers/slapd.ts';
import { authDefaults, type LdapConfig } from '../../src/config/auth.ts';
import { createOrg } from '../../src/services/orgs.ts';

let slapd: Slapd;

const legacyLogin = (s: TestServer, name: string, password: string, from?: string) =>
  send(s, 'PUT', `/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    from,
    body: { _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [] },
  });
const whoami = (s: TestServer, token: string) =>
  send(s, 'GET', '/-/whoami', { headers: { authorization: `Bearer ${token}` } });
const tokenOf = (a: { body: string }) => JSON.parse(a.body).token as string;

const setPassword = (uid: string, password: string) =>
  slapd.admin((c) =>
    c.modify(
      `uid=${uid},${PEOPLE}`,
      new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [password] }) }),
    ),
  );
const addToGroup = (cn: string, uid: string) =>
  slapd.admin((c) =>
    c.modify(
      `cn=${cn},${GROUPS}`,
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'member', values: [`uid=${uid},${PEOPLE}`] }),
      }),
    ),
  );

async function registry(ldap: Partial<LdapConfig> = {}, groups: Record<string, string> = {}): Promise<TestServer> {
  return startServer(
    { auth: { ...authDefaults, ldap: slapdLdapConfig(slapd, ldap), groups } },
    { recordRequests: true },
  );
}

const accounts = async (s: TestServer) =>
  (await s.ctx.store.db.selectFrom('users').select('name').orderBy('name').execute()).map((r) => r.name);

before(async () => {
  slapd = await startSlapd(
    [
      { uid: 'erin', password: 'erin-directory-pw', mail: 'erin@corp.test' },
      { uid: 'frank', password: 'frank-directory-pw', mail: 'frank@corp.test' },
      { uid: 'grace', password: 'grace-directory-pw', mail: 'grace@corp.test' },
      { uid: 'heidi', password: 'heidi-directory-pw', mail: 'heidi@corp.test' },
      { uid: 'ivan', password: 'ivan-directory-pw', mail: 'ivan@corp.test' },
    ],
    [{ cn: 'npm-web', members: ['erin'] }],
  );
});
after(async () => {
  await slapd?.stop();
});

describe('LDAP sign-in, swept', () => {
  test("a name typed with capitals (npm login's web page, Basic auth) signs in the one directory account", async () => {
    const s = await registry();
    try {
      // npm's web flow: the page at loginUrl takes what the person types, doneUrl hands npm the token.
      const start = (await (await fetch(`${s.url}-/v1/login`, { method: 'POST' })).json()) as Record<string, string>;
      const form = await fetch(start.loginUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'Erin', password: 'erin-directory-pw' }).toString(),
      });
      assert.equal(form.status, 200, await form.text());
      const done = (await (await fetch(start.doneUrl)).json()) as { token: string };
      assert.equal(JSON.parse((await whoami(s, done.token)).body).username, 'erin');
      const basic = `Basic ${Buffer.from('ERIN:erin-directory-pw').toString('base64')}`;
      const who = await send(s, 'GET', '/-/whoami', { headers: { authorization: basic } });
      assert.equal(who.status, 200, who.body);
      assert.equal(JSON.parse(who.body).username, 'erin');
      assert.deepEqual(await accounts(s), ['erin']);
    } finally {
      await s.close();
    }
  });

  test('two first sign-ins of one directory user at once both succeed, with one account', async () => {
    const s = await registry();
    try {
      const both = await Promise.all([
        legacyLogin(s, 'frank', 'frank-directory-pw', '127.0.0.2'),
        legacyLogin(s, 'frank', 'frank-directory-pw', '127.0.0.3'),
      ]);
      for (const r of both) {
        assert.equal(r.status, 201, r.body);
        assert.equal(JSON.parse((await whoami(s, tokenOf(r))).body).username, 'frank');
      }
      assert.deepEqual(await accounts(s), ['frank']);
    } finally {
      await s.close();
    }
  });

  test('a directory that is down is a clear refusal npm does not retry (no 5xx)', async () => {
    const s = await registry({ url: `ldap://127.0.0.1:${await freePort()}`, timeoutMs: 2_000 });
    try {
      const npm = makeNpm(s.url);
      // npm's own retry settings (the helper turns retries off), made quick: a 5xx would be sent again.
      const env = {
        npm_config_fetch_retries: '2',
        npm_config_fetch_retry_mintimeout: '10',
        npm_config_fetch_retry_maxtimeout: '20',
      };
      const login = await npm.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, 'grace'],
          [/Password:/, 'grace-directory-pw'],
        ],
        { env },
      );
      assert.notEqual(login.code, 0);
      assert.match(login.output, /company directory cannot be reached/);
      assert.equal(s.requests.filter((r) => r.startsWith('PUT ')).length, 1, s.requests.join('\n'));
      const r = await legacyLogin(s, 'grace', 'grace-directory-pw');
      assert.equal(r.reason, 'directory-unavailable');
      assert.ok(r.status < 500, `status ${r.status}`);
      assert.deepEqual(await accounts(s), []);
    } finally {
      await s.close();
    }
  });

  test('a password changed at the directory: the old one is refused, the new one signs in', async () => {
    const s = await registry();
    try {
      const first = await legacyLogin(s, 'heidi', 'heidi-directory-pw');
      assert.equal(first.status, 201, first.body);
      await setPassword('heidi', 'heidi-new-pw');
      const old = await legacyLogin(s, 'heidi', 'heidi-directory-pw');
      assert.deepEqual([old.status, old.reason], [401, 'directory-refused']);
      const basicOld = `Basic ${Buffer.from('heidi:heidi-directory-pw').toString('base64')}`;
      assert.equal((await send(s, 'GET', '/-/whoami', { headers: { authorization: basicOld } })).status, 401);
      const now = await legacyLogin(s, 'heidi', 'heidi-new-pw');
      assert.equal(now.status, 201, now.body);
      assert.deepEqual(await accounts(s), ['heidi']);
    } finally {
      await s.close();
    }
  });

  test('groups that change between sign-ins: the team follows at the next sign-in, old tokens with it', async () => {
    const s = await registry({}, { 'npm-web': 'acme:web' });
    try {
      await s.addUser('root', { admin: true });
      await createOrg(s.ctx, 'acme', 'root');
      const teams = async () =>
        (
          await s.ctx.store.db
            .selectFrom('team_members')
            .innerJoin('users', 'users.id', 'team_members.user_id')
            .select('team')
            .where('users.name', '=', 'ivan')
            .orderBy('team')
            .execute()
        ).map((r) => r.team);
      const first = await legacyLogin(s, 'ivan', 'ivan-directory-pw');
      assert.equal(first.status, 201, first.body);
      assert.deepEqual(await teams(), []);
      await addToGroup('npm-web', 'ivan');
      assert.equal((await legacyLogin(s, 'ivan', 'ivan-directory-pw')).status, 201);
      assert.deepEqual(await teams(), ['developers', 'web']);
      const old = await send(s, 'GET', '/-/org/acme/user', {
        headers: { authorization: `Bearer ${tokenOf(first)}` },
      });
      assert.equal(old.status, 200, old.body);
      assert.ok('ivan' in JSON.parse(old.body), old.body);
      // The team the directory gave may publish @acme/widget: ivan's first token does, with the real npm.
      const rootNpm = makeNpm(s.url);
      rootNpm.setToken(s.host, await s.token({ user: 'root' }));
      let r = await rootNpm.run(['publish', '--access', 'restricted'], { cwd: makePackage('@acme/widget', '1.0.0') });
      assert.equal(r.code, 0, r.output);
      r = await rootNpm.run(['access', 'grant', 'read-write', 'acme:web', '@acme/widget']);
      assert.equal(r.code, 0, r.output);
      const ivanNpm = makeNpm(s.url);
      ivanNpm.setToken(s.host, tokenOf(first));
      r = await ivanNpm.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.1') });
      assert.equal(r.code, 0, r.output);

      await slapd.removeFromGroup('npm-web', 'ivan');
      assert.equal((await legacyLogin(s, 'ivan', 'ivan-directory-pw')).status, 201);
      assert.deepEqual(await teams(), []);
      r = await ivanNpm.run(['publish'], { cwd: makePackage('@acme/widget', '1.0.2') });
      assert.notEqual(r.code, 0, 'the first token lost what ivan lost');
      const said = /\/-\/help\/([a-z0-9-]+)/.exec(r.output)?.[1];
      // The registry's explanation for the same token and action names the reason npm was given.
      const why = await send(s, 'GET', '/-/tessera/v1/auth/explain?action=publish&package=%40acme%2Fwidget', {
        headers: { authorization: `Bearer ${tokenOf(first)}` },
      });
      assert.equal(why.status, 200, why.body);
      assert.equal(JSON.parse(why.body).reason, said, r.output);
    } finally {
      await s.close();
    }
  });

  test('a local account with the name of a directory user keeps its own password; the directory one is refused', async () => {
    const s = await registry();
    try {
      await s.addUser('grace', { password: 'grace-local-password' });
      const dir = await legacyLogin(s, 'grace', 'grace-directory-pw');
      assert.deepEqual([dir.status, dir.reason], [401, 'password-wrong']);
      const local = await legacyLogin(s, 'grace', 'grace-local-password');
      assert.equal(local.status, 201, local.body);
      const links = await s.ctx.store.db.selectFrom('ldap_accounts').selectAll().execute();
      assert.deepEqual(links, [], 'the directory never takes over a local name');
    } finally {
      await s.close();
    }
  });
});
