import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { keyOf } from '../../src/store/blobs/key.ts';

test("a blob's key is its sha512 in hex, taken from the caller's integrity when it gives one", () => {
  const data = Buffer.from('some tarball bytes');
  const hex = createHash('sha512').update(data).digest('hex');
  assert.equal(keyOf(data), hex);
  const sri = `sha512-${createHash('sha512').update(data).digest('base64')}`;
  assert.equal(keyOf(data, sri), hex);
  // Anything but a whole sha512 is not taken: the bytes are hashed.
  assert.equal(keyOf(data, `sha1-${createHash('sha1').update(data).digest('base64')}`), hex);
  assert.equal(keyOf(data, 'sha512-dG9vIHNob3J0'), hex);
});
