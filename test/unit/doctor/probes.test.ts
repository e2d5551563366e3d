// Probes against local servers only: TLS self-signed / private-CA chain / expired, a proxy answering 407,
// a closed port, and a fake Tessera answering token metadata and auth/explain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runDoctor } from '../../../src/doctor/doctor.ts';
import { makeCerts } from './certs.ts';
import type { Certs } from './certs.ts';

const TOKEN = 'tsr_wl0oYSZlKNfelb9N5yXVVdOQ2nHrFW2dhEs3';
let certs: Certs;
const servers: net.Server[] = [];

function listen(server: net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
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

async function doctor(npmrc: string, opts: { env?: Record<string, string>; packages?: string[]; publish?: boolean; pkg?: object; timeout?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-probe-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'proj/.npmrc'), npmrc);
  writeFileSync(join(root, 'proj/package.json'), JSON.stringify(opts.pkg ?? { name: 'app', version: '1.0.0' }));
  return runDoctor({
    cwd: join(root, 'proj'), env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', ...opts.env },
    offline: false, publish: opts.publish ?? false, packages: opts.packages ?? [], timeout: opts.timeout ?? 3000, npmPath: join(root, 'npm'),
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
    s.once('data', () => s.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n'));
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
  const port = await listen(net.createServer(() => { /* never answers */ }));
  const t0 = Date.now();
  const r = await doctor(`registry=http://127.0.0.1:${port}/\n`, { timeout: 600 });
  assert.ok(Date.now() - t0 < 2000);
  assert.ok(r.report.findings.some((x) => x.id === 'network-unreachable'), ids(r).join());
});

// A stand-in for a Tessera registry: whoami, token list and auth/explain, driven by the token's suffix.
function fakeTessera(state: { expiresInDays: number; explain: object }) {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/-/ping') return res.end('{}');
    if (auth !== `Bearer ${TOKEN}`) {
      res.statusCode = 401;
      res.setHeader('x-tessera-reason', 'token-revoked');
      res.setHeader('www-authenticate', 'Bearer realm="tessera"');
      res.setHeader('npm-notice', 'access token expired or revoked. Please try logging in again.');
      return res.end(JSON.stringify({ error: 'The access token was revoked (logout). Run `npm login` or create a new token (http://x/-/help/token-revoked)', reason: 'token-revoked' }));
    }
    if (url.pathname === '/-/whoami') return res.end('{"username":"alice"}');
    if (url.pathname === '/-/npm/v1/tokens') {
      const key = createHash('sha256').update(TOKEN).digest('hex');
      return res.end(JSON.stringify({ objects: [{ key, token: 'tsr_wl0o', readonly: false, expires: new Date(Date.now() + state.expiresInDays * 86_400_000).toISOString() }], urls: {} }));
    }
    if (url.pathname === '/-/tessera/v1/auth/explain') return res.end(JSON.stringify({ package: url.searchParams.get('package'), action: url.searchParams.get('action'), ...state.explain }));
    res.statusCode = 404;
    res.end('{"error":"Not found"}');
  });
}

test('Tessera: token expiring in 3 days → token-expiring-soon with the rotation command', async () => {
  const port = await listen(fakeTessera({ expiresInDays: 3, explain: { allowed: true } }));
  const r = await doctor(`registry=http://127.0.0.1:${port}/\n//127.0.0.1:${port}/:_authToken=\${T}\n`, { env: { T: TOKEN } });
  const f = r.report.findings.find((x) => x.id === 'token-expiring-soon');
  assert.ok(f, ids(r).join());
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /expires in 3 day/);
  assert.match(f.fix, /npm token create --registry=http:\/\/127\.0\.0\.1/);
  assert.ok(r.notes.some((n) => n.includes('whoami') && n.includes('alice')));
  const later = await listen(fakeTessera({ expiresInDays: 30, explain: { allowed: true } }));
  const r2 = await doctor(`registry=http://127.0.0.1:${later}/\n//127.0.0.1:${later}/:_authToken=${TOKEN}\n`);
  assert.ok(!r2.report.findings.some((x) => x.id === 'token-expiring-soon'));
});

test('Tessera: revoked token → token-rejected with the registry reason and notice', async () => {
  const port = await listen(fakeTessera({ expiresInDays: 30, explain: { allowed: true } }));
  const other = 'tsr_ulYo9g3slY31crW3eeMvrVTCuSSDhM0AonnH';
  const r = await doctor(`registry=http://127.0.0.1:${port}/\n//127.0.0.1:${port}/:_authToken=${other}\n`);
  const f = r.report.findings.find((x) => x.id === 'token-rejected');
  assert.ok(f, ids(r).join());
  assert.match(f.message, /token-revoked/);
  assert.match(f.message, /npm notice: access token expired or revoked/);
  assert.ok(!f.message.includes(other), 'token redacted');
  assert.equal(f.source?.line, 2);
});

for (const [reason, id] of [['token-read-only', 'read-only-token'], ['not-maintainer', 'not-maintainer'], ['otp-required', 'otp-required']] as const) {
  test(`Tessera auth/explain: publish denied with ${reason} → ${id}`, async () => {
    const port = await listen(fakeTessera({ expiresInDays: 30, explain: { allowed: false, reason, message: `denied: ${reason}` } }));
    const r = await doctor(`registry=http://127.0.0.1:${port}/\n//127.0.0.1:${port}/:_authToken=${TOKEN}\n`, { publish: true, pkg: { name: 'left-pad', version: '1.0.0' } });
    const f = r.report.findings.find((x) => x.id === id);
    assert.ok(f, ids(r).join());
    assert.match(f.message, /publish of left-pad/);
    assert.equal(f.severity, id === 'otp-required' ? 'warning' : 'error');
  });
}

test('--package: tarball on another host → tarball-host-mismatch', async () => {
  const port = await listen(http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/-/ping') return res.end('{}');
    res.end(JSON.stringify({ name: '@corp/good', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { dist: { tarball: 'http://127.0.0.2:9/@corp/good/-/good-1.0.0.tgz' } } } }));
  }));
  const r = await doctor(`@corp:registry=http://127.0.0.1:${port}/\n//127.0.0.1:${port}/:_authToken=${TOKEN}\n`, { packages: ['@corp/good'] });
  const f = r.report.findings.find((x) => x.id === 'tarball-host-mismatch');
  assert.ok(f, ids(r).join());
  assert.equal(f.severity, 'error');
  assert.match(f.message, /no credential/);
});
