// Takes a test server's blob store away and gives it back, on either backend: the filesystem store's folder
// is renamed and a file put in its place (so a write cannot make it again, as on a lost mount); an S3 store's bucket is deleted and made again (the shared gateway belongs to the whole run, so
// it cannot be stopped; to readiness a missing bucket fails the same HeadBucket a stopped gateway does).
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { s3Options } from '../../src/config/blobs.ts';
import { s3Client } from '../../src/store/blobs/s3.ts';
import type { TestServer } from './server.ts';

/** Makes `s`'s blob store unavailable; call the function it returns to bring it back. Only for a server
 *  that has stored nothing yet (a bucket must be empty to be deleted). */
export async function blobsAway(s: TestServer): Promise<() => Promise<void>> {
  const s3 = s3Options(s.ctx.config);
  if (!s3) {
    const [here, away] = [join(s.dataDir, 'blobs'), join(s.dataDir, 'blobs-away')];
    renameSync(here, away);
    writeFileSync(here, '');
    return async () => {
      rmSync(here);
      renameSync(away, here);
    };
  }
  const client = s3Client(s3);
  await client.send(new DeleteBucketCommand({ Bucket: s3.bucket }));
  return async () => {
    try {
      await client.send(new CreateBucketCommand({ Bucket: s3.bucket }));
    } finally {
      client.destroy();
    }
  };
}
