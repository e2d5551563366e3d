// Change counters: a bump rolled back must never be mistaken for a later committed one (watchers in the
// writing process read through the same connection and may see the bump before it commits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.ts';
import { bumpCounter } from '../../src/store/counters.ts';

test('a rolled-back bump, then a committed one: the watcher sees a value it has not seen before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-counters-'));
  const store = await openStore(dir);
  try {
    const before = store.counter('packages');
    let seenInside = '';
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await bumpCounter(trx, 'packages');
        seenInside = store.counter('packages'); // what a watcher polling now would remember
        throw new Error('the write fails after its bump');
      }),
      /the write fails/,
    );
    assert.notEqual(seenInside, before);
    assert.equal(store.counter('packages'), before, 'rolled back');
    await store.db.transaction().execute(async (trx) => {
      await bumpCounter(trx, 'packages');
    });
    const after = store.counter('packages');
    assert.notEqual(after, before);
    assert.notEqual(after, seenInside, 'the committed change must look new to a watcher that saw the rolled-back bump');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
