// Typed requests at the edge: a body that fails its route schema gets a 4xx with its reason and the field it
// got wrong, never a 5xx, and changes nothing; `npm token create` and `tessera token create` meet the same
// limits through one function; the token and auth/explain answers match the wire module the doctor reads.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import { defaults } from '../../src/config/config.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { Explanation, TokenList, TokenSelf } from '../../src/domain/wire.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { makeNpm } from '../helpers/npm.ts';
import { tessera } from '../helpers/cli.ts';

describe('typed requests at the edge', () => {
  let s: TestServer;
  let session: string;
  const call = (method: string, path: string, body?: unknown, raw = false) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : raw ? String(body) : JSON.stringify(body),
    });
  /** Everything a malformed request could have touched, to compare before and after. */
  const state = async () =>
    JSON.stringify(
      await Promise.all([
        s.ctx.store.db.selectFrom('tokens').select(['id', 'revoked_at']).orderBy('id').execute(),
        s.ctx.store.db.selectFrom('users').selectAll().orderBy('id').execute(),
        s.ctx.store.db.selectFrom('packages').select(['name', 'rev', 'access', 'mfa']).orderBy('name').execute(),
        s.ctx.store.db.selectFrom('dist_tags').selectAll().orderBy('tag').execute(),
        s.ctx.store.db.selectFrom('org_members').selectAll().execute(),
        s.ctx.store.db.selectFrom('teams').selectAll().execute(),
        s.ctx.store.db.selectFrom('team_packages').selectAll().execute(),
        s.ctx.store.db.selectFrom('trust_configs').selectAll().execute(),
        s.ctx.store.db.selectFrom('staged').selectAll().execute(),
      ]),
    );

  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    await s.addUser('bob');
    session = await s.token({ user: 'alice' });
    await createOrg(s.ctx, 'acme', 'alice');
    assert.equal((await call('PUT', 'good', await publishBody('good', '1.0.0'))).status, 201);
    assert.equal((await call('PUT', '@acme%2fthing', await publishBody('@acme/thing', '1.0.0'))).status, 201);
  });
  after(async () => {
    await s.close();
  });

  // [route family, method, path, body, the reason, what the detail names]
  const cases: [string, string, string, unknown, string, RegExp][] = [
    [
      'publish: versions not an object',
      'PUT',
      'good',
      { name: 'good', versions: [] },
      'invalid-request',
      /"versions" must be an object/,
    ],
    [
      'publish: attachment without data',
      'PUT',
      'good',
      { name: 'good', _attachments: { 'good-2.0.0.tgz': { data: 5 } } },
      'invalid-request',
      /"_attachments\.good-2\.0\.0\.tgz\.data" must be a string/,
    ],
    ['publish: a list, not a document', 'PUT', 'good', [1, 2], 'bad-json', /expected a JSON object/],
    [
      'owner: a maintainer without a name',
      'PUT',
      'good/-rev/1',
      { maintainers: [{ email: 'x@example.com' }] },
      'invalid-request',
      /"maintainers\.0\.name" is required/,
    ],
    [
      'token create: packages not a list',
      'POST',
      '-/npm/v1/tokens',
      { password: 'alice-password', packages: 5 },
      'invalid-request',
      /"packages" must be a string or a list/,
    ],
    [
      'token create: "true" is not true',
      'POST',
      '-/npm/v1/tokens',
      { password: 'alice-password', readonly: 'true' },
      'invalid-request',
      /"readonly" must be true or false/,
    ],
    [
      'token create: unknown permission',
      'POST',
      '-/npm/v1/tokens',
      { password: 'alice-password', packages_and_scopes_permission: 'admin' },
      'invalid-request',
      /"packages_and_scopes_permission" must be one of read-only, read-write/,
    ],
    ['token create: no body', 'POST', '-/npm/v1/tokens', undefined, 'bad-json', /expected a JSON object/],
    [
      'login: a numeric password',
      'PUT',
      '-/user/org.couchdb.user:zed',
      { name: 'zed', password: 5, email: 'z@example.com' },
      'invalid-request',
      /"password" must be a string/,
    ],
    [
      'web login: create is not a flag',
      'POST',
      '-/v1/login',
      { create: 'yes' },
      'invalid-request',
      /"create" must be true or false/,
    ],
    [
      'profile: a numeric full name',
      'POST',
      '-/npm/v1/user',
      { fullname: 5 },
      'invalid-request',
      /"fullname" must be a string/,
    ],
    [
      'access: "true" is not true',
      'POST',
      '-/package/good/access',
      { publish_requires_tfa: 'true' },
      'invalid-request',
      /"publish_requires_tfa" must be true or false/,
    ],
    ['org set: no user', 'PUT', '-/org/acme/user', { role: 'admin' }, 'invalid-request', /"user" is required/],
    [
      'team create: a list as name',
      'PUT',
      '-/org/acme/team',
      { name: ['x'] },
      'invalid-request',
      /"name" must be a string/,
    ],
    [
      'team add: a numeric user',
      'PUT',
      '-/team/acme/developers/user',
      { user: 7 },
      'invalid-request',
      /"user" must be a string/,
    ],
    [
      'access grant: no package',
      'PUT',
      '-/team/acme/developers/package',
      { permissions: 'read-write' },
      'invalid-request',
      /"package" is required/,
    ],
    [
      'trust: claims not an object',
      'POST',
      '-/package/good/trust',
      { type: 'github', claims: 'x', permissions: ['createPackage'] },
      'invalid-request',
      /"claims"|the body/,
    ],
    [
      'dist-tag: an object, not the version',
      'PUT',
      '-/package/good/dist-tags/beta',
      { version: '1.0.0' },
      'invalid-request',
      /the body must be a string/,
    ],
    [
      'stage publish: versions a string',
      'POST',
      '-/stage/package/good',
      { versions: 'x' },
      'invalid-request',
      /"versions" must be an object/,
    ],
    [
      'token list: page not a number',
      'GET',
      '-/npm/v1/tokens?page=abc',
      undefined,
      'invalid-request',
      /query parameter "page" must be a whole number/,
    ],
  ];

  for (const [what, method, path, body, reason, detail] of cases) {
    test(`${what}: ${reason}, nothing changes`, async () => {
      const before = await state();
      const res = await call(method, path, body);
      const text = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${text}`);
      assert.equal(res.headers.get('x-tessera-reason'), reason, text);
      assert.match((JSON.parse(text) as { error: string }).error, detail);
      assert.equal(await state(), before);
    });
  }

  test('what npm really sends still passes its schema', async () => {
    // npm 11/12's token create sends name null and expires as parseInt (a number), packages as a list.
    const t = await call('POST', '-/npm/v1/tokens', {
      name: null,
      password: 'alice-password',
      packages: ['good'],
      packages_and_scopes_permission: 'read-only',
      expires: 30,
    });
    assert.equal(t.status, 201, await t.clone().text());
    const tag = await call('PUT', '-/package/good/dist-tags/beta', '"1.0.0"', true);
    assert.equal(tag.status, 201, await tag.text());
    const profile = await call('POST', '-/npm/v1/user', { fullname: 'Alice', homepage: null });
    assert.equal(profile.status, 200, await profile.text());
  });

  test('token metadata and auth/explain answer in the shapes the doctor reads (src/domain/wire.ts)', async () => {
    const self = await (await call('GET', '-/tessera/v1/token')).json();
    assert.ok(Value.Check(TokenSelf, self), JSON.stringify([...Value.Errors(TokenSelf, self)]));
    assert.equal((self as TokenSelf).token?.type, 'session');
    const list = await (await call('GET', '-/npm/v1/tokens')).json();
    assert.ok(Value.Check(TokenList, list), JSON.stringify([...Value.Errors(TokenList, list)]));
    assert.ok((list as TokenList).objects.length >= 2);
    for (const q of ['package=good&action=publish', 'package=nope&action=read', 'action=token-create']) {
      const body = await (await call('GET', `-/tessera/v1/auth/explain?${q}`)).json();
      assert.ok(Value.Check(Explanation, body), `${q}: ${JSON.stringify([...Value.Errors(Explanation, body)])}`);
    }
  });
});

describe('one token-creation function for npm token create and tessera token create', () => {
  let s: TestServer;
  let config: string;
  before(async () => {
    const tokens = { ...defaults.tokens, maxPackagesAndScopes: 2, maxOrgs: 1 };
    s = await startServer({ tokens });
    config = join(s.dataDir, 'tessera.yaml');
    writeFileSync(config, `tokens:\n  maxPackagesAndScopes: 2\n  maxOrgs: 1\n`);
    await s.addUser('carol');
  });
  after(async () => {
    await s.close();
  });

  test('too many packages, too many orgs: the same refusal through both', async () => {
    const npm = makeNpm(s.url);
    npm.setToken(s.host, await s.token({ user: 'carol' }));
    const admin = (args: string[]) =>
      tessera(['token', 'create', '--user', 'carol', ...args, '--data', s.dataDir, '--config', config]);
    const packages = 'A token may list at most 2 packages and scopes (got 3)';
    const orgs = 'A token may list at most 1 organizations (got 2)';

    const viaNpm = await npm.run([
      'token',
      'create',
      '--password',
      'carol-password',
      '--packages',
      'a',
      '--packages',
      'b',
      '--scopes',
      '@c',
    ]);
    assert.notEqual(viaNpm.code, 0);
    assert.ok(viaNpm.output.includes(packages), viaNpm.output);
    const viaCli = await admin(['--packages', 'a,b', '--scopes', '@c']);
    assert.equal(viaCli.code, 1, viaCli.stderr);
    assert.ok(viaCli.stderr.includes(packages), viaCli.stderr);

    const orgsNpm = await npm.run(['token', 'create', '--password', 'carol-password', '--orgs', 'x', '--orgs', 'y']);
    assert.ok(orgsNpm.output.includes(orgs), orgsNpm.output);
    const orgsCli = await admin(['--orgs', 'x,y']);
    assert.equal(orgsCli.code, 1, orgsCli.stderr);
    assert.ok(orgsCli.stderr.includes(orgs), orgsCli.stderr);

    const made = await s.ctx.store.db.selectFrom('tokens').select('kind').where('kind', '!=', 'session').execute();
    assert.deepEqual(made, []);
    // Within the limits both make a token; only the administrator may choose a lifetime past the bounds.
    const ok = await admin(['--packages', 'a,b', '--expires-in', '365d']);
    assert.equal(ok.code, 0, ok.stderr);
    const long = await npm.run([
      'token',
      'create',
      '--password',
      'carol-password',
      '--packages',
      'a',
      '--expires',
      '365',
    ]);
    assert.notEqual(long.code, 0, long.output);
    assert.match(long.output, /token-expiry-out-of-range/);
  });
});
