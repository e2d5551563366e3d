// `npm audit signatures` behind the proxy: npm asks the registry for its signing keys (/-/npm/v1/keys) when
// Sigstore's TUF repository has none for this registry's address. The upstream's keys are forwarded, and the
// signatures a cached packument keeps verify with them as npm verifies them (name@version:integrity).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import ssri from 'ssri';
import { startServer, type TestServer } from '../helpers/server.ts';
import { defaults } from '../../src/config/config.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEYS = {
  keys: [
    {
      expires: null,
      keyid: 'SHA256:test-signing-key',
      keytype: 'ecdsa-sha2-nistp256',
      scheme: 'ecdsa-sha2-nistp256',
      key: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    },
  ],
};

describe('registry signing keys through the proxy', () => {
  const tgz = Buffer.from('tarball of signed-pkg');
  const integrity = ssri.fromData(tgz).toString();
  const mode = { down: false };
  const upstream: Server = createServer((req, res) => {
    if (mode.down) return res.writeHead(503).end();
    res.setHeader('content-type', 'application/json');
    if (req.url === '/-/npm/v1/keys') return res.end(JSON.stringify(KEYS));
    if (req.url !== '/signed-pkg') return res.writeHead(404).end('{}');
    const sig = sign('sha256', Buffer.from(`signed-pkg@1.0.0:${integrity}`), privateKey).toString('base64');
    const dist = {
      tarball: 'http://127.0.0.1:1/signed-pkg/-/signed-pkg-1.0.0.tgz',
      integrity,
      signatures: [{ keyid: KEYS.keys[0].keyid, sig }],
    };
    const versions = { '1.0.0': { name: 'signed-pkg', version: '1.0.0', dist } };
    res.end(JSON.stringify({ name: 'signed-pkg', 'dist-tags': { latest: '1.0.0' }, versions }));
  });
  let down: TestServer;
  let alone: TestServer;

  before(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/`;
    down = await startServer({ upstream: { ...defaults.upstream, url, timeoutMs: 5_000 } });
    alone = await startServer();
  });
  after(async () => {
    await down.close();
    await alone.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  test("the upstream's keys are served, and a cached packument's signature verifies with them", async () => {
    const res = await fetch(`${down.url}-/npm/v1/keys`);
    assert.equal(res.status, 200);
    const keys = (await res.json()) as typeof KEYS;
    assert.deepEqual(keys, KEYS);
    const doc = (await (await fetch(`${down.url}signed-pkg`)).json()) as {
      versions: Record<string, { dist: { integrity: string; signatures: { keyid: string; sig: string }[] } }>;
    };
    const { dist } = doc.versions['1.0.0'];
    assert.equal(dist.signatures[0].keyid, keys.keys[0].keyid);
    // As npm's verify-signatures does it.
    const pem = `-----BEGIN PUBLIC KEY-----\n${keys.keys[0].key}\n-----END PUBLIC KEY-----`;
    const message = Buffer.from(`signed-pkg@1.0.0:${dist.integrity}`);
    assert.ok(verify('SHA256', message, pem, Buffer.from(dist.signatures[0].sig, 'base64')));
  });

  test('without an upstream the keys are a 404, which npm reads as "no keys"; a down upstream is a 502', async () => {
    assert.equal((await fetch(`${alone.url}-/npm/v1/keys`)).status, 404);
    mode.down = true;
    try {
      assert.equal((await fetch(`${down.url}-/npm/v1/keys`)).status, 502);
    } finally {
      mode.down = false;
    }
  });
});
