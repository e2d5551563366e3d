// Upstreams that answer with redirects, as registries in front of blob storage do (a tarball at a
// presigned address elsewhere) and as a moved mirror does: the proxy follows them, for packuments and
// tarballs, and npm installs through it.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
};

describe('an upstream that redirects', () => {
  let up: TestServer;
  let down: TestServer;
  let front = '';
  const seen: string[] = [];
  // In front of a real upstream: packuments move for good (301) to the upstream itself, tarballs are sent
  // on (302) to the upstream's own address, as blob storage would be.
  const redirector = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    // A loop never ends on its own: the proxy gives up after a few hops.
    const to = req.url?.startsWith('/loop-') ? front : up.url;
    res.writeHead(req.url?.includes('/-/') ? 302 : 301, { location: `${to}${req.url?.slice(1)}` });
    res.end('moved');
  });

  before(async () => {
    front = await listen(redirector);
    up = await startServer({ publicUrl: front });
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const name of ['moved-pkg', '@pub/moved']) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, '1.0.0') });
      assert.equal(r.code, 0, r.output);
    }
    down = await startServer({ upstream: { ...defaults.upstream, url: front, timeoutMs: 5_000 } });
  });
  after(async () => {
    await down.close();
    await up.close();
    redirector.closeAllConnections();
    await new Promise((r) => redirector.close(r));
  });

  test('packuments and tarballs are fetched through the redirects, checked, and npm installs them', async () => {
    const doc = await fetch(`${down.url}moved-pkg`);
    assert.equal(doc.status, 200, await doc.clone().text());
    const tgz = await fetch(`${down.url}moved-pkg/-/moved-pkg-1.0.0.tgz`);
    assert.equal(tgz.status, 200, await tgz.clone().text());
    const bytes = Buffer.from(await tgz.arrayBuffer());
    const direct = Buffer.from(await (await fetch(`${up.url}moved-pkg/-/moved-pkg-1.0.0.tgz`)).arrayBuffer());
    assert.ok(ssri.checkData(bytes, ssri.fromData(direct)), 'the tarball differs from the upstream one');
    const r = await makeNpm(down.url).run(['install'], { cwd: makeProject({ '@pub/moved': '^1.0.0' }) });
    assert.equal(r.code, 0, r.output);
    assert.ok(seen.includes('GET /@pub%2fmoved'), seen.join('\n'));
    assert.ok(seen.includes('GET /@pub/moved/-/moved-1.0.0.tgz'), seen.join('\n'));
  });

  test('a redirect loop ends in upstream-unavailable with the reason, not a hang', async () => {
    const res = await fetch(`${down.url}loop-pkg`);
    assert.equal(res.status, 502);
    assert.match(((await res.json()) as { error: string }).error, /more than 5 redirects/);
    assert.equal(seen.filter((s) => s === 'GET /loop-pkg').length, 6);
  });
});
