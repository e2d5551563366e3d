// npm's hooks API (libnpmhook's requests): a user's own webhooks, made, listed, changed and deleted over
// HTTP; a real `npm publish` reaches them signed with each hook's own secret; a hook on a package its
// maker cannot read is refused exactly like one on a name that does not exist; deliveries stop when the
// owner loses read access; no answer ever carries a secret.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { HookReceiver, versionOf, type Received } from '../helpers/hook-receiver.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { defaults } from '../../src/config/config.ts';
import { createOrg } from '../../src/services/orgs.ts';
import { deliveryKey } from '../../src/store/user-hooks.ts';
import type { Grants } from '../../src/domain/principal.ts';
import { grants as granular } from '../helpers/grants.ts';

const signed = (secret: string, r: Received) =>
  r.headers['x-tessera-signature'] === `sha256=${createHmac('sha256', secret).update(r.raw).digest('hex')}`;

type Answer = { status: number; reason: string | null; text: string; json: Record<string, unknown> };

describe('hooks API', () => {
  let s: TestServer;
  let rx: HookReceiver;
  const tokens: Record<string, string> = {};
  const npm: Record<string, NpmEnv> = {};
  /** Every secret sent, and every answer text received: none may carry one. */
  const secrets: string[] = [];
  const answers: string[] = [];
  let n = 0;
  const secret = () => {
    const v = `hook-secret-${++n}-${Math.random().toString(36).slice(2)}`;
    secrets.push(v);
    return v;
  };

  const call = async (who: string, method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text, JSON.stringify([...res.headers]));
    const json = text ? JSON.parse(text) : {};
    return { status: res.status, reason: res.headers.get('x-tessera-reason'), text, json };
  };
  const add = (who: string, type: string, name: string, endpoint: string, sec = secret()) =>
    call(who, 'POST', '-/npm/v1/hooks/hook', { type, name, endpoint, secret: sec });
  const put = async (who: string, name: string, version: string, access: string | null = null) => {
    const res = await fetch(`${s.url}${escaped(name)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody(name, version, { access })),
    });
    assert.equal(res.status, 201, await res.text());
  };

  before(async () => {
    rx = await HookReceiver.start();
    s = await startServer({
      hookDelivery: { timeoutMs: 5_000, attempts: 3, backoffMs: 100 },
      // Classic tokens on, to show how each kind is answered.
      tokens: { ...defaults.tokens, classic: true },
    });
    for (const u of ['alice', 'bob', 'dana']) {
      await s.addUser(u);
      tokens[u] = await s.token({ user: u });
      npm[u] = makeNpm(s.url);
      npm[u].setToken(s.host, tokens[u]);
    }
    await s.addUser('root', { admin: true });
    tokens.root = await s.token({ user: 'root' });
    await createOrg(s.ctx, 'acme', 'alice');
  });
  after(async () => {
    await s.close();
    await rx.close();
  });

  test('create, list, view, change and delete over HTTP; the secret is sealed and never shown', async () => {
    await put('alice', 'watched-pkg', '1.0.0');
    const first = secret();
    const a = await add('alice', 'package', 'watched-pkg', `${rx.url}/a`, first);
    assert.equal(a.status, 201, a.text);
    const id = String(a.json.id);
    assert.deepEqual(
      { ...a.json, id: 'x', created: typeof a.json.created, updated: typeof a.json.updated },
      {
        id: 'x',
        username: 'alice',
        type: 'package',
        name: 'watched-pkg',
        endpoint: `${rx.url}/a`,
        created: 'string',
        updated: 'string',
        delivered: false,
        last_delivery: null,
        response_code: 0,
        status: 'active',
      },
    );
    s.clock.advance(1_000); // lists are in the order hooks were made
    assert.equal((await add('alice', 'scope', '@acme', `${rx.url}/scope`)).status, 201);
    s.clock.advance(1_000);
    assert.equal((await add('alice', 'owner', 'alice', `${rx.url}/owner`)).status, 201);

    const all = await call('alice', 'GET', '-/npm/v1/hooks');
    assert.equal(all.status, 200);
    assert.equal(all.json.total, 3);
    assert.deepEqual(
      (all.json.objects as { name: string }[]).map((h) => h.name),
      ['watched-pkg', '@acme', 'alice'],
    );
    const one = await call('alice', 'GET', '-/npm/v1/hooks?package=watched-pkg');
    assert.deepEqual(
      (one.json.objects as { id: string }[]).map((h) => h.id),
      [id],
    );
    const page = await call('alice', 'GET', '-/npm/v1/hooks?limit=1&offset=1');
    assert.deepEqual(
      (page.json.objects as { name: string }[]).map((h) => h.name),
      ['@acme'],
    );
    assert.match(String((page.json.urls as { next: string }).next), /\/-\/npm\/v1\/hooks\?limit=1&offset=2$/);
    assert.equal((await call('bob', 'GET', '-/npm/v1/hooks')).json.total, 0, "bob does not see alice's hooks");

    const got = await call('alice', 'GET', `-/npm/v1/hooks/hook/${id}`);
    assert.deepEqual(got.json, a.json);
    const change = { endpoint: `${rx.url}/a2`, secret: secret() };
    const changed = await call('alice', 'PUT', `-/npm/v1/hooks/hook/${id}`, change);
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.endpoint, `${rx.url}/a2`);
    // At rest the secret is sealed with the data folder's key, not kept as sent.
    const row = await s.ctx.store.db.selectFrom('hooks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.match(row.secret, /^v1\./);
    assert.ok(!secrets.some((x) => row.secret.includes(x)));

    for (const method of ['GET', 'PUT', 'DELETE']) {
      const body = method === 'PUT' ? { endpoint: rx.url } : undefined;
      const other = await call('bob', method, `-/npm/v1/hooks/hook/${id}`, body);
      assert.equal(other.status, 404, `${method} of another user's hook`);
      assert.equal(other.reason, 'hook-not-found');
    }
    const gone = await call('alice', 'DELETE', `-/npm/v1/hooks/hook/${id}`);
    assert.equal(gone.status, 200);
    assert.equal(gone.json.id, id);
    assert.equal((await call('alice', 'GET', `-/npm/v1/hooks/hook/${id}`)).reason, 'hook-not-found');

    for (const [endpoint, why] of [
      ['ftp://127.0.0.1/x', /ftp: is not http or https/],
      ['https://user:pass@127.0.0.1/x', /carries credentials/],
      ['/relative', /not an absolute URL/],
    ] as const) {
      const bad = await add('alice', 'package', 'watched-pkg', endpoint);
      assert.equal(bad.status, 400, endpoint);
      assert.equal(bad.reason, 'hook-endpoint-invalid');
      assert.match(bad.text, why);
    }
    const missing = await call('alice', 'POST', '-/npm/v1/hooks/hook', { type: 'package', name: 'watched-pkg' });
    assert.equal(missing.status, 400);
  });

  test("a real npm publish reaches the hooks' receivers, each signed with its own secret", async () => {
    let r = await npm.alice.run(['publish'], { cwd: makePackage('signed-pkg', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    const pkgSecret = secret();
    const ownerSecret = secret();
    const pkgHook = await add('alice', 'package', 'signed-pkg', `${rx.url}/signed`, pkgSecret);
    const ownerHook = await add('alice', 'owner', 'alice', `${rx.url}/mine`, ownerSecret);
    assert.equal(pkgHook.status, 201, pkgHook.text);
    assert.equal(ownerHook.status, 201, ownerHook.text);
    r = await npm.alice.run(['publish'], { cwd: makePackage('signed-pkg', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const of = (path: string) => rx.at(path).filter((g) => g.body.name === 'signed-pkg');
    await rx.until('both hooks hear of 1.1.0', () => of('/signed').length === 1 && of('/mine').length === 1);
    const [p, o] = [of('/signed')[0], of('/mine')[0]];
    assert.equal(p.body.event, 'package:publish');
    assert.equal((p.body.change as { version: string }).version, '1.1.0');
    assert.equal(p.body.hook, pkgHook.json.id);
    assert.deepEqual(p.body.hookOwner, { username: 'alice' });
    assert.ok(signed(pkgSecret, p), 'the package hook signs with its secret');
    assert.ok(signed(ownerSecret, o), 'the owner hook signs with its own');
    assert.ok(!signed(ownerSecret, p));
    // The hook remembers its last delivery. The receiver has the event before the registry records the
    // answer (on PostgreSQL, a round trip later): ask until it is there.
    const hookNow = () => call('alice', 'GET', `-/npm/v1/hooks/hook/${pkgHook.json.id}`);
    let seen = await hookNow();
    for (let i = 0; i < 100 && seen.json.delivered !== true; i++) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await hookNow();
    }
    assert.equal(seen.json.delivered, true);
    assert.equal(seen.json.response_code, 200);
    assert.ok(seen.json.last_delivery);
    // A changed secret signs what comes next.
    const newer = secret();
    const change = { endpoint: `${rx.url}/signed`, secret: newer };
    await call('alice', 'PUT', `-/npm/v1/hooks/hook/${pkgHook.json.id}`, change);
    r = await npm.alice.run(['dist-tag', 'add', 'signed-pkg@1.0.0', 'old']);
    assert.equal(r.code, 0, r.output);
    await rx.until('the dist-tag event', () => of('/signed').length === 2);
    assert.equal(of('/signed')[1].body.event, 'package:dist-tag');
    assert.ok(signed(newer, of('/signed')[1]));
  });

  test('a hook on a private package its maker cannot read is refused exactly like one on an absent name', async () => {
    await put('alice', '@alice/private', '1.0.0', 'restricted');
    const strip = (x: Answer) => ({ status: x.status, reason: x.reason, text: x.text });
    for (const endpoint of [`${rx.url}/spy`, 'ftp://nowhere/']) {
      const hidden = await add('bob', 'package', '@alice/private', endpoint);
      const absent = await add('bob', 'package', '@alice/never-was', endpoint);
      assert.equal(hidden.status, 404);
      assert.deepEqual(strip(hidden), strip(absent));
    }
    assert.equal((await add('alice', 'package', '@alice/private', `${rx.url}/own`)).status, 201);

    // Scopes: one answer for another user's scope, an org one is not in, and a scope nobody owns.
    for (const scope of ['@alice', '@acme', '@nobody']) {
      const x = await add('bob', 'scope', scope, `${rx.url}/spy`);
      assert.equal(x.status, 403, scope);
      assert.equal(x.reason, 'hook-scope-not-yours');
    }
    assert.equal((await add('bob', 'scope', '@bob', `${rx.url}/bob`)).status, 201);
    // Owners: one's own packages; another's only for administrators.
    const other = await add('bob', 'owner', 'alice', `${rx.url}/spy`);
    assert.equal(other.reason, 'hook-owner-not-yours');
    assert.equal((await add('root', 'owner', 'alice', `${rx.url}/root`)).status, 201);
    assert.equal((await add('root', 'owner', 'ghost', `${rx.url}/root`)).reason, 'unknown-user');
  });

  test('read-only, bypass-2FA and trusted-publishing tokens are refused; granular ones act within grants', async () => {
    const grants = (over: Partial<Grants>) => granular({ scopes: ['@alice'], ...over });
    const kinds: [string, object, string | null][] = [
      ['readonly', { kind: 'classic-readonly', readonly: true }, 'token-read-only'],
      ['granular-ro', { kind: 'granular', grants: grants({ permission: 'read-only' }) }, 'token-read-only'],
      ['bypass', { kind: 'granular', grants: grants({ packagesAll: true }), bypass2fa: true }, 'bypass-2fa-governance'],
      ['automation', { kind: 'classic-automation' }, 'bypass-2fa-governance'],
      [
        'oidc',
        {
          kind: 'oidc',
          grants: grants({
            scopes: [],
            packages: ['@alice/private'],
            trust: { configId: 'c', permissions: ['createPackage'], subject: 'ci' },
          }),
        },
        'oidc-not-a-user',
      ],
      ['granular-rw', { kind: 'granular', grants: grants({}) }, null],
    ];
    for (const [name, spec, reason] of kinds) {
      tokens[name] = await s.token({ user: 'alice', ...spec });
      const x = await add(name, 'package', '@alice/private', `${rx.url}/t`);
      assert.equal(x.reason, reason, `${name}: ${x.text}`);
      assert.equal(x.status, reason ? 403 : 201, name);
    }
    // Within its grants only: a public package outside them is refused with the token's limits.
    const outside = await add('granular-rw', 'package', 'watched-pkg', `${rx.url}/t`);
    assert.equal(outside.reason, 'token-package-restricted');
    assert.equal((await add('granular-rw', 'owner', 'alice', `${rx.url}/t`)).reason, 'token-package-restricted');
    // Reading one's hooks needs no write right.
    assert.equal((await call('readonly', 'GET', '-/npm/v1/hooks')).status, 200);
    assert.equal((await call('oidc', 'GET', '-/npm/v1/hooks')).reason, 'oidc-not-a-user');
    const anonymous = await fetch(`${s.url}-/npm/v1/hooks`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('x-tessera-reason'), 'auth-required');
  });

  test('at most hookApi.maxPerUser hooks per user', async () => {
    const before = s.ctx.config.hookApi.maxPerUser;
    s.ctx.config.hookApi.maxPerUser = 1;
    try {
      assert.equal((await add('dana', 'owner', 'dana', `${rx.url}/d`)).status, 201);
      const x = await add('dana', 'owner', 'dana', `${rx.url}/d`);
      assert.equal(x.status, 400);
      assert.equal(x.reason, 'hook-limit-reached');
      assert.match(x.text, /You already have 1 hooks/);
      const mine = (await call('dana', 'GET', '-/npm/v1/hooks')).json.objects as { id: string }[];
      for (const h of mine) assert.equal((await call('dana', 'DELETE', `-/npm/v1/hooks/hook/${h.id}`)).status, 200);
    } finally {
      s.ctx.config.hookApi.maxPerUser = before;
    }
  });

  test('deliveries stop when the owner loses read access (team grant removed)', async () => {
    let r = await npm.alice.run(['publish', '--access', 'restricted'], { cwd: makePackage('@acme/tool', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    for (const args of [
      ['org', 'set', 'acme', 'dana', 'developer'],
      ['team', 'create', 'acme:readers'],
      ['team', 'add', 'acme:readers', 'dana'],
      ['access', 'grant', 'read-only', 'acme:readers', '@acme/tool'],
    ]) {
      r = await npm.alice.run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.output}`);
    }
    const dana = await add('dana', 'package', '@acme/tool', `${rx.url}/dana`);
    assert.equal(dana.status, 201, dana.text);
    assert.equal((await add('alice', 'package', '@acme/tool', `${rx.url}/alice-tool`)).status, 201);
    await put('alice', '@acme/tool', '1.1.0');
    await rx.until('dana hears of 1.1.0', () => rx.at('/dana').length === 1);

    r = await npm.alice.run(['access', 'revoke', 'acme:readers', '@acme/tool']);
    assert.equal(r.code, 0, r.output);
    await put('alice', '@acme/tool', '1.2.0');
    await rx.until("alice's hook hears of 1.2.0", () => rx.at('/alice-tool').some((g) => versionOf(g) === '1.2.0'));
    // Queued before the publish answered: nothing was queued for dana's hook, and nothing reached it.
    const queued = await s.ctx.store.db
      .selectFrom('hook_deliveries')
      .select('hook')
      .where('hook', '=', deliveryKey(String(dana.json.id)))
      .execute();
    assert.equal(queued.length, 0);
    assert.deepEqual(rx.at('/dana').map(versionOf), ['1.1.0']);
    // And dana can no longer make a hook on it: the answer is that of a name that does not exist.
    const again = await add('dana', 'package', '@acme/tool', `${rx.url}/dana`);
    const absent = await add('dana', 'package', '@acme/absent', `${rx.url}/dana`);
    assert.deepEqual([again.status, again.reason, again.text], [absent.status, absent.reason, absent.text]);
  });

  test('the web page lists, adds, changes and deletes hooks, with the form token', async () => {
    const jar = new Map<string, string>();
    const web = async (method: string, path: string, form?: Record<string, string>) => {
      const res = await fetch(`${s.url}${path}`, {
        method,
        redirect: 'manual',
        headers: {
          accept: 'text/html',
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      for (const c of res.headers.getSetCookie()) {
        const [kv] = c.split(';');
        jar.set(kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1));
      }
      const text = await res.text();
      answers.push(text);
      return {
        status: res.status,
        text,
        reason: res.headers.get('x-tessera-reason'),
        location: res.headers.get('location'),
      };
    };
    // A form post that worked redirects to the page that shows it (POST-redirect-GET).
    const follow = async (r: Awaited<ReturnType<typeof web>>) => {
      assert.equal(r.status, 303, r.text);
      return web('GET', (r.location ?? '').replace(/^\//, ''));
    };
    const csrf = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? '';
    let page = await web('GET', '-/web/signin');
    page = await web('POST', '-/web/signin', { _csrf: csrf(page.text), name: 'bob', password: 'bob-password' });
    assert.equal(page.status, 303);
    page = await web('GET', '-/web/hooks');
    assert.equal(page.status, 200);
    assert.match(page.text, /<span class="mono">@bob<\/span>/, 'the hook bob made over the API is listed');
    const _csrf = csrf(page.text);
    const add = (name: string) =>
      web('POST', '-/web/hooks', { _csrf, type: 'package', name, endpoint: `${rx.url}/web`, secret: secret() });
    page = await follow(await add('watched-pkg'));
    assert.equal(page.status, 200);
    assert.match(page.text, /The hook on watched-pkg is added/);
    // A package bob cannot read reads as one that does not exist, on the page too.
    const [hidden, absent] = [await add('@alice/private'), await add('@alice/absent')];
    assert.equal(hidden.status, 404);
    assert.equal(hidden.reason, 'not-found');
    assert.match(hidden.text, /There is no package @alice\/private that you can see/);
    assert.equal(hidden.text.replaceAll('@alice/private', '@alice/absent'), absent.text);
    const forged = await web('POST', '-/web/hooks', { type: 'owner', name: 'bob', endpoint: rx.url, secret: secret() });
    assert.equal(forged.reason, 'csrf-failed');

    const listed = await call('bob', 'GET', '-/npm/v1/hooks?package=watched-pkg');
    const id = (listed.json.objects as { id: string }[])[0].id;
    const sealed = async () =>
      (await s.ctx.store.db.selectFrom('hooks').select('secret').where('id', '=', id).executeTakeFirstOrThrow()).secret;
    const before = await sealed();
    page = await web('GET', `-/web/hooks/${id}`);
    assert.match(page.text, new RegExp(`value="${rx.url}/web"`));
    page = await follow(await web('POST', `-/web/hooks/${id}`, { _csrf, endpoint: `${rx.url}/web2`, secret: '' }));
    assert.equal(page.status, 200);
    assert.match(page.text, /The hook on watched-pkg is changed/);
    assert.equal((await call('bob', 'GET', `-/npm/v1/hooks/hook/${id}`)).json.endpoint, `${rx.url}/web2`);
    assert.equal(await sealed(), before, 'an empty secret keeps the old one');
    page = await web('POST', `-/web/hooks/${id}`, { _csrf, endpoint: 'https://u:p@127.0.0.1/' });
    assert.equal(page.reason, 'hook-endpoint-invalid');
    page = await follow(await web('POST', '-/web/hooks/delete', { _csrf, id }));
    assert.match(page.text, /The hook on watched-pkg is deleted/);
    assert.equal((await call('bob', 'GET', `-/npm/v1/hooks/hook/${id}`)).reason, 'hook-not-found');
  });

  test('no answer, header or audit entry carried a secret', async () => {
    assert.ok(secrets.length > 10 && answers.length > 50);
    for (const text of answers) for (const x of secrets) assert.ok(!text.includes(x), `an answer carried ${x}`);
    const audit = await s.ctx.store.db.selectFrom('audit').select(['event', 'detail']).execute();
    assert.ok(audit.some((a) => a.event === 'hook-created') && audit.some((a) => a.event === 'hook-updated'));
    for (const a of audit) {
      for (const x of secrets) assert.ok(!(a.detail ?? '').includes(x), 'the audit log holds a secret');
    }
  });
});
