// The second sweep of "private is absent", on what the first ones (private-absent, privacy-sweep) did not
// vary: the credentials a trusted-publishing job, a token limited to another scope and a member of another
// team hold, and every spelling of the name (`%40scope%2Fname`, upper case, a trailing slash, `.json`,
// `?write=true`) on the endpoints beside the packument: dist-tags, collaborators, access, stars, owners,
// attestations, hooks, audits, unpublish and deprecate. Each answer is compared with the one for a name
// never published, of the same length: status, headers (all but Date) and body, the name swapped.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';
import { comparable, type Answer } from '../helpers/comparable.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { createOrg, setMember } from '../../src/services/orgs.ts';
import { disableUser, userByName } from '../../src/services/accounts.ts';
import { defaults } from '../../src/config/config.ts';
import type { Principal } from '../../src/domain/principal.ts';
import { grants } from '../helpers/grants.ts';

/** Hidden package → a name never published, of the same length and scope. */
const PAIRS: [string, string][] = [
  ['@acme/secret', '@acme/sacret'],
  ['@alice/secret', '@alice/sacret'],
];
const HOOK = 'http://127.0.0.1:9/hook';
const ACTIONS = ['read', 'publish', 'unpublish', 'dist-tag', 'deprecate', 'owner', 'star', 'access', 'trust', 'stage'];
const TRUST = {
  type: 'github',
  claims: { repository: 'acme/x', workflow_ref: { file: 'release.yml' } },
  permissions: ['createPackage'],
};
const CREATES = ['publish', 'stage publish', 'explain publish', 'explain stage'];
/** The same version of each name, for a publish or a stage that differs only by the name. */
const PUBLISH: Record<string, unknown> = {};

type Req = { method: string; path: string; body?: unknown };

/** The name as clients and people spell it in a path segment. */
function spellings(name: string): [string, string][] {
  const [scope, base] = name.slice(1).split('/');
  return [
    ['%2f', `@${scope}%2f${base}`],
    ['%40…%2F', `%40${scope}%2F${base}`],
    ['upper case', `@${scope.toUpperCase()}%2F${base.toUpperCase()}`],
  ];
}

function requests(name: string, stageId: string): [string, Req][] {
  const e = name.replace('/', '%2f');
  const out: [string, Req][] = [];
  // `@scope%2fname` is the first sweeps' spelling: the others are what they did not send.
  for (const [how, s] of spellings(name).slice(1)) {
    const doc = { _id: name, name, _rev: '1-x' };
    const add = (what: string, r: Req) => out.push([`${what} (${how})`, r]);
    add('dist-tag ls', { method: 'GET', path: `/-/package/${s}/dist-tags` });
    add('dist-tag ls, trailing slash', { method: 'GET', path: `/-/package/${s}/dist-tags/` });
    add('dist-tag add', { method: 'PUT', path: `/-/package/${s}/dist-tags/beta`, body: '1.0.0' });
    add('dist-tag rm', { method: 'DELETE', path: `/-/package/${s}/dist-tags/latest` });
    add('collaborators', { method: 'GET', path: `/-/package/${s}/collaborators` });
    add('collaborators, .json', { method: 'GET', path: `/-/package/${s}.json/collaborators` });
    add('access get status', { method: 'GET', path: `/-/package/${s}/visibility` });
    add('access set status', { method: 'POST', path: `/-/package/${s}/access`, body: { access: 'public' } });
    add('access set mfa', { method: 'POST', path: `/-/package/${s}/access`, body: { publish_requires_tfa: false } });
    add('star', { method: 'PUT', path: `/-/user/package/${s}/star` });
    add('owner add (pnpm)', { method: 'PUT', path: `/-/package/${s}/owners`, body: { user: 'bob' } });
    add('owner rm (pnpm)', { method: 'DELETE', path: `/-/package/${s}/owners/alice` });
    add('attestations', { method: 'GET', path: `/-/npm/v1/attestations/${s}@1.0.0` });
    add('hook ls', { method: 'GET', path: `/-/npm/v1/hooks?package=${s}` });
    add('explain read', { method: 'GET', path: `/-/tessera/v1/auth/explain?action=read&package=${s}` });
    add('explain dist-tag', { method: 'GET', path: `/-/tessera/v1/auth/explain?action=dist-tag&package=${s}` });
    add('packument for write', { method: 'GET', path: `/${s}?write=true` });
    add('packument, .json', { method: 'GET', path: `/${s}.json` });
    add('unpublish', { method: 'DELETE', path: `/${s}/-rev/1-x` });
    add('unpublish a version', { method: 'DELETE', path: `/${s}/-/${name.split('/')[1]}-1.0.0.tgz/-rev/1-x` });
    add('deprecate', {
      method: 'PUT',
      path: `/${s}/-rev/1-x`,
      body: { ...doc, versions: { '1.0.0': { name, version: '1.0.0', deprecated: 'gone' } } },
    });
    add('owner add', {
      method: 'PUT',
      path: `/${s}/-rev/1-x`,
      body: { ...doc, maintainers: [{ name: 'alice' }, { name: 'bob' }] },
    });
  }
  const out2: [string, Req][] = [
    ['attestations, raw slash', { method: 'GET', path: `/-/npm/v1/attestations/${name}@1.0.0` }],
    ['star (v1)', { method: 'PUT', path: '/-/user/v1/star', body: { package: name } }],
    ['star (v1, upper case)', { method: 'PUT', path: '/-/user/v1/star', body: { package: name.toUpperCase() } }],
    ['hook add', { method: 'POST', path: '/-/npm/v1/hooks/hook', body: { type: 'package', name, endpoint: HOOK } }],
    [
      'hook add, upper case',
      {
        method: 'POST',
        path: '/-/npm/v1/hooks/hook',
        body: { type: 'package', name: name.toUpperCase(), endpoint: HOOK, secret: 's' },
      },
    ],
    [
      'hook add, secret',
      { method: 'POST', path: '/-/npm/v1/hooks/hook', body: { type: 'package', name, endpoint: HOOK, secret: 's' } },
    ],
    ['audit (bulk)', { method: 'POST', path: '/-/npm/v1/security/advisories/bulk', body: { [name]: ['1.0.0'] } }],
    [
      'audit (quick)',
      {
        method: 'POST',
        path: '/-/npm/v1/security/audits/quick',
        body: {
          name: 'app',
          version: '1.0.0',
          requires: { [name]: '^1.0.0' },
          dependencies: { [name]: { version: '1.0.0' } },
        },
      },
    ],
    ['search', { method: 'GET', path: `/-/v1/search?text=${encodeURIComponent(name)}` }],
    ['search, base name', { method: 'GET', path: `/-/v1/search?text=${name.split('/')[1]}` }],
    ['web search', { method: 'GET', path: `/-/web/search?q=${name.split('/')[1]}` }],
    ['web package page, upper case', { method: 'GET', path: `/-/web/package/${name.toUpperCase()}` }],
    // The same request for both names: a listing that shows the hidden package fails the comparison.
    ['org packages', { method: 'GET', path: '/-/org/acme/package' }],
    ['team packages', { method: 'GET', path: '/-/team/acme/writers/package' }],
    ["alice's packages", { method: 'GET', path: '/-/user/alice/package' }],
    ["alice's packages, upper case", { method: 'GET', path: '/-/user/ALICE/package' }],
    ["alice's stars", { method: 'GET', path: '/-/user/alice/stars' }],
    ['search for the scope', { method: 'GET', path: `/-/v1/search?text=${name.split('/')[0]}` }],
    ['search for everything', { method: 'GET', path: '/-/v1/search?text=e&size=1' }],
    ['keys', { method: 'GET', path: '/-/npm/v1/keys' }],
    ['trust list', { method: 'GET', path: `/-/package/${e}/trust` }],
    ['trust add', { method: 'POST', path: `/-/package/${e}/trust`, body: TRUST }],
    ['trust revoke', { method: 'DELETE', path: `/-/package/${e}/trust/${randomUUID()}` }],
    ['OIDC exchange', { method: 'POST', path: `/-/npm/v1/oidc/token/exchange/package/${e}` }],
    ['stage list', { method: 'GET', path: `/-/stage?package=${e}` }],
    ['stage view', { method: 'GET', path: `/-/stage/${stageId}` }],
    ['stage download', { method: 'GET', path: `/-/stage/${stageId}/tarball` }],
    ['stage approve', { method: 'POST', path: `/-/stage/${stageId}/approve` }],
    ['stage reject', { method: 'DELETE', path: `/-/stage/${stageId}` }],
    ['every staged version', { method: 'GET', path: '/-/stage' }],
    ['publish', { method: 'PUT', path: `/${e}`, body: PUBLISH[name] }],
    ['stage publish', { method: 'POST', path: `/-/stage/package/${e}`, body: PUBLISH[name] }],
  ];
  for (const a of ACTIONS)
    out2.push([`explain ${a}`, { method: 'GET', path: `/-/tessera/v1/auth/explain?action=${a}&package=${e}` }]);
  return [...out, ...out2];
}

describe('private answers like absent: trusted-publishing and scope tokens, every spelling', {
  skip: onceInSqlitePass,
}, () => {
  let s: TestServer;
  const creds: Record<string, Record<string, string>> = {};
  const stageIds: Record<string, string> = {};

  async function send(r: Req, headers: Record<string, string>): Promise<Answer> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    let body: string | undefined;
    if (r.body !== undefined) {
      h['content-type'] = 'application/json';
      body = JSON.stringify(r.body);
    }
    const res = await fetch(new URL(r.path.slice(1), s.url), {
      method: r.method,
      headers: h,
      body,
      redirect: 'manual',
    });
    return comparable(res);
  }

  /** The answer with the name in every spelling replaced by a placeholder. */
  function neutral(a: Answer, name: string): Answer {
    const all = [name.toUpperCase(), name, ...spellings(name).map(([, sp]) => sp), encodeURIComponent(name)];
    const swap = (t: string) => {
      let out = t;
      out = out.split(stageIds[name]).join('<stage>');
      for (const sp of all.sort((x, y) => y.length - x.length)) out = out.split(sp).join('<pkg>');
      // The base name alone (a search's words), and the form token a web page hands each visitor.
      return out
        .replace(/s[ae]cret/g, '<base>')
        .replace(/S[AE]CRET/g, '<BASE>')
        .replace(/csrf=[^;]+/, 'csrf=<token>');
    };
    const headers = Object.fromEntries(Object.entries(a.headers).map(([k, v]) => [k, swap(v)]));
    return { status: a.status, headers, body: swap(a.body) };
  }

  before(async () => {
    // Classic tokens on, for the classic read-only token (they are off by default).
    s = await startServer({ defaultScopedAccess: 'restricted', tokens: { ...defaults.tokens, classic: true } });
    for (const u of ['alice', 'bob', 'tess', 'zed']) await s.addUser(u);
    await createOrg(s.ctx, 'acme', 'alice');
    const alice = (await userByName(s.ctx, 'alice'))!;
    const asAlice = { user: { ...alice, tfa: null }, credential: { type: 'password' } } as unknown as Principal;
    await setMember(s.ctx, asAlice, 'acme', 'tess', 'developer');
    const auth = { authorization: `Bearer ${await s.token({ user: 'alice' })}` };
    const as = async (method: string, path: string, body: unknown, status = 201) => {
      const res = await send({ method, path, body }, auth);
      assert.equal(res.status, status, `${method} ${path}: ${res.body}`);
    };
    // tess is in a team whose grant is on another package; the team `writers` holds the hidden one.
    await as('PUT', '/-/org/acme/team', { name: 'devs' });
    await as('PUT', '/-/org/acme/team', { name: 'writers' });
    await as('PUT', '/-/team/acme/devs/user', { user: 'tess' });
    for (const name of ['@acme/other', '@alice/other', '@acme/secret', '@alice/secret']) {
      await as('PUT', `/${name.replace('/', '%2f')}`, await publishBody(name, '1.0.0'));
      await as('PUT', `/-/user/package/${name.replace('/', '%2f')}/star`, undefined, 200);
    }
    for (const [hidden, absent] of PAIRS) {
      const staged = await send(
        {
          method: 'POST',
          path: `/-/stage/package/${hidden.replace('/', '%2f')}`,
          body: await publishBody(hidden, '1.1.0'),
        },
        auth,
      );
      assert.equal(staged.status, 201, staged.body);
      stageIds[hidden] = (JSON.parse(staged.body) as { stageId: string }).stageId;
      stageIds[absent] = randomUUID();
      for (const name of [hidden, absent]) PUBLISH[name] = await publishBody(name, '2.0.0');
    }
    await as('PUT', '/-/team/acme/devs/package', { package: '@acme/other', permissions: 'read-write' });
    await as('PUT', '/-/team/acme/writers/package', { package: '@acme/secret', permissions: 'read-write' });
    const bearer = async (spec: Parameters<TestServer['token']>[0]) => ({
      authorization: `Bearer ${await s.token(spec)}`,
    });
    creds.anonymous = {};
    creds["bob's session"] = await bearer({ user: 'bob' });
    creds["bob's classic read-only token"] = await bearer({ user: 'bob', kind: 'classic-readonly', readonly: true });
    creds["alice's token for the scope @bob"] = await bearer({
      user: 'alice',
      kind: 'granular',
      grants: grants({ scopes: ['@bob'] }),
    });
    creds["alice's token for @alice/other"] = await bearer({
      user: 'alice',
      kind: 'granular',
      grants: grants({ packages: ['@alice/other'] }),
    });
    creds["tess's session (another team of acme)"] = await bearer({ user: 'tess' });
    creds["alice's trusted-publishing token for @alice/other"] = await bearer({
      user: 'alice',
      kind: 'oidc',
      grants: grants({
        packages: ['@alice/other'],
        trust: { configId: 'c', permissions: ['createPackage'], subject: 'ci' },
      }),
    });
    creds["zed's session (disabled)"] = await bearer({ user: 'zed' });
    await disableUser(s.ctx, 'zed');
  });
  after(() => s?.close());

  test('the credentials are what they say: each reads what it may, and not the hidden packages', async () => {
    const reads: Record<string, string[]> = {
      "alice's token for @alice/other": ['@alice/other'],
      "tess's session (another team of acme)": ['@acme/other'],
      "alice's trusted-publishing token for @alice/other": ['@alice/other'],
    };
    for (const [who, headers] of Object.entries(creds)) {
      for (const name of ['@acme/other', '@alice/other', ...PAIRS.map(([h]) => h)]) {
        const r = await send({ method: 'GET', path: `/${name.replace('/', '%2f')}` }, headers);
        const expected = (reads[who] ?? []).includes(name) ? 200 : who.startsWith('zed') ? 401 : 404;
        assert.equal(r.status, expected, `${who} reads ${name}`);
      }
    }
  });

  for (const who of [
    'anonymous',
    "bob's session",
    "bob's classic read-only token",
    "alice's token for the scope @bob",
    "alice's token for @alice/other",
    "tess's session (another team of acme)",
    "alice's trusted-publishing token for @alice/other",
    "zed's session (disabled)",
  ]) {
    test(`${who}: every spelling of every request answers as for a missing name`, async () => {
      const headers = creds[who];
      for (const [hidden, absent] of PAIRS) {
        const onAbsent = requests(absent, stageIds[absent]);
        for (const [i, [what, r]] of requests(hidden, stageIds[hidden]).entries()) {
          // An acme developer may create names in @acme: publishing tells her one is taken (the documented exception).
          if (who.startsWith('tess') && hidden.startsWith('@acme/') && CREATES.includes(what)) continue;
          const h = neutral(await send(r, headers), hidden);
          const a = neutral(await send(onAbsent[i][1], headers), absent);
          assert.deepEqual(h, a, `${hidden}, ${what}: ${r.method} ${r.path} differs from ${absent}'s answer`);
        }
      }
    });
  }
});
