// Secrets never printed in full, wherever the configuration hides them: a password in the registry URL (npm
// accepts `https://user:pass@host/`), a proxy's password, `_password` (and what it decodes to), `_auth`, a
// token — in the human report and in --json, offline and with --publish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor } from '../../src/doctor/doctor.ts';
import { renderHuman, renderJson } from '../../src/doctor/report.ts';

const H = '127.0.0.1:9';
const PASSWORD = 'S3cretPassw0rd';
const AUTH_PASSWORD = 'Hunter2Secret';
const SECRETS = {
  url: 'UrlPassw0rdX',
  proxy: 'ProxyPassw0rd',
  password: PASSWORD,
  passwordB64: Buffer.from(PASSWORD).toString('base64'),
  auth: AUTH_PASSWORD,
  authB64: Buffer.from(`bob:${AUTH_PASSWORD}`).toString('base64'),
  token: 'wl0oYSZlKNfelb9N5yXVVdOQ2nHrFW2dhEs3',
};

test('no secret of the configuration appears in the report, human or --json', async () => {
  const root = mkdtempSync(join(tmpdir(), 'doctor-sweep-secrets-'));
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'project'));
  writeFileSync(
    join(root, 'project/package.json'),
    JSON.stringify({ name: '@a/app', version: '1.0.0', dependencies: { '@a/x': '1', '@b/x': '1' } }),
  );
  writeFileSync(
    join(root, 'project/.npmrc'),
    [
      `registry=http://ruser:${SECRETS.url}@${H}/`,
      `@a:registry=http://${H}/a/`,
      `//${H}/a/:username=bob`,
      `//${H}/a/:_password=${SECRETS.passwordB64}`,
      `@b:registry=http://ruser:${SECRETS.url}@${H}/b/`,
      `//${H}/b/:_auth=${SECRETS.authB64}`,
      `https-proxy=http://puser:${SECRETS.proxy}@127.0.0.1:9`,
      `//${H}/:_authToken=tsr_${SECRETS.token} `,
      '',
    ].join('\n'),
  );
  for (const publish of [false, true]) {
    const { ctx, report, notes } = await runDoctor({
      cwd: join(root, 'project'),
      env: { HOME: join(root, 'home'), PREFIX: join(root, 'prefix'), PATH: '' },
      offline: true,
      publish,
      packages: ['@b/x'],
      npmPath: join(root, 'npm'),
    });
    const human = renderHuman(ctx, report, notes);
    const json = renderJson(report);
    // The report still says where things are: the registry URL is there, its password masked.
    assert.match(human, /http:\/\/ruser:\*\*\*@127\.0\.0\.1:9\//);
    for (const [what, secret] of Object.entries(SECRETS)) {
      assert.ok(!human.includes(secret), `${what} in the human report${publish ? ' (--publish)' : ''}:\n${human}`);
      assert.ok(!json.includes(secret), `${what} in --json${publish ? ' (--publish)' : ''}:\n${json}`);
    }
  }
});
