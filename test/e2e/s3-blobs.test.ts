// Tarballs in an S3 bucket of a real Ceph RGW (test/helpers/rgw.ts): npm publish and install through it,
// large tarballs streamed, the same bytes stored by two nodes at once, redirects to presigned URLs that
// npm follows (never for a hidden package), `tessera gc` by LastModified, and readiness naming the blobs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.ts';
import { s3BlobsConfig, startRgw, type Rgw } from '../helpers/rgw.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { makeTarball, publishBody } from '../helpers/publish-body.ts';
import { tessera } from '../helpers/cli.ts';
import { s3Blobs, s3Client } from '../../src/store/blobs/s3.ts';
import { s3Options } from '../../src/config/blobs.ts';
import type { Config } from '../../src/config/config.ts';
import { readCache } from '../../src/services/read-cache.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const keyOf = (data: Buffer) => createHash('sha512').update(data).digest('hex');

async function publish(
  s: TestServer,
  token: string,
  name: string,
  version: string,
  opts: { tarball?: Buffer; access?: string } = {},
): Promise<void> {
  const res = await fetch(`${s.url}${name.replace('/', '%2f')}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(await publishBody(name, version, opts)),
  });
  assert.equal(res.status, 201, await res.text());
}

/** The object keys under a prefix of the server's bucket, straight from S3. */
async function objects(config: Pick<Config, 'blobs' | 's3'>, under = ''): Promise<string[]> {
  const o = s3Options(config)!;
  const client = s3Client(o);
  const page = await client.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: `${o.prefix}${under}` }));
  client.destroy();
  return (page.Contents ?? []).map((c) => c.Key!);
}

describe('blobs on S3 (a real Ceph RGW)', { skip: onceInSqlitePass }, () => {
  let rgw: Rgw;
  before(async () => {
    rgw = await startRgw();
  });
  after(async () => {
    await rgw?.stop();
  });

  describe('tarballs streamed from the bucket', () => {
    let s: TestServer;
    let config: Pick<Config, 'blobs' | 's3'>;
    let token: string;
    before(async () => {
      config = await s3BlobsConfig(rgw);
      s = await startServer(config);
      await s.addUser('alice');
      token = await s.token({ user: 'alice' });
    });
    after(async () => {
      await s?.close();
    });

    test('npm publish and npm install with the real npm CLI; the tarball is an object in the bucket', async () => {
      const npm = makeNpm(s.url);
      npm.setToken(s.host, token);
      const pub = await npm.run(['publish'], { cwd: makePackage('s3-pkg', '1.0.0') });
      assert.equal(pub.code, 0, pub.output);
      const keys = await objects(config);
      assert.equal(keys.length, 1, keys.join('\n'));
      assert.match(keys[0], /^blobs\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{128}$/);

      const project = makeProject({ 's3-pkg': '^1.0.0' });
      const install = await makeNpm(s.url).run(['install'], { cwd: project });
      assert.equal(install.code, 0, install.output);
      assert.ok(existsSync(join(project, 'node_modules', 's3-pkg', 'index.js')));
    });

    test('a tarball too large to keep in memory is streamed, with its length', async () => {
      const tarball = await makeTarball({
        'package/package.json': JSON.stringify({ name: 'big-pkg', version: '1.0.0' }),
        'package/noise.txt': randomBytes(2 * 1024 * 1024).toString('base64'),
      });
      assert.ok(tarball.length > 2 * 1024 * 1024);
      await publish(s, token, 'big-pkg', '1.0.0', { tarball });
      const res = await fetch(`${s.url}big-pkg/-/big-pkg-1.0.0.tgz`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(tarball.length));
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(tarball));
      assert.equal(readCache(s.ctx.store).peekBlob(keyOf(tarball)), undefined, 'not held in memory');
    });

    test('two nodes storing the same bytes at once both succeed, and one object holds them', async () => {
      const o = s3Options(config)!;
      const nodeA = s3Blobs(o);
      const nodeB = s3Blobs(o);
      const bytes = randomBytes(4096);
      const key = keyOf(bytes);
      const keys = await Promise.all([nodeA.put(bytes), nodeB.put(bytes), nodeA.put(bytes), nodeB.put(bytes)]);
      assert.deepEqual(keys, [key, key, key, key]);
      const folder = `${key.slice(0, 2)}/${key.slice(2, 4)}/`;
      assert.deepEqual(await objects(config, folder), [`blobs/${folder}${key}`]);
      assert.ok((await nodeB.get(key))?.equals(bytes));
    });

    test('tessera gc on S3: --dry-run deletes nothing, the grace holds, a blob stored again is spared', async () => {
      const dir = s.dataDir;
      const file = join(dir, 'tessera.yaml');
      // Secrets from the environment, not the file.
      writeFileSync(file, `blobs: ${config.blobs}\ns3:\n  endpoint: ${rgw.endpoint}\n  forcePathStyle: true\n`);
      const env = { TESSERA_S3_ACCESS_KEY_ID: rgw.accessKeyId, TESSERA_S3_SECRET_ACCESS_KEY: rgw.secretAccessKey };
      const gc = async (...args: string[]) => {
        const r = await tessera(['gc', '--data', dir, '--config', file, '--json', ...args], { env });
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as { kept: number; young: number; removed: { key: string | null }[] };
      };
      const left = randomBytes(1000);
      const again = randomBytes(1000);
      await s.ctx.store.blobs.put(left);
      await s.ctx.store.blobs.put(again);

      let report = await gc('--dry-run');
      assert.deepEqual(report.removed, [], 'everything is younger than the default hour');
      assert.equal(report.kept, 2, 's3-pkg and big-pkg');
      assert.ok(report.young >= 2);

      // LastModified counts whole seconds: let both age past a grace of 5 s, then store one again just before
      // each collection (a loaded machine may take seconds to start the CLI, so the grace is generous).
      await new Promise((r) => setTimeout(r, 6200));
      await s.ctx.store.blobs.put(again);
      report = await gc('--dry-run', '--grace', '5s');
      const removed = report.removed.map((b) => b.key);
      assert.ok(removed.includes(keyOf(left)), 'the leftover would go');
      assert.ok(!removed.includes(keyOf(again)), 'the blob stored again stays');
      assert.ok(await s.ctx.store.blobs.entry(keyOf(left)), '--dry-run deleted nothing');

      await s.ctx.store.blobs.put(again);
      report = await gc('--grace', '5s');
      assert.ok(report.removed.some((b) => b.key === keyOf(left)));
      assert.equal(await s.ctx.store.blobs.entry(keyOf(left)), undefined);
      assert.ok((await s.ctx.store.blobs.get(keyOf(again)))?.equals(again));
      assert.equal(report.kept, 2);
      assert.equal((await fetch(`${s.url}s3-pkg/-/s3-pkg-1.0.0.tgz`)).status, 200);
      assert.deepEqual(await objects(config, '.gc/'), [], 'nothing left aside');
    });

    test('reclaim() deletes a blob stored once before its cutoff, and spares one stored again since', async () => {
      const blobs = s3Blobs(s3Options(config)!);
      const bytes = randomBytes(512);
      const key = await blobs.put(bytes);
      const entry = (await blobs.entry(key))!;
      await new Promise((r) => setTimeout(r, 1100));
      const cutoff = Date.now();
      assert.equal(await blobs.reclaim(entry, cutoff), true, 'older than the cutoff, stored once: deleted');
      assert.equal(await blobs.get(key), undefined);
      await blobs.put(bytes); // stored anew since it was gone
      await new Promise((r) => setTimeout(r, 1100));
      await blobs.put(bytes); // found there: marked as stored again
      assert.equal(await blobs.reclaim(entry, Date.now() - 1000), false);
      assert.ok((await blobs.get(key))?.equals(bytes));
    });
  });

  describe('tarballs redirected to presigned URLs (s3.redirect)', () => {
    let s: TestServer;
    let token: string;
    before(async () => {
      s = await startServer(await s3BlobsConfig(rgw, true));
      await s.addUser('alice');
      await s.addUser('bob');
      token = await s.token({ user: 'alice' });
    });
    after(async () => {
      await s?.close();
    });

    test('a 302 to a presigned URL, which npm follows: npm install works', async () => {
      const npm = makeNpm(s.url);
      npm.setToken(s.host, token);
      const pub = await npm.run(['publish'], { cwd: makePackage('redir-pkg', '1.0.0') });
      assert.equal(pub.code, 0, pub.output);

      const res = await fetch(`${s.url}redir-pkg/-/redir-pkg-1.0.0.tgz`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      const location = res.headers.get('location')!;
      assert.ok(location.startsWith(`${rgw.endpoint}/`), location);
      assert.match(location, /X-Amz-Signature=/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const direct = await fetch(location);
      assert.equal(direct.status, 200);
      const unsigned = await fetch(location.split('?')[0]);
      assert.equal(unsigned.status, 403, 'the bucket is not public: the signature is what opens it');

      // With a token: npm must not send it on to the bucket, whose own signature check would refuse it.
      const project = makeProject({ 'redir-pkg': '1.0.0' });
      const install = await npm.run(['install'], { cwd: project });
      assert.equal(install.code, 0, install.output);
      assert.ok(existsSync(join(project, 'node_modules', 'redir-pkg', 'index.js')));
    });

    test('a hidden package answers 404, with no redirect, to the anonymous and to another user', async () => {
      await publish(s, token, '@alice/hidden', '1.0.0', { access: 'restricted' });
      const path = `${s.url}@alice/hidden/-/hidden-1.0.0.tgz`;
      const own = await fetch(path, { redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
      assert.equal(own.status, 302, 'the maintainer is sent to the bytes');
      const bob = await s.token({ user: 'bob' });
      for (const headers of [{}, { authorization: `Bearer ${bob}` }] as Record<string, string>[]) {
        const res = await fetch(path, { redirect: 'manual', headers });
        assert.equal(res.status, 404);
        assert.equal(res.headers.get('location'), null);
        assert.doesNotMatch(await res.text(), /X-Amz|127\.0\.0\.1:\d+\/tessera-/);
      }
    });
  });

  describe('readiness', () => {
    test('fails, naming blobs, when the gateway stops', async () => {
      const s = await startServer(await s3BlobsConfig(rgw));
      try {
        assert.equal((await fetch(`${s.url}-/readyz`)).status, 200);
        await rgw.stopGateway();
        const ready = await fetch(`${s.url}-/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(await ready.json(), { status: 'unavailable', failing: ['blobs'] });
      } finally {
        await s.close();
      }
    });
  });
});
