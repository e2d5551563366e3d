// Probes against local servers only: TLS self-signed / private-CA chain / expired, a proxy answering 407,
// a closed port, a hanging registry, tarballs on another host. The Tessera probes run against a real
// Tessera in test/e2e/doctor/tessera.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../../src/doctor/doctor.ts';
import { makeCerts } from './certs.ts';
import type { Certs } from './certs.ts';

const TOKEN = 'tsr_wl0oYSZlKNfelb9N5yXVVdOQ2nHrFW2dhEs3';
let certs: Certs;
const servers: net.Server[] = [];

function listen(server: net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

const ok: http.RequestListener = (_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end('{}');
};

before(() => {
  certs = makeCerts();
});
after(() => {
  for (const s of servers) s.close();
});

async function doctor(
  npmrc: string,
  opts: { env?: Record<string, string>; packages?: string[]; publish?: boolean; pkg?: object; timeout?: number } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-probe-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'proj/.npmrc'), npmrc);
  writeFileSync(join(root, 'proj/package.json'), JSON.stringify(opts.pkg ?? { name: 'app', version: '1.0.0' }));
  return runDoctor({
    cwd: join(root, 'proj'),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', ...opts.env },
    offline: false,
    publish: opts.publish ?? false,
    packages: opts.packages ?? [],
    timeout: opts.timeout ?? 3000,
    npmPath: join(root, 'npm'),
  });
}

const ids = (r: Awaited<ReturnType<typeof doctor>>) => r.report.findings.map((f) => `${f.id}/${f.severity}`);

test('self-signed server certificate → tls-bad-certificate', async () => {
  const port = await listen(https.createServer(certs.selfSigned, ok));
  const r = await doctor(`registry=https://127.0.0.1:${port}/\n`);
  const f = r.report.findings.find((x) => x.id === 'tls-bad-certificate');
  assert.ok(f, ids(r).join());
  assert.equal(f.severity, 'error');
  assert.match(f.message, /DEPTH_ZERO_SELF_SIGNED_CERT/);
});

test('private CA sent in the chain → tls-untrusted-chain naming the root; cafile fixes it', async () => {
  const port = await listen(https.createServer(certs.chained, ok));
  const r = await doctor(`registry=https://127.0.0.1:${port}/\n`);
  const f = r.report.findings.find((x) => x.id === 'tls-untrusted-chain');
  assert.ok(f, ids(r).join());
  assert.match(f.message, /SELF_SIGNED_CERT_IN_CHAIN/);
  assert.match(f.message, /Doctor Test Root CA/);
  assert.match(f.fix, /cafile=/);
  const fixed = await doctor(`registry=https://127.0.0.1:${port}/\ncafile=${certs.rootFile}\n`);
  assert.ok(!fixed.report.findings.some((x) => x.id.startsWith('tls-')), ids(fixed).join());
  assert.ok(fixed.notes.some((n) => n.startsWith('ping')));
});

test('expired certificate → tls-bad-certificate saying it expired', async () => {
  const port = await listen(https.createServer(certs.expired, ok));
  const r = await doctor(`registry=https://127.0.0.1:${port}/\ncafile=${certs.rootFile}\n`);
  const f = r.report.findings.find((x) => x.id === 'tls-bad-certificate');
  assert.ok(f, ids(r).join());
  assert.match(f.message, /expired/);
  assert.match(f.message, /CERT_HAS_EXPIRED/);
});

test('proxy answering 407 → proxy-misconfigured with the proxy line', async () => {
  const proxy = net.createServer((s) => {
    s.once('data', () =>
      s.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n',
      ),
    );
  });
  const port = await listen(proxy);
  const r = await doctor(`registry=https://registry.example.com/\nhttps-proxy=http://127.0.0.1:${port}\n`);
  const f = r.report.findings.find((x) => x.id === 'proxy-misconfigured');
  assert.ok(f, ids(r).join());
  assert.equal(f.severity, 'error');
  assert.match(f.message, /407/);
  assert.equal(f.source?.line, 2);
});

test('closed port → network-unreachable, not an auth finding', async () => {
  const s = net.createServer();
  const port = await listen(s);
  s.close();
  const r = await doctor(`registry=http://127.0.0.1:${port}/\n//127.0.0.1:${port}/:_authToken=${TOKEN}\n`);
  const f = r.report.findings.find((x) => x.id === 'network-unreachable');
  assert.ok(f, ids(r).join());
  assert.match(f.message, /ECONNREFUSED/);
  assert.ok(!r.report.findings.some((x) => x.id === 'token-rejected'));
});

test('a registry that hangs is cut off by the time box', async () => {
  const port = await listen(
    net.createServer(() => {
      /* never answers */
    }),
  );
  const t0 = Date.now();
  const r = await doctor(`registry=http://127.0.0.1:${port}/\n`, { timeout: 600 });
  assert.ok(Date.now() - t0 < 2000);
  assert.ok(
    r.report.findings.some((x) => x.id === 'network-unreachable'),
    ids(r).join(),
  );
});

test('--package: tarball on another host → tarball-host-mismatch', async () => {
  const port = await listen(
    http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/-/ping') return res.end('{}');
      res.end(
        JSON.stringify({
          name: '@corp/good',
          'dist-tags': { latest: '1.0.0' },
          versions: { '1.0.0': { dist: { tarball: 'http://127.0.0.2:9/@corp/good/-/good-1.0.0.tgz' } } },
        }),
      );
    }),
  );
  const r = await doctor(`@corp:registry=http://127.0.0.1:${port}/\n//127.0.0.1:${port}/:_authToken=${TOKEN}\n`, {
    packages: ['@corp/good'],
  });
  const f = r.report.findings.find((x) => x.id === 'tarball-host-mismatch');
  assert.ok(f, ids(r).join());
  assert.equal(f.severity, 'error');
  assert.match(f.message, /no credential/);
});
