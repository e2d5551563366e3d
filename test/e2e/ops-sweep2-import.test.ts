// `tessera import verdaccio` where Verdaccio's dist-tags name versions that do not come in (a tarball lost
// from the storage, a tag left on a version that is gone): what is kept and what is reported, `latest`
// always naming a version here, and a re-run after the lost tarball is found bringing it in under its tag.
// Also a document Verdaccio would never have written (a version key that is not a version): that key is
// skipped with why, and the import goes on instead of stopping half-way with "Invalid Version".
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { makeTarball } from '../helpers/publish-body.ts';
import { tessera } from '../helpers/cli.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const VERDACCIO = 'http://127.0.0.1:4873/';

/** A package folder as Verdaccio 6 writes it (the readme on the package, not its versions); `lost` versions are
 *  in the document but their tarball is not. */
async function writePackage(
  storage: string,
  name: string,
  versions: string[],
  tags: Record<string, string>,
  lost: string[] = [],
): Promise<Record<string, Buffer>> {
  const dir = join(storage, name);
  mkdirSync(dir, { recursive: true });
  const base = name.split('/').pop();
  const tarballs: Record<string, Buffer> = {};
  const doc: Record<string, any> = {
    name,
    versions: {},
    time: { created: '2024-01-02T03:04:05.000Z', modified: '2024-06-01T00:00:00.000Z' },
    users: {},
    'dist-tags': tags,
    _uplinks: {},
    _distfiles: {},
    _attachments: {},
    _rev: `${versions.length}-0123456789abcdef`,
    readme: `# ${name}`,
  };
  for (const [i, version] of versions.entries()) {
    const file = `${base}-${version}.tgz`;
    const tgz = await makeTarball({
      'package/package.json': JSON.stringify({ name, version }),
      'package/index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`,
    });
    tarballs[file] = tgz;
    const shasum = createHash('sha1').update(tgz).digest('hex');
    doc.versions[version] = {
      name,
      version,
      readmeFilename: 'README.md',
      _npmUser: { name: 'erin' },
      maintainers: [{ name: 'erin', email: 'erin@example.com' }],
      dist: {
        integrity: ssri.fromData(tgz, { algorithms: ['sha512'] }).toString(),
        shasum,
        tarball: `${VERDACCIO}${name}/-/${file}`,
      },
    };
    doc.time[version] = new Date(Date.UTC(2024, 0, 3 + i)).toISOString();
    doc._attachments[file] = { shasum, version };
    if (!lost.includes(version)) writeFileSync(join(dir, file), tgz);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(doc, null, 2));
  return tarballs;
}

describe('tessera import verdaccio: dist-tags naming versions that do not come in', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-ops2-import-'));
  const storage = join(root, 'storage');
  let s: TestServer;
  let lostTarball: Buffer;
  let first = '';

  const run = () => tessera(['import', 'verdaccio', '--storage', storage, '--data', s.dataDir], { env: s.env });
  const line = (out: string, what: string) => out.split('\n').find((l) => l.includes(what)) ?? '';

  before(async () => {
    s = await startServer();
    mkdirSync(storage);
    const t = await writePackage(
      storage,
      '@team/tagged',
      ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0'],
      { latest: '2.0.0', next: '3.0.0-beta.1', stable: '1.1.0', rc: '2.0.0-rc.1' },
      ['2.0.0'],
    );
    lostTarball = t['tagged-2.0.0.tgz'];
    await writePackage(storage, 'plain', ['1.0.0'], { latest: '1.0.0' });
    // Not a document Verdaccio writes: a version key that is no version.
    await writePackage(storage, 'odd', ['1.0.0'], { latest: '1.0.0' });
    const odd = join(storage, 'odd', 'package.json');
    const doc = JSON.parse(readFileSync(odd, 'utf8'));
    doc.versions.latest = doc.versions['1.0.0'];
    writeFileSync(odd, JSON.stringify(doc));
    // A storage folder damaged on the way: where a tarball should be, a folder (reading it fails).
    await writePackage(storage, 'broken', ['1.0.0'], { latest: '1.0.0' }, ['1.0.0']);
    mkdirSync(join(storage, 'broken', 'broken-1.0.0.tgz'));
    writeFileSync(
      join(storage, '.verdaccio-db.json'),
      JSON.stringify({ list: ['@team/tagged', 'broken', 'plain', 'odd'], secret: 'c2VjcmV0' }),
    );
    const r = await run();
    assert.equal(r.code, 1, `a package failed: the command says so by its status\n${r.stdout}${r.stderr}`);
    first = r.stdout;
  });
  after(async () => {
    await s.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('the report says which tags were not kept, and where latest points instead', () => {
    assert.match(line(first, 'version @team/tagged@2.0.0:'), /^skipped .*tarball tagged-2\.0\.0\.tgz is missing/);
    const pkg = line(first, 'package @team/tagged:');
    assert.match(pkg, /^imported package @team\/tagged: /);
    assert.match(pkg, /dist-tag latest was 2\.0\.0, not imported: latest is 1\.1\.0 here/);
    assert.match(pkg, /dist-tag next names 3\.0\.0-beta\.1, not imported: dropped/);
  });

  test('a version key that is no version is skipped with why; the rest of that package, and the next, come in', async () => {
    assert.match(line(first, 'version odd@latest:'), /^skipped version odd@latest: "latest" is not a version$/);
    assert.match(line(first, 'package odd:'), /^imported package odd: /);
    const doc = (await (await fetch(`${s.url}odd`)).json()) as { versions: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.versions), ['1.0.0']);
    assert.match(line(first, 'package plain:'), /^imported package plain: /);
  });

  test('a package whose files cannot be read fails alone, said in the report; the ones after it come in', async () => {
    assert.match(
      line(first, 'package broken:'),
      /^skipped package broken: failed: EISDIR.*; nothing of it was imported$/,
    );
    assert.equal((await fetch(`${s.url}broken`)).status, 404);
    assert.match(line(first, 'package plain:'), /^imported package plain: /);
  });

  test('a Verdaccio config.yaml that does not parse stops the import with one line naming it', async () => {
    const config = join(root, 'config.yaml');
    writeFileSync(config, 'packages:\n  "**": { access: $all\n');
    const r = await tessera(['import', 'verdaccio', '--storage', storage, '--config', config, '--data', s.dataDir], {
      env: s.env,
    });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^tessera: ${config} is not valid YAML: .*line 3, column 1`));
  });

  test('npm installs the package by latest, and the kept tags name what they named in Verdaccio', async () => {
    const doc = (await (await fetch(`${s.url}@team%2ftagged`)).json()) as {
      'dist-tags': Record<string, string>;
      versions: Record<string, unknown>;
      readme: string;
    };
    assert.deepEqual(doc['dist-tags'], { latest: '1.1.0', stable: '1.1.0', rc: '2.0.0-rc.1' });
    assert.deepEqual(Object.keys(doc.versions).sort(), ['1.0.0', '1.1.0', '2.0.0-rc.1']);
    assert.equal(doc.readme, '# @team/tagged', "Verdaccio's readme, shown with the version latest names here");
    const npm = makeNpm(s.url);
    const cwd = makeProject({ '@team/tagged': 'latest' });
    const r = await npm.run(['install'], { cwd });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /added 1 package/);
  });

  test('once the lost tarball is back, a re-run brings its version in under its tag; a third run changes nothing', async () => {
    writeFileSync(join(storage, '@team', 'tagged', 'tagged-2.0.0.tgz'), lostTarball);
    rmSync(join(storage, 'broken'), { recursive: true });
    const again = await run();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^imported version @team\/tagged@2\.0\.0$/m);
    const tags = (await (await fetch(`${s.url}-/package/@team%2ftagged/dist-tags`)).json()) as Record<string, string>;
    assert.deepEqual(tags, { latest: '2.0.0', stable: '1.1.0', rc: '2.0.0-rc.1' });
    // The running registry read this package before the re-run: what it serves now is the new document.
    const doc = (await (await fetch(`${s.url}@team%2ftagged`)).json()) as {
      'dist-tags': Record<string, string>;
      versions: Record<string, unknown>;
      readme: string;
    };
    assert.equal(doc['dist-tags'].latest, '2.0.0');
    assert.ok(doc.versions['2.0.0'], 'the version brought in is served');
    assert.equal(doc.readme, '# @team/tagged', 'the readme moved with latest');
    const third = await run();
    assert.match(third.stdout, /0 user\(s\), 0 package\(s\) and 0 version\(s\) imported/);
    const still = (await (await fetch(`${s.url}-/package/@team%2ftagged/dist-tags`)).json()) as Record<string, string>;
    assert.deepEqual(still, tags);
  });
});

describe('tessera import verdaccio: a storage copied without its dotfiles (no .verdaccio-db.json)', {
  skip: onceInSqlitePass,
}, () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-ops2-nodb-'));
  const storage = join(root, 'storage');
  let s: TestServer;
  before(async () => {
    s = await startServer();
    mkdirSync(storage);
    // Published to Verdaccio, which also looked the name up on its uplink (`proxy:` on every package).
    await writePackage(storage, '@team/local', ['1.0.0'], { latest: '1.0.0' });
    const local = join(storage, '@team', 'local', 'package.json');
    const doc = JSON.parse(readFileSync(local, 'utf8'));
    doc._uplinks = { npmjs: { etag: '"x"', fetched: Date.now() } };
    writeFileSync(local, JSON.stringify(doc));
    // Only cached from the uplink: every tarball Verdaccio holds came from there.
    await writePackage(storage, 'cached', ['1.0.0'], { latest: '1.0.0' });
    const cached = join(storage, 'cached', 'package.json');
    const c = JSON.parse(readFileSync(cached, 'utf8'));
    c._uplinks = { npmjs: { etag: '"y"', fetched: Date.now() } };
    c._distfiles = { 'cached-1.0.0.tgz': { url: 'http://127.0.0.1:9/cached/-/cached-1.0.0.tgz', registry: 'npmjs' } };
    c._attachments = {};
    writeFileSync(cached, JSON.stringify(c));
  });
  after(async () => {
    await s.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('what was published there comes in; what was only cached is left out, as with the list', async () => {
    const r = await tessera(['import', 'verdaccio', '--storage', storage, '--data', s.dataDir], { env: s.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported package @team\/local: /m);
    assert.match(r.stdout, /^skipped package cached: only cached from the uplink npmjs/m);
    assert.equal((await fetch(`${s.url}@team%2flocal`)).status, 200);
  });
});
