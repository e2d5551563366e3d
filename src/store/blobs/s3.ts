// Content-addressed blobs in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO, R2…), under the same keys
// and folders as the filesystem store (`prefix/ab/cd/<sha512 hex>`), so an embedded store's `blobs` folder
// can be copied into a bucket as it is.
//
// Two nodes storing the same bytes never clash: a put is conditional (If-None-Match: *), and a 412 means
// the bytes are there already. Garbage collection judges age by LastModified, and a put of bytes that are
// already stored must count as a new store. An object cannot be touched without a copy, and a copy does
// not close the race with a delete, so a put that finds its bytes writes a small marker,
// `prefix/.stored/<key>`, and then checks the blob is still there; reclaim() moves the blob aside, deletes
// it, and puts it back if a marker newer than its cutoff shows up. Whichever of the two goes first, the
// bytes survive (see reclaim below).
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobEntry, BlobStore } from './filesystem.ts';
import { KEY, keyOf } from './key.ts';

export type S3BlobsOptions = {
  bucket: string;
  /** Folder inside the bucket, '' or ending in '/'. */
  prefix: string;
  endpoint: string | null;
  region: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  forcePathStyle: boolean;
  /** How long a presigned tarball URL stays valid; null: tarballs are streamed, never redirected. */
  redirectExpirySeconds: number | null;
  /** Connecting, or waiting for the server's next bytes, longer than this fails the request (then retried by the
   *  SDK): a gateway that accepts and never answers must not hold a publish forever. None when unset. */
  timeoutMs?: number;
};

const MARKERS = '.stored/';
const ASIDE = '.gc/';

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const missing = (e: unknown) => status(e) === 404;

export function s3Client(o: S3BlobsOptions): S3Client {
  return new S3Client({
    region: o.region,
    endpoint: o.endpoint ?? undefined,
    forcePathStyle: o.forcePathStyle,
    credentials:
      o.accessKeyId && o.secretAccessKey
        ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey }
        : undefined,
    // Checksums only where S3 requires them: RGW and other S3-compatible servers refuse the SDK's default
    // trailing checksums on streamed bodies (411 MissingContentLength).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: o.timeoutMs ? { connectionTimeout: o.timeoutMs, socketTimeout: o.timeoutMs } : undefined,
  });
}

export function s3Blobs(o: S3BlobsOptions, client = s3Client(o)): BlobStore {
  const Bucket = o.bucket;
  const objectOf = (key: string) => `${o.prefix}${key.slice(0, 2)}/${key.slice(2, 4)}/${key}`;
  const markerOf = (key: string) => `${o.prefix}${MARKERS}${key}`;
  const head = async (Key: string) => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket, Key }));
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  };
  const modified = async (Key: string) => (await head(Key))?.LastModified?.getTime();
  const remove = (Key: string) => client.send(new DeleteObjectCommand({ Bucket, Key }));
  const copy = (from: string, to: string) =>
    client.send(new CopyObjectCommand({ Bucket, Key: to, CopySource: `${Bucket}/${encodeURI(from)}` }));
  const open = async (key: string) => {
    if (!KEY.test(key)) return undefined;
    try {
      const r = await client.send(new GetObjectCommand({ Bucket, Key: objectOf(key) }));
      return { stream: r.Body as Readable, size: r.ContentLength ?? 0 };
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  };
  const store: BlobStore = {
    async put(data, sha512) {
      const key = keyOf(data, sha512);
      for (let attempt = 0; ; attempt++) {
        try {
          await client.send(
            new PutObjectCommand({
              Bucket,
              Key: objectOf(key),
              Body: data,
              ContentLength: data.length,
              IfNoneMatch: '*',
              ContentType: 'application/octet-stream',
            }),
          );
          return key;
        } catch (e) {
          // 412: stored already (by us or another node); 409: another conditional put of it is under way.
          if (status(e) !== 412 && status(e) !== 409) throw e;
        }
        // The marker first, then the check: a collection that deletes the blob after this check sees the
        // marker and puts the blob back; one that deleted it before makes this check fail, and we store it anew.
        const marker = { Bucket, Key: markerOf(key), Body: Buffer.alloc(0), ContentLength: 0 };
        await client.send(new PutObjectCommand(marker));
        if (await head(objectOf(key))) return key;
        if (attempt >= 3) throw new Error(`blob ${key} keeps vanishing while it is stored`);
      }
    },
    async get(key) {
      const opened = await open(key);
      if (!opened) return undefined;
      return Buffer.from(
        await (opened.stream as unknown as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    },
    open,
    async *list() {
      // Keys come in byte order, so the markers ('.stored/', '.' before any hex digit) come before the blobs.
      const stored = new Map<string, number>();
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: o.prefix, ContinuationToken }));
        for (const obj of page.Contents ?? []) {
          const path = obj.Key!;
          const rest = path.slice(o.prefix.length);
          const at = obj.LastModified?.getTime() ?? 0;
          if (rest.startsWith(MARKERS)) {
            stored.set(rest.slice(MARKERS.length), at);
            continue;
          }
          const name = rest.slice(rest.lastIndexOf('/') + 1);
          const key = KEY.test(name) && rest === `${name.slice(0, 2)}/${name.slice(2, 4)}/${name}` ? name : undefined;
          // A copy left aside by a collection that crashed is a leftover; anything else is not ours.
          if (!key && !rest.startsWith(ASIDE)) continue;
          yield { key, path, size: obj.Size ?? 0, modifiedAt: Math.max(at, (key && stored.get(key)) || 0) };
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
    },
    async entry(key) {
      if (!KEY.test(key)) return undefined;
      const [blob, marker] = await Promise.all([head(objectOf(key)), modified(markerOf(key))]);
      if (!blob) return undefined;
      const at = Math.max(blob.LastModified?.getTime() ?? 0, marker ?? 0);
      return { key, path: objectOf(key), size: blob.ContentLength ?? 0, modifiedAt: at };
    },
    async check() {
      await client.send(new HeadBucketCommand({ Bucket }));
    },
    async reclaim(entry: BlobEntry, cutoff: number) {
      if (entry.key === undefined) {
        await remove(entry.path);
        return true;
      }
      const [stored, marked] = await Promise.all([modified(entry.path), modified(markerOf(entry.key))]);
      if (Math.max(stored ?? 0, marked ?? 0) > cutoff) return false;
      // Aside first, so the bytes can be put back if a put finds them in the moment before the delete.
      const aside = `${o.prefix}${ASIDE}${entry.key}.${randomBytes(6).toString('hex')}`;
      try {
        await copy(entry.path, aside);
      } catch (e) {
        if (missing(e)) return true;
        throw e;
      }
      await remove(entry.path);
      const again = await modified(markerOf(entry.key));
      if (again !== undefined && again > cutoff) {
        await copy(aside, entry.path); // same bytes as any copy stored meanwhile
        await remove(aside);
        return false;
      }
      await remove(aside);
      if (again !== undefined) await remove(markerOf(entry.key));
      return true;
    },
  };
  const expiresIn = o.redirectExpirySeconds;
  if (expiresIn !== null) {
    store.url = (key) => getSignedUrl(client, new GetObjectCommand({ Bucket, Key: objectOf(key) }), { expiresIn });
  }
  return store;
}
