// One answer for "private" and "absent": for every caller who may not read a private package, every
// endpoint answers exactly as it does for a name that was never published — status, reason, headers and
// body (with the name swapped for a placeholder). Each hidden package has an absent twin of the same
// length, so even Content-Length must match. The one documented exception, a publish by a caller who could
// create the name, is asserted on its own (docs/authorization.md, "The order of checks").
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { createOrg, setMember } from '../../src/services/orgs.ts';
import { userByName } from '../../src/services/accounts.ts';
import type { Grants, Principal } from '../../src/domain/principal.ts';
import { grants as granular } from '../helpers/grants.ts';

/** Hidden package → its absent twin (same length, same scope). */
const PAIRS: [string, string][] = [
  ['@acme/secret', '@acme/sacret'],
  ['@alice/secret', '@alice/sacret'],
  ['@free/secret', '@free/sacret'],
];
const ACTIONS = [
  'read',
  'publish',
  'unpublish',
  'dist-tag',
  'deprecate',
  'owner',
  'star',
  'access',
  'trust',
  'stage',
  'stage-view',
  'stage-review',
];

const esc = (name: string) => name.replace('/', '%2f');
const base = (name: string) => name.split('/')[1];
const grants = (g: Partial<Grants>): Grants => granular({ packages: ['@alice/other'], ...g });

type Req = { method: string; path: string; body?: unknown };
type Answer = { status: number; reason: string | null; headers: Record<string, string>; body: string };

/** Every endpoint that names a package, as npm (or the doctor) sends it. `stageId` is a staged version of `name`, if any. */
function requests(name: string, stageId: string): [string, Req][] {
  const e = esc(name);
  const doc = { _id: name, name };
  const list: [string, Req][] = [
    ['packument', { method: 'GET', path: `/${e}` }],
    ['packument for write', { method: 'GET', path: `/${e}?write=true` }],
    ['version', { method: 'GET', path: `/${e}/1.0.0` }],
    ['dist-tag as version', { method: 'GET', path: `/${e}/latest` }],
    ['tarball', { method: 'GET', path: `/${name}/-/${base(name)}-1.0.0.tgz` }],
    ['HEAD packument', { method: 'HEAD', path: `/${e}` }],
    ['PUT with no versions', { method: 'PUT', path: `/${e}`, body: { ...doc, versions: {} } }],
    ['PUT at a revision', { method: 'PUT', path: `/${e}/-rev/7-abc`, body: { ...doc, _rev: '7-abc', versions: {} } }],
    [
      'PUT unknown versions',
      { method: 'PUT', path: `/${e}`, body: { ...doc, versions: { '9.9.9': { name, version: '9.9.9' } } } },
    ],
    ['star', { method: 'PUT', path: `/${e}`, body: { ...doc, users: { someone: true } } }],
    [
      'owner add',
      {
        method: 'PUT',
        path: `/${e}/-rev/1-x`,
        body: { ...doc, _rev: '1-x', maintainers: [{ name: 'alice', email: 'x' }] },
      },
    ],
    ['unpublish all', { method: 'DELETE', path: `/${e}/-rev/1-x` }],
    ['delete tarball', { method: 'DELETE', path: `/${name}/-/${base(name)}-1.0.0.tgz/-rev/1-x` }],
    ['dist-tag ls', { method: 'GET', path: `/-/package/${e}/dist-tags` }],
    ['dist-tag add', { method: 'PUT', path: `/-/package/${e}/dist-tags/beta`, body: '1.0.0' }],
    ['dist-tag rm', { method: 'DELETE', path: `/-/package/${e}/dist-tags/beta` }],
    ['collaborators', { method: 'GET', path: `/-/package/${e}/collaborators` }],
    ['visibility', { method: 'GET', path: `/-/package/${e}/visibility` }],
    ['access set', { method: 'POST', path: `/-/package/${e}/access`, body: { access: 'public' } }],
    ['trust list', { method: 'GET', path: `/-/package/${e}/trust` }],
    [
      'trust add',
      {
        method: 'POST',
        path: `/-/package/${e}/trust`,
        body: {
          type: 'github',
          claims: { repository: 'acme/x', workflow_ref: { file: 'release.yml' } },
          permissions: ['createPackage'],
        },
      },
    ],
    ['trust revoke', { method: 'DELETE', path: `/-/package/${e}/trust/${randomUUID()}` }],
    ['attestations', { method: 'GET', path: `/-/npm/v1/attestations/${name}@1.0.0` }],
    ['stage publish', { method: 'POST', path: `/-/stage/package/${e}`, body: 'STAGE' }],
    ['stage list', { method: 'GET', path: `/-/stage?package=${e}` }],
    ['stage view', { method: 'GET', path: `/-/stage/${stageId}` }],
    ['stage download', { method: 'GET', path: `/-/stage/${stageId}/tarball` }],
    ['stage approve', { method: 'POST', path: `/-/stage/${stageId}/approve` }],
    ['stage reject', { method: 'DELETE', path: `/-/stage/${stageId}` }],
    ['search', { method: 'GET', path: `/-/v1/search?text=${encodeURIComponent(name)}` }],
  ];
  for (const a of ACTIONS)
    list.push([`auth/explain ${a}`, { method: 'GET', path: `/-/tessera/v1/auth/explain?action=${a}&package=${e}` }]);
  return list;
}

describe('a private package the caller may not read answers exactly like a missing one', () => {
  let s: TestServer;
  const creds: Record<string, string | null> = {};
  const stageIds: Record<string, string> = {};
  const stageBodies: Record<string, unknown> = {};

  async function send(r: Req, auth: string | null, name: string): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) headers.authorization = auth;
    let body: string | undefined;
    if (r.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(r.body === 'STAGE' ? stageBodies[name] : r.body);
    }
    const res = await fetch(new URL(r.path.slice(1), s.url), { method: r.method, headers, body });
    const text = await res.text();
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k !== 'date') out[k] = v;
    });
    return { status: res.status, reason: res.headers.get('x-tessera-reason'), headers: out, body: text };
  }

  /** The answer with the package's name, in every spelling, replaced by a placeholder. */
  function neutral(a: Answer, name: string): Answer {
    const swap = (t: string) =>
      t.split(esc(name)).join('<pkg>').split(name).join('<pkg>').split(base(name)).join('<base>');
    return {
      ...a,
      headers: Object.fromEntries(Object.entries(a.headers).map(([k, v]) => [k, swap(v)])),
      body: swap(a.body),
    };
  }

  before(async () => {
    s = await startServer({ defaultScopedAccess: 'restricted' });
    for (const u of ['alice', 'bob', 'dan', 'nora']) await s.addUser(u);
    await createOrg(s.ctx, 'acme', 'alice');
    const alice = (await userByName(s.ctx, 'alice'))!;
    const asAlice = { user: { ...alice, tfa: null }, credential: { type: 'password' } } as unknown as Principal;
    await setMember(s.ctx, asAlice, 'acme', 'dan', 'developer');
    const aliceSession = await s.token({ user: 'alice' });
    for (const [hidden, absent] of PAIRS) {
      const put = await fetch(new URL(esc(hidden), s.url), {
        method: 'PUT',
        headers: { authorization: `Bearer ${aliceSession}`, 'content-type': 'application/json' },
        body: JSON.stringify(await publishBody(hidden, '1.0.0')),
      });
      assert.equal(put.status, 201, `alice publishes ${hidden}`);
      const staged = await fetch(new URL(`-/stage/package/${esc(hidden)}`, s.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${aliceSession}`, 'content-type': 'application/json' },
        body: JSON.stringify(await publishBody(hidden, '1.1.0')),
      });
      assert.equal(staged.status, 201, `alice stages ${hidden}@1.1.0`);
      stageIds[hidden] = ((await staged.json()) as { stageId: string }).stageId;
      stageIds[absent] = randomUUID();
      // The same version and bytes for both: the stage body differs only by the name.
      stageBodies[hidden] = await publishBody(hidden, '1.2.0');
      stageBodies[absent] = await publishBody(absent, '1.2.0');
      const star = await fetch(new URL(esc(hidden), s.url), {
        method: 'PUT',
        headers: { authorization: `Bearer ${aliceSession}`, 'content-type': 'application/json' },
        body: JSON.stringify({ _id: hidden, users: { alice: true } }),
      });
      assert.equal(star.status, 201, `alice stars ${hidden}`);
    }
    creds.anonymous = null;
    creds["bob's session"] = `Bearer ${await s.token({ user: 'bob' })}`;
    creds["bob's password"] = `Basic ${Buffer.from('bob:bob-password').toString('base64')}`;
    creds["bob's granular token for all packages"] =
      `Bearer ${await s.token({ user: 'bob', kind: 'granular', grants: grants({ packagesAll: true, packages: [] }) })}`;
    creds["dan's session (acme developer, no grant)"] = `Bearer ${await s.token({ user: 'dan' })}`;
    creds["nora's session (not in acme)"] = `Bearer ${await s.token({ user: 'nora' })}`;
    creds["alice's token for @alice/other"] =
      `Bearer ${await s.token({ user: 'alice', kind: 'granular', grants: grants({}) })}`;
    creds["alice's read-only token for @alice/other"] =
      `Bearer ${await s.token({ user: 'alice', kind: 'granular', grants: grants({ permission: 'read-only' }) })}`;
    creds["alice's stage-only token for @alice/other"] =
      `Bearer ${await s.token({ user: 'alice', kind: 'granular', grants: grants({ permission: 'read-write-stage-only' }) })}`;
    creds["alice's bypass-2FA token for @alice/other"] =
      `Bearer ${await s.token({ user: 'alice', kind: 'granular', grants: grants({}), bypass2fa: true })}`;
    creds["alice's org-only token"] =
      `Bearer ${await s.token({ user: 'alice', kind: 'granular', grants: grants({ packages: [], permission: 'no-access', orgs: ['acme'], orgsPermission: 'read-write' }) })}`;
  });
  after(() => s?.close());

  /** Who could create the absent twin by publishing it: for them, and only for publishing, the answers differ. */
  const mayCreate: Record<string, string[]> = {
    '@acme/secret': ["dan's session (acme developer, no grant)"],
    '@alice/secret': [],
    '@free/secret': [
      "bob's session",
      "bob's password",
      "bob's granular token for all packages",
      "dan's session (acme developer, no grant)",
      "nora's session (not in acme)",
    ],
  };

  for (const credential of [
    'anonymous',
    "bob's session",
    "bob's password",
    "bob's granular token for all packages",
    "dan's session (acme developer, no grant)",
    "nora's session (not in acme)",
    "alice's token for @alice/other",
    "alice's read-only token for @alice/other",
    "alice's stage-only token for @alice/other",
    "alice's bypass-2FA token for @alice/other",
    "alice's org-only token",
  ]) {
    // Basic authentication hashes the password on every request: one pair is enough for it.
    for (const [hidden, absent] of credential === "bob's password" ? PAIRS.slice(1, 2) : PAIRS) {
      test(`${credential}: ${hidden} answers as ${absent} does, on every endpoint`, async () => {
        const auth = creds[credential];
        const first = await send({ method: 'GET', path: `/${esc(hidden)}` }, auth, hidden);
        assert.equal(first.status, 404, `${credential} cannot read ${hidden}`);
        const pairs = requests(hidden, stageIds[hidden]).map(
          ([what, r], i) => [what, r, requests(absent, stageIds[absent])[i][1]] as const,
        );
        const creates = mayCreate[hidden].includes(credential);
        for (const [what, onHidden, onAbsent] of pairs) {
          const h = neutral(await send(onHidden, auth, hidden), hidden);
          if (creates && what === 'auth/explain publish') {
            // Explain tells what the publish would do: the documented exception below.
            assert.equal((JSON.parse(h.body) as { reason: string }).reason, 'not-found');
            continue;
          }
          const a = neutral(await send(onAbsent, auth, absent), absent);
          assert.deepEqual(h, a, `${what}: ${onHidden.method} ${onHidden.path} differs from the missing name's answer`);
        }
        // The one documented difference: publishing. A caller who may not create the twin is refused alike.
        const pub = async (name: string, version: string) =>
          send({ method: 'PUT', path: `/${esc(name)}`, body: await publishBody(name, version) }, auth, name);
        const h = await pub(hidden, '2.0.0');
        if (creates) {
          assert.deepEqual([h.status, h.reason], [404, 'not-found'], 'a publish over a hidden package is a plain 404');
        } else {
          assert.deepEqual(neutral(h, hidden), neutral(await pub(absent, '2.0.0'), absent), 'publish differs');
          assert.ok(h.status >= 400, 'the publish was refused');
        }
      });
    }
  }

  test('listings leave hidden packages out: search, user, org and team packages, stars', async () => {
    for (const credential of [
      "bob's session",
      "dan's session (acme developer, no grant)",
      "alice's token for @alice/other",
    ]) {
      const auth = creds[credential];
      const get = async (path: string) => {
        const r = await send({ method: 'GET', path }, auth, '');
        return { status: r.status, body: r.body };
      };
      const search = await get('/-/v1/search?text=secret');
      assert.equal(search.status, 200);
      assert.deepEqual(
        (JSON.parse(search.body) as { objects: unknown[] }).objects,
        [],
        `${credential}: search finds nothing`,
      );
      const user = await get('/-/user/alice/package');
      assert.equal(user.status, 200);
      assert.deepEqual(JSON.parse(user.body), {}, `${credential}: alice's package list shows nothing hidden`);
      const stars = await get('/-/_view/starredByUser?key=%22alice%22');
      assert.deepEqual(
        (JSON.parse(stars.body) as { rows: unknown[] }).rows,
        [],
        `${credential}: alice's stars show nothing hidden`,
      );
    }
    // dan may look at acme (a member), but its package lists leave out what he cannot read.
    const dan = creds["dan's session (acme developer, no grant)"];
    const org = creds["alice's org-only token"]!;
    const post = (path: string, method: string, body: unknown) =>
      fetch(new URL(path.slice(1), s.url), {
        method,
        headers: { authorization: org, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await post('/-/org/acme/team', 'PUT', { name: 'writers' })).status, 201);
    assert.equal(
      (await post('/-/team/acme/writers/package', 'PUT', { package: '@acme/secret', permissions: 'read-write' }))
        .status,
      201,
    );
    for (const path of ['/-/org/acme/package', '/-/team/acme/writers/package']) {
      const r = await send({ method: 'GET', path }, dan, '');
      assert.equal(r.status, 200, path);
      assert.ok(!r.body.includes('secret'), `${path} shows dan nothing he cannot read: ${r.body}`);
    }
    // alice herself, with a session, still sees everything she maintains.
    const own = await send(
      { method: 'GET', path: '/-/user/alice/package' },
      `Bearer ${await s.token({ user: 'alice' })}`,
      '',
    );
    assert.deepEqual(Object.keys(JSON.parse(own.body) as object).sort(), PAIRS.map(([h]) => h).sort());
  });

  test('a caller who may create a name learns by publishing that a hidden one is taken (the documented exception)', async () => {
    const nora = creds["nora's session (not in acme)"];
    const fresh = await send(
      { method: 'PUT', path: `/${esc('@free/fresh')}`, body: await publishBody('@free/fresh', '1.0.0') },
      nora,
      '@free/fresh',
    );
    assert.equal(fresh.status, 201, 'a free name is created');
    const taken = await send(
      { method: 'PUT', path: `/${esc('@free/secret')}`, body: await publishBody('@free/secret', '3.0.0') },
      nora,
      '@free/secret',
    );
    assert.deepEqual([taken.status, taken.reason], [404, 'not-found']);
  });
});
