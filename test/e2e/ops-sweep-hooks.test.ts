// Webhooks as receivers written for npm's hooks meet them: the signature in npm's header (`x-npm-signature`,
// checked as npm's own hook receiver checks it), a scope hook of an organization member who may not read
// every package of the scope, and a receiver that never says yes: tried `attempts` times, then given up,
// and the package's next event is not held up behind it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { HookReceiver, type Received } from '../helpers/hook-receiver.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { makeNpm } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';

/** What npm's hook receiver (npm-hook-receiver) accepts: `x-npm-signature: sha256=<hex HMAC of the body>`. */
const npmAccepts = (secret: string, r: Received) =>
  r.headers['x-npm-signature'] === `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`;

describe('webhooks as receivers written for npm meet them', () => {
  let s: TestServer;
  let rx: HookReceiver;
  const tokens: Record<string, string> = {};

  const addHook = async (who: string, type: string, name: string, path: string, secret: string) => {
    const res = await fetch(`${s.url}-/npm/v1/hooks/hook`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type, name, endpoint: `${rx.url}${path}`, secret }),
    });
    assert.equal(res.status, 201, await res.text());
  };
  const put = async (name: string, version: string, access: string | null = null) => {
    const res = await fetch(`${s.url}${escaped(name)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody(name, version, { access })),
    });
    assert.equal(res.status, 201, await res.text());
  };

  before(async () => {
    rx = await HookReceiver.start({ waitMs: 15_000 });
    s = await startServer({ hookDelivery: { timeoutMs: 5_000, attempts: 3, backoffMs: 50 } });
    for (const u of ['alice', 'bob']) {
      await s.addUser(u);
      tokens[u] = await s.token({ user: u });
    }
    await createOrg(s.ctx, 'acme', 'alice');
    const npm = makeNpm(s.url);
    npm.setToken(s.host, tokens.alice);
    const r = await npm.run(['org', 'set', 'acme', 'bob', 'developer']);
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
    await rx.close();
  });

  test("a member's scope hook hears the public packages, signed as npm signs, never a private one", async () => {
    await addHook('bob', 'scope', '@acme', '/bob-scope', 'bob-scope-secret-1');
    await addHook('alice', 'scope', '@acme', '/alice-scope', 'alice-scope-secret-1');
    await put('@acme/hidden', '1.0.0', 'restricted');
    await put('@acme/open', '1.0.0', 'public');
    await rx.until('alice hears of both', () => rx.at('/alice-scope').length === 2);
    await rx.until('bob hears of the public one', () => rx.at('/bob-scope').length === 1);
    assert.deepEqual(
      rx.at('/alice-scope').map((g) => g.body.name),
      ['@acme/hidden', '@acme/open'],
    );
    const [bob] = rx.at('/bob-scope');
    assert.equal(bob.body.name, '@acme/open');
    assert.ok(npmAccepts('bob-scope-secret-1', bob), JSON.stringify(bob.headers));
    assert.ok(rx.at('/alice-scope').every((g) => npmAccepts('alice-scope-secret-1', g)));
    assert.ok(!rx.got.some((g) => g.path === '/bob-scope' && g.raw.includes('hidden')));
  });

  test('a receiver that never answers 2xx is tried `attempts` times, then given up; the next one follows', async () => {
    rx.status.set('/down', 500);
    await put('down-pkg', '1.0.0');
    await addHook('alice', 'package', 'down-pkg', '/down', 'down-secret-123456');
    await put('down-pkg', '1.1.0');
    await put('down-pkg', '1.2.0');
    await rx.until('both events, each tried 3 times', () => rx.at('/down').length >= 6);
    assert.deepEqual(
      rx.at('/down').map((g) => (g.body.change as { version?: string }).version),
      ['1.1.0', '1.1.0', '1.1.0', '1.2.0', '1.2.0', '1.2.0'],
    );
    const failed = async () =>
      (await s.ctx.store.db.selectFrom('audit').select('detail').where('event', '=', 'hook-failed').execute()).map(
        (r) => JSON.parse(r.detail ?? '{}') as { attempts: number; status: number; package: string },
      );
    let rows = await failed();
    for (let i = 0; i < 100 && rows.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await failed();
    }
    assert.deepEqual(
      rows.map((r) => [r.package, r.attempts, r.status]),
      [
        ['down-pkg', 3, 500],
        ['down-pkg', 3, 500],
      ],
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.at('/down').length, 6, 'nothing more after giving up');
  });
});
