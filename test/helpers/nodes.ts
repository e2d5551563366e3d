// Several registry nodes in this process, each its own Fastify app on 127.0.0.1:0, sharing one data folder
// (its secret.key seals TOTP seeds for all of them) and one registry clock. With TESSERA_TEST_BACKEND=cluster
// each has its own store (its own PostgreSQL pool and LISTEN connection) on one fresh database and one S3
// bucket, as a cluster's nodes do; on the default backend they share the one SQLite store, as the apps of
// one embedded node would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaults, type Config } from '../../src/config/config.ts';
import { openStore } from '../../src/store/store.ts';
import { buildApp } from '../../src/http/server.ts';
import type { Ctx } from '../../src/services/context.ts';
import type { Authenticator } from '../../src/services/authenticate.ts';
import { createUser } from '../../src/services/accounts.ts';
import { issueToken } from '../../src/services/tokens.ts';
import { testClock, type TestClock, type TestServer } from './server.ts';
import { sharedPostgres } from './postgres.ts';
import { s3BlobsConfig, sharedRgw } from './rgw.ts';

/** What raw-request.ts's send() needs of a server is its URL: a node is one. */
export type Node = Pick<TestServer, 'url' | 'host'> & { ctx: Ctx; auth: Authenticator };

export type Nodes = {
  nodes: Node[];
  clock: TestClock;
  backend: 'sqlite' | 'postgres';
  addUser(name: string): Promise<void>;
  token(user: string): Promise<string>;
  close(): Promise<void>;
};

export async function startNodes(count: number, overrides: Partial<Config> = {}): Promise<Nodes> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-nodes-'));
  const config: Config = { ...structuredClone(defaults), data: dataDir, listen: { host: '127.0.0.1', port: 0 } };
  Object.assign(config, overrides);
  const cluster = process.env.TESSERA_TEST_BACKEND === 'cluster';
  if (cluster) {
    config.database = await (await sharedPostgres()).createDatabase();
    if (overrides.blobs === undefined) Object.assign(config, await s3BlobsConfig(await sharedRgw()));
  }
  const clock = testClock();
  const apps: Awaited<ReturnType<typeof buildApp>>[] = [];
  const nodes: Node[] = [];
  // One after another: the first runs the migrations (nodes started together are tested in migrations-postgres).
  // SQLite serves one node: its apps share one connection (node:sqlite waits for a lock synchronously, so two
  // connections in one process, each inside a transaction, would stop each other's event loop).
  const sqlite = cluster ? undefined : await openStore(dataDir, config);
  for (let i = 0; i < count; i++) {
    const store = sqlite ?? (await openStore(dataDir, config));
    const ctx: Ctx = { store, config, clock };
    const app = await buildApp(ctx, { logger: { level: 'warn', file: join(dataDir, `node-${i}.log`) } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    apps.push(app);
    nodes.push({ url: `http://127.0.0.1:${port}/`, host: `127.0.0.1:${port}`, ctx, auth: app.tessera.auth });
  }
  const ctx = nodes[0].ctx;
  return {
    nodes,
    clock,
    backend: cluster ? 'postgres' : 'sqlite',
    async addUser(name) {
      await createUser(ctx, { name, email: `${name}@example.com`, password: `${name}-password` });
    },
    async token(user) {
      return (await issueToken(ctx, { user, kind: 'session', expiresInMs: 3_600_000 })).token;
    },
    async close() {
      for (const app of apps) await app.close();
      for (const store of new Set(nodes.map((n) => n.ctx.store))) await store.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (config.database) await (await sharedPostgres()).dropDatabase(config.database);
    },
  };
}
