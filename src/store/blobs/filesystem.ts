// Content-addressed blobs on the filesystem: written to a temp file and renamed, so a crash never
// leaves a half-written tarball under its final name.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, readdir, rename, writeFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { KEY, keyOf } from './key.ts';

/** A stored blob as garbage collection sees it; `key` undefined for a temporary file left by a crash. */
export type BlobEntry = { key?: string; path: string; size: number; modifiedAt: number };

export type BlobStore = {
  /** Stores bytes and returns their key (sha512 hex). Idempotent; storing bytes that are already there
   *  marks them as new again, so a collection running meanwhile spares them (see services/gc.ts).
   *  `sha512`: the bytes' integrity when the caller has computed it already (see key.ts). */
  put(data: Buffer, sha512?: string): Promise<string>;
  get(key: string): Promise<Buffer | undefined>;
  /** Every blob and leftover temporary file. */
  list(): AsyncIterable<BlobEntry>;
  /** One blob as list() would give it, or undefined when it is not stored. */
  entry(key: string): Promise<BlobEntry | undefined>;
  /**
   * Deletes an entry from list() unless it was stored (or stored again) after `cutoff` (ms). The file is
   * first renamed away, so a put() from then on writes it anew; a put() before that shows in its time,
   * and the file is put back. True when deleted; gone already counts as deleted.
   */
  reclaim(entry: BlobEntry, cutoff: number): Promise<boolean>;
  /** Throws unless the store answers and takes writes (the readiness check). */
  check?(): Promise<void>;
  /** A stream of the bytes and their length, for stores whose reads are worth streaming (S3). */
  open?(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  /** A short-lived URL the caller may fetch the bytes from itself, when tarball reads are redirected (S3). */
  url?(key: string): Promise<string>;
};

export function filesystemBlobs(root: string): BlobStore {
  const pathOf = (key: string) => join(root, key.slice(0, 2), key.slice(2, 4), key);
  return {
    async put(data, sha512) {
      const key = keyOf(data, sha512);
      const path = pathOf(key);
      try {
        const now = new Date();
        await utimes(path, now, now);
        return key;
      } catch {
        /* not there yet */
      }
      await mkdir(join(root, key.slice(0, 2), key.slice(2, 4)), { recursive: true });
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, data);
      try {
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
      }
      return key;
    },
    async get(key) {
      if (!KEY.test(key)) return undefined;
      try {
        return await readFile(pathOf(key));
      } catch {
        return undefined;
      }
    },
    async *list() {
      for (const a of await readdir(root).catch(() => [])) {
        for (const b of await readdir(join(root, a)).catch(() => [])) {
          const dir = join(root, a, b);
          for (const name of await readdir(dir).catch(() => [])) {
            const path = join(dir, name);
            const st = await stat(path).catch(() => undefined);
            if (!st?.isFile()) continue;
            const key = KEY.test(name) && name.startsWith(a + b) ? name : undefined;
            // Temporary files: a put() that crashed (.tmp) or a collection that did (.gc).
            if (!key && !name.endsWith('.tmp') && !name.endsWith('.gc')) continue; // not ours: leave it
            yield { key, path, size: st.size, modifiedAt: st.mtimeMs };
          }
        }
      }
    },
    async entry(key) {
      if (!KEY.test(key)) return undefined;
      const st = await stat(pathOf(key)).catch(() => undefined);
      return st?.isFile() ? { key, path: pathOf(key), size: st.size, modifiedAt: st.mtimeMs } : undefined;
    },
    async check() {
      if (!(await stat(root)).isDirectory()) throw new Error(`${root} is not a folder`);
      await access(root, constants.R_OK | constants.W_OK);
    },
    async reclaim(entry, cutoff) {
      const aside = `${entry.path}.${randomBytes(6).toString('hex')}.gc`;
      try {
        await rename(entry.path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
        throw e;
      }
      if ((await stat(aside)).mtimeMs > cutoff) {
        await rename(aside, entry.path); // same bytes as any copy written meanwhile
        return false;
      }
      await unlink(aside);
      return true;
    },
  };
}
