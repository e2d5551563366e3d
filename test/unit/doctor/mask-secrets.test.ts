// maskSecrets: what `tessera explain` shows again from a paste never holds a secret, and keeps the clues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskSecrets } from '../../../src/doctor/credentials.ts';

test('secrets in pasted text are masked, keeping what says where they were', () => {
  const cases: [string, string][] = [
    ['GET https://alice:hunter2pass@r.example.com/x', 'GET https://alice:***@r.example.com/x'],
    ['proxy=http://jdoe:W1nter2026!@10.0.0.1:3128/', 'proxy=http://jdoe:***@10.0.0.1:3128/'],
    ['//r.example.com/:_authToken=0b1c2d3e-4f5a', '//r.example.com/:_authToken=***'],
    ['_auth = YWxpY2U6aHVudGVyMg==', '_auth = ***'],
    ['  npmAuthToken: "npm_abcdefghijklmnop1234"', '  npmAuthToken: "npm_***"'],
    ['NODE_AUTH_TOKEN=s3cr3t-value', 'NODE_AUTH_TOKEN=***'],
    ['authorization: Bearer 0123456789abcdef', 'authorization: Bearer ***'],
    ['token ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa expired', 'token ghp_*** expired'],
    ['id-token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvIn0.c2lnbmF0dXJl', 'id-token eyJ***'],
  ];
  for (const [input, want] of cases) assert.equal(maskSecrets(input), want, input);
});

test('clues that are not secrets stay as they are', () => {
  for (const text of [
    '//r.example.com/:_authToken=${NPM_TOKEN}',
    'NODE_AUTH_TOKEN=XXXXX-XXXXX-XXXXX-XXXXX',
    'npm error Unable to authenticate, need: Bearer authorization_uri=https://login.example.com/x, Basic realm="x"',
    'npm error Unable to authenticate, need: Basic realm="Artifactory Realm"',
    'npm error Basic authentication failed',
    'npm error 401 Unauthorized - GET http://127.0.0.1:4873/@acme%2fui - authentication token not provided',
    'env: NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}',
    '"fix": "npmRegistries: { \\"//r.example.com\\": { npmAuthToken: \\"${NPM_TOKEN}\\" } }"',
    'add `permissions: id-token: write`; the token: add it; export NPM_TOKEN=…',
    'npm config set https-proxy http://user:password@proxy:port; `:_password=<the base64 of the PAT>`',
  ])
    assert.equal(maskSecrets(text), text);
});
