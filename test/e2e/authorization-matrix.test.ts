// The authorization matrix: every row of the tables in docs/authorization.md (credential × action ×
// package → status, reason, notice, and credential × org action for the organization acme, whose
// fixture is in ../helpers/matrix-orgs.ts) asserted over HTTP against a real server. The document is the source
// of truth: its expectations come from the documented rules, so a row that fails is either a bug in the
// server or a rule to settle, never something to "re-record" here.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody, escaped } from '../helpers/publish-body.ts';
import { defaults } from '../../src/config/config.ts';
import { adminRevoke } from '../../src/services/tokens.ts';
import { generateToken } from '../../src/domain/tokens.ts';
import { codeAt } from '../../src/domain/totp.ts';
import { enable2fa } from '../helpers/two-factor.ts';
import type { Grants } from '../../src/domain/principal.ts';
import { grants } from '../helpers/grants.ts';
import { assertAnswers, EXISTING, readMatrix, rowRequest } from '../helpers/matrix-table.ts';
import {
  ORG_ACTIONS,
  isOrgAction,
  needsNewcomer,
  buildOrgFixture,
  performOrg,
  NON_MEMBER,
} from '../helpers/matrix-orgs.ts';

const DAY = 86_400_000;

// --- the packages of the fixture, all maintained by alice -------------------------------------------
// EXISTING (matrix-table.ts): `@acme/secret` and `@acme/open` belong to the organization acme (matrix-orgs.ts).
const NEW: Record<string, (n: number) => string> = {
  'new inside': (n) => `@acme/new-${n}`,
  'new outside': (n) => `@other/new-${n}`,
  'new in @alice': (n) => `@alice/new-${n}`,
};
/** What the limited granular tokens cover: `acme-cli` by name, everything in `@acme` by scope. */
const LIMITED = { packages: ['acme-cli'], scopes: ['@acme'] };

/** `npm stage …`: each row stages a version of its own first (as alice's session), except `stage publish`, which stages it. */
const STAGE_ACTIONS = [
  'stage publish',
  'stage list',
  'stage approve',
  'stage approve without code',
  'stage reject',
  'stage reject without code',
] as const;
const ACTIONS = [
  'read',
  'publish new',
  'publish existing',
  'unpublish',
  'dist-tag add',
  'deprecate',
  'owner add',
  'star',
  'token create',
  ...STAGE_ACTIONS,
  ...ORG_ACTIONS,
] as const;
type ActionName = (typeof ACTIONS)[number];
/** Actions about no package: the account's own (token create) and the organization acme's. */
const noPackage = (action: string) => action === 'token create' || isOrgAction(action);

const CREDENTIALS = [
  'anonymous',
  'session',
  'password',
  'classic read-only',
  'classic automation',
  'classic publish',
  'granular read-write',
  'granular read-only',
  'granular all packages',
  'granular org-only',
  'granular stage-only',
  'granular bypass-2FA',
  "bob's session",
  "admin's session",
  'expired session',
  'revoked token',
  'wrong CIDR',
  'unknown token',
  'truncated token',
  'wrong password',
  'classic read-only (mode off)',
  'classic automation (mode off)',
  'classic publish (mode off)',
  // the organization acme (docs/authorization.md, "The organization")
  "org owner's session",
  "org admin's session",
  "team writer's session",
  "team reader's session",
  "org developer's session",
  "non-member's session",
  'granular org-only read-only',
  'granular org-only bypass-2FA',
  'granular org-only globex',
] as const;
type CredentialName = (typeof CREDENTIALS)[number];

// --- the table (parsed by ../helpers/matrix-table.ts) -----------------------------------------------
const { rows, problems } = readMatrix((row, where, problems) => {
  const { credential, action, pkg } = row;
  if (!(CREDENTIALS as readonly string[]).includes(credential))
    problems.push(`${where}: unknown credential "${credential}"`);
  if (!(ACTIONS as readonly string[]).includes(action)) problems.push(`${where}: unknown action "${action}"`);
  const pkgOk = noPackage(action)
    ? pkg === '-'
    : action === 'publish new'
      ? pkg in NEW
      : action === 'stage publish'
        ? pkg in NEW || pkg in EXISTING
        : pkg in EXISTING;
  if (!pkgOk) problems.push(`${where}: package "${pkg}" does not fit action "${action}"`);
});

// --- talking to the servers -------------------------------------------------------------------------
type Cred = { server: 'main' | 'off'; authorization: string | null; user: string };
type Doc = Record<string, unknown> & {
  _id: string;
  _rev: string;
  versions: Record<string, Record<string, unknown>>;
  maintainers: { name: string; email: string }[];
};

/** A one-file npm tarball (`package/package.json`) built in memory: hundreds of publishes stay fast. */
function tarball(name: string, version: string): Buffer {
  const body = Buffer.from(JSON.stringify({ name, version }));
  const header = Buffer.alloc(512);
  const field = (text: string, offset: number, length: number) => header.write(text, offset, length, 'latin1');
  field('package/package.json', 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  field('        ', 148, 8);
  field('0', 156, 1);
  field('ustar\0' + '00', 257, 8);
  let sum = 0;
  for (const b of header) sum += b;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return gzipSync(Buffer.concat([header, body, pad, Buffer.alloc(1024)]));
}
const publish = (name: string, version: string, opts: { access?: string | null; tag?: string } = {}) =>
  publishBody(name, version, { ...opts, tarball: tarball(name, version) });

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authorization matrix (docs/authorization.md)', () => {
  let main: TestServer;
  let off: TestServer;
  const owner: Record<'main' | 'off', string> = { main: '', off: '' };
  const inspector: Record<'main' | 'off', string> = { main: '', off: '' };
  const sessionOf: Record<'main' | 'off', Record<string, string>> = { main: {}, off: {} };
  const creds = new Map<CredentialName, Cred>();
  let n = 0; // makes every new name, version, tag and message unique
  let newcomers: string[] = []; // users of their own for the org rows that add or remove a member
  // alice has 2FA (auth-only) on the main server: approving and rejecting staged versions need it, and
  // auth-only asks for codes only for account actions (token create), never for package or org writes.
  let aliceSecret = '';
  let codeSpent = true;
  /** A code from alice's authenticator. Codes work once: the clock moves to the next 30-second step once one was spent. */
  function aliceCode(): string {
    if (codeSpent) main.clock.advance(30_000);
    codeSpent = false;
    return codeAt(aliceSecret, main.clock.now());
  }
  /** Sends a row's request carrying a fresh code of alice's; a 2xx answer has spent it. */
  async function withCode(c: Cred, method: string, path: string, body?: unknown): Promise<Response> {
    const res = await call(c, method, path, c.authorization, body, aliceCode());
    if (res.status < 300) codeSpent = true;
    return res;
  }
  /** alice's session stages a version for a row to act on; returns its stage id. */
  async function stageForRow(where: 'main' | 'off', name: string, version: string): Promise<string> {
    const res = await setup(where, 'POST', `-/stage/package/${escaped(name)}`, await publish(name, version));
    return ((await res.json()) as { stageId: string }).stageId;
  }

  const server = (c: Cred | 'main' | 'off') => ((typeof c === 'string' ? c : c.server) === 'main' ? main : off);

  function call(
    c: Cred | 'main' | 'off',
    method: string,
    path: string,
    authorization: string | null,
    body?: unknown,
    otp?: string,
  ): Promise<Response> {
    return rowRequest(server(c).url, method, path, authorization, body, otp);
  }

  /** A step done as alice's session to set a row up: it must succeed, or the row would test nothing. */
  async function setup(where: 'main' | 'off', method: string, path: string, body?: unknown): Promise<Response> {
    const res = await call(where, method, path, owner[where], body);
    if (res.status >= 300) throw new Error(`setup ${method} /${path} failed: ${res.status} ${await res.text()}`);
    return res;
  }
  async function writeDoc(where: 'main' | 'off', name: string): Promise<Doc> {
    return (await (await setup(where, 'GET', `${escaped(name)}?write=true`)).json()) as Doc;
  }

  /** The package as an administrator sees it, to check what a row changed; null when it does not exist. */
  async function inspect(where: 'main' | 'off', name: string): Promise<Doc | null> {
    const res = await call(where, 'GET', `${escaped(name)}?write=true`, inspector[where]);
    if (res.status === 404) return null;
    assert.equal(res.status, 200, `inspecting ${name}`);
    return (await res.json()) as Doc;
  }

  /**
   * Performs one row's action with the row's credential. Returns the credential's response, and a check
   * that tells whether the action took effect (undefined for reads and token creation, whose 2xx is the effect).
   */
  async function perform(
    c: Cred,
    action: ActionName,
    pkg: string,
  ): Promise<{ res: Response; done?: () => Promise<boolean> }> {
    const id = ++n;
    const auth = c.authorization;
    const name = EXISTING[pkg];
    const path = name ? escaped(name) : '';
    if (isOrgAction(action)) {
      return performOrg(
        {
          send: (method, p, body) => call(c, method, p, auth, body),
          setup: (method, p, body) => setup(c.server, method, p, body),
        },
        action,
        id,
        () => {
          const u = newcomers.shift();
          if (!u) throw new Error('no newcomer left: the fixture creates one per row that needs one');
          return u;
        },
      );
    }
    const after =
      (test: (d: Doc) => boolean, which = name) =>
      async () => {
        const d = await inspect(c.server, which);
        return d !== null && test(d);
      };
    const twoFactor = c.server === 'main' && c.user === 'alice';
    switch (action) {
      case 'stage publish': {
        const target = name ?? NEW[pkg](id);
        const v = `1.4.${id}`;
        return {
          res: await call(c, 'POST', `-/stage/package/${escaped(target)}`, auth, await publish(target, v)),
          done: async () => {
            const res = await call(c.server, 'GET', `-/stage?package=${encodeURIComponent(target)}`, owner[c.server]);
            return ((await res.json()) as { items: { version: string }[] }).items.some((i) => i.version === v);
          },
        };
      }
      case 'stage list': {
        const stageId = await stageForRow(c.server, name, `1.3.${id}`);
        const res = await call(c, 'GET', `-/stage?package=${encodeURIComponent(name)}`, auth);
        const listed =
          res.status === 200 &&
          ((await res.clone().json()) as { items: { id: string }[] }).items.some((i) => i.id === stageId);
        return { res, done: async () => listed };
      }
      case 'stage approve':
      case 'stage approve without code':
      case 'stage reject':
      case 'stage reject without code': {
        const v = `1.3.${id}`;
        const stageId = await stageForRow(c.server, name, v);
        const approve = action.startsWith('stage approve');
        const [method, p] = approve ? ['POST', `-/stage/${stageId}/approve`] : ['DELETE', `-/stage/${stageId}`];
        const res = action.endsWith('without code') ? await call(c, method, p, auth) : await withCode(c, method, p);
        return {
          res,
          done: approve
            ? after((d) => v in d.versions)
            : async () => (await call(c.server, 'GET', `-/stage/${stageId}`, owner[c.server])).status === 404,
        };
      }
      case 'read': {
        // Twice: the second read may be answered from memory (src/http/install-reads.ts), and must say the same.
        const first = await call(c, 'GET', path, auth);
        const second = await call(c, 'GET', path, auth);
        const [a, b] = [await first.clone().text(), await second.clone().text()];
        for (const h of [
          'x-tessera-reason',
          'npm-notice',
          'www-authenticate',
          'cache-control',
          'etag',
          'content-type',
        ]) {
          assert.equal(
            second.headers.get(h),
            first.headers.get(h),
            `${c.user} reading ${pkg}: ${h} of the second read`,
          );
        }
        assert.equal(second.status, first.status, `${c.user} reading ${pkg}: status of the second read`);
        assert.equal(b, a, `${c.user} reading ${pkg}: body of the second read`);
        return { res: second };
      }
      case 'publish new': {
        const fresh = NEW[pkg](id);
        return {
          res: await call(c, 'PUT', escaped(fresh), auth, await publish(fresh, '1.0.0')),
          done: after((d) => '1.0.0' in d.versions, fresh),
        };
      }
      case 'publish existing': {
        const v = `1.1.${id}`;
        return { res: await call(c, 'PUT', path, auth, await publish(name, v)), done: after((d) => v in d.versions) };
      }
      case 'unpublish': {
        // As npm does: publish a throwaway version (as the owner), then PUT the document without it.
        const v = `1.2.${id}`;
        await setup(c.server, 'PUT', path, await publish(name, v, { tag: 'scratch' }));
        const doc = await writeDoc(c.server, name);
        delete doc.versions[v];
        delete (doc.time as Record<string, string> | undefined)?.[v];
        const tags = doc['dist-tags'] as Record<string, string>;
        for (const t of Object.keys(tags)) if (tags[t] === v) delete tags[t];
        return {
          res: await call(c, 'PUT', `${path}/-rev/${doc._rev}`, auth, doc),
          done: after((d) => !(v in d.versions)),
        };
      }
      case 'dist-tag add':
        return {
          res: await call(c, 'PUT', `-/package/${path}/dist-tags/t${id}`, auth, '1.0.0'),
          done: after((d) => (d['dist-tags'] as Record<string, string>)[`t${id}`] === '1.0.0'),
        };
      case 'deprecate': {
        const doc = await writeDoc(c.server, name);
        const message = `deprecated by matrix row ${id}`;
        doc.versions['1.0.0'].deprecated = message;
        return {
          res: await call(c, 'PUT', path, auth, doc),
          done: after((d) => d.versions['1.0.0'].deprecated === message),
        };
      }
      case 'owner add': {
        // Start each time without dave, so that every row really adds him.
        let doc = await writeDoc(c.server, name);
        if (doc.maintainers.some((m) => m.name === 'dave')) {
          await setup(c.server, 'PUT', `${path}/-rev/${doc._rev}`, {
            _id: doc._id,
            _rev: doc._rev,
            maintainers: doc.maintainers.filter((m) => m.name !== 'dave'),
          });
          doc = await writeDoc(c.server, name);
        }
        const maintainers = [...doc.maintainers, { name: 'dave', email: 'dave@example.com' }];
        return {
          res: await call(c, 'PUT', `${path}/-rev/${doc._rev}`, auth, { _id: doc._id, _rev: doc._rev, maintainers }),
          done: after((d) => d.maintainers.some((m) => m.name === 'dave')),
        };
      }
      case 'star': {
        // Start each time without the user's star: the user's own session takes it back (a 404 means they cannot see it).
        let doc = await writeDoc(c.server, name);
        if ((doc.users as Record<string, boolean>)[c.user]) {
          await call(c.server, 'PUT', path, sessionOf[c.server][c.user], { _id: doc._id, _rev: doc._rev, users: {} });
          doc = await writeDoc(c.server, name);
        }
        return {
          res: await call(c, 'PUT', path, auth, {
            _id: doc._id,
            _rev: doc._rev,
            users: { ...(doc.users as object), [c.user]: true },
          }),
          done: after((d) => (d.users as Record<string, boolean>)[c.user] === true),
        };
      }
      case 'token create': {
        // As npm does for a user with 2FA: the request carries a one-time password.
        const body = {
          password: `${c.user}-password`,
          name: `matrix-${id}`,
          packages: ['acme-cli'],
          packages_and_scopes_permission: 'read-only',
        };
        return {
          res: twoFactor
            ? await withCode(c, 'POST', '-/npm/v1/tokens', body)
            : await call(c, 'POST', '-/npm/v1/tokens', auth, body),
        };
      }
    }
  }

  /** alice publishes the packages of the fixture, each at 1.0.0. */
  async function publishFixture(where: 'main' | 'off'): Promise<void> {
    for (const [key, name] of Object.entries(EXISTING)) {
      const access = key.startsWith('private') ? 'restricted' : name.startsWith('@') ? 'public' : null;
      await setup(where, 'PUT', escaped(name), await publish(name, '1.0.0', { access }));
    }
  }

  before(async () => {
    [main, off] = await Promise.all([startServer({ tokens: { ...defaults.tokens, classic: true } }), startServer()]);
    await Promise.all([
      main.addUser('alice'),
      main.addUser('bob'),
      main.addUser('carol', { admin: true }),
      main.addUser('dave'),
      off.addUser('alice'),
      off.addUser('carol', { admin: true }),
    ]);
    owner.main = `Bearer ${await main.token({ user: 'alice' })}`;
    owner.off = `Bearer ${await off.token({ user: 'alice' })}`;
    // alice turns on 2FA (auth-only) on the main server, as `npm profile enable-2fa auth-only` does.
    await enable2fa(main.url, owner.main, {
      mode: 'auth-only',
      password: 'alice-password',
      code: (secret) => {
        aliceSecret = secret;
        return aliceCode();
      },
    });
    codeSpent = true;
    inspector.main = `Bearer ${await main.token({ user: 'carol' })}`;
    inspector.off = `Bearer ${await off.token({ user: 'carol' })}`;
    sessionOf.main = { alice: owner.main, bob: `Bearer ${await main.token({ user: 'bob' })}`, carol: inspector.main };
    sessionOf.off = { alice: owner.off };
    await Promise.all([publishFixture('main'), publishFixture('off')]);
    // The organization acme, on the main server only: its roles, teams and grants on its two packages.
    newcomers = await buildOrgFixture(
      main,
      (method, path, body) => setup('main', method, path, body),
      [EXISTING['private inside'], EXISTING['public in @acme']],
      rows.filter((r) => needsNewcomer(r.action)).length,
    );

    const bearer = async (server: 'main' | 'off', spec: Parameters<TestServer['token']>[0]): Promise<Cred> => ({
      server,
      authorization: `Bearer ${await (server === 'main' ? main : off).token(spec)}`,
      user: spec.user,
    });
    const alice = { user: 'alice' };
    const week = 7 * DAY;
    const set = (k: CredentialName, c: Cred) => creds.set(k, c);
    set('anonymous', { server: 'main', authorization: null, user: 'alice' });
    set('session', await bearer('main', { ...alice, kind: 'session' }));
    set('password', { server: 'main', authorization: basic('alice', 'alice-password'), user: 'alice' });
    set(
      'classic read-only',
      await bearer('main', { ...alice, kind: 'classic-readonly', readonly: true, expiresInMs: null }),
    );
    set('classic automation', await bearer('main', { ...alice, kind: 'classic-automation', expiresInMs: null }));
    set('classic publish', await bearer('main', { ...alice, kind: 'classic-publish', expiresInMs: null }));
    set(
      'granular read-write',
      await bearer('main', { ...alice, kind: 'granular', grants: grants(LIMITED), expiresInMs: week }),
    );
    set(
      'granular read-only',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        readonly: true,
        grants: grants({ ...LIMITED, permission: 'read-only' }),
        expiresInMs: 30 * DAY,
      }),
    );
    set(
      'granular all packages',
      await bearer('main', { ...alice, kind: 'granular', grants: grants({ packagesAll: true }), expiresInMs: week }),
    );
    set(
      'granular org-only',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        grants: grants({ permission: 'no-access', orgs: ['acme'], orgsPermission: 'read-write' }),
        expiresInMs: week,
      }),
    );
    set(
      'granular stage-only',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        grants: grants({ ...LIMITED, permission: 'read-write-stage-only' }),
        expiresInMs: week,
      }),
    );
    set(
      'granular bypass-2FA',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        grants: grants({ packagesAll: true }),
        bypass2fa: true,
        expiresInMs: week,
      }),
    );
    set("bob's session", await bearer('main', { user: 'bob', kind: 'session' }));
    set("admin's session", await bearer('main', { user: 'carol', kind: 'session' }));
    set(
      'wrong CIDR',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        grants: grants({ packagesAll: true }),
        cidr: ['10.0.0.0/8'],
        expiresInMs: week,
      }),
    );
    set('unknown token', { server: 'main', authorization: `Bearer ${generateToken()}`, user: 'alice' });
    set('truncated token', {
      ...creds.get('session')!,
      authorization: creds.get('session')!.authorization!.slice(0, -1),
    });
    set('wrong password', { server: 'main', authorization: basic('alice', 'not-alices-password'), user: 'alice' });
    set(
      'classic read-only (mode off)',
      await bearer('off', { ...alice, kind: 'classic-readonly', readonly: true, expiresInMs: null }),
    );
    set(
      'classic automation (mode off)',
      await bearer('off', { ...alice, kind: 'classic-automation', expiresInMs: null }),
    );
    set('classic publish (mode off)', await bearer('off', { ...alice, kind: 'classic-publish', expiresInMs: null }));
    const sessionFor = (user: string) => bearer('main', { user, kind: 'session' });
    set("org owner's session", await sessionFor('olivia'));
    set("org admin's session", await sessionFor('adam'));
    set("team writer's session", await sessionFor('walter'));
    set("team reader's session", await sessionFor('rita'));
    set("org developer's session", await sessionFor('dan'));
    set("non-member's session", await sessionFor(NON_MEMBER));
    const orgOnly = (orgs: string[], orgsPermission: Grants['orgsPermission']) =>
      grants({ permission: 'no-access', orgs, orgsPermission });
    set(
      'granular org-only read-only',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        readonly: true,
        grants: orgOnly(['acme'], 'read-only'),
        expiresInMs: week,
      }),
    );
    set(
      'granular org-only bypass-2FA',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        grants: orgOnly(['acme'], 'read-write'),
        bypass2fa: true,
        expiresInMs: week,
      }),
    );
    set(
      'granular org-only globex',
      await bearer('main', {
        ...alice,
        kind: 'granular',
        grants: orgOnly(['globex'], 'read-write'),
        expiresInMs: week,
      }),
    );

    // Expired: a session that lived one second, then the server's clock moves on.
    set('expired session', await bearer('main', { ...alice, kind: 'session', expiresInMs: 1_000 }));
    main.clock.advance(5_000);

    // Revoked: used once (so it sits in the server's token cache), then revoked by an administrator.
    const revoked = await bearer('main', {
      ...alice,
      kind: 'granular',
      grants: grants({ packagesAll: true }),
      expiresInMs: week,
    });
    assert.equal((await call('main', 'GET', '-/whoami', revoked.authorization)).status, 200);
    await adminRevoke(main.ctx, revoked.authorization!.slice('Bearer '.length));
    const until = Date.now() + 3_000;
    while ((await call('main', 'GET', '-/whoami', revoked.authorization)).status === 200) {
      if (Date.now() > until) throw new Error('the revocation never reached the token cache');
      await new Promise((r) => setTimeout(r, 50));
    }
    set('revoked token', revoked);
  });
  after(async () => {
    await Promise.all([main?.close(), off?.close()]);
  });

  test(`the table is well-formed and has at least 200 rows (${rows.length})`, () => {
    assert.deepEqual(problems, []);
    assert.ok(rows.length >= 200, `only ${rows.length} rows`);
    // Ten failed password checks for one user within a minute throttle the next: keep below that.
    assert.ok(rows.filter((r) => r.credential === 'wrong password').length <= 9, 'at most 9 "wrong password" rows');
  });

  for (const row of rows) {
    const valid =
      (CREDENTIALS as readonly string[]).includes(row.credential) &&
      (ACTIONS as readonly string[]).includes(row.action) &&
      (noPackage(row.action) || row.pkg in EXISTING || row.pkg in NEW);
    if (!valid) continue;
    const title = `${row.credential} | ${row.action} | ${row.pkg} → ${row.status} ${row.reason}${row.notice ? ' + notice' : ''} (line ${row.line})`;
    test(title, async () => {
      const c = creds.get(row.credential as CredentialName)!;
      const { res, done } = await perform(c, row.action as ActionName, row.pkg);
      await assertAnswers(res, row);
      // An answer of 2xx means the change was made; a refusal means nothing was written.
      if (done) {
        const expected = res.status < 300 && !row.leftOut;
        assert.equal(
          await done(),
          expected,
          row.leftOut
            ? 'the list shows a version it should leave out'
            : expected
              ? row.action === 'stage list'
                ? 'the list leaves out the version staged for the row'
                : 'allowed, but nothing changed'
              : 'refused, but the change was made',
        );
      }
    });
  }
});
