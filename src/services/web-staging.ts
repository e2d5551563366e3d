// A staged version as its reviewer sees it in the web pages: who staged it, its manifest against the latest
// published version's (the fields a reviewer looks at), and the files of its tarball. Loaded through
// stagedVersion, so what a caller may not see is the same not-found as an unknown id.
import { Parser, type ReadEntry } from 'tar';
import type { Principal } from '../domain/principal.ts';
import { getVersionView } from '../store/version-views.ts';
import { latestVersion, liveVersion } from '../store/package-reads.ts';
import type { Ctx } from './context.ts';
import { stagedVersion, type StageItem } from './stage.ts';

export type Change = { field: string; before: string | null; after: string | null };
export type StagedReview = {
  item: StageItem;
  latest: string | null;
  changes: Change[];
  files: [string, number][];
  description: string;
};

/** Maps a reviewer reads key by key; `bin` may be a string, which npm reads as { <name>: path }. */
const MAPS = [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
  'devDependencies',
  'scripts',
  'engines',
  'bin',
] as const;

type Doc = Record<string, unknown>;

function asMap(doc: Doc | null, field: string): Record<string, string> {
  const v = doc?.[field];
  if (field === 'bin' && typeof v === 'string' && typeof doc?.name === 'string') {
    return { [doc.name.replace(/^@[^/]+\//, '')]: v };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(
    Object.entries(v as Doc).map(([k, x]) => [k, typeof x === 'string' ? x : JSON.stringify(x)]),
  );
}

/** Every changed key of the fields that matter, then version, file count and size (always shown). */
export function manifestChanges(
  before: Doc | null,
  after: Doc,
  files: { before: [string, number][] | null; after: [string, number][] },
): Change[] {
  const out: Change[] = [
    { field: 'version', before: (before?.version as string) ?? null, after: String(after.version) },
  ];
  for (const field of MAPS) {
    const a = asMap(before, field);
    const b = asMap(after, field);
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[k] !== b[k]) out.push({ field: `${field}.${k}`, before: a[k] ?? null, after: b[k] ?? null });
    }
  }
  const size = (f: [string, number][]) => `${f.reduce((n, [, s]) => n + s, 0)} B`;
  const count = files.before ? String(files.before.length) : null;
  out.push({ field: 'files', before: count, after: String(files.after.length) });
  out.push({ field: 'unpacked size', before: files.before ? size(files.before) : null, after: size(files.after) });
  return out;
}

/** The file list of a tarball (paths without npm's `package/` prefix, sizes in bytes), nothing rendered. */
async function tarballFiles(tgz: Buffer): Promise<[string, number][]> {
  const files: [string, number][] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type === 'File' && files.length < 5_000) files.push([entry.path.replace(/^[^/]+\//, ''), entry.size]);
        entry.resume();
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(tgz);
  });
  return files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export async function stagedReview(ctx: Ctx, p: Principal, id: string): Promise<StagedReview> {
  const { item, manifest, tarball } = await stagedVersion(ctx, p, id);
  const name = item.packageName;
  const db = ctx.store.db;
  // The version `latest` names now: one manifest and its stored file list, never the whole package.
  const latest = await latestVersion(db, name);
  const row = latest === undefined ? undefined : await liveVersion(db, name, latest);
  const before = row ? (JSON.parse(row.manifest) as Doc) : null;
  const view = row && latest !== undefined ? await getVersionView(db, name, latest) : undefined;
  const files = await tarballFiles(tarball);
  const changes = manifestChanges(before, manifest as Doc, { before: view ? view.files : null, after: files });
  const description =
    typeof (manifest as Doc).description === 'string' ? ((manifest as Doc).description as string) : '';
  return { item, latest: row && latest !== undefined ? latest : null, changes, files, description };
}
