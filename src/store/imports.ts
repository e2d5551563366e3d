// Writes of `tessera import verdaccio`: versions, tags, maintainers and stars as another registry kept
// them (with their own times), inside the caller's transaction, or in one of their own (importLocalPackage,
// importProxiedPackage). Publishing goes through publish.ts.
import type { Db } from './store.ts';
import { rerender } from './packages.ts';
import { insertLocalPackage, proxiedPackageRow } from './package-rows.ts';
import { bumpCounter } from './counters.ts';

export type ImportedVersion = {
  version: string;
  manifest: Record<string, unknown>;
  integrity: string;
  shasum: string;
  size: number;
  blob: string;
  publishedBy: number | null;
  publishedAt: number;
  deprecated: string | null;
};

/** The local head of `name` as an import needs it, and the integrity and SHA-1 of each version it holds. */
export async function importTarget(db: Db, name: string) {
  const head = await db
    .selectFrom('packages')
    .select(['origin', 'deleted_at'])
    .where('name', '=', name)
    .executeTakeFirst();
  const versions = await db
    .selectFrom('versions')
    .select(['version', 'integrity', 'shasum'])
    .where('package', '=', name)
    .execute();
  const claims = await db
    .selectFrom('version_claims')
    .select(['version', 'state'])
    .where('package', '=', name)
    .execute();
  return {
    head,
    versions: new Map(versions.map((v) => [v.version, { integrity: v.integrity, shasum: v.shasum }])),
    claims: new Map(claims.map((c) => [c.version, c.state])),
  };
}

export async function userIds(db: Db, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'name']).where('name', 'in', names).execute();
  return new Map(rows.map((r) => [r.name, r.id]));
}

/** Makes the package local (a cached-only row of that name gives way), with the other registry's creation time. */
async function ensureLocalPackage(
  trx: Db,
  name: string,
  access: 'public' | 'restricted',
  createdAt: number,
): Promise<void> {
  const head = await trx.selectFrom('packages').select('origin').where('name', '=', name).executeTakeFirst();
  if (head?.origin === 'local') return;
  if (head) {
    await trx.deleteFrom('versions').where('package', '=', name).execute();
    await trx
      .updateTable('packages')
      .set({ origin: 'local', access, created_at: createdAt, fetched_at: null, meta: null })
      .where('name', '=', name)
      .execute();
    return;
  }
  await insertLocalPackage(trx, name, access, createdAt);
}

async function insertImportedVersion(trx: Db, name: string, v: ImportedVersion): Promise<void> {
  await trx.insertInto('version_claims').values({ package: name, version: v.version, state: 'published' }).execute();
  await trx
    .insertInto('versions')
    .values({
      package: name,
      version: v.version,
      manifest: JSON.stringify(v.manifest),
      integrity: v.integrity,
      shasum: v.shasum,
      size: v.size,
      blob: v.blob,
      published_by: v.publishedBy,
      published_at: v.publishedAt,
      unpublished_at: null,
      deprecated: v.deprecated,
    })
    .execute();
}

/** Adds what is missing; a tag, maintainer or star Tessera already has stays as it is, except the tags in `move`
 *  (they name a version this import brings in). Re-renders at `modifiedAt`. */
async function addTagsAndPeople(
  trx: Db,
  name: string,
  tags: Record<string, string>,
  move: readonly string[],
  maintainerIds: number[],
  starIds: number[],
  modifiedAt: number,
): Promise<void> {
  for (const [tag, version] of Object.entries(tags)) {
    await trx
      .insertInto('dist_tags')
      .values({ package: name, tag, version })
      .onConflict((oc) =>
        move.includes(tag)
          ? oc.columns(['package', 'tag']).doUpdateSet({ version })
          : oc.columns(['package', 'tag']).doNothing(),
      )
      .execute();
  }
  for (const id of maintainerIds) {
    await trx
      .insertInto('maintainers')
      .values({ package: name, user_id: id })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  for (const id of starIds) {
    await trx
      .insertInto('stars')
      .values({ package: name, user_id: id })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  await rerender(trx, name, modifiedAt);
}

/** A package kept as cached from an upstream (`--keep-proxied`): its documents as proxy.ts stores them. */
async function insertProxied(
  trx: Db,
  name: string,
  r: { doc: string; abbrev: string; etag: string; readme: string },
  meta: string,
  fetchedAt: number,
): Promise<void> {
  await trx
    .insertInto('packages')
    .values(proxiedPackageRow(name, r.etag, meta, fetchedAt))
    .execute();
  await trx
    .insertInto('packuments')
    .values({ name, doc: r.doc, abbrev: r.abbrev, readme: r.readme })
    .onConflict((oc) => oc.column('name').doUpdateSet({ doc: r.doc, abbrev: r.abbrev, readme: r.readme }))
    .execute();
  await bumpCounter(trx, 'packages');
}

export async function insertProxiedTarball(
  trx: Db,
  name: string,
  version: string,
  integrity: string,
  size: number,
  blob: string,
  at: number,
): Promise<void> {
  await trx
    .insertInto('versions')
    .values({
      package: name,
      version,
      manifest: '{}',
      integrity,
      shasum: '',
      size,
      blob,
      published_by: null,
      published_at: at,
      unpublished_at: null,
      deprecated: null,
    })
    .onConflict((oc) => oc.columns(['package', 'version']).doNothing())
    .execute();
}

/** The origin (local, proxy) of a package row of that name, deleted or not. */
export async function packageOrigin(db: Db, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('packages').select('origin').where('name', '=', name).executeTakeFirst();
  return row?.origin;
}

/** One package's import in one transaction: made local, its versions written, then its tags and people. */
export async function importLocalPackage(
  db: Db,
  p: {
    name: string;
    access: 'public' | 'restricted';
    createdAt: number;
    versions: readonly ImportedVersion[];
    tags: Record<string, string>;
    /** Tags to move where `tags` says even if Tessera has them (they name a version imported now). */
    moveTags: readonly string[];
    maintainerIds: number[];
    starIds: number[];
    modifiedAt: number;
  },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await ensureLocalPackage(trx, p.name, p.access, p.createdAt);
    for (const v of p.versions) await insertImportedVersion(trx, p.name, v);
    await addTagsAndPeople(trx, p.name, p.tags, p.moveTags, p.maintainerIds, p.starIds, p.modifiedAt);
  });
}

/** A package kept as proxied, with the tarballs Verdaccio had cached, in one transaction. */
export async function importProxiedPackage(
  db: Db,
  name: string,
  r: { doc: string; abbrev: string; etag: string; readme: string },
  meta: string,
  fetchedAt: number,
  tarballs: readonly { version: string; integrity: string; size: number; blob: string }[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await insertProxied(trx, name, r, meta, fetchedAt);
    for (const t of tarballs) await insertProxiedTarball(trx, name, t.version, t.integrity, t.size, t.blob, fetchedAt);
  });
}
