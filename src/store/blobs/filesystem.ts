// Content-addressed blobs on the filesystem: written to a temp file and renamed, so a crash never
// leaves a half-written tarball under its final name.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export type BlobStore = {
  /** Stores bytes and returns their key (sha512 hex). Idempotent. */
  put(data: Buffer): Promise<string>;
  get(key: string): Promise<Buffer | undefined>;
};

export function filesystemBlobs(root: string): BlobStore {
  const pathOf = (key: string) => join(root, key.slice(0, 2), key.slice(2, 4), key);
  return {
    async put(data) {
      const key = createHash('sha512').update(data).digest('hex');
      const path = pathOf(key);
      try {
        await stat(path);
        return key;
      } catch { /* not there yet */ }
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
      if (!/^[0-9a-f]{128}$/.test(key)) return undefined;
      try {
        return await readFile(pathOf(key));
      } catch {
        return undefined;
      }
    },
  };
}
