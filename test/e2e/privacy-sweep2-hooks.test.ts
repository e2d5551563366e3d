// The second privacy sweep of webhooks. A hook whose owner loses the right to read a package (removed from
// the team that had the grant, removed from the org, or the package made restricted) hears nothing more of
// it, not even the deliveries queued while it still could and waiting for a receiver that was down. And npm's
// hooks API answers a stranger, or one removed from the org, about a private package or scope as about a
// missing one.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { HookReceiver, versionOf } from '../helpers/hook-receiver.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { grants } from '../helpers/grants.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { disableUser } from '../../src/services/accounts.ts';
import { deliveryKey } from '../../src/store/user-hooks.ts';

describe('webhooks of an owner who lost read access, and the hooks API for strangers', {
  skip: onceInSqlitePass,
}, () => {
  let s: TestServer;
  let rx: HookReceiver;
  const tokens: Record<string, string> = {};
  const hookIds: Record<string, string> = {};

  const addHook = async (who: string, type: string, name: string, path: string) => {
    const res = await fetch(`${s.url}-/npm/v1/hooks/hook`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type, name, endpoint: `${rx.url}${path}`, secret: `${who}-secret` }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    hookIds[path] = (JSON.parse(text) as { id: string }).id;
  };
  const put = async (name: string, version: string, access: string | null = null) => {
    const res = await fetch(`${s.url}${escaped(name)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody(name, version, { access })),
    });
    assert.equal(res.status, 201, await res.text());
  };
  const as = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${s.url}${path.slice(1)}`, {
      method,
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
  };
  /** The deliveries of a hook still due (not delivered, not given up). */
  const pending = async (path: string) =>
    s.ctx.store.db
      .selectFrom('hook_deliveries')
      .select('id')
      .where('hook', '=', deliveryKey(hookIds[path]))
      .where('state', '=', 'pending')
      .execute();

  before(async () => {
    rx = await HookReceiver.start({ waitMs: 20_000 });
    s = await startServer({ hookDelivery: { timeoutMs: 5_000, attempts: 12, backoffMs: 100 } });
    for (const u of ['alice', 'dana', 'erin', 'frank', 'gus', 'bob']) {
      await s.addUser(u);
      tokens[u] = await s.token({ user: u });
    }
    await createOrg(s.ctx, 'acme', 'alice');
    await put('@acme/tool', '1.0.0', 'restricted');
    await put('@alice/tool', '1.0.0', 'public');
    await put('@alice/pub', '1.0.0', 'public');
    for (const [method, path, body] of [
      ['PUT', '/-/org/acme/user', { user: 'dana', role: 'developer' }],
      ['PUT', '/-/org/acme/user', { user: 'erin', role: 'developer' }],
      ['PUT', '/-/org/acme/team', { name: 'readers' }],
      ['PUT', '/-/team/acme/readers/user', { user: 'dana' }],
      ['PUT', '/-/team/acme/readers/user', { user: 'erin' }],
      ['PUT', '/-/team/acme/readers/package', { package: '@acme/tool', permissions: 'read-only' }],
    ] as const) {
      await as(method, path, body);
    }
  });
  after(async () => {
    await s?.close();
    await rx?.close();
  });

  test('deliveries queued before the owner lost read access are dropped, not sent later', async () => {
    await addHook('dana', 'package', '@acme/tool', '/dana');
    await addHook('erin', 'scope', '@acme', '/erin');
    await addHook('frank', 'package', '@alice/tool', '/frank');
    await addHook('gus', 'package', '@alice/pub', '/gus');
    await addHook('alice', 'scope', '@alice', '/alice');
    const losers = ['/dana', '/erin', '/frank', '/gus'];
    for (const path of losers) rx.status.set(path, 503);
    await put('@acme/tool', '1.1.0');
    await put('@alice/tool', '1.1.0');
    await put('@alice/pub', '1.1.0');
    await rx.until('a first attempt at each', () => losers.every((p) => rx.got.some((g) => g.path === p)));
    // Each loses read access while its delivery waits: out of the team, out of the org, the package restricted,
    // the account disabled.
    // As npm team rm, org rm and access set send them.
    await as('DELETE', '/-/team/acme/readers/user', { user: 'dana' });
    await as('DELETE', '/-/org/acme/user', { user: 'erin' });
    await as('POST', '/-/package/@alice%2ftool/access', { access: 'restricted' });
    await disableUser(s.ctx, 'gus');
    rx.status.clear();
    await put('@alice/tool', '1.2.0');
    await rx.until('alice hears of 1.2.0', () => rx.got.some((g) => g.path === '/alice' && versionOf(g) === '1.2.0'));
    for (const path of losers) {
      const end = Date.now() + 20_000;
      while ((await pending(path)).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await pending(path), [], `${path}: nothing is left to deliver`);
      const heard = rx.got.filter((g) => g.path === path && g.status === 200);
      assert.deepEqual(heard, [], `${path} heard nothing after losing read access`);
    }
    // What still goes out goes to those who may read it.
    assert.ok(rx.got.some((g) => g.path === '/alice' && versionOf(g) === '1.1.0'));
  });

  test("a token limited to other packages neither lists nor reaches its user's hooks outside them", async () => {
    await put('@alice/secret', '1.0.0', 'restricted');
    await put('@alice/other', '1.0.0', 'restricted');
    await addHook('alice', 'package', '@alice/secret', '/alice-secret');
    await addHook('alice', 'package', '@alice/other', '/alice-other');
    const limited = await s.token({
      user: 'alice',
      kind: 'granular',
      grants: grants({ packages: ['@alice/other'] }),
    });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${s.url}${path.slice(1)}`, {
        method,
        headers: { authorization: `Bearer ${limited}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, reason: res.headers.get('x-tessera-reason'), text: await res.text() };
    };
    const list = JSON.parse((await call('GET', '/-/npm/v1/hooks')).text) as {
      objects: { name: string }[];
      total: number;
    };
    assert.deepEqual(
      list.objects.map((h) => h.name),
      ['@alice/other'],
      'only the hook on the package the token covers',
    );
    assert.equal(list.total, 1);
    const hidden = hookIds['/alice-secret'];
    const unknown = `${hidden.slice(0, -4)}0000`;
    const same = (h: { text: string }, u: { text: string }) =>
      h.text.split(hidden).join('<id>') === u.text.split(unknown).join('<id>');
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { endpoint: `${rx.url}/moved` }],
      ['DELETE', undefined],
    ] as const) {
      const h = await call(method, `/-/npm/v1/hooks/hook/${hidden}`, body);
      const u = await call(method, `/-/npm/v1/hooks/hook/${unknown}`, body);
      assert.deepEqual([h.status, h.reason], [u.status, u.reason], `${method} of the hidden hook`);
      assert.ok(same(h, u), `${method}: ${h.text} / ${u.text}`);
    }
    for (const q of ['@alice/secret', '@alice%2Fsecret']) {
      const h = await call('GET', `/-/npm/v1/hooks?package=${q}`);
      const u = await call('GET', `/-/npm/v1/hooks?package=${q.replace('secret', 'sacret')}`);
      assert.deepEqual(h, u, `hook ls ${q}`);
    }
    // Alice's session still has both, untouched.
    const own = await fetch(`${s.url}-/npm/v1/hooks`, { headers: { authorization: `Bearer ${tokens.alice}` } });
    const names = ((await own.json()) as { objects: { name: string }[] }).objects.map((h) => h.name);
    assert.ok(names.includes('@alice/secret') && names.includes('@alice/other'), names.join());
  });

  test('a hook by a stranger or a former member on a private package or scope is as on a missing one', async () => {
    // npm 9 and later have no `npm hook`: these are the requests libnpmhook (and the web page) send.
    await put('@alice/hidden', '1.0.0', 'restricted');
    // erin was a member of acme (in the team that reads @acme/tool), and is not any more.
    await as('PUT', '/-/org/acme/user', { user: 'erin', role: 'developer' });
    await as('PUT', '/-/team/acme/readers/user', { user: 'erin' });
    await as('DELETE', '/-/org/acme/user', { user: 'erin' });
    const call = async (who: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${s.url}${path.slice(1)}`, {
        method,
        headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const headers = Object.fromEntries([...res.headers].filter(([k]) => k !== 'date'));
      return { status: res.status, headers, body: await res.text() };
    };
    const neutral = (a: Awaited<ReturnType<typeof call>>, name: string) =>
      JSON.parse(JSON.stringify(a).split(name).join('<name>')) as typeof a;
    for (const who of ['bob', 'erin']) {
      for (const [type, hidden, absent] of [
        ['package', '@alice/hidden', '@alice/hiddex'],
        ['package', '@acme/tool', '@acme/toal'],
        ['scope', '@acme', '@acmx'],
        ['scope', '@alice', '@alicx'],
      ]) {
        const add = (name: string) =>
          call(who, 'POST', '/-/npm/v1/hooks/hook', { type, name, endpoint: `${rx.url}/${who}-later`, secret: 's' });
        const ls = (name: string) => call(who, 'GET', `/-/npm/v1/hooks?package=${encodeURIComponent(name)}`);
        // (erin's list holds the hook she made while a member: her own, not the package's news.)
        for (const req of who === 'bob' ? [add, ls] : [add]) {
          const h = neutral(await req(hidden), hidden);
          assert.deepEqual(h, neutral(await req(absent), absent), `${who}: ${type} ${hidden}, ${req.name}`);
        }
        const refused = await add(hidden);
        assert.ok(refused.status === 404 || refused.headers['x-tessera-reason'] === 'hook-scope-not-yours', who);
      }
    }
    assert.deepEqual(
      rx.got.filter((g) => g.path.endsWith('-later')),
      [],
    );
  });
});
