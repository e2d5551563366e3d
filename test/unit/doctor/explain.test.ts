// `explain` on a corpus of real-looking outputs: npm 8–12 console text, debug logs, pnpm and Yarn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainText, extract, joinConfig } from '../../../src/doctor/explain.ts';
import { loadNpmConfig } from '../../../src/doctor/npm-config.ts';
import { FINDING_IDS } from '../../../src/domain/findings.ts';

const DIR = join(import.meta.dirname, '../../fixtures/doctor/explain');
const expected: Record<string, any> = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));

for (const [file, want] of Object.entries(expected)) {
  test(`explain ${file}`, () => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const { explanation: ex, extracted } = explainText(text);
    assert.equal(ex.code, want.code);
    for (const k of ['status', 'method', 'url'] as const) if (want[k] !== undefined) assert.equal(ex[k], want[k], k);
    if (want.reason) assert.equal(extracted.reason, want.reason);
    if (want.first) assert.equal(ex.causes[0]?.id, want.first, JSON.stringify(ex.causes.map((c) => c.id)));
    if (want.code === 'UNKNOWN') assert.deepEqual(ex.causes, []);
    for (const id of want.not ?? []) assert.ok(!ex.causes.some((c) => c.id === id), `${id} should not be a cause`);
    for (const id of want.has ?? [])
      assert.ok(
        ex.causes.some((c) => c.id === id),
        `${id} should be a cause: ${JSON.stringify(ex.causes.map((c) => c.id))}`,
      );
    if (want.fixIncludes) assert.match(ex.causes[0].fix.toLowerCase(), new RegExp(want.fixIncludes));
    for (const c of ex.causes) {
      assert.ok(FINDING_IDS.includes(c.id), `unknown cause id ${c.id}`);
      assert.ok(c.fix.length > 20);
    }
  });
}

test('E403: PUT is a publish problem, GET is an install/network/config problem (BRIEF doctor scenario 9)', () => {
  const put = explainText(
    'npm ERR! code E403\nnpm ERR! 403 403 Forbidden - PUT https://registry.example.com/x - Forbidden\n',
  ).explanation;
  const get = explainText(
    'npm ERR! code E403\nnpm ERR! 403 403 Forbidden - GET https://registry.example.com/x - Forbidden\n',
  ).explanation;
  const publishIds = ['not-maintainer', 'read-only-token', 'otp-required', 'publish-forbidden'];
  assert.ok(publishIds.includes(put.causes[0].id));
  assert.ok(put.causes.every((c) => publishIds.includes(c.id)));
  assert.ok(!get.causes.some((c) => publishIds.includes(c.id)));
  assert.ok(get.causes.some((c) => c.id === 'proxy-misconfigured'));
  assert.ok(get.causes.some((c) => c.id === 'scope-not-mapped'));
});

test('both prefix generations and debug-log numbering give the same extraction', () => {
  const a = extract('npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://r.example.com/x - Not found\n');
  const b = extract('npm error code E404\nnpm error 404 Not Found - GET https://r.example.com/x - Not found\n');
  const c = extract('22 error code E404\n23 error 404 Not Found - GET https://r.example.com/x - Not found\n');
  for (const x of [b, c]) {
    assert.equal(x.code, a.code);
    assert.equal(x.url, a.url);
    assert.equal(x.registryError, 'Not found');
  }
});

test('CI timestamps and colours are stripped', () => {
  const x = extract('2026-11-22T10:00:00.1234567Z \x1b[31mnpm error\x1b[0m code EOTP\n');
  assert.equal(x.code, 'EOTP');
});

async function configWith(userrc: string) {
  const root = mkdtempSync(join(tmpdir(), 'explain-join-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'proj'));
  writeFileSync(join(root, 'home/.npmrc'), userrc);
  writeFileSync(join(root, 'proj/package.json'), '{}');
  return loadNpmConfig({
    cwd: join(root, 'proj'),
    env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '' },
    npmPath: join(root, 'npm'),
  });
}

const AZURE_LOG = readFileSync(join(DIR, 'npm11-debug-log-e401-azure-bearer.log'), 'utf8');
const FEED = '//pkgs.dev.azure.com/contoso/_packaging/contoso-feed/npm/';
const PAT = 'q7vx3kzq2m5n6p7r4s5t6u7v2w3x4y5z6a7b2c3d4e5f6g7h2j3k';

test('Azure 401 joined with the configuration: a raw PAT in _password is promoted, naming its line', async () => {
  const cfg = await configWith(
    `${FEED}registry/:username=contoso\n${FEED}registry/:_password=${PAT}\n${FEED}:username=contoso\n${FEED}:_password=${PAT}\n`,
  );
  const { extracted, explanation } = explainText(AZURE_LOG);
  const notes = joinConfig(extracted, explanation, cfg);
  assert.equal(
    explanation.causes[0].id,
    'azure-artifacts-credentials',
    JSON.stringify(explanation.causes.map((c) => c.id)),
  );
  assert.match(explanation.causes[0].fix, /home\/\.npmrc line 2/);
  assert.match(explanation.causes[0].fix, /raw PAT/);
  assert.match(notes.join('\n'), /username-password/);
});

test('Azure 401 joined with a correct base64 _password keeps "PAT expired or invalid" first', async () => {
  const b64 = Buffer.from(PAT).toString('base64');
  const cfg = await configWith(
    `${FEED}registry/:username=contoso\n${FEED}registry/:_password=${b64}\n${FEED}:username=contoso\n${FEED}:_password=${b64}\n`,
  );
  const { extracted, explanation } = explainText(AZURE_LOG);
  joinConfig(extracted, explanation, cfg);
  assert.equal(explanation.causes[0].id, 'token-rejected');
  assert.match(explanation.causes[0].fix, /expired, was revoked or changed/);
});

test('Azure 401 with the feed configured but no credential promotes no-credential-for-registry with the Azure lines', async () => {
  const cfg = await configWith(`@acme:registry=https:${FEED}registry/\n`);
  const { extracted, explanation } = explainText(AZURE_LOG);
  joinConfig(extracted, explanation, cfg);
  assert.equal(explanation.causes[0].id, 'no-credential-for-registry');
  assert.match(explanation.causes[0].fix, /_password=<the base64 of the PAT>/);
  assert.ok(!explanation.causes[0].fix.includes('_authToken'), explanation.causes[0].fix);
});

test('GitHub and Azure wording stays off other registries', () => {
  const none = explainText(
    'npm error code E401\nnpm error 401 Unauthorized - GET https://registry.example.com/@acme%2fui - authentication token not provided\n',
  ).explanation;
  const bearer = explainText(
    'npm error code E401\nnpm error Unable to authenticate, need: Bearer realm="registry.example.com"\n',
  ).explanation;
  const put = explainText(
    'npm error code E403\nnpm error 403 403 Forbidden - PUT https://registry.example.com/@acme%2fui - Forbidden\n',
  ).explanation;
  for (const ex of [none, bearer, put]) {
    for (const cause of ex.causes)
      assert.ok(!/GitHub|NODE_AUTH_TOKEN|Azure|vsts-npm-auth/.test(cause.fix), `${cause.id}: ${cause.fix}`);
    assert.ok(!ex.causes.some((c) => c.id === 'azure-artifacts-credentials'));
  }
});
