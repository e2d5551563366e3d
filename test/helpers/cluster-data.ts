// For tests that start their own `tessera serve` on a data folder instead of startServer: on the cluster backend
// (TESSERA_TEST_BACKEND=cluster) that folder gets a fresh PostgreSQL database and a bucket, the way server.ts
// gives them to its servers, so `serve` and `tessera` given `--data DIR` open them (cli.ts, cluster-env.ts).
// A command with its own --config keeps its blobs in DIR/blobs: only TESSERA_CONFIG names the bucket.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { sharedPostgres } from './postgres.ts';
import { s3BlobsConfig, sharedRgw } from './rgw.ts';
import { clusterEnvFor, forgetClusterEnv, recordClusterEnv } from './cluster-env.ts';

export const clusterBackend = process.env.TESSERA_TEST_BACKEND === 'cluster';

/** The `skip` of a suite whose subject does not change with the store: it never opens the store under test,
 *  or it repeats with another client (npm 12 beside npm 11, pnpm, Yarn), another sweep, another way in (a
 *  web page, a directory sign-in) what suites that do run on both backends already take through every store
 *  query (the services behind a page are the API's). It runs once, in the SQLite pass; the cluster pass
 *  (which runs every file again on PostgreSQL and S3) does not repeat it. */
export const onceInSqlitePass = clusterBackend
  ? 'runs once, in the SQLite pass: what it checks does not change with the store'
  : false;

/** The `skip` of a suite about the cluster itself (several nodes, moving into PostgreSQL and S3): `npm test`'s
 *  SQLite pass would start a PostgreSQL of its own for it, so it runs in the cluster pass, on that pass's
 *  PostgreSQL and S3. Run alone (node --test <file>), it starts what it needs. */
export const onceInClusterPass =
  process.env.npm_lifecycle_event === 'test' ? 'runs in the cluster pass (npm run test:cluster)' : false;

/** The `skip` of a suite run once per npm major: the newest major repeats the first's store traffic, so the
 *  cluster pass runs the first major only. */
export const onceForLaterMajors = (major: number, majors: readonly number[]) =>
  major === majors[0] ? false : onceInSqlitePass;

/** Gives `dataDir` a cluster store when the run is on the cluster backend; returns what drops it again. */
export async function useClusterStore(dataDir: string): Promise<() => Promise<void>> {
  if (!clusterBackend) return async () => {};
  mkdirSync(dataDir, { recursive: true });
  const postgres = await sharedPostgres();
  const database = await postgres.createDatabase();
  const { blobs, s3 } = await s3BlobsConfig(await sharedRgw());
  const { redirectExpiryMs, ...rest } = s3;
  const config = join(dataDir, 'cluster.yaml');
  const file = { database, blobs, s3: { ...rest, redirectExpiry: `${redirectExpiryMs / 1000}s` } };
  writeFileSync(config, stringify(file));
  recordClusterEnv(dataDir, { TESSERA_DATABASE_URL: database, TESSERA_CONFIG: config });
  return async () => {
    forgetClusterEnv(dataDir);
    await postgres.dropDatabase(database);
  };
}

/** Every stored record of the store behind `dataDir` as text, to search for what must never be stored:
 *  the SQLite files (WAL too) on the embedded backend, every row of every table on PostgreSQL (bytea decoded). */
export async function storedText(dataDir: string): Promise<Record<string, string>> {
  const databaseUrl = clusterEnvFor(['--data', dataDir]).TESSERA_DATABASE_URL;
  if (!databaseUrl) {
    const files = readdirSync(dataDir).filter((f) => f.startsWith('tessera.db'));
    return Object.fromEntries(files.map((f) => [f, readFileSync(join(dataDir, f)).toString('latin1')]));
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    const out: Record<string, string> = {};
    for (const { name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      const text = rows.rows.map((r) => r.row).join('\n');
      out[name] = text.replace(/\\+x([0-9a-f]*)/g, (_, hex: string) => Buffer.from(hex, 'hex').toString('latin1'));
    }
    return out;
  } finally {
    await client.end();
  }
}
