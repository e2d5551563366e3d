// The read path's memory is bounded by the `cache` budgets of the configuration: rendered documents past
// `cache.documentBytes` are dropped least recently read first, and `cache.tarballBytes: 0` keeps no tarball.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { readCache } from '../../src/services/read-cache.ts';
import { applyFile, defaults } from '../../src/config/config.ts';

test('the cache keys are read from the file and checked', () => {
  const c = applyFile(structuredClone(defaults), { cache: { documentBytes: 1000, tarballBytes: 0 } }, '/');
  assert.deepEqual(c.cache, { documentBytes: 1000, tarballBytes: 0 });
  assert.deepEqual(applyFile(structuredClone(defaults), {}, '/').cache, defaults.cache);
  const negative = { cache: { documentBytes: -1 } };
  assert.throws(() => applyFile(structuredClone(defaults), negative, '/'), /cache\.documentBytes/);
  assert.throws(() => applyFile(structuredClone(defaults), { cache: { blobs: 1 } }, '/'), /cache\.blobs: unknown key/);
});

test('documents beyond cache.documentBytes are dropped; cache.tarballBytes 0 keeps no tarball', async () => {
  const s = await startServer({ cache: { documentBytes: 60_000, tarballBytes: 0 } });
  try {
    await s.addUser('ada');
    const token = await s.token({ user: 'ada' });
    const names = ['budget-a', 'budget-b', 'budget-c', 'budget-d', 'budget-e', 'budget-f'];
    for (const name of names) {
      const body = await publishBody(name, '1.0.0');
      (body.versions['1.0.0'] as Record<string, unknown>).description = 'x'.repeat(6_000);
      const res = await fetch(`${s.url}${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201);
    }
    const cache = readCache(s.ctx.store);
    let most = 0;
    for (const name of names) {
      const doc = await fetch(`${s.url}${name}`);
      assert.equal(doc.status, 200);
      assert.equal(((await doc.json()) as { name: string }).name, name);
      const tgz = await fetch(`${s.url}${name}/-/${name}-1.0.0.tgz`);
      assert.equal(tgz.status, 200);
      assert.ok((await tgz.arrayBuffer()).byteLength > 0);
      most = Math.max(most, cache.documentBytes);
    }
    // Each document is held as text and as bytes for one base URL: about 2 × 2 × 6 kB + 6 kB ≈ 30 kB.
    assert.ok(most > 0 && most <= 60_000, `${most} bytes of documents held`);
    assert.equal(cache.tarballBytes, 0);
  } finally {
    await s.close();
  }
});
