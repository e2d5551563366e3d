// Several `tessera serve` processes on one PostgreSQL database and one S3 bucket, the same config file
// (publicUrl = the load balancer, trustedProxies = loopback), behind a tiny round-robin load balancer on
// 127.0.0.1:0 that streams bodies and sets X-Forwarded-For/-Proto as a reverse proxy would.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createUser } from '../../src/services/accounts.ts';
import type { Ctx } from '../../src/services/context.ts';
import { issueToken, type IssueSpec } from '../../src/services/tokens.ts';
import { openStore } from '../../src/store/store.ts';
import { serve, tessera, type CliResult, type ServeProcess } from './cli.ts';
import { sharedPostgres } from './postgres.ts';
import { s3BlobsConfig, sharedRgw } from './rgw.ts';

/** Who served what, in the order the balancer sent it: for asserting a flow really crossed nodes. */
export type Forwarded = { node: number; method: string; url: string; status: number };

export type Cluster = {
  lbUrl: string; // with trailing slash
  lbHost: string; // 127.0.0.1:PORT
  size: number;
  /** A node's own URL, bypassing the balancer. */
  url(i: number): string;
  host(i: number): string;
  /** What node i printed (its log lines), for failure messages. */
  output(i: number): string;
  /** Stops node i (SIGKILL by default: `kill -9`); the balancer stops sending it requests. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts node i again (after kill) on its data folder, on a new port; the balancer sends to it again. */
  restart(i: number): Promise<void>;
  /** Pins requests to a node (return its index), else round robin. */
  route: ((method: string, url: string) => number | undefined) | null;
  forwarded: Forwarded[];
  /** This process's own handle on the shared store, for fixtures (users, tokens) and checks. */
  ctx: Ctx;
  configFile: string;
  /** `tessera <args>` on the shared store. */
  cli(args: string[], input?: string): Promise<CliResult>;
  addUser(name: string, opts?: { password?: string; admin?: boolean }): Promise<void>;
  token(spec: Partial<IssueSpec> & { user: string }): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
};

export async function startCluster(opts: { nodes?: number; config?: Record<string, unknown> } = {}): Promise<Cluster> {
  const size = opts.nodes ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const postgres = await sharedPostgres();
  const [database, { blobs, s3 }] = await Promise.all([postgres.createDatabase(), sharedRgw().then(s3BlobsConfig)]);
  const lb = await startBalancer();
  const { redirectExpiryMs, ...s3File } = s3;
  const configFile = join(dir, 'tessera.yaml');
  const file = {
    database,
    blobs,
    s3: { ...s3File, redirectExpiry: `${redirectExpiryMs / 1000}s` },
    publicUrl: lb.url,
    trustedProxies: ['127.0.0.1'],
    ...opts.config,
  };
  writeFileSync(configFile, stringify(file));
  const dataDir = (i: number) => join(dir, `node-${i}`);
  // TOTP seeds and hook secrets are sealed with the data folder's secret.key: every node needs the same one,
  // as every node of a real deployment does (a node with its own key cannot open what another sealed).
  const key = randomBytes(32).toString('base64');
  for (const d of [...Array.from({ length: size }, (_, i) => dataDir(i)), join(dir, 'fixtures'), join(dir, 'cli')]) {
    mkdirSync(d);
    writeFileSync(join(d, 'secret.key'), key, { mode: 0o600 });
  }
  const start = (i: number) => serve(['--config', configFile, '--data', dataDir(i)], { timeoutMs: 60_000 });
  // The first node runs the migrations alone; the others then start together. On a busy machine a start
  // takes seconds, hence the long timeout; should one fail, the others are stopped, not left running.
  const started: PromiseSettledResult<ServeProcess>[][] = [await Promise.allSettled([start(0)])];
  if (started[0][0].status === 'fulfilled') {
    started.push(await Promise.allSettled(Array.from({ length: size - 1 }, (_, i) => start(i + 1))));
  }
  const settled = started.flat();
  const nodes = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await lb.close();
    await postgres.dropDatabase(database);
    rmSync(dir, { recursive: true, force: true });
    throw failed.reason;
  }
  lb.nodes.push(...nodes.map((n) => ({ host: n.host, up: true })));
  const config = loadConfig({ config: configFile, data: join(dir, 'fixtures') }, {});
  const store = await openStore(config.data, config);
  const ctx: Ctx = { store, config, clock: systemClock };
  const cluster: Cluster = {
    lbUrl: lb.url,
    lbHost: new URL(lb.url).host,
    size,
    url: (i) => nodes[i].url,
    host: (i) => nodes[i].host,
    output: (i) => nodes[i].output(),
    async kill(i, signal = 'SIGKILL') {
      lb.nodes[i].up = false;
      if (nodes[i].child.exitCode === null && nodes[i].child.signalCode === null) await nodes[i].stop(signal);
    },
    async restart(i) {
      nodes[i] = await start(i);
      lb.nodes[i] = { host: nodes[i].host, up: true };
    },
    get route() {
      return lb.route;
    },
    set route(r) {
      lb.route = r;
    },
    forwarded: lb.forwarded,
    ctx,
    configFile,
    cli: (args, input) => tessera([...args, '--config', configFile, '--data', join(dir, 'cli')], { input }),
    async addUser(name, o = {}) {
      const password = o.password ?? `${name}-password`;
      await createUser(ctx, { name, email: `${name}@example.com`, password, admin: o.admin });
    },
    token: (spec) => issueToken(ctx, { kind: 'session', expiresInMs: 3_600_000, ...spec }),
    async close() {
      await Promise.all(nodes.map((_, i) => cluster.kill(i, 'SIGTERM')));
      await lb.close();
      await store.close();
      if (process.env.TESSERA_KEEP_TEST_DATA) return;
      rmSync(dir, { recursive: true, force: true });
      await postgres.dropDatabase(database);
    },
  };
  return cluster;
}

type Balancer = {
  url: string;
  nodes: { host: string; up: boolean }[];
  route: Cluster['route'];
  forwarded: Forwarded[];
  close(): Promise<void>;
};

async function startBalancer(): Promise<Balancer> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let next = 0;
  const lb: Balancer = { url: '', nodes: [], route: null, forwarded: [], close: async () => {} };
  const pick = (method: string, url: string): number | undefined => {
    const pinned = lb.route?.(method, url);
    if (pinned !== undefined) return pinned;
    for (let tries = 0; tries < lb.nodes.length; tries++) {
      const i = next++ % lb.nodes.length;
      if (lb.nodes[i].up) return i;
    }
    return undefined;
  };
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const i = pick(req.method ?? 'GET', req.url ?? '/');
    if (i === undefined) return void res.writeHead(503).end('no node is up\n');
    const headers = { ...req.headers };
    const client = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-proto'] = 'http';
    const [hostname, port] = lb.nodes[i].host.split(':');
    const up = request({ agent, hostname, port: Number(port), method: req.method, path: req.url, headers }, (r) => {
      lb.forwarded.push({ node: i, method: req.method ?? '', url: req.url ?? '', status: r.statusCode ?? 0 });
      res.writeHead(r.statusCode ?? 502, r.rawHeaders);
      r.pipe(res);
    });
    // A node that dies mid-request: the client sees what a real balancer gives, a 502 (never acknowledged).
    up.on('error', () => {
      lb.forwarded.push({ node: i, method: req.method ?? '', url: req.url ?? '', status: 502 });
      if (!res.headersSent) res.writeHead(502).end('bad gateway\n');
      else res.destroy();
    });
    req.pipe(up);
  };
  const server = createServer(forward);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  lb.url = `http://127.0.0.1:${port}/`;
  lb.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => r());
    });
  return lb;
}
