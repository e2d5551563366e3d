// `npm publish`: one version per PUT. Validates the document and the tarball against each other,
// asks the policy, writes the blob first and then the rows in one transaction.
import { createHash } from 'node:crypto';
import ssri from 'ssri';
import { Refusal } from '../domain/reasons.ts';
import { assertValidName, assertValidVersion, isValidTag, scopeOf, versionFromTarball } from '../domain/names.ts';
import { authorize } from '../domain/policy.ts';
import type { Principal } from '../domain/principal.ts';
import type { Manifest } from '../domain/packument.ts';
import { packageFacts, rerender } from '../store/packages.ts';
import { readTarballManifest } from './tarball.ts';
import type { Ctx } from './context.ts';
import { deny } from './deny.ts';
import { requireSecondFactor } from './two-factor.ts';

type Attachment = { content_type?: unknown; data?: unknown; length?: unknown };

function bad(detail: string): Refusal {
  return new Refusal('invalid-publish', { detail });
}

export type PublishResult = { name: string; version: string; created: boolean };

export async function publish(ctx: Ctx, principal: Principal, name: string, body: Record<string, unknown>): Promise<PublishResult> {
  assertValidName(name);
  if (body.name !== undefined && body.name !== name) throw bad(`the document names "${String(body.name)}" but was sent to ${name}`);
  if (body._id !== undefined && body._id !== name) throw bad(`the document _id "${String(body._id)}" does not match ${name}`);

  const versions = body.versions;
  if (!versions || typeof versions !== 'object' || Array.isArray(versions)) throw bad('"versions" must be an object');
  const versionKeys = Object.keys(versions);
  if (versionKeys.length !== 1) throw bad(`exactly one version must be published at a time (got ${versionKeys.length})`);
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
  if (tagVersion !== version) throw bad(`dist-tag "${tag}" points at ${String(tagVersion)}, not the published ${version}`);

  const access = body.access ?? null;
  if (access !== null && access !== 'public' && access !== 'restricted') throw bad('"access" must be "public", "restricted" or null');
  if (access === 'restricted' && !scopeOf(name)) throw new Refusal('unscoped-restricted');

  // Attachments: exactly one tarball for this version; an optional sigstore bundle (provenance).
  const attachments = body._attachments as Record<string, Attachment> | undefined;
  if (!attachments || typeof attachments !== 'object') throw bad('"_attachments" is missing');
  let tarball: Buffer | undefined;
  let provenance: { name: string; contentType: string; data: string } | undefined;
  for (const [file, att] of Object.entries(attachments)) {
    if (!att || typeof att !== 'object' || typeof att.data !== 'string') throw bad(`attachment "${file}" has no data`);
    if (file.endsWith('.sigstore')) {
      provenance = { name: file, contentType: String(att.content_type ?? 'application/json'), data: att.data };
      continue;
    }
    if (tarball) throw bad('only one tarball may be attached');
    if (file.includes('..') || file.includes('\\')) throw new Refusal('tarball-mismatch', { detail: `unsafe attachment name ${JSON.stringify(file)}` });
    if (versionFromTarball(name, file.split('/').pop() ?? file) !== version) {
      throw new Refusal('tarball-mismatch', { detail: `attachment "${file}" is not the tarball of ${name}@${version}` });
    }
    tarball = Buffer.from(att.data, 'base64');
    if (att.length !== undefined && att.length !== tarball.length) {
      throw new Refusal('tarball-mismatch', { detail: `attachment length is ${String(att.length)} but the data is ${tarball.length} bytes` });
    }
  }
  if (!tarball || tarball.length === 0) throw bad('no tarball is attached');

  const dist = (manifest.dist ?? {}) as Record<string, unknown>;
  const integrity = ssri.fromData(tarball, { algorithms: ['sha512'] }).toString();
  if (typeof dist.integrity === 'string' && !ssri.checkData(tarball, dist.integrity)) {
    throw new Refusal('tarball-mismatch', { detail: 'dist.integrity does not match the attached tarball' });
  }
  const shasum = createHash('sha1').update(tarball).digest('hex');
  if (typeof dist.shasum === 'string' && dist.shasum !== shasum) {
    throw new Refusal('tarball-mismatch', { detail: 'dist.shasum does not match the attached tarball' });
  }
  const inner = await readTarballManifest(tarball);
  if (inner.name !== name || inner.version !== version) {
    throw new Refusal('tarball-mismatch', {
      detail: `package.json inside the tarball is ${String(inner.name)}@${String(inner.version)}, not ${name}@${version}`,
    });
  }

  const facts = await packageFacts(ctx.store.db, name, principal.user?.id);
  const decision = authorize(principal, 'publish', facts, { requireVerifiedEmail: ctx.config.email.requireVerified });
  if (!decision.allowed) throw await deny(ctx, principal, decision, name);
  await requireSecondFactor(ctx, principal, decision);
  const user = principal.user!;

  // Cheap early refusal; the primary key below is what really guarantees uniqueness under concurrency.
  const existing = await ctx.store.db.selectFrom('versions').select('version').where('package', '=', name).where('version', '=', version).executeTakeFirst();
  if (existing) throw new Refusal('version-exists', { version });

  const blob = await ctx.store.blobs.put(tarball);
  const now = ctx.clock.now();
  const stored: Manifest = { ...manifest, dist: { ...dist, integrity, shasum } };
  delete (stored as Record<string, unknown>)._attachments;
  let created = false;
  try {
    await ctx.store.db.transaction().execute(async (trx) => {
      const head = await trx.selectFrom('packages').select(['name', 'deleted_at', 'origin']).where('name', '=', name).executeTakeFirst();
      if (!head) {
        created = true;
        const pkgAccess = scopeOf(name) ? (access ?? ctx.config.defaultScopedAccess) : 'public';
        await trx.insertInto('packages').values({
          name, scope: scopeOf(name) ?? null, access: pkgAccess, origin: 'local', rev: 0, created_at: now, modified_at: now,
          deleted_at: null, etag: '""', fetched_at: null, meta: null,
        }).execute();
      } else if (head.deleted_at !== null || head.origin !== 'local') {
        // A wholly unpublished name, or one only cached from upstream: it starts again, local, with this publisher.
        created = true;
        const pkgAccess = scopeOf(name) ? (access ?? ctx.config.defaultScopedAccess) : 'public';
        if (head.origin !== 'local') await trx.deleteFrom('versions').where('package', '=', name).execute();
        await trx.updateTable('packages').set({ deleted_at: null, access: pkgAccess, created_at: now, origin: 'local', fetched_at: null, meta: null })
          .where('name', '=', name).execute();
        await trx.deleteFrom('maintainers').where('package', '=', name).execute();
      } else if (access !== null && scopeOf(name)) {
        await trx.updateTable('packages').set({ access }).where('name', '=', name).execute();
      }
      if (created) await trx.insertInto('maintainers').values({ package: name, user_id: user.id }).execute();
      await trx.insertInto('versions').values({
        package: name, version, manifest: JSON.stringify(stored), integrity, shasum, size: tarball.length, blob,
        published_by: user.id, published_at: now, unpublished_at: null, deprecated: typeof manifest.deprecated === 'string' && manifest.deprecated ? manifest.deprecated : null,
      }).execute();
      await trx.insertInto('dist_tags').values({ package: name, tag, version })
        .onConflict((oc) => oc.columns(['package', 'tag']).doUpdateSet({ version })).execute();
      if (provenance) {
        await trx.insertInto('attachments').values({ package: name, version, name: provenance.name, content_type: provenance.contentType, data: provenance.data }).execute();
      }
      await rerender(trx, name, now);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Refusal('version-exists', { version });
    throw err;
  }
  return { name, version, created };
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number; message?: string };
  return e?.code === '23505' || e?.errcode === 1555 || e?.errcode === 2067 || /UNIQUE constraint failed/.test(e?.message ?? '');
}
