// The order of `tessera migrate`: check the cluster database may take this install, tarballs before the
// rows that name them, rows parents first, sequences, then the counts. The source is read in one
// transaction, a snapshot, so rows and tarballs agree even if someone writes meanwhile.
import type { BlobStore } from './blobs/filesystem.ts';
import type { Store } from './store.ts';
import { copyBlobs, integrityMismatches, type BlobCopy } from './migrate-blobs.ts';
import {
  copyTable,
  installId,
  markTarget,
  resetSequences,
  tablesInOrder,
  targetState,
  type TableCopy,
} from './migrate-copy.ts';

export type MigrateReport = {
  ok: boolean;
  /** Why nothing was copied, when the cluster database holds another install's records. */
  refused?: string;
  /** True when an earlier run had copied this install into the cluster database. */
  rerun: boolean;
  install: string;
  tables: TableCopy[];
  blobs?: BlobCopy;
  /** Tables with fewer rows in the cluster than in the source. */
  short: string[];
  /** Versions whose recorded integrity is not their tarball's hash. */
  integrity: string[];
};

/** `toBlobs` null: the cluster uses the source's blob store (S3 already, or one node's folder); only verified. */
export async function migrateInstall(
  source: Store,
  target: Store,
  toBlobs: BlobStore | null,
  sealingKey: Buffer,
): Promise<MigrateReport> {
  const install = installId(sealingKey);
  return source.transaction(async (src) => {
    const tables = await tablesInOrder(src);
    const state = await targetState(target.db, tables, install);
    const report: MigrateReport = {
      ok: false,
      rerun: state.kind === 'ours',
      install,
      tables: [],
      short: [],
      integrity: [],
    };
    if (state.kind === 'other') {
      // Rows keep their ids: merged into another install's, this one's tokens would name that one's users.
      report.refused = state.from
        ? `the cluster database holds a copy of another install (${state.from}); migrate into a new database`
        : `the cluster database holds records already (${state.table}); migrate into a new, empty database`;
      return report;
    }
    await markTarget(target.db, install);
    report.blobs = await copyBlobs(src, source.blobs, toBlobs);
    report.integrity = await integrityMismatches(src);
    // No row may name a tarball the cluster does not have: those are fixed first, and the run repeated.
    if (report.blobs.missing.length || report.blobs.corrupt.length) return report;
    for (const table of tables) report.tables.push(await copyTable(src, target.db, table));
    await resetSequences(target.db);
    report.short = report.tables.filter((t) => t.target < t.source).map((t) => t.table);
    const differ = report.tables.some((t) => t.differs.length > 0);
    report.ok = report.short.length === 0 && report.integrity.length === 0 && !differ;
    return report;
  });
}
