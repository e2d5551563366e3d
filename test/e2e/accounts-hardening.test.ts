// Accounts hardening: login throttling per address and per user (counted before the hash), disabled
// accounts, token expiry range, the name reservation after a whole unpublish, user/org name collisions
// and the user document's e-mail address. Real npm where it is a user's flow.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { send } from '../helpers/raw-request.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import { tessera } from '../helpers/cli.ts';
import { publishBody, escaped } from '../helpers/publish-body.ts';
import { createOrg, setMember } from '../../src/services/orgs.ts';
import { disableUser, userByName } from '../../src/services/accounts.ts';
import { toUser } from '../../src/services/authenticate.ts';
import { ADDRESS_LIMIT } from '../../src/services/login-throttle.ts';

const userDoc = (name: string, password: string, email?: string) => ({
  _id: `org.couchdb.user:${name}`,
  name,
  password,
  email,
  type: 'user',
  roles: [],
});
const legacyLogin = (s: TestServer, name: string, password: string, from?: string) =>
  send(s, 'PUT', `/-/user/org.couchdb.user:${name}`, { from, body: userDoc(name, password) });
const basic = (name: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`,
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const whoami = (s: TestServer, headers: Record<string, string>, from?: string) =>
  send(s, 'GET', '/-/whoami', { from, headers });
const DAY = 24 * 3_600_000;

describe('login throttling', () => {
  test('parallel wrong guesses never pass the limit, and lock only the guessing address', async () => {
    const s = await startServer();
    try {
      await s.addUser('alice');
      const guesses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => legacyLogin(s, 'alice', `guess-${i}-wrong`, '127.0.0.2')),
      );
      const checked = guesses.filter((g) => g.status === 401);
      const throttled = guesses.filter((g) => g.status === 429);
      assert.equal(checked.length, ADDRESS_LIMIT, 'exactly the limit reached the password check');
      assert.equal(throttled.length, 30 - ADDRESS_LIMIT);
      assert.ok(throttled.every((g) => g.reason === 'login-throttled'));
      // The guessing address is locked for every account and every way of sending a password, the right one too.
      assert.equal((await legacyLogin(s, 'alice', 'alice-password', '127.0.0.2')).status, 429);
      assert.equal((await whoami(s, basic('alice', 'alice-password'), '127.0.0.2')).status, 429);
      // alice, from her own machine, still logs in with npm (her account is only slowed, not locked).
      const npm = makeNpm(s.url);
      const login = await npm.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, 'alice'],
          [/Password:/, 'alice-password'],
        ],
      );
      assert.equal(login.code, 0, login.output);
      assert.equal((await npm.run(['whoami'])).stdout.trim(), 'alice');
    } finally {
      await s.close();
    }
  });

  test('a CI burst of parallel requests with the right Basic credentials is one attempt, not a lockout', async () => {
    const s = await startServer();
    try {
      await s.addUser('ci');
      const ci = basic('ci', 'ci-password');
      const burst = await Promise.all(Array.from({ length: 3 * ADDRESS_LIMIT }, () => whoami(s, ci)));
      assert.deepEqual([...new Set(burst.map((r) => r.status))], [200]);
      // Sequential right passwords give their attempt back: they never add up to a lock.
      for (let i = 0; i < ADDRESS_LIMIT + 2; i++) {
        assert.equal((await whoami(s, ci)).status, 200);
      }
    } finally {
      await s.close();
    }
  });

  test('a disabled account answers a wrong and a right password alike', async () => {
    const s = await startServer();
    try {
      await s.addUser('gina');
      await disableUser(s.ctx, 'gina');
      const wrong = await legacyLogin(s, 'gina', 'not-her-password');
      const right = await legacyLogin(s, 'gina', 'gina-password');
      assert.equal(right.status, wrong.status);
      assert.equal(right.reason, wrong.reason);
      assert.equal(right.body, wrong.body);
      assert.equal(right.reason, 'user-disabled');
      const wrongBasic = await whoami(s, basic('gina', 'not-her-password'));
      const rightBasic = await whoami(s, basic('gina', 'gina-password'));
      assert.deepEqual(rightBasic, wrongBasic);
    } finally {
      await s.close();
    }
  });
});

describe('token expiry range', () => {
  test('a huge, negative or non-numeric expires is a 400, and the token list still works', async () => {
    const s = await startServer();
    try {
      await s.addUser('alice');
      const auth = bearer(await s.token({ user: 'alice' }));
      const create = (expires: string) =>
        send(s, 'POST', '/-/npm/v1/tokens', {
          headers: auth,
          body: `{"password":"alice-password","packages_and_scopes_permission":"read-only","expires":${expires}}`,
        });
      for (const expires of ['1e300', '1e400', '-5', '"NaN"', '"99999999999999999999"', '"+275760-09-13T00:00:00Z"']) {
        const r = await create(expires);
        assert.equal(r.status, 400, `expires ${expires}: ${r.body}`);
      }
      const list = await send(s, 'GET', '/-/npm/v1/tokens', { headers: auth });
      assert.equal(list.status, 200, list.body);
      const objects = (JSON.parse(list.body) as { objects: { type: string }[] }).objects;
      assert.equal(objects.filter((t) => t.type === 'granular').length, 0);
      // A sane one still works.
      assert.equal((await create('365')).status, 201);

      // The administrator's path: refused before anything is written, and the list stays readable.
      const cli = await tessera([
        'token',
        'create',
        '--user',
        'alice',
        '--read-only',
        '--expires-in',
        '99999999999999d',
        '--data',
        s.dataDir,
      ]);
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stderr, /Token expiry must be between/);
      const listed = await tessera(['token', 'list', '--user', 'alice', '--json', '--data', s.dataDir]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal((JSON.parse(listed.stdout) as unknown[]).length, 2);
    } finally {
      await s.close();
    }
  });
});

describe('unpublish reserves the name', () => {
  test('npm unpublish --force, then npm publish: refused with the reason until the reservation ends', async () => {
    const s = await startServer();
    try {
      await s.addUser('alice');
      await s.addUser('bob');
      const npm = makeNpm(s.url);
      npm.setToken(s.host, await s.token({ user: 'alice', expiresInMs: null }));
      assert.equal((await npm.run(['publish'], { cwd: makePackage('gone-pkg', '1.0.0') })).code, 0);
      const un = await npm.run(['unpublish', 'gone-pkg', '--force']);
      assert.equal(un.code, 0, un.output);

      // Nobody gets the name back at once: not its former maintainer, not someone else.
      const again = await npm.run(['publish'], { cwd: makePackage('gone-pkg', '1.0.1') });
      assert.notEqual(again.code, 0);
      assert.match(again.output, /E403/);
      assert.match(again.output, /gone-pkg was unpublished on .* and cannot be republished until/);
      assert.match(again.output, /-\/help\/name-reserved/);
      const bob = bearer(await s.token({ user: 'bob' }));
      const taken = await send(s, 'PUT', '/gone-pkg', { headers: bob, body: await publishBody('gone-pkg', '2.0.0') });
      assert.equal(taken.status, 403);
      assert.equal(taken.reason, 'name-reserved');

      s.clock.advance(DAY + 1);
      const later = await npm.run(['publish'], { cwd: makePackage('gone-pkg', '1.0.1') });
      assert.equal(later.code, 0, later.output);
      assert.equal((await npm.run(['view', 'gone-pkg', 'version'])).stdout.trim(), '1.0.1');
    } finally {
      await s.close();
    }
  });

  test('unpublish.reserveFor is configurable, 0 turns it off', async () => {
    const s = await startServer({ unpublish: { reserveForMs: 0 } });
    try {
      await s.addUser('alice');
      const auth = bearer(await s.token({ user: 'alice' }));
      const put = async (version: string) =>
        send(s, 'PUT', '/free-pkg', { headers: auth, body: await publishBody('free-pkg', version) });
      assert.equal((await put('1.0.0')).status, 201);
      assert.equal((await send(s, 'DELETE', '/free-pkg/-rev/1', { headers: auth })).status, 200);
      assert.equal((await put('1.0.1')).status, 201);
    } finally {
      await s.close();
    }
  });

  test("a restricted package's reservation is told only to former readers; others get the plain 404", async () => {
    const s = await startServer();
    try {
      await s.addUser('olivia');
      await s.addUser('dev');
      await createOrg(s.ctx, 'acme', 'olivia');
      const olivia = toUser((await userByName(s.ctx, 'olivia'))!);
      await setMember(s.ctx, { user: olivia, credential: { type: 'password' } }, 'acme', 'dev', 'developer');
      const asOlivia = bearer(await s.token({ user: 'olivia', expiresInMs: null }));
      const asDev = bearer(await s.token({ user: 'dev', expiresInMs: null }));
      const name = '@acme/secret';
      const put = (headers: Record<string, string>, version: string) =>
        publishBody(name, version, { access: 'restricted' }).then((body) =>
          send(s, 'PUT', `/${escaped(name)}`, { headers, body }),
        );
      assert.equal((await put(asOlivia, '1.0.0')).status, 201);
      // dev is a member without a team grant on it: the package is invisible to dev, before and after.
      const hidden = await send(s, 'GET', `/${escaped(name)}`, { headers: asDev });
      assert.equal(hidden.status, 404);
      assert.equal((await send(s, 'DELETE', `/${escaped(name)}/-rev/1`, { headers: asOlivia })).status, 200);

      const byDev = await put(asDev, '2.0.0');
      assert.equal(byDev.status, 404);
      assert.equal(byDev.reason, 'not-found');
      assert.equal(byDev.body, hidden.body, 'byte for byte the answer the package gave dev while it existed');
      const byOwner = await put(asOlivia, '2.0.0');
      assert.equal(byOwner.status, 403);
      assert.equal(byOwner.reason, 'name-reserved');

      s.clock.advance(DAY + 1);
      assert.equal((await put(asDev, '2.0.0')).status, 201);
    } finally {
      await s.close();
    }
  });
});

describe('names shared by users and organizations', () => {
  test("sign-up and tessera user add with an organization's name are refused", async () => {
    const s = await startServer({ signup: 'open' });
    try {
      await s.addUser('olivia');
      await createOrg(s.ctx, 'acme', 'olivia');
      const r = await send(s, 'PUT', '/-/user/org.couchdb.user:acme', {
        body: userDoc('acme', 'acme-password', 'a@example.com'),
      });
      assert.equal(r.status, 409);
      assert.equal(r.reason, 'name-taken');
      assert.match(r.body, /belongs to an organization/);
      const cli = await tessera(['user', 'add', 'acme', '--email', 'a@example.com', '--data', s.dataDir]);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /belongs to an organization/);
      assert.equal(await userByName(s.ctx, 'acme'), undefined);
    } finally {
      await s.close();
    }
  });

  test("tessera org create over a user's name is refused unless --owner is that user", async () => {
    const s = await startServer();
    try {
      await s.addUser('bob');
      await s.addUser('mallory');
      let r = await tessera(['org', 'create', 'bob', '--owner', 'mallory', '--data', s.dataDir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /The scope @bob belongs to the user bob/);
      r = await tessera(['org', 'create', 'bob', '--owner', 'bob', '--data', s.dataDir]);
      assert.equal(r.code, 0, r.stderr);
      const org = await s.ctx.store.db.selectFrom('org_members').select('role').where('org', '=', 'bob').execute();
      assert.deepEqual(
        org.map((m) => m.role),
        ['owner'],
      );
    } finally {
      await s.close();
    }
  });
});

describe('the user document', () => {
  test('anonymous callers get no e-mail address; the user herself does', async () => {
    const s = await startServer();
    try {
      await s.addUser('alice');
      const anon = await send(s, 'GET', '/-/user/org.couchdb.user:alice');
      assert.equal(anon.status, 200);
      const doc = JSON.parse(anon.body) as Record<string, unknown>;
      assert.equal(doc.name, 'alice');
      assert.equal('email' in doc, false);
      assert.doesNotMatch(anon.body, /alice@example\.com/);
      const headers = bearer(await s.token({ user: 'alice' }));
      const own = await send(s, 'GET', '/-/user/org.couchdb.user:alice', { headers });
      assert.equal((JSON.parse(own.body) as { email: string }).email, 'alice@example.com');
    } finally {
      await s.close();
    }
  });
});
