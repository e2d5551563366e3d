// A stored tarball as the read path answers it: bytes from memory or the filesystem; from S3, small ones
// read whole and kept in memory as before, large ones streamed through, or — with `s3.redirect` — a
// presigned URL the caller fetches itself. The caller has passed the read rule before any of this.
import type { Readable } from 'node:stream';
import type { Store } from '../store/store.ts';
import { ReadCache } from './read-cache.ts';

export type TarballBody = Buffer | { stream: Readable; size?: number } | { redirect: string };

export async function tarballBody(store: Store, cache: ReadCache, key: string): Promise<TarballBody | undefined> {
  const { blobs } = store;
  if (blobs.url) return { redirect: await blobs.url(key) };
  const hit = cache.peekBlob(key);
  if (hit || !blobs.open) return hit ?? cache.blob(key);
  const opened = await blobs.open(key);
  if (!opened) return undefined;
  if (!ReadCache.keeps(opened.size)) return opened;
  const chunks: Buffer[] = [];
  for await (const c of opened.stream) chunks.push(c as Buffer);
  const data = Buffer.concat(chunks);
  cache.keepBlob(key, data);
  return data;
}
