// Two registry nodes on one store (helpers/nodes.ts: PostgreSQL + S3 with TESSERA_TEST_BACKEND=cluster), with
// the real npm CLI pointed at each: what is written on one node is what the other serves to the next
// command — versions, dist-tags, deprecations, unpublished versions and their tarballs, the ETag — and
// versions published on both at once all land. Raw reads right after a write may lag by the documented
// bound (docs/deployment.md: within a second), so they are polled up to it; npm's own commands are not.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startNodes, type Nodes } from '../helpers/nodes.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { send, type Answer } from '../helpers/raw-request.ts';
import type { TestServer } from '../helpers/server.ts';

/** The first answer `ok` accepts, asking again for up to the documented second. */
async function within1s(ask: () => Promise<Answer>, ok: (a: Answer) => boolean): Promise<Answer> {
  const t = performance.now();
  for (;;) {
    const a = await ask();
    if (ok(a) || performance.now() - t > 1_000) return a;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('two nodes, npm on each', () => {
  let c: Nodes;
  let a: TestServer;
  let b: TestServer;
  let onA: NpmEnv;
  let onB: NpmEnv;
  let auth: Record<string, string>;

  before(async () => {
    c = await startNodes(2);
    [a, b] = c.nodes as unknown as TestServer[];
    await c.addUser('alice');
    const token = await c.token('alice');
    auth = { authorization: `Bearer ${token}` };
    onA = makeNpm(a.url);
    onA.setToken(a.host, token);
    onB = makeNpm(b.url);
    onB.setToken(b.host, token);
  });
  after(() => c.close());

  const view = async (npm: NpmEnv, ...args: string[]) => {
    const r = await npm.run(['view', ...args, '--json']);
    assert.equal(r.code, 0, r.output);
    return JSON.parse(r.stdout);
  };

  test('publish, dist-tag, deprecate on one node: the next npm command on the other sees each', async () => {
    let r = await onA.run(['publish', '--access', 'public'], { cwd: makePackage('@nodes/kit', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    // B reads and caches the document (and npm its tarball) before A changes it.
    r = await onB.run(['install'], { cwd: makeProject({ '@nodes/kit': '^1.0.0' }) });
    assert.equal(r.code, 0, r.output);
    const before = await send(b, 'GET', '/@nodes%2fkit', { headers: auth });
    const etag = before.headers?.etag;

    r = await onA.run(['publish', '--tag', 'next'], { cwd: makePackage('@nodes/kit', '2.0.0-rc.1') });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await view(onB, '@nodes/kit', 'versions', 'dist-tags'), {
      versions: ['1.0.0', '2.0.0-rc.1'],
      'dist-tags': { latest: '1.0.0', next: '2.0.0-rc.1' },
    });

    r = await onA.run(['dist-tag', 'add', '@nodes/kit@2.0.0-rc.1', 'latest']);
    assert.equal(r.code, 0, r.output);
    r = await onA.run(['deprecate', '@nodes/kit@<2', 'Veraltet — bitte 2.x nehmen ✓']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await view(onB, '@nodes/kit@1.0.0', 'deprecated', 'dist-tags.latest'), {
      deprecated: 'Veraltet — bitte 2.x nehmen ✓',
      'dist-tags.latest': '2.0.0-rc.1',
    });

    // B's old ETag no longer matches: a client revalidating there gets the new document.
    const again = await within1s(
      () => send(b, 'GET', '/@nodes%2fkit', { headers: { ...auth, 'if-none-match': String(etag) } }),
      (x) => x.status === 200 && JSON.parse(x.body).versions['1.0.0'].deprecated !== undefined,
    );
    assert.equal(again.status, 200);
    assert.notEqual(again.headers?.etag, etag);
  });

  test('a version unpublished on one node: the other drops it and its tarball, and refuses it again', async () => {
    let r = await onA.run(['publish'], { cwd: makePackage('nodes-gone', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    r = await onA.run(['publish'], { cwd: makePackage('nodes-gone', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const tarball = '/nodes-gone/-/nodes-gone-1.1.0.tgz';
    // Read twice on B: the second answer comes from B's memory.
    for (let i = 0; i < 2; i++) assert.equal((await send(b, 'GET', tarball, { headers: auth })).status, 200);

    r = await onA.run(['unpublish', 'nodes-gone@1.1.0']);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(await view(onB, 'nodes-gone', 'versions', 'dist-tags.latest'), {
      versions: ['1.0.0'],
      'dist-tags.latest': '1.0.0',
    });
    const gone = await within1s(
      () => send(b, 'GET', tarball, { headers: auth }),
      (x) => x.status === 404,
    );
    assert.equal(gone.status, 404);
    r = await onB.run(['publish'], { cwd: makePackage('nodes-gone', '1.1.0') });
    assert.notEqual(r.code, 0);
    assert.match(r.output, /You cannot publish over the previously published versions: 1\.1\.0/);

    r = await onB.run(['unpublish', 'nodes-gone', '--force']);
    assert.equal(r.code, 0, r.output);
    r = await onA.run(['view', 'nodes-gone']);
    assert.match(r.output, /E404/);
  });

  test('npm publish of different versions on both nodes at once: all land, both nodes list them all', async () => {
    let r = await onA.run(['publish'], { cwd: makePackage('nodes-race', '1.0.0') });
    assert.equal(r.code, 0, r.output);
    // npm itself refuses to tag a lower version `latest` over a higher one: each race gets a tag of its own.
    const versions = ['1.1.0', '1.2.0', '2.0.0', '2.1.0'];
    const results = await Promise.all(
      versions.map((v, i) =>
        (i % 2 ? onB : onA).run(['publish', '--tag', `t${i}`], { cwd: makePackage('nodes-race', v) }),
      ),
    );
    for (const x of results) assert.equal(x.code, 0, x.output);
    const tags = { latest: '1.0.0', ...Object.fromEntries(versions.map((v, i) => [`t${i}`, v])) };
    for (const npm of [onA, onB]) {
      assert.deepEqual(await view(npm, 'nodes-race', 'versions', 'dist-tags'), {
        versions: ['1.0.0', ...versions],
        'dist-tags': tags,
      });
    }
    r = await onB.run(['install'], { cwd: makeProject({ 'nodes-race': '^2.0.0' }) });
    assert.equal(r.code, 0, r.output);
  });
});
