// npm token list/create/revoke with the real npm CLI, and the registry scenarios of the token model:
// 4 (read-only), 8 (scope-limited), 9 (CIDR → EAUTHIP), 10 (org-only cannot publish), 14 (limits),
// 15 (a removed maintainer's token loses write at once).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { onceForLaterMajors } from '../helpers/cluster-data.ts';
import { makeNpm, makePackage, NPM_MAJORS, type NpmEnv } from '../helpers/npm.ts';
import { grants } from '../helpers/grants.ts';

for (const major of NPM_MAJORS) {
  describe(`npm ${major} token commands and the token model`, { skip: onceForLaterMajors(major, NPM_MAJORS) }, () => {
    let s: TestServer;
    let alice: NpmEnv; // logged in with a session
    const pw = ['--password', 'alice-password'];

    /** Runs `npm token create …` and returns the token it printed. */
    async function create(args: string[]): Promise<string> {
      const r = await alice.run(['token', 'create', ...pw, ...args]);
      assert.equal(r.code, 0, r.output);
      const m = /Created token (tsr_[0-9A-Za-z]+)/.exec(r.output) ?? /"token":\s*"(tsr_[0-9A-Za-z]+)"/.exec(r.output);
      assert.ok(m, r.output);
      return m[1];
    }
    function withToken(token: string): NpmEnv {
      const n = makeNpm(s.url, major);
      n.setToken(s.host, token);
      return n;
    }

    before(async () => {
      s = await startServer();
      await s.addUser('alice');
      await s.addUser('bob');
      alice = makeNpm(s.url, major);
      const login = await alice.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, 'alice'],
          [/Password:/, 'alice-password'],
        ],
      );
      assert.equal(login.code, 0, login.output);
      for (const pkg of ['tok-pub', '@acme/lib', '@other/lib']) {
        const r = await alice.run(['publish', '--access', 'public'], { cwd: makePackage(pkg, '1.0.0') });
        assert.equal(r.code, 0, r.output);
      }
    });
    after(async () => {
      await s.close();
    });

    test('create, list (paginated, redacted) and revoke by id', async () => {
      const token = await create(['--name', 'ci-token', '--packages', 'tok-pub', '--expires', '30']);
      assert.match(token, /^tsr_/);
      const list = await alice.run(['token', 'list']);
      assert.equal(list.code, 0, list.output);
      assert.match(list.stdout, /Token tsr_\w{4}… with id \w{6,} name ci-token created \d{4}-\d{2}-\d{2}/);
      assert.doesNotMatch(list.stdout, new RegExp(token));
      const json = await alice.run(['token', 'list', '--json']);
      const objs = JSON.parse(json.stdout) as { key: string; name: string | null; id: string }[];
      const mine = objs.find((o) => o.name === 'ci-token')!;
      assert.ok(mine);
      const page = await fetch(`${s.url}-/npm/v1/tokens?perPage=1`, {
        headers: { authorization: `Bearer ${/_authToken=(\S+)/.exec(alice.npmrc())![1]}` },
      });
      const body = (await page.json()) as { objects: unknown[]; total: number; urls: { next: string | null } };
      assert.equal(body.objects.length, 1);
      assert.ok(body.total >= 2);
      assert.match(String(body.urls.next), /page=1&perPage=1$/);
      assert.equal((await withToken(token).run(['whoami'])).stdout.trim(), 'alice');
      const rev = await alice.run(['token', 'revoke', mine.id]);
      assert.equal(rev.code, 0, rev.output);
      assert.match(rev.output, /Removed 1 token/);
      const after = await withToken(token).run(['whoami']);
      assert.equal(after.code, 1);
      assert.match(after.output, /access token expired or revoked/);
    });

    test('a wrong password is refused when creating a token', async () => {
      const r = await alice.run(['token', 'create', '--password', 'nope-nope', '--packages', 'tok-pub']);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /E401/);
      assert.match(r.output, /Incorrect or missing password/);
    });

    test('scenario 4: a read-only token cannot publish, and the message says why', async () => {
      const ro = await create(['--packages-all', '--packages-and-scopes-permission', 'read-only']);
      const n = withToken(ro);
      assert.equal((await n.run(['view', 'tok-pub', 'name'])).stdout.trim(), 'tok-pub');
      const r = await n.run(['publish'], { cwd: makePackage('tok-pub', '1.0.1') });
      assert.notEqual(r.code, 0);
      assert.match(r.output, /403 Forbidden - PUT .*tok-pub - This token is read-only and cannot publish tok-pub/);
    });

    test('scenario 8: a token limited to @acme/* cannot publish @other/x, and names the restriction', async () => {
      const scoped = await create(['--scopes', '@acme', '--packages-and-scopes-permission', 'read-write']);
      const n = withToken(scoped);
      let r = await n.run(['publish'], { cwd: makePackage('@acme/lib', '1.1.0') });
      assert.equal(r.code, 0, r.output);
      r = await n.run(['publish', '--access', 'public'], { cwd: makePackage('@other/x', '1.0.0') });
      assert.notEqual(r.code, 0);
      assert.match(r.output, /E403/);
      assert.match(r.output, /This token is limited to @acme\/\* and cannot publish @other\/x/);
    });

    test('scenario 9: a token limited to a CIDR range fails with EAUTHIP from elsewhere', async () => {
      const t = await create(['--packages-all', '--cidr', '10.20.0.0/16']);
      const r = await withToken(t).run(['whoami']);
      assert.equal(r.code, 1);
      assert.match(r.output, /EAUTHIP/);
      assert.match(r.output, /Login is not allowed from your IP address/);
      const ok = await create(['--packages-all', '--cidr', '127.0.0.0/8']);
      assert.equal((await withToken(ok).run(['whoami'])).stdout.trim(), 'alice');
    });

    test('scenario 10: an org-only token cannot publish', async () => {
      const t = await create(['--orgs', 'acme', '--orgs-permission', 'read-write']);
      const r = await withToken(t).run(['publish'], { cwd: makePackage('@acme/lib', '1.2.0') });
      assert.notEqual(r.code, 0);
      assert.match(r.output, /This token only manages the organizations acme; it grants no access to packages/);
    });

    test('scenario 14: limits — 51 packages, expiry under a day, write token over 90 days', async () => {
      const many = Array.from({ length: 51 }, (_, i) => `p${i}`);
      let r = await alice.run(['token', 'create', ...pw, ...many.flatMap((p) => ['--packages', p])]);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /at most 50 packages and scopes \(got 51\)/);
      // npm drops `--expires 0` (and cannot send fractions), so under a day is asked for over HTTP, as an ISO date.
      const session = /_authToken=(\S+)/.exec(alice.npmrc())![1];
      const res = await fetch(`${s.url}-/npm/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          password: 'alice-password',
          name: null,
          packages_all: true,
          expires: new Date(s.clock.now() + 12 * 3_600_000).toISOString(),
        }),
      });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('x-tessera-reason'), 'token-expiry-out-of-range');
      assert.match(
        ((await res.json()) as { error: string }).error,
        /between 1 and 90 days for a read-write token \(got 0\.5\)/,
      );
      r = await alice.run(['token', 'create', ...pw, '--packages-all', '--expires', '91']);
      assert.match(r.output, /Token expiry must be between 1 and 90 days for a read-write token \(got 91\)/);
      r = await alice.run([
        'token',
        'create',
        ...pw,
        '--packages-all',
        '--packages-and-scopes-permission',
        'read-only',
        '--expires',
        '365',
      ]);
      assert.equal(r.code, 0, r.output);
    });

    test('scenario 15: a user removed as maintainer loses write at once through their token', async () => {
      let r = await alice.run(['owner', 'add', 'bob', 'tok-pub']);
      assert.equal(r.code, 0, r.output);
      const bobToken = await s.token({
        user: 'bob',
        kind: 'granular',
        grants: grants({ packages: ['tok-pub'] }),
      });
      const bob = withToken(bobToken);
      r = await bob.run(['dist-tag', 'add', 'tok-pub@1.0.0', 'bobs']);
      assert.equal(r.code, 0, r.output);
      r = await alice.run(['owner', 'rm', 'bob', 'tok-pub']);
      assert.equal(r.code, 0, r.output);
      r = await bob.run(['dist-tag', 'add', 'tok-pub@1.0.0', 'bobs2']);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /You are not a maintainer of tok-pub/);
    });

    test('tokens cannot manage tokens; bypass-2FA tokens cannot govern', async () => {
      const t = await create(['--packages-all', '--bypass-2fa']);
      const n = withToken(t);
      let r = await n.run(['token', 'create', ...pw, '--packages-all']);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /Tokens that bypass two-factor authentication cannot create tokens/);
      r = await n.run(['owner', 'add', 'bob', 'tok-pub']);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /Tokens that bypass two-factor authentication cannot change maintainers of tok-pub/);
      const plain = withToken(await create(['--packages-all']));
      r = await plain.run(['token', 'create', ...pw, '--packages-all']);
      assert.match(r.output, /Only a login session can create tokens; this request used a granular token/);
    });
  });
}

describe('token limits and classic tokens', () => {
  test('the 1,001st token is refused; classic tokens work only in compatibility mode', async () => {
    const s = await startServer({
      tokens: { ...(await import('../../src/config/config.ts')).defaults.tokens, maxPerUser: 3, classic: false },
    });
    try {
      await s.addUser('carol');
      const session = await s.token({ user: 'carol' });
      const post = (body: object) =>
        fetch(`${s.url}-/npm/v1/tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${session}`, 'content-type': 'application/json' },
          body: JSON.stringify({ password: 'carol-password', ...body }),
        });
      for (let i = 0; i < 3; i++) assert.equal((await post({ name: `t${i}` })).status, 201);
      const fourth = await post({ name: 't3' });
      assert.equal(fourth.status, 400);
      assert.equal(fourth.headers.get('x-tessera-reason'), 'token-limit-reached');
      assert.match(((await fourth.json()) as { error: string }).error, /already have 3 tokens/);
      const classic = await post({ readonly: true, cidr_whitelist: [] });
      assert.equal(classic.status, 403);
      assert.equal(classic.headers.get('x-tessera-reason'), 'classic-token-not-made');
    } finally {
      await s.close();
    }
  });
});
