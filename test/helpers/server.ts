// Starts a real Tessera (Fastify + SQLite + filesystem blobs) on 127.0.0.1:0 in a temporary data folder.
// TESSERA_TEST_BLOBS=s3 puts the blobs of every server a test file starts in a bucket of a real Ceph RGW
// (one cluster per test file, see rgw.ts), unless the test gives its own `blobs`.
// TESSERA_TEST_BACKEND=cluster gives every server a fresh PostgreSQL database (postgres.ts) and S3 blobs:
// the scale-out backend. `npm run test:cluster` starts one cluster of each for the whole run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaults, type Config } from '../../src/config/config.ts';
import { openStore } from '../../src/store/store.ts';
import { buildApp } from '../../src/http/server.ts';
import { stringify } from 'yaml';
import { s3BlobsConfig, sharedRgw } from './rgw.ts';
import { sharedPostgres } from './postgres.ts';
import { forgetClusterEnv, recordClusterEnv } from './cluster-env.ts';
import type { Clock } from '../../src/domain/clock.ts';
import type { Ctx } from '../../src/services/context.ts';
import { createUser } from '../../src/services/accounts.ts';
import { issueToken, type IssueSpec } from '../../src/services/tokens.ts';

export type TestClock = Clock & { advance(ms: number): void };

export function testClock(start = Date.now()): TestClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export type TestServer = {
  url: string; // with trailing slash
  host: string; // 127.0.0.1:PORT
  ctx: Ctx;
  clock: TestClock;
  dataDir: string;
  logFile: string;
  /** What a `tessera` CLI process needs to open this server's store (cluster backend: its database and
   *  bucket, as TESSERA_DATABASE_URL and a TESSERA_CONFIG file); empty on SQLite. */
  env: Record<string, string>;
  /** "METHOD url" of every request this server received, for asserting what was (not) asked. */
  requests: string[];
  /** The subset of `requests` that went through Fastify's routes, not answered from memory (install-reads.ts). */
  routed: string[];
  addUser(name: string, opts?: { password?: string; admin?: boolean; email?: string }): Promise<void>;
  token(spec: Partial<IssueSpec> & { user: string }): Promise<string>;
  close(): Promise<void>;
};

/** `recordRequests` keeps "METHOD url" of every request in `requests` and `routed` (off by default: benches run millions). */
export async function startServer(
  overrides: Partial<Config> = {},
  opts: { recordRequests?: boolean } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const logFile = join(dataDir, 'server.log');
  const config: Config = {
    ...structuredClone(defaults),
    data: dataDir,
    listen: { host: '127.0.0.1', port: 0 },
    ...overrides,
  };
  const cluster = process.env.TESSERA_TEST_BACKEND === 'cluster';
  if ((cluster || process.env.TESSERA_TEST_BLOBS === 's3') && overrides.blobs === undefined) {
    Object.assign(config, await s3BlobsConfig(await sharedRgw()));
  }
  const env: Record<string, string> = {};
  if (cluster && overrides.database === undefined) {
    config.database = await (await sharedPostgres()).createMigratedDatabase();
    env.TESSERA_DATABASE_URL = config.database;
    env.TESSERA_CONFIG = join(dataDir, 'cluster.yaml');
    const { blobs, s3 } = config;
    const { redirectExpiryMs, ...rest } = s3;
    const file = { database: config.database, blobs, s3: { ...rest, redirectExpiry: `${redirectExpiryMs / 1000}s` } };
    writeFileSync(env.TESSERA_CONFIG, stringify(file));
    recordClusterEnv(dataDir, env);
  }
  const store = await openStore(dataDir, config);
  const clock = testClock();
  const ctx: Ctx = { store, config, clock };
  const app = await buildApp(ctx, { logger: { level: 'info', file: logFile } });
  const requests: string[] = [];
  const routed: string[] = [];
  if (opts.recordRequests) {
    // At the socket's server, to see also what is answered before Fastify.
    app.server.on('request', (req: { method?: string; url?: string }) => {
      requests.push(`${req.method} ${req.url}`);
    });
    app.addHook('onRequest', async (req) => {
      routed.push(`${req.method} ${req.url}`);
    });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    host: `127.0.0.1:${port}`,
    ctx,
    clock,
    dataDir,
    logFile,
    env,
    requests,
    routed,
    async addUser(name, opts = {}) {
      await createUser(ctx, {
        name,
        email: opts.email ?? `${name}@example.com`,
        password: opts.password ?? `${name}-password`,
        admin: opts.admin,
      });
    },
    async token(spec) {
      const t = await issueToken(ctx, { kind: 'session', expiresInMs: 3_600_000, ...spec });
      return t.token;
    },
    async close() {
      await app.close();
      await store.close();
      forgetClusterEnv(dataDir);
      if (process.env.TESSERA_KEEP_TEST_DATA) return;
      rmSync(dataDir, { recursive: true, force: true });
      if (env.TESSERA_DATABASE_URL) await (await sharedPostgres()).dropDatabase(env.TESSERA_DATABASE_URL);
    },
  };
}
