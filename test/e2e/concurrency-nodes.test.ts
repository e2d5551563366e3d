// Two registry nodes on one store, racing (helpers/nodes.ts: two SQLite connections on one file by default,
// two PostgreSQL pools on one database with TESSERA_TEST_BACKEND=cluster). Every invariant docs/deployment.md
// ("Concurrency") names holds: one winner per version, all of many distinct publishes, dist-tags that agree
// with the packument, the token limit, one use per one-time password, one login count, one webhook delivery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startNodes, type Node, type Nodes } from '../helpers/nodes.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { send } from '../helpers/raw-request.ts';
import { makeNpm, makePackage } from '../helpers/npm.ts';
import type { TestServer } from '../helpers/server.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { Refusal } from '../../src/domain/reasons.ts';
import { createToken } from '../../src/services/tokens.ts';
import { confirmEnrolment, startEnrolment, verifyOtpFor } from '../../src/services/two-factor.ts';
import { ADDRESS_LIMIT } from '../../src/services/login-throttle.ts';
import { HookDelivery } from '../../src/services/hook-delivery.ts';
import { whileLeased } from '../../src/services/leases.ts';
import { insertToken } from '../../src/store/tokens.ts';
import { userByName } from '../../src/store/users.ts';
import type { Principal, User } from '../../src/domain/principal.ts';
import { defaults } from '../../src/config/config.ts';
import type { HookConfig } from '../../src/config/ops.ts';

const asServer = (n: Node) => n as unknown as TestServer;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** What a refusal or an answer was, for counting: 'ok', or the reason id. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof Refusal) return e.reason;
    throw e;
  }
}

const tally = (xs: string[]) =>
  Object.fromEntries([...new Set(xs)].sort().map((x) => [x, xs.filter((y) => y === x).length]));

describe('two nodes on one store', () => {
  let c: Nodes;
  let a: Node;
  let b: Node;
  let token = '';

  before(async () => {
    c = await startNodes(2, { tokens: { ...defaults.tokens, classic: true } });
    [a, b] = c.nodes;
    await c.addUser('alice');
    token = await c.token('alice');
  });
  after(() => c.close());

  const publishOn = async (n: Node, name: string, version: string) =>
    send(asServer(n), 'PUT', `/${escaped(name)}`, { headers: bearer(token), body: await publishBody(name, version) });
  const packument = async (n: Node, name: string) => {
    const r = await send(asServer(n), 'GET', `/${escaped(name)}`, { headers: bearer(token) });
    assert.equal(r.status, 200, r.body);
    type Doc = {
      versions: Record<string, unknown>;
      'dist-tags': Record<string, string>;
      maintainers: { name: string }[];
    };
    return JSON.parse(r.body) as Doc;
  };

  test("the same version published on both nodes at once: one wins, the other gets npm's refusal", async () => {
    // A new package (its row's primary key decides) and an existing one (its row lock does), several times.
    await publishOn(a, 'race-old', '0.0.1');
    for (let i = 0; i < 6; i++) {
      for (const name of [`race-new-${i}`, 'race-old']) {
        const version = `1.0.${i}`;
        const answers = await Promise.all([publishOn(a, name, version), publishOn(b, name, version)]);
        const statuses = answers.map((r) => r.status).sort();
        assert.deepEqual(statuses, [201, 403], `${name}@${version}: ${JSON.stringify(answers)}`);
        const lost = answers.find((r) => r.status === 403)!;
        assert.equal(lost.reason, 'version-exists');
        assert.match(lost.body, /cannot publish over the previously published versions/);
      }
    }
    assert.equal(Object.keys((await packument(b, 'race-old')).versions).length, 7);
  });

  test("npm publish of one version on two nodes at once: one succeeds, the other prints npm's E403", async () => {
    const dir = makePackage('cli-race', '1.0.0');
    const clients = [a, b].map((n) => {
      const npm = makeNpm(n.url);
      npm.setToken(n.host, token);
      return npm;
    });
    const runs = await Promise.all(clients.map((npm) => npm.run(['publish'], { cwd: dir })));
    assert.deepEqual(runs.map((r) => r.code).sort(), [0, 1], runs.map((r) => r.output).join('\n'));
    const lost = runs.find((r) => r.code !== 0)!;
    // The registry's E403, or, when the winner had committed before the loser asked, npm's own check of the
    // versions it reads first: the same words either way.
    assert.match(lost.stderr, /cannot publish over the previously published versions: 1\.0\.0/);
    if (/code E/.test(lost.stderr)) assert.match(lost.stderr, /E403/);
  });

  test('two new versions of a package nobody made yet, on both nodes at once: both land', async () => {
    for (let i = 0; i < 4; i++) {
      const name = `twins-${i}`;
      const answers = await Promise.all([publishOn(a, name, '1.0.0'), publishOn(b, name, '2.0.0')]);
      assert.deepEqual(
        answers.map((r) => r.status),
        [201, 201],
        JSON.stringify(answers),
      );
      assert.deepEqual(Object.keys((await packument(a, name)).versions).sort(), ['1.0.0', '2.0.0']);
    }
  });

  test('two users creating one name on two nodes at once: one owns it, the other is asked as a non-owner', async () => {
    await c.addUser('bob');
    const bobToken = await c.token('bob');
    for (let i = 0; i < 4; i++) {
      const name = `claimed-${i}`;
      const [byAlice, byBob] = await Promise.all([
        publishOn(a, name, '1.0.0'),
        send(asServer(b), 'PUT', `/${name}`, { headers: bearer(bobToken), body: await publishBody(name, '2.0.0') }),
      ]);
      const statuses = [byAlice.status, byBob.status];
      assert.equal(statuses.filter((st) => st === 201).length, 1, JSON.stringify([byAlice, byBob]));
      const lost = byAlice.status === 201 ? byBob : byAlice;
      assert.equal(lost.status, 403, lost.body);
      const doc = await packument(a, name);
      assert.deepEqual(Object.keys(doc.versions), [byAlice.status === 201 ? '1.0.0' : '2.0.0']);
      assert.deepEqual(
        doc.maintainers.map((m) => m.name),
        [byAlice.status === 201 ? 'alice' : 'bob'],
      );
    }
  });

  test('50 distinct versions of one package over both nodes at once: all land, every node lists all', async () => {
    const name = 'many';
    await publishOn(a, name, '0.0.0');
    const versions = Array.from({ length: 50 }, (_, i) => `1.${i}.0`);
    const answers = await Promise.all(versions.map((v, i) => publishOn(i % 2 ? b : a, name, v)));
    assert.deepEqual(tally(answers.map((r) => String(r.status))), { 201: 50 });
    for (const n of [a, b]) {
      const doc = await packument(n, name);
      assert.deepEqual(Object.keys(doc.versions).sort(), [...versions, '0.0.0'].sort());
    }
  });

  test('dist-tag moves racing on both nodes: the packument and the dist-tags agree, on every node', async () => {
    const name = 'tagged';
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) assert.equal((await publishOn(a, name, v)).status, 201);
    const moves = Array.from({ length: 30 }, (_, i) =>
      send(asServer(i % 2 ? b : a), 'PUT', `/-/package/${name}/dist-tags/next`, {
        headers: bearer(token),
        body: JSON.stringify(['1.0.0', '1.1.0', '1.2.0'][i % 3]),
      }),
    );
    // A publish in the middle of them: its packument write must not lose a tag move, nor a move lose it.
    const [published, ...moved] = await Promise.all([publishOn(b, name, '1.3.0'), ...moves]);
    assert.equal(published.status, 201);
    assert.deepEqual(tally(moved.map((r) => String(r.status))), { 201: 30 });
    const tags = await send(asServer(a), 'GET', `/-/package/${name}/dist-tags`, { headers: bearer(token) });
    const truth = JSON.parse(tags.body) as Record<string, string>;
    assert.equal(truth.latest, '1.3.0');
    for (const n of [a, b]) {
      const doc = await packument(n, name);
      assert.deepEqual(doc['dist-tags'], truth);
      assert.ok('1.3.0' in doc.versions);
    }
  });

  test('token creates racing on both nodes never pass the 1,000 a user may hold', async () => {
    await c.addUser('tokens');
    const user = (await userByName(a.ctx.store.db, 'tokens'))!;
    const limit = a.ctx.config.tokens.maxPerUser;
    assert.equal(limit, 1000);
    const now = c.clock.now();
    await a.ctx.store.transaction(async (trx) => {
      for (let i = 0; i < limit - 5; i++) {
        await insertToken(trx, { userId: user.id, kind: 'classic-publish', expiresAt: null, now });
      }
    });
    const spec = {
      user: 'tokens',
      kind: 'classic-publish' as const,
      name: null,
      description: null,
      grants: null,
      cidr: [],
      bypass2fa: false,
      expires: 'never' as const,
    };
    const made = await Promise.all(
      Array.from({ length: 24 }, (_, i) => outcome(createToken((i % 2 ? b : a).ctx, spec, 'admin'))),
    );
    assert.deepEqual(tally(made), { ok: 5, 'token-limit-reached': 19 });
  });

  test('one one-time password used on both nodes at once is accepted once', async () => {
    await c.addUser('otp');
    const row = (await userByName(a.ctx.store.db, 'otp'))!;
    const user = { id: row.id, name: row.name } as User;
    const p = { user } as Principal & { user: User };
    const { tfa } = await startEnrolment(a.ctx, p, 'auth-and-writes');
    const secret = new URL(tfa as string).searchParams.get('secret')!;
    await confirmEnrolment(b.ctx, user, codeAt(secret, c.clock.now()));
    for (let round = 0; round < 8; round++) {
      c.clock.advance(30_000);
      const code = codeAt(secret, c.clock.now());
      const uses = await Promise.all([a, b, a, b].map((n) => outcome(verifyOtpFor(n.ctx, user, code))));
      assert.deepEqual(tally(uses), { ok: 1, 'otp-reused': 3 }, `round ${round}`);
    }
  });

  test('a periodic job runs on one node per interval: the lease, and another node once it lapses', async () => {
    let runs = 0;
    const job = async () => {
      runs++;
    };
    const every = 60_000;
    // Each node's timer fires once per interval; both fire together.
    const first = await Promise.all([a, b].map((n) => whileLeased(n.ctx, 'test-job', every, job)));
    assert.equal(runs, 1);
    assert.equal(first.filter(Boolean).length, 1);
    const holder = first[0] ? a : b;
    const other = holder === a ? b : a;
    assert.equal(await whileLeased(other.ctx, 'test-job', every, job), false, 'held by the other node');
    c.clock.advance(every);
    // The holder stopped renewing (a node that died): the lease lapsed, and the other node takes the job.
    assert.equal(await whileLeased(other.ctx, 'test-job', every, job), true);
    assert.equal(await whileLeased(holder.ctx, 'test-job', every, job), false);
    assert.equal(runs, 2);
  });

  test('wrong passwords from one address count once across the nodes', async () => {
    await c.addUser('guarded');
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        outcome((i % 2 ? b : a).auth.checkPassword('guarded', `wrong-${i}`, '192.0.2.7')),
      ),
    );
    assert.deepEqual(tally(guesses), { 'login-throttled': 30 - ADDRESS_LIMIT, 'password-wrong': ADDRESS_LIMIT });
    // The other node refuses this address too, even the right password.
    assert.equal(await outcome(b.auth.checkPassword('guarded', 'guarded-password', '192.0.2.7')), 'login-throttled');
    assert.equal(await outcome(a.auth.checkPassword('guarded', 'guarded-password', '192.0.2.8')), 'ok');
  });
});

describe('webhook deliveries with two nodes running the worker', () => {
  let c: Nodes;
  let receiver: Server;
  const got: string[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => {
        raw += d;
      });
      req.on('end', () => {
        got.push((JSON.parse(raw) as { id: string }).id);
        // A slow receiver widens the window in which both workers could hold the same row.
        setTimeout(() => res.writeHead(200).end(), 50);
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hook: HookConfig = {
      name: 'ci',
      url,
      secret: 'hook-secret-0123456789abcdef',
      events: ['package:publish'],
      package: null,
      scope: null,
      owner: null,
    };
    c = await startNodes(2, { hooks: [hook] });
    await c.addUser('alice');
  });
  after(async () => {
    await c.close();
    await new Promise((r) => receiver.close(r));
  });

  test('each delivery is sent once, whichever node looks first', async () => {
    const token = await c.token('alice');
    const [a, b] = c.nodes;
    // Extra workers on both nodes, woken together over and over, as nodes polling the same queue are.
    const log = { warn: () => {} };
    const workers = [a, b, a, b].map((n) => new HookDelivery(n.ctx, log));
    for (const w of workers) w.start();
    try {
      const names = Array.from({ length: 12 }, (_, i) => `hooked-${i}`);
      await Promise.all(
        names.map(async (name, i) =>
          send(asServer(i % 2 ? b : a), 'PUT', `/${name}`, {
            headers: bearer(token),
            body: await publishBody(name, '1.0.0'),
          }),
        ),
      );
      const end = Date.now() + 15_000;
      while (got.length < names.length && Date.now() < end) {
        for (const w of workers) w.wake();
        await new Promise((r) => setTimeout(r, 5));
      }
      // Time for a second send of anything, had two workers taken the same row.
      for (let i = 0; i < 40; i++) {
        for (const w of workers) w.wake();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(got.length, names.length, `deliveries: ${JSON.stringify(tally(got))}`);
      assert.equal(new Set(got).size, names.length);
    } finally {
      for (const w of workers) await w.stop();
    }
  });
});
