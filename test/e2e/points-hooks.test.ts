// Webhook bodies in npm's shape, read as npm's own receivers read them (npm-hook-receiver checks
// x-npm-signature over the raw body, then reads hookOwner.username and payload['dist-tags'].latest):
// every event we send, with the package document as `payload`, bounded for a package of many versions.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { HookReceiver, type Received } from '../helpers/hook-receiver.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { HOOK_EVENTS } from '../../src/config/ops.ts';
import { applyFile, defaults } from '../../src/config/config.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const SECRET = 'points-hook-secret-0123456789';

type Body = {
  event: string;
  name: string;
  type: string;
  version: string;
  hookOwner: { username: string | null };
  payload: {
    name: string;
    'dist-tags': Record<string, string>;
    versions: Record<string, { dist: { tarball: string }; deprecated?: string }>;
    time: Record<string, string>;
    users?: Record<string, boolean>;
  } | null;
  change: Record<string, unknown>;
  time: number;
};
type Got = Received<Body>;

describe('webhook bodies in npm shape', { skip: onceInSqlitePass }, () => {
  let rx: HookReceiver<Body>;
  let s: TestServer;
  let npm: NpmEnv;
  let token: string;
  let started: number;

  before(async () => {
    rx = await HookReceiver.start<Body>({ waitMs: 15_000 });
    const url = `${rx.url}/incoming`;
    const events = [...HOOK_EVENTS];
    s = await startServer({
      hooks: [{ name: 'npm-shape', url, secret: SECRET, events, package: null, scope: null, owner: 'olga' }],
      hookDelivery: { timeoutMs: 5_000, attempts: 3, backoffMs: 50 },
    });
    await s.addUser('alice');
    await s.addUser('olga');
    await s.addUser('bob');
    token = await s.token({ user: 'alice' });
    npm = makeNpm(s.url);
    npm.setToken(s.host, token);
    started = s.clock.now();
  });
  after(async () => {
    await s.close();
    await rx.close();
  });

  const of = (name: string) => rx.got.filter((g) => g.body.name === name);
  const until = (what: string, ok: () => boolean) => rx.until(what, ok);
  /** What npm-hook-receiver does before it emits anything. */
  const receive = (g: Got) => {
    const expected = createHmac('sha256', SECRET).update(g.raw).digest('hex');
    assert.equal(g.headers['x-npm-signature'], `sha256=${expected}`);
    return { event: g.body.event, sender: g.body.hookOwner.username, latest: g.body.payload?.['dist-tags'].latest };
  };

  test('every npm command a maintainer runs is heard in npm hook form', async () => {
    const name = '@alice/shaped';
    let r = await npm.run(['publish', '--access', 'public'], { cwd: makePackage(name, '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await npm.run(['publish', '--tag', 'next'], { cwd: makePackage(name, '1.1.0') });
    assert.equal(r.code, 0, r.output);
    for (const args of [
      ['dist-tag', 'add', `${name}@1.1.0`, 'stable'],
      ['dist-tag', 'rm', name, 'stable'],
      ['deprecate', `${name}@1.0.0`, 'use 1.1'],
      ['deprecate', `${name}@1.0.0`, ''],
      ['owner', 'add', 'bob', name],
      ['owner', 'rm', 'bob', name],
      ['star', name],
      ['unstar', name],
      ['unpublish', `${name}@1.1.0`],
    ]) {
      r = await npm.run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.output}`);
    }
    const want: [string, Record<string, unknown>][] = [
      ['package:publish', { version: '1.0.0', 'dist-tag': 'latest' }],
      ['package:publish', { version: '1.1.0', 'dist-tag': 'next' }],
      ['package:dist-tag', { version: '1.1.0', 'dist-tag': 'stable' }],
      ['package:dist-tag-rm', { 'dist-tag': 'stable' }],
      ['package:deprecated', { version: '1.0.0', deprecated: '1.0.0', message: 'use 1.1' }],
      ['package:undeprecated', { version: '1.0.0', deprecated: '1.0.0', message: null }],
      ['package:owner', { maintainer: 'bob' }],
      ['package:owner-rm', { maintainer: 'bob' }],
      ['package:star', { user: 'alice' }],
      ['package:unstar', { user: 'alice' }],
      ['package:unpublish', { version: '1.1.0' }],
    ];
    await until('every event', () => of(name).length >= want.length);
    const heard = of(name);
    assert.deepEqual(
      heard.map((g) => [g.body.event, g.body.change]),
      want,
    );
    for (const g of heard) {
      const b = g.body;
      assert.deepEqual(receive(g), { event: b.event, sender: 'olga', latest: '1.0.0' });
      assert.equal(b.type, 'package');
      assert.equal(b.version, '1.0.0', 'the envelope version, as npm sends it');
      assert.ok(Number.isInteger(b.time) && b.time >= started && b.time <= s.clock.now(), `time ${b.time}`);
      assert.equal(b.payload?.name, name);
      assert.ok(b.payload?.time.created, 'the document has its time');
    }
    // The document is the one the change made, with tarball URLs of this registry.
    const [first, second, tagged, , deprecated] = heard.map((g) => g.body.payload!);
    assert.deepEqual(Object.keys(first.versions), ['1.0.0']);
    assert.equal(first.versions['1.0.0'].dist.tarball, `${s.url}@alice/shaped/-/shaped-1.0.0.tgz`);
    assert.deepEqual(second['dist-tags'], { latest: '1.0.0', next: '1.1.0' });
    assert.equal(tagged['dist-tags'].stable, '1.1.0');
    assert.equal(deprecated.versions['1.0.0'].deprecated, 'use 1.1');
    assert.deepEqual(heard[8].body.payload?.users, { alice: true });
    assert.deepEqual(Object.keys(heard[10].body.payload!.versions), ['1.0.0']);
  });

  test('a package of many versions: the payload keeps the last 100, the tagged ones and the event’s', async () => {
    const name = 'many-versions';
    const put = async (version: string, tag = 'latest') => {
      s.clock.advance(1000); // "most recent" is by publish time
      const res = await fetch(`${s.url}${escaped(name)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(await publishBody(name, version, { tag })),
      });
      assert.equal(res.status, 201, await res.text());
    };
    for (let i = 0; i < 104; i++) await put(`1.0.${i}`);
    const tag = await fetch(`${s.url}-/package/${name}/dist-tags/old`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '"1.0.1"',
    });
    assert.equal(tag.status, 201);
    await put('0.9.0', 'legacy');
    await until('the last publish', () => of(name).some((g) => g.body.change.version === '0.9.0'));
    const last = of(name).find((g) => g.body.change.version === '0.9.0')!.body.payload!;
    const want = ['1.0.1', ...Array.from({ length: 99 }, (_, i) => `1.0.${i + 5}`), '0.9.0'];
    assert.deepEqual(Object.keys(last.versions).sort(), want.sort());
    assert.deepEqual(Object.keys(last.time).sort(), ['created', 'modified', ...want].sort());
    assert.deepEqual(last['dist-tags'], { latest: '1.0.103', old: '1.0.1', legacy: '0.9.0' });
    const tagEvent = of(name).find((g) => g.body.event === 'package:dist-tag')!.body;
    assert.equal(Object.keys(tagEvent.payload!.versions).length, 101, 'the last 100 and the one tagged');
  });

  test('config still takes the event names of earlier releases', () => {
    const hooks = [{ name: 'old', url: 'http://127.0.0.1:1/', secret: SECRET, events: ['package:deprecate'] }];
    const config = applyFile(structuredClone(defaults), { hooks } as never, s.dataDir);
    assert.deepEqual(config.hooks[0].events, ['package:deprecated']);
  });
});
