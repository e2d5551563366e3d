// Nodes of a cluster open each other's sealed secrets (a 2FA step begun on one node ends on another), so a
// node whose secret.key is not the cluster's refuses to start, and says which file to copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, tessera } from '../helpers/cli.ts';
import { sharedPostgres } from '../helpers/postgres.ts';
import { onceInClusterPass } from '../helpers/cluster-data.ts';

// Once is enough: in the cluster pass of `npm test` (a direct run starts its own PostgreSQL).
const skip = onceInClusterPass;

test('a node with another secret.key refuses to start; with the cluster key it joins', { skip }, async () => {
  const postgres = await sharedPostgres();
  const database = await postgres.createDatabase();
  const env = { TESSERA_DATABASE_URL: database };
  const [a, b] = [mkdtempSync(join(tmpdir(), 'tessera-node-a-')), mkdtempSync(join(tmpdir(), 'tessera-node-b-'))];
  try {
    const first = await serve(['--data', a], { env });
    await first.stop();
    const refused = await tessera(['serve', '--listen', '127.0.0.1:0', '--data', b], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /secret\.key is not the key the other nodes seal secrets with/);
    assert.match(refused.stderr, new RegExp(join(b, 'secret.key').replaceAll('/', '\\/')));
    copyFileSync(join(a, 'secret.key'), join(b, 'secret.key'));
    const second = await serve(['--data', b], { env });
    assert.match(second.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await second.stop();
  } finally {
    await postgres.dropDatabase(database);
  }
});
