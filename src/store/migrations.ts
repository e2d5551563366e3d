// APPEND-ONLY: never edit a migration that has landed; data folders made by every earlier commit must
// upgrade. A change to the schema is a new entry at the end (migration 1 was once edited in place, and
// migration 6 repairs the data folders that missed those edits).
//
// Schema migrations, applied in order at open, on SQLite and on PostgreSQL from this one list. Written for
// SQLite, in SQL kept close to portable (times as BIGINT milliseconds, JSON as TEXT); PostgreSQL runs the
// same text through forPostgres. A step that only one dialect needs names both forms.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Step = string | ((db: Kysely<Database>) => Promise<void>);
/** SQL statements separated by `;` at a line end, or a step that must look at the schema first; null: nothing. */
type Migration = Step | { sqlite: Step; postgres: Step | null };

export type Dialect = 'sqlite' | 'postgres';

const migrations: Migration[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     email TEXT NOT NULL,
     email_verified INTEGER NOT NULL DEFAULT 0,
     password_hash TEXT,
     admin INTEGER NOT NULL DEFAULT 0,
     disabled INTEGER NOT NULL DEFAULT 0,
     tfa TEXT,
     created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL);
   CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     user_id INTEGER NOT NULL REFERENCES users(id),
     hash TEXT NOT NULL UNIQUE,
     kind TEXT NOT NULL,
     name TEXT,
     description TEXT,
     display TEXT NOT NULL,
     readonly INTEGER NOT NULL DEFAULT 0,
     grants TEXT,
     cidr TEXT,
     bypass_2fa INTEGER NOT NULL DEFAULT 0,
     created_at BIGINT NOT NULL,
     expires_at BIGINT,
     revoked_at BIGINT,
     revoked_why TEXT,
     last_used_at BIGINT);
   CREATE INDEX tokens_user ON tokens(user_id);
   CREATE TABLE packages (
     name TEXT PRIMARY KEY,
     scope TEXT,
     access TEXT NOT NULL,
     origin TEXT NOT NULL,
     rev INTEGER NOT NULL,
     created_at BIGINT NOT NULL,
     modified_at BIGINT NOT NULL,
     deleted_at BIGINT,
     etag TEXT NOT NULL,
     fetched_at BIGINT,
     mfa TEXT NOT NULL DEFAULT 'none',
     meta TEXT);
   CREATE INDEX packages_scope ON packages(scope);
   -- The rendered documents live apart, so reading a package's head never touches megabytes of JSON.
   CREATE TABLE packuments (
     name TEXT PRIMARY KEY REFERENCES packages(name),
     doc TEXT NOT NULL,
     abbrev TEXT NOT NULL,
     readme TEXT);
   CREATE TABLE versions (
     package TEXT NOT NULL REFERENCES packages(name),
     version TEXT NOT NULL,
     manifest TEXT NOT NULL,
     integrity TEXT NOT NULL,
     shasum TEXT NOT NULL,
     size INTEGER NOT NULL,
     blob TEXT NOT NULL,
     published_by INTEGER,
     published_at BIGINT NOT NULL,
     unpublished_at BIGINT,
     deprecated TEXT,
     PRIMARY KEY (package, version));
   CREATE TABLE dist_tags (package TEXT NOT NULL, tag TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (package, tag));
   CREATE TABLE maintainers (package TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id), PRIMARY KEY (package, user_id));
   CREATE INDEX maintainers_user ON maintainers(user_id);
   CREATE TABLE stars (package TEXT NOT NULL, user_id INTEGER NOT NULL, PRIMARY KEY (package, user_id));
   CREATE TABLE attachments (package TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, content_type TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (package, version, name));
   CREATE TABLE web_logins (id TEXT PRIMARY KEY, user_id INTEGER, kind TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
   CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at BIGINT NOT NULL, event TEXT NOT NULL, user_name TEXT, token_id TEXT, reason TEXT, detail TEXT);
   CREATE INDEX audit_at ON audit(at);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   INSERT INTO meta (key, value) VALUES ('revocations', '0');
   INSERT INTO meta (key, value) VALUES ('packages', '0');`,
  // 2FA: package publishing policy, and the proof a browser OTP step hands to the CLI.
  `ALTER TABLE web_logins ADD COLUMN proof TEXT;
   ALTER TABLE users ADD COLUMN profile TEXT;`,
  // Organizations own a scope; teams group members and hold package grants; e-mail verification links.
  `CREATE TABLE orgs (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL);
   CREATE TABLE org_members (org TEXT NOT NULL REFERENCES orgs(name), user_id INTEGER NOT NULL REFERENCES users(id), role TEXT NOT NULL, PRIMARY KEY (org, user_id));
   CREATE INDEX org_members_user ON org_members(user_id);
   CREATE TABLE teams (org TEXT NOT NULL REFERENCES orgs(name), name TEXT NOT NULL, description TEXT, created_at BIGINT NOT NULL, PRIMARY KEY (org, name));
   CREATE TABLE team_members (org TEXT NOT NULL, team TEXT NOT NULL, user_id INTEGER NOT NULL REFERENCES users(id), PRIMARY KEY (org, team, user_id));
   CREATE TABLE team_packages (org TEXT NOT NULL, team TEXT NOT NULL, package TEXT NOT NULL, permission TEXT NOT NULL, PRIMARY KEY (org, team, package));
   CREATE INDEX team_packages_package ON team_packages(package);
   CREATE TABLE email_verifications (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), email TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);`,
  // Trusted publishing: per-package OIDC trust configurations.
  `CREATE TABLE trust_configs (id TEXT PRIMARY KEY, package TEXT NOT NULL, type TEXT NOT NULL, issuer TEXT, claims TEXT NOT NULL,
     permissions TEXT NOT NULL, created_by INTEGER NOT NULL REFERENCES users(id), created_at BIGINT NOT NULL);
   CREATE INDEX trust_configs_package ON trust_configs(package);`,
  // Staged publishing: staged versions wait apart from published ones, but both take their number from
  // version_claims, whose key is what makes a version number unique across the two.
  `CREATE TABLE version_claims (package TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (package, version));
   INSERT INTO version_claims (package, version, state)
     SELECT versions.package, versions.version, 'published' FROM versions INNER JOIN packages ON packages.name = versions.package
     WHERE packages.origin = 'local';
   CREATE TABLE staged (id TEXT PRIMARY KEY, package TEXT NOT NULL, version TEXT NOT NULL, tag TEXT NOT NULL, access TEXT,
     manifest TEXT NOT NULL, integrity TEXT NOT NULL, shasum TEXT NOT NULL, size INTEGER NOT NULL, blob TEXT NOT NULL, provenance TEXT,
     actor TEXT NOT NULL, actor_type TEXT NOT NULL, staged_by INTEGER REFERENCES users(id), created_at BIGINT NOT NULL,
     UNIQUE (package, version), FOREIGN KEY (package, version) REFERENCES version_claims(package, version));
   CREATE INDEX staged_created ON staged(created_at);`,
  // Migration 1 was edited in place twice: data folders made by the first set keep the rendered documents
  // in `packages` (doc, abbrev, readme NOT NULL), may lack its `mfa` column (once added by migration 2)
  // and lack the `packages` counter. Bring any of them to today's shape; a no-op on a current one.
  // No PostgreSQL database was ever made by the first set: nothing to repair there.
  { sqlite: repairFirstSet, postgres: null },
  // The web pages: each version's README, rendered and sanitized at publish time, and its tarball's files.
  `CREATE TABLE version_views (package TEXT NOT NULL, version TEXT NOT NULL, readme_html TEXT NOT NULL,
     files TEXT NOT NULL, PRIMARY KEY (package, version));`,
  // Webhooks: deliveries wait here until the receiver took them (at least once, in order per hook and package).
  `CREATE TABLE hook_deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, hook TEXT NOT NULL, package TEXT NOT NULL,
     event TEXT NOT NULL, delivery TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
     next_at BIGINT NOT NULL, created_at BIGINT NOT NULL, last_error TEXT);
   CREATE INDEX hook_deliveries_pending ON hook_deliveries(state, hook, package, id);`,
  // Accounts made by a sign-in through the LDAP directory: the periodic check finds them here, and
  // removed_at says the directory (not an administrator) disabled the account.
  `CREATE TABLE ldap_accounts (user_id INTEGER PRIMARY KEY REFERENCES users(id), dn TEXT NOT NULL,
     synced_at BIGINT NOT NULL, removed_at BIGINT);`,
  // Web pages of packages with thousands of versions: the newest versions and their count from an index,
  // without reading each version's row (its manifest).
  'CREATE INDEX IF NOT EXISTS versions_published ON versions(package, unpublished_at, published_at)',
  // Webhooks maintainers manage over npm's hooks API (/-/npm/v1/hooks): owned by the user who made them,
  // the secret sealed with the data folder's key (it signs payloads, so it cannot be hashed).
  `CREATE TABLE hooks (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), type TEXT NOT NULL,
     name TEXT NOT NULL, endpoint TEXT NOT NULL, secret TEXT NOT NULL, created_at BIGINT NOT NULL,
     updated_at BIGINT NOT NULL, last_delivery BIGINT, response_code INTEGER);
   CREATE INDEX hooks_user ON hooks(user_id, created_at);
   CREATE INDEX hooks_target ON hooks(type, name);`,
  // Company sign-in (OpenID Connect): the provider's subject an account is bound to, its refresh token
  // (sealed, like TOTP seeds) and the groups last seen, for the refresh that follows the directory; and the
  // memberships a directory took away (team '' = the whole org), so a refusal can say why.
  `CREATE TABLE sso_identities (user_id INTEGER PRIMARY KEY REFERENCES users(id), issuer TEXT NOT NULL,
     subject TEXT NOT NULL, refresh_token TEXT, groups TEXT NOT NULL, signed_in_at BIGINT NOT NULL,
     refreshed_at BIGINT, UNIQUE (issuer, subject));
   CREATE TABLE directory_removals (user_id INTEGER NOT NULL REFERENCES users(id), org TEXT NOT NULL,
     team TEXT NOT NULL, source TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (user_id, org, team));`,
  // A local package's documents as a shell and chunks of versions' text (domain/packument.ts Layout), so
  // that a publish writes the chunk it appends to instead of the whole document. A NULL layout: `doc` and
  // `abbrev` are whole (proxied packages, and documents rendered before this step).
  `ALTER TABLE packuments ADD COLUMN layout TEXT;
   CREATE TABLE packument_chunks (name TEXT NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL, abbrev TEXT NOT NULL,
     versions TEXT NOT NULL, PRIMARY KEY (name, seq));`,
  // State several nodes share: login attempts counted per address and per user name, and leases that let one
  // node at a time run a periodic job.
  `CREATE TABLE login_throttles (key TEXT PRIMARY KEY, count INTEGER NOT NULL, since BIGINT NOT NULL);
   CREATE INDEX login_throttles_since ON login_throttles(since);
   CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, until BIGINT NOT NULL);`,
];

const packagesColumns = [
  'name',
  'scope',
  'access',
  'origin',
  'rev',
  'created_at',
  'modified_at',
  'deleted_at',
  'etag',
  'fetched_at',
  'mfa',
  'meta',
];

async function repairFirstSet(db: Kysely<Database>): Promise<void> {
  const run = (stmt: string) => sql.raw(stmt).execute(db);
  const has = await sql<{ name: string }>`SELECT name FROM pragma_table_info('packages')`.execute(db);
  const columns = new Set(has.rows.map((r) => r.name));
  const packuments = await sql`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'packuments'`.execute(db);
  if (packuments.rows.length === 0) {
    await run(`CREATE TABLE packuments (
     name TEXT PRIMARY KEY REFERENCES packages(name),
     doc TEXT NOT NULL,
     abbrev TEXT NOT NULL,
     readme TEXT)`);
  }
  if (packagesColumns.some((c) => !columns.has(c)) || columns.size !== packagesColumns.length) {
    // SQLite's own recipe for changing a table: copy, drop, create as today, copy back (foreign keys are
    // off for this migration, so the tables that reference packages keep their rows and their text).
    await run('CREATE TABLE packages_before_6 AS SELECT * FROM packages');
    await run('DROP TABLE packages');
    await run(`CREATE TABLE packages (
     name TEXT PRIMARY KEY,
     scope TEXT,
     access TEXT NOT NULL,
     origin TEXT NOT NULL,
     rev INTEGER NOT NULL,
     created_at BIGINT NOT NULL,
     modified_at BIGINT NOT NULL,
     deleted_at BIGINT,
     etag TEXT NOT NULL,
     fetched_at BIGINT,
     mfa TEXT NOT NULL DEFAULT 'none',
     meta TEXT)`);
    await run('CREATE INDEX packages_scope ON packages(scope)');
    const copied = packagesColumns.filter((c) => columns.has(c)).join(', ');
    await run(`INSERT INTO packages (${copied}) SELECT ${copied} FROM packages_before_6`);
    if (columns.has('doc')) {
      await run(`INSERT OR IGNORE INTO packuments (name, doc, abbrev, readme)
        SELECT name, doc, abbrev, ${columns.has('readme') ? 'readme' : 'NULL'} FROM packages_before_6`);
    }
    await run('DROP TABLE packages_before_6');
  }
  await run("INSERT OR IGNORE INTO meta (key, value) VALUES ('revocations', '0')");
  await run("INSERT OR IGNORE INTO meta (key, value) VALUES ('packages', '0')");
  const broken = await sql`PRAGMA foreign_key_check`.execute(db);
  if (broken.rows.length) {
    throw new Error(`migration 6: foreign keys broken: ${JSON.stringify(broken.rows.slice(0, 5))}`);
  }
}

/**
 * SQLite's forms in PostgreSQL's words. Every INTEGER becomes BIGINT: SQLite's INTEGER holds 64 bits, and
 * ids, sizes and counts must not overflow where SQLite never did (the parsers in postgres/dialect.ts turn
 * BIGINT back into numbers).
 */
export function forPostgres(text: string): string {
  return text
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT');
}

async function runStep(db: Kysely<Database>, step: Step): Promise<void> {
  if (typeof step === 'function') return step(db);
  for (const stmt of step
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    await sql.raw(stmt).execute(db);
  }
}

/** Any fixed number: the advisory lock every node takes before it looks at schema_version. */
const MIGRATION_LOCK = 7_357_001;

export async function migrate(db: Kysely<Database>, dialect: Dialect = 'sqlite'): Promise<void> {
  if (dialect === 'postgres') return migratePostgres(db);
  await sql`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`.execute(db);
  const row = await sql<{ version: number }>`SELECT max(version) AS version FROM schema_version`.execute(db);
  const current = row.rows[0]?.version ?? 0;
  for (let i = current; i < migrations.length; i++) {
    const entry = migrations[i];
    const step = typeof entry === 'object' ? entry.sqlite : entry;
    // A step that rebuilds tables runs with foreign keys off (SQLite ignores the pragma inside a
    // transaction) and checks them itself before it commits.
    if (typeof step === 'function') await sql`PRAGMA foreign_keys = OFF`.execute(db);
    try {
      await db.transaction().execute(async (trx) => {
        await runStep(trx, step);
        await sql`INSERT INTO schema_version (version) VALUES (${i + 1})`.execute(trx);
      });
    } finally {
      if (typeof step === 'function') await sql`PRAGMA foreign_keys = ON`.execute(db);
    }
  }
}

/**
 * One migration per transaction, each under a transaction-scoped advisory lock: nodes that start together
 * queue on the lock, and each reads schema_version only once it holds it, so no step runs twice. Their DDL
 * is transactional on PostgreSQL, so a step that fails leaves nothing half done.
 */
async function migratePostgres(db: Kysely<Database>): Promise<void> {
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
      await sql`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`.execute(trx);
      const row = await sql<{ version: number | null }>`SELECT max(version) AS version FROM schema_version`.execute(
        trx,
      );
      const current = row.rows[0]?.version ?? 0;
      if (current >= migrations.length) return true;
      const entry = migrations[current];
      // A function alone is SQLite's; a step PostgreSQL needs too must name both forms.
      if (typeof entry === 'function') throw new Error(`migration ${current + 1}: no PostgreSQL form`);
      const step = typeof entry === 'object' ? entry.postgres : forPostgres(entry);
      if (step !== null) await runStep(trx, step);
      await sql`INSERT INTO schema_version (version) VALUES (${current + 1})`.execute(trx);
      return false;
    });
    if (done) return;
  }
}
