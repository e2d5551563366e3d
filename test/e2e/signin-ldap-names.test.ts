// Directory accounts whose names cannot be registry user names (a space, an "@", a leading dot, too long):
// the right password gets `directory-name-invalid`, which names the account and what the administrator can
// do (auth.ldap.userFilter), at `npm login` and on the web sign-in page; a wrong one stays directory-refused.
// The fix the article gives (a filter on another attribute) then signs the same person in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/raw-request.ts';
import { makeNpm } from '../helpers/npm.ts';
import { slapdLdapConfig, startSlapd, type Slapd } from '../helpers/slapd.ts';
import { authDefaults, type LdapConfig } from '../../src/config/auth.ts';
import { explainText } from '../../src/doctor/explain.ts';

const LONG = 'a'.repeat(215);
let slapd: Slapd;

const legacyLogin = (s: TestServer, name: string, password: string, from: string) =>
  send(s, 'PUT', `/-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    from,
    body: { _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [] },
  });

const registry = (ldap: Partial<LdapConfig> = {}) =>
  startServer({ auth: { ...authDefaults, ldap: slapdLdapConfig(slapd, ldap) } }, { recordRequests: true });

const accounts = async (s: TestServer) =>
  (await s.ctx.store.db.selectFrom('users').select('name').execute()).map((r) => r.name);

before(async () => {
  slapd = await startSlapd(
    [
      { uid: 'John Doe', password: 'john-directory-pw', mail: 'john@corp.test' },
      { uid: 'j.doe@corp.test', password: 'jdoe-directory-pw', mail: 'j.doe@corp.test' },
      { uid: '.hidden', password: 'hidden-directory-pw', mail: 'hidden@corp.test' },
      { uid: '_jenkins', password: 'jenkins-directory-pw', mail: 'jenkins@corp.test' },
      { uid: LONG, password: 'long-directory-pw', mail: 'long@corp.test' },
    ],
    [],
  );
});
after(async () => {
  await slapd?.stop();
});

describe('a directory account whose name is not a valid user name', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  before(async () => {
    s = await registry();
  });
  after(async () => {
    await s?.close();
  });

  test('npm login (legacy) is refused with what the administrator can change, not a generic 400', async () => {
    const npm = makeNpm(s.url);
    const login = await npm.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, '_jenkins'],
        [/Password:/, 'jenkins-directory-pw'],
      ],
    );
    assert.notEqual(login.code, 0, login.output);
    assert.match(login.output, /E403/);
    assert.match(login.output, /"_jenkins"/);
    assert.match(login.output, /start with a letter or a digit/);
    assert.match(login.output, /auth\.ldap\.userFilter/);
    assert.match(login.output, /\/-\/help\/directory-name-invalid/);
    // `tessera explain` on what npm printed puts this reason's own fix first, not "log in again".
    const first = explainText(login.output).explanation.causes[0];
    assert.match(first?.fix ?? '', /auth\.ldap\.userFilter/, JSON.stringify(first));
  });

  test('each kind of invalid name gets its own explanation; a wrong password is still directory-refused', async () => {
    const cases: [string, string, RegExp][] = [
      ['j.doe@corp.test', 'jdoe-directory-pw', /"@"/],
      ['.hidden', 'hidden-directory-pw', /start with a letter or a digit/],
      [LONG, 'long-directory-pw', /214 characters/],
    ];
    let i = 10;
    for (const [name, password, why] of cases) {
      const r = await legacyLogin(s, name, password, `127.0.0.${i++}`);
      assert.deepEqual([r.status, r.reason], [403, 'directory-name-invalid'], r.body);
      assert.match(JSON.parse(r.body).error, why);
      const wrong = await legacyLogin(s, name, 'not-it', `127.0.0.${i++}`);
      assert.deepEqual(
        [wrong.status, wrong.reason],
        [401, 'directory-refused'],
        'the name says nothing without the password',
      );
    }
    assert.deepEqual(await accounts(s), [], 'no account is made');
  });

  test("npm login's web page (the default npm login) shows the refusal, and npm gets no token", async () => {
    const start = (await (await fetch(`${s.url}-/v1/login`, { method: 'POST' })).json()) as Record<string, string>;
    const form = await fetch(start.loginUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'John Doe', password: 'john-directory-pw' }).toString(),
    });
    const page = await form.text();
    assert.equal(form.status, 403, page);
    assert.equal(form.headers.get('x-tessera-reason'), 'directory-name-invalid');
    assert.match(page, /john doe/);
    assert.match(page, /auth\.ldap\.userFilter/);
    const done = await fetch(start.doneUrl);
    assert.notEqual(done.status, 200, 'npm is given no token');
  });

  test('the web sign-in page shows the same refusal, with the name kept and never the password', async () => {
    const form = await fetch(`${s.url}-/web/signin`);
    const jar = form.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
    const res = await fetch(`${s.url}-/web/signin`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, name: 'John Doe', password: 'john-directory-pw' }).toString(),
    });
    const page = await res.text();
    assert.equal(res.status, 403, page);
    assert.equal(res.headers.get('x-tessera-reason'), 'directory-name-invalid');
    assert.match(page, /auth\.ldap\.userFilter/);
    assert.match(page, /value="John Doe"/);
    assert.doesNotMatch(page, /john-directory-pw/);
  });
});

describe('the fix the refusal names: a user filter on another attribute', { skip: onceInSqlitePass }, () => {
  test('with auth.ldap.userFilter matching the e-mail address, j.doe signs in as a valid name', async () => {
    const s = await registry({ userFilter: '(mail={{username}}@corp.test)' });
    try {
      const r = await legacyLogin(s, 'j.doe', 'jdoe-directory-pw', '127.0.0.40');
      assert.equal(r.status, 201, r.body);
      assert.deepEqual(await accounts(s), ['j.doe']);
    } finally {
      await s.close();
    }
  });
});
