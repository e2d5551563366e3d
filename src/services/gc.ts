// Garbage collection of tarballs: deletes the blobs that nothing serves any more — unpublished
// versions (often unpublished because they held a secret), rejected or expired staged versions — and
// temporary files left by a crash. Blobs are content-addressed and may be shared, so a blob is kept
// while any live version or staged version names it.
//
// It is safe while the registry runs: what names a blob is read in one snapshot, and every blob stored
// or stored again within the grace period is spared (put() refreshes the time of an existing blob, and
// writes it before any row names it; see BlobStore.reclaim for the last step).
import type { Ctx } from './context.ts';
import { audit } from './context.ts';
import { sweep } from './stage.ts';
import { blobsInUse } from '../store/versions.ts';

export type GcOptions = { graceMs: number; dryRun: boolean };
export type GcReport = {
  dryRun: boolean;
  /** Blobs still named by a version or a staged version. */
  kept: number;
  /** Unnamed blobs younger than the grace period. */
  young: number;
  removed: { key: string | null; size: number }[];
  removedBytes: number;
};

export async function collectBlobs(ctx: Ctx, opts: GcOptions): Promise<GcReport> {
  // Expired staged versions go first (as staging itself would drop them), so they protect nothing.
  if (!opts.dryRun) await sweep(ctx);
  const stageCutoff = ctx.clock.now() - ctx.config.stage.ttlMs;
  const named = await ctx.store.transaction((trx) => blobsInUse(trx, stageCutoff));
  const cutoff = ctx.clock.now() - opts.graceMs;
  const report: GcReport = { dryRun: opts.dryRun, kept: 0, young: 0, removed: [], removedBytes: 0 };
  for await (const entry of ctx.store.blobs.list()) {
    if (entry.key !== undefined && named.has(entry.key)) {
      report.kept++;
      continue;
    }
    if (entry.modifiedAt > cutoff) {
      report.young++;
      continue;
    }
    if (!opts.dryRun && !(await ctx.store.blobs.reclaim(entry, cutoff))) {
      report.young++;
      continue;
    }
    report.removed.push({ key: entry.key ?? null, size: entry.size });
    report.removedBytes += entry.size;
  }
  if (!opts.dryRun && report.removed.length > 0) {
    await audit(ctx, {
      event: 'blobs-collected',
      detail: { removed: report.removed.length, bytes: report.removedBytes },
    });
  }
  return report;
}
