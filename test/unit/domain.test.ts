// The pure core: token format, names, policy and packument rendering.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateToken, tokenChecksumValid, hashToken, redactToken, TOKEN_LENGTH } from '../../src/domain/tokens.ts';
import { assertValidName, escapeName, isValidTag, versionFromTarball, basename } from '../../src/domain/names.ts';
import { authorize, canRead, type PackageFacts } from '../../src/domain/policy.ts';
import type { Principal, Grants } from '../../src/domain/principal.ts';
import { grants } from '../helpers/grants.ts';
import { render, BASE_PLACEHOLDER_JSON, type PackageState } from '../../src/domain/packument.ts';
import { parsePackagePath } from '../../src/http/package-path.ts';
import { Refusal, reasons } from '../../src/domain/reasons.ts';

describe('tokens', () => {
  test('generated tokens carry a valid checksum; any change breaks it', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = generateToken();
      assert.equal(t.length, TOKEN_LENGTH);
      assert.match(t, /^tsr_[0-9A-Za-z]{36}$/);
      assert.ok(tokenChecksumValid(t), t);
      seen.add(t);
    }
    assert.equal(seen.size, 200);
    const t = generateToken();
    assert.ok(!tokenChecksumValid(t.slice(0, -1)), 'truncated');
    const flipped = t.slice(0, 10) + (t[10] === 'a' ? 'b' : 'a') + t.slice(11);
    assert.ok(!tokenChecksumValid(flipped), 'one character changed');
    assert.ok(!tokenChecksumValid(`npm_${t.slice(4)}`));
  });
  test('hash is SHA-256 hex and redaction keeps only a prefix', () => {
    const t = generateToken();
    assert.match(hashToken(t), /^[0-9a-f]{64}$/);
    assert.notEqual(hashToken(t), hashToken(generateToken()));
    assert.equal(redactToken(t).length, 8);
    assert.ok(t.startsWith(redactToken(t)));
  });
});

describe('names', () => {
  test("npm's rules decide what may be published", () => {
    for (const ok of ['foo', '@scope/foo', 'foo-bar.baz_1']) assert.doesNotThrow(() => assertValidName(ok));
    for (const bad of ['Foo', '.foo', '_foo', 'node_modules', 'foo bar', '@scope/', '../x', 'a'.repeat(215)]) {
      assert.throws(
        () => assertValidName(bad),
        (e: unknown) => e instanceof Refusal && e.reason === 'invalid-name',
        bad,
      );
    }
  });
  test('escaping and tarball names', () => {
    assert.equal(escapeName('@a/b'), '@a%2fb');
    assert.equal(basename('@a/b'), 'b');
    assert.equal(versionFromTarball('@a/b', 'b-1.2.3.tgz'), '1.2.3');
    assert.equal(versionFromTarball('@a/b', '@a/b-1.2.3-beta.1.tgz'), '1.2.3-beta.1');
    assert.equal(versionFromTarball('foo', 'foo-1.2.tgz'), undefined);
    assert.equal(versionFromTarball('foo', 'bar-1.2.3.tgz'), undefined);
  });
  test('dist-tags that npm would mistake for versions are invalid', () => {
    assert.ok(isValidTag('beta'));
    for (const bad of ['', '1.0.0', '^1', 'a b', 'x/y']) assert.ok(!isValidTag(bad), bad);
  });
  test('package paths in every escaping form', () => {
    assert.deepEqual(parsePackagePath('/foo'), { kind: 'document', name: 'foo' });
    assert.deepEqual(parsePackagePath('/@s%2ffoo?write=true'), { kind: 'document', name: '@s/foo' });
    assert.deepEqual(parsePackagePath('/@s%2Ffoo'), { kind: 'document', name: '@s/foo' });
    assert.deepEqual(parsePackagePath('/@s/foo'), { kind: 'document', name: '@s/foo' });
    assert.deepEqual(parsePackagePath('/@s/foo/-rev/3-abc'), { kind: 'document', name: '@s/foo', rev: '3-abc' });
    assert.deepEqual(parsePackagePath('/@s/foo/-/foo-1.0.0.tgz'), {
      kind: 'tarball',
      name: '@s/foo',
      file: 'foo-1.0.0.tgz',
      rev: undefined,
    });
    assert.deepEqual(parsePackagePath('/@s/foo/-/foo-1.0.0.tgz/-rev/4-x'), {
      kind: 'tarball',
      name: '@s/foo',
      file: 'foo-1.0.0.tgz',
      rev: '4-x',
    });
    assert.deepEqual(parsePackagePath('/foo/1.0.0'), { kind: 'version', name: 'foo', spec: '1.0.0' });
    assert.equal(parsePackagePath('/-/whoami'), undefined);
    assert.equal(parsePackagePath('/..%2f..%2fetc'), undefined);
    assert.equal(parsePackagePath('/foo/-/..%2f..%2fx.tgz'), undefined);
  });
});

describe('policy', () => {
  const alice = { id: 1, name: 'alice', email: 'a@x', admin: false, emailVerified: true, tfa: null };
  const bob = { id: 2, name: 'bob', email: 'b@x', admin: false, emailVerified: true, tfa: null };
  const session = (user = alice): Principal => ({
    user,
    credential: {
      type: 'token',
      id: 't',
      kind: 'session',
      readonly: false,
      grants: null,
      bypass2fa: false,
      expiresAt: null,
    },
  });
  const granular = (g: Partial<Grants>, user = alice): Principal => ({
    user,
    credential: {
      type: 'token',
      id: 'g',
      kind: 'granular',
      readonly: false,
      bypass2fa: false,
      expiresAt: null,
      grants: grants(g),
    },
  });
  const anon: Principal = { user: null };
  const pub: PackageFacts = { name: 'pub', exists: true, access: 'public', maintainerIds: [1] };
  const priv: PackageFacts = { name: '@alice/priv', exists: true, access: 'restricted', maintainerIds: [1] };
  const fresh = (name: string, scopeOwnerId: number | null = null): PackageFacts => ({
    name,
    exists: false,
    access: 'public',
    maintainerIds: [],
    scopeOwnerId,
  });
  const reason = (d: ReturnType<typeof authorize>) => (d.allowed ? 'allowed' : d.reason);

  test('reads: public for all, restricted for maintainers, 404 for everyone else', () => {
    assert.equal(reason(authorize(anon, 'read', pub)), 'allowed');
    assert.equal(reason(authorize(anon, 'read', priv)), 'not-found');
    assert.equal(reason(authorize(session(bob), 'read', priv)), 'not-found');
    assert.equal(reason(authorize(session(), 'read', priv)), 'allowed');
    assert.equal(reason(authorize(granular({ scopes: ['@other'] }), 'read', priv)), 'not-found');
    assert.equal(reason(authorize(granular({ scopes: ['@alice'] }), 'read', priv)), 'allowed');
  });
  test('writes to a private package never reveal it', () => {
    assert.equal(reason(authorize(session(bob), 'publish', priv)), 'not-found');
    assert.equal(reason(authorize(session(bob), 'unpublish', priv)), 'not-found');
    assert.equal(reason(authorize(anon, 'publish', priv)), 'auth-required');
  });
  test('write refusals in order: credential, token restrictions, maintainer', () => {
    assert.equal(reason(authorize(anon, 'publish', pub)), 'auth-required');
    assert.equal(
      reason(authorize(granular({ packagesAll: true, permission: 'read-only' }), 'publish', pub)),
      'token-read-only',
    );
    assert.equal(
      reason(authorize(granular({ scopes: ['@acme'] }), 'publish', fresh('@other/x'))),
      'token-package-restricted',
    );
    assert.equal(reason(authorize(granular({ scopes: ['@acme'] }), 'publish', fresh('@acme/x'))), 'allowed');
    assert.equal(reason(authorize(session(bob), 'publish', pub)), 'not-maintainer');
    assert.equal(reason(authorize(session(bob), 'dist-tag', pub)), 'not-maintainer');
    assert.equal(reason(authorize(session(), 'deprecate', pub)), 'allowed');
    assert.equal(reason(authorize(session(bob), 'publish', fresh('@alice/new', 1))), 'scope-not-yours');
    assert.equal(reason(authorize(session(), 'publish', fresh('@alice/new', 1))), 'allowed');
  });
  test('the chain of checks explains the decision', () => {
    const d = authorize(granular({ packages: ['pub'] }), 'publish', pub);
    assert.ok(d.allowed);
    assert.deepEqual(
      d.checks.map((c) => c.check),
      ['authenticated', 'token-writes', 'token-covers-package', 'visible', 'maintainer'],
    );
    assert.ok(!canRead(anon, { ...pub, exists: false }));
  });
  test('staging: stage-only tokens and trusted publishers stage; only maintainers with 2FA review, with a code', () => {
    const tfa = (p: Principal): Principal => (p.user ? { ...p, user: { ...p.user, tfa: 'auth-only' } } : p);
    const oidc = (permissions: string[]): Principal => ({
      user: alice,
      credential: {
        type: 'token',
        id: 'o',
        kind: 'oidc',
        readonly: false,
        bypass2fa: false,
        expiresAt: null,
        grants: {
          packagesAll: false,
          packages: ['pub'],
          scopes: [],
          permission: 'read-write',
          orgs: [],
          orgsPermission: 'no-access',
          trust: { configId: 'c', permissions, subject: 'github:a/b' },
        },
      },
    });
    const stageOnly = granular({ packagesAll: true, permission: 'read-write-stage-only' });
    const otp = (d: ReturnType<typeof authorize>) => (d.allowed ? d.otp : undefined);
    assert.equal(reason(authorize(session(), 'stage', pub)), 'allowed');
    assert.equal(
      otp(authorize(tfa(session()), 'stage', { ...pub, mfa: 'publish' })),
      false,
      'staging never asks for a code',
    );
    assert.equal(reason(authorize(stageOnly, 'stage', pub)), 'allowed');
    assert.equal(reason(authorize(stageOnly, 'stage-view', pub)), 'allowed');
    assert.equal(reason(authorize(stageOnly, 'stage-review', pub)), 'token-stage-only');
    assert.equal(reason(authorize(stageOnly, 'publish', pub)), 'token-stage-only');
    assert.equal(
      reason(authorize(granular({ packagesAll: true, permission: 'read-only' }), 'stage', pub)),
      'token-read-only',
    );
    assert.equal(reason(authorize(session(), 'stage', fresh('brand-new'))), 'stage-needs-package');
    assert.equal(reason(authorize(session(bob), 'stage', pub)), 'not-maintainer');
    assert.equal(reason(authorize(session(bob), 'stage-view', priv)), 'not-found');
    assert.equal(reason(authorize(oidc(['createStagedPackage']), 'stage', pub)), 'allowed');
    assert.equal(reason(authorize(oidc(['createPackage']), 'stage', pub)), 'oidc-publish-only');
    assert.equal(reason(authorize(oidc(['createStagedPackage']), 'publish', pub)), 'token-stage-only');
    assert.equal(
      reason(authorize(oidc(['createPackage', 'createStagedPackage']), 'stage-view', pub)),
      'oidc-publish-only',
    );
    assert.equal(
      reason(authorize(oidc(['createPackage', 'createStagedPackage']), 'stage-review', pub)),
      'oidc-publish-only',
    );
    assert.equal(reason(authorize(session(), 'stage-review', pub)), 'tfa-required');
    assert.equal(otp(authorize(tfa(session()), 'stage-review', pub)), true);
    assert.equal(otp(authorize(tfa(granular({ packagesAll: true })), 'stage-review', pub)), true);
  });
});

describe('packuments', () => {
  const state: PackageState = {
    name: '@s/p',
    rev: 3,
    createdAt: 0,
    modifiedAt: 1000,
    distTags: { latest: '1.0.0' },
    versions: [
      {
        version: '1.0.0',
        integrity: 'sha512-x',
        shasum: 'y',
        size: 10,
        publishedAt: 500,
        publisher: { name: 'alice', email: 'a@x' },
        deprecated: null,
        manifest: {
          name: '@s/p',
          version: '1.0.0',
          description: 'desc',
          readme: '# hi',
          dependencies: { a: '^1' },
          scripts: { install: 'x' },
        },
      },
    ],
    unpublished: [{ version: '0.9.0', publishedAt: 100 }],
    maintainers: [{ name: 'alice', email: 'a@x' }],
    stars: [],
  };
  test('full and abbreviated forms, with the base URL left as a placeholder', () => {
    const r = render(state);
    const full = JSON.parse(r.doc.split(BASE_PLACEHOLDER_JSON).join('http://h'));
    assert.equal(full._rev.split('-')[0], '3');
    assert.equal(full.versions['1.0.0'].dist.tarball, 'http://h/@s/p/-/p-1.0.0.tgz');
    assert.equal(full.readme, '# hi');
    assert.equal(full.versions['1.0.0'].readme, undefined);
    assert.equal(full.description, 'desc');
    assert.ok(full.time['0.9.0'], 'unpublished versions stay in time');
    assert.equal(full.versions['0.9.0'], undefined);
    const ab = JSON.parse(r.abbrev.split(BASE_PLACEHOLDER_JSON).join('http://h'));
    assert.deepEqual(Object.keys(ab).sort(), ['dist-tags', 'modified', 'name', 'versions']);
    assert.deepEqual(ab.versions['1.0.0'].dependencies, { a: '^1' });
    assert.equal(ab.versions['1.0.0'].hasInstallScript, true);
    assert.equal(ab.versions['1.0.0'].description, undefined);
    assert.notEqual(render({ ...state, distTags: { latest: '1.0.0', next: '1.0.0' } }).etag, r.etag);
  });

  test('cached version text: the same documents without the manifests; what may change still changes', () => {
    const name = '@s/cached';
    const v = (version: string, at: number) => ({
      version,
      integrity: `sha512-${version}`,
      shasum: 's',
      size: 1,
      publishedAt: at,
      publisher: { name: 'alice', email: 'a@x' },
      deprecated: null as string | null,
      manifest: {
        name,
        version,
        description: `d${version}`,
        dependencies: { a: '^1' },
        deprecated: 'stale text from the manifest',
      } as PackageState['versions'][0]['manifest'],
    });
    const s1: PackageState = {
      ...state,
      name,
      distTags: { latest: '2.0.0' },
      versions: [v('1.0.0', 1), v('2.0.0', 2)],
      unpublished: [],
    };
    const first = render(s1);
    // Later writes read only the latest manifest: the rest comes from the cache.
    const lean: PackageState = {
      ...s1,
      versions: s1.versions.map((x) => (x.version === '2.0.0' ? x : { ...x, manifest: null })),
    };
    assert.deepEqual(render(lean), first);
    const doc = (r: { doc: string }) =>
      JSON.parse(r.doc) as {
        versions: Record<string, { deprecated?: string; maintainers: unknown[]; _npmUser?: unknown }>;
      };
    assert.equal(
      doc(first).versions['1.0.0'].deprecated,
      undefined,
      'deprecation comes from the column, not the manifest',
    );
    const deprecated = render({
      ...lean,
      versions: lean.versions.map((x) => (x.version === '1.0.0' ? { ...x, deprecated: 'use 2' } : x)),
    });
    assert.equal(doc(deprecated).versions['1.0.0'].deprecated, 'use 2');
    assert.equal(
      (JSON.parse(deprecated.abbrev) as { versions: Record<string, { deprecated?: string }> }).versions['1.0.0']
        .deprecated,
      'use 2',
    );
    assert.notEqual(deprecated.etag, first.etag);
    const owners = render({ ...lean, maintainers: [{ name: 'bob', email: 'b@x' }] });
    assert.deepEqual(doc(owners).versions['1.0.0'].maintainers, [{ name: 'bob', email: 'b@x' }]);
    // A version neither cached nor loaded is a bug in the caller, said loudly.
    assert.throws(
      () => render({ ...lean, versions: [...lean.versions, { ...v('3.0.0', 3), manifest: null }] }),
      /3\.0\.0 was not loaded/,
    );
  });
});

test('every reason has a status, an error text and a summary', () => {
  for (const [id, r] of Object.entries(reasons)) {
    assert.match(id, /^[a-z0-9-]+$/);
    assert.ok(r.status >= 200 && r.status < 600, id);
    assert.equal(typeof r.error({}), 'string', id);
    assert.ok(r.summary.length > 10, id);
    if (r.status === 401) assert.ok('wwwAuthenticate' in r && r.wwwAuthenticate, `${id}: a 401 needs WWW-Authenticate`);
  }
});
