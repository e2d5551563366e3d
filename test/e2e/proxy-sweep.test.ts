// Proxy behaviours as a platform team meets them, with real clients: the dist-tags endpoint of cached and
// uncached upstream packages, private namespaces cutting it off like the packument, and audits that never
// send a private name out (what the upstream got is read at a gate in front of it).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject, type NpmEnv } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc } from '../helpers/clients.ts';
import { createServer as createTcpServer, connect, type AddressInfo, type Socket } from 'node:net';
import { gatedUpstream, type UpstreamGate } from '../helpers/upstream-gate.ts';
import { tessera } from '../helpers/cli.ts';

describe('the proxy, swept with real clients', () => {
  let gate: UpstreamGate;
  let up: TestServer;
  let down: TestServer;
  let npm: NpmEnv;
  let upNpm: NpmEnv;

  before(async () => {
    ({ gate, up, upNpm } = await gatedUpstream([
      ['kind-of', '6.0.3'],
      ['@pub/widget', '1.0.0'],
      ['@corp/secret', '1.0.0'],
      ['claimed', '1.0.0'],
      ['@pub/cold', '1.0.0'],
      ['taken-over', '1.0.0'],
      ['@corp-tools/lint', '1.0.0'],
      ['fresh-release', '1.0.0'],
      ['purged-midway', '1.0.0'],
    ]));
    const r = await upNpm.run(['dist-tag', 'add', '@pub/widget@1.0.0', 'stable']);
    assert.equal(r.code, 0, r.output);
    const upstream = { ...defaults.upstream, url: gate.url, cacheTtlMs: 60_000, timeoutMs: 5_000 };
    down = await startServer({ upstream, privateNamespaces: [] });
    await down.addUser('dana');
    npm = makeNpm(down.url);
    npm.setToken(down.host, await down.token({ user: 'dana' }));
  });
  after(async () => {
    await down.close();
    await up.close();
    await gate.close();
  });

  test('npm dist-tag ls answers for upstream packages, cached or not, and not once the name is private', async () => {
    // Not cached yet: the endpoint fetches the packument like a read of it would.
    const cold = await npm.run(['dist-tag', 'ls', '@pub/widget']);
    assert.equal(cold.code, 0, cold.output);
    assert.match(cold.stdout, /^latest: 1\.0\.0$/m);
    assert.match(cold.stdout, /^stable: 1\.0\.0$/m);
    assert.equal((await fetch(`${down.url}kind-of`)).status, 200);
    const cached = await fetch(`${down.url}-/package/kind-of/dist-tags`);
    assert.equal(cached.status, 200);
    assert.deepEqual(await cached.json(), { latest: '6.0.3' });
    // A name no package can have is refused as the packument route refuses it, and never asked upstream.
    const before = gate.got.length;
    const bad = await fetch(`${down.url}-/package/..%2F..%2Fsecret/dist-tags`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { reason: string }).reason, 'invalid-name');
    assert.deepEqual(gate.got.slice(before), []);
    down.ctx.config.privateNamespaces = ['kind-*', '@corp'];
    try {
      const asked = gate.got.length;
      assert.equal((await fetch(`${down.url}-/package/kind-of/dist-tags`)).status, 404);
      const secret = await npm.run(['dist-tag', 'ls', '@corp/secret']);
      assert.notEqual(secret.code, 0, secret.output);
      assert.match(secret.output, /E404|404 Not Found/);
      assert.deepEqual(gate.got.slice(asked), [], 'the upstream was asked for a private name');
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });

  test('npm audit of a private project: its name never goes out; an upstream without audits is an error', async () => {
    down.ctx.config.privateNamespaces = ['@corp'];
    try {
      const project = makeProject({ '@pub/widget': '^1.0.0', 'kind-of': '^6.0.0' });
      const pkg = { name: '@corp/app', version: '1.0.0', private: true };
      writeFileSync(join(project, 'package.json'), JSON.stringify({ ...pkg, dependencies: { 'kind-of': '^6.0.0' } }));
      const install = await npm.run(['install', '--no-audit'], { cwd: project });
      assert.equal(install.code, 0, install.output);
      const sent = gate.bodies.length;
      // The upstream here has no advisory database: npm's bulk request fails, and npm falls back to the quick one.
      const r = await npm.run(['audit'], { cwd: project });
      assert.notEqual(r.code, 0, r.output);
      assert.doesNotMatch(r.output, /found 0 vulnerabilities/);
      const out = gate.bodies.slice(sent);
      assert.ok(out.length > 0, 'nothing was forwarded');
      for (const b of out) assert.doesNotMatch(b.body, /@corp/, `${b.url} sent ${b.body}`);
      const json = await npm.run(['audit', '--json'], { cwd: project });
      assert.notEqual(json.code, 0, json.output);
      for (const b of gate.bodies.slice(sent)) assert.doesNotMatch(b.body, /@corp/, `${b.url} sent ${b.body}`);
      // pnpm asks the bulk endpoint only, and says the registry cannot audit rather than "No known vulnerabilities".
      writeNpmrc(project, down.url);
      const pnpmEnv = makePnpm();
      const lock = await pnpmEnv.run(['install', '--lockfile-only'], { cwd: project });
      assert.equal(lock.code, 0, lock.output);
      const pnpm = await pnpmEnv.run(['audit'], { cwd: project });
      assert.notEqual(pnpm.code, 0, pnpm.output);
      assert.doesNotMatch(pnpm.output, /No known vulnerabilities/);
      for (const b of gate.bodies.slice(sent)) assert.doesNotMatch(b.body, /@corp/, `${b.url} sent ${b.body}`);
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });

  test('the quick audit endpoint never sends a private project name out', async () => {
    down.ctx.config.privateNamespaces = ['@corp'];
    try {
      const sent = gate.bodies.length;
      const tree = {
        name: '@corp/app',
        version: '1.0.0',
        requires: { 'kind-of': '^6.0.0', '@corp/lib': '^1.0.0' },
        dependencies: { 'kind-of': { version: '6.0.3' }, '@corp/lib': { version: '1.0.0' } },
        install: ['@corp/lib', 'kind-of'],
        remove: ['@corp/old'],
        metadata: { npm_version: '6.14.18' },
      };
      const res = await fetch(`${down.url}-/npm/v1/security/audits/quick`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tree),
      });
      assert.equal(res.status, 404, await res.text());
      const out = gate.bodies.slice(sent);
      assert.equal(out.length, 1);
      assert.doesNotMatch(out[0].body, /@corp/);
      const sentTree = JSON.parse(out[0].body);
      assert.deepEqual(Object.keys(sentTree.requires), ['kind-of']);
      assert.deepEqual(sentTree.install, ['kind-of']);
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });

  test("a local publish while a cached name's upstream tarball is on its way: it is not kept", async () => {
    assert.equal((await fetch(`${down.url}claimed`)).status, 200);
    gate.mode = 'hang';
    const tgzUrl = `${down.url}claimed/-/claimed-1.0.0.tgz`;
    const first = fetch(tgzUrl).then(
      async (r) => (r.status === 200 ? Buffer.from(await r.arrayBuffer()).length : r.status),
      () => 'cut',
    );
    for (let i = 0; i < 100 && gate.held() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(gate.held(), 1);
    const r = await npm.run(['publish'], { cwd: makePackage('claimed', '2.0.0') });
    assert.equal(r.code, 0, r.output);
    gate.release();
    // The first asker's download is cut or refused: the name is local now, the upstream's bytes are not its.
    assert.ok(['cut', 404].includes((await first) as never), `the first asker got ${await first}`);
    assert.equal((await fetch(tgzUrl)).status, 404);
    const { db } = down.ctx.store;
    const rows = await db.selectFrom('versions').select('version').where('package', '=', 'claimed').execute();
    assert.deepEqual(
      rows.map((v) => v.version),
      ['2.0.0'],
    );
    const view = await npm.run(['view', 'claimed', 'versions', '--json']);
    assert.deepEqual(JSON.parse(view.stdout), ['2.0.0'], view.output);
  });

  test('20 cold requests in both forms, upstream hung: one upstream request, all get the reason', async () => {
    gate.mode = 'hang';
    try {
      const asked = gate.got.length;
      const accepts = ['application/json', 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8'];
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const res = await fetch(`${down.url}@pub%2fcold`, { headers: { accept: accepts[i % 2] } });
          return `${res.status} ${((await res.json()) as { reason?: string }).reason}`;
        }),
      );
      assert.deepEqual(answers, Array(20).fill('502 upstream-unavailable'));
      assert.deepEqual(gate.got.slice(asked), ['GET /@pub%2fcold']);
    } finally {
      gate.release();
    }
    // The same for a tarball whose packument is kept, once the upstream hangs again.
    assert.equal((await fetch(`${down.url}@pub%2fcold`)).status, 200);
    gate.mode = 'hang';
    try {
      const asked = gate.got.length;
      const tgz = `${down.url}@pub/cold/-/cold-1.0.0.tgz`;
      const answers = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(tgz)).status));
      assert.deepEqual(answers, Array(20).fill(502));
      assert.equal(gate.got.slice(asked).length, 1, gate.got.slice(asked).join(', '));
    } finally {
      gate.release();
    }
    assert.equal((await fetch(`${down.url}@pub/cold/-/cold-1.0.0.tgz`)).status, 200);
  });

  test('Yarn 4 after the registry moved port: upstream packages are fetched at the new address', async () => {
    // The registry first answers on another port (a TCP forwarder), which then goes away.
    const sockets: Socket[] = [];
    const forwarder = createTcpServer((socket) => {
      sockets.push(socket);
      const [host, port] = down.host.split(':');
      const out = connect(Number(port), host);
      sockets.push(out);
      socket.pipe(out).pipe(socket);
      out.on('error', () => socket.destroy());
      socket.on('error', () => out.destroy());
    });
    await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', r));
    const oldUrl = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}/`;
    const yarn = makeYarn();
    const deps = { '@pub/widget': '^1.0.0', 'kind-of': '^6.0.0' };
    const first = makeProject(deps);
    writeYarnrc(first, oldUrl);
    const r1 = await yarn.run(['install'], { cwd: first, timeoutMs: 60_000 });
    assert.equal(r1.code, 0, r1.output);
    forwarder.close();
    for (const socket of sockets) socket.destroy();
    const moved = makeProject(deps);
    writeYarnrc(moved, down.url);
    // With a 304 for the metadata Yarn kept from the old port, its tarballs would be fetched there, and fail.
    const r2 = await yarn.run(['install'], { cwd: moved, timeoutMs: 60_000 });
    assert.equal(r2.code, 0, r2.output);
  });

  test('a local package over a cached name: old npm, pnpm and Yarn 4 lockfiles fail, nothing goes out', async () => {
    const deps = { 'taken-over': '^1.0.0' };
    const forNpm = makeProject(deps);
    const forPnpm = makeProject(deps);
    const forYarn = makeProject(deps);
    writeNpmrc(forPnpm, down.url);
    writeYarnrc(forYarn, down.url);
    const pnpm = makePnpm();
    const yarn = makeYarn();
    assert.equal((await npm.run(['install'], { cwd: forNpm })).code, 0);
    assert.equal((await pnpm.run(['install'], { cwd: forPnpm })).code, 0);
    assert.equal((await yarn.run(['install'], { cwd: forYarn, timeoutMs: 60_000 })).code, 0);
    const r = await npm.run(['publish'], { cwd: makePackage('taken-over', '2.0.0') });
    assert.equal(r.code, 0, r.output);
    const asked = gate.got.length;
    const doc = (await (await fetch(`${down.url}taken-over`)).json()) as { versions: Record<string, unknown> };
    assert.deepEqual(Object.keys(doc.versions), ['2.0.0']);
    assert.equal((await fetch(`${down.url}taken-over/-/taken-over-1.0.0.tgz`)).status, 404);
    assert.deepEqual(await (await fetch(`${down.url}-/package/taken-over/dist-tags`)).json(), { latest: '2.0.0' });
    assert.equal((await npm.run(['view', 'taken-over', 'version'])).stdout.trim(), '2.0.0');
    // Fresh caches, as on CI machines: only the lockfiles remember 1.0.0.
    const ci = await makeNpm(down.url).run(['ci'], { cwd: forNpm });
    assert.notEqual(ci.code, 0, ci.output);
    assert.match(ci.output, /E404/);
    rmSync(join(forPnpm, 'node_modules'), { recursive: true, force: true });
    const frozen = await makePnpm().run(['install', '--frozen-lockfile'], { cwd: forPnpm });
    assert.notEqual(frozen.code, 0, frozen.output);
    assert.match(frozen.output, /404/);
    rmSync(join(forYarn, 'node_modules'), { recursive: true, force: true });
    const immutable = await makeYarn().run(['install', '--immutable'], { cwd: forYarn, timeoutMs: 60_000 });
    assert.notEqual(immutable.code, 0, immutable.output);
    assert.match(immutable.output, /404/);
    assert.deepEqual(
      gate.got.slice(asked).filter((g) => g.includes('taken-over')),
      [],
    );
  });

  test('a scope pattern with a wildcard (@corp-*) purges and keeps private every matching scope', async () => {
    assert.equal((await fetch(`${down.url}@corp-tools%2flint`)).status, 200);
    const none = await tessera(['proxy', 'purge', '@corp-nothing/*', '--data', down.dataDir]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^no package cached from the upstream matches @corp-nothing\/\*$/m);
    assert.match(none.stdout, /^purged 0 package\(s\)/m);
    const purged = await tessera(['proxy', 'purge', '@corp-*', '--json', '--data', down.dataDir]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.deepEqual(JSON.parse(purged.stdout).packages, ['@corp-tools/lint']);
    down.ctx.config.privateNamespaces = ['@corp-*'];
    try {
      const asked = gate.got.length;
      assert.equal((await fetch(`${down.url}@corp-tools%2flint`)).status, 404);
      const r = await npm.run(['install', '@corp-tools/lint'], { cwd: makeProject() });
      assert.notEqual(r.code, 0, r.output);
      assert.match(r.output, /E404/);
      assert.deepEqual(gate.got.slice(asked), [], 'the upstream was asked for a private name');
      // Other scopes, and unscoped names that merely start alike, are not private.
      assert.equal((await fetch(`${down.url}@pub%2fwidget`)).status, 200);
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });

  test('npm ci with a lockfile naming a version newer than the cached packument installs it', async () => {
    assert.equal((await fetch(`${down.url}fresh-release`)).status, 200);
    // Released upstream after the proxy cached the packument, within its cacheTtl; a lockfile made elsewhere has it.
    const r = await upNpm.run(['publish'], { cwd: makePackage('fresh-release', '1.1.0') });
    assert.equal(r.code, 0, r.output);
    const upDoc = (await (await fetch(`${up.url}fresh-release`)).json()) as {
      versions: Record<string, { dist: { integrity: string } }>;
    };
    const project = makeProject({ 'fresh-release': '^1.1.0' });
    const resolved = `${down.url}fresh-release/-/fresh-release-1.1.0.tgz`;
    const integrity = upDoc.versions['1.1.0'].dist.integrity;
    const packages = {
      '': { name: 'consumer', version: '1.0.0', dependencies: { 'fresh-release': '^1.1.0' } },
      'node_modules/fresh-release': { version: '1.1.0', resolved, integrity },
    };
    const lock = { name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock));
    const ci = await makeNpm(down.url).run(['ci'], { cwd: project });
    assert.equal(ci.code, 0, ci.output);
    // A version the upstream does not have either is still a 404, after one fresh look, not one per request.
    const asked = gate.got.length;
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(`${down.url}fresh-release/-/fresh-release-9.9.9.tgz`)).status, 404);
    }
    assert.deepEqual(gate.got.slice(asked), ['GET /fresh-release']);
  });

  test('a private scope cached before, in every spelling: packument, tarball, version, tags 404', async () => {
    for (const p of ['@corp%2fsecret', '@corp/secret/-/secret-1.0.0.tgz']) {
      assert.equal((await fetch(`${down.url}${p}`)).status, 200, p);
    }
    down.ctx.config.privateNamespaces = ['@corp/*'];
    try {
      const asked = gate.got.length;
      const spellings = [
        '@corp%2fsecret',
        '@corp%2Fsecret',
        '%40corp%2fsecret',
        '%40corp%2Fsecret',
        '@corp/secret',
        '@corp%2fsecret/1.0.0',
        '@corp%2fsecret/latest',
        '@corp/secret/-/secret-1.0.0.tgz',
        '@corp%2fsecret/-/secret-1.0.0.tgz',
        '%40corp%2Fsecret/-/secret-1.0.0.tgz',
        '@corp/secret/-/@corp/secret-1.0.0.tgz',
        '-/package/@corp%2fsecret/dist-tags',
        '-/package/%40corp%2Fsecret/dist-tags',
        '@corp%2fnever-cached',
      ];
      const got = [];
      for (const p of spellings) got.push(`${p} ${(await fetch(`${down.url}${p}`)).status}`);
      assert.deepEqual(
        got,
        spellings.map((p) => `${p} 404`),
      );
      assert.deepEqual(gate.got.slice(asked), [], 'the upstream was asked for a private name');
    } finally {
      down.ctx.config.privateNamespaces = [];
    }
  });

  test('proxy purge while a tarball is on its way: nothing of it stays, the next read fetches again', async () => {
    assert.equal((await fetch(`${down.url}purged-midway`)).status, 200);
    gate.mode = 'hang';
    const tgzUrl = `${down.url}purged-midway/-/purged-midway-1.0.0.tgz`;
    const first = fetch(tgzUrl).then(
      async (r) => (r.status === 200 ? Buffer.from(await r.arrayBuffer()).length : r.status),
      () => 'cut',
    );
    for (let i = 0; i < 100 && gate.held() === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(gate.held(), 1);
    const purged = await tessera(['proxy', 'purge', 'purged-midway', '--data', down.dataDir]);
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(purged.stdout, /^purged 1 package\(s\), 0 version\(s\)/m);
    gate.release();
    // The name is still public and the bytes matched: the client has them all (proxy-sweep2-purge.test.ts).
    const whole = (await (await fetch(`${up.url}purged-midway/-/purged-midway-1.0.0.tgz`)).arrayBuffer()).byteLength;
    assert.equal(await first, whole, `the first asker got ${await first}`);
    const { db } = down.ctx.store;
    const rows = () => db.selectFrom('versions').select('version').where('package', '=', 'purged-midway').execute();
    assert.deepEqual(await rows(), []);
    // The running server sees the purge within its poll interval; then the name is fetched anew, whole.
    await new Promise((r) => setTimeout(r, 150));
    const again = await fetch(tgzUrl);
    assert.equal(again.status, 200);
    assert.ok((await again.arrayBuffer()).byteLength > 0);
    // Kept just after its client has it all (the client does not wait for the write).
    for (let i = 0; i < 100 && (await rows()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      (await rows()).map((v) => v.version),
      ['1.0.0'],
    );
  });
});
