// A real Tessera in this process (the test helper: Fastify + SQLite + filesystem blobs, logging to a
// file at level info, as `tessera serve` does by default), a user, a token, and packages to read.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssri from 'ssri';
import { startServer, type TestServer } from '../../test/helpers/server.ts';
import { rerender } from '../../src/store/packages.ts';
import type { VersionRow } from '../../src/store/schema.ts';
import type { Config } from '../../src/config/config.ts';
import { manifestFor, makeTarball, publishBody, publishOverHttp } from './tarball.ts';

export const CORGI_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
export const JSON_ACCEPT = 'application/json';

export type Bench = { s: TestServer; token: string; scratch: string; close(): Promise<void> };

export async function startBench(overrides: Partial<Config> = {}): Promise<Bench> {
  const s = await startServer(overrides);
  await s.addUser('bench');
  const token = await s.token({ user: 'bench' });
  const scratch = mkdtempSync(join(tmpdir(), 'tessera-bench-pkg-'));
  return {
    s,
    token,
    scratch,
    async close() {
      await s.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** Publishes `count` versions (1.0.0, 1.0.1, …) over HTTP, one PUT each, exactly as npm does. */
export async function publishVersions(b: Bench, name: string, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const m = manifestFor(name, `1.0.${i}`);
    await publishOverHttp(b.s.url, b.token, publishBody(m, makeTarball(m, b.scratch)));
  }
}

/**
 * A package with `count` versions. Publishing them one by one over HTTP (tarballs packed, checked and
 * stored) would take minutes.
 * The first version goes over HTTP (creating the package, its maintainer and tag the normal way); the
 * rest are written as `publish` would store them (real tarballs, blob, integrity, shasum, manifest with
 * dist) in one transaction, followed by one rerender: the stored packument is the same one 3,000 PUTs
 * would have produced, except that each version gets its own publish time (in the past, so that later
 * publishes come after them, as they would).
 */
export async function seedVersions(b: Bench, name: string, count: number): Promise<{ seconds: number }> {
  const started = performance.now();
  await publishVersions(b, name, 1);
  const { ctx } = b.s;
  const user = await ctx.store.db
    .selectFrom('users')
    .select('id')
    .where('name', '=', 'bench')
    .executeTakeFirstOrThrow();
  const t0 = ctx.clock.now();
  const rows: VersionRow[] = [];
  let pending: Promise<void>[] = [];
  for (let i = 1; i < count; i++) {
    const version = `1.0.${i}`;
    const manifest = manifestFor(name, version);
    const tgz = makeTarball(manifest, b.scratch);
    const integrity = ssri.fromData(tgz, { algorithms: ['sha512'] }).toString();
    const shasum = createHash('sha1').update(tgz).digest('hex');
    const stored = { ...manifest, _id: `${name}@${version}`, dist: { integrity, shasum } };
    const row: VersionRow = {
      package: name,
      version,
      manifest: JSON.stringify(stored),
      integrity,
      shasum,
      size: tgz.length,
      blob: '',
      published_by: user.id,
      published_at: t0 - (count - i) * 60_000,
      unpublished_at: null,
      deprecated: null,
    };
    rows.push(row);
    // Blob writes overlap with packing the next tarballs.
    pending.push(
      ctx.store.blobs.put(tgz).then((key) => {
        row.blob = key;
      }),
    );
    if (pending.length >= 64) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  const last = `1.0.${count - 1}`;
  await ctx.store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 500)
      await trx
        .insertInto('versions')
        .values(rows.slice(i, i + 500))
        .execute();
    await trx
      .updateTable('dist_tags')
      .set({ version: last })
      .where('package', '=', name)
      .where('tag', '=', 'latest')
      .execute();
    await rerender(trx, name, t0);
  });
  return { seconds: (performance.now() - started) / 1000 };
}
