// `tessera gc` against a running `tessera serve` in another process: the tarballs of an unpublished
// version and of an expired staged version go, with leftovers of a crash; everything served stays.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, tessera, type ServeProcess } from '../helpers/cli.ts';
import { makeTarball, publishBody } from '../helpers/publish-body.ts';
import { filesystemBlobs } from '../../src/store/blobs/filesystem.ts';
import { useClusterStore } from '../helpers/cluster-data.ts';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const keyOf = (data: Buffer) => createHash('sha512').update(data).digest('hex');

describe('tessera gc', () => {
  let data: string;
  let config: string;
  let srv: ServeProcess;
  let token: string;
  let dropStore: () => Promise<void>;
  const tgz: Record<string, Buffer> = {};
  const blobPath = (key: string) => join(data, 'blobs', key.slice(0, 2), key.slice(2, 4), key);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  const gc = (...args: string[]) => tessera(['gc', '--data', data, '--config', config, ...args]);

  before(async () => {
    data = mkdtempSync(join(tmpdir(), 'tessera-gc-'));
    config = join(data, 'tessera.yaml');
    writeFileSync(config, 'stage:\n  ttl: 1s\n');
    // On the cluster backend the records are in PostgreSQL; serve and gc have their own --config, so the
    // tarballs stay in data/blobs, which this file reads (gc of a bucket: s3-blobs.test.ts).
    dropStore = await useClusterStore(data);
    assert.equal((await tessera(['user', 'add', 'gwen', '--email', 'gwen@example.com', '--data', data])).code, 0);
    token = (await tessera(['token', 'create', '--user', 'gwen', '--data', data])).stdout.trim();
    srv = await serve(['--data', data, '--config', config]);
    for (const v of ['1.0.0', '1.0.1', '1.0.2'])
      tgz[v] = await makeTarball({ 'package/package.json': JSON.stringify({ name: 'gc-pkg', version: v }) });
    for (const v of ['1.0.0', '1.0.1']) {
      const res = await api('gc-pkg', {
        method: 'PUT',
        body: JSON.stringify(await publishBody('gc-pkg', v, { tarball: tgz[v] })),
      });
      assert.equal(res.status, 201, await res.text());
    }
    // 1.0.2 is staged, and left to expire (stage.ttl is 1s here).
    const staged = await api('-/stage/package/gc-pkg', {
      method: 'POST',
      body: JSON.stringify(await publishBody('gc-pkg', '1.0.2', { tarball: tgz['1.0.2'] })),
    });
    assert.ok(staged.status < 300, await staged.text());
    const expired = new Promise((r) => setTimeout(r, 1100));
    // 1.0.1 is unpublished, the way npm does it: the document without it, at its revision.
    const doc = (await (await api('gc-pkg?write=true')).json()) as {
      _rev: string;
      versions: Record<string, unknown>;
      time: Record<string, unknown>;
    };
    delete doc.versions['1.0.1'];
    delete doc.time['1.0.1'];
    const put = await api(`gc-pkg/-rev/${doc._rev}`, { method: 'PUT', body: JSON.stringify(doc) });
    assert.equal(put.status, 201, await put.text());
    // A put() that crashed long ago left a temporary file.
    const tmpDir = join(data, 'blobs', 'ab', 'cd');
    mkdirSync(tmpDir, { recursive: true });
    writeFileSync(join(tmpDir, 'abcd-leftover.1234.tmp'), 'half a tarball');
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(tmpDir, 'abcd-leftover.1234.tmp'), old, old);
    await expired;
  });
  after(async () => {
    await srv.stop();
    await dropStore();
  });

  test('everything just written is younger than the default grace period: nothing goes but the old leftover', async () => {
    const r = await gc('--json', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { kept: number; young: number; removed: { key: string | null }[] };
    assert.deepEqual(
      report.removed.map((b) => b.key),
      [null],
    );
    assert.equal(report.kept, 1, 'the tarball of 1.0.0');
    assert.equal(report.young, 2, 'the unpublished tarball and the expired staged one');
  });

  test('--dry-run lists what would go and deletes nothing', async () => {
    const r = await gc('--grace', '0s', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`would remove ${keyOf(tgz['1.0.1'])}`));
    assert.match(r.stdout, new RegExp(`would remove ${keyOf(tgz['1.0.2'])}`));
    assert.match(r.stdout, /would remove \(temporary file\)/);
    assert.match(r.stdout, /would remove 3 blob\(s\), \d+ bytes; kept 1 in use/);
    for (const v of ['1.0.0', '1.0.1', '1.0.2']) assert.ok(existsSync(blobPath(keyOf(tgz[v]))), v);
  });

  test('removes the unpublished and expired staged tarballs while the server runs; what is served stays', async () => {
    const r = await gc('--grace', '0s', '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { removed: { key: string | null }[]; removedBytes: number };
    assert.deepEqual(
      new Set(report.removed.map((b) => b.key)),
      new Set([keyOf(tgz['1.0.1']), keyOf(tgz['1.0.2']), null]),
    );
    assert.ok(!existsSync(blobPath(keyOf(tgz['1.0.1']))));
    assert.ok(!existsSync(blobPath(keyOf(tgz['1.0.2']))));
    assert.ok(existsSync(blobPath(keyOf(tgz['1.0.0']))));
    const served = await api('gc-pkg/-/gc-pkg-1.0.0.tgz');
    assert.equal(served.status, 200);
    assert.ok(Buffer.from(await served.arrayBuffer()).equals(tgz['1.0.0']));
    assert.equal((await api('gc-pkg/-/gc-pkg-1.0.1.tgz')).status, 404);

    const again = await gc('--grace', '0s');
    assert.match(again.stdout, /removed 0 blob\(s\), 0 bytes; kept 1 in use/);
    const audit = await tessera(['audit', '--data', data, '--json']);
    const events = audit.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; removed?: number; bytes?: number });
    assert.equal(
      events.filter((e) => e.event === 'stage-expired').length,
      1,
      'the expired stage was swept, and audited',
    );
    const collected = events.filter((e) => e.event === 'blobs-collected');
    assert.equal(collected.length, 1, 'a run that removes nothing writes no event');
    assert.equal(collected[0].removed, 3);
    assert.equal(collected[0].bytes, report.removedBytes);
  });

  test('a bad --grace is refused', async () => {
    const r = await gc('--grace', 'soon');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid --grace "soon"/);
  });
});

describe('blob store: storing bytes again protects them from a collection under way', () => {
  test('put() of bytes already stored refreshes their time; reclaim() then keeps them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-blobs-'));
    const blobs = filesystemBlobs(root);
    const bytes = Buffer.from('the same tarball');
    const key = await blobs.put(bytes);
    const path = join(root, key.slice(0, 2), key.slice(2, 4), key);
    const old = new Date(Date.now() - 7 * 86_400_000);
    utimesSync(path, old, old);
    const [entry] = await all(blobs.list());
    assert.equal(entry.key, key);
    const cutoff = Date.now() - 3_600_000;
    assert.ok(entry.modifiedAt < cutoff);

    assert.equal(await blobs.put(bytes), key); // a publish stores the same bytes again, after gc listed them
    assert.ok(statSync(path).mtimeMs > cutoff);
    assert.equal(await blobs.reclaim(entry, cutoff), false);
    assert.ok((await blobs.get(key))?.equals(bytes));

    utimesSync(path, old, old);
    assert.equal(await blobs.reclaim(entry, cutoff), true);
    assert.equal(await blobs.get(key), undefined);
    assert.deepEqual(await all(blobs.list()), []);
  });
});
