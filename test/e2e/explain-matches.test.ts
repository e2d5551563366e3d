// auth/explain tells the truth: for every package-action row of the authorization matrix
// (docs/authorization.md) whose credential this fixture has, ask /-/tessera/v1/auth/explain first with
// the row's credential, then send the row's request, and check that explain's verdict is what the request
// did. The expected statuses are the matrix test's business; here only the agreement is checked.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody, escaped } from '../helpers/publish-body.ts';
import { EXISTING, readMatrix, rowRequest } from '../helpers/matrix-table.ts';
import { buildOrgFixture } from '../helpers/matrix-orgs.ts';
import { defaults } from '../../src/config/config.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import { grants } from '../helpers/grants.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const NEW: Record<string, (n: number) => string> = {
  'new inside': (n) => `@acme/x-new-${n}`,
  'new outside': (n) => `@other/x-new-${n}`,
  'new in @alice': (n) => `@alice/x-new-${n}`,
};
/** Matrix action → the explain action the request is decided by. */
const EXPLAINED: Record<string, string> = {
  read: 'read',
  'publish new': 'publish',
  'publish existing': 'publish',
  unpublish: 'unpublish',
  'dist-tag add': 'dist-tag',
  deprecate: 'deprecate',
  'owner add': 'owner',
  star: 'star',
  'stage publish': 'stage',
  'stage approve': 'stage-review',
  'stage approve without code': 'stage-review',
  'stage reject': 'stage-review',
  'stage reject without code': 'stage-review',
};
const LIMITED = { packages: ['acme-cli'], scopes: ['@acme'] };
const DAY = 86_400_000;

type Explained = { allowed: boolean; reason: string | null; otp: boolean };

describe('auth/explain says what the request then does (the matrix rows)', { skip: onceInSqlitePass }, () => {
  let s: TestServer;
  const creds = new Map<string, { authorization: string | null; user: string }>();
  let owner = '';
  let aliceSecret = '';
  let codeSpent = true;
  let n = 0;
  const aliceCode = () => {
    if (codeSpent) s.clock.advance(30_000);
    codeSpent = false;
    return codeAt(aliceSecret, s.clock.now());
  };

  function call(
    method: string,
    path: string,
    authorization: string | null,
    body?: unknown,
    otp?: string,
  ): Promise<Response> {
    return rowRequest(s.url, method, path, authorization, body, otp);
  }
  async function setup(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await call(method, path, owner, body);
    if (res.status >= 300) throw new Error(`setup ${method} /${path} failed: ${res.status} ${await res.text()}`);
    return res;
  }
  const doc = async (name: string) =>
    (await (await setup('GET', `${escaped(name)}?write=true`)).json()) as Record<string, any>;

  /** Sends the row's request; `otp` is a code of alice's when the row sends one. */
  async function perform(action: string, name: string, auth: string | null, user: string): Promise<Response> {
    const id = ++n;
    const path = escaped(name);
    const code = () => (user === 'alice' ? aliceCode() : undefined);
    switch (action) {
      case 'read':
        return call('GET', path, auth);
      case 'publish new':
      case 'publish existing':
        return call('PUT', path, auth, await publishBody(name, `1.1.${id}`));
      case 'unpublish': {
        await setup('PUT', path, await publishBody(name, `1.2.${id}`, { tag: 'scratch' }));
        const d = await doc(name);
        delete d.versions[`1.2.${id}`];
        delete d['dist-tags'].scratch;
        return call('PUT', `${path}/-rev/${d._rev}`, auth, d);
      }
      case 'dist-tag add':
        return call('PUT', `-/package/${path}/dist-tags/t${id}`, auth, '1.0.0');
      case 'deprecate': {
        const d = await doc(name);
        d.versions['1.0.0'].deprecated = `row ${id}`;
        return call('PUT', path, auth, d);
      }
      case 'owner add': {
        const d = await doc(name);
        const maintainers = [
          ...d.maintainers.filter((m: { name: string }) => m.name !== 'dave'),
          { name: 'dave', email: 'dave@example.com' },
        ];
        return call('PUT', `${path}/-rev/${d._rev}`, auth, { _id: d._id, _rev: d._rev, maintainers });
      }
      case 'star': {
        const d = await doc(name);
        return call('PUT', path, auth, { _id: d._id, _rev: d._rev, users: { [user]: true } });
      }
      case 'stage publish':
        return call('POST', `-/stage/package/${path}`, auth, await publishBody(name, `1.4.${id}`));
      default: {
        const staged = await setup('POST', `-/stage/package/${path}`, await publishBody(name, `1.3.${id}`));
        const stageId = ((await staged.json()) as { stageId: string }).stageId;
        const [method, p] = action.startsWith('stage approve')
          ? ['POST', `-/stage/${stageId}/approve`]
          : ['DELETE', `-/stage/${stageId}`];
        const res = await call(method, p, auth, undefined, action.endsWith('without code') ? undefined : code());
        if (res.status < 300 && user === 'alice') codeSpent = true;
        return res;
      }
    }
  }

  before(async () => {
    s = await startServer({ tokens: { ...defaults.tokens, classic: true } });
    for (const u of ['alice', 'bob', 'dave']) await s.addUser(u);
    await s.addUser('carol', { admin: true });
    owner = `Bearer ${await s.token({ user: 'alice' })}`;
    // alice has 2FA (auth-only), as in the matrix: reviewing a staged version needs a one-time password.
    await enable2fa(s.url, owner, {
      mode: 'auth-only',
      password: 'alice-password',
      code: (secret) => {
        aliceSecret = secret;
        return aliceCode();
      },
    });
    codeSpent = true;
    for (const [key, name] of Object.entries(EXISTING)) {
      const access = key.startsWith('private') ? 'restricted' : name.startsWith('@') ? 'public' : null;
      await setup('PUT', escaped(name), await publishBody(name, '1.0.0', { access }));
    }
    await buildOrgFixture(s, setup, [EXISTING['private inside'], EXISTING['public in @acme']], 0);
    const bearer = async (spec: Parameters<TestServer['token']>[0]) => ({
      authorization: `Bearer ${await s.token(spec)}`,
      user: spec.user,
    });
    const alice = { user: 'alice' };
    const week = 7 * DAY;
    creds.set('anonymous', { authorization: null, user: 'alice' });
    creds.set('session', await bearer(alice));
    creds.set('password', {
      authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}`,
      user: 'alice',
    });
    creds.set(
      'classic read-only',
      await bearer({ ...alice, kind: 'classic-readonly', readonly: true, expiresInMs: null }),
    );
    creds.set('classic automation', await bearer({ ...alice, kind: 'classic-automation', expiresInMs: null }));
    creds.set('classic publish', await bearer({ ...alice, kind: 'classic-publish', expiresInMs: null }));
    creds.set(
      'granular read-write',
      await bearer({ ...alice, kind: 'granular', grants: grants(LIMITED), expiresInMs: week }),
    );
    creds.set(
      'granular read-only',
      await bearer({
        ...alice,
        kind: 'granular',
        readonly: true,
        grants: grants({ ...LIMITED, permission: 'read-only' }),
        expiresInMs: week,
      }),
    );
    creds.set(
      'granular all packages',
      await bearer({ ...alice, kind: 'granular', grants: grants({ packagesAll: true }), expiresInMs: week }),
    );
    creds.set(
      'granular org-only',
      await bearer({
        ...alice,
        kind: 'granular',
        grants: grants({ permission: 'no-access', orgs: ['acme'], orgsPermission: 'read-write' }),
        expiresInMs: week,
      }),
    );
    creds.set(
      'granular stage-only',
      await bearer({
        ...alice,
        kind: 'granular',
        grants: grants({ ...LIMITED, permission: 'read-write-stage-only' }),
        expiresInMs: week,
      }),
    );
    creds.set(
      'granular bypass-2FA',
      await bearer({
        ...alice,
        kind: 'granular',
        grants: grants({ packagesAll: true }),
        bypass2fa: true,
        expiresInMs: week,
      }),
    );
    creds.set("bob's session", await bearer({ user: 'bob' }));
    creds.set("admin's session", await bearer({ user: 'carol' }));
    const members: Record<string, string> = {
      "org owner's session": 'olivia',
      "org admin's session": 'adam',
      "team writer's session": 'walter',
      "team reader's session": 'rita',
      "org developer's session": 'dan',
      "non-member's session": 'nora',
    };
    for (const [cred, user] of Object.entries(members)) creds.set(cred, await bearer({ user }));
  });
  after(async () => {
    await s?.close();
  });

  const { rows, problems } = readMatrix();
  test('the matrix parses', () => assert.deepEqual(problems, []));
  const mine = rows.filter((r) => r.action in EXPLAINED && (r.pkg in EXISTING || r.pkg in NEW));
  test(`enough rows to walk (${mine.length})`, () => assert.ok(mine.length >= 100));

  for (const row of mine) {
    test(`${row.credential} | ${row.action} | ${row.pkg} (line ${row.line})`, async (t) => {
      const c = creds.get(row.credential);
      if (!c) return t.skip('a credential this fixture does not build (bad or foreign-server credentials)');
      const name = EXISTING[row.pkg] ?? NEW[row.pkg](++n);
      const q = `-/tessera/v1/auth/explain?action=${EXPLAINED[row.action]}&package=${encodeURIComponent(name)}`;
      const asked = await call('GET', q, c.authorization);
      if (asked.status !== 200 && row.status === asked.status) {
        // The credential itself is refused (a password for an account with 2FA): the request says the same.
        const refused = asked.headers.get('x-tessera-reason');
        const res = await perform(row.action, name, c.authorization, c.user);
        assert.equal(res.headers.get('x-tessera-reason'), refused, `explain was refused ${refused}; the request not`);
        assert.equal(refused, row.reason);
        return;
      }
      assert.equal(asked.status, 200, await asked.clone().text());
      const e = (await asked.json()) as Explained;
      const res = await perform(row.action, name, c.authorization, c.user);
      const did = { status: res.status, reason: res.headers.get('x-tessera-reason') };
      const body = (await res.text()).slice(0, 300);
      if (!e.allowed) {
        assert.equal(did.reason, e.reason, `explain said ${e.reason}; the request answered ${did.status}: ${body}`);
      } else if (e.otp && row.action.endsWith('without code')) {
        assert.equal(
          did.reason,
          'otp-required',
          `explain asked for a one-time password; the request answered ${did.status}: ${body}`,
        );
      } else {
        assert.ok(
          did.status < 300,
          `explain allowed it (otp: ${e.otp}); the request answered ${did.status} ${did.reason}: ${body}`,
        );
      }
    });
  }
});
