// `database: postgres://…` and TESSERA_DATABASE_URL select PostgreSQL; without them the data folder's SQLite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFile, defaults, loadConfig } from '../../src/config/config.ts';

test('SQLite in the data folder is the default', () => {
  assert.equal(loadConfig({}, {}).database, null);
});

test('a postgres:// URL from the file, and the environment over the file', () => {
  const c = applyFile(defaults, { database: 'postgres://tessera@db.internal:5432/registry' }, '/');
  assert.equal(c.database, 'postgres://tessera@db.internal:5432/registry');
  const env = { TESSERA_DATABASE_URL: 'postgresql://other@127.0.0.1/registry' };
  assert.equal(loadConfig({}, env).database, 'postgresql://other@127.0.0.1/registry');
});

test('anything but a postgres:// URL is refused, naming the key', () => {
  assert.throws(() => applyFile(defaults, { database: 'mysql://x/y' }, '/'), /config: database: must be a postgres/);
  assert.throws(() => loadConfig({}, { TESSERA_DATABASE_URL: 'file.db' }), /TESSERA_DATABASE_URL/);
});
