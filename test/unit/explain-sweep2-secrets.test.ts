// Secrets in what people paste, second sweep: the forms the first masking missed — a credential given as two
// words (`npm config set KEY VALUE`, Yarn 1's `.yarnrc`), GitHub's `token` scheme, npm's environment
// (`npm_config__auth`), a workflow's YAML, a presigned tarball URL, a quote copied from a web page — masked in
// what the binary prints, with the key that says where the secret was kept.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { maskSecrets } from '../../src/doctor/credentials.ts';
import { onceInSqlitePass } from '../helpers/cluster-data.ts';

const BIN = join(import.meta.dirname, '../../bin/tessera.js');
const HOST = 'npm.corp.example.test';

describe('secrets in pastes, second sweep', { skip: onceInSqlitePass }, () => {
  test('each form is masked and keeps its key', () => {
    const cases: [input: string, secret: string, kept: string][] = [
      [`$ npm config set //${HOST}/:_authToken 0a1b2c3d-4e5f-6789-abcd-ef0123456789`, '0a1b2c3d-4e5f', ':_authToken '],
      ['$ yarn config set npmAuthToken 9f8e7d6c5b4a39281706', '9f8e7d6c5b4a', 'npmAuthToken '],
      [`"//${HOST}/:_authToken" "9f8e7d6c5b4a39281706"`, '9f8e7d6c5b4a', ':_authToken" "'],
      ['Authorization: token 9f8e7d6c5b4a39281706', '9f8e7d6c5b4a', 'Authorization: token '],
      ['npm_config__auth=dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy', 'npm_config__auth='],
      ['npm_config_password=Hunter2Horse', 'Hunter2Horse', 'npm_config_password='],
      ['npm login --auth-type=legacy --password=Hunter2Horse', 'Hunter2Horse', '--password='],
      ['    NODE_AUTH_TOKEN: 9f8e7d6c5b4a39281706', '9f8e7d6c5b4a', 'NODE_AUTH_TOKEN: '],
      ['  NPM_PASS: Hunter2Horse', 'Hunter2Horse', 'NPM_PASS: '],
      [`//${HOST}/:_authToken=&quot;9f8e7d6c5b4a39281706&quot;`, '9f8e7d6c5b4a', ':_authToken='],
      [
        `https://${HOST}/x.tgz?X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-Signature=0a1b2c3d4e`,
        'FwoGZXIvYXdzEJr',
        'X-Amz',
      ],
      [`https://${HOST}/@acme/ui/-/ui-1.0.0.tgz?token=9f8e7d6c5b4a39281706`, '9f8e7d6c5b4a', '?token='],
    ];
    for (const [input, secret, kept] of cases) {
      const out = maskSecrets(input);
      assert.ok(!out.includes(secret), `${input} → ${out}`);
      assert.ok(out.includes(kept), `${input} → ${out}`);
    }
  });

  test('the binary prints none of them (a Yarn 1 paste whose tarball URL is presigned, with the setup around it)', () => {
    const paste = [
      `$ npm config set //${HOST}/:_authToken 0a1b2c3d-4e5f-6789-abcd-ef0123456789`,
      '$ yarn config set npmAuthToken 9f8e7d6c5b4a39281706',
      'yarn install v1.22.22',
      '[2/4] Fetching packages...',
      `error An unexpected error occurred: "https://${HOST}/@acme/ui/-/ui-1.0.0.tgz?X-Amz-Security-Token=FwoGZXIvYXdzEJr` +
        '&X-Amz-Signature=7e6d5c4b3a29: Request failed \\"403 Forbidden\\"".',
      'info If you think this is a bug, please open a bug report with the information provided in "/app/yarn-error.log".',
    ].join('\n');
    for (const args of [
      ['explain', '--no-config'],
      ['explain', '--json', '--no-config'],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { input: paste, encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stdout, /403/, 'the error is explained');
      for (const s of ['0a1b2c3d-4e5f', '9f8e7d6c5b4a', 'FwoGZXIvYXdzEJr', '7e6d5c4b3a29'])
        assert.ok(!r.stdout.includes(s), `${s} in ${r.stdout}`);
    }
  });
});
