// A rolling restart of a two-node cluster (`tessera serve` processes on one PostgreSQL and one S3, behind the
// test balancer), as an upgrade does it: a node stopped with SIGTERM in the middle of a publish burst finishes
// what it took, the other keeps publishing while it is down, and once started again it serves every version,
// takes publishes, and the other node sees them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from '../helpers/cluster.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { escaped, publishBody } from '../helpers/publish-body.ts';

const skip = process.env.TESSERA_TEST_BACKEND !== 'cluster' && 'PostgreSQL + S3 only (TESSERA_TEST_BACKEND=cluster)';

describe('a node restarted in the middle of a publish burst', { skip }, () => {
  let c: Cluster;
  let token = '';
  before(async () => {
    c = await startCluster({ nodes: 2, config: { shutdownDelay: '0s' } });
    await c.addUser('alice');
    token = (await c.token({ user: 'alice' })).token;
  });
  after(() => c?.close());

  const put = async (base: string, version: string) => {
    const body = JSON.stringify(await publishBody('rolling', version));
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const res = await fetch(`${base}${escaped('rolling')}`, { method: 'PUT', headers, body }).catch(() => undefined);
    return res?.status ?? 0;
  };
  const versions = async (base: string) => {
    const res = await fetch(`${base}rolling`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return Object.keys(((await res.json()) as { versions: object }).versions).sort();
  };

  test('no acknowledged version is lost, and the restarted node serves and takes them all', async () => {
    assert.equal(await put(c.lbUrl, '1.0.0'), 201);
    assert.deepEqual(await versions(c.url(1)), ['1.0.0'], 'node 1 has read (and cached) the package');
    const burst = Array.from({ length: 16 }, (_, i) => `1.1.${i}`);
    const sent = burst.map((v) => put(c.lbUrl, v));
    await sent[3];
    await c.kill(1, 'SIGTERM');
    const statuses = await Promise.all(sent);
    assert.deepEqual(statuses, Array(burst.length).fill(201), 'a graceful stop finishes what the node took');
    const tookPart = (node: number) => c.forwarded.some((f) => f.node === node && f.url.startsWith('/rolling'));
    assert.ok(tookPart(0) && tookPart(1), 'the burst went to both nodes');
    // While node 1 is down, node 0 goes on.
    assert.equal(await put(c.url(0), '1.2.0'), 201);
    await c.restart(1);
    const all = ['1.0.0', ...burst, '1.2.0'].sort();
    assert.deepEqual(await versions(c.url(1)), all);
    assert.equal(await put(c.url(1), '1.3.0'), 201);
    assert.deepEqual(await versions(c.url(0)), [...all, '1.3.0'].sort());
    const npm = makeNpm(c.url(1));
    npm.setToken(c.host(1), token);
    const r = await npm.run(['install'], { cwd: makeProject({ rolling: '^1.3.0' }) });
    assert.equal(r.code, 0, r.output);
  });
});
