// The doctor's Tessera probes against a real Tessera started by the test (test/helpers/server.ts): the
// refusal reason (x-tessera-reason on whoami), the token's own metadata (GET /-/tessera/v1/token, or
// npm's token list) and /-/tessera/v1/auth/explain for --publish, each turned into a finding whose fix
// names the exact command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../helpers/server.ts';
import type { TestServer } from '../../helpers/server.ts';
import { publishBody } from '../../helpers/publish-body.ts';
import { grants } from '../../helpers/grants.ts';
import { generateToken } from '../../../src/domain/tokens.ts';
import { codeAt } from '../../../src/domain/totp.ts';
import { enable2fa } from '../../helpers/two-factor.ts';
import { runDoctor } from '../../../src/doctor/doctor.ts';
import { matchTokenInList } from '../../../src/doctor/probes.ts';

const DAY = 86_400_000;
let s: TestServer;

async function api(method: string, path: string, token: string, body?: unknown): Promise<any> {
  const r = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

before(async () => {
  s = await startServer();
  for (const u of ['alice', 'bob', 'dave']) await s.addUser(u);
  // bob maintains left-pad.
  await api('PUT', 'left-pad', await s.token({ user: 'bob' }), await publishBody('left-pad', '1.0.0'));
  // dave turns on 2FA for writes, as `npm profile enable-2fa auth-and-writes` does.
  const session = await s.token({ user: 'dave' });
  const code = (secret: string) => codeAt(secret, s.clock.now());
  await enable2fa(s.url, `Bearer ${session}`, { mode: 'auth-and-writes', password: 'dave-password', code });
});
after(() => s.close());

/** ~/.npmrc with the registry and its token (through ${TESSERA_TOKEN} unless `literal`); the project publishes `name`. */
async function doctor(token: string, opts: { publish?: string; packages?: string[]; literal?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-tessera-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(
    join(root, 'home/.npmrc'),
    `registry=${s.url}\n//${s.host}/:_authToken=${opts.literal ? token : '${TESSERA_TOKEN}'}\n`,
  );
  writeFileSync(join(root, 'proj/package.json'), JSON.stringify({ name: opts.publish ?? 'app', version: '1.0.0' }));
  const r = await runDoctor({
    cwd: join(root, 'proj'),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', TESSERA_TOKEN: token },
    offline: false,
    publish: Boolean(opts.publish),
    packages: opts.packages ?? [],
    timeout: 3000,
    npmPath: join(root, 'npm'),
  });
  assert.ok(!JSON.stringify(r.report).includes(token), 'the token is never printed');
  return { ...r, home: join(root, 'home') };
}

function only(r: Awaited<ReturnType<typeof doctor>>, id: string) {
  const found = r.report.findings.filter((f) => f.id === id);
  assert.equal(found.length, 1, JSON.stringify(r.report.findings, null, 2));
  return found[0];
}

test('a valid session: whoami and the token metadata in the notes, read allowed, no finding', async () => {
  const session = await s.token({ user: 'alice' });
  const r = await doctor(session, { packages: ['left-pad'], literal: true });
  assert.deepEqual(r.report.findings, []);
  assert.ok(
    r.notes.some((n) => n.includes('whoami') && n.includes('alice')),
    r.notes.join('\n'),
  );
  assert.ok(
    r.notes.some((n) => /\(alice\): session, read-write .*from \/-\/tessera\/v1\/token/.test(n)),
    r.notes.join('\n'),
  );
  // A session lasts hours by design: a note with the login command, not a warning.
  assert.ok(
    r.notes.some((n) => /login session: `npm login --registry=/.test(n)),
    r.notes.join('\n'),
  );
  assert.ok(
    r.notes.some((n) => n.includes('read of left-pad is allowed')),
    r.notes.join('\n'),
  );
  // The same session read from a variable (CI, where nobody logs in again): a warning to use a token.
  const f = only(await doctor(session), 'token-expiring-soon');
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /The session token .* expires in 1 hour\(s\)/);
  assert.match(f.fix, /login session .* create a token for CI: `npm token create --registry=/);
});

test('an expired token → token-rejected (token-expired), from ~/.npmrc line 2, renewed through $TESSERA_TOKEN', async () => {
  const token = await s.token({ user: 'alice', expiresInMs: 1000 });
  s.clock.advance(5000);
  const r = await doctor(token);
  const f = only(r, 'token-rejected');
  assert.equal(f.severity, 'error');
  assert.match(f.message, /401 token-expired — The access token expired on/);
  assert.match(f.message, /npm notice: access token expired or revoked/);
  assert.deepEqual(f.source, { file: join(r.home, '.npmrc'), line: 2 });
  assert.match(f.fix, new RegExp(`\`npm login --registry=${s.url}\``));
  assert.match(
    f.fix,
    /`npm token create --registry=\S+ --packages-all --packages-and-scopes-permission read-write --expires 30`/,
  );
  assert.match(f.fix, /`export TESSERA_TOKEN=<new token>`/);
});

test('a revoked token written in ~/.npmrc → token-rejected (token-revoked); npm login replaces the line', async () => {
  const { adminRevoke } = await import('../../../src/services/tokens.ts');
  const token = await s.token({ user: 'alice' });
  await adminRevoke(s.ctx, token);
  const r = await doctor(token, { literal: true });
  const f = only(r, 'token-rejected');
  assert.match(f.message, /token-revoked — The access token was revoked \(revoked by an administrator\)/);
  assert.match(
    f.fix,
    new RegExp(`Log in again: \`npm login --registry=${s.url}\` writes a new session token over .*\\.npmrc:2`),
  );
});

test('an unknown token with a valid checksum → token-rejected (token-invalid); a truncated one is caught offline too', async () => {
  const f = only(await doctor(generateToken()), 'token-rejected');
  assert.match(f.message, /token-invalid/);
  const truncated = await doctor((await s.token({ user: 'alice' })).slice(0, -2));
  assert.ok(truncated.report.findings.some((x) => x.id === 'token-checksum-invalid'));
});

test('a token limited to other addresses → token-rejected (ip-not-allowed), fix adds this address to --cidr', async () => {
  const r = await doctor(await s.token({ user: 'alice', cidr: ['10.0.0.0/8'] }));
  const f = only(r, 'token-rejected');
  assert.match(
    f.message,
    /ip-not-allowed — This token may only be used from 10\.0\.0\.0\/8; this request came from 127\.0\.0\.1/,
  );
  assert.match(f.fix, /--cidr 10\.0\.0\.0\/8,127\.0\.0\.1\/32/);
});

test('a read-only token with --publish → read-only-token with a read-write token for the package', async () => {
  const token = await s.token({
    user: 'alice',
    kind: 'granular',
    readonly: true,
    grants: grants({ packagesAll: true, permission: 'read-only' }),
    expiresInMs: 30 * DAY,
  });
  const r = await doctor(token, { publish: 'alice-lib' });
  const f = only(r, 'read-only-token');
  assert.equal(f.severity, 'error');
  assert.match(
    f.message,
    /publishing alice-lib would be refused for alice .*token-read-only — This token is read-only and cannot publish alice-lib/,
  );
  assert.match(
    f.fix,
    new RegExp(
      `\`npm token create --registry=${s.url} --name alice-lib-publish --packages alice-lib --packages-and-scopes-permission read-write --expires 30\``,
    ),
  );
  assert.ok(
    r.notes.some((n) => n.includes('granular, read-only')),
    r.notes.join('\n'),
  );
});

test('not a maintainer with --publish → not-maintainer naming the owner commands for this user', async () => {
  const r = await doctor(await s.token({ user: 'alice' }), { publish: 'left-pad' });
  const f = only(r, 'not-maintainer');
  assert.match(f.message, /not-maintainer — You are not a maintainer of left-pad/);
  assert.match(f.fix, new RegExp(`\`npm owner ls left-pad --registry=${s.url}\``));
  assert.match(f.fix, /`npm owner add alice left-pad --registry=/);
  assert.match(f.fix, /`@alice\/left-pad`/);
});

test('a token limited to other packages with --publish → publish-forbidden, fix keeps its packages and adds this one', async () => {
  const token = await s.token({
    user: 'alice',
    kind: 'granular',
    grants: grants({ packages: ['alice-other'], scopes: ['@alice'] }),
    expiresInMs: 30 * DAY,
  });
  const r = await doctor(token, { publish: 'alice-lib' });
  const f = only(r, 'publish-forbidden');
  assert.match(
    f.message,
    /token-package-restricted — This token is limited to @alice\/\*, alice-other and cannot publish alice-lib/,
  );
  assert.match(
    f.fix,
    /`npm token create --registry=\S+ --packages alice-other --packages alice-lib --scopes @alice --packages-and-scopes-permission read-write --expires 30`/,
  );
  assert.match(f.fix, /TESSERA_TOKEN/);
});

test('2FA for writes with --publish → otp-required (a warning) with --otp and the CI alternatives', async () => {
  const r = await doctor(await s.token({ user: 'dave' }), { publish: 'dave-lib' });
  const f = only(r, 'otp-required');
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /would let dave publish dave-lib only with a one-time password \(dave has 2FA for writes/);
  assert.match(f.fix, /`npm publish --otp=<code>`/);
  assert.match(
    f.fix,
    /--packages dave-lib --packages-and-scopes-permission read-write --bypass-2fa --expires 30 --otp=<code>/,
  );
  assert.match(f.fix, /`npm trust github dave-lib --repo <owner\/repo> --file <workflow\.yml> --registry=/);
  // A bypass-2FA token publishes without a code: nothing to say.
  const ci = await s.token({
    user: 'dave',
    kind: 'granular',
    grants: grants({ packagesAll: true }),
    bypass2fa: true,
    expiresInMs: 30 * DAY,
  });
  assert.deepEqual((await doctor(ci, { publish: 'dave-lib' })).report.findings, []);
});

test('a granular token expiring in 3 days → token-expiring-soon: the same token again, then revoke this one', async () => {
  const token = await s.token({
    user: 'alice',
    kind: 'granular',
    name: 'ci',
    grants: grants({ scopes: ['@alice'] }),
    cidr: ['127.0.0.0/8'],
    expiresInMs: 3 * DAY,
  });
  const r = await doctor(token);
  const f = only(r, 'token-expiring-soon');
  assert.equal(f.severity, 'warning');
  assert.match(f.message, /The granular token from .*\.npmrc:2 \(tsr_\*\*\*, "ci"\) expires in 3 day\(s\)/);
  const key = (await api('GET', '-/tessera/v1/token', token)).token.key;
  assert.match(
    f.fix,
    new RegExp(
      `\`npm token create --registry=${s.url} --name ci --scopes @alice --packages-and-scopes-permission read-write --cidr 127\\.0\\.0\\.0/8 --expires 3\``,
    ),
  );
  assert.match(f.fix, new RegExp(`\`npm token revoke ${key} --registry=${s.url}\``));
  // A month left: a note only.
  const later = await doctor(
    await s.token({ user: 'alice', kind: 'granular', grants: grants({ packagesAll: true }), expiresInMs: 30 * DAY }),
  );
  assert.deepEqual(later.report.findings, []);
});

test("without /-/tessera/v1/token the token is found in npm's token list by its redacted prefix", async () => {
  const session = await s.token({ user: 'bob' });
  const tokens = [
    session,
    await s.token({ user: 'bob', kind: 'granular', grants: grants({ packagesAll: true }), expiresInMs: 30 * DAY }),
  ];
  const list = await api('GET', '-/npm/v1/tokens', session);
  assert.ok(list.objects.length >= 2);
  for (const token of tokens) {
    const own = (await api('GET', '-/tessera/v1/token', token)).token;
    assert.equal(matchTokenInList(list.objects, token)?.key, own.key);
  }
  assert.equal(matchTokenInList(list.objects, generateToken()), undefined);
});
