// Reads of packages, versions and maintainers that listings, the web pages, access lists, gc and the read
// cache make. They belong to the packages aggregate (packages.ts); they live here while that file is
// being reworked elsewhere, and may be folded into it.
import type { Db } from './store.ts';

/** A local package that is not deleted: what team grants and listings may name. */
export async function localPackageExists(db: Db, name: string): Promise<boolean> {
  const r = await db
    .selectFrom('packages')
    .select('name')
    .where('name', '=', name)
    .where('deleted_at', 'is', null)
    .where('origin', '=', 'local')
    .executeTakeFirst();
  return r !== undefined;
}

/** The live local packages the user maintains, by name. */
export async function packagesMaintainedBy(db: Db, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('maintainers')
    .innerJoin('packages', 'packages.name', 'maintainers.package')
    .select('packages.name')
    .where('maintainers.user_id', '=', userId)
    .where('packages.deleted_at', 'is', null)
    .where('packages.origin', '=', 'local')
    .orderBy('packages.name')
    .execute();
  return rows.map((r) => r.name);
}

/** The live local packages of a scope (`@acme`), by name: a range on the name, so `_` and `%` stay literal. */
export async function packagesInScope(db: Db, scope: string): Promise<string[]> {
  const rows = await db
    .selectFrom('packages')
    .select('name')
    .where('name', '>=', `${scope}/`)
    .where('name', '<', `${scope}0`) // '0' sorts right after '/'
    .where('deleted_at', 'is', null)
    .where('origin', '=', 'local')
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

/** The user names of a package's maintainers, sorted. */
export async function maintainerNames(db: Db, pkg: string): Promise<string[]> {
  const rows = await db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select('users.name')
    .where('maintainers.package', '=', pkg)
    .orderBy('users.name')
    .execute();
  return rows.map((r) => r.name);
}

export type PackageSummaryRow = { name: string; meta: string | null };

/** One page of live local packages, most recently changed first. */
export async function recentLocalPackages(db: Db, limit: number, offset: number): Promise<PackageSummaryRow[]> {
  return db
    .selectFrom('packages')
    .select(['name', 'meta'])
    .where('origin', '=', 'local')
    .where('deleted_at', 'is', null)
    .orderBy('modified_at', 'desc')
    .orderBy('name')
    .limit(limit)
    .offset(offset)
    .execute();
}

export type VersionListRow = { version: string; published_at: number; deprecated: string | null };

/** A package's live versions, newest first; the newest `limit` only when one is given. */
export async function liveVersions(db: Db, name: string, limit?: number): Promise<VersionListRow[]> {
  const q = db
    .selectFrom('versions')
    .select(['version', 'published_at', 'deprecated'])
    .where('package', '=', name)
    .where('unpublished_at', 'is', null)
    .orderBy('published_at', 'desc');
  return (limit === undefined ? q : q.limit(limit)).execute();
}

export async function liveVersionCount(db: Db, name: string): Promise<number> {
  const r = await db
    .selectFrom('versions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('package', '=', name)
    .where('unpublished_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A live (not unpublished) version's manifest text and tarball key. */
export async function liveVersion(
  db: Db,
  name: string,
  version: string,
): Promise<{ manifest: string; blob: string; deprecated: string | null } | undefined> {
  return db
    .selectFrom('versions')
    .select(['manifest', 'blob', 'deprecated'])
    .where('package', '=', name)
    .where('version', '=', version)
    .where('unpublished_at', 'is', null)
    .executeTakeFirst();
}

/** The version the `latest` dist-tag names. */
export async function latestVersion(db: Db, name: string): Promise<string | undefined> {
  const tag = await db
    .selectFrom('dist_tags')
    .select('version')
    .where('package', '=', name)
    .where('tag', '=', 'latest')
    .executeTakeFirst();
  return tag?.version;
}

/** The sigstore bundle published with a version, as text. */
export async function provenanceBundle(db: Db, name: string, version: string): Promise<string | undefined> {
  const att = await db
    .selectFrom('attachments')
    .select('data')
    .where('package', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return att?.data;
}
