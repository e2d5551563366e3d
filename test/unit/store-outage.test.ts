// Which errors are a store outage (503 store-unavailable) and which are not: a network error counts only where
// it comes from the store (StoreUnavailable), so an upstream registry's ECONNREFUSED is never called the database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionFailure, guardBlobs, StoreUnavailable, unavailablePart } from '../../src/store/outage.ts';
import type { BlobStore } from '../../src/store/blobs/filesystem.ts';

const err = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);

test('only StoreUnavailable and SQLite busy, locked, I/O and full-disk errors are outages', () => {
  assert.equal(unavailablePart(new StoreUnavailable('database', err({ code: 'ECONNREFUSED' }))), 'database');
  assert.equal(unavailablePart(new StoreUnavailable('blob store', new Error('gone'))), 'blob store');
  assert.equal(unavailablePart(err({ code: 'ERR_SQLITE_ERROR', errcode: 5 }, 'database is locked')), 'database');
  assert.equal(unavailablePart(err({ code: 'ERR_SQLITE_ERROR', errcode: 13 }, 'database or disk is full')), 'database');
  assert.equal(
    unavailablePart(err({ code: 'ERR_SQLITE_ERROR', errcode: 2067 }, 'UNIQUE constraint failed')),
    undefined,
  );
  assert.equal(unavailablePart(err({ code: 'ECONNREFUSED' })), undefined, 'whose server? not said');
  assert.equal(unavailablePart(new TypeError('x is undefined')), undefined);
  assert.equal(unavailablePart(undefined), undefined);
});

test('a PostgreSQL connection failure is told from a statement that failed', () => {
  for (const e of [
    err({ code: 'ECONNRESET' }),
    err({ code: '57P01' }, 'terminating connection due to administrator command'),
    err({ code: '08006' }),
    err({ code: '53300' }, 'sorry, too many clients already'),
    new Error('Connection terminated unexpectedly'),
  ]) {
    assert.ok(connectionFailure(e), String(e));
  }
  for (const e of [err({ code: '23505' }), err({ code: '40001' }), new Error('syntax error'), null]) {
    assert.ok(!connectionFailure(e), String(e));
  }
});

test('every failure of a blob store operation is the blob store being unavailable', async () => {
  const broken: BlobStore = {
    put: async () => Promise.reject(err({ code: 'ENOSPC' })),
    get: async () => Promise.reject(err({ $metadata: { httpStatusCode: 503 } })),
    list: async function* () {},
    entry: async () => undefined,
    reclaim: async () => false,
  };
  const blobs = guardBlobs(broken);
  await assert.rejects(blobs.put(Buffer.from('x')), (e) => unavailablePart(e) === 'blob store');
  await assert.rejects(blobs.get('ab'), (e) => unavailablePart(e) === 'blob store');
});
