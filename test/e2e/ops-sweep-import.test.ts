// `tessera import verdaccio` on storage folders the fixture does not show: an install that began as Sinopia
// (`.sinopia-db.json`, `allow:`/`allow_publish:` rules), a scoped package Verdaccio also looked up on its
// uplink, a missing tarball and one whose bytes do not match, htpasswd hashes the plugin accepts but the
// fixture lacks (`$1$` MD5-crypt, `{PLAIN}`), and a name this registry already holds as a cached copy.
// Then npm and pnpm install what came in, with the integrity Verdaccio recorded, and users log in.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { makePnpm, writeNpmrc } from '../helpers/clients.ts';
import { makeTarball } from '../helpers/publish-body.ts';
import { tessera } from '../helpers/cli.ts';
import { defaults } from '../../src/config/config.ts';

type Version = { version: string; deprecated?: string; tarball?: 'missing' | 'other-bytes' };
type Pkg = {
  name: string;
  versions: Version[];
  tags: Record<string, string>;
  uplinks?: boolean;
  cachedOnly?: boolean;
  /** Published before npm sent `dist.integrity` (npm < 5): the document has the SHA-1 `shasum` only, or an
   *  integrity in SHA-1 as some registries wrote for those. */
  oldDist?: 'shasum' | 'sha1-integrity';
};

const VERDACCIO = 'http://127.0.0.1:4873/';

/** A package folder as Verdaccio writes it: package.json with its versions, and the tarballs beside it. */
async function writePackage(storage: string, p: Pkg, integrity: Record<string, string>) {
  const dir = join(storage, p.name);
  mkdirSync(dir, { recursive: true });
  const base = p.name.split('/').pop();
  const doc: Record<string, any> = {
    name: p.name,
    versions: {},
    time: { created: '2024-01-02T03:04:05.000Z', modified: '2024-06-01T00:00:00.000Z' },
    users: {},
    'dist-tags': p.tags,
    // Fetched a minute ago: within upstream.maxStale, so a kept copy is served while the upstream is down.
    _uplinks: p.uplinks || p.cachedOnly ? { npmjs: { etag: '"abc"', fetched: Date.now() - 60_000 } } : {},
    _distfiles: {},
    _attachments: {},
    _rev: '3-0123456789abcdef',
    readme: `# ${p.name}`,
  };
  for (const [i, v] of p.versions.entries()) {
    const file = `${base}-${v.version}.tgz`;
    const tgz = await makeTarball({
      'package/package.json': JSON.stringify({ name: p.name, version: v.version, main: 'index.js' }),
      'package/index.js': `module.exports = ${JSON.stringify(`${p.name}@${v.version}`)};\n`,
    });
    const url = `${VERDACCIO}${p.name}/-/${p.name}-${v.version}.tgz`;
    const shasum = createHash('sha1').update(tgz).digest('hex');
    const sri = ssri.fromData(tgz, { algorithms: ['sha512'] }).toString();
    integrity[`${p.name}@${v.version}`] = sri;
    doc.versions[v.version] = {
      name: p.name,
      version: v.version,
      main: 'index.js',
      ...(v.deprecated ? { deprecated: v.deprecated } : {}),
      _npmUser: { name: 'erin' },
      dist: {
        ...(p.oldDist === 'shasum'
          ? {}
          : { integrity: p.oldDist ? ssri.fromData(tgz, { algorithms: ['sha1'] }).toString() : sri }),
        shasum,
        tarball: url,
      },
    };
    doc.time[v.version] = new Date(Date.UTC(2024, 0, 3 + i, 3, 4, 5)).toISOString();
    if (p.cachedOnly) doc._distfiles[file] = { url: `http://127.0.0.1:9/${p.name}/-/${file}`, registry: 'npmjs' };
    else doc._attachments[file] = { shasum, version: v.version };
    if (v.tarball === 'missing') continue;
    writeFileSync(join(dir, file), v.tarball === 'other-bytes' ? Buffer.concat([tgz, Buffer.from([0])]) : tgz);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(doc, null, 2));
}

async function makeStorage(pkgs: Pkg[], db: { file: string; list: string[] } | null) {
  const root = mkdtempSync(join(tmpdir(), 'tessera-vd-sweep-'));
  const storage = join(root, 'storage');
  mkdirSync(storage);
  const integrity: Record<string, string> = {};
  for (const p of pkgs) await writePackage(storage, p, integrity);
  if (db) writeFileSync(join(storage, db.file), JSON.stringify({ list: db.list, secret: 'c2VjcmV0' }));
  return { root, storage, integrity };
}

const run = (s: TestServer, storage: string, ...extra: string[]) =>
  tessera(['import', 'verdaccio', '--storage', storage, '--data', s.dataDir, ...extra], { env: s.env });

describe('tessera import verdaccio: a Sinopia-era storage, damaged tarballs, other htpasswd hashes', () => {
  let s: TestServer;
  let vd: Awaited<ReturnType<typeof makeStorage>>;
  let out = '';
  before(async () => {
    s = await startServer();
    vd = await makeStorage(
      [
        {
          name: '@acme/lib',
          uplinks: true,
          versions: [{ version: '1.0.0', deprecated: 'use 1.1.0' }, { version: '1.1.0' }, { version: '2.0.0-rc.1' }],
          tags: { latest: '1.1.0', next: '2.0.0-rc.1', legacy: '1.0.0' },
        },
        {
          // Many versions, published out of order over the years: all come, and latest stays where it was.
          name: '@acme/many',
          versions: Array.from({ length: 40 }, (_, i) => ({ version: `${(i * 7) % 40}.0.0` })),
          tags: { latest: '38.0.0' },
        },
        {
          name: 'old-timer',
          oldDist: 'shasum',
          versions: [{ version: '0.1.0' }, { version: '0.2.0' }],
          tags: { latest: '0.2.0' },
        },
        { name: 'old-sha1', oldDist: 'sha1-integrity', versions: [{ version: '3.0.0' }], tags: { latest: '3.0.0' } },
        {
          name: 'plain',
          versions: [
            { version: '1.0.0' },
            { version: '1.0.1', tarball: 'missing' },
            { version: '1.0.2', tarball: 'other-bytes' },
          ],
          tags: { latest: '1.0.0', broken: '1.0.2' },
        },
      ],
      { file: '.sinopia-db.json', list: ['@acme/lib', 'plain', '@acme/many', 'old-timer', 'old-sha1'] },
    );
    // Sinopia's rule keys (`allow`, `allow_publish`), which Verdaccio still reads.
    writeFileSync(
      join(vd.root, 'config.yaml'),
      [
        'storage: ./storage',
        'auth: { htpasswd: { file: ./htpasswd } }',
        'packages:',
        "  '@acme/*': { allow: $all, allow_publish: erin, proxy: npmjs }",
        "  '**': { access: $all, publish: $authenticated }",
        '',
      ].join('\n'),
    );
    // `openssl passwd -1 -salt Xy7Qz1pA erin-pass-5`: MD5-crypt, which the plugin checks as Apache MD5 does.
    writeFileSync(
      join(vd.root, 'htpasswd'),
      [
        'erin:$1$Xy7Qz1pA$c0anNn0Hb5.MPQPpgftWA0:autocreated 2024-01-01T00:00:00.000Z',
        'frank:{PLAIN}frank-pass-6',
        // `openssl passwd -6`: SHA-512 crypt, which the plugin cannot check (its crypt(3) is DES only).
        'gina:$6$Qw3rTy12$qbwerrjDXVu7fAsoIOtdhTlQAMGUwsZj.XgQQ2FNMn.yJBIykv28KXH0igUELQxW4mRLZzFCSSgwjNc1Xdfji/',
        '',
      ].join('\n'),
    );
    const r = await run(s, vd.storage, '--config', join(vd.root, 'config.yaml'));
    assert.equal(r.code, 0, r.stderr);
    out = r.stdout;
  });
  after(async () => {
    await s.close();
  });

  test('a package Verdaccio also looked up on its uplink is local when .sinopia-db.json lists it', () => {
    assert.match(out, /^imported package @acme\/lib: public; maintainers erin$/m, out);
    assert.match(out, /^imported version @acme\/lib@2\.0\.0-rc\.1$/m);
  });

  test('a missing tarball and one whose bytes differ are skipped with why; the rest comes in', async () => {
    assert.match(out, /^skipped version plain@1\.0\.1: its tarball plain-1\.0\.1\.tgz is missing$/m);
    assert.match(out, /^skipped version plain@1\.0\.2: plain-1\.0\.2\.tgz does not match its integrity$/m);
    const doc = (await (await fetch(`${s.url}plain`)).json()) as Record<string, any>;
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0']);
    assert.deepEqual(doc['dist-tags'], { latest: '1.0.0' }, 'no tag names a version that did not come in');
  });

  test('dist-tags beyond latest, deprecations and times are kept', async () => {
    const doc = (await (await fetch(`${s.url}@acme%2flib`)).json()) as Record<string, any>;
    assert.deepEqual(doc['dist-tags'], { latest: '1.1.0', next: '2.0.0-rc.1', legacy: '1.0.0' });
    assert.equal(doc.versions['1.0.0'].deprecated, 'use 1.1.0');
    assert.equal(doc.versions['1.1.0'].deprecated, undefined);
    assert.equal(doc.time.created, '2024-01-02T03:04:05.000Z');
    assert.equal(doc.time['2.0.0-rc.1'], '2024-01-05T03:04:05.000Z');
  });

  test('npm and pnpm install the imported versions with the integrity Verdaccio recorded', async () => {
    const npm = makeNpm(s.url);
    const proj = makeProject({ '@acme/lib': 'next', plain: '^1.0.0', old: 'npm:@acme/lib@legacy' });
    const r = await npm.run(['install'], { cwd: proj });
    assert.equal(r.code, 0, r.output);
    const lock = JSON.parse(readFileSync(join(proj, 'package-lock.json'), 'utf8')).packages;
    assert.equal(lock['node_modules/@acme/lib'].integrity, vd.integrity['@acme/lib@2.0.0-rc.1']);
    assert.equal(lock['node_modules/old'].integrity, vd.integrity['@acme/lib@1.0.0']);
    assert.equal(lock['node_modules/plain'].integrity, vd.integrity['plain@1.0.0']);

    const pnpm = makePnpm();
    const p = makeProject({ '@acme/lib': '^1.0.0', plain: '1.0.0' });
    writeNpmrc(p, s.url);
    const pi = await pnpm.run(['install'], { cwd: p });
    assert.equal(pi.code, 0, pi.output);
    const pl = readFileSync(join(p, 'pnpm-lock.yaml'), 'utf8');
    assert.ok(pl.includes(vd.integrity['@acme/lib@1.1.0']), pl);
    assert.ok(pl.includes(vd.integrity['plain@1.0.0']), pl);
  });

  test('a package with many versions comes whole, and npm view lists them all', async () => {
    const npm = makeNpm(s.url);
    const r = await npm.run(['view', '@acme/many', 'versions', 'dist-tags.latest', '--json']);
    assert.equal(r.code, 0, r.output);
    const v = JSON.parse(r.stdout) as { versions: string[]; 'dist-tags.latest': string };
    assert.equal(v.versions.length, 40);
    assert.equal(v['dist-tags.latest'], '38.0.0');
    const doc = (await (await fetch(`${s.url}@acme%2fmany`)).json()) as { time: Record<string, string> };
    assert.equal(doc.time['21.0.0'], '2024-01-06T03:04:05.000Z', 'the fourth one published');
  });

  test('htpasswd users with an MD5-crypt ($1$) or {PLAIN} entry log in with their old password', async () => {
    assert.match(out, /^imported user erin: md5 hash, replaced at the first login$/m);
    for (const [name, password] of [
      ['erin', 'erin-pass-5'],
      ['frank', 'frank-pass-6'],
    ]) {
      const npm = makeNpm(s.url);
      const login = await npm.runTty(
        ['login', '--auth-type=legacy'],
        [
          [/Username:/, name],
          [/Password:/, password],
        ],
      );
      assert.equal(login.code, 0, `${name}: ${login.output}`);
      assert.equal((await npm.run(['whoami'])).stdout.trim(), name);
    }
  });

  test('a hash the plugin cannot check is not called one that works: the user comes without a password', async () => {
    assert.match(
      out,
      new RegExp(
        "^imported user gina: its hash is of no kind Verdaccio's htpasswd plugin checks \\(no login worked with it " +
          'there either\\); no password kept: set one with `tessera user passwd gina --password-stdin`$',
        'm',
      ),
    );
    const row = await s.ctx.store.db
      .selectFrom('users')
      .select('password_hash')
      .where('name', '=', 'gina')
      .executeTakeFirstOrThrow();
    assert.equal(row.password_hash, null);
  });

  test("--storage naming Verdaccio's own folder (not its storage/) is refused, with nothing imported", async () => {
    const r = await run(s, vd.root, '--htpasswd', join(vd.root, 'htpasswd'));
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^tessera: .* is not a Verdaccio storage folder .*storage: setting$/m);
    assert.equal(r.stdout, '');
  });

  test('running it again changes nothing', async () => {
    const r = await run(s, vd.storage, '--config', join(vd.root, 'config.yaml'));
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^imported/m);
    // Checked by their SHA-1 the first time, known by it the second: not taken for another package.
    assert.match(r.stdout, /^skipped version old-timer@0\.1\.0: already imported$/m);
    assert.match(r.stdout, /^skipped version old-sha1@3\.0\.0: already imported$/m);
    assert.doesNotMatch(r.stdout, /old-(timer|sha1): a package of that name was published/);
    assert.match(r.stdout, /^0 user\(s\), 0 package\(s\) and 0 version\(s\) imported; \d+ skipped$/m);
  });
});

describe('tessera import verdaccio into a registry that holds the name as a cached copy', () => {
  let s: TestServer;
  // An upstream nobody answers on: the kept copy is served from what Verdaccio had cached.
  before(async () => {
    s = await startServer({
      upstream: { ...defaults.upstream, url: 'http://127.0.0.1:9/', cacheTtlMs: 60_000, timeoutMs: 2_000 },
    });
  });
  after(async () => {
    await s.close();
  });

  test('the cached copy gives way whole: the local 1.0.0 comes in, and every tag names a version', async () => {
    // First a Verdaccio that had only cached `shared` from its uplink, kept as proxied...
    const a = await makeStorage(
      [{ name: 'shared', cachedOnly: true, versions: [{ version: '1.0.0' }], tags: { latest: '1.0.0' } }],
      { file: '.verdaccio-db.json', list: [] },
    );
    const first = await run(s, a.storage, '--keep-proxied');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^imported package shared: kept as proxied/m);
    // Read (and so held in the server's memory) as the cached copy, before the local package comes in.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.url}shared`);
      const cached = (await res.json()) as Record<string, any>;
      assert.equal(res.status, 200, JSON.stringify(cached));
      assert.deepEqual(Object.keys(cached.versions), ['1.0.0']);
      assert.equal((await fetch(cached.versions['1.0.0'].dist.tarball)).status, 200);
    }
    // ...then the one where the company published its own `shared` (other bytes for the same version).
    const b = await makeStorage(
      [
        {
          name: 'shared',
          versions: [{ version: '1.0.0' }, { version: '1.1.0' }],
          tags: { latest: '1.1.0', old: '1.0.0' },
        },
      ],
      { file: '.verdaccio-db.json', list: ['shared'] },
    );
    const r = await run(s, b.storage);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported version shared@1\.0\.0$/m, r.stdout);
    const doc = (await (await fetch(`${s.url}shared`)).json()) as Record<string, any>;
    assert.deepEqual(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0']);
    for (const [tag, v] of Object.entries(doc['dist-tags'] as Record<string, string>))
      assert.ok(doc.versions[v], `${tag} names ${v}, which is there`);
    assert.equal(doc.versions['1.0.0'].dist.integrity, b.integrity['shared@1.0.0']);
    const tgz = await fetch(doc.versions['1.0.0'].dist.tarball);
    assert.equal(tgz.status, 200);
    assert.ok(ssri.checkData(Buffer.from(await tgz.arrayBuffer()), b.integrity['shared@1.0.0']));
  });
});

describe('tessera import verdaccio: packages: rules that let only some users read', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s.close();
  });

  test('a scoped package comes restricted, saying who could read it there; an unscoped one is skipped', async () => {
    const vd = await makeStorage(
      [
        { name: '@priv/tool', versions: [{ version: '1.0.0' }], tags: { latest: '1.0.0' } },
        { name: 'internal-tool', versions: [{ version: '1.0.0' }], tags: { latest: '1.0.0' } },
      ],
      { file: '.verdaccio-db.json', list: ['@priv/tool', 'internal-tool'] },
    );
    writeFileSync(
      join(vd.root, 'config.yaml'),
      [
        'packages:',
        "  '@priv/*': { access: $authenticated, publish: erin }",
        "  'internal-*': { access: erin ops-team }",
        "  '**': { access: $all }",
        '',
      ].join('\n'),
    );
    const r = await run(s, vd.storage, '--config', join(vd.root, 'config.yaml'));
    assert.equal(r.code, 0, r.stderr);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.includes(`package ${name}:`)) ?? '';
    assert.match(line('@priv/tool'), /^imported package @priv\/tool: restricted \(Verdaccio let \$authenticated read/);
    assert.match(line('@priv/tool'), /; here its maintainers do, and whoever is granted it\); no maintainer known/);
    assert.match(line('@priv/tool'), /; not users here: erin$/);
    assert.match(line('internal-tool'), /^skipped package internal-tool: Verdaccio let only erin, ops-team read it, /);
    assert.match(line('internal-tool'), /and an unscoped package is public here/);
    assert.equal((await fetch(`${s.url}@priv%2ftool`)).status, 404, 'restricted: anonymous readers get a 404');
  });
});
