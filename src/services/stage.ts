// `npm stage publish|list|view|approve|reject|download`: a version is checked like a publish and kept
// apart, invisible to installs, until a maintainer approves it with a one-time password (it becomes a
// normal published version) or rejects it. Its version number is taken from the moment it is staged.
import type { PublishDoc } from '../domain/commands.ts';
import { randomUUID } from 'node:crypto';
import semver from 'semver';
import { Refusal } from '../domain/reasons.ts';
import { authorize, authorizeStageAccess, canRead, type Decision, type PackageFacts } from '../domain/policy.ts';
import type { Principal, User } from '../domain/principal.ts';
import type { Manifest } from '../domain/packument.ts';
import { packageFacts } from '../store/packages.ts';
import {
  claimVersion,
  dropExpired,
  dropStaged,
  insertStaged,
  stagedById,
  stagedSince,
  takeStaged,
  versionTakenBy,
  type StagedSummary,
} from '../store/staged.ts';
import type { StagedRow } from '../store/schema.ts';
import { lockPackage } from '../store/locks.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import {
  authorizeAccess,
  checkDocument,
  checkTarball,
  isUniqueViolation,
  latestAbove,
  writeVersion,
  type Provenance,
} from './publish.ts';
import { unpackedLimit } from '../config/config.ts';
import { assertValidName } from '../domain/names.ts';
import { requireSecondFactor } from './two-factor.ts';
import { decideFor } from './decide.ts';
import { factsFor } from './read.ts';
import { emit } from './hooks.ts';
import { versionViewOf } from './version-view.ts';

/** What `npm stage list|view` print (npm's `logStageItem`: known keys first, then the rest). */
export type StageItem = {
  id: string;
  packageName: string;
  version: string;
  tag: string;
  status: 'pending';
  createdAt: string;
  expiresAt: string;
  actor: string;
  actorType: 'user' | 'trusted-publisher';
  access: string | null;
  shasum: string;
  integrity: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const cutoff = (ctx: Ctx) => ctx.clock.now() - ctx.config.stage.ttlMs;

function present(ctx: Ctx, r: StagedSummary): StageItem {
  return {
    id: r.id,
    packageName: r.package,
    version: r.version,
    tag: r.tag,
    status: 'pending',
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: new Date(r.created_at + ctx.config.stage.ttlMs).toISOString(),
    actor: r.actor,
    actorType: r.actor_type as StageItem['actorType'],
    access: r.access,
    shasum: r.shasum,
    integrity: r.integrity,
  };
}

async function auditExpired(ctx: Ctx, rows: StagedRow[]): Promise<void> {
  for (const r of rows)
    await audit(ctx, { event: 'stage-expired', detail: { package: r.package, version: r.version, id: r.id } });
}

/** Expired stages are removed lazily, whenever staging is looked at (and by `tessera gc`); their version numbers become free. */
export async function sweep(ctx: Ctx, only: { name?: string; version?: string } = {}): Promise<void> {
  const dropped = await ctx.store.transaction((trx) => dropExpired(trx, cutoff(ctx), only));
  await auditExpired(ctx, dropped);
}

function principalToken(p: Principal): string | null {
  return p.user && p.credential.type === 'token' ? p.credential.id : null;
}

/** POST /-/stage/package/<name>: the same document as `npm publish`, no one-time password. Authorized
 *  before the tarball is opened; a version that would change the package's access needs `access` too. */
export async function stagePublish(
  ctx: Ctx,
  p: Principal,
  name: string,
  body: PublishDoc,
): Promise<{ stageId: string; message: string }> {
  assertValidName(name);
  const facts = await factsFor(ctx, p, name);
  const d = decideFor(ctx, p, 'stage', facts);
  if (!d.allowed) throw await deny(ctx, p, d, name);
  const draft = checkDocument(name, body);
  await authorizeAccess(ctx, p, facts, draft.access);
  const { version, tag } = draft;
  const user = p.user!;
  const trust =
    p.user && p.credential.type === 'token' && p.credential.kind === 'oidc' ? p.credential.grants?.trust : undefined;
  const actor = trust ? trust.subject : user.name;
  const actorType = trust ? 'trusted-publisher' : 'user';

  await sweep(ctx, { name, version });
  // Cheap early refusal; the version_claims key is what guarantees it under concurrency.
  if (await versionTakenBy(ctx.store.db, name, version)) throw new Refusal('stage-version-exists', { version });
  const doc = await checkTarball(draft, unpackedLimit(ctx.config));
  const blob = await ctx.store.blobs.put(doc.tarball, doc.integrity);
  const id = randomUUID();
  const now = ctx.clock.now();
  try {
    await ctx.store.transaction(async (trx) => {
      await claimVersion(trx, name, version, 'staged');
      await insertStaged(trx, {
        id,
        package: name,
        version,
        tag,
        access: doc.access,
        manifest: JSON.stringify(doc.manifest),
        integrity: doc.integrity,
        shasum: doc.shasum,
        size: doc.tarball.length,
        blob,
        provenance: doc.provenance ? JSON.stringify(doc.provenance) : null,
        actor,
        actor_type: actorType,
        staged_by: user.id,
        created_at: now,
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('stage-version-exists', { version });
    throw err;
  }
  await audit(ctx, {
    event: 'stage-created',
    user: user.name,
    tokenId: principalToken(p),
    detail: { package: name, version, tag, id, actor, actorType },
  });
  const change = { id, 'dist-tag': tag, stagedBy: actor, actorType };
  await emit(ctx, [{ event: 'package:stage', name, version, change, actor: user.name }]);
  return {
    stageId: id,
    message: `${name}@${version} is staged with tag ${tag}; a maintainer approves it with \`npm stage approve ${id}\``,
  };
}

export type ListQuery = { page?: unknown; perPage?: unknown; package?: unknown };

function whole(v: unknown, fallback: number, min: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isInteger(n) ? Math.min(Math.max(n, min), max) : fallback;
}

/** Trusted-publishing tokens stage; they never list, view, approve, reject or download (npm's rule). */
async function allowStageAccess(
  ctx: Ctx,
  p: Principal,
  action: 'list staged versions' | 'see staged versions',
): Promise<User> {
  const d = authorizeStageAccess(p, action);
  if (!d.allowed) throw p.user ? await deny(ctx, p, d, '') : new Refusal(d.reason, d.params);
  return p.user!;
}

/** GET /-/stage?page&perPage&package: the caller's packages' staged versions, newest first, 0-based pages. */
export async function listStaged(ctx: Ctx, p: Principal, q: ListQuery) {
  const user = await allowStageAccess(ctx, p, 'list staged versions');
  const page = whole(q.page, 0, 0, Number.MAX_SAFE_INTEGER);
  const perPage = whole(q.perPage, 100, 1, 1000);
  await sweep(ctx);
  const only = typeof q.package === 'string' && q.package ? q.package : undefined;
  const rows = (await stagedSince(ctx.store.db, cutoff(ctx), only)).sort(
    (a, b) =>
      b.created_at - a.created_at || a.package.localeCompare(b.package) || semver.rcompare(a.version, b.version),
  );
  // What the caller may not see is left out, never refused: a private package's name is not revealed.
  const visible = new Map<string, boolean>();
  for (const name of new Set(rows.map((r) => r.package))) {
    visible.set(name, authorize(p, 'stage-view', await packageFacts(ctx.store.db, name, user.id)).allowed);
  }
  const mine = rows.filter((r) => visible.get(r.package));
  return {
    items: mine.slice(page * perPage, (page + 1) * perPage).map((r) => present(ctx, r)),
    page,
    perPage,
    total: mine.length,
  };
}

/** One staged item the caller may see, or a plain 404: an unknown, expired or foreign id all look alike. */
async function load(ctx: Ctx, p: Principal, id: string): Promise<{ row: StagedRow; facts: PackageFacts; user: User }> {
  const user = await allowStageAccess(ctx, p, 'see staged versions');
  if (!UUID.test(id)) throw new Refusal('not-found');
  const row = await stagedById(ctx.store.db, id);
  if (!row) throw new Refusal('not-found');
  if (row.created_at <= cutoff(ctx)) {
    await sweep(ctx, { name: row.package, version: row.version });
    throw new Refusal('not-found');
  }
  const facts = await packageFacts(ctx.store.db, row.package, user.id);
  const d = authorize(p, 'stage-view', facts);
  if (!d.allowed) {
    // The caller named an id, not the package: one they may not read is not recorded under its name (their
    // own refusals would show it), exactly as an unknown id is not.
    if (canRead(p, facts)) await deny(ctx, p, d, row.package);
    throw new Refusal('not-found');
  }
  return { row, facts, user };
}

export async function viewStaged(ctx: Ctx, p: Principal, id: string): Promise<StageItem> {
  return present(ctx, (await load(ctx, p, id)).row);
}

/** A staged version whole, for the web page that reviews it: what `npm stage view` shows, its manifest and tarball. */
export async function stagedVersion(ctx: Ctx, p: Principal, id: string) {
  const { row } = await load(ctx, p, id);
  const tarball = await ctx.store.blobs.get(row.blob);
  if (!tarball) throw new Refusal('not-found');
  return { item: present(ctx, row), manifest: JSON.parse(row.manifest) as Manifest, tarball };
}

export async function stagedTarball(ctx: Ctx, p: Principal, id: string): Promise<Buffer> {
  const { row } = await load(ctx, p, id);
  const data = await ctx.store.blobs.get(row.blob);
  if (!data) throw new Refusal('not-found');
  return data;
}

/** Approving and rejecting: a maintainer (not a stage-only or trusted-publishing token), 2FA, a one-time password. */
async function review(
  ctx: Ctx,
  p: Principal,
  id: string,
  approving: boolean,
): Promise<{ row: StagedRow; user: User; decision: Decision }> {
  const { row, facts, user } = await load(ctx, p, id);
  const staged = {
    version: row.version,
    actor: row.actor,
    actorType: row.actor_type as StageItem['actorType'],
    stagedBy: row.staged_by,
  };
  const d = decideFor(ctx, p, 'stage-review', facts, { ...staged, approving });
  if (!d.allowed) throw await deny(ctx, p, d, row.package);
  // A version staged with another access changes the package's access: the approver must be allowed that too.
  if (approving) await authorizeAccess(ctx, p, facts, row.access as 'public' | 'restricted' | null);
  await requireSecondFactor(ctx, p, d);
  return { row, user, decision: d };
}

/** POST /-/stage/<id>/approve: the staged item becomes a published version with its tag, in one transaction. */
export async function approveStaged(ctx: Ctx, p: Principal, id: string): Promise<{ message: string }> {
  const { row, user } = await review(ctx, p, id, true);
  const manifest = JSON.parse(row.manifest) as Manifest;
  const view = await versionViewOf(ctx.store.blobs, {
    name: row.package,
    version: row.version,
    manifest,
    blob: row.blob,
  });
  const now = ctx.clock.now();
  try {
    await ctx.store.transaction(async (trx) => {
      // The package's lock first, as every package write takes it (store/locks.ts): writes queue in one order.
      await lockPackage(trx, row.package);
      // Deleting the row first makes a concurrent approve or reject find nothing.
      if (!(await takeStaged(trx, id, cutoff(ctx)))) throw new Refusal('not-found');
      await writeVersion(trx, ctx, {
        name: row.package,
        version: row.version,
        manifest,
        tag: row.tag,
        access: row.access as 'public' | 'restricted' | null,
        integrity: row.integrity,
        shasum: row.shasum,
        size: row.size,
        blob: row.blob,
        view,
        provenance: row.provenance ? (JSON.parse(row.provenance) as Provenance) : undefined,
        publisherId: user.id,
        now,
        fromStage: true,
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('stage-conflict', { package: row.package, version: row.version });
    throw err;
  }
  await audit(ctx, {
    event: 'stage-approved',
    user: user.name,
    tokenId: principalToken(p),
    detail: {
      package: row.package,
      version: row.version,
      tag: row.tag,
      id,
      stagedBy: row.actor,
      actorType: row.actor_type,
    },
  });
  const approved = { name: row.package, version: row.version, actor: user.name };
  await emit(ctx, [
    { ...approved, event: 'package:stage-approve', change: { id, 'dist-tag': row.tag, stagedBy: row.actor } },
    { ...approved, event: 'package:publish', change: { 'dist-tag': row.tag, stageId: id } },
  ]);
  const kept = row.tag === 'latest' ? await latestAbove(ctx.store.db, row.package, row.version) : undefined;
  if (kept) return { message: `${row.package}@${row.version} is published; latest stays at the higher ${kept}` };
  return { message: `${row.package}@${row.version} is published with tag ${row.tag}` };
}

/** DELETE /-/stage/<id>: the record and its tarball reference are deleted; the version number is free again. */
export async function rejectStaged(ctx: Ctx, p: Principal, id: string): Promise<void> {
  const { row, user } = await review(ctx, p, id, false);
  const dropped = await ctx.store.transaction(async (trx) => {
    await lockPackage(trx, row.package);
    return dropStaged(trx, id);
  });
  if (!dropped) throw new Refusal('not-found');
  await audit(ctx, {
    event: 'stage-rejected',
    user: user.name,
    tokenId: principalToken(p),
    detail: { package: row.package, version: row.version, id },
  });
  const rejected = { name: row.package, version: row.version, change: { id }, actor: user.name };
  await emit(ctx, [{ event: 'package:stage-reject', ...rejected }]);
}
