// `npm publish`: one version per PUT. Asks the policy first, then validates the document and the
// tarball against each other (nothing is decoded or unpacked for a caller who may not publish), writes
// the blob first and then the rows in one transaction. The validation and the write are shared with
// staged publishing (stage.ts): a staged version is checked and published alike.
import { createHash } from 'node:crypto';
import semver from 'semver';
import ssri from 'ssri';
import { Refusal } from '../domain/reasons.ts';
import { assertValidName, assertValidVersion, isValidTag, scopeOf, versionFromTarball } from '../domain/names.ts';
import { authorizeAccessChange, type PackageFacts } from '../domain/policy.ts';
import { unpackedLimit } from '../config/config.ts';
import type { Principal } from '../domain/principal.ts';
import type { Manifest } from '../domain/packument.ts';
import type { PublishDoc } from '../domain/commands.ts';
import { distTagsOf, packageHead, rerender } from '../store/packages.ts';
import { factsFor } from './read.ts';
import { claimVersion, dropExpired, publishClaim, versionTakenBy } from '../store/staged.ts';
import { insertLocalPackage, restartLocalPackage, setPackageSettings } from '../store/package-rows.ts';
import { deleteVersionsOf, insertAttachment, insertVersion } from '../store/versions.ts';
import { addMaintainer, removeMaintainersOf } from '../store/maintainers.ts';
import { hasDistTag, putDistTag } from '../store/dist-tags.ts';
import { lockPackage } from '../store/locks.ts';
import { putVersionView, type VersionView } from '../store/version-views.ts';
import type { Db } from '../store/store.ts';
import type { StagedRow } from '../store/schema.ts';
import { readTarballManifest } from './tarball.ts';
import { audit, type Ctx } from './context.ts';
import { deny } from './deny.ts';
import { decideFor } from './decide.ts';
import { requireSecondFactor } from './two-factor.ts';
import { refuseReservedName } from './unpublish-reservation.ts';
import { versionViewOf } from './version-view.ts';
import { emit } from './hooks.ts';

type Attachment = { content_type?: unknown; data?: unknown; length?: unknown };

function bad(detail: string): Refusal {
  return new Refusal('invalid-publish', { detail });
}

/** A publish document that passed the cheap checks: what `npm publish` and `npm stage publish` both
 *  send, one version with its tarball, still base64 and unopened. */
export type PublishDraft = {
  name: string;
  version: string;
  /** The manifest as sent. */
  manifest: Manifest;
  tag: string;
  access: 'public' | 'restricted' | null;
  attachment: { file: string; data: string; length: unknown };
  provenance?: Provenance;
};

/** A publish document whose tarball was checked against it too. */
export type ValidPublish = Omit<PublishDraft, 'attachment'> & {
  /** The manifest as stored: dist.integrity and dist.shasum computed from the tarball. */
  manifest: Manifest;
  tarball: Buffer;
  integrity: string;
  shasum: string;
};

export type Provenance = { name: string; contentType: string; data: string };

/** The checks that need neither the database nor the tarball's bytes (`PUT /<name>`, `POST /-/stage/package/<name>`). */
export function checkDocument(name: string, body: PublishDoc): PublishDraft {
  assertValidName(name);
  if (body.name !== undefined && body.name !== name)
    throw bad(`the document names "${String(body.name)}" but was sent to ${name}`);
  if (body._id !== undefined && body._id !== name)
    throw bad(`the document _id "${String(body._id)}" does not match ${name}`);

  const versions = body.versions;
  if (!versions || typeof versions !== 'object' || Array.isArray(versions)) throw bad('"versions" must be an object');
  const versionKeys = Object.keys(versions);
  if (versionKeys.length !== 1)
    throw bad(`exactly one version must be published at a time (got ${versionKeys.length})`);
  const version = versionKeys[0];
  assertValidVersion(version);
  const manifest = (versions as Record<string, unknown>)[version] as Manifest;
  if (!manifest || typeof manifest !== 'object') throw bad(`versions["${version}"] must be an object`);
  if (manifest.name !== name) throw bad(`versions["${version}"].name is "${String(manifest.name)}", expected ${name}`);
  if (manifest.version !== version) throw bad(`versions["${version}"].version is "${String(manifest.version)}"`);

  const tags = body['dist-tags'] ?? {};
  if (typeof tags !== 'object' || Array.isArray(tags) || tags === null) throw bad('"dist-tags" must be an object');
  const tagEntries = Object.entries(tags as Record<string, unknown>);
  if (tagEntries.length > 1) throw bad('at most one dist-tag may be set by a publish');
  const [tag, tagVersion] = tagEntries[0] ?? ['latest', version];
  if (!isValidTag(tag)) throw new Refusal('tag-invalid', { tag });
  if (tagVersion !== version)
    throw bad(`dist-tag "${tag}" points at ${String(tagVersion)}, not the published ${version}`);

  const access = body.access ?? null;
  if (access !== null && access !== 'public' && access !== 'restricted')
    throw bad('"access" must be "public", "restricted" or null');
  if (access === 'restricted' && !scopeOf(name)) throw new Refusal('unscoped-restricted');

  // Attachments: exactly one tarball for this version; an optional sigstore bundle (provenance).
  const attachments = body._attachments as Record<string, Attachment> | undefined;
  if (!attachments || typeof attachments !== 'object') throw bad('"_attachments" is missing');
  let tarball: PublishDraft['attachment'] | undefined;
  let provenance: Provenance | undefined;
  for (const [file, att] of Object.entries(attachments)) {
    if (!att || typeof att !== 'object' || typeof att.data !== 'string') throw bad(`attachment "${file}" has no data`);
    if (file.endsWith('.sigstore')) {
      // npm sends the sigstore bundle as a JSON string, not base64.
      try {
        JSON.parse(att.data);
      } catch {
        throw bad(`attachment "${file}" is not a JSON sigstore bundle`);
      }
      provenance = { name: file, contentType: String(att.content_type ?? 'application/json'), data: att.data };
      continue;
    }
    if (tarball) throw bad('only one tarball may be attached');
    if (file.includes('..') || file.includes('\\'))
      throw new Refusal('tarball-mismatch', { detail: `unsafe attachment name ${JSON.stringify(file)}` });
    if (versionFromTarball(name, file.split('/').pop() ?? file) !== version) {
      throw new Refusal('tarball-mismatch', {
        detail: `attachment "${file}" is not the tarball of ${name}@${version}`,
      });
    }
    tarball = { file, data: att.data, length: att.length };
  }
  if (!tarball || tarball.data.length === 0) throw bad('no tarball is attached');
  return { name, version, manifest, tag, access: access as PublishDraft['access'], attachment: tarball, provenance };
}

/** Decodes the tarball and checks it against the document: length, integrity, shasum, the package.json
 *  inside (read as a bounded stream). Only for a caller already allowed to publish. */
export async function checkTarball(doc: PublishDraft, maxUnpackedBytes: number): Promise<ValidPublish> {
  const { name, version, manifest, attachment: att } = doc;
  const tarball = Buffer.from(att.data, 'base64');
  if (att.length !== undefined && att.length !== tarball.length) {
    throw new Refusal('tarball-mismatch', {
      detail: `attachment length is ${String(att.length)} but the data is ${tarball.length} bytes`,
    });
  }
  if (tarball.length === 0) throw bad('no tarball is attached');

  const dist = (manifest.dist ?? {}) as Record<string, unknown>;
  const integrity = ssri.fromData(tarball, { algorithms: ['sha512'] }).toString();
  // The client's sha512 is compared with the one just computed, not hashed again; other algorithms are hashed.
  const given = typeof dist.integrity === 'string' ? ssri.parse(dist.integrity) : undefined;
  if (given && !(given.sha512 ? given.match(integrity) : ssri.checkData(tarball, given))) {
    throw new Refusal('tarball-mismatch', { detail: 'dist.integrity does not match the attached tarball' });
  }
  const shasum = createHash('sha1').update(tarball).digest('hex');
  if (typeof dist.shasum === 'string' && dist.shasum !== shasum) {
    throw new Refusal('tarball-mismatch', { detail: 'dist.shasum does not match the attached tarball' });
  }
  const inner = await readTarballManifest(tarball, maxUnpackedBytes);
  if (inner.name !== name || inner.version !== version) {
    throw new Refusal('tarball-mismatch', {
      detail: `package.json inside the tarball is ${String(inner.name)}@${String(inner.version)}, not ${name}@${version}`,
    });
  }
  const stored: Manifest = { ...manifest, dist: { ...dist, integrity, shasum } };
  delete (stored as Record<string, unknown>)._attachments;
  const { attachment: _, ...rest } = doc;
  return { ...rest, manifest: stored, tarball, integrity, shasum };
}

/**
 * The second half of authorizing a publish or a staged version, once the caller may do that: a document
 * that changes the package's access needs the `access` action too. Returns the decision whose second
 * factor must also be checked (publish only; staging defers it to approval, which asks for a code).
 */
export async function authorizeAccess(ctx: Ctx, p: Principal, facts: PackageFacts, access: PublishDraft['access']) {
  const d = authorizeAccessChange(p, facts, access);
  if (d && !d.allowed) throw await deny(ctx, p, d, facts.name);
  return d;
}

/** The cheap checks and the policy, in the order that opens nothing for a caller who may not publish. */
async function authorizePublish(ctx: Ctx, principal: Principal, name: string, body: PublishDoc) {
  assertValidName(name);
  const facts = await factsFor(ctx, principal, name);
  const decision = decideFor(ctx, principal, 'publish', facts);
  if (!decision.allowed) throw await deny(ctx, principal, decision, name);
  const doc = checkDocument(name, body);
  const access = await authorizeAccess(ctx, principal, facts, doc.access);
  // Asked last (publish() calls it after its own checks): a publish refused for its version or tarball must not
  // use up the one-time password sent with it, which works once.
  const secondFactor = async () => {
    await requireSecondFactor(ctx, principal, decision);
    if (access) await requireSecondFactor(ctx, principal, access);
  };
  return { ...doc, isNew: !facts.exists, secondFactor };
}

/** The package was made by another writer between the policy's answer and the package's lock: ask again. */
class PackageAppeared extends Error {}

export type PublishResult = { name: string; version: string; created: boolean };

export async function publish(
  ctx: Ctx,
  principal: Principal,
  name: string,
  body: PublishDoc,
  attempt = 1,
): Promise<PublishResult> {
  const { isNew, secondFactor, ...draft } = await authorizePublish(ctx, principal, name, body);
  const { version } = draft;
  const user = principal.user!;

  // Cheap early refusal; the version_claims key below is what really guarantees uniqueness under concurrency.
  const cutoff = ctx.clock.now() - ctx.config.stage.ttlMs;
  const taken = await versionTakenBy(ctx.store.db, name, version);
  if (taken === 'published') throw new Refusal('version-exists', { version });
  const doc = await checkTarball(draft, unpackedLimit(ctx.config));
  await secondFactor();

  const blob = await ctx.store.blobs.put(doc.tarball, doc.integrity);
  const view = await versionViewOf(ctx.store.blobs, { ...doc, blob });
  const now = ctx.clock.now();
  let created = false;
  let expired: StagedRow[] = [];
  try {
    await ctx.store.transaction(async (trx) => {
      // A staged version that expired gives its number back.
      expired = await dropExpired(trx, cutoff, { name, version });
      const w = { ...doc, blob, view, publisherId: user.id, now, fromStage: false, isNew };
      created = await writeVersion(trx, ctx, w);
    });
  } catch (err) {
    const appeared = err instanceof PackageAppeared;
    if (!appeared && !isUniqueViolation(err)) throw err;
    const by = appeared ? null : await versionTakenBy(ctx.store.db, name, version);
    if (by === 'staged') throw new Refusal('version-staged', { version });
    // Nobody holds the number: another writer made the package first (the primary key of its row, or seen
    // under the lock). Its owners are now who may publish: the policy is asked again.
    if (by === null && attempt < 3) return publish(ctx, principal, name, body, attempt + 1);
    throw new Refusal('version-exists', { version });
  }
  for (const r of expired) await audit(ctx, { event: 'stage-expired', detail: { package: name, version, id: r.id } });
  await emit(ctx, [{ event: 'package:publish', name, version, change: { 'dist-tag': doc.tag }, actor: user.name }]);
  return { name, version, created };
}

export type VersionWrite = Omit<ValidPublish, 'tarball'> & {
  size?: number;
  tarball?: Buffer;
  blob: string;
  /** Made before the transaction (versionViewOf); a version is never published without the one it has. */
  view: VersionView | undefined;
  publisherId: number;
  now: number;
  fromStage: boolean;
  /** The policy allowed this write to a package that did not exist: one that exists under the lock is refused. */
  isNew?: boolean;
};

/**
 * Makes a version published, inside the caller's transaction: the package row (created, or started again
 * when it was wholly unpublished or only proxied), the version, its dist-tag, provenance, the packuments.
 * The version number is claimed here, or, for an approved staged version, its claim becomes `published`.
 * Returns whether the package was created by this write.
 */
export async function writeVersion(trx: Db, ctx: Ctx, w: VersionWrite): Promise<boolean> {
  const { name, version, access, now } = w;
  let created = false;
  // Every decision below is taken on what the previous writer of this package committed (store/locks.ts).
  await lockPackage(trx, name);
  const head = await packageHead(trx, name);
  if (w.isNew && head && head.deletedAt === null && head.origin === 'local') throw new PackageAppeared();
  const pkgAccess = scopeOf(name) ? (access ?? ctx.config.defaultScopedAccess) : 'public';
  if (!head) {
    created = true;
    await insertLocalPackage(trx, name, pkgAccess, now);
  } else if (head.deletedAt !== null || head.origin !== 'local') {
    if (head.deletedAt !== null) await refuseReservedName(trx, ctx, name, head.deletedAt, w.publisherId, now);
    // A wholly unpublished name, or one only cached from upstream: it starts again, local, with this publisher.
    created = true;
    if (head.origin !== 'local') await deleteVersionsOf(trx, name);
    await restartLocalPackage(trx, name, pkgAccess, now);
    await removeMaintainersOf(trx, name);
  } else if (access !== null && scopeOf(name)) {
    await setPackageSettings(trx, name, { access });
  }
  if (created) await addMaintainer(trx, name, w.publisherId);
  if (w.fromStage) {
    if (!(await publishClaim(trx, name, version))) throw new Refusal('stage-conflict', { package: name, version });
  } else {
    await claimVersion(trx, name, version, 'published');
  }
  const deprecated = typeof w.manifest.deprecated === 'string' && w.manifest.deprecated ? w.manifest.deprecated : null;
  await insertVersion(trx, {
    package: name,
    version,
    manifest: JSON.stringify(w.manifest),
    integrity: w.integrity,
    shasum: w.shasum,
    size: w.size ?? w.tarball?.length ?? 0,
    blob: w.blob,
    published_by: w.publisherId,
    published_at: now,
    unpublished_at: null,
    deprecated,
  });
  if (w.view) await putVersionView(trx, name, version, w.view);
  if (!(w.fromStage && w.tag === 'latest' && (await latestAbove(trx, name, version)))) {
    await putDistTag(trx, name, w.tag, version);
  }
  // As npm's registry does, a package always has `latest`: a first version published under another tag gets it
  // too (a name only cached from the upstream before starts here with no tags at all).
  if (w.tag !== 'latest' && !(await hasDistTag(trx, name, 'latest'))) await putDistTag(trx, name, 'latest', version);
  if (w.provenance) await insertAttachment(trx, name, version, w.provenance);
  // A package started by this write has nothing to append to.
  await rerender(trx, name, now, created ? undefined : [{ published: version }]);
  return created;
}

/**
 * The version `latest` points at when it is higher than `version`. A version staged as `latest` and approved
 * after a higher one was published leaves `latest` there: npm itself refuses to move `latest` down implicitly.
 */
export async function latestAbove(db: Db, name: string, version: string): Promise<string | undefined> {
  const latest = (await distTagsOf(db, name)).latest;
  return latest && semver.valid(latest) && semver.gt(latest, version) ? latest : undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return (
    e?.code === '23505' ||
    e?.errcode === 1555 ||
    e?.errcode === 2067 ||
    /UNIQUE constraint failed/.test(e?.message ?? '')
  );
}
