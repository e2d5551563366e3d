// `tessera proxy purge <name|pattern>`: forgets cached upstream copies — documents, version rows and the
// tarballs nothing else names — so the next read asks the upstream again, or nobody, if the name has
// since been declared private. Local packages are never touched.
import type { Ctx } from './context.ts';
import { audit } from './context.ts';
import { forgetProxied, proxiedNames, proxiedVersionBlobs } from '../store/proxy-cache.ts';
import { blobIsNamed } from '../store/versions.ts';
import { matchesPattern } from './proxy.ts';
import { decodeNameSegment } from '../domain/names.ts';

export type PurgeReport = { dryRun: boolean; packages: string[]; versions: number; blobs: number; bytes: number };

/** A name or pattern read as the HTTP routes read names (`@scope%2fname`, `%40scope%2Fname`), and without
 *  case: npm's names are lower case, and an operator cleaning up must not miss an old upper-case one. */
export function purgePattern(pattern: string): string {
  return decodeNameSegment(pattern).toLowerCase();
}

export async function purgeProxied(ctx: Ctx, pattern: string, opts: { dryRun: boolean }): Promise<PurgeReport> {
  const wanted = purgePattern(pattern);
  const names = (await proxiedNames(ctx.store.db)).filter((n) => matchesPattern(n.toLowerCase(), wanted)).sort();
  const report: PurgeReport = { dryRun: opts.dryRun, packages: names, versions: 0, blobs: 0, bytes: 0 };
  if (names.length === 0) return report;
  const blobs = new Set<string>();
  await ctx.store.transaction(async (trx) => {
    const named = await proxiedVersionBlobs(trx, names);
    report.versions = named.length;
    for (const key of named) if (key) blobs.add(key);
    if (!opts.dryRun) await forgetProxied(trx, names);
  });
  // Content-addressed tarballs may be shared: a blob goes only when no version or staged version names it.
  // One stored again after this check is spared, as in `tessera gc`.
  const checkedAt = Date.now();
  for (const key of blobs) {
    if (await blobIsNamed(ctx.store.db, key)) continue;
    const entry = await ctx.store.blobs.entry(key);
    if (!entry) continue;
    if (!opts.dryRun && !(await ctx.store.blobs.reclaim(entry, checkedAt))) continue;
    report.blobs++;
    report.bytes += entry.size;
  }
  if (!opts.dryRun) {
    await audit(ctx, {
      event: 'proxy-purged',
      detail: {
        pattern,
        ...(wanted === pattern ? {} : { readAs: wanted }),
        packages: names.length,
        first: names.slice(0, 10),
        versions: report.versions,
        blobs: report.blobs,
      },
    });
  }
  return report;
}
