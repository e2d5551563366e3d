// What the web pages show of packages: the recent ones, and one package whole. Every package passes the
// one read rule first (visibleHead): a package the caller may not read is the same "not found" as none.
import { distTagsOf } from '../store/packages.ts';
import { Parser, type ReadEntry } from 'tar';
import { Refusal } from '../domain/reasons.ts';
import type { Principal } from '../domain/principal.ts';
import { getVersionView, putVersionView, type VersionView } from '../store/version-views.ts';
import {
  liveVersion,
  liveVersionCount,
  liveVersions,
  maintainerNames,
  provenanceBundle,
  recentLocalPackages,
} from '../store/package-reads.ts';
import type { Ctx } from './context.ts';
import { readableNames, visibleHead } from './read.ts';
import { buildVersionView, wholeReadme } from './version-view.ts';

type Meta = { version?: string; description?: string; date?: string };
export type Summary = { name: string; version: string; description: string; date: string | null };

/** The most recently changed local packages the caller may read. */
export async function recentPackages(ctx: Ctx, p: Principal, limit = 20): Promise<Summary[]> {
  const out: Summary[] = [];
  // Pages of candidates until enough are readable: private packages others published do not crowd the list out.
  for (let offset = 0; out.length < limit && offset < 2_000; offset += 200) {
    const rows = await recentLocalPackages(ctx.store.db, 200, offset);
    const readable = new Set(
      await readableNames(
        ctx,
        p,
        rows.map((r) => r.name),
      ),
    );
    for (const r of rows) {
      if (!readable.has(r.name) || out.length >= limit) continue;
      const m = JSON.parse(r.meta ?? '{}') as Meta;
      out.push({ name: r.name, version: m.version ?? '', description: m.description ?? '', date: m.date ?? null });
    }
    if (rows.length < 200) break;
  }
  return out;
}

export type PackagePage = {
  name: string;
  access: 'public' | 'restricted';
  version: string;
  manifest: Record<string, unknown>;
  /** `npm deprecate`'s message for this version (kept beside the manifest, not in it). */
  deprecated: string | null;
  distTags: Record<string, string>;
  /** The newest `limit` versions (all when no limit was asked), and how many there are in all. */
  versions: { version: string; date: number; deprecated: string | null }[];
  versionCount: number;
  maintainers: string[];
  view: VersionView;
  provenance: { source?: string; workflow?: string } | null;
};

/** One package as the caller may see it, at `version` (else its `latest`). Hidden and missing alike: not-found. */
export async function packagePage(
  ctx: Ctx,
  p: Principal,
  name: string,
  version?: string,
  limit?: number,
): Promise<PackagePage> {
  const head = await visibleHead(ctx, p, name);
  if (head?.origin !== 'local') throw new Refusal('not-found');
  const db = ctx.store.db;
  // A page shows the newest versions and a count: thousands of rows are read only when all are asked for.
  const versions = await liveVersions(db, name, limit);
  const count = limit === undefined || versions.length < limit ? versions.length : await liveVersionCount(db, name);
  const distTags = await distTagsOf(db, name);
  const shown = version ?? distTags.latest ?? versions[0]?.version;
  const row = shown === undefined ? undefined : await liveVersion(db, name, shown);
  if (!row || shown === undefined) throw new Refusal('not-found');
  const manifest = JSON.parse(row.manifest) as Record<string, unknown>;
  const maintainers = await maintainerNames(db, name);
  return {
    name,
    access: head.access,
    version: shown,
    manifest,
    deprecated: row.deprecated || null,
    distTags,
    maintainers,
    versions: versions.map((v) => ({ version: v.version, date: v.published_at, deprecated: v.deprecated })),
    versionCount: count,
    view: await viewOf(ctx, name, shown, row.blob, manifest.readme),
    provenance: await provenanceOf(ctx, name, shown),
  };
}

/** Versions published before the web pages existed get their view made once, on first sight. */
async function viewOf(ctx: Ctx, name: string, version: string, blob: string, readme: unknown): Promise<VersionView> {
  const stored = await getVersionView(ctx.store.db, name, version);
  if (stored) return stored;
  const tgz = await ctx.store.blobs.get(blob);
  const view = tgz ? await buildVersionView(tgz, name, version, readme).catch(() => undefined) : undefined;
  if (!view) return { readmeHtml: '', files: [] };
  await putVersionView(ctx.store.db, name, version, view);
  return view;
}

/** What the sigstore bundle published with the version says about where it was built. */
async function provenanceOf(ctx: Ctx, name: string, version: string): Promise<PackagePage['provenance']> {
  const data = await provenanceBundle(ctx.store.db, name, version);
  if (data === undefined) return null;
  try {
    const bundle = JSON.parse(data) as { dsseEnvelope?: { payload?: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString('utf8')) as {
      predicate?: { buildDefinition?: { externalParameters?: { workflow?: { repository?: string; path?: string } } } };
    };
    const wf = statement.predicate?.buildDefinition?.externalParameters?.workflow;
    return { source: wf?.repository, workflow: wf?.path };
  } catch {
    return {};
  }
}

/** A readable version's whole README, for a page that shows only its start. */
export async function packageReadme(ctx: Ctx, p: Principal, name: string, version: string): Promise<string> {
  const head = await visibleHead(ctx, p, name);
  if (head?.origin !== 'local') throw new Refusal('not-found');
  const row = await liveVersion(ctx.store.db, name, version);
  const tgz = row && (await ctx.store.blobs.get(row.blob));
  if (!row || !tgz) throw new Refusal('not-found');
  const text = await wholeReadme(tgz, (JSON.parse(row.manifest) as { readme?: unknown }).readme);
  if (text === undefined) throw new Refusal('not-found');
  return text;
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

/** An image file of a readable version, for its README: nothing else is served from tarballs here. */
export async function packageImage(ctx: Ctx, p: Principal, name: string, version: string, path: string) {
  const type = IMAGE_TYPES[/\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase() ?? ''];
  const head = await visibleHead(ctx, p, name);
  if (!type || !head || head.origin !== 'local') throw new Refusal('not-found');
  const row = await liveVersion(ctx.store.db, name, version);
  const tgz = row && (await ctx.store.blobs.get(row.blob));
  if (!tgz) throw new Refusal('not-found');
  let data: Buffer | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        if (data === undefined && entry.path.replace(/^[^/]+\//, '') === path && entry.size <= 5 * 1024 * 1024) {
          const chunks: Buffer[] = [];
          entry.on('data', (c: Buffer) => chunks.push(c));
          entry.on('end', () => {
            data = Buffer.concat(chunks);
          });
        } else entry.resume();
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(tgz);
  });
  if (!data) throw new Refusal('not-found');
  return { type, data };
}
