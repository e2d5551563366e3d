// What pnpm 11 and Yarn 4 send besides installs and publishes, and how Tessera answers: pnpm's star (its
// /-/user/v1/star form and its legacy whole-document PUT to /<name>/-rev/<rev>), `pnpm stars`, `pnpm owner
// add|rm`, `pnpm search`, and names no package can have (a 400 invalid-name: pnpm refuses them before
// asking; Yarn asks, and prints the status but not the reason).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc, type ClientEnv } from '../helpers/clients.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

let s: TestServer;
const tokens: Record<string, string> = {};

async function doc(name: string, token = tokens.alice): Promise<Record<string, any>> {
  const res = await fetch(`${s.url}${name.replace('/', '%2f')}`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as Record<string, any>;
}

async function send(method: string, path: string, token: string | null, body?: unknown) {
  const res = await fetch(`${s.url}${path.replace(/^\//, '')}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: res.status,
    reason: res.headers.get('x-tessera-reason'),
    body: (await res.json()) as Record<string, any>,
  };
}

/** A project folder whose .npmrc points pnpm at Tessera with `user`'s token. */
function project(user: string): string {
  const dir = makeProject();
  writeNpmrc(dir, s.url, tokens[user]);
  return dir;
}

before(async () => {
  s = await startServer({}, { recordRequests: true });
  for (const u of ['alice', 'bob', 'carol']) {
    await s.addUser(u);
    tokens[u] = await s.token({ user: u });
  }
  const npm = makeNpm(s.url);
  npm.setToken(s.host, tokens.alice);
  for (const dir of [makePackage('dial-pad', '1.0.0', { keywords: ['dialect'] }), makePackage('@alice/hid', '1.0.0')]) {
    const r = await npm.run(['publish'], { cwd: dir });
    assert.equal(r.code, 0, r.output);
  }
});
after(async () => {
  await s.close();
});

describe('pnpm 11', { skip: onceInSqlitePass }, () => {
  let pnpm: ClientEnv;
  before(() => {
    pnpm = makePnpm();
  });

  test('pnpm star and unstar by a user who does not maintain the package', async () => {
    s.requests.length = 0;
    let r = await pnpm.run(['star', 'dial-pad'], { cwd: project('bob') });
    assert.equal(r.code, 0, r.output);
    assert.ok(s.requests.includes('PUT /-/user/v1/star'), s.requests.join('\n'));
    assert.deepEqual((await doc('dial-pad')).users, { bob: true });
    r = await pnpm.run(['unstar', 'dial-pad'], { cwd: project('bob') });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual((await doc('dial-pad')).users, {});
  });

  test("pnpm stars: the caller's own, and another user's", async () => {
    let r = await pnpm.run(['star', 'dial-pad'], { cwd: project('carol') });
    assert.equal(r.code, 0, r.output);
    r = await pnpm.run(['stars'], { cwd: project('carol') });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout.trim(), 'dial-pad');
    r = await pnpm.run(['stars', 'carol'], { cwd: project('bob') });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.stdout.trim(), 'dial-pad');
    const own = await send('GET', '/-/user/v1/star', tokens.carol);
    assert.deepEqual(own.body, ['dial-pad']);
    assert.equal((await send('GET', '/-/user/v1/star', null)).status, 401);
  });

  test('pnpm owner add and rm, with the rules of npm owner', async () => {
    let r = await pnpm.run(['owner', 'add', 'dial-pad', 'bob'], { cwd: project('alice') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /\+bob: dial-pad/);
    assert.deepEqual(
      (await doc('dial-pad')).maintainers.map((m: { name: string }) => m.name),
      ['alice', 'bob'],
    );
    r = await pnpm.run(['owner', 'rm', 'dial-pad', 'bob'], { cwd: project('alice') });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(
      (await doc('dial-pad')).maintainers.map((m: { name: string }) => m.name),
      ['alice'],
    );
    // Not a maintainer: refused with npm owner's reason.
    r = await pnpm.run(['owner', 'add', 'dial-pad', 'carol'], { cwd: project('carol') });
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /You are not a maintainer of dial-pad/);
    // A private package looks missing to someone who cannot read it.
    const hidden = await send('PUT', '/-/package/@alice%2fhid/owners', tokens.carol, { user: 'carol' });
    const absent = await send('PUT', '/-/package/@alice%2fhix/owners', tokens.carol, { user: 'carol' });
    assert.deepEqual([hidden.status, hidden.reason], [absent.status, absent.reason]);
    assert.equal(hidden.status, 404);
    assert.equal((await send('DELETE', '/-/package/dial-pad/owners/alice', tokens.alice)).reason, 'last-maintainer');
    assert.equal((await send('DELETE', '/-/package/dial-pad/owners/bob', tokens.alice)).reason, 'invalid-request');
  });

  test('pnpm search, and a search without text', async () => {
    const r = await pnpm.run(['search', 'dialect'], { cwd: project('bob') });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /dial-pad/);
    const found = await send('GET', '/-/v1/search?text=dial', null);
    assert.match(found.body.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(found.body.objects[0].package.date, /^\d{4}-\d\d-\d\dT/);
    const none = await send('GET', '/-/v1/search', null);
    assert.equal(none.status, 400);
    assert.equal(none.reason, 'invalid-request');
    assert.match(none.body.error, /a search needs words to look for/);
  });

  test('names no package can have are a 400 with the reason; a name that could exist is a 404', async () => {
    for (const [path, why] of [
      ['_x', /cannot start with an underscore/],
      ['%40x', /Invalid package name "@x"/],
      ['x%40y', /Invalid package name "x@y"/],
    ] as const) {
      const r = await send('GET', `/${path}`, null);
      assert.equal(r.status, 400, path);
      assert.equal(r.reason, 'invalid-name', path);
      assert.match(r.body.error, why);
    }
    assert.equal((await send('GET', '/@alice%2fhid', null)).status, 404);
    assert.equal((await send('GET', '/@alice%2fhix', null)).status, 404);
    // pnpm checks names itself before asking: nothing reaches the registry.
    s.requests.length = 0;
    const r = await pnpm.run(['view', '_x'], { cwd: project('bob') });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /ERR_PNPM_INVALID_PACKAGE_NAME/);
    assert.deepEqual(s.requests, []);
  });
});

describe("the legacy whole-document star (pnpm's fallback) applies or refuses every field", {
  skip: onceInSqlitePass,
}, () => {
  test('a non-maintainer stars with the whole packument; a change beyond their star is refused, not dropped', async () => {
    const d = await doc('dial-pad', tokens.bob);
    let r = await send('PUT', `/dial-pad/-rev/${d._rev}`, tokens.bob, { ...d, users: { ...d.users, bob: true } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((await doc('dial-pad')).users.bob, true);
    const d2 = await doc('dial-pad', tokens.bob);
    r = await send('PUT', `/dial-pad/-rev/${d2._rev}`, tokens.bob, { ...d2, users: { ...d2.users, alice: true } });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /only bob may be starred or unstarred by bob/);
    r = await send('PUT', `/dial-pad/-rev/${d2._rev}`, tokens.bob, {
      ...d2,
      maintainers: [...d2.maintainers, { name: 'bob' }],
    });
    assert.equal(r.status, 403);
    assert.equal(r.reason, 'not-maintainer');
    r = await send('PUT', `/dial-pad/-rev/${d2._rev}`, tokens.alice, {
      ...d2,
      'dist-tags': { ...d2['dist-tags'], next: '1.0.0' },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /dist-tags are changed with `npm dist-tag`/);
    assert.equal((await doc('dial-pad'))['dist-tags'].next, undefined);
  });
});

describe('Yarn 4', { skip: onceInSqlitePass }, () => {
  let yarn: ClientEnv;
  before(() => {
    yarn = makeYarn();
  });

  test('yarn npm info of a name no package can have is a 400 (Yarn prints the status, not the reason)', async () => {
    const proj = makeProject();
    writeYarnrc(proj, s.url, { token: tokens.bob });
    s.requests.length = 0;
    const r = await yarn.run(['npm', 'info', '_x'], { cwd: proj });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /Response Code: 400 \(Bad Request\)/);
    assert.deepEqual(s.requests, ['GET /_x']);
  });

  test('yarn npm info and install of a starred public package still work', async () => {
    const proj = makeProject({ 'dial-pad': '^1.0.0' });
    writeYarnrc(proj, s.url, { token: tokens.bob });
    const info = await yarn.run(['npm', 'info', 'dial-pad', '--json'], { cwd: proj });
    assert.equal(info.code, 0, info.output);
    assert.equal(JSON.parse(info.stdout).name, 'dial-pad');
    const r = await yarn.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
  });
});
