// Webhooks against a receiver in the test: signed JSON POSTs for what npm users do (publish, dist-tag,
// deprecate, owner, unpublish), retried after a 500 without losing the order of a package's events,
// nothing about a package the hook's owner may not read, and a receiver that never answers does not
// slow a publish.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { HookReceiver, type Received } from '../helpers/hook-receiver.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import type { HookConfig } from '../../src/config/ops.ts';
import { HOOK_EVENTS } from '../../src/config/ops.ts';

const SECRET = 'hook-secret-0123456789abcdef';

function hook(name: string, url: string, extra: Partial<HookConfig> = {}): HookConfig {
  return { name, url, secret: SECRET, events: [...HOOK_EVENTS], package: null, scope: null, owner: null, ...extra };
}

function verified(r: Received): boolean {
  const want = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`);
  const sent = Buffer.from(String(r.headers['x-tessera-signature']));
  return sent.length === want.length && timingSafeEqual(sent, want);
}

describe('webhooks', () => {
  let rx: HookReceiver;
  let s: TestServer;
  let npm: NpmEnv;
  let token: string;

  before(async () => {
    rx = await HookReceiver.start();
    rx.plan['/flaky'] = [500, 500];
    rx.hang.add('/hang');
    s = await startServer({
      hooks: [
        hook('watcher', `${rx.url}/watcher`, { owner: 'olga' }),
        hook('owner', `${rx.url}/owner`, { owner: 'alice', scope: '@alice' }),
        hook('nobody', `${rx.url}/nobody`),
        hook('flaky', `${rx.url}/flaky`, { package: 'flaky-pkg', events: ['package:publish', 'package:dist-tag'] }),
        hook('hang', `${rx.url}/hang`, { package: 'slow-pkg' }),
      ],
      hookDelivery: { timeoutMs: 20_000, attempts: 5, backoffMs: 100 },
    });
    await s.addUser('alice');
    await s.addUser('olga');
    await s.addUser('bob');
    token = await s.token({ user: 'alice' });
    npm = makeNpm(s.url);
    npm.setToken(s.host, token);
  });
  after(async () => {
    await s.close();
    await rx.close();
  });

  const put = async (name: string, version: string, access: string | null = null) => {
    const started = performance.now();
    const res = await fetch(`${s.url}${escaped(name)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody(name, version, { access })),
    });
    assert.equal(res.status, 201, await res.text());
    return performance.now() - started;
  };

  test('npm publish, dist-tag, deprecate, owner and unpublish reach the receiver signed, in order', async () => {
    const name = 'hooked-pkg';
    let r = await npm.run(['publish'], { cwd: makePackage(name, '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['publish', '--tag', 'next'], { cwd: makePackage(name, '1.1.0') });
    assert.equal(r.code, 0, r.output);
    for (const args of [
      ['dist-tag', 'add', `${name}@1.1.0`, 'stable'],
      ['deprecate', `${name}@1.0.0`, 'use 1.1'],
      ['owner', 'add', 'bob', name],
      ['owner', 'rm', 'bob', name],
      ['unpublish', `${name}@1.1.0`],
    ]) {
      r = await npm.run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.output}`);
    }
    const want = [
      'package:publish',
      'package:publish',
      'package:dist-tag',
      'package:deprecated',
      'package:owner',
      'package:owner-rm',
      'package:unpublish',
    ];
    await rx.until('all events of hooked-pkg', () => rx.at('/watcher', name).length >= want.length);
    const got = rx.at('/watcher', name);
    assert.deepEqual(
      got.map((g) => g.body.event),
      want,
    );
    assert.deepEqual(
      got.map((g) => (g.body.change as { version?: string }).version ?? null),
      ['1.0.0', '1.1.0', '1.1.0', '1.0.0', null, null, '1.1.0'],
    );
    assert.deepEqual(got[2].body.change, { version: '1.1.0', 'dist-tag': 'stable' });
    assert.deepEqual(got[4].body.change, { maintainer: 'bob' });
    for (const g of got) {
      assert.ok(verified(g), `signature of ${String(g.body.event)}`);
      assert.equal(g.headers['content-type'], 'application/json');
      assert.equal(g.headers['x-tessera-event'], g.body.event);
      assert.equal(g.headers['x-tessera-delivery'], g.body.id);
      assert.equal(g.body.actor, 'alice');
      assert.equal(g.body.hook, 'watcher');
      assert.deepEqual(g.body.hookOwner, { username: 'olga' });
    }
    // A tampered body fails the check a receiver makes.
    assert.equal(verified({ ...got[0], raw: got[0].raw.replace('1.0.0', '6.6.6') }), false);
    // Every delivery is in the audit log.
    const audited = await s.ctx.store.db
      .selectFrom('audit')
      .select('detail')
      .where('event', '=', 'hook-delivered')
      .execute();
    const ids = new Set(audited.map((a) => (JSON.parse(a.detail ?? '{}') as { id: string }).id));
    for (const g of got) assert.ok(ids.has(String(g.body.id)));
  });

  test('a receiver answering 500 gets the event again, and the next event of the package only after it', async () => {
    await put('flaky-pkg', '1.0.0');
    const tag = await fetch(`${s.url}-/package/flaky-pkg/dist-tags/beta`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '"1.0.0"',
    });
    assert.equal(tag.status, 201);
    await rx.until('the dist-tag event after retries', () =>
      rx.at('/flaky').some((g) => g.body.event === 'package:dist-tag'),
    );
    const got = rx.at('/flaky');
    assert.deepEqual(
      got.map((g) => g.body.event),
      ['package:publish', 'package:publish', 'package:publish', 'package:dist-tag'],
    );
    assert.equal(new Set(got.slice(0, 3).map((g) => g.body.id)).size, 1, 'the same delivery, retried');
    // The receiver has the last event before the registry writes its audit row (on PostgreSQL, a round trip
    // later): wait for the four rows, in the order they were written.
    const flakyRows = async () =>
      (
        await s.ctx.store.db
          .selectFrom('audit')
          .select(['event', 'detail'])
          .where('event', 'like', 'hook-%')
          .orderBy('id')
          .execute()
      )
        .map((r) => ({
          ...(JSON.parse(r.detail ?? '{}') as { hook: string; attempts: number; status: number }),
          audit: r.event,
        }))
        .filter((r) => r.hook === 'flaky');
    let flaky = await flakyRows();
    for (let i = 0; i < 100 && flaky.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
      flaky = await flakyRows();
    }
    assert.deepEqual(
      flaky.map((r) => [r.audit, r.attempts, r.status]),
      [
        ['hook-retry', 1, 500],
        ['hook-retry', 2, 500],
        ['hook-delivered', 3, 200],
        ['hook-delivered', 1, 200],
      ],
    );
  });

  test('nothing about a private package goes to a hook whose owner may not read it', async () => {
    await put('@alice/private-thing', '1.0.0', 'restricted');
    await put('@alice/open-thing', '1.0.0', 'public');
    await put('public-marker', '1.0.0');
    // Deliveries are queued before the publish answers: the queue and the receiver tell the whole story.
    const queued = await s.ctx.store.db.selectFrom('hook_deliveries').select(['hook', 'package']).execute();
    await rx.until(
      "the marker and the owner's events",
      () =>
        rx.at('/watcher', 'public-marker').length === 1 &&
        rx.at('/nobody', 'public-marker').length === 1 &&
        rx.at('/owner', '@alice/private-thing').length === 1 &&
        rx.at('/owner', '@alice/open-thing').length === 1,
    );
    for (const path of ['/watcher', '/nobody']) {
      assert.equal(rx.at(path, '@alice/private-thing').length, 0, `${path} heard of the private package`);
      assert.equal(rx.at(path, '@alice/open-thing').length, 1);
      assert.ok(!rx.got.filter((g) => g.path === path).some((g) => g.raw.includes('private-thing')));
    }
    assert.ok(!queued.some((q) => q.package === '@alice/private-thing' && q.hook !== 'owner'));
    // The scope filter: the owner's hook hears only of @alice.
    assert.ok(rx.got.filter((g) => g.path === '/owner').every((g) => String(g.body.name).startsWith('@alice/')));
    // Unpublishing hides the package, but who may hear of it was decided before.
    const rev = (
      (await (
        await fetch(`${s.url}${escaped('@alice/private-thing')}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { _rev: string }
    )._rev;
    const del = await fetch(`${s.url}${escaped('@alice/private-thing')}/-rev/${rev}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(del.status, 200);
    await rx.until("the owner's unpublish event", () => rx.at('/owner', '@alice/private-thing').length === 2);
    assert.equal(rx.at('/watcher', '@alice/private-thing').length, 0);
  });

  test('a receiver that never answers does not slow a publish', async () => {
    const slow = await put('slow-pkg', '1.0.0');
    const slow2 = await put('slow-pkg', '1.0.1');
    // The hook's timeout is 20 s; the publishes answered as fast as one without a slow receiver.
    assert.ok(slow < 2_000 && slow2 < 2_000, `publishes took ${slow.toFixed(0)} and ${slow2.toFixed(0)} ms`);
    const pending = await s.ctx.store.db
      .selectFrom('hook_deliveries')
      .select(['hook', 'package', 'state'])
      .where('hook', '=', 'hang')
      .execute();
    assert.deepEqual(
      pending.map((p) => [p.package, p.state]),
      [
        ['slow-pkg', 'pending'],
        ['slow-pkg', 'pending'],
      ],
    );
    // Other hooks are not held up by it either.
    await rx.until('the watcher hears of slow-pkg', () => rx.at('/watcher', 'slow-pkg').length === 2);
  });
});
