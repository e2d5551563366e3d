// Reads and writes of packages, versions, dist-tags and maintainers. Every write ends by re-rendering
// the package's packuments inside the same transaction, so readers only ever see whole documents; a write
// that says what it changed splices the stored text instead (domain/packument-splice.ts).
import type { Db } from './store.ts';
import type { OrgRole, PackageFacts } from '../domain/policy.ts';
import {
  hasCachedFragments,
  render,
  type Chunk,
  type Layout,
  type Manifest,
  type PackageState,
  type Shell,
  type VersionState,
} from '../domain/packument.ts';
import { splice, type Change, type Head } from '../domain/packument-splice.ts';
import { scopeOf } from '../domain/names.ts';
import { bumpCounter } from './counters.ts';
import { orgRoleOf } from './orgs.ts';

/** A package's dist-tags, tag → version, in tag order. */
export async function distTagsOf(db: Db, name: string): Promise<Record<string, string>> {
  const tags = await db
    .selectFrom('dist_tags')
    .select(['tag', 'version'])
    .where('package', '=', name)
    .orderBy('tag')
    .execute();
  return Object.fromEntries(tags.map((t) => [t.tag, t.version]));
}

export type PackageHead = {
  name: string;
  access: 'public' | 'restricted';
  origin: string;
  rev: number;
  etag: string;
  deletedAt: number | null;
  mfa: 'none' | 'publish' | 'automation';
};

/** The columns of a package's head, and the head they make. */
export const HEAD_COLUMNS = ['name', 'access', 'origin', 'rev', 'etag', 'deleted_at', 'mfa'] as const;

type HeadRow = {
  name: string;
  access: string;
  origin: string;
  rev: number;
  etag: string;
  deleted_at: number | null;
  mfa: string;
};

export function headOf(row: HeadRow): PackageHead {
  return {
    name: row.name,
    access: row.access as PackageHead['access'],
    origin: row.origin,
    rev: row.rev,
    etag: row.etag,
    deletedAt: row.deleted_at,
    mfa: row.mfa as PackageHead['mfa'],
  };
}

export async function packageHead(db: Db, name: string): Promise<PackageHead | undefined> {
  const row = await db.selectFrom('packages').select(HEAD_COLUMNS).where('name', '=', name).executeTakeFirst();
  return row && headOf(row);
}

/** The organization owning a package's scope, as `userId` stands in it: role and best team grant. */
async function orgFacts(db: Db, name: string, userId: number | undefined): Promise<PackageFacts['org']> {
  const scope = scopeOf(name);
  if (!scope) return null;
  const org = await db.selectFrom('orgs').select('name').where('name', '=', scope.slice(1)).executeTakeFirst();
  if (!org) return null;
  if (userId === undefined) return { name: org.name, role: null, team: null };
  const role = await orgRoleOf(db, org.name, userId);
  const grants = role
    ? await db
        .selectFrom('team_packages')
        .innerJoin('team_members', (j) =>
          j.onRef('team_members.org', '=', 'team_packages.org').onRef('team_members.team', '=', 'team_packages.team'),
        )
        .select('team_packages.permission')
        .where('team_packages.package', '=', name)
        .where('team_members.user_id', '=', userId)
        .execute()
    : [];
  const team = grants.some((g) => g.permission === 'read-write') ? 'read-write' : grants.length ? 'read-only' : null;
  return { name: org.name, role: role as OrgRole | null, team };
}

/** Everything the policy needs to decide about one package, for one caller. A deleted or proxied-only name is "not existing" locally. */
export async function packageFacts(
  db: Db,
  name: string,
  userId?: number,
): Promise<PackageFacts & { head?: PackageHead }> {
  const head = await packageHead(db, name);
  const scope = scopeOf(name);
  const owner = scope
    ? await db.selectFrom('users').select('id').where('name', '=', scope.slice(1)).executeTakeFirst()
    : undefined;
  const org = await orgFacts(db, name, userId);
  if (!head || head.deletedAt !== null || head.origin !== 'local') {
    return { name, exists: false, access: 'public', maintainerIds: [], scopeOwnerId: owner?.id ?? null, head, org };
  }
  const maintainers = await db.selectFrom('maintainers').select('user_id').where('package', '=', name).execute();
  return {
    name,
    exists: true,
    access: head.access,
    maintainerIds: maintainers.map((m) => m.user_id),
    scopeOwnerId: owner?.id ?? null,
    head,
    mfa: head.mfa,
    org,
  };
}

/**
 * Everything the documents are made of. Manifests are the bulk of it, so only those render() needs are
 * read: the latest version's, and those of versions whose rendered fragments are not cached.
 */
export async function loadState(db: Db, name: string): Promise<PackageState | undefined> {
  const pkg = await db.selectFrom('packages').selectAll().where('name', '=', name).executeTakeFirst();
  if (!pkg) return undefined;
  const versions = await db
    .selectFrom('versions')
    .leftJoin('users', 'users.id', 'versions.published_by')
    .select([
      'versions.version',
      'versions.integrity',
      'versions.shasum',
      'versions.size',
      'versions.published_at',
      'versions.unpublished_at',
      'versions.deprecated',
      'users.name as pub_name',
      'users.email as pub_email',
    ])
    .where('versions.package', '=', name)
    .orderBy('versions.published_at')
    .orderBy('versions.version')
    .execute();
  const distTags = await distTagsOf(db, name);
  const live = versions.filter((v) => v.unpublished_at === null);
  const latest = live.find((v) => v.version === distTags.latest)?.version ?? live.at(-1)?.version;
  const wanted = live
    .filter((v) => v.version === latest || !hasCachedFragments(name, v.version, v.integrity, v.published_at))
    .map((v) => v.version);
  const manifests = new Map<string, Manifest>();
  for (let i = 0; i < wanted.length; i += 500) {
    const rows = await db
      .selectFrom('versions')
      .select(['version', 'manifest'])
      .where('package', '=', name)
      .where('version', 'in', wanted.slice(i, i + 500))
      .execute();
    for (const r of rows) manifests.set(r.version, JSON.parse(r.manifest) as Manifest);
  }
  const { maintainers, stars } = await people(db, name);
  const attested = await db.selectFrom('attachments').select('version').where('package', '=', name).execute();
  const attestedSet = new Set(attested.map((a) => a.version));
  return {
    name,
    rev: pkg.rev,
    createdAt: pkg.created_at,
    modifiedAt: pkg.modified_at,
    distTags,
    versions: live.map((v) => ({
      version: v.version,
      manifest: manifests.get(v.version) ?? null,
      integrity: v.integrity,
      shasum: v.shasum,
      size: v.size,
      publishedAt: v.published_at,
      publisher: v.pub_name ? { name: v.pub_name, email: v.pub_email ?? '' } : null,
      deprecated: v.deprecated,
      attestationsUrl: attestedSet.has(v.version) ? `-/npm/v1/attestations/${name}@${v.version}` : undefined,
    })),
    unpublished: versions
      .filter((v) => v.unpublished_at !== null)
      .map((v) => ({ version: v.version, publishedAt: v.published_at })),
    maintainers,
    stars,
  };
}

async function people(db: Db, name: string): Promise<Pick<PackageState, 'maintainers' | 'stars'>> {
  const maintainers = await db
    .selectFrom('maintainers')
    .innerJoin('users', 'users.id', 'maintainers.user_id')
    .select(['users.name', 'users.email'])
    .where('maintainers.package', '=', name)
    .orderBy('users.name')
    .execute();
  const stars = await db
    .selectFrom('stars')
    .innerJoin('users', 'users.id', 'stars.user_id')
    .select('users.name')
    .where('stars.package', '=', name)
    .orderBy('users.name')
    .execute();
  return { maintainers: maintainers.map((m) => ({ name: m.name, email: m.email })), stars: stars.map((s) => s.name) };
}

/** What a write changed, for rerender: versions published, deprecated or unpublished, or (an empty list)
 *  none of the versions. Without it, the documents are rendered in full. */
export type Changed = { published: string } | { deprecated: string; message: string | null } | { unpublished: string };

/** A package's stored documents, whole: a local package's shell with its chunks put back in (see Layout). */
export async function storedDocuments(
  db: Db,
  name: string,
): Promise<{ doc: string; abbrev: string; etag: string } | undefined> {
  const row = await db
    .selectFrom('packages')
    .innerJoin('packuments', 'packuments.name', 'packages.name')
    .select(['packuments.doc', 'packuments.abbrev', 'packuments.layout', 'packages.etag'])
    .where('packages.name', '=', name)
    .executeTakeFirst();
  // Gone since its head was read (an upstream copy purged by another process, a package removed).
  if (!row) return undefined;
  const layout = row.layout ? (JSON.parse(row.layout) as Layout) : undefined;
  if (!layout || layout.etag !== row.etag) return row;
  const chunks = await db
    .selectFrom('packument_chunks')
    .select(['doc', 'abbrev'])
    .where('name', '=', name)
    .orderBy('seq')
    .execute();
  const { at, abAt } = layout;
  return {
    etag: row.etag,
    doc: row.doc.slice(0, at) + chunks.map((c) => c.doc).join(',') + row.doc.slice(at),
    abbrev: row.abbrev.slice(0, abAt) + chunks.map((c) => c.abbrev).join(',') + row.abbrev.slice(abAt),
  };
}

/** Bumps the revision and re-renders the stored packuments. Call inside the write's transaction. */
export async function rerender(trx: Db, name: string, now: number, changes?: Changed[]): Promise<void> {
  await bumpCounter(trx, 'packages');
  await trx
    .updateTable('packages')
    .set((eb) => ({ rev: eb('rev', '+', 1), modified_at: now }))
    .where('name', '=', name)
    .execute();
  const r = (changes && (await spliced(trx, name, changes))) ?? (await renderInFull(trx, name));
  const latest = r.latest;
  const meta = JSON.stringify(
    latest?.manifest
      ? {
          version: latest.version,
          description: latest.manifest.description ?? '',
          keywords: latest.manifest.keywords ?? [],
          date: new Date(latest.publishedAt).toISOString(),
          publisher: latest.publisher?.name ?? null,
        }
      : {},
  );
  const { doc, abbrev, layout } = r.shell;
  const row = { doc, abbrev, readme: r.readme, layout: JSON.stringify(layout) };
  await trx.updateTable('packages').set({ etag: r.etag, meta }).where('name', '=', name).execute();
  await trx
    .insertInto('packuments')
    .values({ name, ...row })
    .onConflict((oc) => oc.column('name').doUpdateSet(row))
    .execute();
  if (r.drop === 'all') await trx.deleteFrom('packument_chunks').where('name', '=', name).execute();
  else if (r.drop.length) {
    await trx.deleteFrom('packument_chunks').where('name', '=', name).where('seq', 'in', r.drop).execute();
  }
  for (const c of r.put) {
    const chunk = { doc: c.full, abbrev: c.abbrev, versions: JSON.stringify(c.versions) };
    await trx
      .insertInto('packument_chunks')
      .values({ name, seq: c.seq, ...chunk })
      .onConflict((oc) => oc.columns(['name', 'seq']).doUpdateSet(chunk))
      .execute();
  }
}

type Written = {
  shell: Shell;
  etag: string;
  readme: string;
  put: Chunk[];
  drop: number[] | 'all';
  latest: VersionState | undefined;
};

async function renderInFull(trx: Db, name: string): Promise<Written> {
  const state = await loadState(trx, name);
  if (!state) throw new Error(`rerender: ${name} vanished inside its own transaction`);
  const r = render(state);
  return {
    shell: r.shell,
    etag: r.etag,
    readme: r.readme,
    put: r.chunks,
    drop: 'all',
    latest: state.versions.find((v) => v.version === state.distTags.latest),
  };
}

const chunkOf = (r: { seq: number; doc: string; abbrev: string; versions: string }): Chunk => ({
  seq: r.seq,
  full: r.doc,
  abbrev: r.abbrev,
  versions: JSON.parse(r.versions) as Chunk['versions'],
});

/** The documents with only the changed versions read, or undefined when they must be rendered in full. */
async function spliced(trx: Db, name: string, changed: Changed[]): Promise<Written | undefined> {
  const pkg = await trx
    .selectFrom('packages')
    .innerJoin('packuments', 'packuments.name', 'packages.name')
    .select([
      'packages.rev',
      'packages.created_at',
      'packages.modified_at',
      'packages.etag',
      'packuments.doc',
      'packuments.abbrev',
      'packuments.layout',
    ])
    .where('packages.name', '=', name)
    .executeTakeFirst();
  if (!pkg?.layout) return undefined;
  const layout = JSON.parse(pkg.layout) as Layout;
  // The last write left this layout only if the package's ETag is still the one it describes.
  if (layout.etag !== pkg.etag) return undefined;
  const distTags = await distTagsOf(trx, name);
  if (distTags.latest === undefined) return undefined;
  const named = changed.flatMap((c) => ('published' in c ? [c.published] : 'unpublished' in c ? [c.unpublished] : []));
  const loaded = await versionStates(trx, name, [...new Set([...named, distTags.latest])]);
  const latest = loaded.get(distTags.latest);
  if (!latest?.manifest) return undefined;
  const changes: Change[] = [];
  for (const c of changed) {
    const v = loaded.get('published' in c ? c.published : 'unpublished' in c ? c.unpublished : c.deprecated);
    if ('deprecated' in c) changes.push({ deprecate: c.deprecated, message: c.message });
    else if (!v) return undefined;
    else changes.push('published' in c ? { publish: v } : { unpublish: v.version, publishedAt: v.publishedAt });
  }
  const last = await trx
    .selectFrom('packument_chunks')
    .selectAll()
    .where('name', '=', name)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return undefined;
  // Chunks holding a version deprecated or unpublished: their version lists are small, their text is read once found.
  const wanted = new Set(
    changed.flatMap((c) => ('deprecated' in c ? [c.deprecated] : 'unpublished' in c ? [c.unpublished] : [])),
  );
  const seqs: number[] = [];
  if (wanted.size) {
    const lists = await trx
      .selectFrom('packument_chunks')
      .select(['seq', 'versions'])
      .where('name', '=', name)
      .execute();
    for (const l of lists) {
      if ((JSON.parse(l.versions) as Chunk['versions']).some(([v]) => wanted.has(v))) seqs.push(l.seq);
    }
  }
  const chunks = seqs.length
    ? (
        await trx.selectFrom('packument_chunks').selectAll().where('name', '=', name).where('seq', 'in', seqs).execute()
      ).map(chunkOf)
    : [];
  const { maintainers, stars } = await people(trx, name);
  const head: Head = {
    name,
    rev: pkg.rev,
    createdAt: pkg.created_at,
    modifiedAt: pkg.modified_at,
    distTags,
    maintainers,
    stars,
    latest: { version: latest.version, manifest: latest.manifest },
  };
  const r = splice({ shell: { doc: pkg.doc, abbrev: pkg.abbrev, layout }, last: chunkOf(last), chunks }, head, changes);
  return r && { ...r, latest };
}

/** Some versions of a package with their manifests, as loadState reads them (unpublished ones too). */
async function versionStates(db: Db, name: string, versions: string[]): Promise<Map<string, VersionState>> {
  const rows = await db
    .selectFrom('versions')
    .leftJoin('users', 'users.id', 'versions.published_by')
    .select([
      'versions.version',
      'versions.manifest',
      'versions.integrity',
      'versions.shasum',
      'versions.size',
      'versions.published_at',
      'versions.deprecated',
      'users.name as pub_name',
      'users.email as pub_email',
    ])
    .where('versions.package', '=', name)
    .where('versions.version', 'in', versions)
    .execute();
  const attested = await db
    .selectFrom('attachments')
    .select('version')
    .where('package', '=', name)
    .where('version', 'in', versions)
    .execute();
  const out = new Map<string, VersionState>();
  for (const v of rows) {
    out.set(v.version, {
      version: v.version,
      manifest: JSON.parse(v.manifest) as Manifest,
      integrity: v.integrity,
      shasum: v.shasum,
      size: v.size,
      publishedAt: v.published_at,
      publisher: v.pub_name ? { name: v.pub_name, email: v.pub_email ?? '' } : null,
      deprecated: v.deprecated,
      attestationsUrl: attested.some((a) => a.version === v.version)
        ? `-/npm/v1/attestations/${name}@${v.version}`
        : undefined,
    });
  }
  return out;
}

/** Highest non-prerelease version left, for moving `latest` after an unpublish. */
export function pickLatest(
  versions: string[],
  compare: (a: string, b: string) => number,
  isPrerelease: (v: string) => boolean,
): string | undefined {
  const stable = versions.filter((v) => !isPrerelease(v)).sort(compare);
  const all = [...versions].sort(compare);
  return stable.at(-1) ?? all.at(-1);
}
