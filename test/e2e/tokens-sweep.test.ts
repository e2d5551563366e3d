// Sweep of the token model (#3) as npm 11 users meet it, beyond tokens.test.ts: a scope written the way
// people write it (`--packages @scope/*`), names that are no package, an org token limited to reading,
// expired tokens in the list, CIDR ranges (IPv6, behind a trusted proxy, and malformed ones), a password
// change through npm, a token list longer than one page, and revoking by key prefix, by the token itself,
// and with a token trying to revoke itself.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { createOrg } from '../../src/services/orgs.ts';

describe('npm 11 token commands, as users vary them', () => {
  let s: TestServer;
  let alice: NpmEnv; // a login session
  let session = '';
  const pw = ['--password', 'alice-password'];

  /** `npm token create … --json`: the token and what the registry says it covers. */
  async function create(args: string[]) {
    const r = await alice.run(['token', 'create', ...pw, '--json', ...args]);
    assert.equal(r.code, 0, r.output);
    return JSON.parse(r.stdout) as { token: string; packages: string[]; scopes: string[]; packages_all: boolean };
  }
  function withToken(token: string): NpmEnv {
    const n = makeNpm(s.url);
    n.setToken(s.host, token);
    return n;
  }

  before(async () => {
    s = await startServer({ trustedProxies: ['127.0.0.1'] });
    await s.addUser('alice');
    await s.addUser('bob');
    await createOrg(s.ctx, 'acme', 'alice');
    alice = makeNpm(s.url);
    session = await s.token({ user: 'alice' });
    alice.setToken(s.host, session);
    const r = await alice.run(['team', 'create', '@acme:devs']);
    assert.equal(r.code, 0, r.output);
  });
  after(async () => {
    await s.close();
  });

  test('--packages @scope/* is the scope; a name no package can have is refused before any token is made', async () => {
    const t = await create(['--packages', '@alice/*']);
    assert.deepEqual([t.packages, t.scopes, t.packages_all], [[], ['@alice'], false]);
    let r = await withToken(t.token).run(['publish'], { cwd: makePackage('@alice/first', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await withToken(t.token).run(['publish'], { cwd: makePackage('unscoped-x', '1.0.0') });
    assert.equal(r.code, 1);
    assert.match(r.output, /This token is limited to @alice\/\* and cannot publish unscoped-x/);
    assert.deepEqual((await create(['--scopes', '@alice/*'])).scopes, ['@alice']);
    const before = (await alice.run(['token', 'list', '--json'])).stdout;
    for (const [flag, value] of [
      ['--packages', 'Not A Name'],
      ['--scopes', '@bad scope'],
      ['--orgs', 'Acme Corp'],
    ]) {
      r = await alice.run(['token', 'create', ...pw, flag, value]);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /E400/);
      assert.match(
        r.output,
        new RegExp(`"${value.replace(/[*/]/g, '\\$&')}" is not (a package name|a scope|an organization name)`),
      );
    }
    assert.equal(JSON.parse((await alice.run(['token', 'list', '--json'])).stdout).length, JSON.parse(before).length);
  });

  test('an org token that may only read says so when used to change the org', async () => {
    const ro = await alice.run([
      'token',
      'create',
      ...pw,
      '--orgs',
      'acme',
      '--orgs-permission',
      'read-only',
      '--json',
    ]);
    const n = withToken(JSON.parse(ro.stdout).token);
    const ls = await n.run(['team', 'ls', '@acme']);
    assert.equal(ls.code, 0, ls.output);
    assert.match(ls.stdout, /@acme:devs/);
    for (const args of [
      ['team', 'add', '@acme:devs', 'bob'],
      ['org', 'set', 'acme', 'bob', 'developer'],
    ]) {
      const r = await n.run(args);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /E403/);
      assert.match(
        r.output,
        /This token cannot (manage the teams|change the members) of acme: it may only read acme\./,
      );
      assert.match(r.output, /--orgs acme --orgs-permission read-write/);
    }
  });

  test('expired tokens and sessions leave the list; npm shows only what still works', async () => {
    await s.token({ user: 'alice', kind: 'granular', name: 'short-lived', expiresInMs: 60_000 });
    await s.token({ user: 'alice', kind: 'session', name: 'old-login', expiresInMs: 60_000 });
    const names = async () =>
      (JSON.parse((await alice.run(['token', 'list', '--json'])).stdout) as { name: string | null }[]).map(
        (t) => t.name,
      );
    assert.ok((await names()).includes('short-lived'));
    s.clock.advance(61_000);
    const left = await names();
    assert.ok(!left.includes('short-lived') && !left.includes('old-login'), left.join(', '));
    const res = await fetch(`${s.url}-/npm/v1/tokens`, { headers: { authorization: `Bearer ${session}` } });
    const body = (await res.json()) as { objects: unknown[]; total: number };
    assert.equal(body.total, body.objects.length, 'the total counts what is listed');
  });

  test('CIDR ranges: IPv6 ones are enforced; a range with no prefix length is refused, not read as /0', async () => {
    const post = (body: object) =>
      fetch(`${s.url}-/npm/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body: JSON.stringify({ password: 'alice-password', ...body }),
      });
    for (const bad of ['10.0.0.0/', '10.0.0.0/-0', '2001:db8::/', '10.0.0.0/33', '2001:db8::/129', '300.1.1.1/8']) {
      const res = await post({ cidr_whitelist: [bad] });
      assert.equal(res.status, 400, bad);
      assert.match(((await res.json()) as { error: string }).error, /is not a CIDR range/, bad);
    }
    const res = await post({ cidr_whitelist: ['2001:db8::/32'] });
    assert.equal(res.status, 201);
    const { token } = (await res.json()) as { token: string };
    // Behind a proxy the server trusts, the caller's address is the forwarded one.
    const from = (ip: string) =>
      fetch(`${s.url}-/whoami`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip } });
    assert.equal((await from('2001:db8:1::7')).status, 200);
    for (const ip of ['2001:db9::7', '10.1.2.3', '::ffff:10.1.2.3']) {
      const r = await from(ip);
      assert.equal(r.status, 401, ip);
      assert.equal(r.headers.get('www-authenticate'), 'ipaddress');
      assert.equal(r.headers.get('x-tessera-reason'), 'ip-not-allowed');
    }
  });

  test('npm profile set password ends the other sessions, not this one nor access tokens', async () => {
    const laptop = makeNpm(s.url);
    laptop.setToken(s.host, await s.token({ user: 'bob' }));
    const ci = makeNpm(s.url);
    ci.setToken(s.host, await s.token({ user: 'bob' }));
    const granular = withToken(await s.token({ user: 'bob', kind: 'granular', name: 'bob-ci' }));
    let r = await laptop.runTty(
      ['profile', 'set', 'password'],
      [
        [/Current password:/, 'bob-password'],
        [/New password:/, 'bob-new-password-1'],
        [/Again:/, 'bob-new-password-1'],
      ],
    );
    assert.equal(r.code, 0, r.output);
    r = await ci.run(['whoami']);
    assert.equal(r.code, 1);
    assert.match(r.output, /E401/);
    assert.match(r.output, /npm notice access token expired or revoked/);
    assert.equal((await laptop.run(['whoami'])).stdout.trim(), 'bob');
    assert.equal((await granular.run(['whoami'])).stdout.trim(), 'bob');
    r = await ci.runTty(
      ['login', '--auth-type=legacy'],
      [
        [/Username:/, 'bob'],
        [/Password:/, 'bob-new-password-1'],
      ],
    );
    assert.equal(r.code, 0, r.output);
    assert.equal((await ci.run(['whoami'])).stdout.trim(), 'bob');
  });

  test('a list longer than a page, revoking by key prefix and by the token itself', async () => {
    const made: string[] = [];
    for (let i = 0; i < 105; i++) made.push(await s.token({ user: 'alice', kind: 'granular', name: `bulk-${i}` }));
    const list = await alice.run(['token', 'list', '--json']);
    assert.equal(list.code, 0, list.output);
    // npm prints `key` as *** in --json; `id` is the shortest unique prefix of it.
    const rows = JSON.parse(list.stdout) as { id: string; name: string | null }[];
    const bulk = rows.filter((t) => t.name?.startsWith('bulk-'));
    assert.equal(bulk.length, 105, 'npm follows urls.next past the first 100');
    assert.equal(new Set(rows.map((t) => t.id)).size, rows.length, 'no token twice across pages');
    // By the id npm shows (a unique prefix of the key), and by the whole token value.
    let r = await alice.run(['token', 'revoke', bulk.find((t) => t.name === 'bulk-0')!.id]);
    assert.equal(r.code, 0, r.output);
    const last = made.at(-1)!;
    r = await alice.run(['token', 'revoke', last]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Removed 1 token/);
    for (const token of [made[0], last]) {
      const who = await withToken(token).run(['whoami']);
      assert.equal(who.code, 1);
      assert.match(who.output, /access token expired or revoked/);
    }
    // A granular token may not revoke tokens, itself included, and stays usable after trying.
    const self = withToken(made[1]);
    r = await self.run(['token', 'revoke', made[1]]);
    assert.equal(r.code, 1);
    assert.match(r.output, /Only a login session can revoke tokens; this request used a granular token/);
    assert.equal((await self.run(['whoami'])).stdout.trim(), 'alice');
    r = await alice.run(['token', 'revoke', 'ffffffff']);
    assert.equal(r.code, 1);
    assert.match(r.output, /Unknown token id or value "ffffffff"/);
  });
});
