// Two findings of issue #11, over HTTP and with npm: under `signup: admin-only` an administrator's
// read-only or package-limited token creates no accounts; and `npm access list collaborators` shows
// team members only to members of the package's organization.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { grants } from '../helpers/grants.ts';

const adduser = (url: string, name: string, authorization: string) =>
  fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({
      _id: `org.couchdb.user:${name}`,
      name,
      password: `${name}-password`,
      email: `${name}@example.com`,
      type: 'user',
    }),
  });
const WEEK = 7 * 86_400_000;

describe("signup: admin-only takes an administrator's session", () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    await s.addUser('root', { admin: true });
  });
  after(async () => {
    await s.close();
  });

  const tokens: [string, () => Promise<string>][] = [
    ['classic read-only', () => s.token({ user: 'root', kind: 'classic-readonly', readonly: true, expiresInMs: null })],
    [
      'granular, one package',
      () => s.token({ user: 'root', kind: 'granular', grants: grants({ packages: ['x'] }), expiresInMs: WEEK }),
    ],
    [
      'granular read-only, all packages',
      () =>
        s.token({
          user: 'root',
          kind: 'granular',
          readonly: true,
          grants: grants({ packagesAll: true, permission: 'read-only' }),
          expiresInMs: WEEK,
        }),
    ],
    ['classic automation', () => s.token({ user: 'root', kind: 'classic-automation', expiresInMs: null })],
  ];
  for (const [what, make] of tokens) {
    test(`an administrator's ${what} token cannot create accounts`, async () => {
      const name = `new-${what.replace(/\W+/g, '-')}`;
      const res = await adduser(s.url, name, `Bearer ${await make()}`);
      assert.equal(res.status, 403, await res.clone().text());
      assert.equal(res.headers.get('x-tessera-reason'), 'signup-closed');
      const created = await s.ctx.store.db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
      assert.equal(created, undefined);
    });
  }

  test("an administrator's login session and password still can", async () => {
    let res = await adduser(s.url, 'by-session', `Bearer ${await s.token({ user: 'root' })}`);
    assert.equal(res.status, 201, await res.clone().text());
    res = await adduser(s.url, 'by-password', `Basic ${Buffer.from('root:root-password').toString('base64')}`);
    assert.equal(res.status, 201, await res.clone().text());
  });
});

describe('npm access list collaborators: team members only for the organization', () => {
  let s: TestServer;
  const npm: Record<string, NpmEnv> = {};
  before(async () => {
    s = await startServer();
    for (const u of ['olivia', 'walter', 'outsider']) {
      await s.addUser(u);
      npm[u] = makeNpm(s.url);
      npm[u].setToken(s.host, await s.token({ user: u }));
    }
    await createOrg(s.ctx, 'acme', 'olivia');
    const steps: string[][] = [
      ['org', 'set', 'acme', 'walter'],
      ['team', 'create', 'acme:writers'],
      ['team', 'add', 'acme:writers', 'walter'],
    ];
    for (const args of steps) assert.equal((await npm.olivia.run(args)).code, 0, args.join(' '));
    for (const [name, access] of [
      ['@acme/open', 'public'],
      ['@acme/closed', 'restricted'],
    ]) {
      const r = await npm.olivia.run(['publish', '--access', access], { cwd: makePackage(name, '1.0.0') });
      assert.equal(r.code, 0, r.output);
      assert.equal((await npm.olivia.run(['access', 'grant', 'read-write', 'acme:writers', name])).code, 0);
    }
  });
  after(async () => {
    await s.close();
  });

  test("an outsider sees the maintainers of a public package, not its teams' members", async () => {
    const r = await npm.outsider.run(['access', 'list', 'collaborators', '@acme/open']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /olivia: read-write/);
    assert.doesNotMatch(r.stdout, /walter/);
  });

  test('a member of the organization sees them', async () => {
    const r = await npm.walter.run(['access', 'list', 'collaborators', '@acme/open']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /walter: read-write/);
    assert.match(r.stdout, /olivia: read-write/);
  });

  test('a restricted package: the outsider gets the 404 of a missing name', async () => {
    const res = await fetch(`${s.url}-/package/${encodeURIComponent('@acme/closed')}/collaborators`, {
      headers: { authorization: `Bearer ${await s.token({ user: 'outsider' })}` },
    });
    assert.equal(res.status, 404);
    const missing = await fetch(`${s.url}-/package/${encodeURIComponent('@acme/never')}/collaborators`, {
      headers: { authorization: `Bearer ${await s.token({ user: 'outsider' })}` },
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await res.json(), await missing.json());
  });
});
