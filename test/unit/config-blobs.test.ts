// `blobs: s3://bucket/prefix` and the `s3:` settings: parsed, checked, secrets from the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFile, defaults, loadConfig } from '../../src/config/config.ts';
import { s3Options } from '../../src/config/blobs.ts';

test('the filesystem store is the default', () => {
  assert.equal(loadConfig({}, {}).blobs, null);
  assert.equal(s3Options(defaults), null);
});

test('s3://bucket/prefix with its settings, and secrets from the environment over the file', () => {
  const c = applyFile(
    defaults,
    {
      blobs: 's3://tarballs/registry/',
      s3: {
        endpoint: 'http://127.0.0.1:9000',
        forcePathStyle: true,
        redirect: true,
        redirectExpiry: '5m',
        accessKeyId: 'from-file',
        secretAccessKey: 'from-file',
      },
    },
    '/',
  );
  const o = s3Options(c)!;
  assert.equal(o.bucket, 'tarballs');
  assert.equal(o.prefix, 'registry/');
  assert.equal(o.forcePathStyle, true);
  assert.equal(o.redirectExpirySeconds, 300);
  assert.equal(o.timeoutMs, 30_000, 's3.timeout: 30s unless set');
  assert.equal(s3Options(applyFile(c, { s3: { timeout: '5s' } }, '/'))!.timeoutMs, 5_000);
  assert.equal(o.accessKeyId, 'from-file');
  assert.equal(s3Options({ ...c, blobs: 's3://tarballs' })!.prefix, '');
  assert.equal(s3Options({ ...c, s3: { ...c.s3, redirect: false } })!.redirectExpirySeconds, null);
  const env = loadConfig({}, { TESSERA_S3_ACCESS_KEY_ID: 'AK', TESSERA_S3_SECRET_ACCESS_KEY: 'SK' });
  assert.equal(env.s3.accessKeyId, 'AK');
  assert.equal(env.s3.secretAccessKey, 'SK');
});

test('bad values are refused by name', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ blobs: '/var/tarballs' }, /blobs: must be s3:\/\/bucket/],
    [{ blobs: 's3://' }, /blobs: must be s3:\/\/bucket/],
    [{ s3: { bucket: 'x' } }, /s3\.bucket: unknown key/],
    [{ s3: { endpoint: 'rgw.example.com' } }, /s3\.endpoint: must be an http\(s\) URL/],
    [{ s3: { redirect: 'yes' } }, /s3\.redirect: must be true or false/],
    [{ s3: { redirectExpiry: '30d' } }, /s3\.redirectExpiry: must be between 1s and 7d/],
    [{ s3: { timeout: '10ms' } }, /s3\.timeout: must be between 100ms and 10m/],
  ];
  for (const [file, message] of bad) assert.throws(() => applyFile(defaults, file, '/'), message);
});
