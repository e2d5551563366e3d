// Probes against a real Tessera started by the test (test/helpers/server.ts): the doctor reads the true
// cause of a refusal from x-tessera-reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../helpers/server.ts';
import type { TestServer } from '../../helpers/server.ts';
import { generateToken } from '../../../src/domain/tokens.ts';
import { runDoctor } from '../../../src/doctor/doctor.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
  await server.addUser('alice');
});
after(() => server.close());

async function doctor(token: string) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-tessera-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'home/.npmrc'), `registry=${server.url}\n//${server.host}/:_authToken=\${TESSERA_TOKEN}\n`);
  writeFileSync(join(root, 'proj/package.json'), '{"name":"app","version":"1.0.0"}');
  return runDoctor({
    cwd: join(root, 'proj'), env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', TESSERA_TOKEN: token },
    offline: false, publish: false, packages: [], timeout: 3000, npmPath: join(root, 'npm'),
  });
}

test('a valid token: whoami names the user, no error finding', async () => {
  const token = await server.token({ user: 'alice' });
  const r = await doctor(token);
  assert.deepEqual(r.report.findings.filter((f) => f.severity === 'error'), []);
  assert.ok(r.notes.some((n) => n.includes('whoami') && n.includes('alice')), r.notes.join('\n'));
});

test('an expired token → token-rejected with reason token-expired, from ~/.npmrc line 2', async () => {
  const token = await server.token({ user: 'alice', expiresInMs: 1000 });
  server.clock.advance(5000);
  const r = await doctor(token);
  const f = r.report.findings.find((x) => x.id === 'token-rejected');
  assert.ok(f, JSON.stringify(r.report.findings));
  assert.match(f.message, /token-expired/);
  assert.match(f.message, /expired or revoked/);
  assert.equal(f.source?.line, 2);
  assert.ok(!JSON.stringify(r.report).includes(token));
});

test('an unknown token with a valid checksum → token-rejected with reason token-invalid', async () => {
  const r = await doctor(generateToken());
  const f = r.report.findings.find((x) => x.id === 'token-rejected');
  assert.ok(f, JSON.stringify(r.report.findings));
  assert.match(f.message, /token-invalid/);
});

test('a truncated token is caught offline as well as by the registry', async () => {
  const token = await server.token({ user: 'alice' });
  const r = await doctor(token.slice(0, -2));
  assert.ok(r.report.findings.some((x) => x.id === 'token-checksum-invalid'));
});

test('an administrator-revoked token → token-rejected with reason token-revoked', async () => {
  const { adminRevoke } = await import('../../../src/services/tokens.ts');
  const token = await server.token({ user: 'alice' });
  await adminRevoke(server.ctx, token);
  const r = await doctor(token);
  const f = r.report.findings.find((x) => x.id === 'token-rejected');
  assert.ok(f, JSON.stringify(r.report.findings));
  assert.match(f.message, /token-revoked/);
  assert.match(f.fix, /npm login --registry=/);
});
