// GitHub Packages and Azure Artifacts (reference §7.1, §7.2, rules R23/R24): the offline rules on a real
// @npmcli/config load, and the helpers they share with `tessera explain`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../../src/doctor/doctor.ts';
import { explainText } from '../../../src/doctor/explain.ts';
import {
  azureFeedBase,
  azureFeedOfUrl,
  gitHubPackagesOf,
  gitHubPackagesOfUrl,
  isAzureArtifactsHost,
  isGitHubPackagesHost,
  passwordNotBase64,
} from '../../../src/doctor/rules/vendors.ts';

const PAT = 'q7vx3kzq2m5n6p7r4s5t6u7v2w3x4y5z6a7b2c3d4e5f6g7h2j3k'; // the shape of an Azure DevOps PAT
const B64 = Buffer.from(PAT).toString('base64');
const FEED = '//pkgs.dev.azure.com/contoso/_packaging/contoso-feed/npm/';
const REGISTRY = 'https://pkgs.dev.azure.com/contoso/_packaging/contoso-feed/npm/registry/';

function lines(prefix: string, opts: { username?: string; password?: string } = {}): string {
  return (
    [
      opts.username === undefined
        ? `${prefix}:username=contoso`
        : opts.username === '-'
          ? ''
          : `${prefix}:username=${opts.username}`,
      opts.password === '-' ? '' : `${prefix}:_password=${opts.password ?? B64}`,
      `${prefix}:email=npm requires email to be set but doesn't use the value`,
    ]
      .filter(Boolean)
      .join('\n') + '\n'
  );
}

async function doctor(
  userrc: string,
  projectrc: string,
  opts: { pkg?: object; publish?: boolean; env?: Record<string, string>; client?: 'npm' | 'pnpm' } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'doctor-vendors-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'home/.npmrc'), userrc);
  writeFileSync(join(root, 'proj/.npmrc'), projectrc);
  writeFileSync(
    join(root, 'proj/package.json'),
    JSON.stringify(opts.pkg ?? { name: 'app', version: '1.0.0' }, null, 2),
  );
  const r = await runDoctor({
    cwd: join(root, 'proj'),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '', ...opts.env },
    offline: true,
    publish: opts.publish ?? false,
    packages: [],
    npmPath: join(root, 'npm'),
    client: opts.client,
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
  assert.equal(
    azureFeedBase('//pkgs.dev.azure.com/contoso/web/_packaging/f/npm/registry/'),
    '//pkgs.dev.azure.com/contoso/web/_packaging/f/npm/',
  );
  assert.equal(
    azureFeedBase('//contoso.pkgs.visualstudio.com/_packaging/f/npm/registry/'),
    '//contoso.pkgs.visualstudio.com/_packaging/f/npm/',
  );
  assert.equal(azureFeedBase('//pkgs.dev.azure.com/contoso/'), undefined);
  assert.equal(azureFeedBase('//registry.example.com/_packaging/f/npm/registry/'), undefined);
  assert.equal(azureFeedOfUrl(REGISTRY), FEED);
  assert.equal(azureFeedOfUrl(REGISTRY.slice(0, -1)), FEED);
  assert.equal(azureFeedOfUrl('not a url'), undefined);
});

test('_password must be the base64 of a printable token', () => {
  assert.equal(passwordNotBase64(B64), undefined);
  assert.equal(passwordNotBase64(B64.replace(/=+$/, '')), undefined, 'npm decodes unpadded base64 too');
  assert.equal(
    passwordNotBase64(Buffer.from('VssSessionToken-like.session-token_value').toString('base64')),
    undefined,
  );
  assert.match(passwordNotBase64(PAT) ?? '', /raw PAT/, 'a raw PAT is valid base64 text but decodes to binary');
  assert.match(passwordNotBase64('my pat!') ?? '', /is not base64/);
  assert.match(passwordNotBase64('abcde') ?? '', /is not base64/, 'a length of 4n+1 is never base64');
  assert.match(passwordNotBase64(Buffer.from('tab\there').toString('base64')) ?? '', /printable/);
});

test('Azure: the documented layout (both paths, base64 PAT, username, email) gives no finding', async () => {
  const f = await doctor(
    `; begin auth token\n${lines(`${FEED}registry/`)}${lines(FEED)}; end auth token\n`,
    `registry=${REGISTRY}\n`,
    {
      pkg: { name: 'app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } },
      publish: true,
    },
  );
  assert.deepEqual(f, [], dump(f));
});

test('Azure: the legacy visualstudio.com host with a project feed, as vsts-npm-auth writes it, gives no finding', async () => {
  const feed = '//contoso.pkgs.visualstudio.com/web/_packaging/web-feed/npm/';
  const session = Buffer.from('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln').toString('base64');
  const f = await doctor(
    lines(`${feed}registry/`, { username: 'VssSessionToken', password: session }) +
      lines(feed, { username: 'VssSessionToken', password: session }),
    `registry=https:${feed}registry/\n`,
  );
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
  const f = await doctor(
    lines(`${FEED}registry/`) + lines(FEED, { password: 'not*base64!' }),
    `registry=${REGISTRY}\n`,
  );
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
  const f = await doctor(
    lines(`${FEED}registry/`, { password: '${AZURE_PAT_B64}' }) + lines(FEED, { password: '${AZURE_PAT_B64}' }),
    `registry=${REGISTRY}\n`,
  );
  assert.deepEqual(of(f, 'azure-artifacts-credentials'), [], dump(f));
  assert.ok(of(f, 'unexpanded-env-var').length > 0);
  const set = await doctor(
    lines(`${FEED}registry/`, { password: '${AZURE_PAT_B64}' }) + lines(FEED, { password: '${AZURE_PAT_B64}' }),
    `registry=${REGISTRY}\n`,
    { env: { AZURE_PAT_B64: PAT } },
  );
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
  const f = await doctor(
    '//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}\n',
    '@acme:registry=https://npm.pkg.github.com\n',
    {
      pkg: GH_PKG,
      env: { NODE_AUTH_TOKEN: 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' },
    },
  );
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
  const f = await doctor('', '@acme:registry=https://npm.pkg.github.com\n', {
    pkg: { name: '@acme/ui', version: '1.0.0' },
    publish: true,
  });
  const nc = of(f, 'no-credential-for-registry').find((x) => /ENEEDAUTH/.test(x.message));
  assert.ok(nc, dump(f));
  assert.match(nc.fix, /no trusted publishing/);
  assert.match(nc.fix, /packages: write/);
});

test('other registries keep the generic "fine for public packages" wording', async () => {
  const f = await doctor('', '@acme:registry=https://npm.acme.example/\n', {
    pkg: { name: 'app', version: '1.0.0', dependencies: { '@acme/ui': '1' } },
  });
  const nc = of(f, 'no-credential-for-registry');
  assert.equal(nc[0]?.severity, 'warning', dump(f));
  assert.match(nc[0].message, /fine for public packages/);
  assert.ok(!/GitHub|NODE_AUTH_TOKEN|vsts/.test(nc[0].fix), nc[0].fix);
});

test('GitHub: an uppercase scope is one invalid-scope-mapping finding that names the lowercase owner', async () => {
  const f = await doctor(
    '//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}\n',
    '@Acme:registry=https://npm.pkg.github.com\n',
    {
      pkg: GH_PKG,
      env: { NODE_AUTH_TOKEN: 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8' },
    },
  );
  const inv = of(f, 'invalid-scope-mapping');
  assert.equal(inv.length, 1, dump(f));
  assert.match(inv[0].message, /GitHub Packages needs the owner in lowercase/);
  assert.match(inv[0].message, /`@acme:registry`/);
  assert.equal(inv[0].fix, 'Write `@acme:registry=https://npm.pkg.github.com`.');
  const other = await doctor('', '@Acme:registry=https://npm.acme.example/\n');
  assert.ok(!/GitHub/.test(of(other, 'invalid-scope-mapping')[0]?.message ?? 'GitHub'), dump(other));
});

test('GitHub: a fine-grained PAT is flagged on GHE.com hosts too', async () => {
  const f = await doctor(
    '//npm.acme.ghe.com/:_authToken=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz\n',
    '@acme:registry=https://npm.acme.ghe.com/\n',
    { pkg: GH_PKG },
  );
  const m = of(f, 'token-host-mismatch');
  assert.equal(m.length, 1, dump(f));
  assert.match(m[0].message, /fine-grained tokens \(github_pat_\)/);
});

const GHP = 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const GH_TOKEN_LINE = '//npm.pkg.github.com/:_authToken=${NODE_AUTH_TOKEN}\n';

test("GitHub Packages registries: GHE.com and GHES's _registry/npm path, with the owner appended or not", () => {
  assert.deepEqual(gitHubPackagesOfUrl('https://npm.pkg.github.com'), {
    base: 'npm.pkg.github.com',
    url: 'https://npm.pkg.github.com',
  });
  assert.deepEqual(gitHubPackagesOfUrl('https://npm.pkg.github.com/Acme/'), {
    base: 'npm.pkg.github.com',
    url: 'https://npm.pkg.github.com',
    owner: 'Acme',
  });
  assert.deepEqual(gitHubPackagesOfUrl('https://npm.acme.ghe.com/acme'), {
    base: 'npm.acme.ghe.com',
    url: 'https://npm.acme.ghe.com',
    owner: 'acme',
  });
  assert.deepEqual(gitHubPackagesOfUrl('https://GHE.corp.example/_registry/npm/'), {
    base: 'ghe.corp.example/_registry/npm',
    url: 'https://ghe.corp.example/_registry/npm/',
  });
  assert.deepEqual(gitHubPackagesOfUrl('https://ghe.corp.example:8443/_registry/npm/acme'), {
    base: 'ghe.corp.example:8443/_registry/npm',
    url: 'https://ghe.corp.example:8443/_registry/npm/',
    owner: 'acme',
  });
  assert.deepEqual(
    gitHubPackagesOf('ghe.corp.example/_registry/npm/'),
    { base: 'ghe.corp.example/_registry/npm', url: 'https://ghe.corp.example/_registry/npm/' },
    'a credential key without its //',
  );
  // Paths npm itself builds are not an owner.
  assert.equal(gitHubPackagesOfUrl('https://npm.pkg.github.com/download/@acme/ui/1.0.0/abc')?.owner, undefined);
  assert.equal(gitHubPackagesOfUrl('https://npm.pkg.github.com/@acme%2fui')?.owner, undefined);
  // GHES's npm.HOST form looks like any other registry named npm.<something>: not recognised.
  assert.equal(gitHubPackagesOfUrl('https://npm.corp.example/'), undefined);
  assert.equal(gitHubPackagesOfUrl('https://ghe.corp.example/_registry/npmx/'), undefined);
  assert.equal(gitHubPackagesOfUrl('https://ghe.corp.example/npm/_registry/npm/'), undefined);
  assert.equal(gitHubPackagesOfUrl('not a url'), undefined);
});

test('GitHub: publishing a scoped package to the bare URL gives no finding', async () => {
  const f = await doctor(GH_TOKEN_LINE, '@acme:registry=https://npm.pkg.github.com\n', {
    pkg: { name: '@acme/ui', version: '1.0.0' },
    publish: true,
    env: { NODE_AUTH_TOKEN: GHP },
  });
  assert.deepEqual(f, [], dump(f));
  const viaConfig = await doctor(GH_TOKEN_LINE, '', {
    pkg: { name: '@acme/ui', version: '1.0.0', publishConfig: { registry: 'https://npm.pkg.github.com' } },
    env: { NODE_AUTH_TOKEN: GHP },
  });
  assert.deepEqual(of(viaConfig, 'github-packages-config'), [], dump(viaConfig));
});

test("GitHub: an unscoped package published there is an error on package.json's name line", async () => {
  const f = await doctor(GH_TOKEN_LINE, 'registry=https://npm.pkg.github.com/\n', {
    publish: true,
    env: { NODE_AUTH_TOKEN: GHP },
  });
  const g = of(f, 'github-packages-config');
  assert.equal(g.length, 1, dump(f));
  assert.equal(g[0].severity, 'error');
  assert.match(g[0].message, /"app", unscoped/);
  assert.match(g[0].message, /only hosts packages scoped to their owner/);
  assert.match(g[0].source?.file ?? '', /package\.json$/);
  assert.equal(g[0].source?.line, 2);
  assert.ok(
    g[0].fix.includes('`@<owner>/app`') && g[0].fix.includes('`@<owner>:registry=https://npm.pkg.github.com`'),
    g[0].fix,
  );
});

test('GitHub: publishConfig.registry on GitHub Packages with an unscoped name is an error without --publish; private or install-only projects are left alone', async () => {
  const pkg = { name: 'app', version: '1.0.0', publishConfig: { registry: 'https://npm.pkg.github.com' } };
  const f = await doctor(GH_TOKEN_LINE, '', { pkg, env: { NODE_AUTH_TOKEN: GHP } });
  assert.equal(of(f, 'github-packages-config')[0]?.severity, 'error', dump(f));
  const priv = await doctor(GH_TOKEN_LINE, '', { pkg: { ...pkg, private: true }, env: { NODE_AUTH_TOKEN: GHP } });
  assert.deepEqual(of(priv, 'github-packages-config'), [], dump(priv));
  // An app that installs from GitHub Packages but is not published there.
  const app = await doctor(GH_TOKEN_LINE, 'registry=https://npm.pkg.github.com/\n', { env: { NODE_AUTH_TOKEN: GHP } });
  assert.deepEqual(of(app, 'github-packages-config'), [], dump(app));
  // Publishing an unscoped package elsewhere.
  const other = await doctor(
    '//registry.example.com/:_authToken=${NPM_TOKEN}\n',
    'registry=https://registry.example.com/\n',
    { publish: true, env: { NPM_TOKEN: 'x'.repeat(20) } },
  );
  assert.deepEqual(of(other, 'github-packages-config'), [], dump(other));
});

test('GitHub: an owner appended to registry= is a warning with the bare URL plus the scope mapping; an error with pnpm', async () => {
  const f = await doctor(GH_TOKEN_LINE, 'registry=https://npm.pkg.github.com/Acme\n', {
    env: { NODE_AUTH_TOKEN: GHP },
  });
  const g = of(f, 'github-packages-config');
  assert.equal(g.length, 1, dump(f));
  assert.equal(g[0].severity, 'warning');
  assert.match(g[0].message, /appends the owner to the GitHub Packages URL/);
  assert.match(g[0].message, /pnpm\/pnpm #2933/);
  assert.equal(g[0].source?.line, 1);
  assert.equal(
    g[0].fix,
    "Write `registry=https://npm.pkg.github.com` and map the owner's scope: `@acme:registry=https://npm.pkg.github.com`.",
  );
  const pnpm = await doctor(GH_TOKEN_LINE, 'registry=https://npm.pkg.github.com/Acme\n', {
    env: { NODE_AUTH_TOKEN: GHP },
    client: 'pnpm',
  });
  assert.equal(of(pnpm, 'github-packages-config')[0]?.severity, 'error', dump(pnpm));
});

test('GitHub: an owner appended to @owner:registry is flagged, and a scope that is not that owner is named in the fix', async () => {
  const f = await doctor(GH_TOKEN_LINE, '@acme:registry=https://npm.pkg.github.com/acme\n', {
    pkg: GH_PKG,
    env: { NODE_AUTH_TOKEN: GHP },
  });
  const g = of(f, 'github-packages-config');
  assert.equal(g.length, 1, dump(f));
  assert.equal(g[0].fix, 'Write `@acme:registry=https://npm.pkg.github.com`.');
  const foreign = await doctor(GH_TOKEN_LINE, '@ui:registry=https://npm.pkg.github.com/acme\n', {
    env: { NODE_AUTH_TOKEN: GHP },
  });
  assert.match(
    of(foreign, 'github-packages-config')[0]?.fix ?? '',
    /`@ui:registry=https:\/\/npm\.pkg\.github\.com` \(packages of the owner acme are scoped `@acme`/,
    dump(foreign),
  );
  // Same path on another registry: an ordinary path-based registry.
  const other = await doctor('', '@acme:registry=https://npm.acme.example/acme/\n');
  assert.deepEqual(of(other, 'github-packages-config'), [], dump(other));
});

test('GitHub: publishConfig.registry with the owner appended and a scope that is not that owner: two findings on package.json', async () => {
  const pkg = { name: '@other/ui', version: '1.0.0', publishConfig: { registry: 'https://npm.pkg.github.com/acme' } };
  const f = await doctor(GH_TOKEN_LINE, '', { pkg, env: { NODE_AUTH_TOKEN: GHP } });
  const g = of(f, 'github-packages-config');
  assert.equal(g.length, 2, dump(f));
  const url = g.find((x) => /appends the owner/.test(x.message));
  const scope = g.find((x) => /not `@other`/.test(x.message));
  assert.ok(url && scope, dump(f));
  assert.equal(url.severity, 'warning');
  assert.equal(url.source?.line, 5, 'the "registry" line inside publishConfig');
  assert.ok(
    url.fix.includes('"registry": "https://npm.pkg.github.com"') &&
      url.fix.includes('`@acme:registry=https://npm.pkg.github.com`'),
    url.fix,
  );
  assert.equal(scope.severity, 'error');
  assert.equal(scope.source?.line, 2);
  assert.ok(scope.fix.startsWith('Rename it to `@acme/ui`'), scope.fix);
  // The same scope as the owner: only the URL form is flagged.
  const same = await doctor(GH_TOKEN_LINE, '', { pkg: { ...pkg, name: '@acme/ui' }, env: { NODE_AUTH_TOKEN: GHP } });
  assert.deepEqual(
    of(same, 'github-packages-config').map((x) => x.severity),
    ['warning'],
    dump(same),
  );
});

const GHES = 'https://ghe.corp.example/_registry/npm/';
const GHES_KEY = '//ghe.corp.example/_registry/npm/';

test('GHES (_registry/npm path form): a correct setup gives no finding', async () => {
  const f = await doctor(`${GHES_KEY}:_authToken=\${NODE_AUTH_TOKEN}\n`, `@acme:registry=${GHES}\n`, {
    pkg: { name: '@acme/app', version: '1.0.0', dependencies: { '@acme/ui': '^1.0.0' } },
    publish: true,
    env: { NODE_AUTH_TOKEN: GHP },
  });
  assert.deepEqual(f, [], dump(f));
});

test('GHES: the GitHub rules apply — token even for public packages, keyed at …/_registry/npm/; github_pat_; lowercase owner; unscoped publish', async () => {
  const none = await doctor('', `@acme:registry=${GHES}\n`, { pkg: GH_PKG });
  const nc = of(none, 'no-credential-for-registry');
  assert.equal(nc[0]?.severity, 'error', dump(none));
  assert.match(nc[0].message, /even for public packages/);
  assert.ok(nc[0].fix.includes(`${GHES_KEY}:_authToken=\${NODE_AUTH_TOKEN}`), nc[0].fix);
  const pat = await doctor(
    `${GHES_KEY}:_authToken=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz\n`,
    `@acme:registry=${GHES}\n`,
    { pkg: GH_PKG },
  );
  assert.match(of(pat, 'token-host-mismatch')[0]?.message ?? '', /fine-grained tokens/, dump(pat));
  const upper = await doctor('', `@Acme:registry=${GHES}\n`);
  assert.match(
    of(upper, 'invalid-scope-mapping')[0]?.message ?? '',
    /GitHub Packages needs the owner in lowercase/,
    dump(upper),
  );
  const unscoped = await doctor(`${GHES_KEY}:_authToken=\${NODE_AUTH_TOKEN}\n`, `registry=${GHES}\n`, {
    publish: true,
    env: { NODE_AUTH_TOKEN: GHP },
  });
  assert.ok(of(unscoped, 'github-packages-config')[0]?.fix.includes(`\`@<owner>:registry=${GHES}\``), dump(unscoped));
  const owner = await doctor(`${GHES_KEY}:_authToken=\${NODE_AUTH_TOKEN}\n`, `@acme:registry=${GHES}acme\n`, {
    pkg: GH_PKG,
    env: { NODE_AUTH_TOKEN: GHP },
  });
  assert.equal(of(owner, 'github-packages-config')[0]?.fix, `Write \`@acme:registry=${GHES}\`.`, dump(owner));
});

test('GHES: a host named npm.<something> keeps the generic wording (not recognisable as GHES)', async () => {
  const f = await doctor('', '@acme:registry=https://npm.corp.example/\n', { pkg: GH_PKG });
  assert.match(of(f, 'no-credential-for-registry')[0]?.message ?? '', /fine for public packages/, dump(f));
});

test('explain: a GHES …/_registry/npm/ 401 gets the GitHub fix keyed at that path', () => {
  const { explanation } = explainText(
    `npm error code E401\nnpm error 401 Unauthorized - GET ${GHES}@acme%2fui - authentication token not provided\n`,
  );
  const fix = explanation.causes[0]?.fix ?? '';
  assert.ok(fix.includes(`${GHES_KEY}:_authToken=\${NODE_AUTH_TOKEN}`), fix);
  assert.ok(fix.includes(`@owner:registry=${GHES}`), fix);
});
