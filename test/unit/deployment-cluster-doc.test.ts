// The cluster guide's sample configuration (docs/examples/cluster.yaml) and its excerpt in docs/deployment.md
// are configurations Tessera accepts, and say what a cluster needs: the shared database and bucket, publicUrl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';

const DOCS = join(import.meta.dirname, '../../docs');

test('docs/examples/cluster.yaml loads, with PostgreSQL, S3 and the load balancer settings', () => {
  const c = loadConfig({ config: join(DOCS, 'examples/cluster.yaml') }, {});
  assert.equal(c.database, 'postgres://tessera@db.example.com:5432/tessera');
  assert.equal(c.blobs, 's3://tessera-tarballs/registry');
  assert.equal(c.s3.endpoint, 'https://rgw.example.com');
  assert.equal(c.s3.accessKeyId, null, 'credentials come from the environment');
  assert.equal(c.publicUrl, 'https://npm.example.com/');
  assert.deepEqual(c.trustedProxies, ['10.0.1.0/24']);
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 4873 });
});

test("the guide's excerpt loads too, and the environment's database URL wins over the file's", () => {
  const doc = readFileSync(join(DOCS, 'deployment.md'), 'utf8');
  const yaml = /```yaml\n(# \/etc\/tessera\/tessera\.yaml, the same on every node\n[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(yaml, 'docs/deployment.md has the cluster excerpt');
  const file = join(mkdtempSync(join(tmpdir(), 'tessera-cluster-doc-')), 'tessera.yaml');
  writeFileSync(file, yaml);
  const url = 'postgres://tessera:secret@db.example.com:5432/tessera';
  const c = loadConfig({ config: file }, { TESSERA_DATABASE_URL: url });
  assert.equal(c.database, url);
  assert.equal(c.blobs, 's3://tessera-tarballs/registry');
  assert.equal(c.publicUrl, 'https://npm.example.com/');
  assert.match(doc, /\[examples\/cluster\.yaml\]\(examples\/cluster\.yaml\)/);
});
