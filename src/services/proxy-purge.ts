// `tessera proxy purge <name|pattern>`: forgets cached upstream copies — documents, version rows and the
// tarballs nothing else names — so the next read asks the upstream again, or nobody, if the name has
// since been declared private. Local packages are never touched.
import type { Ctx } from './context.ts';
import { audit } from './context.ts';
import { bumpCounter } from '../store/counters.ts';
import { matchesPattern } from './proxy.ts';

export type PurgeReport = { dryRun: boolean; packages: string[]; versions: number; blobs: number; bytes: number };

export async function purgeProxied(ctx: Ctx, pattern: string, opts: { dryRun: boolean }): Promise<PurgeReport> {
  const cached = await ctx.store.db.selectFrom('packages').select('name').where('origin', '=', 'proxy').execute();
  const names = cached
    .map((r) => r.name)
    .filter((n) => matchesPattern(n, pattern))
    .sort();
  const report: PurgeReport = { dryRun: opts.dryRun, packages: names, versions: 0, blobs: 0, bytes: 0 };
  if (names.length === 0) return report;
  const blobs = new Set<string>();
  await ctx.store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < names.length; i += 500) {
      const some = names.slice(i, i + 500);
      const rows = await trx.selectFrom('versions').select('blob').where('package', 'in', some).execute();
      report.versions += rows.length;
      for (const r of rows) if (r.blob) blobs.add(r.blob);
      if (opts.dryRun) continue;
      await trx.deleteFrom('versions').where('package', 'in', some).execute();
      await trx.deleteFrom('packuments').where('name', 'in', some).execute();
      // Only upstream copies: a local package published under the name meanwhile stays.
      await trx.deleteFrom('packages').where('name', 'in', some).where('origin', '=', 'proxy').execute();
    }
    if (!opts.dryRun) await bumpCounter(trx, 'packages');
  });
  // Content-addressed tarballs may be shared: a blob goes only when no version or staged version names it.
  // One stored again after this check is spared, as in `tessera gc`.
  const checkedAt = Date.now();
  for (const key of blobs) {
    const named =
      (await ctx.store.db.selectFrom('versions').select('blob').where('blob', '=', key).executeTakeFirst()) ??
      (await ctx.store.db.selectFrom('staged').select('blob').where('blob', '=', key).executeTakeFirst());
    if (named) continue;
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
        packages: names.length,
        first: names.slice(0, 10),
        versions: report.versions,
        blobs: report.blobs,
      },
    });
  }
  return report;
}
