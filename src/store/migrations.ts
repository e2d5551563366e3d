// Schema migrations, applied in order at open. Written for SQLite, in SQL kept close to portable
// (times as BIGINT milliseconds, JSON as TEXT); a PostgreSQL port would still need its own forms of
// `INTEGER PRIMARY KEY AUTOINCREMENT` and of the counter bump in counters.ts.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

const migrations: string[] = [
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
];

export async function migrate(db: Kysely<Database>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`.execute(db);
  const row = await sql<{ version: number }>`SELECT max(version) AS version FROM schema_version`.execute(db);
  const current = row.rows[0]?.version ?? 0;
  for (let i = current; i < migrations.length; i++) {
    await db.transaction().execute(async (trx) => {
      for (const stmt of migrations[i].split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) {
        await sql.raw(stmt).execute(trx);
      }
      await sql`INSERT INTO schema_version (version) VALUES (${i + 1})`.execute(trx);
    });
  }
}
