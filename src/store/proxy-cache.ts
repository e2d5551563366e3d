// Packages cached from the upstream registry (origin 'proxy'): their documents, the upstream addresses of
// their tarballs (in `meta`), and the namespace checks that keep a local name from being fetched upstream.
import type { Db } from './store.ts';
import { bumpCounter } from './counters.ts';
import { lockPackage, onPostgres } from './locks.ts';
import { proxiedPackageRow } from './package-rows.ts';
import { HEAD_COLUMNS, headOf, type PackageHead } from './packages.ts';

/** Whether any local package lives in `scope` (with its `@`). */
export async function scopeHasLocalPackage(db: Db, scope: string): Promise<boolean> {
  const pkg = await db
    .selectFrom('packages')
    .select('name')
    .where('scope', '=', scope)
    .where('origin', '=', 'local')
    .executeTakeFirst();
  return pkg !== undefined;
}

/** Whether a local user or organization has this name. Users and orgs are other aggregates (store-accounts',
 *  store-orgs'); asked here only for the proxy's namespace check, to be folded into theirs. */
export async function accountNamed(db: Db, name: string): Promise<boolean> {
  const user = await db.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
  const org = await db.selectFrom('orgs').select('name').where('name', '=', name).executeTakeFirst();
  return user !== undefined || org !== undefined;
}

/** When the cached copy of `name` was fetched (0 when never). */
export async function fetchedAt(db: Db, name: string): Promise<number> {
  const row = await db.selectFrom('packages').select('fetched_at').where('name', '=', name).executeTakeFirst();
  return row?.fetched_at ?? 0;
}

export type UpstreamTarball = { url: string; integrity?: string };

/** Where the upstream keeps a cached package's tarball of `version`, as its packument said. */
export async function upstreamTarball(db: Db, name: string, version: string): Promise<UpstreamTarball | undefined> {
  const row = await db.selectFrom('packages').select('meta').where('name', '=', name).executeTakeFirst();
  type Sources = { tarballs?: Record<string, UpstreamTarball> };
  return (JSON.parse(row?.meta ?? '{}') as Sources).tarballs?.[version];
}

export type ProxiedDocuments = { doc: string; abbrev: string; readme: string; etag: string; meta: string };

/**
 * Keeps a fresh upstream copy of `name`'s documents. Call inside a transaction. Returns the package's head as
 * kept, or undefined, changing nothing, when a local package of that name appeared meanwhile: it wins, and
 * its documents stay.
 */
export async function keepProxied(
  db: Db,
  name: string,
  r: ProxiedDocuments,
  now: number,
): Promise<PackageHead | undefined> {
  const { etag, meta } = r;
  // A row made by a racing node is met by the upsert below; one that exists is written after its lock.
  await lockPackage(db, name);
  const upd = await db
    .insertInto('packages')
    .values(proxiedPackageRow(name, etag, meta, now))
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ etag, fetched_at: now, modified_at: now, meta })
        .where('packages.origin', '=', 'proxy'),
    )
    .returning(HEAD_COLUMNS)
    .executeTakeFirst();
  if (!upd) return undefined;
  const docs = { doc: r.doc, abbrev: r.abbrev, readme: r.readme, layout: null };
  await db
    .insertInto('packuments')
    .values({ name, ...docs })
    .onConflict((oc) => oc.column('name').doUpdateSet(docs))
    .execute();
  // No counter moves: the writer keeps the new head itself (services/read-cache.ts keepHead says why).
  return headOf(upd);
}

/** The names of every cached upstream package, sorted. */
export async function proxiedNames(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('packages').select('name').where('origin', '=', 'proxy').orderBy('name').execute();
  return rows.map((r) => r.name);
}

// Names go into `IN (…)` lists 500 at a time, below every dialect's limit on bound values.
const BATCH = 500;

/** The blob of each cached version of these packages (one entry per version row). */
export async function proxiedVersionBlobs(db: Db, names: string[]): Promise<string[]> {
  const blobs: string[] = [];
  for (let i = 0; i < names.length; i += BATCH) {
    const rows = await db
      .selectFrom('versions')
      .select('blob')
      .where('package', 'in', names.slice(i, i + BATCH))
      .execute();
    for (const r of rows) blobs.push(r.blob);
  }
  return blobs;
}

/** Forgets cached upstream copies: versions, documents and rows. A local package published under one of the
 *  names meanwhile keeps its row. Call inside a transaction. */
export async function forgetProxied(db: Db, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += BATCH) {
    // Only names still proxied, locked (store/locks.ts): a publish that made one local meanwhile keeps its versions.
    let q = db
      .selectFrom('packages')
      .select('name')
      .where('name', 'in', names.slice(i, i + BATCH))
      .where('origin', '=', 'proxy');
    if (onPostgres(db)) q = q.forUpdate();
    const some = (await q.execute()).map((r) => r.name);
    if (some.length === 0) continue;
    await db.deleteFrom('versions').where('package', 'in', some).execute();
    await db.deleteFrom('packuments').where('name', 'in', some).execute();
    await db.deleteFrom('packages').where('name', 'in', some).where('origin', '=', 'proxy').execute();
  }
  await bumpCounter(db, 'packages');
}
