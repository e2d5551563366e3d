// Takes a test server's PostgreSQL database away and gives it back, as an outage or a failover would: new
// connections are refused and the open ones (the server's pool and its LISTEN connection) are cut.
import pg from 'pg';
import { sharedPostgres } from './postgres.ts';

/** Runs one statement as the shared PostgreSQL's administrator, on a connection of its own. */
export async function admin(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: (await sharedPostgres()).url });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

/** Makes the database at `url` unreachable; call the function it returns to bring it back. */
export async function databaseAway(url: string): Promise<() => Promise<void>> {
  const name = new URL(url).pathname.slice(1);
  if (!/^t_[0-9a-f]+$/.test(name)) throw new Error(`not a test database: ${name}`);
  await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
  return () => admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
}
