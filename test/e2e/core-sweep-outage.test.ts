// The blob store (a folder or an S3 bucket) or the PostgreSQL database unreachable for a while: every
// request that needs it gets a 503 naming what is missing (npm retries a 5xx, then prints it), nothing is
// half-written, and the same server works again once it is back, without a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { startServer, type TestServer } from '../helpers/server.ts';
import { blobsAway } from '../helpers/blobs-away.ts';
import { databaseAway } from '../helpers/database-away.ts';
import { sharedPostgres } from '../helpers/postgres.ts';
import { tcpGate } from '../helpers/tcp-gate.ts';
import { makeNpm, makePackage, type NpmEnv } from '../helpers/npm.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';
import { send, type Answer } from '../helpers/raw-request.ts';

const postgres = process.env.TESSERA_TEST_BACKEND === 'cluster';

/** An S3 gateway that accepts connections and never answers, as a hung or partitioned one does. */
async function hungGateway() {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('the store unreachable for a while', () => {
  let s: TestServer;
  let npm: NpmEnv;
  let auth: Record<string, string>;
  before(async () => {
    s = await startServer();
    await s.addUser('alice');
    const token = await s.token({ user: 'alice' });
    auth = { authorization: `Bearer ${token}` };
    npm = makeNpm(s.url);
    npm.setToken(s.host, token);
  });
  after(() => s.close());

  const publish = async (name: string, version: string) =>
    send(s, 'PUT', `/${escaped(name)}`, { headers: auth, body: await publishBody(name, version) });

  test('blob store away: publish is a 503 naming it, nothing is written, and it works once back', async () => {
    const back = await blobsAway(s);
    try {
      const r = await publish('@outage/blobs', '1.0.0');
      assert.equal(r.status, 503, r.body);
      assert.equal(r.reason, 'store-unavailable');
      assert.match(JSON.parse(r.body).error, /blob store could not be reached/);
      const cli = await npm.run(['publish', '--access', 'public'], { cwd: makePackage('outage-cli', '1.0.0') });
      assert.notEqual(cli.code, 0);
      assert.match(cli.output, /503 Service Unavailable - PUT .* blob store could not be reached/, cli.output);
      assert.match(cli.output, /\/-\/help\/store-unavailable/);
      assert.equal((await send(s, 'GET', `/${escaped('@outage/blobs')}`, { headers: auth })).status, 404);
      assert.equal((await send(s, 'GET', '/outage-cli', { headers: auth })).status, 404);
    } finally {
      await back();
    }
    assert.equal((await publish('@outage/blobs', '1.0.0')).status, 201);
    const cli = await npm.run(['publish'], { cwd: makePackage('outage-cli', '1.0.0') });
    assert.equal(cli.code, 0, cli.output);
    const tgz = await send(s, 'GET', '/outage-cli/-/outage-cli-1.0.0.tgz', { headers: auth });
    assert.equal(tgz.status, 200);
  });

  test('PostgreSQL away: writes and reads that need it are 503s; once back, nothing half-written', {
    skip: !postgres && 'PostgreSQL only (TESSERA_TEST_BACKEND=cluster)',
  }, async () => {
    assert.equal((await publish('outage-db', '1.0.0')).status, 201);
    const back = await databaseAway(s.env.TESSERA_DATABASE_URL);
    try {
      const r = await publish('outage-db', '1.1.0');
      assert.equal(r.status, 503, r.body);
      assert.equal(r.reason, 'store-unavailable');
      assert.match(JSON.parse(r.body).error, /database could not be reached/);
      const tag = await send(s, 'PUT', '/-/package/outage-db/dist-tags/next', { headers: auth, body: '"1.0.0"' });
      assert.equal(tag.status, 503, tag.body);
      const cli = await npm.run(['view', 'outage-never-read', 'version']);
      assert.match(cli.output, /503 Service Unavailable - GET .* database could not be reached/, cli.output);
    } finally {
      await back();
    }
    const doc = await send(s, 'GET', '/outage-db', { headers: auth });
    assert.equal(doc.status, 200);
    assert.deepEqual(Object.keys(JSON.parse(doc.body).versions), ['1.0.0']);
    assert.deepEqual(JSON.parse(doc.body)['dist-tags'], { latest: '1.0.0' });
    assert.equal((await publish('outage-db', '1.1.0')).status, 201);
    const view = await npm.run(['view', 'outage-db', 'versions', '--json']);
    assert.deepEqual(JSON.parse(view.stdout), ['1.0.0', '1.1.0']);
  });
});

describe('an S3 gateway that accepts and never answers', () => {
  test('a publish ends in a 503 after s3.timeout (and the SDK retries), not a request held forever', async () => {
    const gateway = await hungGateway();
    const s3 = { endpoint: gateway.endpoint, region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' };
    const s = await startServer({
      blobs: 's3://hung-bucket',
      s3: { ...s3, forcePathStyle: true, redirect: false, redirectExpiryMs: 60_000, timeoutMs: 300 },
    });
    try {
      await s.addUser('alice');
      const auth = { authorization: `Bearer ${await s.token({ user: 'alice' })}` };
      const body = await publishBody('hung-gateway', '1.0.0');
      // Without a timeout the request would never end: give up waiting (and fail) well before the runner would.
      const gaveUp = new Promise<Answer>((r) =>
        setTimeout(() => r({ status: 0, reason: 'no answer', body: '' }), 15_000),
      );
      const r = await Promise.race([send(s, 'PUT', '/hung-gateway', { headers: auth, body }), gaveUp]);
      assert.equal(r.status, 503, r.body);
      assert.equal(r.reason, 'store-unavailable');
      assert.equal((await send(s, 'GET', '/hung-gateway', { headers: auth })).status, 404);
    } finally {
      gateway.close();
      await s.close();
    }
  });
});

describe('PostgreSQL that accepts connections and never answers', () => {
  test('a publish ends in a 503 after connect_timeout; once it answers, the same server publishes', {
    skip: !postgres && 'PostgreSQL only (TESSERA_TEST_BACKEND=cluster)',
  }, async () => {
    const pg = await sharedPostgres();
    const database = await pg.createMigratedDatabase();
    const direct = new URL(database);
    const gate = await tcpGate(direct.hostname, Number(direct.port));
    const through = new URL(database);
    through.port = String(gate.port);
    through.searchParams.set('connect_timeout', '1');
    const s = await startServer({ database: through.toString() });
    try {
      await s.addUser('alice');
      const auth = { authorization: `Bearer ${await s.token({ user: 'alice' })}` };
      gate.hang();
      const gaveUp = new Promise<Answer>((r) =>
        setTimeout(() => r({ status: 0, reason: 'no answer', body: '' }), 15_000),
      );
      const body = await publishBody('hung-database', '1.0.0');
      const r = await Promise.race([send(s, 'PUT', '/hung-database', { headers: auth, body }), gaveUp]);
      assert.equal(r.status, 503, r.body);
      assert.match(JSON.parse(r.body).error, /database could not be reached/);
      gate.open();
      assert.equal((await send(s, 'PUT', '/hung-database', { headers: auth, body })).status, 201);
    } finally {
      await s.close();
      await gate.close();
      await pg.dropDatabase(database);
    }
  });
});
