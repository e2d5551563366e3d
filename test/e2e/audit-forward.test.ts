// `npm audit` through Tessera: forwarded to the upstream without private names, and an error npm prints
// (not "found 0 vulnerabilities") when no upstream can answer. The upstream is a loopback stand-in.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startServer, type TestServer } from '../helpers/server.ts';
import { makeNpm, makeProject } from '../helpers/npm.ts';
import { publishBody } from '../helpers/publish-body.ts';
import { defaults } from '../../src/config/config.ts';

const ADVISORY = {
  id: 1001,
  url: 'https://advisories.example/1001',
  title: 'Prototype pollution in vuln-pkg',
  severity: 'high',
  vulnerable_versions: '<2.0.0',
  cwe: ['CWE-1321'],
  cvss: { score: 7.5, vectorString: null },
};

/** Answers audits with one advisory for vuln-pkg, and packuments for whatever npm asks; keeps audit bodies. */
function advisoryUpstream() {
  const bodies: { path: string; body: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        const raw = Buffer.concat(chunks);
        const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
        const body = JSON.parse(text) as Record<string, unknown>;
        bodies.push({ path: req.url ?? '', body });
        const bulk = body['vuln-pkg'] ? { 'vuln-pkg': [ADVISORY] } : {};
        res.end(JSON.stringify(req.url?.endsWith('/bulk') ? bulk : { advisories: {} }));
        return;
      }
      const name = decodeURIComponent((req.url ?? '/').slice(1));
      const dist = { tarball: `http://127.0.0.1:1/${name}.tgz`, integrity: 'sha512-AAAA' };
      const versions = { '1.0.0': { name, version: '1.0.0', dist }, '2.0.0': { name, version: '2.0.0', dist } };
      res.end(JSON.stringify({ name, 'dist-tags': { latest: '2.0.0' }, versions }));
    });
  });
  return { server, bodies };
}

/** A project whose lockfile names the packages, so `npm audit --package-lock-only` needs no install. */
function lockedProject(registry: string, names: string[]): string {
  const deps = Object.fromEntries(names.map((n) => [n, '1.0.0']));
  const dir = makeProject(deps);
  const packages: Record<string, unknown> = { '': { name: 'consumer', version: '1.0.0', dependencies: deps } };
  for (const n of names) {
    const file = n.split('/').pop();
    const resolved = `${registry}${n}/-/${file}-1.0.0.tgz`;
    packages[`node_modules/${n}`] = { version: '1.0.0', resolved, integrity: 'sha512-AAAA' };
  }
  const lock = { name: 'consumer', version: '1.0.0', lockfileVersion: 3, packages };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  return dir;
}

describe('npm audit through the registry', () => {
  const up = advisoryUpstream();
  let down: TestServer;
  let alone: TestServer;
  const names = ['vuln-pkg', 'internal-tool', '@corp/secret'];

  before(async () => {
    await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
    const addr = up.server.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
    down = await startServer({ upstream: { ...defaults.upstream, url }, privateNamespaces: ['internal-*'] });
    alone = await startServer();
    // @corp is private here by a local package.
    await down.addUser('dana');
    const res = await fetch(`${down.url}@corp%2fapp`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await down.token({ user: 'dana' })}`, 'content-type': 'application/json' },
      body: JSON.stringify(await publishBody('@corp/app', '1.0.0')),
    });
    assert.equal(res.status, 201, await res.text());
  });
  after(async () => {
    await down.close();
    await alone.close();
    up.server.close();
  });

  test("npm audit is forwarded, reports the upstream's advisory, and never sends a private name", async () => {
    const r = await makeNpm(down.url).run(['audit', '--package-lock-only'], { cwd: lockedProject(down.url, names) });
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /1 high severity vulnerability/);
    assert.match(r.output, /Prototype pollution in vuln-pkg/);
    const sent = up.bodies.filter((b) => b.path.endsWith('/bulk'));
    assert.equal(sent.length, 1);
    assert.deepEqual(Object.keys(sent[0].body), ['vuln-pkg']);
  });

  test('the quick endpoint is forwarded with private names taken out at every depth', async () => {
    const tree = {
      name: 'consumer',
      version: '1.0.0',
      requires: { 'vuln-pkg': '1.0.0', 'internal-tool': '1.0.0' },
      dependencies: {
        'vuln-pkg': {
          version: '1.0.0',
          requires: { '@corp/secret': '1.0.0' },
          dependencies: { '@corp/secret': { version: '1.0.0' } },
        },
        'internal-tool': { version: '1.0.0' },
      },
    };
    const res = await fetch(`${down.url}-/npm/v1/security/audits/quick`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(tree),
    });
    assert.equal(res.status, 200);
    const sent = up.bodies.at(-1)!;
    assert.match(sent.path, /audits\/quick$/);
    assert.deepEqual(sent.body, {
      name: 'consumer',
      version: '1.0.0',
      requires: { 'vuln-pkg': '1.0.0' },
      dependencies: { 'vuln-pkg': { version: '1.0.0', requires: {}, dependencies: {} } },
    });
  });

  test('without an upstream, npm audit fails with the reason instead of "found 0 vulnerabilities"', async () => {
    const cwd = lockedProject(alone.url, ['vuln-pkg']);
    const r = await makeNpm(alone.url).run(['audit', '--package-lock-only'], { cwd });
    assert.notEqual(r.code, 0, r.output);
    assert.match(r.output, /No advisory database can answer this audit/);
    assert.doesNotMatch(r.output, /found 0 vulnerabilities/);
  });
});
