// "Private is absent" behind a proxy: with an upstream configured, a name missing here is asked of the
// upstream, while a local package the caller may not read never is. An unscoped restricted package (a
// Verdaccio import makes them) must still answer like a name the upstream does not have either: packument,
// version, tarball, dist-tags, attestations and both audit endpoints, for anonymous and a stranger alike.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { comparable, type Answer } from '../helpers/comparable.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { defaults } from '../../src/config/config.ts';
import { lockPackage } from '../../src/store/locks.ts';
import { setPackageSettings } from '../../src/store/package-rows.ts';
import { rerender } from '../../src/store/packages.ts';

const HIDDEN = 'secret-tool';
const ABSENT = 'sacret-tool';
const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

function requests(name: string): [string, string, string, unknown?, Record<string, string>?][] {
  return [
    ['packument', 'GET', `/${name}`],
    ['packument, corgi', 'GET', `/${name}`, undefined, { accept: CORGI }],
    ['packument, upper case', 'GET', `/${name.toUpperCase()}`],
    ['packument, trailing slash', 'GET', `/${name}/`],
    ['packument for write', 'GET', `/${name}?write=true`],
    ['version', 'GET', `/${name}/1.0.0`],
    ['tarball', 'GET', `/${name}/-/${name}-1.0.0.tgz`],
    ['dist-tags', 'GET', `/-/package/${name}/dist-tags`],
    ['attestations', 'GET', `/-/npm/v1/attestations/${name}@1.0.0`],
    ['audit (bulk)', 'POST', '/-/npm/v1/security/advisories/bulk', { [name]: ['1.0.0'] }],
    [
      'audit (quick)',
      'POST',
      '/-/npm/v1/security/audits/quick',
      { name: 'app', version: '1.0.0', requires: { [name]: '^1.0.0' }, dependencies: { [name]: { version: '1.0.0' } } },
    ],
  ];
}

describe('private is absent behind a proxy', { skip: onceInSqlitePass }, () => {
  let up: TestServer;
  let s: TestServer;
  const creds: Record<string, Record<string, string>> = {};

  async function send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(new URL(path.slice(1), s.url), {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return comparable(res);
  }
  const neutral = (a: Answer, name: string): Answer => {
    const swap = (t: string) => t.split(name.toUpperCase()).join('<PKG>').split(name).join('<pkg>');
    return {
      status: a.status,
      headers: Object.fromEntries(Object.entries(a.headers).map(([k, v]) => [k, swap(v)])),
      body: swap(a.body),
    };
  };

  before(async () => {
    up = await startServer({}, { recordRequests: true });
    const upstream = { ...defaults.upstream, url: up.url, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    s = await startServer({ upstream, privateNamespaces: [] });
    for (const u of ['alice', 'bob']) await s.addUser(u);
    const alice = { authorization: `Bearer ${await s.token({ user: 'alice' })}` };
    const put = await send('PUT', `/${HIDDEN}`, await publishBody(HIDDEN, '1.0.0'), alice);
    assert.equal(put.status, 201, put.body);
    // npm refuses an unscoped private package; a Verdaccio import (or an older registry) can still make one.
    await s.ctx.store.transaction(async (trx) => {
      await lockPackage(trx, HIDDEN);
      await setPackageSettings(trx, HIDDEN, { access: 'restricted' });
      await rerender(trx, HIDDEN, s.clock.now());
    });
    assert.equal((await send('GET', `/${HIDDEN}`, undefined, alice)).status, 200, 'alice reads her package');
    creds.anonymous = {};
    creds["bob's session"] = { authorization: `Bearer ${await s.token({ user: 'bob' })}` };
  });
  after(async () => {
    await s?.close();
    await up?.close();
  });

  for (const who of ['anonymous', "bob's session"]) {
    test(`${who}: a hidden unscoped package answers as a name neither registry has`, async () => {
      const onAbsent = requests(ABSENT);
      for (const [i, [what, method, path, body, headers]] of requests(HIDDEN).entries()) {
        const h = neutral(await send(method, path, body, { ...creds[who], ...headers }), HIDDEN);
        const [, m2, p2, b2, h2] = onAbsent[i];
        const a = neutral(await send(m2, p2, b2, { ...creds[who], ...h2 }), ABSENT);
        assert.deepEqual(h, a, `${what}: ${method} ${path} differs from ${ABSENT}'s answer`);
      }
      // (Upper case is another name: old packages upstream have such names, and the caller chose it.)
      const leaked = up.requests.filter((r) => r.includes(HIDDEN));
      assert.deepEqual(leaked, [], 'the hidden name was never asked of the upstream');
    });
  }
});
