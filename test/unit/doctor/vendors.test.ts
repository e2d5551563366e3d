// GitHub Packages and Azure Artifacts (reference §7.1, §7.2, rules R23/R24): the offline rules on a real
// @npmcli/config load, and the helpers they share with `tessera explain`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../../src/doctor/doctor.ts';
import { azureFeedBase, azureFeedOfUrl, isAzureArtifactsHost, isGitHubPackagesHost, passwordNotBase64 } from '../../../src/doctor/rules/vendors.ts';

const PAT = 'q7vx3kzq2m5n6p7r4s5t6u7v2w3x4y5z6a7b2c3d4e5f6g7h2j3k'; // the shape of an Azure DevOps PAT
const B64 = Buffer.from(PAT).toString('base64');
const FEED = '//pkgs.dev.azure.com/contoso/_packaging/contoso-feed/npm/';
const REGISTRY = 'https://pkgs.dev.azure.com/contoso/_packaging/contoso-feed/npm/registry/';

function lines(prefix: string, opts: { username?: string; password?: string } = {}): string {
  return [
    opts.username === undefined ? `${prefix}:username=contoso` : opts.username === '-' ? '' : `${prefix}:username=${opts.username}`,
    opts.password === '-' ? '' : `${prefix}:_password=${opts.password ?? B64}`,
    `${prefix}:email=npm requires email to be set but doesn't use the value`,
  ].filter(Boolean).join('\n') + '\n';
}

async function doctor(userrc: string, projectrc: string, opts: { pkg?: object; publish?: boolean; env?: Record<string, string> } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-vendors-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'home/.npmrc'), userrc);
  writeFileSync(join(root, 'proj/.npmrc'), projectrc);
  writeFileSync(join(root, 'proj/package.json'), JSON.stringify(opts.pkg ?? { name: 'app', version: '1.0.0' }));
  const r = await runDoctor({
    cwd: join(root, 'proj'), env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', ...opts.env },
    offline: true, publish: opts.publish ?? false, packages: [], npmPath: join(root, 'npm'),
  });
  return r.report.findings;
}

const of = (findings: Awaited<ReturnType<typeof doctor>>, id: string) => findings.filter((f) => f.id === id);
const dump = (findings: Awaited<ReturnType<typeof doctor>>) => JSON.stringify(findings, null, 1);

test('host and feed recognition', () => {
  assert.ok(isGitHubPackagesHost('npm.pkg.github.com'));
  assert.ok(isGitHubPackagesHost('npm.acme.ghe.com'));
  assert.ok(!isGitHubPackagesHost('npm.pkg.github.com.example.com'));
  assert.ok(!isGitHubPackagesHost('registry.example.com'));
  assert.ok(isAzureArtifactsHost('pkgs.dev.azure.com'));
  assert.ok(isAzureArtifactsHost('contoso.pkgs.visualstudio.com'));
  assert.ok(!isAzureArtifactsHost('pkgs.dev.azure.com.example.com'));
  assert.equal(azureFeedBase(`${FEED}registry/`), FEED);
  assert.equal(azureFeedBase(FEED), FEED);
  assert.equal(azureFeedBase('//pkgs.dev.azure.com/contoso/web/_packaging/f/npm/registry/'), '//pkgs.dev.azure.com/contoso/web/_packaging/f/npm/');
  assert.equal(azureFeedBase('//contoso.pkgs.visualstudio.com/_packaging/f/npm/registry/'), '//contoso.pkgs.visualstudio.com/_packaging/f/npm/');
  assert.equal(azureFeedBase('//pkgs.dev.azure.com/contoso/'), undefined);
  assert.equal(azureFeedBase('//registry.example.com/_packaging/f/npm/registry/'), undefined);
  assert.equal(azureFeedOfUrl(REGISTRY), FEED);
  assert.equal(azureFeedOfUrl(REGISTRY.slice(0, -1)), FEED);
  assert.equal(azureFeedOfUrl('not a url'), undefined);
});

test('_password must be the base64 of a printable token', () => {
  assert.equal(passwordNotBase64(B64), undefined);
  assert.equal(passwordNotBase64(B64.replace(/=+$/, '')), undefined, 'npm decodes unpadded base64 too');
  assert.equal(passwordNotBase64(Buffer.from('VssSessionToken-like.session-token_value').toString('base64')), undefined);
  assert.match(passwordNotBase64(PAT) ?? '', /raw PAT/, 'a raw PAT is valid base64 text but decodes to binary');
  assert.match(passwordNotBase64('my pat!') ?? '', /is not base64/);
  assert.match(passwordNotBase64('abcde') ?? '', /is not base64/, 'a length of 4n+1 is never base64');
  assert.match(passwordNotBase64(Buffer.from('tab\there').toString('base64')) ?? '', /printable/);
});

test('Azure: the documented layout (both paths, base64 PAT, username, email) gives no finding', async () => {
  const f = await doctor(`; begin auth token\n${lines(`${FEED}registry/`)}${lines(FEED)}; end auth token\n`, `registry=${REGISTRY}\n`, {
    pkg: { name: 'app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } }, publish: true,
  });
  assert.deepEqual(f, [], dump(f));
});

test('Azure: the legacy visualstudio.com host with a project feed, as vsts-npm-auth writes it, gives no finding', async () => {
  const feed = '//contoso.pkgs.visualstudio.com/web/_packaging/web-feed/npm/';
  const session = Buffer.from('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln').toString('base64');
  const f = await doctor(lines(`${feed}registry/`, { username: 'VssSessionToken', password: session }) + lines(feed, { username: 'VssSessionToken', password: session }),
    `registry=https:${feed}registry/\n`);
  assert.deepEqual(f, [], dump(f));
});

test('Azure: a raw PAT in _password is an error on its line, with the base64 / both paths / vsts-npm-auth fix', async () => {
  const f = await doctor(lines(`${FEED}registry/`, { password: PAT }) + lines(FEED), `registry=${REGISTRY}\n`);
  const az = of(f, 'azure-artifacts-credentials');
  assert.equal(az.length, 1, dump(f));
  assert.equal(az[0].severity, 'error');
  assert.equal(az[0].source?.line, 2);
  assert.match(az[0].message, /:_password` .*raw PAT/);
  assert.ok(az[0].fix.includes('base64'));
  assert.ok(az[0].fix.includes(`${FEED}registry/`) && az[0].fix.includes(`\`${FEED}\``), az[0].fix);
  assert.match(az[0].fix, /username=<any non-empty value>/);
  assert.match(az[0].fix, /:email=/);
  assert.match(az[0].fix, /vsts-npm-auth -config \.npmrc/);
});

test('Azure: a _password that is not base64 at all is an error', async () => {
  const f = await doctor(lines(`${FEED}registry/`) + lines(FEED, { password: 'not*base64!' }), `registry=${REGISTRY}\n`);
  const az = of(f, 'azure-artifacts-credentials');
  assert.equal(az.length, 1, dump(f));
  assert.match(az[0].message, /is not base64/);
  assert.equal(az[0].source?.line, 5);
});

test('Azure: _password without a username (missing or empty) is an error: npm sends nothing', async () => {
  for (const username of ['-', '']) {
    const f = await doctor(lines(`${FEED}registry/`, { username }) + lines(FEED), `registry=${REGISTRY}\n`);
    const az = of(f, 'azure-artifacts-credentials');
    assert.equal(az.length, 1, dump(f));
    assert.equal(az[0].severity, 'error');
    assert.match(az[0].message, /has no (non-empty )?`.*:username` beside it/);
    assert.match(az[0].fix, /username=<any non-empty value>/);
  }
});

test('Azure: a username without _password is an error too', async () => {
  const f = await doctor(lines(`${FEED}registry/`, { password: '-' }) + lines(FEED), `registry=${REGISTRY}\n`);
  const az = of(f, 'azure-artifacts-credentials');
  assert.equal(az.length, 1, dump(f));
  assert.match(az[0].message, /:username` .*has no `.*:_password` beside it/);
});

test('Azure: lines only at …/npm/registry/ → warning naming the missing …/npm/ twin', async () => {
  const f = await doctor(lines(`${FEED}registry/`), `registry=${REGISTRY}\n`);
  const az = of(f, 'azure-artifacts-credentials');
  assert.equal(az.length, 1, dump(f));
  assert.equal(az[0].severity, 'warning');
  assert.ok(az[0].message.includes(`keyed only at \`${FEED}registry/\``), az[0].message);
  assert.ok(az[0].message.includes(`\`${FEED}\``));
});

test('Azure: lines only at …/npm/ → warning for installs, an error when publishing (exact lookup finds nothing)', async () => {
  const install = await doctor(lines(FEED), `registry=${REGISTRY}\n`);
  const az = of(install, 'azure-artifacts-credentials');
  assert.equal(az.length, 1, dump(install));
  assert.equal(az[0].severity, 'warning');
  assert.match(az[0].message, /npm publish and npm whoami look up exactly/);
  const publish = await doctor(lines(FEED), `registry=${REGISTRY}\n`, { publish: true });
  assert.equal(of(publish, 'azure-artifacts-credentials')[0]?.severity, 'error', dump(publish));
});

test('Azure: an unset ${VAR} in _password is left to unexpanded-env-var', async () => {
  const f = await doctor(lines(`${FEED}registry/`, { password: '${AZURE_PAT_B64}' }) + lines(FEED, { password: '${AZURE_PAT_B64}' }), `registry=${REGISTRY}\n`);
  assert.deepEqual(of(f, 'azure-artifacts-credentials'), [], dump(f));
  assert.ok(of(f, 'unexpanded-env-var').length > 0);
  const set = await doctor(lines(`${FEED}registry/`, { password: '${AZURE_PAT_B64}' }) + lines(FEED, { password: '${AZURE_PAT_B64}' }), `registry=${REGISTRY}\n`, { env: { AZURE_PAT_B64: PAT } });
  assert.equal(of(set, 'azure-artifacts-credentials').length, 2, 'the expanded value is checked');
});

test('Azure: a feed with no credential at all gets the Azure fix from no-credential-for-registry', async () => {
  const f = await doctor('', `registry=${REGISTRY}\n`, { publish: true });
  const nc = of(f, 'no-credential-for-registry');
  assert.equal(nc.length, 1, dump(f));
  assert.match(nc[0].fix, /_password=<the base64 of the PAT>/);
  assert.match(nc[0].fix, /vsts-npm-auth/);
  assert.ok(!nc[0].fix.includes('_authToken'), nc[0].fix);
});

test('Azure rules leave other registries alone', async () => {
  // The same feed-shaped path on another host: only the host makes it Azure.
  const key = '//registry.example.com/contoso/_packaging/contoso-feed/npm/registry/';
  const f = await doctor(`${key}:username=me\n${key}:_password=${PAT}\n`, `registry=https:${key}\n`);
  assert.deepEqual(of(f, 'azure-artifacts-credentials'), [], dump(f));
});

const GH_PKG = { name: 'app', version: '1.0.0', dependencies: { '@acme/ui': '^1.0.0' } };

test('GitHub: a correct setup (lowercase scope, classic PAT in ${NODE_AUTH_TOKEN}) gives no finding', async () => {
  const f = await doctor('//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}\n', '@acme:registry=https://npm.pkg.github.com\n', {
    pkg: GH_PKG, env: { NODE_AUTH_TOKEN: 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' },
  });
  assert.deepEqual(f, [], dump(f));
});

test('GitHub: no token is an error even for public packages, with the GitHub line and token kind', async () => {
  const f = await doctor('', '@acme:registry=https://npm.pkg.github.com\n', { pkg: GH_PKG });
  const nc = of(f, 'no-credential-for-registry');
  assert.equal(nc.length, 1, dump(f));
  assert.equal(nc[0].severity, 'error');
  assert.match(nc[0].message, /requires a token even for public packages/);
  assert.match(nc[0].message, /authentication token not provided/);
  assert.ok(!/fine for public packages/.test(nc[0].message));
  assert.ok(nc[0].fix.includes('//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}'), nc[0].fix);
  assert.match(nc[0].fix, /classic personal access token with read:packages/);
  assert.match(nc[0].fix, /github_pat_ tokens are not accepted/);
  assert.equal(nc[0].source?.line, 1);
});

test('GitHub as the default registry without a token is an error', async () => {
  const f = await doctor('', 'registry=https://npm.pkg.github.com/\n');
  const nc = of(f, 'no-credential-for-registry');
  assert.equal(nc[0]?.severity, 'error', dump(f));
  assert.match(nc[0].message, /even for public packages/);
});

test('GitHub: a mapped scope nothing uses yet is a warning; GHE.com hosts are recognised', async () => {
  const f = await doctor('', '@acme:registry=https://npm.acme.ghe.com/\n');
  const nc = of(f, 'no-credential-for-registry');
  assert.equal(nc[0]?.severity, 'warning', dump(f));
  assert.ok(nc[0].fix.includes('//npm.acme.ghe.com/:_authToken=${NODE_AUTH_TOKEN}'), nc[0].fix);
});

test('GitHub: publishing without a token says there is no trusted publishing for GitHub Packages', async () => {
  const f = await doctor('', '@acme:registry=https://npm.pkg.github.com\n', { pkg: { name: '@acme/ui', version: '1.0.0' }, publish: true });
  const nc = of(f, 'no-credential-for-registry').find((x) => /ENEEDAUTH/.test(x.message));
  assert.ok(nc, dump(f));
  assert.match(nc.fix, /no trusted publishing/);
  assert.match(nc.fix, /packages: write/);
});

test('other registries keep the generic "fine for public packages" wording', async () => {
  const f = await doctor('', '@acme:registry=https://npm.acme.example/\n', { pkg: { name: 'app', version: '1.0.0', dependencies: { '@acme/ui': '1' } } });
  const nc = of(f, 'no-credential-for-registry');
  assert.equal(nc[0]?.severity, 'warning', dump(f));
  assert.match(nc[0].message, /fine for public packages/);
  assert.ok(!/GitHub|NODE_AUTH_TOKEN|vsts/.test(nc[0].fix), nc[0].fix);
});

test('GitHub: an uppercase scope is one invalid-scope-mapping finding that names the lowercase owner', async () => {
  const f = await doctor('//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}\n', '@Acme:registry=https://npm.pkg.github.com\n', {
    pkg: GH_PKG, env: { NODE_AUTH_TOKEN: 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' },
  });
  const inv = of(f, 'invalid-scope-mapping');
  assert.equal(inv.length, 1, dump(f));
  assert.match(inv[0].message, /GitHub Packages needs the owner in lowercase/);
  assert.match(inv[0].message, /`@acme:registry`/);
  assert.equal(inv[0].fix, 'Write `@acme:registry=https://npm.pkg.github.com`.');
  const other = await doctor('', '@Acme:registry=https://npm.acme.example/\n');
  assert.ok(!/GitHub/.test(of(other, 'invalid-scope-mapping')[0]?.message ?? 'GitHub'), dump(other));
});

test('GitHub: a fine-grained PAT is flagged on GHE.com hosts too', async () => {
  const f = await doctor('//npm.acme.ghe.com/:_authToken=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz\n', '@acme:registry=https://npm.acme.ghe.com/\n', { pkg: GH_PKG });
  const m = of(f, 'token-host-mismatch');
  assert.equal(m.length, 1, dump(f));
  assert.match(m[0].message, /fine-grained tokens \(github_pat_\)/);
});
