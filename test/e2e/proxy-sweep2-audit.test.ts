// Audits through the proxy with the other clients, on a project mixing public upstream packages with private
// ones (a local scope, and a name private by a glob): `pnpm audit` and `yarn npm audit` report the upstream's
// advisory as `npm audit` does, and the upstream never sees a private name. The upstream is a real Tessera
// for packages behind a front that answers the advisory endpoints itself.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makePackage, makeProject } from '../helpers/npm.ts';
import { makePnpm, makeYarn, writeNpmrc, writeYarnrc } from '../helpers/clients.ts';
import { defaults } from '../../src/config/config.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const ADVISORY = {
  id: 1002,
  url: 'https://advisories.example/1002',
  title: 'Command injection in vuln-lib',
  severity: 'critical',
  vulnerable_versions: '<2.0.0',
  cwe: ['CWE-77'],
  cvss: { score: 9.8, vectorString: null },
};

/** Advisories for vuln-lib on the bulk endpoint (any other audit endpoint: 404); the rest passed to `target`. */
function advisoryFront() {
  const audits: { path: string; body: string }[] = [];
  const state = { target: '' };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.method === 'POST') {
        const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
        audits.push({ path: req.url ?? '', body: text });
        if (!req.url?.endsWith('/advisories/bulk')) return void res.writeHead(404).end('{}');
        const body = JSON.parse(text) as Record<string, unknown>;
        res.setHeader('content-type', 'application/json');
        return void res.end(JSON.stringify(body['vuln-lib'] ? { 'vuln-lib': [ADVISORY] } : {}));
      }
      const t = new URL(state.target);
      const out = request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers });
      out.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(raw);
    });
  });
  return { server, audits, state };
}

describe('pnpm and Yarn audits through the proxy, private and public names mixed', { skip: onceInSqlitePass }, () => {
  const front = advisoryFront();
  let up: TestServer;
  let down: TestServer;
  let project: string;
  let token: string;
  const privateNames = /@corp|internal-tool|corp-app/;

  before(async () => {
    await new Promise<void>((r) => front.server.listen(0, '127.0.0.1', r));
    const frontUrl = `http://127.0.0.1:${(front.server.address() as AddressInfo).port}/`;
    up = await startServer({ publicUrl: frontUrl });
    front.state.target = up.url;
    await up.addUser('upstreamer');
    const upNpm = makeNpm(up.url);
    upNpm.setToken(up.host, await up.token({ user: 'upstreamer' }));
    for (const [name, v] of [
      ['vuln-lib', '1.0.0'],
      ['safe-lib', '1.0.0'],
    ]) {
      const r = await upNpm.run(['publish', '--access', 'public'], { cwd: makePackage(name, v) });
      assert.equal(r.code, 0, r.output);
    }
    const upstream = { ...defaults.upstream, url: frontUrl };
    down = await startServer({ upstream, privateNamespaces: ['internal-*'] });
    await down.addUser('dana');
    token = await down.token({ user: 'dana' });
    const npm = makeNpm(down.url);
    npm.setToken(down.host, token);
    for (const [name, v] of [
      ['@corp/secret', '1.0.0'],
      ['internal-tool', '1.0.0'],
    ]) {
      const r = await npm.run(['publish'], { cwd: makePackage(name, v) });
      assert.equal(r.code, 0, r.output);
    }
    const deps = { 'vuln-lib': '^1.0.0', 'safe-lib': '^1.0.0', '@corp/secret': '^1.0.0', 'internal-tool': '^1.0.0' };
    project = makeProject(deps);
  });
  after(async () => {
    await down?.close();
    await up?.close();
    front.server.closeAllConnections();
    front.server.close();
  });

  const assertNothingPrivateSent = (from: number) => {
    const sent = front.audits.slice(from);
    assert.ok(sent.length > 0, 'no audit reached the upstream');
    for (const a of sent) assert.doesNotMatch(a.body, privateNames, `${a.path} sent ${a.body}`);
  };

  test('pnpm audit reports the advisory, without sending a private name', async () => {
    writeNpmrc(project, down.url, token);
    const pnpm = makePnpm();
    const install = await pnpm.run(['install'], { cwd: project });
    assert.equal(install.code, 0, install.output);
    const from = front.audits.length;
    const r = await pnpm.run(['audit'], { cwd: project });
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /Command injection in vuln-lib/);
    assert.match(r.output, /critical/i);
    assertNothingPrivateSent(from);
  });

  test('yarn npm audit reports the advisory, without sending a private name', async () => {
    const dir = makeProject({
      'vuln-lib': '^1.0.0',
      'safe-lib': '^1.0.0',
      '@corp/secret': '^1.0.0',
      'internal-tool': '^1.0.0',
    });
    writeYarnrc(dir, down.url, { token });
    const yarn = makeYarn();
    const install = await yarn.run(['install'], { cwd: dir });
    assert.equal(install.code, 0, install.output);
    const from = front.audits.length;
    const r = await yarn.run(['npm', 'audit', '--all', '--recursive'], { cwd: dir });
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /Command injection in vuln-lib/);
    assertNothingPrivateSent(from);
    // Without an upstream, Yarn prints the reason: never "No audit suggestions".
    const saved = down.ctx.config.upstream.url;
    down.ctx.config.upstream.url = null;
    try {
      const alone = await yarn.run(['npm', 'audit', '--all', '--recursive'], { cwd: dir });
      assert.notEqual(alone.code, 0, alone.output);
      assert.doesNotMatch(alone.output, /No audit suggestions/);
      assert.match(alone.output, /No advisory database can answer this audit/);
    } finally {
      down.ctx.config.upstream.url = saved;
    }
  });
});
