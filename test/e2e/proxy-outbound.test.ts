// Reaching the upstream through a company's HTTP proxy: `tessera serve` started with NODE_USE_ENV_PROXY=1
// and HTTP_PROXY sends every upstream request through it. The upstream's host name here resolves nowhere,
// so an answer can only have come through the proxy, which forwards to the upstream on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssri from 'ssri';
import { serve, type ServeProcess } from '../helpers/cli.ts';
import { CORGI } from '../../src/http/install-reads.ts';

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

describe('upstream requests through an outbound HTTP proxy', () => {
  const tgz = Buffer.from('tarball of behind-proxy');
  let upstreamHost = '';
  const up = createServer((req, res) => {
    if (req.url === '/behind-proxy/-/behind-proxy-1.0.0.tgz') return res.end(tgz);
    if (req.url !== '/behind-proxy') return res.writeHead(404).end('{}');
    const dist = {
      tarball: `http://${upstreamHost}/behind-proxy/-/behind-proxy-1.0.0.tgz`,
      integrity: ssri.fromData(tgz).toString(),
    };
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        name: 'behind-proxy',
        'dist-tags': { latest: '1.0.0' },
        versions: { '1.0.0': { name: 'behind-proxy', version: '1.0.0', dist } },
      }),
    );
  });
  const seen: string[] = [];
  let upPort = 0;
  // A forward proxy: absolute-form requests for the made-up host go to the upstream on loopback.
  const proxy = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const out = request(
      { host: '127.0.0.1', port: upPort, path: target.pathname, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(out);
  });
  const dir = mkdtempSync(join(tmpdir(), 'tessera-outbound-'));
  let s: ServeProcess;

  before(async () => {
    upPort = await listen(up);
    upstreamHost = `registry.invalid:${upPort}`;
    const proxyPort = await listen(proxy);
    writeFileSync(join(dir, 'config.yaml'), `upstream:\n  url: http://${upstreamHost}/\n`);
    s = await serve(['--data', join(dir, 'data'), '--config', join(dir, 'config.yaml')], {
      env: { NODE_USE_ENV_PROXY: '1', HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '' },
    });
  });
  after(async () => {
    await s?.stop();
    for (const server of [up, proxy]) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('the packument and the tarball come through the proxy', async () => {
    const doc = await fetch(`${s.url}behind-proxy`, { headers: { accept: CORGI } });
    assert.equal(doc.status, 200, await doc.clone().text());
    const body = (await doc.json()) as { versions: Record<string, { dist: { tarball: string } }> };
    const link = body.versions['1.0.0'].dist.tarball;
    assert.ok(link.startsWith(s.url), link);
    const t = await fetch(link);
    assert.equal(t.status, 200);
    assert.deepEqual(Buffer.from(await t.arrayBuffer()), tgz);
    assert.deepEqual(seen, [
      `GET http://${upstreamHost}/behind-proxy`,
      `GET http://${upstreamHost}/behind-proxy/-/behind-proxy-1.0.0.tgz`,
    ]);
  });
});
