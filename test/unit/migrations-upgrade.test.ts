// Migrations are append-only: a data folder made by the first migration set (fixture: its SQL, frozen)
// opens with today's code and ends up with exactly today's schema, its data and both change counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openStore, type Store } from '../../src/store/store.ts';
import { bumpCounter } from '../../src/store/counters.ts';

const firstSet = readFileSync(new URL('../fixtures/migrations/first-set.sql', import.meta.url), 'utf8');

/** sqlite_master as a comparable list: whitespace in the stored CREATE text is not schema. */
function schemaOf(dir: string): string[] {
  const db = new DatabaseSync(join(dir, 'tessera.db'));
  try {
    const rows = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
    return rows.map((r) => `${r.type} ${r.name} on ${r.tbl_name}: ${String(r.sql ?? '').replace(/\s+/g, ' ')}`);
  } finally {
    db.close();
  }
}

function withDirs(fn: (old: string, fresh: string) => Promise<void>) {
  return async () => {
    const old = mkdtempSync(join(tmpdir(), 'tessera-first-set-'));
    const fresh = mkdtempSync(join(tmpdir(), 'tessera-fresh-'));
    try {
      await fn(old, fresh);
    } finally {
      rmSync(old, { recursive: true, force: true });
      rmSync(fresh, { recursive: true, force: true });
    }
  };
}

/** A data folder as the first commit left it: its schema, one user, one package with one version. */
function makeFirstSetFolder(dir: string): void {
  const db = new DatabaseSync(join(dir, 'tessera.db'));
  db.exec(firstSet);
  db.exec(`INSERT INTO users (name, email, created_at, updated_at) VALUES ('alice', 'a@example.com', 1, 1);
    INSERT INTO packages (name, scope, access, origin, rev, created_at, modified_at, doc, abbrev, etag, readme)
      VALUES ('left-pad', NULL, 'public', 'local', 1, 1, 1,
        '{"name":"left-pad"}', '{"name":"left-pad","a":1}', '"e1"', '# hi');
    INSERT INTO versions (package, version, manifest, integrity, shasum, size, blob, published_by, published_at)
      VALUES ('left-pad', '1.0.0', '{}', 'sha512-x', 'abc', 3, 'blob', 1, 1);
    INSERT INTO dist_tags (package, tag, version) VALUES ('left-pad', 'latest', '1.0.0');
    INSERT INTO maintainers (package, user_id) VALUES ('left-pad', 1);`);
  db.close();
}

async function closeAll(...stores: Store[]) {
  for (const s of stores) await s.close();
}

test(
  'a first-set data folder upgrades to exactly the schema a fresh one gets',
  withDirs(async (old, fresh) => {
    makeFirstSetFolder(old);
    assert.ok(
      schemaOf(old).some((l) => l.includes('doc TEXT NOT NULL')),
      'the fixture is the old layout',
    );
    const upgraded = await openStore(old);
    const created = await openStore(fresh);
    await closeAll(upgraded, created);
    assert.deepEqual(schemaOf(old), schemaOf(fresh));
  }),
);

test(
  'after the upgrade: rows kept, documents moved, counters present, cross-process changes seen',
  withDirs(async (old) => {
    makeFirstSetFolder(old);
    const a = await openStore(old);
    const b = await openStore(old); // another process on the same data folder
    try {
      const pkg = await a.db
        .selectFrom('packages')
        .selectAll()
        .where('name', '=', 'left-pad')
        .executeTakeFirstOrThrow();
      assert.equal(pkg.mfa, 'none');
      assert.equal(pkg.etag, '"e1"');
      const doc = await a.db
        .selectFrom('packuments')
        .selectAll()
        .where('name', '=', 'left-pad')
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        { ...doc },
        // No layout: the documents are whole until the package's next write.
        {
          name: 'left-pad',
          doc: '{"name":"left-pad"}',
          abbrev: '{"name":"left-pad","a":1}',
          readme: '# hi',
          layout: null,
        },
      );
      const claims = await a.db.selectFrom('version_claims').selectAll().execute();
      assert.deepEqual(
        claims.map((c) => ({ ...c })),
        [{ package: 'left-pad', version: '1.0.0', state: 'published' }],
      );
      assert.equal(a.counter('packages'), '0');
      assert.equal(a.counter('revocations'), '0');
      const seen = b.counter('packages');
      await a.db.transaction().execute(async (trx) => {
        await bumpCounter(trx, 'packages');
      });
      assert.notEqual(b.counter('packages'), seen, 'the other store sees the packages counter move');
      // The upgraded tables take today's writes, foreign keys on.
      await b.db
        .insertInto('packages')
        .values({
          name: 'b',
          scope: null,
          access: 'public',
          origin: 'local',
          rev: 1,
          created_at: 2,
          modified_at: 2,
          etag: 'e',
          fetched_at: null,
          deleted_at: null,
          meta: null,
        })
        .execute();
      await b.db.insertInto('packuments').values({ name: 'b', doc: '{}', abbrev: '{}', readme: null }).execute();
      await assert.rejects(
        b.db.insertInto('packuments').values({ name: 'nope', doc: '{}', abbrev: '{}', readme: null }).execute(),
        /FOREIGN KEY/,
      );
    } finally {
      await closeAll(a, b);
    }
  }),
);

test(
  'a folder made after migration 1 moved the documents, but before the packages counter, gets it',
  withDirs(async (old, fresh) => {
    await openStore(old).then(closeAll);
    // As commit 6f660a0 left it: four migrations, documents apart, no counter, no staging tables yet.
    const db = new DatabaseSync(join(old, 'tessera.db'));
    db.exec(`DELETE FROM meta WHERE key = 'packages'; DELETE FROM schema_version WHERE version > 4;
      DROP TABLE staged; DROP TABLE version_claims; DROP TABLE version_views; DROP TABLE hook_deliveries;
      DROP TABLE ldap_accounts; DROP INDEX versions_published; DROP TABLE hooks;
      DROP TABLE sso_identities; DROP TABLE directory_removals;
      DROP TABLE packument_chunks; ALTER TABLE packuments DROP COLUMN layout;
      DROP TABLE login_throttles; DROP TABLE leases;`);
    db.close();
    const s = await openStore(old);
    assert.equal(s.counter('packages'), '0');
    const versions = await s.db
      .selectFrom('schema_version' as never)
      .select('version' as never)
      .execute();
    await s.close();
    await openStore(fresh).then(closeAll);
    assert.deepEqual(schemaOf(old), schemaOf(fresh));
    assert.equal(versions.length, 14);
  }),
);

test(
  'opening a current data folder twice changes nothing',
  withDirs(async (dir) => {
    await openStore(dir).then(closeAll);
    const before = schemaOf(dir);
    await openStore(dir).then(closeAll);
    assert.deepEqual(schemaOf(dir), before);
  }),
);

test(
  "a first-set folder that also ran the old migration 2 (packages.mfa) keeps each package's mfa",
  withDirs(async (old, fresh) => {
    makeFirstSetFolder(old);
    const db = new DatabaseSync(join(old, 'tessera.db'));
    db.exec(`ALTER TABLE packages ADD COLUMN mfa TEXT NOT NULL DEFAULT 'none';
      ALTER TABLE web_logins ADD COLUMN proof TEXT; ALTER TABLE users ADD COLUMN profile TEXT;
      UPDATE packages SET mfa = 'publish'; INSERT INTO schema_version (version) VALUES (2);`);
    db.close();
    const s = await openStore(old);
    const pkg = await s.db
      .selectFrom('packages')
      .select('mfa')
      .where('name', '=', 'left-pad')
      .executeTakeFirstOrThrow();
    await s.close();
    await openStore(fresh).then(closeAll);
    assert.equal(pkg.mfa, 'publish');
    assert.deepEqual(schemaOf(old), schemaOf(fresh));
  }),
);
