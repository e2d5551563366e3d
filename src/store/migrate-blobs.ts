// `tessera migrate`: the tarballs an embedded store names, copied into the cluster's blob store before the
// rows that name them, then each read back from there and hashed. Keys are the same in both stores (the
// sha512 of the bytes), and an S3 put is conditional, so a tarball already in the bucket is kept as it is.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { BlobStore } from './blobs/filesystem.ts';
import { namedBlobs } from './backup.ts';

export type BlobCopy = {
  /** Tarballs the records name and the source holds. */
  count: number;
  copied: number;
  /** Already in the target, so not written again. */
  present: number;
  bytes: number;
  /** Tarballs of live versions the source does not hold (the cluster would answer 404 for them). */
  missing: string[];
  /** Tarballs whose bytes do not hash to their key, in the source or read back from the target. */
  corrupt: string[];
};

async function hashOf(store: BlobStore, key: string): Promise<string | undefined> {
  const hash = createHash('sha512');
  const opened = store.open && (await store.open(key));
  if (opened) {
    for await (const chunk of opened.stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
  const data = await store.get(key);
  return data && hash.update(data).digest('hex');
}

/** Copies (unless `from` and `to` are one store) and verifies every tarball `source`'s records name. */
export async function copyBlobs(source: Kysely<Database>, from: BlobStore, to: BlobStore | null): Promise<BlobCopy> {
  const { live, other } = await namedBlobs(source);
  const report: BlobCopy = { count: 0, copied: 0, present: 0, bytes: 0, missing: [], corrupt: [] };
  const target = to ?? from;
  for (const key of [...live, ...other]) {
    if (to && !(await to.entry(key))) {
      const data = await from.get(key);
      if (data) {
        if (createHash('sha512').update(data).digest('hex') !== key) {
          report.corrupt.push(key);
          continue;
        }
        await to.put(data);
        report.copied++;
      }
    } else if (to) {
      report.present++;
    }
    const entry = await target.entry(key);
    // Unpublished and staged versions' tarballs may have been collected (tessera gc); live ones must be there.
    if (!entry) {
      if (live.has(key)) report.missing.push(key);
      continue;
    }
    if ((await hashOf(target, key)) !== key) report.corrupt.push(key);
    report.count++;
    report.bytes += entry.size;
  }
  return report;
}

/** Versions whose recorded integrity is not their tarball's: the key is the sha512 npm checks, in hex. */
export async function integrityMismatches(source: Kysely<Database>): Promise<string[]> {
  const rows = await source.selectFrom('versions').select(['package', 'version', 'integrity', 'blob']).execute();
  return rows
    .filter((r) => r.integrity.startsWith('sha512-'))
    .filter((r) => r.integrity !== `sha512-${Buffer.from(r.blob, 'hex').toString('base64')}`)
    .map((r) => `${r.package}@${r.version}`);
}
