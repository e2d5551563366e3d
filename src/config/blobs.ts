// Where tarballs live: `blobs:` unset keeps them in the data folder; `blobs: s3://bucket/prefix` puts them
// in an S3-compatible bucket, reached with the `s3:` settings. Secrets may come from the environment
// (TESSERA_S3_ACCESS_KEY_ID, TESSERA_S3_SECRET_ACCESS_KEY) rather than the file.
import { parseDuration } from './duration.ts';
import { ConfigError } from './config-error.ts';
import type { S3BlobsOptions } from '../store/blobs/s3.ts';

export type S3Config = {
  endpoint: string | null;
  region: string;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  forcePathStyle: boolean;
  /** Answer tarball GETs with a 302 to a presigned URL instead of streaming the bytes. */
  redirect: boolean;
  redirectExpiryMs: number;
  /** How long an S3 request may wait for the server (to connect, or for its next bytes) before it fails;
   *  unset: S3_TIMEOUT_MS. */
  timeoutMs?: number;
};

export type BlobsConfig = { blobs: string | null; s3: S3Config };

export const blobsDefaults: BlobsConfig = {
  blobs: null,
  s3: {
    endpoint: null,
    region: 'us-east-1',
    accessKeyId: null,
    secretAccessKey: null,
    forcePathStyle: false,
    redirect: false,
    redirectExpiryMs: 60_000,
  },
};

/** `s3.timeout` when the file sets none. */
export const S3_TIMEOUT_MS = 30_000;

export const blobsKeys = ['blobs', 's3'];

function fail(key: string, why: string): never {
  throw new ConfigError(key, why);
}

/** `s3://bucket/prefix` → bucket and prefix ('' or ending in '/'). */
export function parseBlobsUrl(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) fail('blobs', 'must be s3://bucket or s3://bucket/prefix');
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1], prefix: prefix ? `${prefix}/` : '' };
}

export function applyBlobs(c: BlobsConfig, f: Record<string, unknown>): void {
  if (f.blobs !== undefined && f.blobs !== null) {
    if (typeof f.blobs !== 'string') fail('blobs', 'must be s3://bucket/prefix');
    parseBlobsUrl(f.blobs);
    c.blobs = f.blobs;
  }
  if (f.s3 === undefined || f.s3 === null) return;
  const s = f.s3 as Record<string, unknown>;
  if (typeof s !== 'object') fail('s3', 'must be a mapping');
  const strings = ['endpoint', 'region', 'accessKeyId', 'secretAccessKey'] as const;
  for (const key of Object.keys(s)) {
    if (![...strings, 'forcePathStyle', 'redirect', 'redirectExpiry', 'timeout'].includes(key)) {
      fail(`s3.${key}`, 'unknown key');
    }
  }
  for (const key of strings) {
    if (s[key] === undefined || s[key] === null) continue;
    if (typeof s[key] !== 'string' || !s[key]) fail(`s3.${key}`, 'must be a non-empty string');
    c.s3[key] = s[key];
  }
  const { endpoint } = c.s3;
  if (endpoint !== null && !/^https?:\/\/[^/]+/.test(endpoint)) fail('s3.endpoint', 'must be an http(s) URL');
  for (const key of ['forcePathStyle', 'redirect'] as const) {
    if (s[key] === undefined) continue;
    if (typeof s[key] !== 'boolean') fail(`s3.${key}`, 'must be true or false');
    c.s3[key] = s[key];
  }
  if (s.redirectExpiry !== undefined) {
    try {
      c.s3.redirectExpiryMs = parseDuration(s.redirectExpiry as string);
    } catch (e) {
      fail('s3.redirectExpiry', (e as Error).message);
    }
    if (c.s3.redirectExpiryMs < 1000 || c.s3.redirectExpiryMs > 7 * 86_400_000) {
      fail('s3.redirectExpiry', 'must be between 1s and 7d');
    }
  }
  if (s.timeout !== undefined) {
    try {
      c.s3.timeoutMs = parseDuration(s.timeout as string);
    } catch (e) {
      fail('s3.timeout', (e as Error).message);
    }
    if (c.s3.timeoutMs < 100 || c.s3.timeoutMs > 600_000) fail('s3.timeout', 'must be between 100ms and 10m');
  }
}

export function applyBlobsEnv(c: BlobsConfig, env: NodeJS.ProcessEnv): void {
  if (env.TESSERA_S3_ACCESS_KEY_ID) c.s3.accessKeyId = env.TESSERA_S3_ACCESS_KEY_ID;
  if (env.TESSERA_S3_SECRET_ACCESS_KEY) c.s3.secretAccessKey = env.TESSERA_S3_SECRET_ACCESS_KEY;
}

/** The S3 store's options, or null for the filesystem store. */
export function s3Options(c: BlobsConfig): S3BlobsOptions | null {
  if (c.blobs === null) return null;
  const { bucket, prefix } = parseBlobsUrl(c.blobs);
  return {
    bucket,
    prefix,
    endpoint: c.s3.endpoint,
    region: c.s3.region,
    accessKeyId: c.s3.accessKeyId,
    secretAccessKey: c.s3.secretAccessKey,
    forcePathStyle: c.s3.forcePathStyle,
    redirectExpirySeconds: c.s3.redirect ? Math.round(c.s3.redirectExpiryMs / 1000) : null,
    timeoutMs: c.s3.timeoutMs ?? S3_TIMEOUT_MS,
  };
}
